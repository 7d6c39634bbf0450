/**
 * Whole-world integrity in a real PostgreSQL: every entity of a small world is fetched as CSV,
 * loaded with COPY into tables carrying the primary and foreign keys of the registry (so
 * Postgres itself checks referential integrity), and the business rules of the product
 * contract (design.md section 2) are asserted in SQL.
 *
 * Each rule is one assertion: the number of rows violating it must be 0 (a few of them are
 * shown on failure), and the rows it applies to must exist, so a rule cannot pass vacuously.
 */
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { FastifyInstance } from 'fastify';
import pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import t from 'tap';
import { buildApp } from '../src/app.js';
import { ENTITIES, ENTITY_NAMES, type EntityName } from '../src/generators/registry.js';
import { columnsOf, createTablesSql, tableName } from '../src/schemas/columns.js';
import { startPostgres, type PostgresServer } from './support/postgres.js';
import { RULE_GROUPS, type Rule, type WindowSql } from './support/rules/index.js';

/** A subtest, as tap hands it to a `t.test` callback. */
type Test = Parameters<Parameters<typeof t.test>[0]>[0];

type Sizes = Readonly<Record<'users' | 'vendors' | 'warehouses' | 'products' | 'orders', number>>;

interface WorldCase {
  readonly name: string;
  /** Each world is loaded into its own schema. */
  readonly schema: string;
  readonly seed: number;
  readonly sizes: Sizes;
  readonly locale: 'en_US' | 'en_GB';
  /** The date window as the API understands it; both days inclusive. */
  readonly window: { readonly start: string; readonly end: string };
}

const SIZES: Sizes = { users: 300, vendors: 12, warehouses: 4, products: 120, orders: 900 };
/** The default window: no start_date/end_date are sent, and the data must fall in 2025. */
const DEFAULT_WINDOW = { start: '2025-01-01', end: '2025-12-31' } as const;

const WORLDS: readonly WorldCase[] = [
  { name: 'seed 7, en_US', schema: 'w_seed7_en_us', seed: 7, sizes: SIZES, locale: 'en_US', window: DEFAULT_WINDOW },
  { name: 'seed 90210, en_GB', schema: 'w_seed90210_en_gb', seed: 90210, sizes: SIZES, locale: 'en_GB', window: DEFAULT_WINDOW },
];

/** Entity parameters for the load: a day of light telemetry instead of a default week (17.5M events). */
const ENTITY_QUERY: Partial<Record<EntityName, Record<string, string>>> = {
  'performance-events': { days: '1', base_tps: '0.5' },
};

/** The query string of a world: seed, population overrides, and locale/window only when not the default. */
function worldQuery(world: WorldCase): Record<string, string> {
  const query: Record<string, string> = { seed: String(world.seed) };
  for (const [name, size] of Object.entries(world.sizes)) query[name] = String(size);
  if (world.locale !== 'en_US') query.locale = world.locale;
  if (world.window.start !== DEFAULT_WINDOW.start) query.start_date = world.window.start;
  if (world.window.end !== DEFAULT_WINDOW.end) query.end_date = world.window.end;
  return query;
}

/** The window as a half-open SQL range: [start 00:00Z, the day after end 00:00Z). */
function windowSql(window: WorldCase['window']): WindowSql {
  const start = `'${window.start}T00:00:00Z'::timestamptz`;
  const end = `('${window.end}T00:00:00Z'::timestamptz + interval '1 day')`;
  return { start, end, inWindow: (column: string) => `(${column} >= ${start} AND ${column} < ${end})` };
}

const UK_POSTCODE = '^[A-Z]{1,2}[0-9]{1,2} [0-9][A-Z]{2}$';

let server: PostgresServer | undefined;
let app: FastifyInstance | undefined;

t.before(async () => {
  server = await startPostgres();
  app = await buildApp();
});

t.teardown(async () => {
  await app?.close();
  await server?.stop();
});

function requireServer(): { server: PostgresServer; app: FastifyInstance } {
  if (!server || !app) throw new Error('Postgres or the app did not start');
  return { server, app };
}

