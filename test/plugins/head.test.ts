/**
 * HEAD requests (src/plugins/http.ts, src/plugins/caching.ts): the headers of the GET (ETag,
 * Cache-Control, Vary, 304 and 406 alike), and no body generated for nobody.
 */
import t from 'tap';
import { setTimeout as sleep } from 'node:timers/promises';
import { UserGenerator } from '../../src/generators/users.js';
import { testApp } from '../support/app.js';

/** The headers a HEAD must answer as its GET does. */
const SAME = ['etag', 'cache-control', 'vary', 'content-type', 'x-total-count', 'x-seed', 'link', 'content-disposition', 'x-date-window'];

t.test('a HEAD carries the caching and negotiation headers of its GET', async (t) => {
  const app = await testApp(t, { renderThreads: 0 });
  for (const url of ['/api/v1/users?seed=42&limit=3', '/api/v1/orders?seed=42&limit=5&format=csv', '/api/v1/events?seed=42&users=20&orders=40&limit=5', '/api/v1/manifest?seed=42&users=20&orders=40&entities=users']) {
    const get = await app.inject(url);
    const head = await app.inject({ method: 'HEAD', url });
    t.equal(head.statusCode, 200, `${url}: 200`);
    t.equal(head.body, '', `${url}: no body`);
    t.ok(get.headers.etag, `${url}: the GET has an ETag`);
    for (const name of SAME) t.equal(head.headers[name], get.headers[name], `${url}: ${name}`);
    const notModified = await app.inject({ method: 'HEAD', url, headers: { 'if-none-match': String(get.headers.etag) } });
    t.equal(notModified.statusCode, 304, `${url}: 304 for the GET's ETag`);
  }
  const byAccept = await app.inject({ method: 'HEAD', url: '/api/v1/users?seed=42&limit=3', headers: { accept: 'text/csv' } });
  t.equal(byAccept.headers['content-type'], 'text/csv; charset=utf-8');
  t.match(String(byAccept.headers.vary), /\bAccept\b/, 'the format chosen by Accept: Vary says so');
  const refused = await app.inject({ method: 'HEAD', url: '/api/v1/users?seed=42&limit=3', headers: { accept: 'image/png' } });
  t.equal(refused.statusCode, 406, 'an Accept naming nothing offered: 406, as the GET');
  const unseeded = await app.inject({ method: 'HEAD', url: '/api/v1/users?limit=3' });
  t.equal(unseeded.headers['cache-control'], 'no-store', 'unseeded: no-store');
  t.equal(unseeded.headers.etag, undefined);
});

t.test('a HEAD of a streamed body does not generate it', async (t) => {
  const app = await testApp(t, { renderThreads: 0 });
  let made = 0;
  const record = UserGenerator.prototype.record;
  t.teardown(() => {
    UserGenerator.prototype.record = record;
  });
  UserGenerator.prototype.record = function (this: UserGenerator, i: number) {
    made++;
    return record.call(this, i);
  };
  await app.inject('/api/v1/users?seed=43&scale=10&limit=5000&format=csv');
  t.ok(made >= 5000, `the count sees the rows a streamed GET makes (${made})`);
  made = 0;
  const url = '/api/v1/users?seed=42&scale=1000&limit=1000000&format=csv';
  const head = await app.inject({ method: 'HEAD', url });
  t.equal(head.statusCode, 200);
  t.equal(head.body, '');
  t.equal(head.headers['content-length'], undefined, 'no Content-Length: the GET is chunked');
  t.equal(head.headers['x-total-count'], '1000000');
  // Long enough for the stream to have made tens of thousands of rows had it been drained.
  await sleep(500);
  const after = made;
  await sleep(200);
  t.ok(after < 20_000, `a few batches at most were made (${after} of 1,000,000 rows)`);
  t.equal(made, after, 'and none after');
});

t.test('a HEAD asking for a content coding answers the GET’s coding, length and ETag', async (t) => {
  const app = await testApp(t, { renderThreads: 0 });
  for (const url of ['/api/v1/users?seed=42&limit=3', '/api/v1/orders?seed=42&limit=300&format=csv', '/api/v1/users?seed=42&scale=10&limit=5000&format=csv']) {
    for (const coding of ['gzip', 'br']) {
      const headers = { 'accept-encoding': coding };
      const get = await app.inject({ url, headers });
      const head = await app.inject({ method: 'HEAD', url, headers });
      t.equal(get.headers['content-encoding'], coding, `${url} ${coding}: the GET is coded`);
      t.equal(head.body, '', 'no body');
      for (const name of ['content-encoding', 'content-length', 'etag', 'vary']) t.equal(head.headers[name], get.headers[name], `${url} ${coding}: ${name}`);
    }
  }
});
