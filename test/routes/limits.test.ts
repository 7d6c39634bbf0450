/** What the README's examples and the limit description promise. */
import t from 'tap';
import { testApp } from '../support/app.js';

t.test('limit never passes the population; scale=20 gives the 100,000 orders of the README example', async (t) => {
  const app = await testApp(t);
  const small = await app.inject('/api/v1/orders?seed=42&limit=100000&format=csv&fields=order_id');
  t.equal(small.headers['x-total-count'], '5000');
  t.equal(small.body.trim().split('\r\n').length, 5001, 'scale 1: the 5,000 orders, not 100,000');
  const big = await app.inject('/api/v1/orders?seed=42&scale=20&limit=100000&format=csv&fields=order_id');
  t.equal(big.headers['x-total-count'], '100000');
  t.equal(big.body.trim().split('\r\n').length, 100_001, 'scale=20: 100,000 orders and the header');
});

t.test('warehouses were created two to four years before the window', async (t) => {
  const app = await testApp(t);
  const rows = (await app.inject('/api/v1/warehouses?seed=42&warehouses=200&limit=200')).json() as { created_at: string }[];
  const start = Date.parse('2025-01-01T00:00:00Z');
  const years = rows.map((r) => (start - Date.parse(r.created_at)) / (365 * 86_400_000));
  t.ok(years.every((y) => y >= 1.99 && y <= 4.01), `between 2 and 4 years (${Math.min(...years).toFixed(2)}..${Math.max(...years).toFixed(2)})`);
  t.ok(Math.max(...years) > 3.5, 'some nearly four');
});
