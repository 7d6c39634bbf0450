import closeWithGrace from 'close-with-grace';
import { buildApp, DEFAULT_LIMIT, DEFAULT_MAX_LIMIT } from './app.js';
import { DEFAULT_MAX_RUNNING_JOBS } from './sinks/jobs.js';
import { ConfigError, loadConfig, loadCorsOrigins, type SinkConfig } from './config.js';

/** Reads an integer environment variable, or exits with a message naming it. */
function intFromEnv(name: string, fallback: number, min: number, max: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min || value > max) {
    console.error(`${name}=${raw} is invalid: expected an integer from ${min} to ${max}`);
    process.exit(1);
  }
  return value;
}

const port = intFromEnv('PORT', 8000, 0, 65535);
const host = process.env.HOST || 'localhost';
const maxLimit = intFromEnv('MAX_LIMIT', DEFAULT_MAX_LIMIT, 1, 100_000_000);
const defaultLimit = intFromEnv('DEFAULT_LIMIT', DEFAULT_LIMIT, 1, maxLimit);
const renderThreads = intFromEnv('RENDER_THREADS', 0, 0, 64);
const maxRunningJobs = intFromEnv('MAX_RUNNING_JOBS', DEFAULT_MAX_RUNNING_JOBS, 1, 1000);

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
  corsOrigins,
  logger: { level: process.env.LOG_LEVEL || 'info' },
});

closeWithGrace({ delay: 10_000 }, async ({ err, signal }) => {
  if (err) app.log.error({ err }, 'closing after an error');
  else app.log.info({ signal }, 'closing');
  await app.close();
});

await app.listen({ port, host });
