// Interleaved comparisons: every measurement is taken against its anchor in the same run,
// alternating A B A B … for ROUNDS rounds, and reported as the median with min–max and the
// ratio of medians. The formats (CSV, NDJSON, XML) are compared on the headline's 1,000,000 rows,
// at least 5 rounds in alternating order, with each one's server CPU and the same-round ratios. The machine may be shared, so only ratios taken this way mean anything.
// Speed is measured here, never asserted: a missed goal prints MISS, and only a harness error
// exits non-zero. Run with `npm run bench` (builds first); `BENCH_QUICK=1 npm run bench` takes a
// tenth of the rows and 2 s loads (a smoke run, about two minutes). (`npm run bench -- --quick`
// would hand --quick to bench/generate.js, the script's last command; `node --import tsx
// bench/compare.js --quick` works.) `BENCH_ONLY=postgres` runs only the PostgreSQL part;
// `BENCH_BASELINE=<dir>[,<dir>…]` (built checkouts, e.g. of main) adds those builds' sinks to it,
// interleaved. `BENCH_ONLY=users` runs only users CSV over HTTP against DuckDB, with the
// BENCH_BASELINE builds' servers interleaved and each server's CPU per download. `BENCH_ONLY=formats`
// runs only users in CSV, NDJSON and XML from one server.
//
// Anchors:
//   - DuckDB's SQL generator writing the users shape as CSV, one thread (in this process);
//   - the HTTP ceiling: bench/ceiling.js, the same Fastify stack streaming precomputed rows;
//   - Python Faker writing users, when the faker module is installed (else a printed note);
//   - `GET …format=csv | psql \copy` of the same rows, against the PostgreSQL sink (embedded
//     PostgreSQL; psql when on the machine);
//   - small pages: a hello-world Fastify route (bench/hello.js, a child process started the same
//     way as the server), loaded by wrk (one thread, 10 connections; bench/wrk.js, autocannon
//     when wrk is not installed).
// The HTTP client of the downloads is curl (`-s -o /dev/null`), a separate process, as a user
// would download.

import { execFileSync, spawnSync } from 'node:child_process';
import os from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { LOAD_CLIENT, load as loadWith } from './wrk.js';
import { cpuSeconds, mainThreadSeconds } from './proc.js';
import { children, download, median, start } from './serve.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const QUICK = process.argv.includes('--quick') || process.env.BENCH_QUICK === '1';
const ONLY = process.env.BENCH_ONLY;
if (ONLY !== undefined && ONLY !== '' && ONLY !== 'postgres' && ONLY !== 'users' && ONLY !== 'formats') throw new Error(`BENCH_ONLY=${ONLY}: only 'postgres', 'users' and 'formats' are known`);
/** Other built checkouts whose PostgreSQL sinks (or, with BENCH_ONLY=users, users CSV downloads) run interleaved with this one's (an A/B). */
const BASELINES = (process.env.BENCH_BASELINE ?? '').split(',').filter((dir) => dir !== '');
/** Interleaved rounds per comparison (BENCH_ROUNDS to change). */
const ROUNDS = Number(process.env.BENCH_ROUNDS) || 3;
const DIV = QUICK ? 10 : 1;
const USERS = 1_000_000 / DIV;
/** Rows of the gzip comparison: fewer, to keep the whole run to a few minutes. */
const SOME_USERS = 300_000 / DIV;
/**
 * Rounds of the per-format comparison (at least 5): its downloads of 0.3-0.6 s (300,000 rows, 3
 * rounds) read NDJSON ÷ CSV 0.68-0.82x in three runs of the same code (docs/performance.md).
 */
const FORMAT_ROUNDS = Math.max(ROUNDS, 5);
const ORDERS = 200_000 / DIV;
const PG_ROWS = 200_000 / DIV;
const FAKER_ROWS = 20_000 / DIV;
/** Seconds of load per small-page measurement, and its connections (the issue's figure: 10). */
const LOAD_SECONDS = QUICK ? 2 : 5;
const CONNECTIONS = 10;

const log = (message) => console.error(`[bench] ${message}`);

const fmt = (s) => (s < 10 ? s.toFixed(2) : s.toFixed(1));

/**
 * Runs every variant once per round, in the same order each round (A B C A B C …); each
 * `run` returns seconds (and optionally bytes). Prints and returns median, min, max per variant.
 */
