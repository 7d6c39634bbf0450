/**
 * A LOG_LEVEL pino does not know stops the server with one line naming the variable, as every
 * other malformed variable does (docs/configuration.md): it crashed with pino's stack trace
 * ("default level:loud must be included in custom levels").
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import t from 'tap';
import { closedPort } from './support/jobs.js';

const SERVER = fileURLToPath(new URL('../src/server.ts', import.meta.url));

function start(env: Record<string, string>): Promise<{ code: number | null; stderr: string; stdout: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', SERVER], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    let stdout = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
    const watchdog = setTimeout(() => child.kill('SIGKILL'), 30_000);
    child.on('error', reject);
    child.on('exit', (code) => {
      clearTimeout(watchdog);
      resolve({ code, stderr, stdout });
    });
  });
}

t.test('LOG_LEVEL=loud: exit 1 with a message naming LOG_LEVEL and its values, no stack trace', async (t) => {
  const port = await closedPort();
  const { code, stderr, stdout } = await start({ PORT: String(port), HOST: '127.0.0.1', LOG_LEVEL: 'loud', PRECOMPUTE_WARM: '0', RENDER_THREADS: '0' });
  t.equal(code, 1);
  t.equal(stderr, 'LOG_LEVEL=loud is invalid: expected one of fatal, error, warn, info, debug, trace, silent\n');
  t.equal(stdout, '');
});
