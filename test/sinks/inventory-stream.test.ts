/**
 * Inventory canonical modes against a real PostgreSQL and the Kafka test peer: stock moved by
 * inventory events balances in warehouse_inventory, every event is published, and sending the
 * same events again never moves stock twice.
 */
import t from 'tap';
import { World, resolveSizes } from '../../src/generators/world.js';
import { DEFAULT_END_DATE, DEFAULT_START_DATE, parseDate } from '../../src/generators/time.js';
import type { FeedEvent } from '../../src/streams/feed-contract.js';
import type { FeedProvider } from '../../src/streams/source.js';
import { testApp } from '../support/app.js';
import { KafkaTestBroker } from '../support/kafka-broker.js';
import { postgresFor } from '../support/postgres.js';

const { server, client } = await postgresFor(t);

const world = World.of({
  seed: 21,
  sizes: resolveSizes(0.02, {}),
  locale: 'en_GB',
  window: { start: parseDate(DEFAULT_START_DATE, false) as number, end: parseDate(DEFAULT_END_DATE, true) as number },
});
const movements = world.generator('inventory-movements');
const COUNT = Math.min(400, movements.population);

/** Stock movements of a real world as inventory events, with an order event between every few. */
function events(): FeedEvent[] {
  const out: FeedEvent[] = [];
  for (let i = 0; i < COUNT; i++) {
    const row = movements.record(i) as unknown as Record<string, unknown>;
    out.push({ event_id: `mv_${i}`, event_type: 'inventory.changed', event_time: String(row.occurred_at), entity: 'inventory-movements', key: String(row.movement_id), op: 'insert', sequence: out.length, data: row });
    if (i % 4 === 0) out.push({ event_id: `o_${i}`, event_type: 'order.placed', event_time: String(row.occurred_at), entity: 'orders', key: `o${i}`, op: 'insert', sequence: out.length, data: { order_id: `o${i}` } });
  }
  return out;
}

const provider: FeedProvider = {
  eventTypes: () => ['inventory.changed', 'order.placed'],
  open: () => ({ replay: (from) => events().slice(from), liveMinute: () => [] }),
};

/** What warehouse_inventory must hold: the movements summed per warehouse and product. */
function balances(): Map<string, number> {
  const sums = new Map<string, number>();
  for (let i = 0; i < COUNT; i++) {
    const row = movements.record(i) as unknown as Record<string, unknown>;
    const key = `${String(row.warehouse_id)}/${String(row.product_id)}`;
    sums.set(key, (sums.get(key) ?? 0) + Number(row.quantity));
  }
  return sums;
}

async function stock(schema: string): Promise<Map<string, number>> {
  const rows = await client.query<{ k: string; q: string }>(`SELECT warehouse_id::text || '/' || product_id::text AS k, quantity_on_hand AS q FROM ${schema}.warehouse_inventory`);
  return new Map(rows.rows.map((r) => [r.k, Number(r.q)]));
}

for (const [mode, body] of [
  ['postgres', { inventory_canonical: 'postgres' }],
  ['kafka with mirror_to_db', { inventory_canonical: 'kafka', mirror_to_db: true }],
] as const) {
  t.test(`inventory canonical in ${mode}: stock balances, events published, re-delivery moves nothing twice`, async (t) => {
    const broker = await KafkaTestBroker.start();
    t.teardown(() => broker.close());
    const schema = mode === 'postgres' ? 'canon_pg' : 'canon_kafka';
    const app = await testApp(t, { sinks: { kafka: { brokers: [broker.address], clientId: 'inv', ssl: false }, postgres: { connectionString: server.connectionString } }, feed: provider });
    const run = async () => {
      const started = await app.inject({ method: 'POST', url: '/api/v1/streams', payload: { sink: 'kafka', mode: 'replay', schema, batch_size: 50, ...body } });
      t.equal(started.statusCode, 202, started.body);
      return (await app.inject(`/api/v1/streams/${(started.json() as { id: string }).id}?wait=true`)).json() as { state: string; delivered: number; details: { inventory: { applied: number; already_applied: number } } };
    };
    const first = await run();
    const total = events().length;
    t.equal(first.state, 'succeeded');
    t.equal(first.delivered, total);
    t.equal(broker.records('inventory-changes.v1').length, COUNT, 'every inventory event published');
    t.equal(broker.records('orders.v1').length, total - COUNT, 'other events published as usual');
    t.same(first.details.inventory, { canonical: body.inventory_canonical, applied: COUNT, already_applied: 0 });
    const expected = balances();
    t.same(await stock(schema), expected, `warehouse_inventory balances: ${expected.size} warehouse/product rows equal the sums of the movements`);

    const second = await run();
    t.same(second.details.inventory, { canonical: body.inventory_canonical, applied: 0, already_applied: COUNT }, 'the same events again: recognised, not applied');
    t.same(await stock(schema), expected, 'stock unchanged');
  });
}
