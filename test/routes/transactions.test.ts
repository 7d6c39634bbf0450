import t from 'tap';
import { testApp } from '../support/app.js';

interface Row {
  transaction_id: string;
  session_id: string;
  customer_id: string;
  currency: string;
  subtotal: number;
  tax: number;
  total: number;
  user_agent: string;
  ip_address: string;
  timestamp: string;
}

const FIRST_FIELDS = [
  'transaction_id', 'customer_id', 'product_id', 'shop_id', 'quantity', 'unit_price', 'subtotal', 'tax', 'total',
  'payment_method', 'status', 'timestamp', 'session_id', 'user_agent', 'ip_address',
];

t.test("transactions follow the world's locale (en_US by default); locale=en_GB is the UK shop", async (t) => {
  const app = await testApp(t);
  const byDefault = (await app.inject('/api/v1/transactions?seed=11&limit=200')).json() as Row[];
  const gb = (await app.inject('/api/v1/transactions?seed=11&limit=200&locale=en_GB')).json() as Row[];
  const us = (await app.inject('/api/v1/transactions?seed=11&limit=200&locale=en_US')).json() as Row[];
  t.same(byDefault, us, 'no locale = locale=en_US, like every other entity');
  t.ok(gb.every((r) => r.currency === 'GBP'), 'locale=en_GB gives GBP');
  t.ok(gb.every((r) => Math.round(r.subtotal * 20) === Math.round(r.tax * 100)), 'tax is 20% of the subtotal');
  t.ok(us.every((r) => r.currency === 'USD'), 'USD by default');
  t.same(us.map((r) => r.session_id), gb.map((r) => r.session_id), 'the same sessions in both locales: only money and places change');

  const csv = (await app.inject('/api/v1/transactions?seed=11&limit=1&format=csv')).body;
  t.same((csv.split(/\r?\n/)[0] ?? '').split(',').slice(0, FIRST_FIELDS.length), FIRST_FIELDS, 'the feed fields come first, in order');
});

t.test("a transaction's session is the customer's, with the same user agent and IP, in the default (en_US) sessions too", async (t) => {
  const app = await testApp(t);
  const rows = (await app.inject('/api/v1/transactions?seed=11&limit=50')).json() as Row[];
  const total = Number((await app.inject('/api/v1/sessions?seed=11&limit=1')).headers['x-total-count']);
  const sessions = new Map<string, Record<string, unknown>>();
  for (let offset = 0; offset < total; offset += 10_000) {
    for (const s of (await app.inject(`/api/v1/sessions?seed=11&limit=10000&offset=${offset}`)).json() as Record<string, unknown>[]) {
      sessions.set(s.session_id as string, s);
    }
  }
  for (const r of rows) {
    const s = sessions.get(r.session_id);
    t.ok(s, `session ${r.session_id} exists`);
    if (!s) continue;
    t.equal(s.user_id, r.customer_id, 'session user = customer');
    t.equal(s.user_agent, r.user_agent, 'user agent copied');
    t.equal(s.ip_address, r.ip_address, 'ip copied');
    t.ok(r.timestamp >= (s.started_at as string) && r.timestamp <= (s.ended_at as string), 'timestamp inside the session');
  }
});

t.test('the UK simulator workflow: products, shops and transactions with locale=en_GB are one UK shop', async (t) => {
  const app = await testApp(t);
  const world = 'seed=23&products=80&shops=9&transactions=400&locale=en_GB';
  const get = async <T>(entity: string, limit: number) => (await app.inject(`/api/v1/${entity}?${world}&limit=${limit}`)).json() as T[];
  const products = await get<{ product_id: string; price: number; currency: string; category: string }>('products', 80);
  const shops = await get<{ shop_id: string; city: string; postcode: string; country: string }>('shops', 9);
  const transactions = await get<Row & { product_id: string; shop_id: string; unit_price: number }>('transactions', 400);
  const price = new Map(products.map((p) => [p.product_id, p.price]));
  const shopIds = new Set(shops.map((s) => s.shop_id));
  t.ok(products.every((p) => p.currency === 'GBP'), 'products in GBP');
  t.ok(shops.every((s) => /^[A-Z]{1,2}[0-9]{1,2} [0-9][A-Z]{2}$/.test(s.postcode)), 'shops at UK postcodes');
  // The price at the sale: the product's last change before it (GET /price-changes, in time order), else its first previous price, else its price.
  const changes = await get<{ product_id: string; previous_price: number; new_price: number; changed_at: string }>('price-changes', 100_000);
  const priceAt = (product: string, at: string) => {
    const own = changes.filter((c) => c.product_id === product);
    const last = own.filter((c) => c.changed_at <= at).pop();
    return last ? last.new_price : (own[0]?.previous_price ?? price.get(product));
  };
  t.ok(changes.length > 0, `${changes.length} price changes`);
  t.ok(
    transactions.every((r) => r.currency === 'GBP' && priceAt(r.product_id, (r as unknown as { timestamp: string }).timestamp) === r.unit_price),
    'transactions sell those products at their GBP price of the moment',
  );
  t.ok(transactions.every((r) => shopIds.has(r.shop_id)), 'through those shops');
  // Keys do not depend on the locale: the en_US world has the same ids.
  const usProducts = (await app.inject('/api/v1/products?seed=23&products=80&limit=80')).json() as { product_id: string }[];
  t.same(usProducts.map((p) => p.product_id), products.map((p) => p.product_id), 'the same product ids in both locales');
});
