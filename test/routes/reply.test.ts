import { brotliDecompressSync, gunzipSync } from 'node:zlib';
import t from 'tap';
import { World } from '../../src/generators/world.js';
import { worldSpecFrom } from '../../src/routes/world-query.js';
import { testApp } from '../support/app.js';

// How entity responses are sent: a page up to 1,000 records (the default limit) as one body
// with Content-Length, larger ones as a chunked stream; compressed bodies decode to the same
// bytes; gzip wins when the client accepts several encodings equally.
t.test('whole pages with Content-Length, large responses streamed, the same bytes either way', async (t) => {
  const app = await testApp(t);
  const base = '/api/v1/users?seed=9&users=5000';
  const page = await app.inject(`${base}&format=csv`);
  t.equal(page.statusCode, 200);
  t.equal(page.headers['content-length'], String(page.rawPayload.length), 'default page: Content-Length is the body length');
  t.notOk(page.headers['transfer-encoding'], 'default page: not chunked');
  t.equal(page.body.split('\r\n').length - 2, 1000, 'default page: the default limit of rows');

  const large = await app.inject(`${base}&limit=3000&format=csv`);
  t.equal(large.headers['transfer-encoding'], 'chunked', '3,000 rows: streamed');
  t.notOk(large.headers['content-length']);
  t.ok(large.body.startsWith(page.body), 'the first 1,000 rows are the same bytes from a page and from a stream');
  const rows = large.body.split('\r\n');
  t.equal(rows.length - 2, 3000);

  for (const format of ['json', 'ndjson', 'xml']) {
    const whole = await app.inject(`${base}&limit=1000&format=${format}`);
    const streamed = await app.inject(`${base}&limit=1001&format=${format}`);
    t.ok(whole.headers['content-length'], `${format}: a page has Content-Length`);
    t.equal(streamed.headers['transfer-encoding'], 'chunked', `${format}: 1,001 records stream`);
    if (format === 'json') t.same((JSON.parse(streamed.body) as unknown[]).slice(0, 1000), JSON.parse(whole.body), 'json: same records');
    else t.ok(streamed.body.startsWith(whole.body.slice(0, whole.body.length - (format === 'xml' ? '</users>\n'.length : 0))), `${format}: same leading bytes`);
  }
});

t.test('compression: gzip by default, brotli when preferred, bodies decode to the plain bytes', async (t) => {
  const app = await testApp(t);
  for (const limit of [10, 1000, 3000]) {
    const url = `/api/v1/orders?seed=9&limit=${limit}&format=csv`;
    const plain = (await app.inject(url)).rawPayload;
    const both = await app.inject({ url, headers: { 'accept-encoding': 'deflate, gzip, br, zstd' } });
    t.equal(both.headers['content-encoding'], 'gzip', `${limit}: gzip among equals`);
    t.ok(gunzipSync(both.rawPayload).equals(plain), `${limit}: gzip decodes to the plain body`);
    const br = await app.inject({ url, headers: { 'accept-encoding': 'br;q=1, gzip;q=0.5' } });
    t.equal(br.headers['content-encoding'], 'br', `${limit}: brotli when preferred`);
    t.ok(brotliDecompressSync(br.rawPayload).equals(plain), `${limit}: brotli decodes to the plain body`);
  }
});

// A request without a seed gets a new random seed and that seed's page; its world stays out of
// the cache of worlds (16 kept), so a run of unseeded requests does not push the seeded worlds out.
t.test('unseeded pages: the page of the reported seed, and the seeded worlds stay cached', async (t) => {
  const app = await testApp(t);
  const seeded = World.of(worldSpecFrom({ seed: 5 }));
  const seeds = new Set<string>();
  for (let k = 0; k < 20; k++) {
    const unseeded = await app.inject('/api/v1/users?limit=3&format=csv');
    t.equal(unseeded.statusCode, 200);
    const seed = unseeded.headers['x-seed'] as string;
    seeds.add(seed);
    if (k < 2) t.equal((await app.inject(`/api/v1/users?seed=${seed}&limit=3&format=csv`)).body, unseeded.body, `seed ${seed}: the same page asked with it`);
  }
  t.equal(seeds.size, 20, 'a new seed per request');
  t.equal(World.of(worldSpecFrom({ seed: 5 })), seeded, 'the seeded world is still the cached one');
});

// Pages of up to 100 records are written field by field into bytes where the entity can be
// (users); larger ones as record text. Both ways must give the same bytes: a 100-row page is
// the 101-row page (text) less its last record.
t.test('small pages written as bytes equal the record writers’ text, in every format and both locales', async (t) => {
  const app = await testApp(t);
  const ends: Record<string, string> = { json: ']\n', ndjson: '', csv: '', xml: '</users>\n' };
  for (const locale of ['en_US', 'en_GB']) {
    for (const format of ['json', 'ndjson', 'csv', 'xml']) {
      for (const offset of [0, 899]) {
        const query = `seed=13&locale=${locale}&format=${format}&offset=${offset}`;
        const small = (await app.inject(`/api/v1/users?${query}&limit=100`)).body;
        const text = (await app.inject(`/api/v1/users?${query}&limit=101`)).body;
        const end = ends[format]!;
        t.ok(small.endsWith(end), `${query}: the page's end`);
        const head = small.slice(0, small.length - end.length);
        t.ok(head.length > 100 * 100, `${query}: 100 records`);
        t.equal(text.slice(0, head.length), head, `${query}: the 101-row page starts with the 100-row page`);
        t.ok(text.length > small.length, 'and goes on with the 101st record');
      }
    }
  }
});
