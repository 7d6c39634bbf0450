import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import t from 'tap';
import { testApp } from '../support/app.js';
import { inProcess } from '../support/cli.js';

const BIN = path.resolve('bin/ecomgen.js');
const run = promisify(execFile);

/** Runs the real bin in a child process: exit code, stdout, stderr. */
async function ecomgen(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, [BIN, ...args], { maxBuffer: 1 << 28 });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

const sha256 = (bytes: Buffer | string) => createHash('sha256').update(bytes).digest('hex');

/** A small world: two weeks, 1% of the default populations (about 1,600 events). */
const WORLD = ['--seed', '7', '--scale', '0.01', '--start-date', '2025-01-01', '--end-date', '2025-01-14'];
const QUERY = 'seed=7&scale=0.01&start_date=2025-01-01&end_date=2025-01-14';

t.test('ecomgen events writes the GET /api/v1/events body, byte for byte', async (t) => {
  const dir = await mkdtemp(path.join(tmpdir(), 'ecomgen-events-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const app = await testApp(t);
  for (const [format, extra, query] of [
    ['ndjson', [], ''],
    ['csv', ['--types', 'order.placed,payment.captured'], '&types=order.placed,payment.captured'],
    ['json', ['--late-ratio', '0.1', '--duplicate-ratio', '0.05', '--bad-ratio', '0.02'], '&late_ratio=0.1&duplicate_ratio=0.05&bad_ratio=0.02'],
    ['xml', ['--start', '2025-01-05', '--end', '2025-01-08'], '&start=2025-01-05&end=2025-01-08'],
  ] as const) {
    const file = path.join(dir, `events.${format}`);
    // In this process: the command's own code, without a tsx start-up per format.
    const result = await inProcess(['events', ...WORLD, ...extra, '--format', format, '--out', file]);
    t.equal(result.code, 0, result.code === 0 ? `events --format ${format}` : result.err);
    t.match(result.err, /events: (\d+ events, )?[\d.]+ MB in [\d.]+ s -> /, 'a plain summary line when not a terminal');
    const get = await app.inject(`/api/v1/events?${QUERY}${query}&format=${format}&limit=10000000`);
    t.equal(get.statusCode, 200);
    const bytes = await readFile(file);
    t.ok(bytes.length > 1000, `${format}: ${bytes.length} bytes`);
    t.equal(sha256(bytes), sha256(get.rawPayload), `${format}${query}: the file is the GET body`);
    if (format === 'ndjson') t.match(result.err, `events: ${get.body.trim().split('\n').length} events, `, 'the summary counts the events');
  }
  // stdout, the default output (a pipe: everything must be flushed before the process exits).
  const piped = await ecomgen(['events', ...WORLD, '-q']);
  t.equal(piped.code, 0, piped.stderr);
  const wholeGet = await app.inject(`/api/v1/events?${QUERY}&format=ndjson&limit=10000000`);
  t.equal(sha256(piped.stdout), sha256(wholeGet.body), 'the whole feed to stdout is the GET body');
  // --limit/--offset as pages of the GET.
  const page = await inProcess(['events', ...WORLD, '--limit', '100', '--offset', '50', '-q']);
  t.equal(page.code, 0, page.err);
  t.equal(page.err, '', '--quiet prints nothing');
  const get = await app.inject(`/api/v1/events?${QUERY}&format=ndjson&limit=100&offset=50`);
  t.equal(page.out, get.body, '--limit 100 --offset 50 to stdout is the page');
  t.equal(page.out.trim().split('\n').length, 100);

  // --defects: the JSON of GET /api/v1/events/defects.
  const defects = await inProcess(['events', ...WORLD, '--late-ratio', '0.1', '--bad-ratio', '0.02', '--defects', '-q']);
  t.equal(defects.code, 0, defects.err);
  const defectsGet = await app.inject(`/api/v1/events/defects?${QUERY}&late_ratio=0.1&bad_ratio=0.02`);
  const list = JSON.parse(defects.out) as { defect: string }[];
  t.ok(list.length > 10, `${list.length} defects`);
  t.same(list, defectsGet.json(), '--defects is the defects list');
  t.same(new Set(list.map((d) => d.defect)), new Set(['late', 'bad']));
});

t.test('partitions of the feed: 4 slices concatenated are the whole (GET and --partition)', async (t) => {
  const app = await testApp(t);
  for (const format of ['ndjson', 'csv'] as const) {
    for (const [page, label] of [
      ['&limit=1000&offset=123', 'a page'],
      ['&limit=10000000', 'the whole feed'],
      ['&limit=1000&late_ratio=0.1&duplicate_ratio=0.1&bad_ratio=0.05', 'a page with chaos'],
    ] as const) {
      const whole = await app.inject(`/api/v1/events?${QUERY}${page}&format=${format}`);
      t.equal(whole.statusCode, 200);
      const header = format === 'csv' ? whole.body.slice(0, whole.body.indexOf('\n') + 1) : '';
      const parts: string[] = [];
      const ranges: string[] = [];
      for (let k = 0; k < 4; k++) {
        const part = await app.inject(`/api/v1/events?${QUERY}${page}&format=${format}&partition=${k}&partitions=4`);
        t.equal(part.statusCode, 200);
        ranges.push(String(part.headers['x-partition-range']));
        if (format === 'csv') t.equal(part.body.slice(0, header.length), header, 'each CSV slice starts with the header');
        parts.push(part.body.slice(header.length));
      }
      const body = header + parts.join('');
      t.ok(parts.every((p) => p.length > 0), `${format}, ${label}: every slice holds events (${ranges.join(', ')})`);
      t.equal(sha256(body), sha256(whole.body), `${format}, ${label}: the 4 slices concatenated are the body`);
    }
  }
  const bad = await app.inject(`/api/v1/events?${QUERY}&partition=4&partitions=4`);
  t.equal(bad.statusCode, 400);
  t.match(bad.json(), { code: 'INVALID_PARAMETER', message: /^partition: / });
  const alone = await app.inject(`/api/v1/events?${QUERY}&partition=1`);
  t.equal(alone.statusCode, 400);
  t.match(alone.json().message, /^partitions: is required with partition/);

  // The command line: --partition k/n of the whole feed (in this process: the same code as the bin's).
  const whole = await inProcess(['events', ...WORLD, '--format', 'csv', '-q']);
  t.equal(whole.code, 0, whole.err);
  t.equal(sha256(whole.out), sha256((await app.inject(`/api/v1/events?${QUERY}&format=csv&limit=10000000`)).body), 'the CSV feed to stdout is the GET body');
  const header = whole.out.slice(0, whole.out.indexOf('\n') + 1);
  const parts: Awaited<ReturnType<typeof inProcess>>[] = [];
  for (let k = 0; k < 4; k++) parts.push(await inProcess(['events', ...WORLD, '--format', 'csv', '--partition', `${k}/4`, '-q']));
  t.ok(parts.every((p) => p.code === 0 && p.out.startsWith(header)));
  t.equal(sha256(header + parts.map((p) => p.out.slice(header.length)).join('')), sha256(whole.out), 'ecomgen events --partition k/4: slices concatenate to the feed');
});

t.test('ecomgen events: bad flags exit 2 naming the flag', async (t) => {
  for (const [args, message] of [
    [['--types', 'order.nope'], /^error: --types: unknown event type 'order.nope'/],
    [['--start', '1999-01-01'], /^error: --start: 1999-01-01T00:00:00Z is outside the world window/],
    [['--late-ratio', '0.7', '--bad-ratio', '0.7'], /^error: --late-ratio: late_ratio \+ duplicate_ratio \+ bad_ratio may not exceed 1/],
    [['--late-ratio', 'lots'], /^error: --late-ratio: must be a number/],
    [['--format', 'yaml'], /argument 'yaml' is invalid. Allowed choices are ndjson, json, csv, xml/],
    [['--partition', '4/4'], /--partition <k\/n>' argument '4\/4' is invalid. k must be an integer from 0 to n - 1/],
    [['--defects', '--partition', '0/2'], /option '--defects' cannot be used with option '--partition <k\/n>'/],
    [['--after', 'ev-nope-1'], /^error: --after: 'ev-nope-1' is not an event id of this world/],
  ] as const) {
    const result = await inProcess(['events', ...WORLD, ...args]);
    t.equal(result.code, 2, args.join(' '));
    t.match(result.err, message);
    t.equal(result.out, '', 'nothing on stdout');
  }
  // The real bin: exit code 2 and nothing on stdout for the shell.
  const real = await ecomgen(['events', ...WORLD, '--types', 'order.nope']);
  t.same([real.code, real.stdout], [2, ''], 'the bin exits 2, stdout empty');
  t.match(real.stderr, /^error: --types: unknown event type 'order.nope'/);
});
