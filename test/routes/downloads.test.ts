/** Download details a data engineer trips over: file names, field names with digits, XML element names. */
import t from 'tap';
import { testApp } from '../support/app.js';

t.test('analytics downloads get file names that do not collide with the raw entities', async (t) => {
  const app = await testApp(t);
  for (const [entity, file] of [
    ['analytics/users', 'analytics-users-seed1.csv'],
    ['analytics/products', 'analytics-products-seed1.csv'],
    ['users', 'users-seed1.csv'],
  ] as const) {
    const res = await app.inject(`/api/v1/${entity}?seed=1&users=40&orders=60&products=20&limit=3&format=csv`);
    t.equal(res.statusCode, 200);
    t.equal(res.headers['content-disposition'], `attachment; filename="${file}"`, entity);
  }
});

t.test('fields accepts names with digits (card_last4)', async (t) => {
  const app = await testApp(t);
  const res = await app.inject('/api/v1/payments?seed=5&limit=50&fields=payment_id,card_last4');
  t.equal(res.statusCode, 200, res.body.slice(0, 200));
  const rows = res.json() as { payment_id: string; card_last4: string | null }[];
  t.same(Object.keys(rows[0] ?? {}), ['payment_id', 'card_last4']);
  t.ok(rows.some((r) => typeof r.card_last4 === 'string' && /^[0-9]{4}$/.test(r.card_last4)), 'card payments carry their last four digits');
  const csv = await app.inject('/api/v1/payments?seed=5&limit=2&fields=card_last4&format=csv');
  t.equal(csv.body.split('\r\n')[0], 'card_last4');
  const bad = await app.inject('/api/v1/payments?seed=5&fields=4card');
  t.equal(bad.statusCode, 400);
  t.match(bad.json().message, /^fields: /);
  const unknown = await app.inject('/api/v1/payments?seed=5&fields=card_last5');
  t.equal(unknown.statusCode, 400);
  t.equal(unknown.json().code, 'UNKNOWN_FIELD');
});

t.test('XML writes @timestamp as _timestamp (docs/xml.md), with the same value as JSON', async (t) => {
  const app = await testApp(t);
  const query = 'seed=3&days=1&base_tps=0.5&limit=3';
  const json = (await app.inject(`/api/v1/performance-events?${query}`)).json() as Record<string, string>[];
  const xml = (await app.inject(`/api/v1/performance-events?${query}&format=xml`)).body;
  const stamps = [...xml.matchAll(/<_timestamp>([^<]+)<\/_timestamp>/g)].map((m) => m[1]);
  t.same(stamps, json.map((r) => r['@timestamp']), '<_timestamp> holds @timestamp');
  t.notMatch(xml, /<@timestamp>/);
});