/** GET /api/v1/<entity> as CSV: the whole population (limit = X-Total-Count). */
async function fetchCsv(app: FastifyInstance, entity: EntityName, base: Record<string, string>): Promise<{ total: number; csv: string }> {
  const probe = await app.inject({ method: 'GET', url: `/api/v1/${entity}`, query: { ...base, format: 'csv', limit: '1' } });
  if (probe.statusCode !== 200) throw new Error(`${entity}: HTTP ${probe.statusCode} ${probe.body}`);
  const total = Number(probe.headers['x-total-count']);
  if (!Number.isInteger(total) || total < 0) throw new Error(`${entity}: bad X-Total-Count ${String(probe.headers['x-total-count'])}`);
  if (total === 0) return { total, csv: probe.body }; // just the header
  const res = await app.inject({ method: 'GET', url: `/api/v1/${entity}`, query: { ...base, format: 'csv', limit: String(total) } });
  if (res.statusCode !== 200) throw new Error(`${entity}: HTTP ${res.statusCode} ${res.body}`);
  return { total, csv: res.body };
}

const quote = (identifier: string) => `"${identifier.replace(/"/g, '""')}"`;

/** Creates the world's schema and tables (with foreign keys) and COPYs every entity's CSV into it. */
async function loadWorld(t: Test, client: pg.Client, world: WorldCase): Promise<Map<EntityName, number>> {
  const { app } = requireServer();
  await client.query(`DROP SCHEMA IF EXISTS ${quote(world.schema)} CASCADE`);
  await client.query(`CREATE SCHEMA ${quote(world.schema)}`);
  for (const ddl of createTablesSql(ENTITY_NAMES, { schema: world.schema, foreignKeys: true })) await client.query(ddl);
  await client.query(`SET search_path TO ${quote(world.schema)}`);

  const totals = new Map<EntityName, number>();
  for (const entity of ENTITY_NAMES) {
    const { total, csv } = await fetchCsv(app, entity, { ...worldQuery(world), ...ENTITY_QUERY[entity] });
    totals.set(entity, total);
    const columns = columnsOf(ENTITIES[entity].schema).map((c) => quote(c.name));
    // HEADER MATCH: Postgres also checks the CSV header names the columns in this order.
    const copy = client.query(
      copyFrom(`COPY ${quote(world.schema)}.${quote(tableName(entity))} (${columns.join(', ')}) FROM STDIN WITH (FORMAT csv, HEADER MATCH)`),
    );
    try {
      await pipeline(Readable.from([csv]), copy);
    } catch (error) {
      t.fail(`COPY ${entity} (primary/foreign keys, NOT NULL, types): ${error instanceof Error ? error.message : String(error)}`);
      throw error;
    }
  }
  // An index on every foreign-key column (PostgreSQL indexes only the keys referenced): the rules
  // look rows up by them in correlated subqueries (clickstream by session, for example), which
  // without an index scan the whole table once per row (two rules took 22 s each per world).
  for (const entity of ENTITY_NAMES) {
    for (const column of Object.keys(ENTITIES[entity].foreignKeys)) {
      await client.query(`CREATE INDEX ON ${quote(world.schema)}.${quote(tableName(entity))} (${quote(column)})`);
    }
  }
  await client.query('ANALYZE');
  return totals;
}

async function scalar<T>(client: pg.Client, sql: string): Promise<T> {
  const result = await client.query<{ value: T }>(sql);
  return result.rows[0]?.value as T;
}

/** Asserts one rule: applies to at least one row (unless mayBeEmpty), and no row violates it. */
async function check(t: Test, client: pg.Client, rule: Rule): Promise<void> {
  const rows = `FROM ${rule.from} WHERE (${rule.where ?? 'true'})`;
  const counts = await client.query<{ total: number; bad: number }>(
    `SELECT count(*)::int AS total, count(*) FILTER (WHERE (${rule.holds}) IS NOT TRUE)::int AS bad ${rows}`,
  );
  const { total, bad } = counts.rows[0] ?? { total: 0, bad: -1 };
  if (!rule.mayBeEmpty) t.ok(total > 0, `${rule.name}: applies to some rows (found ${total})`);
  let examples: unknown[] = [];
  if (bad > 0) {
    const sample = await client.query(`SELECT ${rule.show ?? '*'} ${rows} AND (${rule.holds}) IS NOT TRUE LIMIT 5`);
    examples = sample.rows;
  }
  const message = `${rule.name}: ${bad} of ${total} rows violate it`;
  const sql = `SELECT ${rule.show ?? '*'} ${rows} AND (${rule.holds}) IS NOT TRUE`.replace(/\s+/g, ' ');
  t.equal(bad, 0, message, { examples, sql });
}

