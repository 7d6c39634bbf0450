/**
 * `--out` paths that cannot be written are refused before any work, naming --out (exit 2),
 * rather than failing with an unhandled ENOENT or EEXIST and a stack trace.
 */
import { mkdtemp, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import t from 'tap';
import { inProcess } from '../support/cli.js';

t.test('events --out into a missing directory: exit 2 naming --out, before any work', async (t) => {
  const dir = await mkdtemp(path.join(tmpdir(), 'ecomgen-out-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const missing = path.join(dir, 'nowhere', 'events.ndjson');
  const { code, err } = await inProcess(['events', '--seed', '1', '--users', '10', '--out', missing]);
  t.equal(code, 2);
  t.equal(err, `error: --out: directory '${path.dirname(missing)}' does not exist\n`);
  const asDirectory = await inProcess(['events', '--seed', '1', '--users', '10', '--out', dir]);
  t.equal(asDirectory.code, 2);
  t.equal(asDirectory.err, `error: --out: '${dir}' is a directory; give a file name\n`);
  t.same(await readdir(dir), []);
});

t.test('generate --out naming a file: exit 2 naming --out, the file untouched', async (t) => {
  const dir = await mkdtemp(path.join(tmpdir(), 'ecomgen-out-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const file = path.join(dir, 'orders.csv');
  await writeFile(file, 'keep me\n');
  const { code, err } = await inProcess(['generate', 'orders', '--seed', '1', '--users', '10', '--out', file]);
  t.equal(code, 2);
  t.equal(err, `error: --out: '${file}' is a file; give a directory (created if missing)\n`);
  t.same(await readdir(dir), ['orders.csv']);
});

t.test("generate --out -: exit 2 naming --out, no directory named '-' made", async (t) => {
  const made = path.resolve('-');
  const before = await stat(made).catch(() => undefined);
  t.teardown(async () => {
    if (before === undefined) await rm(made, { recursive: true, force: true });
  });
  const { code, err } = await inProcess(['generate', 'users', '--seed', '1', '--users', '10', '--out', '-']);
  t.equal(code, 2);
  t.equal(err, "error: --out: generate writes one file per entity into a directory; '-' (stdout) is not one (ecomgen events writes to stdout)\n");
  t.equal(await stat(made).catch(() => undefined), before, "no directory named '-'");
});
