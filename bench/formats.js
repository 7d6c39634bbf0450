// Users over HTTP in CSV and NDJSON (and XML with FORMATS=csv,ndjson,xml), the formats part of
// bench/compare.js on its own, for A/B runs against other builds: this checkout's server and,
// with BENCH_BASELINE=<built checkout>[,<dir>…], each baseline's server, every download
// interleaved (round by round: each server's formats in turn, odd rounds in reverse order), curl
// as the client (`-s -o /dev/null`). Prints per server and format the median with min–max, rows/s,
// the server's CPU per download (its process, render threads included, from /proc) and the ratios
// to CSV of the same server in the same run (of medians, and round by round). ROWS (default
// 1,000,000 as in compare.js), BENCH_ROUNDS (default 5), RENDER_THREADS (the servers' default
// when unset), GZIP=1 for `Accept-Encoding: gzip`.
// `npm run build` first (and in each baseline).

import os from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { cpuSeconds } from './proc.js';
import { children, download, median, start } from './serve.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const ROWS = Number(process.env.ROWS ?? 1_000_000);
const ROUNDS = Number(process.env.BENCH_ROUNDS) || 5;
const FORMATS = (process.env.FORMATS ?? 'csv,ndjson').split(',');
const GZIP = process.env.GZIP === '1';
const BUILDS = [ROOT, ...(process.env.BENCH_BASELINE ?? '').split(',').filter((dir) => dir !== '')];

/** This build's server or a baseline's, by its checkout. */
async function startBuild(dir) {
  const env = { MAX_LIMIT: String(Math.max(ROWS, 1_000_000)) };
  return { dir, ...(await start(join(dir, 'dist', 'server.js'), [], env, '/health')) };
}

/** One download and the server's CPU spent on it. */
function measure(server, format) {
  const url = `http://127.0.0.1:${server.port}/api/v1/users?seed=42&users=1000000&limit=${ROWS}&format=${format}`;
  const before = cpuSeconds(server.child.pid);
  const { seconds, bytes } = download(url, GZIP ? ['Accept-Encoding: gzip'] : []);
  return { seconds, bytes, cpu: cpuSeconds(server.child.pid) - before };
}

const load = () => os.loadavg().map((l) => l.toFixed(1)).join(' ');

const servers = [];
for (const dir of BUILDS) servers.push(await startBuild(dir));
// Warm every server (modules, the world, the render threads) outside the measurements.
for (const server of servers) for (const format of FORMATS) measure(server, format);
console.log(`users, ${ROWS.toLocaleString('en-US')} rows${GZIP ? ', gzip' : ''}, ${ROUNDS} interleaved rounds; render threads ${process.env.RENDER_THREADS ?? 'default'}; load average ${load()}`);
const runs = servers.map(() => Object.fromEntries(FORMATS.map((f) => [f, []])));
// Odd rounds run backwards (servers and formats), so a drift in the machine's load falls on both
// sides of every ratio.
const order = (xs, round) => (round % 2 === 0 ? [...xs] : [...xs].reverse());
for (let round = 0; round < ROUNDS; round++) {
  for (const [s, server] of order([...servers.entries()], round)) for (const format of order(FORMATS, round)) runs[s][format].push(measure(server, format));
}
for (const [s, server] of servers.entries()) {
  console.log(`\n${server.dir}`);
  const csvSeconds = median(runs[s].csv?.map((r) => r.seconds) ?? [NaN]);
  for (const format of FORMATS) {
    const seconds = runs[s][format].map((r) => r.seconds);
    const cpu = median(runs[s][format].map((r) => r.cpu));
    const m = median(seconds);
    const cpus = runs[s][format].map((r) => r.cpu);
    console.log(`  ${format.padEnd(7)} ${m.toFixed(2)} s (${Math.min(...seconds).toFixed(2)}–${Math.max(...seconds).toFixed(2)})  ${Math.round(ROWS / m).toLocaleString('en-US')} rows/s, ${(runs[s][format][0].bytes / 1e6).toFixed(1)} MB, server CPU ${cpu.toFixed(2)} s (${Math.min(...cpus).toFixed(2)}–${Math.max(...cpus).toFixed(2)})`);
    if (format !== 'csv' && runs[s].csv) {
      // The same round's CSV download against this one: how far a single reading can be trusted.
      const perRound = runs[s][format].map((r, k) => runs[s].csv[k].seconds / r.seconds);
      const csvCpu = median(runs[s].csv.map((r) => r.cpu));
      console.log(`          ÷ CSV ${(csvSeconds / m).toFixed(2)}x rows/s (ratio of medians); same-round ratios ${median(perRound).toFixed(2)}x (${Math.min(...perRound).toFixed(2)}–${Math.max(...perRound).toFixed(2)}); server CPU ${(cpu / csvCpu).toFixed(2)}x CSV's`);
    }
  }
}
if (servers.length > 1) {
  // Pair by pair (the same round), this build's speed over each baseline's.
  for (const format of FORMATS) {
    for (let s = 1; s < servers.length; s++) {
      const pairs = runs[0][format].map((r, k) => runs[s][format][k].seconds / r.seconds);
      const cpus = runs[0][format].map((r, k) => r.cpu / runs[s][format][k].cpu);
      console.log(`${format}: this build ÷ ${servers[s].dir}, speed per round: median ${median(pairs).toFixed(2)}x (${Math.min(...pairs).toFixed(2)}–${Math.max(...pairs).toFixed(2)}); server CPU per round ${median(cpus).toFixed(2)}x (${Math.min(...cpus).toFixed(2)}–${Math.max(...cpus).toFixed(2)})`);
    }
  }
}
console.log(`\nload average at the end ${load()}`);
for (const child of children) child.kill('SIGTERM');
