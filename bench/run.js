// Benchmark: streams large pages from the built server over a loopback socket, measures
// throughput and the server's peak memory, and compares with a plain-faker baseline and with
// the generator in-process. Run with `npm run bench` (builds first). Speed is measured here,
// never asserted: a missed target is reported as MISS, and only a harness error exits non-zero.
//
// Environment:
//   BENCH_QUICK=1    one tenth of the rows (a smoke run of the harness; figures not comparable);
//                    performance-events streams one day instead of a week
//   The sink benches (bench/postgres.js, bench/kafka.js) start an embedded PostgreSQL and the
//   Kafka test broker, so this runs with tsx's loader (`node --import tsx`).
//   BENCH_PROFILE=1  after the figures, stream users CSV once more from a server started with
//                    --cpu-prof and print its top self-time functions (profile kept in bench/results/)

import { Buffer } from 'node:buffer';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import { dirname, join } from 'node:path';
import { clearInterval, clearTimeout, setInterval, setTimeout } from 'node:timers';
import { setTimeout as sleep } from 'node:timers/promises';
import { URLSearchParams, fileURLToPath } from 'node:url';
import { faker } from '@faker-js/faker';
import { benchKafka } from './kafka.js';
import { benchPostgres } from './postgres.js';
import { cpuSeconds } from './proc.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const RESULTS_DIR = join(ROOT, 'bench', 'results');
const SERVER_ENTRY = join(ROOT, 'dist', 'server.js');

const QUICK = process.env.BENCH_QUICK === '1';
const PROFILE = process.env.BENCH_PROFILE === '1';
const DIV = QUICK ? 10 : 1;

const SEED = 42;
const USERS_ROWS = 1_000_000 / DIV;
const ORDERS_ROWS = 200_000 / DIV;
const SMALL_ROWS = 10_000;
const KAFKA_RECORDS = 200_000 / DIV;
const FAKER_ROWS = 200_000 / DIV;
const INPROC_ROWS = 1_000_000 / DIV;
const WINDOW = { start: Date.UTC(2025, 0, 1), end: Date.UTC(2026, 0, 1) };

const PERF_DAYS = QUICK ? 1 : 7; // performance-events: a week at the defaults (~17.5M events)
const PERF_INPROC_EVENTS = 5_000_000 / DIV;
/** The server for the whole-week stream may return that many records in one response. */
const PERF_MAX_LIMIT = 100_000_000;

const TARGET_SPEEDUP = 6; // users CSV over HTTP rows/s ÷ faker rows/s, at least
const TARGET_EVENTS_PER_SECOND = 300_000; // performance-events, in-process and over HTTP, at least
const TARGET_RSS_RATIO = 1.2; // peak RSS (big page) ÷ peak RSS (10k page), at most

const HEALTH_TIMEOUT_MS = 20_000;
const STREAM_TIMEOUT_MS = 300_000; // one stream may take at most this long
const IDLE_TIMEOUT_MS = 30_000; // no byte for this long fails the stream
const STOP_TIMEOUT_MS = 15_000; // server's graceful close gets this long, then SIGKILL
const WATCHDOG_MS = 30 * 60_000; // the whole run, whatever happens
const RSS_POLL_MS = 20;

const MB = 1e6; // every MB below is 10^6 bytes

/** Child servers still running; killed on the way out whatever happens. */
const children = new Set();

function killAll(signal = 'SIGKILL') {
  for (const child of children) {
    try {
      child.kill(signal);
    } catch {
      // already gone
    }
  }
}

process.on('exit', () => killAll());
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, () => {
    console.error(`\nbench: ${signal}, stopping servers`);
    killAll();
    process.exit(130);
  });
}
const watchdog = setTimeout(() => {
  console.error(`bench: watchdog: still running after ${WATCHDOG_MS / 60_000} min, giving up`);
  killAll();
  process.exit(2);
}, WATCHDOG_MS);
watchdog.unref();

const log = (message) => console.error(`[bench] ${message}`);
const gc = () => globalThis.gc?.();

// ---------------------------------------------------------------------------------------------
// Server process

/** A free loopback port: bind port 0, read what the OS gave, release it. */
async function freePort() {
  const server = net.createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address();
  server.close();
  await once(server, 'close');
  return port;
}

