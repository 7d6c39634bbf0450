/**
 * `ecomgen` run from another directory than the checkout (an absolute path to bin/ecomgen.js,
 * `npm link`): the change feed and a manifest need the precompute thread, which from source
 * loads tsx; it must find tsx from the checkout, not from the user's directory. The file
 * written is the feed GET /api/v1/events serves for the same world, byte for byte.
 */
import { execFile, spawn } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { parse as parseCsv } from 'csv-parse/sync';
import t from 'tap';
import { testApp } from '../support/app.js';

const run = promisify(execFile);
const BIN = fileURLToPath(new URL('../../bin/ecomgen.js', import.meta.url));

t.test('ecomgen events from a directory outside the checkout', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'ecomgen-elsewhere-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const world = ['--seed', '42', '--users', '30', '--orders', '60', '--warehouses', '2'];
  const { stderr } = await run(process.execPath, [BIN, 'events', ...world, '--format', 'ndjson', '--out', 'events.ndjson'], { cwd: dir });
  const written = await readFile(join(dir, 'events.ndjson'), 'utf8');
  const app = await testApp(t);
  const served = (await app.inject('/api/v1/events?seed=42&users=30&orders=60&warehouses=2&format=ndjson&limit=10000000')).body;
  t.ok(served.length > 10_000, `${served.length} bytes served`);
  t.equal(written, served, `the file is the served feed (stderr: ${stderr.slice(0, 200)})`);
});

/**
 * `ecomgen serve` from another directory: a page large enough for the render threads
 * (src/routes/entities.ts sends more than 2 batches of 2,048 rows to them) is rendered by
 * workers that load tsx from the checkout. It used to come back as a 200 with only the CSV
 * header, the workers having failed to find tsx from the user's directory.
 */
t.test('ecomgen serve from a directory outside the checkout renders large pages on its threads', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'ecomgen-serve-elsewhere-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const server = spawn(process.execPath, [BIN, 'serve', '--port', '0', '--host', '127.0.0.1'], {
    cwd: dir,
    env: { ...process.env, RENDER_THREADS: '1', PRECOMPUTE_WARM: '0', LOG_LEVEL: 'info' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const exited = new Promise((resolve) => server.once('exit', resolve));
  t.teardown(async () => {
    server.kill('SIGTERM');
    await exited;
  });
  let log = '';
  const address = await new Promise<string>((resolve, reject) => {
    server.stdout.setEncoding('utf8').on('data', (text: string) => {
      log += text;
      const listening = /Server listening at (http:\/\/127\.0\.0\.1:\d+)/.exec(log);
      if (listening) resolve(listening[1] as string);
    });
    server.stderr.setEncoding('utf8').on('data', (text: string) => (log += text));
    server.once('exit', (code) => reject(new Error(`the server exited (${code}): ${log.slice(-500)}`)));
  });
  const query = 'users?seed=7&users=10000&limit=10000&format=csv';
  const inline = await (await testApp(t, { renderThreads: 0 })).inject(`/api/v1/${query}`);
  // Both ways the threads' batches are sent: gzip (fetch asks for it) and plain.
  for (const coding of ['gzip', 'identity']) {
    const res = await fetch(`${address}/api/v1/${query}`, { headers: { 'accept-encoding': coding } });
    t.equal(res.status, 200, `${coding}: status`);
    t.equal(res.headers.get('content-encoding') ?? 'identity', coding, `${coding}: content coding`);
    const body = await res.text();
    const rows = parseCsv(body, { columns: true }) as Record<string, string>[];
    t.equal(rows.length, 10_000, `${coding}: every row, not just the header`);
    t.ok(body === inline.body, `${coding}: the bytes the main thread renders (${body.length})`);
  }
  t.notMatch(log, /Cannot find package/, 'no worker failed to load');
});
