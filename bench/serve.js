// What the A/B benches share: servers started on free ports and stopped at exit, curl downloads,
// medians (bench/compare.js, bench/formats.js).
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { freePort } from './ports.js';

/** Every process started here: killed when the bench exits. */
export const children = new Set();
process.on('exit', () => {
  for (const child of children) child.kill('SIGKILL');
});

/**
 * Spawns `node script args` (a `$PORT` argument becomes the port) with `env`, in the checkout the
 * script belongs to (`<checkout>/dist/server.js`, `<checkout>/bench/hello.js`), and waits until
 * `path` answers 200.
 */
export async function start(script, args, env, path) {
  const port = await freePort();
  const child = spawn(process.execPath, [script, ...args.map((a) => (a === '$PORT' ? String(port) : a))], {
    cwd: join(dirname(script), '..'),
    env: { ...process.env, PORT: String(port), HOST: '127.0.0.1', LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  children.add(child);
  for (let k = 0; ; k++) {
    if (child.exitCode !== null) throw new Error(`${script} exited during start-up`);
    const probe = spawnSync('curl', ['-s', '-o', '/dev/null', '-w', '%{http_code}', `http://127.0.0.1:${port}${path}`], { encoding: 'utf8' });
    if (probe.stdout === '200') break;
    if (k > 300) throw new Error(`${script} did not answer ${path}`);
    await sleep(100);
  }
  return { port, child };
}

/** Downloads a URL with curl (`-s -o /dev/null`); returns seconds and bytes (raw: no decompression). */
export function download(url, headers = []) {
  const out = execFileSync('curl', ['-s', '-f', '-o', '/dev/null', '-w', '%{time_total} %{size_download}', ...headers.flatMap((h) => ['-H', h]), url], { encoding: 'utf8', maxBuffer: 1 << 20 });
  const [seconds, bytes] = out.split(' ').map(Number);
  return { seconds, bytes };
}

export const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
