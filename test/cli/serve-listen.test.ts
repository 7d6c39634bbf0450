/**
 * `ecomgen serve` (and `npm start`) on an address it cannot have: one line naming the address, the
 * variables and flags that set it and why, exit 1; no stack trace (an EADDRINUSE used to print one).
 */
import { spawn } from 'node:child_process';
import { createServer } from 'node:net';
import path from 'node:path';
import t from 'tap';

t.test('ecomgen serve on a port already in use: a one-line error naming it, exit 1', async (t) => {
  const holder = createServer();
  await new Promise<void>((resolve) => holder.listen(0, '127.0.0.1', resolve));
  t.teardown(() => new Promise((resolve) => holder.close(resolve)));
  const { port } = holder.address() as { port: number };
  const { code, stderr } = await new Promise<{ code: number | null; stderr: string }>((resolve, reject) => {
    const child = spawn(process.execPath, [path.resolve('bin/ecomgen.js'), 'serve', '--port', String(port), '--host', '127.0.0.1'], {
      env: { ...process.env, LOG_LEVEL: 'warn' },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    child.on('error', reject).on('close', (code) => resolve({ code, stderr }));
  });
  t.equal(code, 1);
  t.equal(stderr, `error: cannot listen on 127.0.0.1:${port} (PORT or --port, HOST or --host): the address is already in use (another server on that port?)\n`);
});
