// Benchmark of the change feed: streams the feed of a scale-10 world as NDJSON over a loopback
// socket from the built server (events/s), and the users CSV in the same run for the ratio;
// peak RSS of the whole feed against a 10,000-event page. Measured, never asserted.
// `npm run build && node bench/events.js` (BENCH_QUICK=1: a scale-1 world).

import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import { dirname, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { cpuSeconds, mainThreadSeconds } from './proc.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const QUICK = process.env.BENCH_QUICK === '1';
const SCALE = QUICK ? 1 : 10;
const SEED = 42;
const USERS_ROWS = QUICK ? 100_000 : 1_000_000;
const TARGET_EVENTS_PER_SECOND = 300_000;
const TARGET_RSS_RATIO = 1.2;
/** The server's V8 flags, as package.json's start script and the Dockerfile give them. */
const SERVER_FLAGS = ['--max-semi-space-size=32'];

const freePort = () =>
  new Promise((resolve, reject) => {
    const server = net.createServer();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });

/** Peak resident memory of a process so far (VmHWM), in MB. */
const peakRss = (pid) => {
  const line = readFileSync(`/proc/${pid}/status`, 'utf8').split('\n').find((l) => l.startsWith('VmHWM:'));
  return Number(line?.replace(/\D+/g, '')) / 1024;
};

async function startServer() {
  const port = await freePort();
  // Started as `npm start` and the Dockerfile start it (docs/events.md, "Memory").
  const child = spawn(process.execPath, [...SERVER_FLAGS, join(ROOT, 'dist', 'server.js')], {
    env: { ...process.env, PORT: String(port), HOST: '127.0.0.1', LOG_LEVEL: 'warn', MAX_LIMIT: '100000000' },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  for (let k = 0; k < 200; k++) {
    try {
      await stream(port, '/health');
      return { port, child };
    } catch {
      await sleep(100);
    }
  }
  child.kill('SIGKILL');
  throw new Error('server did not start');
}

/** Streams a URL to the end; bytes, lines and seconds. */
function stream(port, path) {
  return new Promise((resolve, reject) => {
    const started = process.hrtime.bigint();
    http
      .get({ host: '127.0.0.1', port, path }, (response) => {
        if (response.statusCode !== 200) reject(new Error(`${path}: ${response.statusCode}`));
        let bytes = 0;
        let lines = 0;
        response.on('data', (chunk) => {
          bytes += chunk.length;
          for (let k = chunk.indexOf(10); k !== -1; k = chunk.indexOf(10, k + 1)) lines++;
        });
        response.on('end', () => resolve({ bytes, lines, seconds: Number(process.hrtime.bigint() - started) / 1e9 }));
        response.on('error', reject);
      })
      .on('error', reject);
  });
}

async function measure(path) {
  const { port, child } = await startServer();
  try {
    const [cpu0, main0] = [cpuSeconds(child.pid), mainThreadSeconds(child.pid)];
    const result = await stream(port, path);
    // CPU of the download alone (start-up excluded): the whole process and its main thread.
    const cpu = cpuSeconds(child.pid) - cpu0;
    const main = mainThreadSeconds(child.pid) - main0;
    return { ...result, rssMb: peakRss(child.pid), cpu, main };
  } finally {
    child.kill('SIGTERM');
    await new Promise((resolve) => child.once('exit', resolve));
  }
}

const world = `seed=${SEED}&scale=${SCALE}`;
const users = await measure(`/api/v1/users?seed=${SEED}&users=${USERS_ROWS}&limit=${USERS_ROWS}&format=csv`);
const usersPerSecond = (users.lines - 1) / users.seconds;
const page = await measure(`/api/v1/events?${world}&limit=10000&format=ndjson`);
const feed = await measure(`/api/v1/events?${world}&limit=10000000&format=ndjson`);
const eventsPerSecond = feed.lines / feed.seconds;
const ratio = feed.rssMb / page.rssMb;
const line = (label, value, target, ok) => console.log(`${label.padEnd(46)} ${value.padStart(14)}   ${target}${ok === undefined ? '' : ok ? '  ok' : '  MISS'}`);
console.log(`change feed, scale ${SCALE} (seed ${SEED}), NDJSON over HTTP`);
line('users CSV rows/s', Math.round(usersPerSecond).toLocaleString('en-US'), '');
line(`feed events (${feed.lines.toLocaleString('en-US')}) per second`, Math.round(eventsPerSecond).toLocaleString('en-US'), `target >= ${TARGET_EVENTS_PER_SECOND.toLocaleString('en-US')}`, eventsPerSecond >= TARGET_EVENTS_PER_SECOND);
line('feed events/s / users CSV rows/s', (eventsPerSecond / usersPerSecond).toFixed(3), '');
line('feed MB/s', (feed.bytes / 1e6 / feed.seconds).toFixed(1), '');
line('feed CPU s: process / main thread / others', `${feed.cpu.toFixed(1)} / ${feed.main.toFixed(1)} / ${(feed.cpu - feed.main).toFixed(1)}`, '');
line('peak RSS, whole feed / 10,000-event page (MB)', `${feed.rssMb.toFixed(0)} / ${page.rssMb.toFixed(0)}`, `ratio ${ratio.toFixed(2)}, target <= ${TARGET_RSS_RATIO}`, ratio <= TARGET_RSS_RATIO);