/** GET a small resource; resolves { status, body }. */
function getSmall(port, path, timeoutMs = 2_000) {
  return new Promise((resolve, reject) => {
    const req = http.get({ host: '127.0.0.1', port, path, agent: false, timeout: timeoutMs }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk) => {
        if (body.length < 4096) body += chunk;
      });
      res.on('end', () => resolve({ status: res.statusCode, body }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`GET ${path}: timed out`)));
    req.on('error', reject);
  });
}

/** Starts `node [nodeArgs] dist/server.js` on a free port (extra `env`) and waits until /health answers. */
async function startServer(nodeArgs = [], env = {}) {
  const port = await freePort();
  const child = spawn(process.execPath, [...nodeArgs, SERVER_ENTRY], {
    cwd: ROOT,
    env: { ...process.env, PORT: String(port), HOST: '127.0.0.1', LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  children.add(child);
  let exited = null;
  child.once('exit', (code, signal) => {
    exited = { code, signal };
    children.delete(child);
  });
  const deadline = performance.now() + HEALTH_TIMEOUT_MS;
  for (;;) {
    if (exited) throw new Error(`server exited during start-up (code ${exited.code}, signal ${exited.signal})`);
    try {
      const { status, body } = await getSmall(port, '/health', 1_000);
      if (status === 200 && body.includes('"ok"')) break;
    } catch {
      // not listening yet
    }
    if (performance.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`server did not answer /health within ${HEALTH_TIMEOUT_MS} ms`);
    }
    await sleep(50);
  }
  return { child, port, pid: child.pid };
}

/** SIGTERM (graceful close, lets --cpu-prof write its file), then SIGKILL if it lingers. */
async function stopServer(server) {
  const { child } = server;
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = once(child, 'exit');
  child.kill('SIGTERM');
  const timer = sleep(STOP_TIMEOUT_MS).then(() => 'timeout');
  if ((await Promise.race([exited, timer])) === 'timeout') {
    log(`server ${child.pid} ignored SIGTERM for ${STOP_TIMEOUT_MS} ms, killing it`);
    child.kill('SIGKILL');
    await exited;
  }
}

// ---------------------------------------------------------------------------------------------
// /proc readings of the server process

/** { rssKb, hwmKb } from /proc/<pid>/status. */
function readMemory(pid) {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (key) => {
    const match = new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(status);
    if (!match) throw new Error(`/proc/${pid}/status has no ${key}`);
    return Number(match[1]);
  };
  return { rssKb: kb('VmRSS'), hwmKb: kb('VmHWM') };
}



/** Polls VmRSS every RSS_POLL_MS; stop() returns the largest value seen, in kB. */
function sampleRss(pid) {
  let peakKb = 0;
  let samples = 0;
  const poll = () => {
    try {
      peakKb = Math.max(peakKb, readMemory(pid).rssKb);
      samples++;
    } catch {
      // process gone: the stream will fail on its own
    }
  };
  poll();
  const timer = setInterval(poll, RSS_POLL_MS);
  return {
    stop() {
      clearInterval(timer);
      poll();
      return { peakKb, samples };
    },
  };
}

const kbToMB = (kb) => (kb * 1024) / MB;

// ---------------------------------------------------------------------------------------------
// Streaming client

/** Number of '\n' bytes in a buffer. */
function countNewlines(buf) {
  let n = 0;
  let at = buf.indexOf(10);
  while (at !== -1) {
    n++;
    at = buf.indexOf(10, at + 1);
  }
  return n;
}

/**
 * Streams one response over a fresh socket, consuming it chunk by chunk (nothing is kept but
 * counters and the first bytes). Resolves { bytes, newlines, seconds, ttfbSeconds, head }.
 */
function streamOnce(port, path) {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    let ttfb = 0;
    let bytes = 0;
    let newlines = 0;
    let head = '';
    let settled = false;
    const fail = (err) => {
      if (settled) return;
      settled = true;
      clearTimeout(overall);
      req.destroy();
      reject(err);
    };
    const overall = setTimeout(() => fail(new Error(`GET ${path}: not finished after ${STREAM_TIMEOUT_MS / 1000} s`)), STREAM_TIMEOUT_MS);
    const req = http.get(
      // identity: the figures are for the raw format, not for gzip
      { host: '127.0.0.1', port, path, agent: false, headers: { 'accept-encoding': 'identity' } },
      (res) => {
        if (res.statusCode !== 200) {
          let body = '';
          res.setEncoding('utf8');
          res.on('data', (c) => (body += c));
          res.on('end', () => fail(new Error(`GET ${path}: HTTP ${res.statusCode}: ${body.slice(0, 500)}`)));
          return;
        }
        if (res.headers['content-encoding']) {
          fail(new Error(`GET ${path}: unexpected content-encoding ${res.headers['content-encoding']}`));
          return;
        }
        res.on('data', (chunk) => {
          if (bytes === 0) ttfb = performance.now() - t0;
          if (head.length < 200) head += chunk.toString('utf8', 0, Math.min(chunk.length, 200));
          bytes += chunk.length;
          newlines += countNewlines(chunk);
        });
        res.on('end', () => {
          if (settled) return;
          settled = true;
          clearTimeout(overall);
          resolve({ bytes, newlines, seconds: (performance.now() - t0) / 1000, ttfbSeconds: ttfb / 1000, head });
        });
        res.on('aborted', () => fail(new Error(`GET ${path}: response aborted after ${bytes} bytes`)));
        res.on('error', fail);
      },
    );
    req.setTimeout(IDLE_TIMEOUT_MS, () => fail(new Error(`GET ${path}: no data for ${IDLE_TIMEOUT_MS / 1000} s (after ${bytes} bytes)`)));
    req.on('error', fail);
  });
}

