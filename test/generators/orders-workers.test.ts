import { parse as parseCsv } from 'csv-parse/sync';
import t from 'tap';
import { precomputed } from '../../src/generators/child-index.js';
import { PRICE_TABLE_KEY } from '../../src/generators/products.js';
import { ENTITIES } from '../../src/generators/registry.js';
import { World, type WorldSpec } from '../../src/generators/world.js';
import { renderBatch, type BatchTask } from '../../src/render/batch.js';
import { RenderPool } from '../../src/render/pool.js';
import { worldSpecFrom } from '../../src/routes/world-query.js';

// Render workers share the main thread's products price table (src/generators/products.ts):
// they fill it together, and orders priced from it are the main thread's.

const BATCH = 2048;
const columns = Object.keys(ENTITIES.orders.schema.properties);
const specOf = (seed: number): WorldSpec => ({ ...worldSpecFrom({ seed, scale: 2, orders: 12_288 }), locale: 'en_US', params: {} });
const tasksOf = (spec: WorldSpec): BatchTask[] =>
  Array.from({ length: 6 }, (_, b) => ({ spec, entity: 'orders' as const, format: 'csv' as const, columns, projected: false, start: b * BATCH, end: (b + 1) * BATCH, first: b === 0 }));
const text = (bytes: string | Uint8Array) => (typeof bytes === 'string' ? bytes : Buffer.from(bytes).toString('utf8'));

t.test("workers fill the main thread's price table, and every filled price is the histories'", async (t) => {
  const pool = new RenderPool(2);
  t.teardown(() => pool.close());
  const spec = specOf(31);
  const world = World.of(spec);
  const orders = world.generator('orders');
  t.equal(orders.population, 12_288);
  const counts = precomputed(world).get(`${PRICE_TABLE_KEY}counts`);
  t.ok(counts?.buffer instanceof SharedArrayBuffer, 'the table is registered in shared memory before any price is asked for');
  t.equal(counts?.filter((c) => c !== 0).length, 0, 'and is empty');

  // Started before any batch (as a warming server does): the table reaches them with their first one.
  pool.warm();
  t.equal((Reflect.get(pool, 'all') as unknown[]).length, 2, 'both workers started by warm()');
  const rendered = await Promise.all(tasksOf(spec).map((task) => pool.run(task)));
  const filled = [...(counts ?? [])].flatMap((c, p) => (c !== 0 ? [p] : []));
  t.ok(filled.length > 100, `the workers filled this thread's table (${filled.length} products)`);

  // Each filled slot answers as the histories do, before, between and after its changes.
  const products = world.generator('products');
  const { start, end } = world.window;
  let checked = 0;
  const wrong: string[] = [];
  for (const p of filled) {
    const history = products.histories.build(p);
    for (const moment of [start, end - 1, ...history.times, ...history.times.map((time) => time - 1)]) {
      const [table, histories] = [products.priceAt(p, moment), products.histories.priceAt(p, moment)];
      if (table !== histories) wrong.push(`product ${p} at ${moment}: ${table} against ${histories}`);
      checked++;
    }
  }
  t.ok(checked > filled.length * 2, `${checked} prices checked`);
  t.strictSame(wrong, [], 'every price of the shared table is the histories\'');

  // The workers' orders are this thread's, record by record (the CSV parsed back).
  const body = rendered.map(text).join('');
  t.ok(body === tasksOf(spec).map((task) => text(renderBatch(task))).join(''), 'identical bytes to the main thread');
  const rows = parseCsv(body, { columns: columns as string[] }) as Record<string, string>[];
  t.equal(rows.length, 12_288, 'every order');
  for (const i of [0, 1, 2047, 2048, 6000, 12_287]) {
    const record = orders.record(i);
    const row = rows[i] as Record<string, string>;
    t.equal(row.order_id, record.order_id, `order ${i}: id`);
    t.equal(Number(row.total), record.total, `order ${i}: total`);
    const items = JSON.parse(row.items as string) as { unit_price: number; product_id: string }[];
    t.strictSame(items.map((line) => line.unit_price), record.items.map((line) => line.unit_price), `order ${i}: line prices`);
  }
});

t.test('orders priced by workers from a table this thread filled first are the same', async (t) => {
  const pool = new RenderPool(2);
  t.teardown(() => pool.close());
  const spec = specOf(32);
  // This thread renders first (filling the table), then the workers read what it filled.
  const expected = tasksOf(spec).map((task) => text(renderBatch(task)));
  const counts = precomputed(World.of(spec)).get(`${PRICE_TABLE_KEY}counts`);
  const before = counts?.filter((c) => c !== 0).length ?? 0;
  t.ok(before > 100, `filled here first (${before} products)`);
  const rendered = (await Promise.all(tasksOf(spec).map((task) => pool.run(task)))).map(text);
  t.strictSame(rendered.map((batch) => batch.length), expected.map((batch) => batch.length));
  t.ok(rendered.every((batch, b) => batch === expected[b]), 'identical bytes, batch by batch');
  t.equal(counts?.filter((c) => c !== 0).length, before, 'the workers found every price they needed already filled');
});
