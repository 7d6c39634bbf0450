/**
 * A bad command line, as a new user types it: a one-line `error:` naming the flag, exit code 2,
 * never a stack trace. `serve` was the exception: its bin kept the process alive, so
 * `ecomgen serve --port 99999` printed the error and exited 0 (scripts took it for a start).
 * Spawned through bin/ecomgen.js, since the exit code is the bin's.
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import t from 'tap';

const BIN = fileURLToPath(new URL('../../bin/ecomgen.js', import.meta.url));

function run(args: string[]): Promise<{ code: number | null; err: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, PORT: '0' } });
    let err = '';
    child.stderr.setEncoding('utf8').on('data', (text: string) => (err += text));
    child.once('error', reject);
    child.once('exit', (code) => resolve({ code, err }));
  });
}

t.test('ecomgen serve with a bad flag exits 2 with a one-line error', async (t) => {
  for (const [args, names] of [
    [['serve', '--port', '99999'], '--port'],
    [['serve', '--port', 'abc'], '--port'],
    [['serve', '--bogus'], '--bogus'],
  ] as const) {
    const { code, err } = await run([...args]);
    t.equal(code, 2, `${args.join(' ')}: exit code 2`);
    t.match(err, new RegExp(`^error: .*${names}`), `${args.join(' ')}: names ${names}`);
    t.notMatch(err, /\n\s+at /, 'no stack trace');
  }
});
