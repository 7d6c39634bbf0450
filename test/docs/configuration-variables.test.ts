/**
 * docs/configuration.md names every variable the server reads, each with a default that the code
 * uses, and .env.example lists them: the table is what a user reads to configure the service.
 */
import { readFile } from 'node:fs/promises';
import t from 'tap';
import { DEFAULT_LIMIT, DEFAULT_MAX_LIMIT } from '../../src/app.js';
import { DEFAULT_COST_BUDGET } from '../../src/routes/cost.js';
import { DEFAULT_MAX_QUEUED_JOBS, DEFAULT_MAX_RUNNING_JOBS } from '../../src/sinks/jobs.js';
import { DEFAULT_MAX_STREAMS } from '../../src/streams/jobs.js';

const doc = await readFile('docs/configuration.md', 'utf8');
const table = doc.slice(doc.indexOf('| variable |'), doc.indexOf('\n\n', doc.indexOf('| variable |')));
/** Each row's variables (first cell, every `NAME` in it) and its default cell. */
const rows = table.split('\n').slice(2).map((line) => {
  const cells = line.split(' | ');
  return { names: [...(cells[0] ?? '').matchAll(/`([A-Z][A-Z0-9_]+)`/g)].map((m) => m[1] as string), fallback: cells[1] ?? '' };
});
const documented = new Set(rows.flatMap((r) => r.names));
/** Every variable the table names, in any cell (KAFKA_SASL_USERNAME is in KAFKA_SASL_MECHANISM's row). */
const named = new Set([...table.matchAll(/`([A-Z][A-Z0-9_]+)`/g)].map((m) => m[1] as string));

t.test('every variable the server reads is in the table, and every one in the table is read', async (t) => {
  const sources = await Promise.all(['src/config.ts', 'src/server.ts', 'src/routes/cost.ts'].map((f) => readFile(f, 'utf8')));
  const read = new Set(sources.flatMap((s) => [...s.matchAll(/'([A-Z][A-Z0-9_]{2,})'/g)].map((m) => m[1] as string)).filter((n) => !/_(EXCEEDED|FAILED)$/.test(n)));
  for (const name of ['HOST', 'LOG_LEVEL']) read.add(name); // read as process.env.<name> in src/server.ts
  t.same([...read].filter((n) => !named.has(n)).sort(), [], 'read but not documented');
  t.same([...documented].filter((n) => !read.has(n)).sort(), [], 'documented but never read');
  const example = await readFile('.env.example', 'utf8');
  t.same([...documented].filter((n) => !new RegExp(`^#? ?${n}=`, 'm').test(example)).sort(), ['BATCH_BUCKET'], '.env.example lists them (BATCH_BUCKET is an alias of GCS_BUCKET)');
});

t.test('the defaults the table states are the code\'s', async (t) => {
  const fallback = (name: string) => rows.find((r) => r.names.includes(name))?.fallback.replaceAll('`', '');
  t.equal(fallback('MAX_LIMIT'), String(DEFAULT_MAX_LIMIT));
  t.equal(fallback('DEFAULT_LIMIT'), String(DEFAULT_LIMIT));
  t.equal(fallback('MAX_RUNNING_JOBS'), String(DEFAULT_MAX_RUNNING_JOBS));
  t.equal(fallback('MAX_QUEUED_JOBS'), String(DEFAULT_MAX_QUEUED_JOBS));
  t.equal(fallback('MAX_STREAMS'), String(DEFAULT_MAX_STREAMS));
  t.equal(fallback('COST_BUDGET_MS'), `${DEFAULT_COST_BUDGET.ms}, ${DEFAULT_COST_BUDGET.mb}`);
  const server = await readFile('src/server.ts', 'utf8');
  for (const name of ['SHUTDOWN_GRACE_MS', 'PAGE_CACHE_MB', 'PAGE_AHEAD', 'PRECOMPUTE_WARM', 'FEED_SPLIT', 'PORT']) {
    const given = new RegExp(`intFromEnv\\('${name}', ([0-9_]+),`).exec(server)?.[1]?.replaceAll('_', '');
    t.equal(fallback(name), given, name);
  }
  const config = await readFile('src/config.ts', 'utf8');
  for (const name of ['STREAM_MAX_COUNT', 'STREAM_TIMEOUT_MS', 'STREAM_RETRIES', 'STREAM_BACKOFF_MS']) {
    const given = new RegExp(`'${name}', ([0-9_]+),`).exec(config)?.[1]?.replaceAll('_', '');
    t.equal(fallback(name), given, name);
  }
});

t.test('.env.example, as `docker run --env-file .env`, keeps the image listening on every interface', async (t) => {
  // The Dockerfile sets HOST=0.0.0.0; an env file that sets HOST=localhost overrides it, and the
  // server in the container then answers nothing through `-p 8000:8000`.
  const example = await readFile('.env.example', 'utf8');
  const set = example.split('\n').filter((line) => /^[A-Z][A-Z0-9_]*=/.test(line)).map((line) => line.slice(0, line.indexOf('=')));
  t.notOk(set.includes('HOST'), `.env.example sets ${set.join(', ')}`);
  t.match(await readFile('Dockerfile', 'utf8'), /HOST=0\.0\.0\.0/);
});
