// Loads one URL with wrk (the tool: a C client that takes little CPU, so the server's
// figures are not bounded by the client's; autocannon runs in Node and takes a core of its own)
// and reads its `--latency` report. When wrk is not installed (`apt-get install wrk`; the bench
// only, not a runtime dependency), the same load runs under autocannon and says so.

import { spawn, spawnSync } from 'node:child_process';
import autocannon from 'autocannon';

/** Whether the `wrk` command is on PATH (checked once). */
export const HAVE_WRK = spawnSync('wrk', ['--version'], { encoding: 'utf8' }).error === undefined;

/** The client these figures come from, for the printed headings. */
export const LOAD_CLIENT = HAVE_WRK ? 'wrk -t1' : 'autocannon (wrk is not installed: `apt-get install wrk`)';

const UNITS = { us: 0.001, ms: 1, s: 1000, m: 60_000 };

/** wrk's `12.34ms` / `950.00us` / `1.20s` in milliseconds. */
function millis(text) {
  const match = /^([0-9.]+)(us|ms|s|m)$/.exec(text);
  if (!match) throw new Error(`wrk: cannot read the duration '${text}'`);
  return Number(match[1]) * UNITS[match[2]];
}

/**
 * Reads wrk's `--latency` report: requests/s, the 99th-percentile latency (ms), requests made and
 * the errors it counts (connect/read/write/timeout and non-2xx/3xx answers).
 */
export function parseWrk(text) {
  const rps = /^Requests\/sec:\s+([0-9.]+)/m.exec(text);
  const p99 = /^\s+99%\s+(\S+)/m.exec(text);
  const requests = /^\s+([0-9]+) requests in /m.exec(text);
  if (!rps || !p99 || !requests) throw new Error(`wrk: unexpected report:\n${text}`);
  const socket = /Socket errors: connect ([0-9]+), read ([0-9]+), write ([0-9]+), timeout ([0-9]+)/.exec(text);
  const non2xx = /Non-2xx or 3xx responses: ([0-9]+)/.exec(text);
  const errors = (socket ? socket.slice(1).reduce((sum, n) => sum + Number(n), 0) : 0) + (non2xx ? Number(non2xx[1]) : 0);
  return { rps: Number(rps[1]), p99: millis(p99[1]), requests: Number(requests[1]), errors };
}

function runWrk(url, connections, seconds) {
  return new Promise((resolve, reject) => {
    const child = spawn('wrk', ['-t1', `-c${connections}`, `-d${seconds}s`, '--latency', url], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (chunk) => (out += chunk));
    child.stderr.on('data', (chunk) => (err += chunk));
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve(parseWrk(out)) : reject(new Error(`wrk exited ${code}: ${err || out}`))));
  });
}

/**
 * `connections` connections on one URL for `seconds`: requests/s, p99 (ms), requests made. Throws
 * when any request failed or was not answered 2xx/3xx.
 */
export async function load(url, { connections = 10, seconds = 5 } = {}) {
  if (HAVE_WRK) {
    const result = await runWrk(url, connections, seconds);
    if (result.errors > 0) throw new Error(`${url}: ${result.errors} failed or non-2xx/3xx requests under wrk`);
    return result;
  }
  const result = await autocannon({ url, connections, duration: seconds });
  if (result.errors > 0 || result.non2xx > 0) throw new Error(`${url}: ${result.errors} errors, ${result.non2xx} non-2xx answers`);
  return { rps: result.requests.average, p99: result.latency.p99, requests: result.requests.total };
}