async function checkAll(t: Test, client: pg.Client, rules: readonly Rule[]): Promise<void> {
  for (const rule of rules) await check(t, client, rule);
}

// ---------------------------------------------------------------------------------------------
// Rules

const MONEY: readonly Rule[] = [
  {
    name: 'order line total = quantity x unit_price',
    from: 'order_items',
    holds: 'total = quantity * unit_price',
    show: 'order_item_id, quantity, unit_price, total',
  },
  {
    name: 'order subtotal = sum of its line totals',
    from: `(SELECT o.order_id, o.subtotal, sum(i.total) AS lines FROM orders o JOIN order_items i USING (order_id)
            GROUP BY o.order_id, o.subtotal) x`,
    holds: 'subtotal = lines',
  },
  {
    name: 'order total = subtotal - discount + tax + shipping_cost',
    from: 'orders',
    holds: 'total = subtotal - discount + tax + shipping_cost',
    show: 'order_id, subtotal, discount, tax, shipping_cost, total',
  },
  {
    name: 'order discount <= subtotal and no amount is negative',
    from: 'orders',
    holds: 'discount <= subtotal AND least(subtotal, discount, tax, shipping_cost, total) >= 0',
    show: 'order_id, subtotal, discount, tax, shipping_cost, total',
  },
  {
    name: 'orders.item_count = number of lines (and line numbers are 1..n)',
    from: `(SELECT o.order_id, o.item_count, count(i.*) AS lines, coalesce(max(i.line_number), 0) AS last_line,
                   count(DISTINCT i.line_number) AS distinct_lines
            FROM orders o LEFT JOIN order_items i USING (order_id) GROUP BY o.order_id, o.item_count) x`,
    holds: 'item_count = lines AND last_line = lines AND distinct_lines = lines',
  },
  {
    name: 'the lines nested in orders.items are the flat order-items rows',
    from: `(SELECT o.order_id, jsonb_array_length(o.items) AS nested, count(i.*) AS flat,
                   count(*) FILTER (WHERE e.line IS NULL OR e.line->>'order_item_id' <> i.order_item_id::text
                     OR e.line->>'product_id' <> i.product_id::text OR (e.line->>'quantity')::int <> i.quantity
                     OR (e.line->>'unit_price')::numeric <> i.unit_price OR (e.line->>'total')::numeric <> i.total) AS different
            FROM orders o JOIN order_items i USING (order_id)
            LEFT JOIN LATERAL (SELECT x AS line FROM jsonb_array_elements(o.items) WITH ORDINALITY a(x, n) WHERE n = i.line_number) e ON true
            GROUP BY o.order_id, o.items) x`,
    holds: 'nested = flat AND different = 0',
  },
  {
    name: "a line's unit_price is its product's price when the order was placed (its price history)",
    from: 'order_items i JOIN orders o USING (order_id) JOIN products p ON p.product_id = i.product_id',
    holds: `i.unit_price = coalesce(
              (SELECT c.new_price FROM price_changes c WHERE c.product_id = i.product_id AND c.changed_at <= o.created_at ORDER BY c.changed_at DESC LIMIT 1),
              (SELECT c.previous_price FROM price_changes c WHERE c.product_id = i.product_id ORDER BY c.changed_at LIMIT 1),
              p.price)`,
    show: 'i.order_item_id, i.product_id, o.created_at, i.unit_price, p.price',
  },
  {
    name: 'exactly one payment per order',
    from: `(SELECT o.order_id, count(p.*) AS payments FROM orders o LEFT JOIN payments p USING (order_id) GROUP BY o.order_id) x`,
    holds: 'payments = 1',
  },
  {
    name: 'payment amount = order total (same currency, same customer)',
    from: 'payments p JOIN orders o USING (order_id)',
    holds: 'p.amount = o.total AND p.currency = o.currency AND p.user_id = o.user_id',
    show: 'p.payment_id, p.order_id, p.amount, o.total, p.currency, o.currency, p.user_id, o.user_id AS order_user',
  },
  {
    name: 'return quantity <= line quantity, and a return is of its own order',
    from: 'returns r JOIN order_items i USING (order_item_id)',
    holds: 'r.quantity <= i.quantity AND r.order_id = i.order_id AND r.product_id = i.product_id',
    show: 'r.return_id, r.quantity, i.quantity AS line_quantity, i.unit_price, r.refund_amount, r.status',
  },
  {
    // What was paid for the returned units: the line's exact pro-rata share of the goods paid
    // (subtotal - discount + tax), times returned / bought units. No rounding allowance.
    name: 'refund <= what was paid for the returned units after the order discount (tax included, shipping not), and <= the payment',
    from: `returns r JOIN order_items i USING (order_item_id) JOIN orders o ON o.order_id = r.order_id
           JOIN payments p ON p.order_id = r.order_id`,
    holds: `r.refund_amount <= i.total * r.quantity * (o.subtotal - o.discount + o.tax) / (o.subtotal * i.quantity)
            AND r.refund_amount <= p.amount`,
    show: `r.return_id, r.quantity, i.quantity AS line_quantity, i.total AS line_total, o.subtotal, o.discount, o.tax,
           p.amount AS paid, r.refund_amount`,
  },
  {
    name: 'a refunded change-of-mind return keeps a restocking fee; other accepted returns refund the units in full (to the cent)',
    from: 'returns r JOIN order_items i USING (order_item_id) JOIN orders o ON o.order_id = r.order_id',
    where: `r.status IN ('approved', 'refunded') AND o.subtotal > 0`,
    holds: `r.refund_amount = round(floor(i.total * 100 * r.quantity * (o.subtotal - o.discount + o.tax) / (o.subtotal * i.quantity))
              * CASE WHEN r.reason = 'changed_mind' THEN 0.9 ELSE 1 END) / 100`,
    show: 'r.return_id, r.reason, r.quantity, i.quantity AS line_quantity, i.total AS line_total, o.subtotal, o.discount, o.tax, r.refund_amount',
  },
  {
    name: 'return currency = order currency',
    from: 'returns r JOIN orders o USING (order_id)',
    holds: 'r.currency = o.currency',
  },
  {
    name: 'product cost < price',
    from: 'products',
    holds: 'cost < price AND cost > 0',
    show: 'product_id, sku, cost, price',
  },
  {
    name: 'product stock_quantity = sum of inventory.quantity_on_hand',
    from: `(SELECT p.product_id, p.stock_quantity, coalesce(sum(v.quantity_on_hand), 0) AS on_hand
            FROM products p LEFT JOIN inventory v USING (product_id) GROUP BY p.product_id, p.stock_quantity) x`,
    holds: 'stock_quantity = on_hand',
  },
  {
    name: 'inventory quantity_reserved <= quantity_on_hand',
    from: 'inventory',
    holds: 'quantity_reserved <= quantity_on_hand',
    show: 'inventory_id, quantity_on_hand, quantity_reserved',
  },
  {
    name: 'one inventory row per (product, warehouse)',
    from: `(SELECT product_id, warehouse_id, count(*) AS n FROM inventory GROUP BY product_id, warehouse_id) x`,
    holds: 'n = 1',
  },
];