async function interleave(title, rows, variants) {
  const times = variants.map(() => []);
  const bytes = variants.map(() => 0);
  for (let round = 0; round < ROUNDS; round++) {
    for (const [k, variant] of variants.entries()) {
      const result = await variant.run();
      times[k].push(result.seconds);
      bytes[k] = result.bytes ?? bytes[k];
    }
  }
  console.log(`\n${title} (${rows.toLocaleString('en-US')} rows, ${ROUNDS} interleaved rounds)`);
  const out = {};
  for (const [k, variant] of variants.entries()) {
    const m = median(times[k]);
    out[variant.label] = { median: m, min: Math.min(...times[k]), max: Math.max(...times[k]), rowsPerSecond: rows / m, bytes: bytes[k] };
    const size = bytes[k] ? `, ${(bytes[k] / 1e6).toFixed(1)} MB` : '';
    console.log(`  ${variant.label.padEnd(44)} ${fmt(m)} s (${fmt(Math.min(...times[k]))}–${fmt(Math.max(...times[k]))})  ${Math.round(rows / m).toLocaleString('en-US')} rows/s${size}`);
  }
  return out;
}

const goals = [];
/** A ratio of two medians' speeds (rows/s of a ÷ rows/s of b), against a goal. */
function ratio(name, a, b, goal) {
  const value = a.rowsPerSecond / b.rowsPerSecond;
  const line = `${name}: ${value.toFixed(2)}x${goal === undefined ? '' : ` (goal ≥ ${goal}x: ${value >= goal ? 'PASS' : 'MISS'})`}`;
  goals.push(line);
  console.log(`  → ${line}`);
}

function pythonFaker() {
  const probe = spawnSync('python3', ['-c', 'import faker'], { encoding: 'utf8' });
  return probe.status === 0;
}

/** DuckDB's generator, one thread: the users shape (same columns and kinds) as CSV. */
async function duckdbUsers(rows) {
  const { DuckDBInstance } = await import('@duckdb/node-api');
  const db = await DuckDBInstance.create(':memory:', { threads: '1' });
  const connection = await db.connect();
  const sql = `COPY (SELECT uuid() AS user_id, 'user' || i || '@example.com' AS email, 'user' || i AS username,
    'First' || (i % 997) AS first_name, 'Last' || (i % 991) AS last_name, DATE '1960-01-01' + (i % 20000)::INT AS date_of_birth,
    '(555) 555-' || lpad((i % 10000)::VARCHAR, 4, '0') AS phone_number, (i % 9999) || ' Main Street' AS address,
    'City' || (i % 500) AS city, 'CA' AS state, lpad((i % 99999)::VARCHAR, 5, '0') AS postal_code, 'US' AS country,
    strftime(TIMESTAMP '2025-01-01' + to_seconds(i), '%Y-%m-%dT%H:%M:%SZ') AS created_at,
    strftime(TIMESTAMP '2025-01-01' + to_seconds(i * 2), '%Y-%m-%dT%H:%M:%SZ') AS updated_at,
    i % 10 <> 0 AS is_active, i % 3 = 0 AS marketing_opt_in, (i * 7) % 5000 AS loyalty_points,
    'seg-' || ((i % 5) + 1) AS segment_id FROM range(${rows}) t(i)) TO '/dev/null' (FORMAT csv, HEADER)`;
  return {
    async run() {
      const t0 = performance.now();
      await connection.run(sql);
      return { seconds: (performance.now() - t0) / 1000 };
    },
    close: () => connection.closeSync?.(),
  };
}

