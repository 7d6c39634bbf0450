import { execFile } from 'node:child_process';
import { createServer } from 'node:net';
import path from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import t from 'tap';
import { WORLD_ENTITIES } from '../../src/generators/registry.js';
import { tableName } from '../../src/schemas/columns.js';
import { startPostgres } from '../support/postgres.js';

const BIN = path.resolve('bin/ecomgen.js');
const run = promisify(execFile);

async function ecomgen(args: string[], env: NodeJS.ProcessEnv): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, [BIN, ...args], { env: { ...process.env, ...env }, maxBuffer: 1 << 26 });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

/** A loopback port nothing listens on. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

// A scale-1 world (5,000 orders, every entity but performance-events, 180k rows): big enough
// that the workers' slices interleave and wait for each other, small enough for CI on 2 cores
// (a scale-5 world takes minutes here; the code path is the same).
const WORLD = ['--seed', '5', '--scale', '1'];
// Five processes load a world each way, on a shared 2-core machine: more than the default 240 s.
t.setTimeout(600_000);

t.test('4 worker processes load one PostgreSQL with foreign keys; the tables equal a single-process load', async (t) => {
  const server = await startPostgres();
  t.teardown(() => server.stop());
  const env = { DATABASE_URL: server.connectionString };

  const single = await ecomgen(['load', 'postgres', ...WORLD, '--schema', 'single', '--foreign-keys'], env);
  t.equal(single.code, 0, single.code === 0 ? 'single-process load' : single.stderr);
  t.match(single.stderr, /orders: 5000\/5000 records/, 'progress lines');

  const workers = await Promise.all([0, 1, 2, 3].map((k) => ecomgen(['load', 'postgres', ...WORLD, '--schema', 'multi', '--foreign-keys', '--partition', `${k}/4`], env)));
  workers.forEach((w, k) => t.equal(w.code, 0, w.code === 0 ? `worker ${k}` : `worker ${k}: ${w.stderr}`));
  t.match(workers[1]?.stderr, /orders: 1250\/1250 records/, 'each worker loads its quarter');

  const client = new pg.Client({ connectionString: server.connectionString });
  await client.connect();
  t.teardown(() => client.end());
  const fks = await client.query(`SELECT count(*)::int AS n FROM information_schema.table_constraints WHERE table_schema = 'multi' AND constraint_type = 'FOREIGN KEY'`);
  t.ok(fks.rows[0].n >= 30, `foreign keys on the partitioned load's tables (${fks.rows[0].n})`);
  for (const entity of WORLD_ENTITIES) {
    const table = tableName(entity);
    const { rows } = await client.query<{ rows: number; missing: number; extra: number }>(
      `SELECT (SELECT count(*)::int FROM single.${table}) AS rows,
              (SELECT count(*)::int FROM (SELECT * FROM single.${table} EXCEPT ALL SELECT * FROM multi.${table}) m) AS missing,
              (SELECT count(*)::int FROM (SELECT * FROM multi.${table} EXCEPT ALL SELECT * FROM single.${table}) e) AS extra`,
    );
    const row = rows[0] as { rows: number; missing: number; extra: number };
    t.ok(row.rows > 0, `${table} has rows`);
    t.same([row.missing, row.extra], [0, 0], `multi.${table} = single.${table} (${row.rows} rows)`);
  }
  const ledger = await client.query(`SELECT count(*)::int AS n FROM multi.ecomgen_partitions`);
  t.equal(ledger.rows[0].n, 4 * WORLD_ENTITIES.length, 'every worker recorded every entity');
});

t.test('a load into an unreachable database exits non-zero naming it', async (t) => {
  const port = await closedPort();
  const r = await ecomgen(['load', 'postgres', 'users', '--seed', '1'], { DATABASE_URL: `postgres://ecomgen:secret@127.0.0.1:${port}/shop` });
  t.equal(r.code, 1);
  t.match(r.stderr, /error: postgres load failed: cannot connect to PostgreSQL \(DATABASE_URL\): .*ECONNREFUSED/);
  t.notMatch(r.stderr, 'secret', 'the password is not printed');

  const unset = await ecomgen(['load', 'postgres', 'users'], { DATABASE_URL: '' });
  t.equal(unset.code, 1);
  t.match(unset.stderr, 'error: postgres sink is not configured: set DATABASE_URL in the environment');
  const bad = await ecomgen(['load', 'kafka'], { KAFKA_BROKERS: 'not a broker' });
  t.equal(bad.code, 1);
  t.match(bad.stderr, /error: invalid configuration: KAFKA_BROKERS: expected a comma-separated list of host:port/);
});