function timeRules(window: WorldCase['window']): Rule[] {
  const { start, inWindow } = windowSql(window);
  return [
  {
    name: "a user signs up before each of their orders (users.created_at < orders.created_at)",
    from: 'orders o JOIN users u USING (user_id)',
    holds: 'u.created_at < o.created_at',
    show: 'o.order_id, u.user_id, u.created_at AS signed_up, o.created_at AS ordered',
  },
  {
    name: 'order before its payment (orders.created_at <= payments.processed_at)',
    from: 'payments p JOIN orders o USING (order_id)',
    where: 'p.processed_at IS NOT NULL',
    holds: 'o.created_at <= p.processed_at AND p.created_at = o.created_at',
    show: 'p.payment_id, o.created_at AS ordered, p.created_at, p.processed_at',
  },
  {
    name: 'payment before shipment (processed_at < shipped_at)',
    from: 'shipping s JOIN payments p USING (order_id)',
    holds: 'p.processed_at < s.shipped_at',
    show: 's.shipment_id, p.processed_at, s.shipped_at, p.status',
  },
  {
    name: 'shipment before delivery (shipped_at < actual_delivery_at)',
    from: 'shipping',
    where: 'actual_delivery_at IS NOT NULL',
    holds: 'shipped_at < actual_delivery_at',
    show: 'shipment_id, shipped_at, actual_delivery_at',
  },
  {
    name: 'shipment promises delivery after shipping (shipped_at < estimated_delivery_at)',
    from: 'shipping',
    holds: 'shipped_at < estimated_delivery_at',
    show: 'shipment_id, shipped_at, estimated_delivery_at',
  },
  {
    name: 'delivery before a return (actual_delivery_at < returns.requested_at)',
    from: 'returns r JOIN shipping s USING (order_id)',
    holds: 's.actual_delivery_at < r.requested_at',
    show: 'r.return_id, s.actual_delivery_at, r.requested_at',
  },
  {
    name: 'return requested before resolved (requested_at < resolved_at)',
    from: 'returns',
    where: 'resolved_at IS NOT NULL',
    holds: 'requested_at < resolved_at',
    show: 'return_id, requested_at, resolved_at, status',
  },
  {
    name: 'users.updated_at >= created_at',
    from: 'users',
    holds: 'updated_at >= created_at',
    show: 'user_id, created_at, updated_at',
  },
  {
    name: 'orders.updated_at >= created_at and >= every later lifecycle event',
    from: `orders o LEFT JOIN payments p USING (order_id) LEFT JOIN shipping s USING (order_id)`,
    holds: `o.updated_at >= o.created_at
            AND o.updated_at >= coalesce(p.processed_at, o.created_at)
            AND o.updated_at >= coalesce(s.shipped_at, o.created_at)
            AND o.updated_at >= coalesce(s.actual_delivery_at, o.created_at)`,
    show: 'o.order_id, o.status, o.created_at, o.updated_at, p.processed_at, s.shipped_at, s.actual_delivery_at',
  },
  {
    name: 'order numbers increase with time: no order is placed before the order numbered before it',
    from: `(SELECT order_id, order_number, created_at, lag(created_at) OVER (ORDER BY order_number) AS previous FROM orders) o`,
    holds: 'o.previous IS NULL OR o.previous <= o.created_at',
    show: 'o.order_id, o.order_number, o.created_at, o.previous',
  },
  {
    name: "an order's customer had signed up at least a minute before",
    from: 'orders o JOIN users u USING (user_id)',
    holds: "u.created_at <= o.created_at - interval '1 minute'",
    show: 'o.order_id, o.created_at, u.created_at',
  },
  {
    name: 'order timestamps fall inside the date window',
    from: 'orders',
    holds: `${inWindow('created_at')} AND ${inWindow('updated_at')}`,
    show: 'order_id, created_at, updated_at',
  },
  {
    name: 'payment timestamps fall inside the date window',
    from: 'payments',
    holds: `${inWindow('created_at')} AND (processed_at IS NULL OR ${inWindow('processed_at')})`,
    show: 'payment_id, created_at, processed_at',
  },
  {
    name: 'shipment event timestamps (shipped, delivered) fall inside the date window',
    from: 'shipping',
    holds: `${inWindow('shipped_at')} AND (actual_delivery_at IS NULL OR ${inWindow('actual_delivery_at')})`,
    show: 'shipment_id, shipped_at, actual_delivery_at',
  },
  {
    // A promise made at shipping time: it may lie after the window for late-shipped parcels.
    name: 'shipment estimated_delivery_at is at least a day after shipping',
    from: 'shipping',
    holds: "estimated_delivery_at >= shipped_at + interval '1 day'",
    show: 'shipment_id, status, shipped_at, estimated_delivery_at',
  },
  {
    name: 'return timestamps fall inside the date window',
    from: 'returns',
    holds: `${inWindow('requested_at')} AND (resolved_at IS NULL OR ${inWindow('resolved_at')})`,
    show: 'return_id, requested_at, resolved_at',
  },
  {
    name: 'user timestamps fall inside the date window',
    from: 'users',
    holds: `${inWindow('created_at')} AND ${inWindow('updated_at')}`,
    show: 'user_id, created_at, updated_at',
  },
  {
    name: 'inventory timestamps fall inside the date window (restocked <= updated)',
    from: 'inventory',
    holds: `${inWindow('last_restocked_at')} AND ${inWindow('updated_at')} AND last_restocked_at <= updated_at`,
    show: 'inventory_id, last_restocked_at, updated_at',
  },
  {
    name: 'catalogue rows (vendors, warehouses, products) were created before the window',
    from: `(SELECT 'vendor' AS kind, vendor_id AS id, created_at FROM vendors
            UNION ALL SELECT 'warehouse', warehouse_id, created_at FROM warehouses
            UNION ALL SELECT 'product', product_id, created_at FROM products) x`,
    holds: `created_at < ${start}`,
  },
  ];
}

