import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createServer } from 'node:net';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import t from 'tap';

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

t.test('ecomgen serve starts the HTTP API on the port it is given', async (t) => {
  const port = await freePort();
  const child = spawn(process.execPath, [path.resolve('bin/ecomgen.js'), 'serve', '--port', String(port), '--host', '127.0.0.1'], {
    env: { ...process.env, LOG_LEVEL: 'warn' },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  t.teardown(async () => {
    if (child.exitCode === null) {
      child.kill('SIGTERM');
      await once(child, 'exit');
    }
  });
  let health: Response | undefined;
  // Poll until it listens (start-up compiles the sources with tsx); bounded by the test timeout.
  while (!health && child.exitCode === null) {
    health = await fetch(`http://127.0.0.1:${port}/health`).catch(() => undefined);
    if (!health) await sleep(200);
  }
  t.equal(health?.status, 200, stderr);
  const users = await fetch(`http://127.0.0.1:${port}/api/v1/users?seed=42&limit=2&partition=1&partitions=2`);
  t.equal(users.headers.get('x-partition-range'), '1-2');
  t.equal(((await users.json()) as unknown[]).length, 1);
  child.kill('SIGTERM');
  const [code] = await once(child, 'exit');
  t.equal(code, 0, 'closes gracefully on SIGTERM');
});