async function main() {
  const started = performance.now();
  if (ONLY === 'postgres') {
    console.log(`PostgreSQL part only; ${os.availableParallelism()} processors, load average ${os.loadavg().map((l) => l.toFixed(1)).join(' ')}`);
    await benchPostgres();
    console.log(`\nbench took ${Math.round((performance.now() - started) / 1000)} s; load average at the end ${os.loadavg().map((l) => l.toFixed(1)).join(' ')}`);
    for (const child of children) child.kill('SIGTERM');
    return;
  }
  if (ONLY === 'users') {
    console.log(`users CSV part only; ${os.availableParallelism()} processors, load average ${os.loadavg().map((l) => l.toFixed(1)).join(' ')}`);
    await benchUsers();
    console.log(`\nbench took ${Math.round((performance.now() - started) / 1000)} s; load average at the end ${os.loadavg().map((l) => l.toFixed(1)).join(' ')}`);
    for (const child of children) child.kill('SIGTERM');
    return;
  }
  if (ONLY !== 'formats') log(`${QUICK ? 'quick run: a tenth of the rows' : 'full run'}; building servers`);
  const ecomgen = await start(join(ROOT, 'dist', 'server.js'), [], { MAX_LIMIT: String(Math.max(USERS, 1_000_000)) }, '/health');
  if (ONLY === 'formats') {
    console.log(`formats part only; ${os.availableParallelism()} processors, load average ${os.loadavg().map((l) => l.toFixed(1)).join(' ')}`);
    await benchFormats(ecomgen, (format, rows = USERS) => `http://127.0.0.1:${ecomgen.port}/api/v1/users?seed=42&users=${USERS}&limit=${rows}&format=${format}`);
    console.log(`\nbench took ${Math.round((performance.now() - started) / 1000)} s; load average at the end ${os.loadavg().map((l) => l.toFixed(1)).join(' ')}`);
    for (const child of children) child.kill('SIGTERM');
    return;
  }
  // The server's render threads: RENDER_THREADS when set (e.g. `RENDER_THREADS=0 npm run bench`), else its default.
  const { defaultRenderThreads } = await import('../dist/render/pool.js');
  const given = process.env.RENDER_THREADS;
  const threads = given !== undefined && given !== '' ? `${given} (RENDER_THREADS)` : `${defaultRenderThreads()} (the default: one per processor, at most 4)`;
  console.log(`ecomgen server: render threads ${threads}; ${os.availableParallelism()} processors, load average ${os.loadavg().map((l) => l.toFixed(1)).join(' ')}`);
  const ceilingCsv = await start(join(ROOT, 'bench', 'ceiling.js'), ['$PORT', 'users', 'csv'], {}, '/rows?rows=1');
  const base = `http://127.0.0.1:${ecomgen.port}/api/v1`;
  const users = (format, rows = USERS) => `${base}/users?seed=42&users=${USERS}&limit=${rows}&format=${format}`;
  const get = (url, headers) => ({ run: () => download(url, headers) });
  // Warm both servers (module loading, world construction) outside the measurements. Orders and
  // their items are rendered on the render threads: a fresh server's first 200,000 orders took
  // ~2.1 s against ~1.2-1.9 s for the next ones (the threads' compiled code), so they are warmed
  // with a page of 50,000 each, not 10.
  download(`${users('csv').replace(`limit=${USERS}`, 'limit=20000')}`);
  download(`http://127.0.0.1:${ceilingCsv.port}/rows?rows=20000`);
  for (const entity of ['orders', 'order-items']) download(`${base}/${entity}?seed=42&scale=100&limit=${Math.min(50_000, ORDERS)}&format=csv`);

  const duck = await duckdbUsers(USERS);
  const csv = await interleave('users CSV over HTTP vs DuckDB 1 thread vs the precomputed-rows ceiling', USERS, [
    { label: 'ecomgen users CSV', ...get(users('csv')) },
    { label: 'DuckDB generator, users shape, 1 thread', run: duck.run },
    { label: 'ceiling: precomputed rows, same stack', ...get(`http://127.0.0.1:${ceilingCsv.port}/rows?rows=${USERS}`) },
  ]);
  ratio('users CSV ÷ DuckDB 1 thread', csv['ecomgen users CSV'], csv['DuckDB generator, users shape, 1 thread'], 1.0);
  ratio('users CSV ÷ precomputed ceiling', csv['ecomgen users CSV'], csv['ceiling: precomputed rows, same stack']);

  const gz = await interleave('users CSV with gzip vs the precomputed ceiling with gzip', SOME_USERS, [
    { label: 'ecomgen users CSV, gzip', ...get(users('csv', SOME_USERS), ['Accept-Encoding: gzip']) },
    { label: 'ceiling, gzip', ...get(`http://127.0.0.1:${ceilingCsv.port}/rows?rows=${SOME_USERS}`, ['Accept-Encoding: gzip']) },
  ]);
  ratio('users CSV gzip ÷ ceiling gzip', gz['ecomgen users CSV, gzip'], gz['ceiling, gzip'], 0.8);

  await benchFormats(ecomgen, users);

  const heavy = await interleave('orders and order-items at scale 100 vs users', ORDERS, [
    { label: 'orders CSV, scale 100', ...get(`${base}/orders?seed=42&scale=100&limit=${ORDERS}&format=csv`) },
    { label: 'order-items CSV, scale 100', ...get(`${base}/order-items?seed=42&scale=100&limit=${ORDERS}&format=csv`) },
    { label: 'users CSV', ...get(`${base}/users?seed=42&users=${USERS}&limit=${ORDERS}&format=csv`) },
  ]);
  ratio('orders ÷ users rows/s', heavy['orders CSV, scale 100'], heavy['users CSV']);
  const ordersPerSecond = heavy['orders CSV, scale 100'].rowsPerSecond;
  goals.push(`orders CSV rows/s: ${Math.round(ordersPerSecond).toLocaleString('en-US')} (goal ≥ 150,000: ${ordersPerSecond >= 150_000 ? 'PASS' : 'MISS'})`);
  const itemsPerSecond = heavy['order-items CSV, scale 100'].rowsPerSecond;
  goals.push(`order-items CSV rows/s: ${Math.round(itemsPerSecond).toLocaleString('en-US')} (goal ≥ 300,000: ${itemsPerSecond >= 300_000 ? 'PASS' : 'MISS'})`);

  if (pythonFaker()) {
    const script = `import csv, sys\nfrom faker import Faker\nf = Faker('en_US'); Faker.seed(42)\nw = csv.writer(open('/dev/null', 'w'))\nfor i in range(${FAKER_ROWS}):\n    w.writerow([f.uuid4(), f.email(), f.user_name(), f.first_name(), f.last_name(), f.date_of_birth(), f.phone_number(), f.street_address(), f.city(), f.state_abbr(), f.zipcode(), 'US', f.iso8601(), f.iso8601(), True, False, 0, 'seg-1'])\n`;
    const fk = await interleave('Python Faker users (the mock-data API stand-in) vs ecomgen', FAKER_ROWS, [
      { label: 'ecomgen users CSV', ...get(`${base}/users?seed=42&users=${USERS}&limit=${FAKER_ROWS}&format=csv`) },
      {
        label: 'Python Faker, users shape',
        run: () => {
          const t0 = performance.now();
          execFileSync('python3', ['-c', script]);
          return { seconds: (performance.now() - t0) / 1000 };
        },
      },
    ]);
    ratio('ecomgen ÷ Python Faker rows/s', fk['ecomgen users CSV'], fk['Python Faker, users shape']);
  } else {
    console.log('\nPython Faker: not installed (python3 -c "import faker" failed), comparison skipped');
  }

  await benchSmallPages(base);

  await benchPostgres();

  console.log('\nGoals (ratios of medians in this run)');
  for (const line of goals) console.log(`  ${line}`);
  console.log(`\nbench took ${Math.round((performance.now() - started) / 1000)} s; render threads ${threads}; load average at the end ${os.loadavg().map((l) => l.toFixed(1)).join(' ')}`);
  for (const child of children) child.kill('SIGTERM');
}

