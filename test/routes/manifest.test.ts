import { createHash } from 'node:crypto';
import t from 'tap';
import { testApp } from '../support/app.js';

const WORLD = 'seed=31&users=200&products=60&orders=400&vendors=8&warehouses=3&shops=5&suppliers=6&transactions=300';

t.test('the manifest checksums are the SHA-256 of the CSV endpoints, and its sums add up', async (t) => {
  const app = await testApp(t);
  const res = await app.inject(`/api/v1/manifest?${WORLD}&entities=users,orders,order-items,payments,returns`);
  t.equal(res.statusCode, 200);
  const manifest = res.json() as {
    seed: number;
    totals: Record<string, number>;
    entities: { entity: string; population: number; csv_bytes: number; csv_sha256: string }[];
  };
  t.equal(manifest.seed, 31);
  t.equal((manifest as unknown as { data_version: number }).data_version, 6, 'the data version is in the manifest');
  t.equal(res.headers['x-data-version'], '6', 'and in the X-Data-Version header');
  t.same(manifest.entities.map((e) => e.entity), ['users', 'orders', 'order-items', 'payments', 'returns']);
  for (const entry of manifest.entities) {
    const csv = await app.inject(`/api/v1/${entry.entity}?${WORLD}&format=csv&limit=${entry.population}`);
    t.equal(Number(csv.headers['x-total-count']), entry.population, `${entry.entity}: population`);
    t.equal(csv.rawPayload.length, entry.csv_bytes, `${entry.entity}: bytes`);
    t.equal(createHash('sha256').update(csv.rawPayload).digest('hex'), entry.csv_sha256, `${entry.entity}: sha256`);
  }

  const orders = (await app.inject(`/api/v1/orders?${WORLD}&limit=400`)).json() as {
    status: string;
    total: number;
    discount: number;
    tax: number;
    items: { quantity: number }[];
  }[];
  const cents = (xs: number[]) => xs.reduce((a, x) => a + Math.round(x * 100), 0) / 100;
  const live = orders.filter((o) => o.status !== 'cancelled');
  t.equal(manifest.totals.order_revenue, cents(live.map((o) => o.total)), 'revenue');
  t.equal(manifest.totals.order_revenue_all, cents(orders.map((o) => o.total)), 'revenue incl. cancelled');
  t.equal(manifest.totals.units_sold, live.flatMap((o) => o.items).reduce((a, l) => a + l.quantity, 0), 'units');
  t.equal(manifest.totals.discounts, cents(orders.map((o) => o.discount)), 'discounts');
  t.equal(manifest.totals.tax, cents(orders.map((o) => o.tax)), 'tax');
  const returns = (await app.inject(`/api/v1/returns?${WORLD}&limit=1000`)).json() as { refund_amount: number }[];
  t.equal(manifest.totals.refunds, cents(returns.map((r) => r.refund_amount)), 'refunds');
  const payments = (await app.inject(`/api/v1/payments?${WORLD}&limit=1000`)).json() as { status: string; amount: number }[];
  t.equal(manifest.totals.payments_completed, cents(payments.filter((p) => p.status === 'completed').map((p) => p.amount)), 'payments');

  const again = await app.inject(`/api/v1/manifest?${WORLD}&entities=users,orders,order-items,payments,returns`);
  t.equal(again.body, res.body, 'stable (and cached)');
});

t.test('manifest input is validated', async (t) => {
  const app = await testApp(t);
  const bad = await app.inject('/api/v1/manifest?entities=users,unicorns');
  t.equal(bad.statusCode, 400);
  t.equal(bad.json().code, 'UNKNOWN_ENTITY');
  t.match(bad.json().message, 'unicorns');
  const unknown = await app.inject('/api/v1/manifest?limit=5');
  t.equal(unknown.statusCode, 400);
  t.equal(unknown.json().code, 'UNKNOWN_PARAMETER');
  const all = await app.inject('/api/v1/manifest?seed=1&users=50&orders=80&products=20');
  t.equal(all.statusCode, 200);
  t.notOk((all.json().entities as { entity: string }[]).some((e) => e.entity === 'performance-events'), 'performance-events only on request');
});

t.test('every entity: the manifest checksum is the SHA-256 of its default CSV download (no locale named)', async (t) => {
  const app = await testApp(t);
  const res = await app.inject(`/api/v1/manifest?${WORLD}`);
  t.equal(res.statusCode, 200);
  const entries = (res.json() as { entities: { entity: string; locale: string; population: number; csv_sha256: string }[] }).entities;
  t.ok(entries.length >= 26, `all world entities (${entries.length})`);
  t.equal(entries.find((e) => e.entity === 'transactions')?.locale, 'en_US', 'transactions follow the world locale');
  t.equal(entries.find((e) => e.entity === 'users')?.locale, 'en_US');
  for (const entry of entries) {
    const csv = await app.inject(`/api/v1/${entry.entity}?${WORLD}&format=csv&limit=${Math.max(1, entry.population)}`);
    t.equal(csv.statusCode, 200, `${entry.entity}: 200`);
    t.equal(createHash('sha256').update(csv.rawPayload).digest('hex'), entry.csv_sha256, `${entry.entity}: sha256 of the default download`);
  }
  const gb = (await app.inject(`/api/v1/manifest?${WORLD}&locale=en_GB&entities=transactions,products`)).json() as {
    entities: { entity: string; locale: string; csv_sha256: string }[];
  };
  const gbCsv = await app.inject(`/api/v1/products?${WORLD}&locale=en_GB&format=csv&limit=60`);
  t.equal(gb.entities[1]?.locale, 'en_GB');
  t.equal(createHash('sha256').update(gbCsv.rawPayload).digest('hex'), gb.entities[1]?.csv_sha256, 'a named locale applies to every entity');
});