/** The X-Total-Count of a GET (the population of an entity in a world), read from a one-record page. */
function totalCount(port, path) {
  return new Promise((resolve, reject) => {
    const req = http.get({ host: '127.0.0.1', port, path, agent: false, timeout: 30_000 }, (res) => {
      res.resume();
      res.on('end', () => {
        const total = Number(res.headers['x-total-count']);
        if (res.statusCode !== 200 || !Number.isInteger(total)) reject(new Error(`GET ${path}: HTTP ${res.statusCode}, X-Total-Count ${res.headers['x-total-count']}`));
        else resolve(total);
      });
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`GET ${path}: timed out`)));
    req.on('error', reject);
  });
}

function pathFor(scenario) {
  const params = new URLSearchParams({ seed: String(SEED), format: scenario.format, limit: String(scenario.rows), ...scenario.world });
  return `/api/v1/${scenario.entity}?${params}`;
}

/** Row count of a response body: its lines, minus the header for CSV. Throws on a mismatch. */
function checkRows(scenario, result) {
  // bulk: an action line and a document line per record
  const rows = scenario.format === 'csv' ? result.newlines - 1 : scenario.format === 'bulk' ? result.newlines / 2 : result.newlines;
  const idColumn = scenario.idColumn ?? (scenario.entity === 'users' ? 'user_id' : 'order_id');
  const headOk =
    scenario.format === 'csv' ? result.head.startsWith(`${idColumn},`)
    : scenario.format === 'bulk' ? result.head.startsWith('{"index":{"_index":')
    : result.head.startsWith(`{"${idColumn}":`);
  if (!headOk) throw new Error(`${scenario.name}: body does not start as expected: ${JSON.stringify(result.head.slice(0, 80))}`);
  if (rows !== scenario.rows) {
    throw new Error(`${scenario.name}: asked for ${scenario.rows} rows, received ${rows} (${result.newlines} lines, ${result.bytes} bytes)`);
  }
  return rows;
}