const STATUS: readonly Rule[] = [
  {
    name: 'no shipment for cancelled, pending or processing orders',
    from: 'orders o LEFT JOIN shipping s USING (order_id)',
    where: `o.status IN ('cancelled', 'pending', 'processing')`,
    holds: 's.shipment_id IS NULL',
    show: 'o.order_id, o.status, s.shipment_id',
  },
  {
    name: 'every shipped or delivered order has exactly one shipment',
    from: `(SELECT o.order_id, o.status, count(s.*) AS shipments FROM orders o LEFT JOIN shipping s USING (order_id)
            WHERE o.status IN ('shipped', 'delivered') GROUP BY o.order_id, o.status) x`,
    holds: 'shipments = 1',
  },
  {
    name: "shipment status 'delivered' iff order status 'delivered' (iff actual_delivery_at is set)",
    from: 'shipping s JOIN orders o USING (order_id)',
    holds: `(s.status = 'delivered') = (o.status = 'delivered') AND (s.status = 'delivered') = (s.actual_delivery_at IS NOT NULL)`,
    show: 's.shipment_id, s.status, o.status AS order_status, s.actual_delivery_at',
  },
  {
    name: 'shipment method = order shipping method',
    from: 'shipping s JOIN orders o USING (order_id)',
    holds: 's.shipping_method = o.shipping_method',
  },
  {
    name: 'returns only for delivered orders',
    from: 'returns r JOIN orders o USING (order_id)',
    holds: `o.status = 'delivered'`,
    show: 'r.return_id, o.order_id, o.status',
  },
  {
    name: "return.user_id = the order's customer, return.product_id = the returned line's product, the line belongs to the order",
    from: 'returns r JOIN orders o USING (order_id) JOIN order_items i ON i.order_item_id = r.order_item_id',
    holds: 'r.user_id = o.user_id AND r.product_id = i.product_id AND i.order_id = r.order_id',
    show: 'r.return_id, r.user_id, o.user_id AS order_user, r.product_id, i.product_id AS line_product, i.order_id AS line_order, r.order_id',
  },
  {
    name: "return refund is 0 unless approved or refunded; resolved_at is null iff status 'requested'",
    from: 'returns',
    holds: `(status IN ('approved', 'refunded') OR refund_amount = 0) AND ((status = 'requested') = (resolved_at IS NULL))`,
    show: 'return_id, status, refund_amount, resolved_at',
  },
  {
    name: "payment status 'pending' iff processed_at is null",
    from: 'payments',
    holds: `(status = 'pending') = (processed_at IS NULL)`,
    show: 'payment_id, status, processed_at',
  },
  {
    name: "pending orders have pending payments (the payment schema: 'pending while the order is pending')",
    from: 'payments p JOIN orders o USING (order_id)',
    where: `o.status = 'pending'`,
    holds: `p.status = 'pending'`,
    mayBeEmpty: true, // orders still pending at the window end are rare in a small world
    show: 'p.payment_id, o.order_id, o.status AS order_status, p.status, o.created_at, p.processed_at',
  },
  {
    name: "cancelled orders' payments are failed or refunded",
    from: 'payments p JOIN orders o USING (order_id)',
    where: `o.status = 'cancelled'`,
    holds: `p.status IN ('failed', 'refunded')`,
    show: 'p.payment_id, o.status AS order_status, p.status',
  },
  {
    name: 'shipped, delivered and processing orders were paid (payment completed)',
    from: 'payments p JOIN orders o USING (order_id)',
    where: `o.status IN ('processing', 'shipped', 'delivered')`,
    holds: `p.status = 'completed'`,
    show: 'p.payment_id, o.status AS order_status, p.status',
  },
];

