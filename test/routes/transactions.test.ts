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

t.test('transactions default to en_GB (GBP, 20% VAT); an explicit locale wins', async (t) => {
  const app = await testApp(t);
  const byDefault = (await app.inject('/api/v1/transactions?seed=11&limit=200')).json() as Row[];
  const gb = (await app.inject('/api/v1/transactions?seed=11&limit=200&locale=en_GB')).json() as Row[];
  const us = (await app.inject('/api/v1/transactions?seed=11&limit=200&locale=en_US')).json() as Row[];
  t.same(byDefault, gb, 'no locale = locale=en_GB');
  t.ok(byDefault.every((r) => r.currency === 'GBP'), 'GBP by default');
  t.ok(byDefault.every((r) => Math.round(r.subtotal * 20) === Math.round(r.tax * 100)), 'tax is 20% of the subtotal');
  t.ok(us.every((r) => r.currency === 'USD'), 'locale=en_US gives USD');
  t.same(us.map((r) => r.session_id), gb.map((r) => r.session_id), 'the same sessions in both locales: only money text changes');

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