/** One measured stream on its own fresh server, so VmHWM is this stream's peak. */
async function measureHttp(scenario) {
  let path = scenario.rows === 'all' ? `/api/v1/${scenario.entity}?…` : pathFor(scenario);
  log(`${scenario.name}: fresh server, GET ${path}`);
  const server = await startServer([], scenario.env);
  try {
    if (scenario.rows === 'all') {
      // The whole population, however large: ask the server how many records there are.
      scenario.rows = await totalCount(server.port, `/api/v1/${scenario.entity}?${new URLSearchParams({ seed: String(SEED), limit: '1', ...scenario.world })}`);
      path = pathFor(scenario);
      log(`${scenario.name}: ${fmtInt(scenario.rows)} records, GET ${path}`);
    }
    const idle = readMemory(server.pid);
    const cpu0 = cpuSeconds(server.pid);
    const sampler = sampleRss(server.pid);
    const clientCpu0 = process.cpuUsage();
    let result;
    let sampled;
    try {
      result = await streamOnce(server.port, path);
    } finally {
      sampled = sampler.stop();
    }
    const serverCpu = cpuSeconds(server.pid) - cpu0;
    const clientCpu = process.cpuUsage(clientCpu0);
    const clientCpuSeconds = (clientCpu.user + clientCpu.system) / 1e6;
    const { hwmKb } = readMemory(server.pid);
    const rows = checkRows(scenario, result);
    const figures = {
      scenario: scenario.name,
      kind: 'http',
      entity: scenario.entity,
      format: scenario.format,
      path,
      rows,
      bytes: result.bytes,
      seconds: result.seconds,
      ttfbSeconds: result.ttfbSeconds,
      rowsPerSecond: rows / result.seconds,
      mbPerSecond: result.bytes / MB / result.seconds,
      idleRssMB: kbToMB(idle.rssKb),
      peakRssMB: kbToMB(Math.max(hwmKb, sampled.peakKb)),
      vmHwmMB: kbToMB(hwmKb),
      sampledPeakRssMB: kbToMB(sampled.peakKb),
      rssSamples: sampled.samples,
      serverCpuSeconds: serverCpu,
      serverCpuPercent: (100 * serverCpu) / result.seconds,
      clientCpuSeconds,
      clientCpuPercent: (100 * clientCpuSeconds) / result.seconds,
    };
    log(
      `${scenario.name}: ${fmtInt(rows)} rows, ${fmt(figures.seconds, 2)} s, ${fmtInt(figures.rowsPerSecond)} rows/s, ` +
        `${fmt(figures.mbPerSecond, 1)} MB/s, peak RSS ${fmt(figures.peakRssMB, 1)} MB, server CPU ${fmt(figures.serverCpuPercent, 0)}%, client CPU ${fmt(figures.clientCpuPercent, 0)}%`,
    );
    return figures;
  } finally {
    await stopServer(server);
  }
}

// ---------------------------------------------------------------------------------------------
// In-process references

/** Plain faker, en_US, the same user fields as the users endpoint; re-seeded every 1,000 rows. */
function fakerUsers(count) {
  const from = new Date(WINDOW.start);
  const to = new Date(WINDOW.end);
  let checksum = 0;
  for (let k = 0; k < count; k += 1000) {
    faker.seed(k);
    const stop = Math.min(count, k + 1000);
    for (let i = k; i < stop; i++) {
      const firstName = faker.person.firstName();
      const lastName = faker.person.lastName();
      const created = faker.date.between({ from, to });
      const user = {
        user_id: faker.string.uuid(),
        email: faker.internet.email({ firstName, lastName }),
        username: faker.internet.username({ firstName, lastName }),
        first_name: firstName,
        last_name: lastName,
        date_of_birth: faker.date.birthdate({ mode: 'age', min: 18, max: 80, refDate: from }).toISOString().slice(0, 10),
        phone_number: faker.phone.number({ style: 'national' }),
        address: faker.location.streetAddress(),
        city: faker.location.city(),
        state: faker.location.state({ abbreviated: true }),
        postal_code: faker.location.zipCode('#####'),
        country: 'US',
        created_at: created.toISOString(),
        updated_at: faker.date.between({ from: created, to }).toISOString(),
        is_active: faker.datatype.boolean({ probability: 0.95 }),
        marketing_opt_in: faker.datatype.boolean({ probability: 0.42 }),
        loyalty_points: faker.number.int({ min: 0, max: 5000 }),
      };
      checksum += user.email.length + user.loyalty_points;
    }
  }
  return checksum;
}