const UNIQUE: readonly Rule[] = [
  ['users', 'email'],
  ['users', 'username'],
  ['products', 'sku'],
  ['shipping', 'tracking_number'],
  ['payments', 'transaction_reference'],
  ['categories', 'slug'],
  ['orders', 'order_number'],
].map(([table, column]) => ({
  name: `${table}.${column} is unique`,
  from: `(SELECT ${column} AS value, count(*) AS n FROM ${table} GROUP BY ${column}) x`,
  holds: 'n = 1',
}));

/** Every amount of a world is in its locale's currency. */
function currencyRule(locale: string, currency: string): Rule {
  return {
    name: `${locale}: every order, payment, product and return is in ${currency}`,
    from: `(SELECT currency FROM orders UNION ALL SELECT currency FROM payments
            UNION ALL SELECT currency FROM products UNION ALL SELECT currency FROM returns) x`,
    holds: `currency = '${currency}'`,
  };
}

/** Rules only the en_GB world obeys. */
const EN_GB: readonly Rule[] = [
  currencyRule('en_GB', 'GBP'),
  {
    name: 'en_GB: tax is 20% VAT of (subtotal - discount), to the penny',
    from: 'orders',
    holds: 'abs(tax - round(0.20 * (subtotal - discount), 2)) <= 0.01',
    show: 'order_id, subtotal, discount, tax',
  },
  {
    name: 'en_GB: UK postcodes (users, order addresses, vendors, warehouses)',
    from: `(SELECT 'user' AS kind, postal_code FROM users UNION ALL SELECT 'order', shipping_postal_code FROM orders
            UNION ALL SELECT 'vendor', postal_code FROM vendors UNION ALL SELECT 'warehouse', postal_code FROM warehouses) x`,
    holds: `postal_code ~ '${UK_POSTCODE}'`,
  },
  {
    name: 'en_GB: every address is in GB',
    from: `(SELECT country FROM users UNION ALL SELECT shipping_country FROM orders
            UNION ALL SELECT country FROM vendors UNION ALL SELECT country FROM warehouses) x`,
    holds: `country = 'GB'`,
  },
  {
    name: 'en_GB: phone numbers are 11 digits with the leading 0, mobile (071-075, 077-079) or geographic (01, 02), never freephone or unallocated',
    from: `(SELECT user_id::text AS id, phone_number FROM users UNION ALL SELECT vendor_id::text, phone_number FROM vendors) x`,
    holds: `replace(phone_number, ' ', '') ~ '^0(7[1-57-9]|1|2[0389])[0-9]+$' AND length(replace(phone_number, ' ', '')) = 11`,
    show: 'id, phone_number',
  },
];

