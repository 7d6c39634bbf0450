import { gunzipSync } from 'node:zlib';
import t from 'tap';
import { testApp } from '../support/app.js';

t.test('paging headers: X-Total-Count, X-Seed, Link', async (t) => {
  const app = await testApp(t);
  const res = await app.inject('/api/v1/users?seed=42&limit=100&offset=200');
  t.equal(res.headers['x-total-count'], '1000');
  t.equal(res.headers['x-seed'], '42');
  t.equal(res.headers['x-data-version'], '6', 'every answer names its data version');
  const link = String(res.headers.link);
  t.match(link, '</api/v1/users?seed=42&limit=100&offset=0>; rel="first"');
  t.match(link, '</api/v1/users?seed=42&limit=100&offset=100>; rel="prev"');
  t.match(link, '</api/v1/users?seed=42&limit=100&offset=300>; rel="next"');
  t.match(link, '</api/v1/users?seed=42&limit=100&offset=900>; rel="last"');

  const last = await app.inject('/api/v1/users?seed=42&limit=100&page=10');
  t.notMatch(String(last.headers.link), 'rel="next"', 'no next on the last page');
  t.match(String(last.headers.link), 'page=9>; rel="prev"', 'page links stay page links');
});

t.test('without a seed one is drawn, returned, and reproduces the response', async (t) => {
  const app = await testApp(t);
  const a = await app.inject('/api/v1/orders?limit=20');
  const seed = a.headers['x-seed'];
  t.match(String(seed), /^\d+$/);
  t.match(String(a.headers.link), `seed=${seed}`, 'links pin the drawn seed');
  const b = await app.inject(`/api/v1/orders?limit=20&seed=${seed}`);
  t.equal(b.body, a.body, 'same bytes with the returned seed');
});

t.test('format by query or Accept; file names for downloads', async (t) => {
  const app = await testApp(t);
  const csv = await app.inject({ url: '/api/v1/orders?seed=42&limit=2', headers: { accept: 'text/csv' } });
  t.match(String(csv.headers['content-type']), 'text/csv');
  t.equal(csv.headers['content-disposition'], 'attachment; filename="orders-seed42.csv"');
  const nd = await app.inject({ url: '/api/v1/orders?seed=42&limit=2', headers: { accept: 'text/html;q=0.9, application/x-ndjson' } });
  t.match(String(nd.headers['content-type']), 'application/x-ndjson');
  t.equal(nd.headers['content-disposition'], 'attachment; filename="orders-seed42.ndjson"');
  const xml = await app.inject({ url: '/api/v1/orders?seed=42&limit=2&format=xml', headers: { accept: 'text/csv' } });
  t.match(String(xml.headers['content-type']), 'application/xml', 'format= wins over Accept');
  const browser = await app.inject({ url: '/api/v1/orders?seed=42&limit=2', headers: { accept: 'text/html,*/*;q=0.8' } });
  t.match(String(browser.headers['content-type']), 'application/json', 'JSON by default');
  t.notOk(browser.headers['content-disposition'], 'JSON is shown, not downloaded');
});

t.test('gzip when the client accepts it', async (t) => {
  const app = await testApp(t);
  const plain = await app.inject('/api/v1/users?seed=9&limit=500&format=csv');
  const zipped = await app.inject({ url: '/api/v1/users?seed=9&limit=500&format=csv', headers: { 'accept-encoding': 'gzip' } });
  t.equal(zipped.headers['content-encoding'], 'gzip');
  const body = gunzipSync(zipped.rawPayload).toString('utf8');
  t.equal(body, plain.body, 'gunzipped body equals the plain body');
  t.ok(zipped.rawPayload.length < plain.rawPayload.length / 2, 'and is much smaller');
  // NDJSON too: the entity download and the events feed (application/x-ndjson, which
  // @fastify/compress's own list of compressible types misses).
  for (const url of ['/api/v1/users?seed=9&limit=500&format=ndjson', '/api/v1/events?seed=9&scale=0.01&limit=500&format=ndjson']) {
    const asIs = await app.inject(url);
    const gz = await app.inject({ url, headers: { 'accept-encoding': 'gzip' } });
    t.equal(gz.headers['content-encoding'], 'gzip', `${url}: gzip`);
    t.equal(gunzipSync(gz.rawPayload).toString('utf8'), asIs.body, `${url}: gunzipped body equals the plain body`);
    t.ok(gz.rawPayload.length < asIs.rawPayload.length / 2, `${url}: much smaller`);
  }
});

t.test('health, index and docs', async (t) => {
  const app = await testApp(t);
  const health = await app.inject('/health');
  t.equal(health.statusCode, 200);
  t.equal(health.json().status, 'ok');
  const index = await app.inject('/');
  t.equal(index.json().entities.orders, '/api/v1/orders');
  const ui = await app.inject('/docs/');
  t.equal(ui.statusCode, 200);
  t.match(ui.body, /swagger/i);
});
