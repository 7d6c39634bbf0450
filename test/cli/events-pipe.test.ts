/**
 * `ecomgen events | head`: a reader that leaves early ends the command quietly (exit 0, no EPIPE
 * stack trace), as a pipe's writer should. Spawns the real bin, since only a real process has a
 * stdout pipe whose reader can go away.
 */
import { spawn } from 'node:child_process';
import path from 'node:path';
import t from 'tap';

const BIN = path.resolve('bin/ecomgen.js');

/** Runs the bin, keeps the first `bytes` of its stdout, then closes the pipe as `head -c` does. */
function headOf(args: string[], bytes: number): Promise<{ code: number | null; head: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let head = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      if (head.length >= bytes) return;
      head += chunk;
      if (head.length >= bytes) {
        head = head.slice(0, bytes);
        child.stdout.destroy();
      }
    });
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    child.on('error', reject).on('close', (code) => resolve({ code, head, stderr }));
  });
}

t.test('the feed into a pipe closed early: exit 0, no stack trace, the summary says so', async (t) => {
  for (const args of [
    ['events', '--seed', '42'],
    ['events', '--seed', '42', '--format', 'csv'],
    ['events', '--seed', '42', '--late-ratio', '0.5', '--defects'],
  ]) {
    const { code, head, stderr } = await headOf(args, 200);
    t.equal(head.length, 200, `${args.join(' ')}: the reader got what it asked for`);
    t.equal(code, 0, `${args.join(' ')}: exit 0 (stderr: ${stderr.slice(-500)})`);
    t.notMatch(stderr, /EPIPE|Error|at /, 'no error nor stack trace');
    if (!args.includes('--defects')) t.match(stderr, /-> stdout \(closed by its reader\)\n$/);
  }
});