const EN_US: readonly Rule[] = [
  currencyRule('en_US', 'USD'),
  {
    // Rounding to the cent moves the rate of a $100+ taxable amount by at most 0.005%.
    name: 'en_US: sales tax is per state: one rate for every order shipped to a state',
    from: `(SELECT shipping_state, min(tax / (subtotal - discount)) AS low, max(tax / (subtotal - discount)) AS high, count(*) AS n
            FROM orders WHERE subtotal - discount >= 100 GROUP BY shipping_state) x`,
    holds: 'high - low <= 0.0001',
    show: 'shipping_state, low, high, n',
  },
  {
    name: 'en_US: sales tax between 0% and 10.35% of (subtotal - discount)',
    from: 'orders',
    holds: 'tax >= 0 AND tax <= round(0.1035 * (subtotal - discount), 2) + 0.01',
    show: 'order_id, subtotal, discount, tax',
  },
  {
    name: 'en_US: 5-digit ZIP codes',
    from: `(SELECT postal_code FROM users UNION ALL SELECT shipping_postal_code FROM orders) x`,
    holds: `postal_code ~ '^[0-9]{5}$'`,
  },
];

/** Order addresses are copied from the customer's profile. */
const ADDRESS: Rule = {
  name: "order shipping address = the customer's address",
  from: 'orders o JOIN users u USING (user_id)',
  holds: `(o.shipping_address, o.shipping_city, o.shipping_state, o.shipping_postal_code, o.shipping_country)
          = (u.address, u.city, u.state, u.postal_code, u.country)`,
  show: 'o.order_id, o.shipping_address, u.address, o.shipping_postal_code, u.postal_code',
};

