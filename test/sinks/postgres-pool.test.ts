/**
 * The PostgreSQL sink with render threads: the COPY rows rendered on the workers are the bytes
 * the main thread writes (users written field by field, orders as text, reviews served in time
 * order), a job loads tables equal to the GET output with its batches asked of the pool, and a
 * cancelled job stops asking and leaves no batch of its own in the pool.
 */
import type { FastifyInstance } from 'fastify';
import t from 'tap';
import { csvFormat } from '../../src/formats/csv.js';
import type { EntityName } from '../../src/generators/registry.js';
import { ENTITIES } from '../../src/generators/registry.js';
import { World } from '../../src/generators/world.js';
import { formatContext, recordsOf, renderBytes } from '../../src/render/batch.js';
import type { RenderPool } from '../../src/render/pool.js';
import { whenPrepared } from '../../src/routes/cost.js';
import { worldSpecFrom } from '../../src/routes/world-query.js';
import { columnsOf } from '../../src/schemas/columns.js';
import { PooledCsv, csvTasks } from '../../src/sinks/postgres.js';
import type { EntitySlice } from '../../src/sinks/types.js';
import { testApp } from '../support/app.js';
import type { EntityProgressJson, JobJson } from '../support/jobs.js';
import { assertTableEquals, postgresFor } from '../support/postgres.js';

const { server, client } = await postgresFor(t);
// One app with two render threads for the three tests: each test started its own pool before,
// and a worker's start (its modules, through tsx) costs ~1.5 s of CPU. Each test counts only
// what it asks of the pool from its own start (spyOn), so none depends on another's leftovers.
const app = await testApp(t, { renderThreads: 2, sinks: { postgres: { connectionString: server.connectionString } } });

const WORLD = { seed: 77, users: 300, orders: 900, products: 40, vendors: 5, warehouses: 3 };

async function sliceOf(entity: EntityName, start: number, end?: number): Promise<EntitySlice> {
  const world = World.of(worldSpecFrom(WORLD));
  await whenPrepared(world, entity);
  const stop = end ?? world.generator(entity).population;
  return { entity, world, start, end: stop, records: () => recordsOf(world, entity, start, stop, null) };
}

/** What the sink writes on the main thread: csvFormat.batch over the slice's records, no header. */
function mainThreadCsv(slice: EntitySlice): Buffer {
  const context = formatContext(slice.entity, columnsOf(ENTITIES[slice.entity].schema).map((c) => c.name));
  return Buffer.from(csvFormat.batch([...slice.records()], context, false));
}

t.test('batches rendered for COPY are the bytes of csvFormat.batch over the same records, in process and on the workers', async (t) => {
  const pool = app.renderPool as RenderPool;
  for (const [entity, start] of [['users', 0], ['users', 37], ['orders', 0], ['orders', 101], ['reviews', 0], ['reviews', 13]] as const) {
    const slice = await sliceOf(entity, start);
    t.ok(slice.end - slice.start > 200, `${entity}: ${slice.end - slice.start} records`);
    const expected = mainThreadCsv(slice);
    t.notMatch(expected.subarray(0, 200).toString(), new RegExp(`^${columnsOf(ENTITIES[entity].schema)[0]?.name}`), `${entity}: no header`);
    const inProcess = Buffer.concat([...csvTasks(slice, 100)].map((task) => renderBytes(task)));
    t.ok(inProcess.equals(expected), `${entity} from ${start}: renderBytes of the tasks equals csvFormat.batch (${expected.length} bytes)`);
    const chunks: Buffer[] = [];
    let rows = 0;
    for await (const [chunk, count] of new PooledCsv(pool, csvTasks(slice, 64), 2).chunks()) {
      chunks.push(chunk);
      rows += count;
    }
    t.ok(Buffer.concat(chunks).equals(expected), `${entity} from ${start}: the workers' batches, in order, equal it too`);
    t.equal(rows, slice.end - slice.start, `${entity}: row counts add up`);
  }
});

/** Counts the batches the app's pool is asked for and those not yet settled. */
function spyOn(app: FastifyInstance): { asked: number; pending: number } {
  const pool = app.renderPool as RenderPool;
  const run = pool.run.bind(pool);
  const seen = { asked: 0, pending: 0 };
  pool.run = (task) => {
    seen.asked++;
    seen.pending++;
    return run(task).finally(() => seen.pending--);
  };
  return seen;
}

t.test('with render threads, large entities load from the pool and equal the GET output; small ones stay on the main thread', async (t) => {
  const seen = spyOn(app);
  const body = { seed: 31, users: 9000, orders: 5000, products: 60, entities: ['users', 'products', 'orders'], schema: 'pooled' };
  const response = await app.inject({ method: 'POST', url: '/api/v1/sinks/postgres?wait=true', payload: body });
  const job = response.json() as JobJson;
  t.equal(job.state, 'succeeded', job.errors.join('; '));
  t.same(job.entities.map((e) => [e.entity, e.records]), [['users', 9000], ['products', 60], ['orders', 5000]]);
  t.equal(seen.asked, Math.ceil(9000 / 2048) + Math.ceil(5000 / 2048), 'users and orders asked of the pool in 2,048-row batches, products not');
  t.equal(seen.pending, 0);
  const query = 'seed=31&users=9000&orders=5000&products=60';
  for (const [entity, table] of [['users', 'pooled.users'], ['products', 'pooled.products'], ['orders', 'pooled.orders']] as const) {
    const served = (await app.inject(`/api/v1/${entity}?${query}&limit=10000`)).json() as object[];
    await assertTableEquals(client, t, table, served);
  }
  // Again into the loaded tables: through staging, nothing inserted twice.
  const again = (await app.inject({ method: 'POST', url: '/api/v1/sinks/postgres?wait=true', payload: body })).json() as JobJson<EntityProgressJson & { inserted?: number; skipped?: number }>;
  t.same(again.entities.map((e) => [e.entity, e.inserted, e.skipped]), [['users', 0, 9000], ['products', 0, 60], ['orders', 0, 5000]]);
});

t.test('cancelling a pooled load rolls it back, stops asking the pool and leaves no batch pending', async (t) => {
  const seen = spyOn(app);
  const started = await app.inject({ method: 'POST', url: '/api/v1/sinks/postgres', payload: { seed: 5, entity: 'users', users: 400_000, schema: 'pool_cancel' } });
  t.equal(started.statusCode, 202);
  const id = (started.json() as JobJson).id;
  let staged = 0;
  for (let i = 0; i < 4000 && staged === 0; i++) {
    await new Promise((resolve) => setTimeout(resolve, 5));
    staged = ((await app.inject(`/api/v1/jobs/${id}`)).json() as JobJson<EntityProgressJson & { staged?: number }>).entities[0]?.staged ?? 0;
  }
  t.ok(staged > 0, `${staged} rows staged before the cancel`);
  const ended = (await app.inject({ method: 'DELETE', url: `/api/v1/jobs/${id}` })).json() as JobJson;
  t.same([ended.state, ended.records], ['cancelled', 0]);
  t.equal(seen.pending, 0, 'every batch the job asked for has settled when it ends');
  const asked = seen.asked;
  t.ok(asked < Math.ceil(400_000 / 2048), `the pool was asked for ${asked} of ${Math.ceil(400_000 / 2048)} batches`);
  await new Promise((resolve) => setImmediate(resolve));
  t.equal(seen.asked, asked, 'and is asked for nothing after the job ended');
  const rows = await client.query('SELECT count(*)::int AS n FROM pool_cancel.users');
  t.equal(rows.rows[0].n, 0, 'nothing of the cancelled entity was committed');
});
