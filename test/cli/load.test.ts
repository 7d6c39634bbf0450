import { execFile } from 'node:child_process';
import { createServer } from 'node:net';
import path from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import t from 'tap';
import { WORLD_ENTITIES } from '../../src/generators/registry.js';
import { tableName } from '../../src/schemas/columns.js';
import { inProcess } from '../support/cli.js';
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

// A scale-0.2 world (1,000 orders, every entity but performance-events, 54k rows; the smallest
// entity, customer segments, has 6 rows, so every worker's slice of every entity holds rows).
// What is tested does not depend on the size: the four processes start together and each waits,
// entity by entity, until all four have committed the tables it references, so the slices
// interleave at any size; and the tables must equal the single load row for row. A scale-1
// world (285k rows) tested the same at five times the CPU on a shared 2-core machine.
const WORLD = ['--seed', '5', '--scale', '0.2'];
// Five loads of a world, on a shared 2-core machine: more than the default 240 s when busy.
t.setTimeout(600_000);

t.test('4 worker processes load one PostgreSQL with foreign keys; the tables equal a single-process load', async (t) => {
  const server = await startPostgres();
  t.teardown(() => server.stop());
  const env = { DATABASE_URL: server.connectionString };

  // The single-process load runs in this process (the command's own code, no tsx start-up),
  // meanwhile the four workers are real processes, as in an Indexed Job; into separate schemas.
  const [single, workers] = await Promise.all([
    inProcess(['load', 'postgres', ...WORLD, '--schema', 'single', '--foreign-keys'], env),
    Promise.all([0, 1, 2, 3].map((k) => ecomgen(['load', 'postgres', ...WORLD, '--schema', 'multi', '--foreign-keys', '--partition', `${k}/4`], env))),
  ]);
  t.equal(single.code, 0, single.code === 0 ? 'single-process load' : single.err);
  t.match(single.err, /orders: 1000\/1000 records/, 'progress lines');
  workers.forEach((w, k) => t.equal(w.code, 0, w.code === 0 ? `worker ${k}` : `worker ${k}: ${w.stderr}`));
  t.match(workers[1]?.stderr, /orders: 250\/250 records/, 'each worker loads its quarter');

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

  // Configuration errors in this process: the same exit code from main, without a tsx start-up each.
  const unset = await inProcess(['load', 'postgres', 'users'], { DATABASE_URL: '' });
  t.equal(unset.code, 1);
  t.match(unset.err, 'error: postgres sink is not configured: set DATABASE_URL in the environment');
  const bad = await inProcess(['load', 'kafka'], { KAFKA_BROKERS: 'not a broker' });
  t.equal(bad.code, 1);
  t.match(bad.err, /error: invalid configuration: KAFKA_BROKERS: expected a comma-separated list of host:port/);
});
