// Benchmark: `ecomgen generate` of a whole world to CSV files, by one process and by 2 worker
// processes (`--partition 0/2` and `1/2` at once), on this machine's cores. Prints records/s and
// MB/s of each and the ratio; checks that the 2 workers' files, concatenated without their
// repeated headers, are byte-identical to the single process's. Speed is reported, never asserted.
//
//   node bench/generate.js            # scale 10 (the figures in docs/scaling.md)
//   BENCH_GENERATE_SCALE=2 node bench/generate.js
//   BENCH_QUICK=1                     # scale 1
//   node bench/generate.js http       # only the HTTP generation figures below
// Runs the built CLI (dist/, `npm run build`) when present, so tsx's start-up is not measured.
//
// Then the generation goals of issue 14 over HTTP, each measurement in a fresh server process
// (`node dist/server.js`, client curl-like: the body is read and dropped):
//   - orders/s and order-items/s of a CSV download at scale 100 (1,000,000 rows);
//   - peak RSS (VmHWM) streaming 1,000,000 rows ÷ a 10,000-row download, for users, orders and
//     order-items at scale 1 and scale 100 (goal ≤ 1.2);
//   - analytics/users at scale 10: time to first byte (goal ≤ 1 s), and the worst latency of
//     /health requests sent every 50 ms meanwhile (the aggregates are built off the event loop);
//   - a 10-order page with and without a seed (without one, each request builds a new world).
// BENCH_QUICK=1 takes 100,000 rows instead of 1,000,000. BENCH_CASES=orders,order-items keeps only
// the download cases whose label starts with one of the names (and skips analytics and small pages).