// ---------------------------------------------------------------------------------------------

for (const world of WORLDS) {
  t.test(world.name, async (t) => {
    const { server } = requireServer();
    const client = new pg.Client({ connectionString: server.connectionString });
    await client.connect();
    t.teardown(() => client.end());

    const totals = await loadWorld(t, client, world);

    t.test('row counts equal X-Total-Count', async (t) => {
      for (const entity of ENTITY_NAMES) {
        const rows = await scalar<number>(client, `SELECT count(*)::int AS value FROM ${quote(tableName(entity))}`);
        const expected = totals.get(entity) ?? -1;
        t.ok(rows > 0, `${entity}: loaded some rows`);
        t.equal(rows, expected, `${entity}: ${rows} rows in Postgres, X-Total-Count ${expected}`);
      }
      for (const [entity, size] of Object.entries(world.sizes)) {
        t.equal(totals.get(entity as EntityName), size, `${entity}: population is the requested ${entity}=${size}`);
      }
      t.equal(totals.get('inventory'), world.sizes.products * world.sizes.warehouses, 'inventory: products x warehouses rows');
      t.equal(totals.get('payments'), world.sizes.orders, 'payments: one per order');
    });

    t.test('money', (t) => checkAll(t, client, MONEY));
    t.test('time', (t) => checkAll(t, client, timeRules(world.window)));
    t.test('status', (t) => checkAll(t, client, STATUS));
    t.test('uniqueness', (t) => checkAll(t, client, UNIQUE));
    t.test('locale', (t) => checkAll(t, client, [...(world.locale === 'en_GB' ? EN_GB : EN_US), ADDRESS]));
    for (const group of RULE_GROUPS) {
      t.test(group.name, (t) => checkAll(t, client, group.rules(windowSql(world.window), world.locale)));
    }

    t.test('distributions', async (t) => {
      const singleLine = await scalar<number>(
        client,
        `SELECT avg((lines = 1)::int)::float8 AS value FROM (SELECT count(*) AS lines FROM order_items GROUP BY order_id) x`,
      );
      t.ok(singleLine >= 0.3 && singleLine <= 0.6, `share of single-line orders is between 30% and 60% (got ${(singleLine * 100).toFixed(1)}%)`);

      const topShare = await scalar<number>(
        client,
        `WITH units AS (
           SELECT p.product_id, coalesce(sum(i.quantity), 0) AS units
           FROM products p LEFT JOIN order_items i USING (product_id) GROUP BY p.product_id),
         ranked AS (
           SELECT units, row_number() OVER (ORDER BY units DESC) AS rank, count(*) OVER () AS n FROM units)
         SELECT (sum(units) FILTER (WHERE rank <= ceil(n * 0.2)))::float8 / sum(units)::float8 AS value FROM ranked`,
      );
      t.ok(topShare > 0.4, `the top 20% of products sell more than 40% of units (long tail; got ${(topShare * 100).toFixed(1)}%)`);

      const statuses = await client.query<{ status: string; n: number }>(
        `SELECT status, count(*)::int AS n FROM orders GROUP BY status ORDER BY status`,
      );
      const byStatus = Object.fromEntries(statuses.rows.map((r) => [r.status, r.n]));
      const delivered = byStatus.delivered ?? 0;
      t.ok(delivered / world.sizes.orders > 0.7, `most orders of a past year are delivered (got ${JSON.stringify(byStatus)})`);
      const cancelled = (byStatus.cancelled ?? 0) / world.sizes.orders;
      t.ok(cancelled > 0.02 && cancelled < 0.12, `a few orders are cancelled (got ${(cancelled * 100).toFixed(1)}%)`);
    });
  });
}