/** rows/s of a synchronous producer, after a short untimed warm-up. */
function timeInProcess(name, rows, warmupRows, produce) {
  log(`${name}: warm-up ${fmtInt(warmupRows)} rows, then ${fmtInt(rows)} rows`);
  produce(warmupRows);
  gc();
  const t0 = performance.now();
  const produced = produce(rows);
  const seconds = (performance.now() - t0) / 1000;
  if (produced !== rows) throw new Error(`${name}: produced ${produced} rows, expected ${rows}`);
  const figures = { scenario: name, kind: 'in-process', rows, seconds, rowsPerSecond: rows / seconds };
  log(`${name}: ${fmt(seconds, 2)} s, ${fmtInt(figures.rowsPerSecond)} rows/s`);
  gc();
  return figures;
}

async function ecomgenInProcess(rows) {
  const { World, resolveSizes } = await import('../dist/generators/world.js');
  const world = World.of({ seed: SEED, sizes: resolveSizes(1, { users: rows }), locale: 'en_US', window: WINDOW });
  const generator = world.generator('users');
  return (count) => {
    let n = 0;
    let checksum = 0;
    for (const user of generator.range(0, count)) {
      checksum += user.email.length;
      n++;
    }
    if (checksum === 0) throw new Error('in-process generator produced empty e-mails');
    return n;
  };
}

/**
 * performance-events in-process: the generator streaming a range of a default week and, in
 * the second producer, the same records written as NDJSON by the service's own format and
 * UTF-8 encoded (what the server does per response, minus the socket).
 */
async function performanceInProcess() {
  const { World, resolveSizes } = await import('../dist/generators/world.js');
  const { FORMATS } = await import('../dist/formats/index.js');
  const { formatContext } = await import('../dist/render/batch.js');
  const { ENTITIES } = await import('../dist/generators/registry.js');
  const world = World.of({ seed: SEED, sizes: resolveSizes(1, {}), locale: 'en_US', window: WINDOW, params: { days: PERF_DAYS } });
  const generator = world.generator('performance-events');
  const columns = Object.keys(ENTITIES['performance-events'].schema.properties);
  const context = formatContext('performance-events', columns);
  const ndjson = FORMATS.ndjson;
  // Start mid-morning of the first day: a realistic mix, incidents included.
  const from = Math.floor(generator.population / 20);
  const generate = (count) => {
    let n = 0;
    let latency = 0;
    for (const event of generator.range(from, from + count)) {
      latency += event.response_time_ms;
      n++;
    }
    if (latency === 0) throw new Error('performance-events in-process: no latency');
    return n;
  };
  const write = (count) => {
    let n = 0;
    let bytes = 0;
    let batch = [];
    for (const event of generator.range(from, from + count)) {
      batch.push(event);
      if (batch.length === 256) {
        bytes += Buffer.byteLength(ndjson.batch(batch, context, n === 0));
        n += batch.length;
        batch = [];
      }
    }
    if (batch.length > 0) bytes += Buffer.byteLength(ndjson.batch(batch, context, n === 0));
    n += batch.length;
    if (bytes === 0) throw new Error('performance-events in-process: no bytes');
    return n;
  };
  return { generate, write };
}

// ---------------------------------------------------------------------------------------------
// Optional CPU profile of the server