import { execFile, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { once } from 'node:events';
import os from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const BIN = join(ROOT, 'bin', 'ecomgen.js');
const SCALE = process.env.BENCH_QUICK === '1' ? '1' : (process.env.BENCH_GENERATE_SCALE ?? '10');
const SEED = '42';
const run = promisify(execFile);

async function generate(out, partition) {
  const args = [BIN, 'generate', '--seed', SEED, '--scale', SCALE, '--format', 'csv', '--out', out, '--no-manifest', '--quiet'];
  if (partition) args.push('--partition', partition);
  // bin/ecomgen.js prefers the sources in a checkout; the benchmark measures the build.
  await run(process.execPath, args, { maxBuffer: 1 << 24, env: { ...process.env, ECOMGEN_USE_DIST: '1' } });
}

function filesOf(dir) {
  return readdirSync(dir).sort().map((name) => join(dir, name));
}

function countRecords(files) {
  let rows = 0;
  let bytes = 0;
  for (const file of files) {
    const text = readFileSync(file);
    bytes += text.length;
    for (let i = text.indexOf(10); i !== -1; i = text.indexOf(10, i + 1)) rows++;
    rows--; // the header line
  }
  return { rows, bytes };
}

async function partitions() {
  const dir = mkdtempSync(join(os.tmpdir(), 'ecomgen-bench-generate-'));
  try {
    console.log(`generate: scale ${SCALE}, seed ${SEED}, every entity but performance-events, CSV; ${os.cpus().length} cores`);
    let started = performance.now();
    await generate(join(dir, 'one'));
    const oneSeconds = (performance.now() - started) / 1000;
    const one = countRecords(filesOf(join(dir, 'one')));
    console.log(`  1 process:   ${one.rows.toLocaleString('en-US')} records, ${(one.bytes / 1e6).toFixed(1)} MB in ${oneSeconds.toFixed(1)} s = ${Math.round(one.rows / oneSeconds).toLocaleString('en-US')} records/s, ${(one.bytes / 1e6 / oneSeconds).toFixed(1)} MB/s`);

    started = performance.now();
    await Promise.all([generate(join(dir, 'p0'), '0/2'), generate(join(dir, 'p1'), '1/2')]);
    const twoSeconds = (performance.now() - started) / 1000;
    console.log(`  2 workers:   ${(one.bytes / 1e6).toFixed(1)} MB in ${twoSeconds.toFixed(1)} s = ${Math.round(one.rows / twoSeconds).toLocaleString('en-US')} records/s, ${(one.bytes / 1e6 / twoSeconds).toFixed(1)} MB/s (x${(oneSeconds / twoSeconds).toFixed(2)} of 1 process)`);

    // The 2 workers' slices, headers dropped from the second, are the single process's files.
    let identical = true;
    for (const file of readdirSync(join(dir, 'one'))) {
      const stem = file.replace(/\.csv$/, '');
      const whole = readFileSync(join(dir, 'one', file));
      const a = readFileSync(join(dir, 'p0', `${stem}-part0of2.csv`));
      const b = readFileSync(join(dir, 'p1', `${stem}-part1of2.csv`));
      const header = whole.indexOf(10) + 1;
      const joined = globalThis.Buffer.concat([a, b.subarray(header)]);
      if (createHash('sha256').update(joined).digest('hex') !== createHash('sha256').update(whole).digest('hex')) {
        identical = false;
        console.log(`  MISMATCH: ${file}`);
      }
    }
    console.log(`  partitions concatenated = single-process files: ${identical ? 'yes' : 'NO'} (${readdirSync(join(dir, 'one')).length} entities)`);
    if (!identical) process.exitCode = 1;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const BIG = process.env.BENCH_QUICK === '1' ? 100_000 : 1_000_000;
// BENCH_SERVER=path/to/server.js measures another build (an A/B against a copy of dist/).
const SERVER = process.env.BENCH_SERVER ?? join(ROOT, 'dist', 'server.js');

/** A fresh server on a free port; resolves to { url, peak(), stop() }. */
async function startServer() {
  const child = spawn(process.execPath, [SERVER], { env: { ...process.env, PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'info' }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  const url = await new Promise((resolve, reject) => {
    const look = (chunk) => {
      out = (out + chunk).slice(-4000);
      const m = /http:\/\/127\.0\.0\.1:(\d+)/.exec(out);
      if (m) resolve(`http://127.0.0.1:${m[1]}`);
    };
    child.stdout.on('data', look);
    child.stderr.on('data', look);
    child.once('exit', (code) => reject(new Error(`server exited (${code}): ${out.slice(-500)}`)));
  });
  return {
    url,
    peakMB: () => Number(/VmHWM:\s+(\d+)/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'))?.[1] ?? 0) / 1024,
    stop: async () => {
      child.kill('SIGTERM');
      await once(child, 'exit');
    },
  };
}

/**
 * GETs a URL with curl, dropping the body: { firstByte, seconds, bytes } (seconds from the
 * request). curl, not fetch: reading a 650 MB body through fetch's web streams took more CPU
 * than the server spent writing it, so the client, not the server, set the pace.
 */
async function download(url) {
  const { stdout } = await run('curl', ['-s', '-f', '-o', '/dev/null', '-w', '%{time_starttransfer} %{time_total} %{size_download}', url]);
  const [firstByte, seconds, bytes] = stdout.trim().split(' ').map(Number);
  return { firstByte, seconds, bytes };
}

const fmt = (n) => Math.round(n).toLocaleString('en-US');

async function http() {
  console.log(`generation over HTTP: CSV, seed ${SEED}, a fresh server per measurement, ${fmt(BIG)} rows for the large downloads`);
  // [label, entity, query for the world]; order-items at scale 1 needs more orders for 1M lines.
  const cases = [
    ['users, scale 1', 'users', `scale=1&users=${BIG}`],
    ['users, scale 100', 'users', `scale=100&users=${BIG}`],
    ['orders, scale 1', 'orders', `scale=1&orders=${BIG}`],
    ['orders, scale 100', 'orders', `scale=100&orders=${Math.max(BIG, 500_000)}`],
    ['order-items, scale 1', 'order-items', `scale=1&orders=${Math.ceil(BIG / 2)}`],
    ['order-items, scale 100', 'order-items', 'scale=100'],
  ];
  const only = process.env.BENCH_CASES?.split(',');
  for (const [label, entity, world] of cases) {
    if (only && !only.some((name) => label.startsWith(`${name},`))) continue;
    const peaks = [];
    let rate = '';
    for (const rows of [10_000, BIG]) {
      const server = await startServer();
      try {
        const got = await download(`${server.url}/api/v1/${entity}?seed=${SEED}&${world}&limit=${rows}&format=csv`);
        peaks.push(server.peakMB());
        if (rows === BIG) rate = `${fmt(rows / got.seconds)} rows/s (${got.seconds.toFixed(1)} s, first byte ${(got.firstByte * 1000).toFixed(0)} ms, ${(got.bytes / 1e6).toFixed(0)} MB)`;
      } finally {
        await server.stop();
      }
    }
    const [small, big] = peaks;
    console.log(`  ${label.padEnd(24)} peak RSS ${fmt(small)} MB (10k) -> ${fmt(big)} MB (${fmt(BIG)}): x${(big / small).toFixed(2)} ${big / small <= 1.2 ? 'PASS' : 'MISS'} (goal <= 1.2); ${rate}`);
  }
  if (only) return;

  // Analytics at scale 10: first byte, and whether other requests are served meanwhile.
  let server = await startServer();
  try {
    let worst = 0;
    let probing = true;
    const probes = (async () => {
      while (probing) {
        const t = performance.now();
        await (await globalThis.fetch(`${server.url}/health`)).arrayBuffer();
        worst = Math.max(worst, performance.now() - t);
        await sleep(50);
      }
    })();
    const got = await download(`${server.url}/api/v1/analytics/users?seed=${SEED}&scale=10&limit=1000&format=csv`);
    probing = false;
    await probes;
    console.log(`  analytics/users, scale 10: first byte ${got.firstByte.toFixed(2)} s ${got.firstByte <= 1 ? 'PASS' : 'MISS'} (goal <= 1 s); /health meanwhile: worst ${worst.toFixed(0)} ms`);
  } finally {
    await server.stop();
  }

  // A small page with and without a seed: without one, every request builds a new world.
  server = await startServer();
  try {
    const time = async (query, n) => {
      const started = performance.now();
      for (let k = 0; k < n; k++) await download(`${server.url}/api/v1/orders?scale=100&limit=10&format=csv${query}`);
      return (performance.now() - started) / n;
    };
    await time(`&seed=${SEED}`, 20); // warm-up
    const seeded = await time(`&seed=${SEED}`, 200);
    const unseeded = await time('', 200);
    console.log(`  orders?limit=10 at scale 100: ${seeded.toFixed(2)} ms with a seed, ${unseeded.toFixed(2)} ms without (a new world each): x${(unseeded / seeded).toFixed(2)}`);
  } finally {
    await server.stop();
  }
}

const only = process.argv[2];
if (only !== 'http') await partitions();
if (only !== 'partitions') await http();