/**
 * Users CSV, NDJSON and XML from the same server, the same 1,000,000 rows as the headline CSV
 * figure, curl as the client, FORMAT_ROUNDS rounds in alternating order (CSV NDJSON XML, then XML
 * NDJSON CSV, …: a drift in the machine's load falls on both sides of each ratio). Prints per
 * format the median with min–max and the server's CPU per download (its process, render threads
 * included, from /proc); per ratio the ratio of medians (the goal's figure), the same-round
 * ratios' median with min–max (how far one reading can be trusted) and the ratio of the server's
 * CPU (what the load average moves least).
 */
async function benchFormats(server, users) {
  const formats = [
    { label: 'CSV', format: 'csv' },
    { label: 'NDJSON', format: 'ndjson' },
    { label: 'XML', format: 'xml' },
  ];
  // The render threads' code for each format warmed outside the measurements.
  for (const { format } of formats) download(users(format, 20_000));
  const runs = formats.map(() => []);
  for (let round = 0; round < FORMAT_ROUNDS; round++) {
    const order = round % 2 === 0 ? [0, 1, 2] : [2, 1, 0];
    for (const k of order) {
      const before = cpuSeconds(server.child.pid);
      const { seconds, bytes } = download(users(formats[k].format));
      runs[k].push({ seconds, bytes, cpu: cpuSeconds(server.child.pid) - before });
    }
  }
  console.log(`\nusers in every format, the same server (${USERS.toLocaleString('en-US')} rows, ${FORMAT_ROUNDS} rounds in alternating order; load average ${os.loadavg().map((l) => l.toFixed(1)).join(' ')})`);
  const out = formats.map(({ label }, k) => {
    const seconds = runs[k].map((r) => r.seconds);
    const cpu = runs[k].map((r) => r.cpu);
    const row = { label, median: median(seconds), rowsPerSecond: USERS / median(seconds), cpu: median(cpu) };
    console.log(`  ${label.padEnd(44)} ${fmt(row.median)} s (${fmt(Math.min(...seconds))}–${fmt(Math.max(...seconds))})  ${Math.round(row.rowsPerSecond).toLocaleString('en-US')} rows/s, ${(runs[k][0].bytes / 1e6).toFixed(1)} MB, server CPU ${fmt(row.cpu)} s (${fmt(Math.min(...cpu))}–${fmt(Math.max(...cpu))})`);
    return row;
  });
  const [csv, ndjson, xml] = out;
  for (const [row, k, goal] of [[ndjson, 1, 0.8], [xml, 2, 0.5]]) {
    ratio(`${row.label} ÷ CSV rows/s`, row, csv, goal);
    const perRound = runs[k].map((r, round) => (runs[0][round].seconds / r.seconds));
    console.log(`    same-round ratios ${median(perRound).toFixed(2)}x (${Math.min(...perRound).toFixed(2)}–${Math.max(...perRound).toFixed(2)}); server CPU per row ${(row.cpu / csv.cpu).toFixed(2)}x CSV's`);
  }
}

