/**
 * Replay equals the tables, in a real PostgreSQL: the Postgres sink loads a world's tables;
 * the feed of the same world (GET /api/v1/events, NDJSON) is applied with SQL to empty copies
 * of those tables, in feed order (INSERT on insert, which fails on an existing key; UPDATE on
 * update, which must hit exactly one row); then both multiset differences (EXCEPT ALL) are
 * empty for every entity the feed covers. Two worlds, and a third with the payment, shipment and
 * price change knobs set.
 */
import type { FastifyInstance } from 'fastify';
import t from 'tap';
import { FEED_ENTITIES } from '../../src/events/catalogue.js';
import type { FeedEvent } from '../../src/events/types.js';
import { ENTITIES } from '../../src/generators/registry.js';
import { quoteIdentifier, tableName } from '../../src/schemas/columns.js';
import { testApp } from '../support/app.js';
import { postgresFor } from '../support/postgres.js';

const { server, client } = await postgresFor(t);

const WORLDS = [
  { seed: 11, users: 80, vendors: 5, warehouses: 3, products: 40, orders: 300, shops: 3, suppliers: 5, transactions: 10 },
  { seed: 90210, users: 150, vendors: 6, warehouses: 4, products: 60, orders: 500, shops: 3, suppliers: 6, transactions: 10, locale: 'en_GB' },
  // The reference generator's knobs: some orders never paid, some paid ones never shipped, more price changes.
  { seed: 4242, users: 80, vendors: 5, warehouses: 3, products: 40, orders: 300, shops: 3, suppliers: 5, transactions: 10, payment_ratio: 0.85, shipment_ratio: 0.75, price_change_rate: 2 },
];

async function feedOf(app: FastifyInstance, query: string): Promise<FeedEvent[]> {
  const response = await app.inject(`/api/v1/events?${query}&format=ndjson&limit=10000000`);
  if (response.statusCode !== 200) throw new Error(response.body);
  return response.body.trimEnd().split('\n').map((line) => JSON.parse(line) as FeedEvent);
}

