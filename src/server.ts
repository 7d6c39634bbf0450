import { setFlagsFromString } from 'node:v8';
import closeWithGrace from 'close-with-grace';
import { buildApp, DEFAULT_LIMIT, DEFAULT_MAX_LIMIT } from './app.js';
import { DEFAULT_MAX_QUEUED_JOBS, DEFAULT_MAX_RUNNING_JOBS } from './sinks/jobs.js';
import { DEFAULT_MAX_STREAMS } from './streams/jobs.js';
import { ConfigError, intFromEnv as readInt, loadConfig, loadCorsOrigins, type SinkConfig } from './config.js';
import { costBudgetFromEnv } from './routes/cost.js';
import { defaultRenderThreads } from './render/pool.js';
import { warmUp } from './plugins/warm-up.js';

// V8's allocation-site pretenuring off, for every thread of the process (V8 flags are per
// process; set before any render worker starts). A fresh render worker that meets an early
// scavenge with all of a site's objects alive allocates that site's records straight into the
// old generation for good, so when that happened varied the peak RSS of a 1,000,000-order
// download 1.16-1.47x a 10,000-order one; off, 1.09-1.10x in every run, with less CPU
// (docs/performance.md, "Orders, fifth round").
setFlagsFromString('--no-allocation-site-pretenuring');

/** A setting read from the environment, or an exit with the message naming the variable. */
function orExit<T>(read: () => T): T {
  try {
    return read();
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    console.error(error.message);
    process.exit(1);
  }
}
const intFromEnv = (name: string, fallback: number, min: number, max: number): number => orExit(() => readInt(name, fallback, min, max));

const port = intFromEnv('PORT', 8000, 0, 65535);
const host = process.env.HOST || 'localhost';
const maxLimit = intFromEnv('MAX_LIMIT', DEFAULT_MAX_LIMIT, 1, 100_000_000);
const defaultLimit = intFromEnv('DEFAULT_LIMIT', DEFAULT_LIMIT, 1, maxLimit);
const renderThreads = intFromEnv('RENDER_THREADS', defaultRenderThreads(), 0, 64);
const maxRunningJobs = intFromEnv('MAX_RUNNING_JOBS', DEFAULT_MAX_RUNNING_JOBS, 1, 1000);
const maxQueuedJobs = intFromEnv('MAX_QUEUED_JOBS', DEFAULT_MAX_QUEUED_JOBS, 0, 100_000);
const maxStreams = intFromEnv('MAX_STREAMS', DEFAULT_MAX_STREAMS, 1, 10_000);
const graceMs = intFromEnv('SHUTDOWN_GRACE_MS', 10_000, 100, 600_000);
const pageCacheMb = intFromEnv('PAGE_CACHE_MB', 32, 0, 65536);
// On by default since the tenth round's quiet measurement (docs/performance.md): 0.27x -> 0.43x hello-world.
const pageAhead = intFromEnv('PAGE_AHEAD', 1, 0, 1) === 1;
const warmPrecompute = intFromEnv('PRECOMPUTE_WARM', 1, 0, 1) === 1;
const feedSplit = intFromEnv('FEED_SPLIT', 0, 0, 1) === 1;
const warm = intFromEnv('WARM_UP', 1, 0, 1) === 1;
const costBudget = orExit(() => costBudgetFromEnv());
const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];
// pino throws with a stack trace for a level it does not know: refused here with the variable's name.
const logLevel = orExit(() => {
  const level = process.env.LOG_LEVEL || 'info';
  if (!LOG_LEVELS.includes(level)) throw new ConfigError(`LOG_LEVEL=${level.slice(0, 100)} is invalid: expected one of ${LOG_LEVELS.join(', ')}`);
  return level;
});

let sinks: SinkConfig;
let corsOrigins: string[];
try {
  sinks = loadConfig(process.env);
  corsOrigins = loadCorsOrigins(process.env);
} catch (error) {
  if (!(error instanceof ConfigError)) throw error;
  console.error(`Invalid configuration: ${error.message}`);
  process.exit(1);
}

const app = await buildApp({
  sinks,
  maxLimit,
  defaultLimit,
  renderThreads,
  maxRunningJobs,
  maxQueuedJobs,
  maxStreams,
  corsOrigins,
  costBudget,
  pageCacheBytes: pageCacheMb * 1024 * 1024,
  pageAhead,
  warmPrecompute,
  feedSplit,
  logger: { level: logLevel },
});

// SIGTERM/SIGINT: stop accepting, cancel running jobs at once (the sinks' preClose hook), let
// responses in flight finish for half the grace period, then cut their connections so closing
// never outlasts the grace. close-with-grace exits 0 when closed in time, 1 past the grace.
closeWithGrace({ delay: graceMs }, async ({ err, signal }) => {
  if (err) app.log.error({ err }, 'closing after an error');
  else app.log.info({ signal, graceMs }, 'closing');
  const cut = setTimeout(() => {
    app.log.info('closing: ending the responses still streaming');
    app.cutConnections();
  }, graceMs / 2);
  cut.unref();
  await app.close();
  clearTimeout(cut);
  app.log.info('closed');
});

/** Why the address cannot be had, in words (the error alone was a stack trace). */
const LISTEN_FAILURES: Readonly<Record<string, string>> = {
  EADDRINUSE: 'the address is already in use (another server on that port?)',
  EACCES: 'permission denied (ports below 1024 need privileges)',
  EADDRNOTAVAIL: 'no such address on this machine',
  ENOTFOUND: 'the host name does not resolve',
};
// Before listening, so that no request waits for the code's first compilation.
if (warm) {
  const { requests, failed, ms } = await warmUp(app);
  if (failed.length > 0) app.log.warn({ failed }, 'warm-up: some requests were not answered with 200');
  else app.log.info({ requests, ms }, 'warmed up');
}
try {
  await app.listen({ port, host });
} catch (error) {
  const reason = LISTEN_FAILURES[(error as NodeJS.ErrnoException).code ?? ''];
  if (reason === undefined) throw error;
  console.error(`error: cannot listen on ${host}:${port} (PORT or --port, HOST or --host): ${reason}`);
  await app.close();
  process.exit(1);
}
await app.listenAlso(host);
app.log.info({ renderThreads }, renderThreads > 0 ? 'large responses render on worker threads' : 'render threads off');
