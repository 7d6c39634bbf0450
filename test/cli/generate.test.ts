import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { gunzipSync } from 'node:zlib';
import t from 'tap';
import { testApp } from '../support/app.js';
import { inProcess } from '../support/cli.js';

const BIN = path.resolve('bin/ecomgen.js');
const run = promisify(execFile);

/** Runs the real bin in a child process: exit code, stdout, stderr. */
async function ecomgen(args: string[], env: NodeJS.ProcessEnv = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, [BIN, ...args], { env: { ...process.env, ...env }, maxBuffer: 1 << 26 });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

const sha256 = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');

// A scale-0.5 world (2,500 orders, 500 users): files equal to the manifest and slices that
// concatenate to the file do not depend on the size (at scale 2 the same checks cost four times the CPU).
t.test('generate writes files whose SHA-256 equal the manifest, and the GET bodies', async (t) => {
  const dir = await mkdtemp(path.join(tmpdir(), 'ecomgen-cli-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const result = await ecomgen(['generate', 'orders', 'users', '--seed', '42', '--scale', '0.5', '--format', 'csv', '--out', dir]);
  t.equal(result.code, 0, result.code === 0 ? 'generate' : result.stderr);
  t.match(result.stderr, /orders: 2500\/2500 records/, 'plain progress lines when not a terminal');
  t.same((await readdir(dir)).sort(), ['manifest.json', 'orders.csv', 'users.csv']);
  const manifest = JSON.parse(await readFile(path.join(dir, 'manifest.json'), 'utf8'));
  t.equal(manifest.seed, 42);
  t.same(manifest.entities.map((e: { entity: string }) => e.entity), ['orders', 'users']);
  for (const entry of manifest.entities as { entity: string; csv_sha256: string; csv_bytes: number; population: number }[]) {
    const bytes = await readFile(path.join(dir, `${entry.entity}.csv`));
    t.equal(sha256(bytes), entry.csv_sha256, `${entry.entity}.csv matches the manifest`);
    t.equal(bytes.length, entry.csv_bytes);
  }
  const app = await testApp(t);
  const manifestGet = await app.inject('/api/v1/manifest?seed=42&scale=0.5&entities=orders,users');
  t.same(manifest, manifestGet.json(), 'manifest.json is the JSON of GET /api/v1/manifest');

  // The same world split over 4 workers: slices concatenated (minus repeated headers) are the file.
  // The workers run in this process, one after the other: a worker is the same code as the
  // command above (spawned, so the bin is covered), and a slice's bytes do not depend on the process.
  const whole = await readFile(path.join(dir, 'orders.csv'));
  const parts: string[] = [];
  for (const k of [0, 1, 2, 3]) {
    const out = path.join(dir, `part${k}`);
    const r = await inProcess(['generate', 'orders', '--seed', '42', '--scale', '0.5', '--out', out, '--partition', `${k}/4`, '--no-manifest']);
    t.equal(r.code, 0, r.code === 0 ? `worker ${k}` : r.err);
    t.same(await readdir(out), [`orders-part${k}of4.csv`], 'no manifest with --no-manifest');
    parts.push(await readFile(path.join(out, `orders-part${k}of4.csv`), 'utf8'));
  }
  const header = whole.toString('utf8').slice(0, whole.indexOf('\r\n') + 2);
  const joined = header + parts.map((p) => p.slice(header.length)).join('');
  t.equal(sha256(Buffer.from(joined)), manifest.entities[0].csv_sha256, 'partitions 0..3 concatenated equal the manifest');
});

t.test('generate: other formats are the GET bodies; gzip; the references\' aliases', async (t) => {
  const dir = await mkdtemp(path.join(tmpdir(), 'ecomgen-cli-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const app = await testApp(t);
  for (const format of ['json', 'ndjson', 'xml'] as const) {
    const r = await inProcess(['generate', 'products', 'categories', '--seed', '9', '--products', '300', '--format', format, '--out', path.join(dir, format), '--no-manifest', '--quiet']);
    t.equal(r.code, 0, r.err);
    for (const entity of ['products', 'categories']) {
      const get = await app.inject(`/api/v1/${entity}?seed=9&products=300&format=${format}&limit=1000000`);
      t.equal(await readFile(path.join(dir, format, `${entity}.${format}`), 'utf8'), get.body, `${entity}.${format} is the GET body`);
    }
  }
  const gz = await inProcess(['generate', 'users', '--seed', '9', '--customers', '150', '--days', '30', '--gzip', '--output-dir', path.join(dir, 'gz'), '--quiet']);
  t.equal(gz.code, 0, gz.err);
  const get = await app.inject('/api/v1/users?seed=9&users=150&start_date=2025-12-02&end_date=2025-12-31&format=csv&limit=1000');
  t.equal(gunzipSync(await readFile(path.join(dir, 'gz', 'users.csv.gz'))).toString('utf8'), get.body, '--customers 150 --days 30 = users=150, the 30 days ending 2025-12-31');
  const manifest = JSON.parse(await readFile(path.join(dir, 'gz', 'manifest.json'), 'utf8'));
  t.equal(manifest.start_date, '2025-12-02T00:00:00.000Z');
});

t.test('help reads well for every command', async (t) => {
  const top = await inProcess(['--help']);
  t.equal(top.code, 0);
  for (const command of ['generate', 'load', 'events', 'stream', 'serve']) t.match(top.out, new RegExp(`\\n  ${command} `), `lists ${command}`);
  const generate = await inProcess(['generate', '--help']);
  for (const flag of ['--seed', '--scale', '--customers', '--products', '--days', '--format', '--out', '--output-dir', '--gzip', '--partition', '--locale', '--start-date', '--end-date']) {
    t.match(generate.out, flag, `generate --help documents ${flag}`);
  }
  t.match(generate.out, /"parquet"/, 'lists the formats');
  const load = await inProcess(['load', '--help']);
  for (const sink of ['postgres', 'kafka', 'gcs', 'webhook', 'opensearch']) t.match(load.out, new RegExp(`\\n  ${sink} `), `load lists ${sink}`);
  const postgres = await inProcess(['load', 'postgres', '--help']);
  for (const flag of ['--schema', '--table-prefix', '--foreign-keys', '--partition', '--wait-timeout']) t.match(postgres.out, flag);
  t.match(postgres.out, 'DATABASE_URL');
  const kafka = await inProcess(['load', 'kafka', '--help']);
  for (const flag of ['--topic', '--topic-prefix', '--partitions', '--batch-size']) t.match(kafka.out, flag);
  const events = await inProcess(['events', '--help']);
  for (const flag of ['--types', '--start', '--end', '--late-ratio', '--duplicate-ratio', '--bad-ratio', '--format', '--out', '--partition', '--defects']) t.match(events.out, flag, `events --help documents ${flag}`);
  const stream = await inProcess(['stream', '--help']);
  for (const flag of ['--mode', '--events-per-second', '--speed', '--duration-s', '--max-events', '--types', '--weights', '--burst', '--late-ratio', '--outage-timeout']) t.match(stream.out, flag, `stream --help documents ${flag}`);
  t.notMatch(stream.out, '--partition <k/n>', 'stream --help does not offer --partition');
  const serve = await inProcess(['serve', '--help']);
  t.match(serve.out, '--port');
});

t.test('bad flags exit 2 with a clear message', async (t) => {
  const cases: [string[], RegExp][] = [
    [['generate', '--out', '/tmp/x', '--bogus'], /unknown option '--bogus'/],
    [['generate', '--out', '/tmp/x', '--format', 'yaml'], /--format <format>' argument 'yaml' is invalid. Allowed choices are json, ndjson, csv, xml, parquet/],
    [['generate', '--out', '/tmp/x', '--partition', '4/4'], /k must be an integer from 0 to n - 1 \(3\)/],
    [['generate', '--out', '/tmp/x', '--partition', 'two'], /expected k\/n/],
    [['generate', '--out', '/tmp/x', '--seed', '-3'], /error: --seed: must be >= 0/],
    [['generate', '--out', '/tmp/x', '--scale', 'big'], /error: --scale: must be a number/],
    [['generate', '--out', '/tmp/x', '--start-date', 'soon'], /error: --start-date: 'soon' is not a date/],
    [['generate', '--out', '/tmp/x', 'nosuch'], /unknown entity 'nosuch'/],
    [['generate', '--seed', '1'], /required option '--out <dir>'/],
    [['generate', '--out', '/tmp/x', '--users', '5', '--customers', '6'], /cannot be used with option '--users/],
    [['load', 'postgres', '--schema', 'Bad-Name'], /error: --schema: must match pattern/],
    [['load', 'kafka', '--partitions', 'x'], /error: --partitions: must be a whole number/],
    [['nosuch'], /unknown command 'nosuch'/],
  ];
  for (const [args, message] of cases) {
    const r = await inProcess(args);
    t.equal(r.code, 2, args.join(' '));
    t.match(r.err, message, args.join(' '));
  }
  // The real bin: the exit code the shell sees.
  const real = await ecomgen(['generate', '--out', '/tmp/x', '--format', 'yaml']);
  t.equal(real.code, 2);
  t.match(real.stderr, /Allowed choices are/);
});