for (const [n, world] of WORLDS.entries()) {
  t.test(`world ${n + 1} (seed ${world.seed}): replaying the feed gives exactly the tables`, async (t) => {
    const app = await testApp(t, { sinks: { postgres: { connectionString: server.connectionString } } });
    const query = Object.entries(world).map(([k, v]) => `${k}=${v}`).join('&');
    const schema = `truth${n}`;
    const replay = `replay${n}`;
    const loaded = await app.inject({
      method: 'POST',
      url: '/api/v1/sinks/postgres?wait=true',
      payload: { ...world, entities: [...FEED_ENTITIES, 'products'], schema },
    });
    t.equal(loaded.statusCode, 200, 'the Postgres sink loads the tables');
    t.equal((loaded.json() as { state: string }).state, 'succeeded', 'the load succeeds');

    const events = await feedOf(app, query);
    t.ok(events.length > 1000, `${events.length} events`);
    t.same(events.map((e) => e.sequence), events.map((_, k) => k), 'sequence is the position in the feed');
    t.equal(new Set(events.map((e) => e.event_id)).size, events.length, 'event ids are unique');

    await client.query(`CREATE SCHEMA ${replay}`);
    await client.query(`CREATE TABLE ${replay}.feed (seq bigint PRIMARY KEY, entity text NOT NULL, op text NOT NULL, key text NOT NULL, data jsonb NOT NULL)`);
    for (const entity of FEED_ENTITIES) {
      const table = quoteIdentifier(tableName(entity));
      await client.query(`CREATE TABLE ${replay}.${table} (LIKE ${schema}.${table} INCLUDING ALL)`);
    }
    // The feed into a staging table, in slices of 2,000 events.
    for (let k = 0; k < events.length; k += 2000) {
      const slice = events.slice(k, k + 2000).map((e) => ({ seq: e.sequence, entity: e.entity, op: e.op, key: e.key, data: e.data }));
      await client.query(
        `INSERT INTO ${replay}.feed SELECT * FROM jsonb_to_recordset($1::jsonb) AS f(seq bigint, entity text, op text, key text, data jsonb)`,
        [JSON.stringify(slice)],
      );
    }
    // Applied in feed order, one event at a time, by the database itself.
    const tables = FEED_ENTITIES.map((entity) => `WHEN '${entity}' THEN '${tableName(entity)}'`).join(' ');
    const keys = FEED_ENTITIES.map((entity) => `WHEN '${entity}' THEN '${ENTITIES[entity].primaryKey}'`).join(' ');
    await client.query(`
      DO $$
      DECLARE
        e record; tbl text; pk text; cols text; hit int;
      BEGIN
        FOR e IN SELECT * FROM ${replay}.feed ORDER BY seq LOOP
          tbl := CASE e.entity ${tables} END;
          pk := CASE e.entity ${keys} END;
          IF e.op = 'insert' THEN
            EXECUTE format('INSERT INTO ${replay}.%I SELECT * FROM jsonb_populate_record(NULL::${replay}.%I, $1)', tbl, tbl) USING e.data;
          ELSE
            SELECT string_agg(format('%I = r.%I', a.attname, a.attname), ', ') INTO cols
              FROM pg_attribute a WHERE a.attrelid = format('${replay}.%I', tbl)::regclass AND a.attnum > 0 AND NOT a.attisdropped;
            EXECUTE format('UPDATE ${replay}.%I t SET %s FROM jsonb_populate_record(NULL::${replay}.%I, $1) r WHERE t.%I = $2::uuid', tbl, cols, tbl, pk) USING e.data, e.key;
            GET DIAGNOSTICS hit = ROW_COUNT;
            IF hit <> 1 THEN RAISE EXCEPTION 'update % of %: % rows', e.seq, e.key, hit; END IF;
          END IF;
        END LOOP;
      END $$`);

    // The ledger balances: opening stock (inventory.opened) + every movement = on hand at the end.
    const ledger = await client.query<{ rows: string; off: string }>(
      `WITH opening AS (SELECT data->>'product_id' AS product_id, data->>'warehouse_id' AS warehouse_id, (data->>'quantity_on_hand')::int AS qty
                         FROM ${replay}.feed WHERE entity = 'inventory' AND op = 'insert'),
            moved AS (SELECT product_id::text, warehouse_id::text, sum(quantity) AS qty FROM ${schema}.inventory_movements GROUP BY 1, 2)
       SELECT count(*) AS rows,
              count(*) FILTER (WHERE o.qty + coalesce(m.qty, 0) <> i.quantity_on_hand) AS off
         FROM ${schema}.inventory i
         JOIN opening o ON o.product_id = i.product_id::text AND o.warehouse_id = i.warehouse_id::text
         LEFT JOIN moved m ON m.product_id = i.product_id::text AND m.warehouse_id = i.warehouse_id::text`,
    );
    t.ok(Number(ledger.rows[0]?.rows) > 0, `${ledger.rows[0]?.rows} inventory rows with an opening stock`);
    t.equal(Number(ledger.rows[0]?.off), 0, 'opening stock + movements = quantity_on_hand, every product x warehouse');
    // And stock never goes below zero along the feed.
    const dips = await client.query<{ dips: string }>(
      `WITH opening AS (SELECT data->>'product_id' AS p, data->>'warehouse_id' AS w, (data->>'quantity_on_hand')::int AS qty FROM ${replay}.feed WHERE entity = 'inventory' AND op = 'insert'),
            walk AS (SELECT f.data->>'product_id' AS p, f.data->>'warehouse_id' AS w,
                            sum((f.data->>'quantity')::int) OVER (PARTITION BY f.data->>'product_id', f.data->>'warehouse_id' ORDER BY f.seq) AS moved
                       FROM ${replay}.feed f WHERE f.entity = 'inventory-movements')
       SELECT count(*) AS dips FROM walk JOIN opening USING (p, w) WHERE opening.qty + walk.moved < 0`,
    );
    t.equal(Number(dips.rows[0]?.dips), 0, 'stock never below zero');

    // A product's price history ends at the price GET /products serves, and chains along the feed.
    const prices = await client.query<{ products: string; changed: string; off: string; broken: string }>(
      `WITH changes AS (SELECT data->>'product_id' AS product_id, (data->>'previous_price')::numeric AS previous_price,
                               (data->>'new_price')::numeric AS new_price, seq,
                               lag((data->>'new_price')::numeric) OVER (PARTITION BY data->>'product_id' ORDER BY seq) AS before,
                               row_number() OVER (PARTITION BY data->>'product_id' ORDER BY seq DESC) AS from_last
                          FROM ${replay}.feed WHERE entity = 'price-changes')
       SELECT (SELECT count(*) FROM ${schema}.products) AS products,
              (SELECT count(DISTINCT product_id) FROM changes) AS changed,
              (SELECT count(*) FROM changes c JOIN ${schema}.products p ON p.product_id::text = c.product_id
                WHERE c.from_last = 1 AND c.new_price <> p.price) AS off,
              (SELECT count(*) FROM changes WHERE before IS NOT NULL AND before <> previous_price) AS broken`,
    );
    const price = prices.rows[0];
    t.ok(Number(price?.changed) > 0, `${price?.changed} of ${price?.products} products change price`);
    t.equal(Number(price?.off), 0, "every product's last product.price_changed new_price = products.price");
    t.equal(Number(price?.broken), 0, "every product.price_changed starts from the product's previous new_price");

    for (const entity of FEED_ENTITIES) {
      const table = quoteIdentifier(tableName(entity));
      const { rows } = await client.query<{ missing: string; extra: string; total: string }>(
        `SELECT (SELECT count(*) FROM (SELECT * FROM ${schema}.${table} EXCEPT ALL SELECT * FROM ${replay}.${table}) m) AS missing,
                (SELECT count(*) FROM (SELECT * FROM ${replay}.${table} EXCEPT ALL SELECT * FROM ${schema}.${table}) x) AS extra,
                (SELECT count(*) FROM ${schema}.${table}) AS total`,
      );
      const row = rows[0];
      t.ok(Number(row?.total) > 0, `${entity}: ${row?.total} rows loaded`);
      t.same({ missing: Number(row?.missing), extra: Number(row?.extra) }, { missing: 0, extra: 0 }, `${entity}: replay EXCEPT ALL tables, both ways, 0 rows`);
    }
  });
}
