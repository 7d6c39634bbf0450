// PostgreSQL sink benchmark: the same users rows loaded three ways into one embedded
// PostgreSQL, each into a fresh table of the same shape:
//   1. raw pg-copy-streams: a CSV file written beforehand (not timed) is piped into COPY FROM STDIN;
//   2. `psql \copy` of the same file, when psql is on the machine;
//   3. the sink: POST /api/v1/sinks/postgres?wait=true into an empty table (generation, CSV,
//      COPY straight into the locked table, commit);
//   4. the sink again, same world (information): the table has rows, so it goes through the
//      staging table and INSERT ... ON CONFLICT DO NOTHING, and skips every row.
// The sink generates the rows as it loads them; the target is at least 0.7x of the raw load's rows/s.
//
// Run on its own: `npm run build && node --import tsx bench/postgres.js [rows]`.

import { execFileSync } from 'node:child_process';
import { createReadStream, createWriteStream, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import { buildApp } from '../dist/app.js';
import { createTablesSql } from '../dist/schemas/columns.js';
import { startPostgres } from '../test/support/postgres.ts';

const SEED = 42;
export const PG_TARGET_RATIO = 0.7;

const log = (message) => console.error(`[bench:postgres] ${message}`);

function psqlPath() {
  try {
    return execFileSync('sh', ['-c', 'command -v psql'], { encoding: 'utf8' }).trim() || undefined;
  } catch {
    return undefined;
  }
}

/** Writes the CSV of `GET /users` for the world to a file, as a client would download it. */
async function writeCsv(app, rows, file) {
  const response = await app.inject({ method: 'GET', url: `/api/v1/users?seed=${SEED}&users=${rows}&limit=${rows}&format=csv`, payloadAsStream: true });
  if (response.statusCode !== 200) throw new Error(`GET users: HTTP ${response.statusCode}`);
  await pipeline(response.stream(), createWriteStream(file));
}

async function freshTable(client, schema) {
  await client.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
  await client.query(`CREATE SCHEMA ${schema}`);
  for (const sql of createTablesSql(['users'], { schema })) await client.query(sql);
  await client.query('CHECKPOINT');
}

async function count(client, table) {
  return (await client.query(`SELECT count(*)::int AS n FROM ${table}`)).rows[0].n;
}

export async function benchPostgres({ rows = 1_000_000 } = {}) {
  const server = await startPostgres();
  const dir = mkdtempSync(join(tmpdir(), 'ecomgen-bench-pg-'));
  const client = new pg.Client({ connectionString: server.connectionString });
  const app = await buildApp({ maxLimit: Math.max(1_000_000, rows), sinks: { postgres: { connectionString: server.connectionString } } });
  const results = [];
  try {
    await client.connect();
    const file = join(dir, 'users.csv');
    await writeCsv(app, rows, file);

    await freshTable(client, 'raw_copy');
    let t0 = performance.now();
    await pipeline(createReadStream(file, { highWaterMark: 1 << 20 }), client.query(copyFrom('COPY raw_copy.users FROM STDIN WITH (FORMAT csv, HEADER true)')));
    const rawSeconds = (performance.now() - t0) / 1000;
    if ((await count(client, 'raw_copy.users')) !== rows) throw new Error('raw COPY loaded the wrong number of rows');
    results.push({ scenario: 'users into PostgreSQL, raw pg-copy-streams COPY of a CSV file (baseline)', rows, seconds: rawSeconds, rowsPerSecond: rows / rawSeconds });
    log(`raw COPY: ${Math.round(rows / rawSeconds).toLocaleString('en-US')} rows/s`);

    const psql = psqlPath();
    if (psql) {
      await freshTable(client, 'psql_copy');
      t0 = performance.now();
      execFileSync(psql, [server.connectionString, '-v', 'ON_ERROR_STOP=1', '-q', '-c', `\\copy psql_copy.users FROM '${file}' WITH (FORMAT csv, HEADER true)`], { stdio: ['ignore', 'ignore', 'inherit'] });
      const seconds = (performance.now() - t0) / 1000;
      if ((await count(client, 'psql_copy.users')) !== rows) throw new Error('psql \\copy loaded the wrong number of rows');
      results.push({ scenario: 'users into PostgreSQL, psql \\copy of the same file', rows, seconds, rowsPerSecond: rows / seconds });
      log(`psql \\copy: ${Math.round(rows / seconds).toLocaleString('en-US')} rows/s`);
    } else {
      log('psql is not on this machine: the psql \\copy comparison is skipped');
    }

    await client.query('DROP SCHEMA IF EXISTS sink CASCADE');
    await client.query('CHECKPOINT');
    t0 = performance.now();
    const response = await app.inject({ method: 'POST', url: '/api/v1/sinks/postgres?wait=true', payload: { seed: SEED, entity: 'users', users: rows, schema: 'sink' } });
    const sinkSeconds = (performance.now() - t0) / 1000;
    const job = response.json();
    if (job.state !== 'succeeded' || job.records !== rows) throw new Error(`sink job ${job.state}: ${job.errors?.join('; ')}`);
    results.push({ scenario: 'users into PostgreSQL through the sink (generate + COPY, empty table)', rows, bytes: job.bytes, seconds: sinkSeconds, rowsPerSecond: rows / sinkSeconds, mbPerSecond: job.bytes / 1e6 / sinkSeconds });
    log(`sink: ${Math.round(rows / sinkSeconds).toLocaleString('en-US')} rows/s`);
    t0 = performance.now();
    const rerun = (await app.inject({ method: 'POST', url: '/api/v1/sinks/postgres?wait=true', payload: { seed: SEED, entity: 'users', users: rows, schema: 'sink' } })).json();
    const rerunSeconds = (performance.now() - t0) / 1000;
    if (rerun.state !== 'succeeded' || rerun.entities[0].skipped !== rows) throw new Error(`re-run: ${rerun.state}, skipped ${rerun.entities[0].skipped}`);
    results.push({ scenario: 're-run of the same world (staging + INSERT ON CONFLICT DO NOTHING, all skipped)', rows, seconds: rerunSeconds, rowsPerSecond: rows / rerunSeconds });
    log(`sink re-run: ${Math.round(rows / rerunSeconds).toLocaleString('en-US')} rows/s`);
    const diff = await client.query('SELECT count(*)::int AS n FROM (SELECT * FROM sink.users EXCEPT SELECT * FROM raw_copy.users) d');
    if (diff.rows[0].n !== 0) throw new Error(`the sink's table differs from the raw load in ${diff.rows[0].n} rows`);

    const ratio = rows / sinkSeconds / (rows / rawSeconds);
    return { scenarios: results, ratio: { name: 'PostgreSQL sink rows/s ÷ raw pg-copy-streams COPY rows/s', value: ratio, target: PG_TARGET_RATIO, comparison: '≥', pass: ratio >= PG_TARGET_RATIO } };
  } finally {
    await app.close();
    await client.end().catch(() => undefined);
    await server.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const rows = Number(process.argv[2] ?? 1_000_000);
  const { scenarios, ratio } = await benchPostgres({ rows });
  for (const s of scenarios) console.log(`${s.scenario}: ${Math.round(s.rowsPerSecond).toLocaleString('en-US')} rows/s (${s.seconds.toFixed(2)} s)`);
  console.log(`${ratio.name}: ${ratio.value.toFixed(2)}x (target ≥ ${ratio.target}x: ${ratio.pass ? 'PASS' : 'MISS'})`);
}
