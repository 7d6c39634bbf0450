// Small pages and analytics first byte (issue 14), against the built server (`npm run build`
// first): `node bench/first-byte.js [serverDir ...]` (default: dist). With several server
// directories (e.g. a build of another commit), every measurement alternates between them in the
// same run, so their ratios can be read on a shared machine.
//
//   - small pages: `users?limit=10` (no seed: a new world per request), `users?seed=42&limit=10`
//     twice — answered from the cache of small seeded responses (the same URL repeated) and by a
//     second server with that cache off (PAGE_CACHE_MB=0: every request through the route, what
//     a URL asked for the first time costs) — and a hello-world Fastify route (bench/hello.js),
//     loaded by wrk (one thread, 10 connections, LOAD_SECONDS each; bench/wrk.js: autocannon when
//     wrk is not installed) in ROUNDS interleaved rounds: requests/s, p99, and the server's CPU
//     time per request read from /proc/<pid>/stat (steadier than requests/s when other work
//     shares the cores), the whole process's and the main thread's; the unseeded page also from
//     a third server with PAGE_AHEAD=0 (pages rendered on the main thread; the default renders
//     them ahead on the render pool's page thread);
//   - analytics first byte: `analytics/users` and `analytics/products` at scale 10, each for
//     ROUNDS fresh worlds (new seeds: nothing precomputed), time to the first body byte; meanwhile
//     `/health` is asked every 20 ms and its slowest answer printed (the event loop stays free);
//     and the server's CPU during the request, all threads and the busiest one (/proc/<pid>/task):
//     on a host with a core per thread the first byte cannot come sooner than the busiest thread's
//     CPU, which a loaded machine stretches but does not change.
// `BENCH_ONLY=pages` or `BENCH_ONLY=analytics` runs one of the two parts.
// Speed is printed, never asserted.

import { spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { request } from 'node:http';
import { dirname, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { loadavg } from 'node:os';
import { freePort } from './ports.js';
import { LOAD_CLIENT, load } from './wrk.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const QUICK = process.env.BENCH_QUICK === '1';
const ROUNDS = 3;
/** Seconds of load per small-page measurement. */
const LOAD_SECONDS = QUICK ? 2 : 5;
const CONNECTIONS = 10;
const ONLY = process.env.BENCH_ONLY ?? '';
const dirs = process.argv.slice(2).length > 0 ? process.argv.slice(2) : ['dist'];

const children = new Set();
process.on('exit', () => {
  for (const child of children) child.kill('SIGKILL');
});

/** Starts `node args` on a free port and waits until `path` answers. */
async function start(args, path, env = {}) {
  const port = await freePort();
  const child = spawn(process.execPath, args.map((a) => (a === '$PORT' ? String(port) : a)), {
    cwd: ROOT,
    env: { ...process.env, PORT: String(port), HOST: '127.0.0.1', LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  children.add(child);
  for (let k = 0; ; k++) {
    if (child.exitCode !== null) throw new Error(`${args.join(' ')} exited during start-up`);
    try {
      if ((await globalThis.fetch(`http://127.0.0.1:${port}${path}`)).ok) break;
    } catch {
      // not listening yet
    }
    if (k > 300) throw new Error(`${args.join(' ')} did not answer ${path}`);
    await sleep(100);
  }
  return { port, child };
}

/** CPU time (user + system) of a process, in ms. */
function cpuMs(pid) {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

/** CPU time (ms) of each thread of a process, by thread id. */
function threadCpuMs(pid) {
  const out = new Map();
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    try {
      out.set(tid, cpuMs(`${pid}/task/${tid}`));
    } catch {
      // the thread ended
    }
  }
  return out;
}

const median = (values) => values.slice().sort((a, b) => a - b)[Math.floor(values.length / 2)];
const range = (values, digits = 0) => `${Math.min(...values).toFixed(digits)}–${Math.max(...values).toFixed(digits)}`;

/**
 * Milliseconds to the first body byte of GET url; meanwhile /health every 20 ms, slowest answer
 * kept; and the server's CPU in that time: all threads, and the busiest thread (on a host with
 * a core free per thread, the first byte cannot come sooner than that thread's CPU time).
 */
async function firstByte(port, path, pid) {
  const before = threadCpuMs(pid);
  let slowest = 0;
  let done = false;
  const probe = (async () => {
    while (!done) {
      const t0 = performance.now();
      await globalThis.fetch(`http://127.0.0.1:${port}/health`).then((r) => r.arrayBuffer());
      slowest = Math.max(slowest, performance.now() - t0);
      await sleep(20);
    }
  })();
  const t0 = performance.now();
  const ms = await new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path }, (res) => {
      if (res.statusCode !== 200) reject(new Error(`${path}: ${res.statusCode}`));
      res.once('data', () => resolve(performance.now() - t0));
      res.on('end', () => undefined);
      res.resume();
    });
    req.on('error', reject);
    req.end();
  });
  const after = threadCpuMs(pid);
  done = true;
  await probe;
  let cpu = 0;
  let busiest = 0;
  for (const [tid, end] of after) {
    const used = end - (before.get(tid) ?? 0);
    cpu += used;
    busiest = Math.max(busiest, used);
  }
  return { ms, slowest, cpu, busiest };
}

async function main() {
  console.log(`load average at start: ${loadavg().map((x) => x.toFixed(2)).join(', ')} (2 cores shared: only ratios in one run count)`);
  const servers = [];
  // The server's flags as `npm start` and the Dockerfile give them.
  const server = (dir) => ['--max-semi-space-size=32', join(dir, 'server.js')];
  for (const dir of dirs) servers.push({ dir, ...(await start(server(dir), '/health')) });
  const hello = await start([join('bench', 'hello.js'), '$PORT'], '/hello');

  if (ONLY !== 'analytics') {
    // The same builds with the page cache off (a build without one ignores PAGE_CACHE_MB).
    const uncached = [];
    for (const dir of dirs) uncached.push({ dir, ...(await start(server(dir), '/health', { PAGE_CACHE_MB: '0' })) });
    // And with unseeded pages rendered on the main thread (PAGE_AHEAD=0; on by default since the
    // tenth round, so the servers above render them ahead; a build without it ignores PAGE_AHEAD).
    const ahead = [];
    for (const dir of dirs) ahead.push({ dir, ...(await start(server(dir), '/health', { PAGE_AHEAD: '0' })) });
    await smallPages(servers, uncached, ahead, hello);
  }
  if (ONLY !== 'pages') await analytics(servers);
  console.log(`load average at end: ${loadavg().map((x) => x.toFixed(2)).join(', ')}`);
  for (const child of children) child.kill('SIGTERM');
}

async function smallPages(servers, uncached, ahead, hello) {
  const variants = [];
  for (const [k, server] of servers.entries()) {
    for (const path of ['/api/v1/users?limit=10', '/api/v1/users?seed=42&limit=10']) variants.push({ label: `${server.dir} ${path}`, url: `http://127.0.0.1:${server.port}${path}`, pid: server.child.pid });
    const off = uncached[k];
    variants.push({ label: `${off.dir} /api/v1/users?seed=42&limit=10, no page cache`, url: `http://127.0.0.1:${off.port}/api/v1/users?seed=42&limit=10`, pid: off.child.pid });
    const early = ahead[k];
    variants.push({ label: `${early.dir} /api/v1/users?limit=10, PAGE_AHEAD=0`, url: `http://127.0.0.1:${early.port}/api/v1/users?limit=10`, pid: early.child.pid });
  }
  variants.push({ label: 'hello-world Fastify route', url: `http://127.0.0.1:${hello.port}/hello`, pid: hello.child.pid });
  const runs = variants.map(() => []);
  for (const variant of variants) await load(variant.url, { connections: CONNECTIONS, seconds: 1 }); // warm-up
  for (let round = 0; round < ROUNDS; round++) {
    for (const [k, variant] of variants.entries()) {
      const before = cpuMs(variant.pid);
      const mainBefore = cpuMs(`${variant.pid}/task/${variant.pid}`);
      const result = await load(variant.url, { connections: CONNECTIONS, seconds: LOAD_SECONDS });
      const mainUs = ((cpuMs(`${variant.pid}/task/${variant.pid}`) - mainBefore) * 1000) / result.requests;
      runs[k].push({ rps: result.rps, p99: result.p99, us: ((cpuMs(variant.pid) - before) * 1000) / result.requests, mainUs });
    }
  }
  console.log(`\nsmall pages: ${LOAD_CLIENT}, ${CONNECTIONS} connections, ${LOAD_SECONDS} s per measurement, ${ROUNDS} interleaved rounds (median, min–max)`);
  const helloRps = median(runs.at(-1).map((r) => r.rps));
  const helloUs = median(runs.at(-1).map((r) => r.us));
  for (const [k, variant] of variants.entries()) {
    const rps = runs[k].map((r) => r.rps);
    const us = runs[k].map((r) => r.us);
    const p99 = runs[k].map((r) => r.p99);
    const mainUs = runs[k].map((r) => r.mainUs);
    const ratio = k < variants.length - 1 ? `  ${(median(rps) / helloRps).toFixed(2)}x hello req/s, ${(median(us) / helloUs).toFixed(1)}x its CPU` : '';
    console.log(`  ${variant.label.padEnd(64)} ${Math.round(median(rps)).toLocaleString('en-US')} req/s (${range(rps)}), p99 ${median(p99).toFixed(2)} ms (${range(p99, 2)}), server CPU ${Math.round(median(us))} µs/request (${range(us)}), main thread ${Math.round(median(mainUs))} µs (${range(mainUs)})${ratio}`);
  }

}

/** Analytics first byte, fresh worlds. */
async function analytics(servers) {
  console.log(`\nanalytics first byte at scale 10: ${ROUNDS} fresh worlds each (median, min–max); slowest /health answer meanwhile`);
  for (const entity of ['analytics/users', 'analytics/products']) {
    const results = servers.map(() => []);
    for (let round = 0; round < ROUNDS; round++) {
      for (const [k, server] of servers.entries()) {
        const seed = 1000 + round * 10 + (entity === 'analytics/users' ? 0 : 5);
        results[k].push(await firstByte(server.port, `/api/v1/${entity}?seed=${seed}&scale=10&format=csv&limit=100`, server.child.pid));
      }
    }
    for (const [k, server] of servers.entries()) {
      const ms = results[k].map((r) => r.ms / 1000);
      const slowest = results[k].map((r) => r.slowest);
      const cpu = results[k].map((r) => r.cpu / 1000);
      const busiest = results[k].map((r) => r.busiest / 1000);
      console.log(
        `  ${`${server.dir} ${entity}`.padEnd(48)} ${median(ms).toFixed(2)} s (${range(ms, 2)}), server CPU ${median(cpu).toFixed(2)} s (${range(cpu, 2)}), busiest thread ${median(busiest).toFixed(2)} s (${range(busiest, 2)}), /health at worst ${Math.round(Math.max(...slowest))} ms`,
      );
    }
  }
}

await main().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});