/** A latency in ms as printed: at most three significant digits (wrk's units converted to ms carry float noise). */
const ms = (value) => Number(value.toPrecision(3));

/** wrk (autocannon without it) against one URL for LOAD_SECONDS: requests/s and the p99 latency in ms. */
const load = (url) => loadWith(url, { connections: CONNECTIONS, seconds: LOAD_SECONDS });

/**
 * Small pages: requests/s and p99 of `users?limit=10` (no seed: a new world per request, the
 * issue's case) and of a seeded page, against a hello-world Fastify route, interleaved.
 */
async function benchSmallPages(base) {
  const hello = await start(join(ROOT, 'bench', 'hello.js'), ['$PORT'], {}, '/hello');
  const variants = [
    { label: 'ecomgen users?limit=10 (unseeded)', url: `${base}/users?limit=10` },
    { label: 'ecomgen users?seed=42&limit=10', url: `${base}/users?seed=42&limit=10` },
    { label: 'hello-world Fastify route', url: `http://127.0.0.1:${hello.port}/hello` },
  ];
  const runs = variants.map(() => []);
  try {
    for (const variant of variants) await load(variant.url); // warm-up, not counted
    for (let round = 0; round < ROUNDS; round++) {
      for (const [k, variant] of variants.entries()) runs[k].push(await load(variant.url));
    }
  } finally {
    hello.child.kill('SIGTERM');
  }
  console.log(`\nsmall pages: ${LOAD_CLIENT}, ${CONNECTIONS} connections, ${LOAD_SECONDS} s per measurement, ${ROUNDS} interleaved rounds`);
  const out = variants.map((variant, k) => {
    const rps = runs[k].map((r) => r.rps);
    const p99 = runs[k].map((r) => r.p99);
    const row = { label: variant.label, rps: median(rps), p99: median(p99) };
    console.log(`  ${variant.label.padEnd(44)} ${Math.round(row.rps).toLocaleString('en-US')} req/s (${Math.round(Math.min(...rps)).toLocaleString('en-US')}–${Math.round(Math.max(...rps)).toLocaleString('en-US')}), p99 ${ms(row.p99)} ms (${ms(Math.min(...p99))}–${ms(Math.max(...p99))})`);
    return row;
  });
  const helloRow = out[2];
  for (const row of out.slice(0, 2)) {
    const value = row.rps / helloRow.rps;
    const pass = value >= 0.5 && row.p99 <= 3;
    const line = `${row.label} ÷ hello-world req/s: ${value.toFixed(2)}x, p99 ${ms(row.p99)} ms (goal ≥ 0.5x and p99 ≤ 3 ms: ${pass ? 'PASS' : 'MISS'})`;
    goals.push(line);
    console.log(`  → ${line}`);
  }
}


