/**
 * A PostgreSQL load of orders and order-items writes the orders' lines to a temporary file so
 * each order is generated once (docs/sinks.md). Where the temporary directory cannot be written
 * (a container with `readOnlyRootFilesystem: true`, as deploy/kubernetes runs the image) the job
 * failed before its first row ("ENOENT … mkdtemp"); now it loads the lines the other way, the
 * tables the same.
 */
import t from 'tap';
import pg from 'pg';
import { testApp } from '../support/app.js';
import type { JobJson } from '../support/jobs.js';
import { startPostgres } from '../support/postgres.js';

t.test('orders and order-items load with an unwritable TMPDIR, equal to the GET rows', async (t) => {
  const server = await startPostgres();
  t.teardown(() => server.stop());
  const app = await testApp(t, { sinks: { postgres: { connectionString: server.connectionString } } });
  const body = { seed: 5, scale: 0.1, entities: ['orders', 'order-items'], schema: 'rofs' };

  // The temporary directory is read from TMPDIR when the spool opens (os.tmpdir()); a path below
  // a file can never be created, whoever runs the test.
  const saved = process.env.TMPDIR;
  process.env.TMPDIR = '/dev/null/tmp';
  let job: JobJson;
  try {
    const response = await app.inject({ method: 'POST', url: '/api/v1/sinks/postgres?wait=true', payload: body });
    t.equal(response.statusCode, 200, response.body);
    job = response.json() as JobJson;
  } finally {
    if (saved === undefined) delete process.env.TMPDIR;
    else process.env.TMPDIR = saved;
  }
  t.equal(job.state, 'succeeded', JSON.stringify(job.errors));
  t.same(job.entities.map((e) => [e.entity, e.records, e.failed]), [['orders', 500, 0], ['order-items', 1152, 0]]);

  const client = new pg.Client({ connectionString: server.connectionString });
  await client.connect();
  t.teardown(() => client.end());
  const rows = await client.query<{ order_item_id: string; order_id: string; total: string }>('SELECT order_item_id, order_id, total::text FROM rofs.order_items ORDER BY line_number, order_item_id');
  const served = (await app.inject('/api/v1/order-items?seed=5&scale=0.1&limit=10000&fields=order_item_id,order_id,total')).json() as { order_item_id: string; order_id: string; total: number }[];
  t.equal(rows.rows.length, served.length);
  const byId = new Map(served.map((r) => [r.order_item_id, r]));
  t.ok(rows.rows.every((r) => byId.get(r.order_item_id)?.order_id === r.order_id && Number(r.total) === byId.get(r.order_item_id)?.total), 'every loaded line is the served line');
});
