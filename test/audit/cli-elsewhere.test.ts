/**
 * `ecomgen` run from another directory than the checkout (an absolute path to bin/ecomgen.js,
 * `npm link`): the change feed and a manifest need the precompute thread, which from source
 * loads tsx; it must find tsx from the checkout, not from the user's directory. The file
 * written is the feed GET /api/v1/events serves for the same world, byte for byte.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
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