/**
 * Users CSV over HTTP (USERS rows, curl) from this build's server and from each BENCH_BASELINE
 * build's, against DuckDB's generator, interleaved; each server's CPU per download (its process,
 * render threads included, from /proc) beside the times.
 */
async function benchUsers() {
  const env = { MAX_LIMIT: String(Math.max(USERS, 1_000_000)) };
  const servers = [{ label: 'ecomgen users CSV, this build', ...(await start(join(ROOT, 'dist', 'server.js'), [], env, '/health')) }];
  for (const dir of BASELINES) servers.push({ label: `ecomgen users CSV, build of ${dir}`, ...(await start(join(dir, 'dist', 'server.js'), [], env, '/health')) });
  const url = (server, rows) => `http://127.0.0.1:${server.port}/api/v1/users?seed=42&users=${USERS}&limit=${rows}&format=csv`;
  // Warm every server (world, render threads) outside the measurements.
  for (const server of servers) download(url(server, 20_000));
  const cpu = new Map();
  // The main thread's share (moving the render threads' bytes to the socket): the rest is render work.
  const mainCpu = new Map();
  const duck = await duckdbUsers(USERS);
  const DUCK = 'DuckDB generator, users shape, 1 thread';
  const result = await interleave('users CSV over HTTP vs DuckDB 1 thread', USERS, [
    ...servers.map((server) => ({
      label: server.label,
      run: () => {
        const before = cpuSeconds(server.child.pid);
        const mainBefore = mainThreadSeconds(server.child.pid);
        const out = download(url(server, USERS));
        cpu.set(server.label, [...(cpu.get(server.label) ?? []), cpuSeconds(server.child.pid) - before]);
        mainCpu.set(server.label, [...(mainCpu.get(server.label) ?? []), mainThreadSeconds(server.child.pid) - mainBefore]);
        return out;
      },
    })),
    { label: DUCK, run: duck.run },
  ]);
  console.log('  ecomgen server CPU per download (its process, render threads included), median (min–max):');
  for (const [label, seconds] of cpu) console.log(`    ${label.padEnd(42)} ${fmt(median(seconds))} s (${fmt(Math.min(...seconds))}–${fmt(Math.max(...seconds))})`);
  console.log('  of which the main thread, median (min–max):');
  for (const [label, seconds] of mainCpu) console.log(`    ${label.padEnd(42)} ${fmt(median(seconds))} s (${fmt(Math.min(...seconds))}–${fmt(Math.max(...seconds))})`);
  for (const server of servers) ratio(`${server.label} ÷ DuckDB 1 thread`, result[server.label], result[DUCK], server === servers[0] ? 1.0 : undefined);
  for (const server of servers.slice(1)) ratio(`this build ÷ ${server.label.replace('ecomgen users CSV, ', '')}`, result[servers[0].label], result[server.label]);
}

/**
 * PostgreSQL sink vs `GET … | psql \copy` of the same rows into a fresh table, interleaved;
 * with BENCH_BASELINE, that build's sink too. Each variant's ecomgen server CPU (its process,
 * render threads included, from /proc) is printed beside the times: the machine is shared.
 */