/** Top self-time functions of a .cpuprofile (V8 format), by total sampled time. */
function topSelfTime(profile, top = 10) {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const selfUs = new Map();
  for (let k = 0; k < profile.samples.length; k++) {
    const id = profile.samples[k];
    selfUs.set(id, (selfUs.get(id) ?? 0) + (profile.timeDeltas[k] ?? 0));
  }
  const byFunction = new Map();
  let totalUs = 0;
  for (const [id, us] of selfUs) {
    const { callFrame } = byId.get(id);
    const file = callFrame.url ? callFrame.url.replace(/^file:\/\//, '').replace(ROOT + '/', '') : '';
    const where = file ? `${file}:${callFrame.lineNumber + 1}` : '';
    const key = `${callFrame.functionName || '(anonymous)'}\t${where}`;
    byFunction.set(key, (byFunction.get(key) ?? 0) + us);
    totalUs += us;
  }
  return [...byFunction.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, top)
    .map(([key, us]) => {
      const [fn, where] = key.split('\t');
      return { function: fn, location: where, selfMs: us / 1000, percent: (100 * us) / totalUs };
    });
}

async function profileUsersCsv(scenario) {
  const dir = join(RESULTS_DIR, `cpuprofile-${new Date().toISOString().replace(/[:.]/g, '-')}`);
  mkdirSync(dir, { recursive: true });
  log(`profile: ${scenario.name} on a server run with --cpu-prof (figures of this run are not used)`);
  const server = await startServer(['--cpu-prof', `--cpu-prof-dir=${dir}`]);
  try {
    const result = await streamOnce(server.port, pathFor(scenario));
    checkRows(scenario, result);
  } finally {
    await stopServer(server);
  }
  const file = readdirSync(dir).find((f) => f.endsWith('.cpuprofile'));
  if (!file) throw new Error(`profile: no .cpuprofile written in ${dir}`);
  const top = topSelfTime(JSON.parse(readFileSync(join(dir, file), 'utf8')));
  return { file: join(dir, file).replace(ROOT + '/', ''), top };
}

// ---------------------------------------------------------------------------------------------
// Report

const fmt = (n, digits) => (Number.isFinite(n) ? n.toFixed(digits) : 'n/a');
const fmtInt = (n) => (Number.isFinite(n) ? Math.round(n).toLocaleString('en-US') : 'n/a');

/** A Markdown table; the first `textColumns` columns are left-aligned, the rest (numbers) right. */
function markdownTable(header, rows, textColumns = 1) {
  const line = (cells) => `| ${cells.join(' | ')} |`;
  const align = header.map((_, k) => (k < textColumns ? '---' : '---:'));
  return [line(header), line(align), ...rows.map(line)].join('\n');
}

function report(summary) {
  const out = [];
  const m = summary.machine;
  out.push('');
  out.push(`## ecomgen benchmark${QUICK ? ' (QUICK mode: 1/10 of the rows, not comparable)' : ''}`);
  out.push('');
  out.push(`Machine: Node ${m.node}, ${m.cpus} × ${m.cpuModel}, ${fmt(m.totalMemGB, 1)} GB RAM, ${m.platform} ${m.release}. ${summary.date}`);
  out.push(`Seed ${SEED}; one fresh server per HTTP stream (peak RSS = the server's VmHWM); client and server share the machine; MB = 10^6 bytes.`);
  out.push('');
  const rows = summary.scenarios.map((s) => [
    s.scenario,
    fmtInt(s.rows),
    s.bytes === undefined ? '–' : fmtInt(s.bytes),
    fmt(s.seconds, 2),
    fmtInt(s.rowsPerSecond),
    s.mbPerSecond === undefined ? '–' : fmt(s.mbPerSecond, 1),
    s.peakRssMB === undefined ? '–' : fmt(s.peakRssMB, 1),
    s.idleRssMB === undefined ? '–' : fmt(s.idleRssMB, 1),
    s.serverCpuPercent === undefined ? '–' : `${fmt(s.serverCpuPercent, 0)}%`,
  ]);
  out.push(
    markdownTable(['scenario', 'rows', 'bytes', 'seconds', 'rows/s', 'MB/s', 'peak RSS MB', 'idle RSS MB', 'server CPU'], rows),
  );
  out.push('');
  if (summary.analytics) {
    const a = summary.analytics;
    out.push(
      markdownTable(
        ['analytics (fresh server)', 'seconds'],
        [
          ['time to first response, analytics/products, scale 10', fmt(a.firstScale10Seconds, 2)],
          ['then analytics/users, same world (cached aggregates), 1,000 rows', fmt(a.cachedScale10Seconds, 3)],
          ['time to first response, analytics/users, scale 1', fmt(a.firstScale1Seconds, 2)],
        ],
      ),
    );
    out.push('');
  }
  out.push(
    markdownTable(
      ['ratio', 'value', 'target', 'result'],
      summary.ratios.map((r) => [
        r.name,
        `${fmt(r.value, 2)}×`,
        r.target === null ? 'n/a' : `${r.comparison} ${r.target}×`,
        r.target === null ? '(information)' : r.pass ? 'PASS' : 'MISS',
      ]),
      1,
    ),
  );
  if (summary.profile) {
    out.push('');
    out.push(`Server CPU profile, users CSV (${summary.profile.file}), top self time:`);
    out.push('');
    out.push(
      markdownTable(
        ['function', 'location', 'self ms', 'self %'],
        summary.profile.top.map((t) => [t.function, t.location || '(native)', fmt(t.selfMs, 0), fmt(t.percent, 1)]),
        2,
      ),
    );
  }
  out.push('');
  console.log(out.join('\n'));
}

// ---------------------------------------------------------------------------------------------
// Main

/**
 * Analytics: time to first response for a scale-10 world on a fresh server (the aggregates are
 * computed from every order, return, review, session and clickstream event of the world), then
 * the same world's other analytics endpoint (served from the per-world cache).
 */
async function measureAnalytics() {
  const server = await startServer();
  try {
    const timed = async (path) => {
      const t0 = performance.now();
      const { status } = await getSmall(server.port, path, STREAM_TIMEOUT_MS);
      if (status !== 200) throw new Error(`${path}: HTTP ${status}`);
      return (performance.now() - t0) / 1000;
    };
    const world = `seed=${SEED}&scale=10`;
    const first = await timed(`/api/v1/analytics/products?${world}&limit=10`);
    const cached = await timed(`/api/v1/analytics/users?${world}&limit=1000`);
    const scaleOne = await timed(`/api/v1/analytics/users?seed=${SEED}&limit=10`);
    log(`analytics: scale 10 first response ${fmt(first, 2)} s, cached ${fmt(cached, 3)} s, scale 1 first ${fmt(scaleOne, 2)} s`);
    return { firstScale10Seconds: first, cachedScale10Seconds: cached, firstScale1Seconds: scaleOne };
  } finally {
    await stopServer(server);
  }
}

async function main() {
  const cpus = os.cpus();
  const machine = {
    node: process.version,
    cpus: cpus.length,
    cpuModel: cpus[0]?.model?.trim() ?? 'unknown',
    totalMemGB: os.totalmem() / 1e9,
    platform: os.platform(),
    release: os.release(),
    arch: os.arch(),
  };
  const started = new Date();
  log(`node ${machine.node}, ${machine.cpus} × ${machine.cpuModel}${QUICK ? ', QUICK mode' : ''}`);

  const usersCsv = { name: 'users CSV (HTTP)', entity: 'users', format: 'csv', rows: USERS_ROWS, world: { users: String(USERS_ROWS) } };
  const scenarios = [
    usersCsv,
    { name: 'users NDJSON (HTTP)', entity: 'users', format: 'ndjson', rows: USERS_ROWS, world: { users: String(USERS_ROWS) } },
    { name: 'orders CSV (HTTP)', entity: 'orders', format: 'csv', rows: ORDERS_ROWS, world: { orders: String(ORDERS_ROWS) } },
    { name: 'orders NDJSON (HTTP)', entity: 'orders', format: 'ndjson', rows: ORDERS_ROWS, world: { orders: String(ORDERS_ROWS) } },
    // Same world as the big users page, only the page is small: the memory reference.
    { name: 'users CSV, small page (HTTP)', entity: 'users', format: 'csv', rows: SMALL_ROWS, world: { users: String(USERS_ROWS) } },
    {
      name: `performance-events NDJSON, ${PERF_DAYS === 7 ? 'a week' : `${PERF_DAYS} day`} at the defaults (HTTP)`,
      entity: 'performance-events',
      idColumn: 'event_id',
      format: 'ndjson',
      rows: 'all',
      world: { days: String(PERF_DAYS) },
      env: { MAX_LIMIT: String(PERF_MAX_LIMIT) },
    },
    {
      name: 'performance-events OpenSearch bulk, a day at the defaults (HTTP)',
      entity: 'performance-events',
      idColumn: 'event_id',
      format: 'bulk',
      rows: 'all',
      world: { days: '1' },
      env: { MAX_LIMIT: String(PERF_MAX_LIMIT) },
    },
  ];

  const results = [];
  for (const scenario of scenarios) {
    results.push(await measureHttp(scenario));
    gc();
  }

  const analytics = await measureAnalytics();

  // Sinks: loads through the sink against the raw client on the same destination, same run.
  const sinkBenches = [await benchPostgres({ rows: USERS_ROWS }), await benchKafka({ records: KAFKA_RECORDS })];
  for (const bench of sinkBenches) results.push(...bench.scenarios);

  const inProcess = await ecomgenInProcess(INPROC_ROWS);
  results.push(timeInProcess('users, ecomgen generator in-process (no HTTP, no CSV)', INPROC_ROWS, 20_000, inProcess));
  results.push(
    timeInProcess('users, plain faker in-process (baseline)', FAKER_ROWS, 10_000, (count) => {
      fakerUsers(count);
      return count;
    }),
  );

  const perf = await performanceInProcess();
  results.push(timeInProcess('performance-events, generator in-process (no HTTP, no NDJSON)', PERF_INPROC_EVENTS, 200_000, perf.generate));
  results.push(timeInProcess('performance-events, generator + NDJSON writer in-process (no HTTP)', PERF_INPROC_EVENTS, 200_000, perf.write));

  const byName = (prefix) => results.find((r) => r.scenario.startsWith(prefix));
  const [httpUsersCsv, , , , httpSmall] = results;
  const inProc = byName('users, ecomgen generator in-process');
  const fakerBase = byName('users, plain faker in-process');
  const perfHttp = byName('performance-events NDJSON');
  const perfBulk = byName('performance-events OpenSearch bulk');
  const perfInProc = byName('performance-events, generator + NDJSON writer');
  const speedup = httpUsersCsv.rowsPerSecond / fakerBase.rowsPerSecond;
  const rssRatio = httpUsersCsv.peakRssMB / httpSmall.peakRssMB;
  const ratios = [
    {
      name: 'users CSV over HTTP rows/s ÷ plain faker rows/s',
      value: speedup,
      target: TARGET_SPEEDUP,
      comparison: '≥',
      pass: speedup >= TARGET_SPEEDUP,
    },
    {
      name: `peak RSS users CSV ${fmtInt(USERS_ROWS)} rows ÷ ${fmtInt(SMALL_ROWS)} rows`,
      value: rssRatio,
      target: TARGET_RSS_RATIO,
      comparison: '≤',
      pass: rssRatio <= TARGET_RSS_RATIO,
    },
    {
      name: 'users CSV over HTTP rows/s ÷ generator in-process rows/s',
      value: httpUsersCsv.rowsPerSecond / inProc.rowsPerSecond,
      target: null,
      comparison: '',
      pass: null,
    },
    ...[
      [`performance-events NDJSON over HTTP (${fmtInt(perfHttp.rows)} events) events/s ÷ ${fmtInt(TARGET_EVENTS_PER_SECOND)}`, perfHttp, true],
      ['performance-events generator + NDJSON in-process events/s ÷ ' + fmtInt(TARGET_EVENTS_PER_SECOND), perfInProc, true],
      // Bulk writes an action line per document too (~15% more bytes): reported, not targeted.
      ['performance-events bulk over HTTP events/s ÷ ' + fmtInt(TARGET_EVENTS_PER_SECOND), perfBulk, false],
    ].map(([name, scenario, targeted]) => ({
      name,
      value: scenario.rowsPerSecond / TARGET_EVENTS_PER_SECOND,
      target: targeted ? 1 : null,
      comparison: targeted ? '≥' : '',
      pass: targeted ? scenario.rowsPerSecond >= TARGET_EVENTS_PER_SECOND : null,
    })),
  ];

  ratios.push(...sinkBenches.map((bench) => bench.ratio));

  let profile;
  if (PROFILE) profile = await profileUsersCsv(usersCsv);

  const summary = {
    date: started.toISOString(),
    quick: QUICK,
    seed: SEED,
    machine,
    scenarios: results,
    ratios,
    analytics,
    ...(profile ? { profile } : {}),
  };
  report(summary);

  mkdirSync(RESULTS_DIR, { recursive: true });
  const out = join(RESULTS_DIR, 'latest.json');
  writeFileSync(out, JSON.stringify(summary, null, 2) + '\n');
  log(`summary written to ${out.replace(ROOT + '/', '')} (${fmt((Date.now() - started.getTime()) / 1000, 0)} s in all)`);
}

try {
  await main();
} catch (err) {
  console.error(`bench: harness error: ${err?.stack ?? err}`);
  process.exitCode = 1;
} finally {
  killAll();
}