async function benchPostgres() {
  const psql = spawnSync('sh', ['-c', 'command -v psql'], { encoding: 'utf8' }).stdout.trim();
  if (!psql) {
    console.log('\nPostgreSQL: psql is not on this machine, the sink vs psql \\copy comparison is skipped');
    return;
  }
  const { startPostgres } = await import('../test/support/postgres.ts');
  const { createTablesSql } = await import('../dist/schemas/columns.js');
  const database = await startPostgres();
  const server = await start(join(ROOT, 'dist', 'server.js'), [], { DATABASE_URL: database.connectionString }, '/health');
  const baselines = [];
  for (const dir of BASELINES) baselines.push({ dir, ...(await start(join(dir, 'dist', 'server.js'), [], { DATABASE_URL: database.connectionString }, '/health')) });
  const client = new pg.Client({ connectionString: database.connectionString });
  await client.connect();
  const fresh = async (schema) => {
    await client.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
    await client.query(`CREATE SCHEMA ${schema}`);
    for (const sql of createTablesSql(['users'], { schema })) await client.query(sql);
    await client.query('CHECKPOINT');
  };
  const count = async (table) => (await client.query(`SELECT count(*)::int AS n FROM ${table}`)).rows[0].n;
  const cpu = new Map();
  /** Runs `body`, recording the server's CPU seconds under `label`. */
  const measured = async (label, target, body) => {
    const before = cpuSeconds(target.child.pid);
    const result = await body();
    cpu.set(label, [...(cpu.get(label) ?? []), cpuSeconds(target.child.pid) - before]);
    return result;
  };
  let round = 0;
  const sink = (label, target, prefix) => ({
    label,
    run: () =>
      measured(label, target, async () => {
        const schema = `${prefix}_${round}`;
        await client.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
        await client.query('CHECKPOINT');
        const t0 = performance.now();
        const out = execFileSync('curl', ['-s', '-f', '-X', 'POST', '-H', 'content-type: application/json', '-d', JSON.stringify({ seed: 42, entity: 'users', users: PG_ROWS, schema }), `http://127.0.0.1:${target.port}/api/v1/sinks/postgres?wait=true`], { encoding: 'utf8' });
        const seconds = (performance.now() - t0) / 1000;
        const job = JSON.parse(out);
        if (job.state !== 'succeeded' || (await count(`${schema}.users`)) !== PG_ROWS) throw new Error(`sink job ${job.state}`);
        return { seconds };
      }),
  });
  const SINK = 'sink: POST /sinks/postgres?wait=true';
  const baseLabel = (dir) => `the same sink job, build of ${dir}`;
  const PSQL = 'curl GET format=csv | psql \\copy';
  try {
    // Warm every server (world, render threads) outside the measurements: a 20,000-row job of the same world.
    for (const target of [server, ...baselines]) {
      execFileSync('curl', ['-s', '-f', '-o', '/dev/null', '-X', 'POST', '-H', 'content-type: application/json', '-d', JSON.stringify({ seed: 42, entity: 'users', users: PG_ROWS, limit: PG_ROWS / 10, schema: 'warm' }), `http://127.0.0.1:${target.port}/api/v1/sinks/postgres?wait=true`]);
      await client.query('DROP SCHEMA warm CASCADE');
    }
    const result = await interleave('PostgreSQL sink vs GET | psql \\copy (users, empty table)', PG_ROWS, [
      sink(SINK, server, 'sink'),
      ...baselines.map((b, k) => sink(baseLabel(b.dir), b, `base${k}`)),
      {
        label: PSQL,
        run: () =>
          measured(PSQL, server, async () => {
            const schema = `psql_${round++}`;
            await fresh(schema);
            const t0 = performance.now();
            execFileSync('sh', ['-c', `curl -s -f "$URL" | "$PSQL" "$DB" -v ON_ERROR_STOP=1 -q -c "\\\\copy ${schema}.users FROM STDIN WITH (FORMAT csv, HEADER true)"`], {
              env: { ...process.env, URL: `http://127.0.0.1:${server.port}/api/v1/users?seed=42&users=${PG_ROWS}&limit=${PG_ROWS}&format=csv`, PSQL: psql, DB: database.connectionString },
              stdio: ['ignore', 'ignore', 'inherit'],
            });
            const seconds = (performance.now() - t0) / 1000;
            if ((await count(`${schema}.users`)) !== PG_ROWS) throw new Error('psql \\copy loaded the wrong number of rows');
            return { seconds };
          }),
      },
    ]);
    console.log('  ecomgen server CPU per run (its process, render threads included), median (min–max):');
    for (const [label, seconds] of cpu) console.log(`    ${label.padEnd(42)} ${fmt(median(seconds))} s (${fmt(Math.min(...seconds))}–${fmt(Math.max(...seconds))})`);
    ratio('PostgreSQL sink ÷ GET | psql \\copy', result[SINK], result[PSQL], 1.0);
    for (const { dir } of baselines) {
      ratio(`PostgreSQL sink ÷ the sink built in ${dir}`, result[SINK], result[baseLabel(dir)]);
      ratio(`the sink built in ${dir} ÷ GET | psql \\copy`, result[baseLabel(dir)], result[PSQL]);
    }
  } finally {
    await client.end().catch(() => undefined);
    server.child.kill('SIGTERM');
    for (const b of baselines) b.child.kill('SIGTERM');
    await database.stop();
  }
}

await main().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});
