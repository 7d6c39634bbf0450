import type { AddressInfo } from 'node:net';
import { brotliDecompressSync } from 'node:zlib';
import t from 'tap';
import { testApp } from '../support/app.js';

t.test('seeded responses: strong ETag, Cache-Control, 304 on If-None-Match, Vary: Accept', async (t) => {
  const app = await testApp(t);
  const first = await app.inject('/api/v1/orders?seed=42&limit=5');
  const etag = String(first.headers.etag);
  t.match(etag, /^"[A-Za-z0-9_-]{32}"$/, 'a strong ETag');
  t.equal(first.headers['cache-control'], 'public, max-age=86400');
  t.match(String(first.headers.vary), /\bAccept\b/);

  const same = await app.inject('/api/v1/orders?limit=5&seed=42');
  t.equal(same.headers.etag, etag, 'the same query in another order: the same ETag');
  t.equal(same.body, first.body, 'and the same bytes');
  const withDefaults = await app.inject('/api/v1/orders?seed=42&limit=5&scale=1');
  t.equal(withDefaults.headers.etag, etag, 'a default given explicitly changes nothing');

  const revalidated = await app.inject({ url: '/api/v1/orders?seed=42&limit=5', headers: { 'if-none-match': etag } });
  t.equal(revalidated.statusCode, 304);
  t.equal(revalidated.body, '', 'no body');
  t.equal(revalidated.headers.etag, etag);
  t.equal(revalidated.headers['cache-control'], 'public, max-age=86400');
  const weak = await app.inject({ url: '/api/v1/orders?seed=42&limit=5', headers: { 'if-none-match': `"other", W/${etag}` } });
  t.equal(weak.statusCode, 304, 'weak comparison, lists');
  const stale = await app.inject({ url: '/api/v1/orders?seed=42&limit=5', headers: { 'if-none-match': '"other"' } });
  t.equal(stale.statusCode, 200);

  const differs = [
    '/api/v1/orders?seed=43&limit=5',
    '/api/v1/orders?seed=42&limit=6',
    '/api/v1/orders?seed=42&limit=5&format=csv',
    '/api/v1/users?seed=42&limit=5',
  ];
  for (const url of differs) t.not((await app.inject(url)).headers.etag, etag, `${url}: another ETag`);
  const csvByAccept = await app.inject({ url: '/api/v1/orders?seed=42&limit=5', headers: { accept: 'text/csv' } });
  t.not(csvByAccept.headers.etag, etag, 'the format chosen by Accept changes the ETag');

  const unseeded = await app.inject('/api/v1/orders?limit=5');
  t.notOk(unseeded.headers.etag, 'no ETag without a seed (one is drawn per request)');
  t.equal(unseeded.headers['cache-control'], 'no-store');

  const error = await app.inject('/api/v1/orders?seed=42&fields=nope');
  t.equal(error.statusCode, 400);
  t.notOk(error.headers.etag, 'an error has no ETag');
  t.equal(error.headers['cache-control'], 'no-store');

  const manifest = await app.inject('/api/v1/manifest?seed=42&users=20&orders=50&products=20&vendors=2&warehouses=2&shops=2&suppliers=2&transactions=20');
  t.equal(manifest.statusCode, 200);
  t.ok(manifest.headers.etag, 'other seeded routes too');
  t.equal((await app.inject('/api/v1/jobs')).headers['cache-control'], 'no-store', 'live state is never cached');
});

t.test('406 for an unsupported Accept; */* and no Accept give JSON; format= wins', async (t) => {
  const app = await testApp(t);
  const png = await app.inject({ url: '/api/v1/users?seed=1&limit=1', headers: { accept: 'image/png' } });
  t.equal(png.statusCode, 406);
  t.same(Object.keys(png.json()).sort(), ['code', 'error', 'message', 'statusCode']);
  t.equal(png.json().code, 'NOT_ACCEPTABLE');
  t.match(png.json().message, /^Accept: /);
  for (const accept of [undefined, '*/*', 'application/*', 'text/html,application/xhtml+xml,*/*;q=0.8']) {
    const res = await app.inject({ url: '/api/v1/users?seed=1&limit=1', headers: accept ? { accept } : {} });
    t.equal(res.statusCode, 200, `Accept ${accept}: 200`);
    t.match(String(res.headers['content-type']), 'application/json');
  }
  const format = await app.inject({ url: '/api/v1/users?seed=1&limit=1&format=xml', headers: { accept: 'image/png' } });
  t.equal(format.statusCode, 200, 'format= overrides Accept');
  const jsonOnly = await app.inject({ url: '/health', headers: { accept: 'text/csv' } });
  t.equal(jsonOnly.statusCode, 406, 'a JSON-only endpoint refuses CSV');
});

t.test('brotli when asked; the ETag names the coding', async (t) => {
  const app = await testApp(t);
  const plain = await app.inject('/api/v1/users?seed=9&limit=300&format=csv');
  const br = await app.inject({ url: '/api/v1/users?seed=9&limit=300&format=csv', headers: { 'accept-encoding': 'br' } });
  t.equal(br.headers['content-encoding'], 'br');
  t.equal(brotliDecompressSync(br.rawPayload).toString('utf8'), plain.body, 'decompresses to the plain body');
  t.equal(br.headers.etag, String(plain.headers.etag).replace(/"$/, '-br"'), 'a strong ETag per representation');
  const again = await app.inject({ url: '/api/v1/users?seed=9&limit=300&format=csv', headers: { 'accept-encoding': 'br', 'if-none-match': String(br.headers.etag) } });
  t.equal(again.statusCode, 304);
});

t.test('a 304 names the ETag and Vary of the representation the client holds (RFC 9110 15.4.5)', async (t) => {
  const app = await testApp(t);
  const url = '/api/v1/users?seed=9&limit=300&format=csv';
  for (const coding of ['gzip', 'br', 'deflate']) {
    const full = await app.inject({ url, headers: { 'accept-encoding': coding } });
    t.equal(full.headers['content-encoding'], coding);
    const etag = String(full.headers.etag);
    t.match(etag, new RegExp(`-${coding}"$`));
    const again = await app.inject({ url, headers: { 'accept-encoding': coding, 'if-none-match': etag } });
    t.equal(again.statusCode, 304, `${coding}: 304`);
    t.equal(again.headers.etag, etag, `${coding}: the 304's ETag is the 200's, so a cache finds the response to freshen`);
    t.match(String(again.headers.vary), /accept-encoding/i, `${coding}: and its Vary`);
    const weak = await app.inject({ url, headers: { 'accept-encoding': `${coding}, identity`, 'if-none-match': `"other", W/${etag}` } });
    t.equal(weak.statusCode, 304, `${coding}: weak comparison, lists`);
    t.equal(weak.headers.etag, etag);
  }
  const plain = await app.inject(url);
  const plainEtag = String(plain.headers.etag);
  const gzipEtag = plainEtag.replace(/"$/, '-gzip"');
  const identityHeld = await app.inject({ url, headers: { 'accept-encoding': 'gzip', 'if-none-match': plainEtag } });
  t.equal(identityHeld.statusCode, 304, 'a client holding the plain body may keep it');
  t.equal(identityHeld.headers.etag, plainEtag, 'the 304 names the plain ETag it holds');
  const refused = await app.inject({ url, headers: { 'if-none-match': gzipEtag } });
  t.equal(refused.statusCode, 200, 'a gzip ETag from a client that no longer accepts gzip: the body, not a 304');
  t.equal(refused.headers.etag, plainEtag);
  t.equal(refused.headers['content-encoding'], undefined);
  const zero = await app.inject({ url, headers: { 'accept-encoding': 'gzip;q=0, br', 'if-none-match': gzipEtag } });
  t.equal(zero.statusCode, 200, 'gzip;q=0 refuses gzip');
  t.equal(zero.headers.etag, plainEtag.replace(/"$/, '-br"'));
});

t.test('CORS: any origin by default, a configured list otherwise, preflight answered', async (t) => {
  const open = await testApp(t);
  const simple = await open.inject({ url: '/api/v1/users?seed=1&limit=1', headers: { origin: 'https://notebook.example' } });
  t.equal(simple.headers['access-control-allow-origin'], '*');
  t.match(String(simple.headers['access-control-expose-headers']), 'X-Total-Count');
  t.match(String(simple.headers['access-control-expose-headers']), 'ETag');
  const preflight = await open.inject({
    method: 'OPTIONS',
    url: '/api/v1/sinks/kafka',
    headers: { origin: 'https://notebook.example', 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization,content-type' },
  });
  t.equal(preflight.statusCode, 204);
  t.match(String(preflight.headers['access-control-allow-methods']), 'POST');
  t.match(String(preflight.headers['access-control-allow-headers']), 'Authorization');

  const closed = await testApp(t, { corsOrigins: ['https://app.example'] });
  const allowed = await closed.inject({ url: '/health', headers: { origin: 'https://app.example' } });
  t.equal(allowed.headers['access-control-allow-origin'], 'https://app.example');
  t.match(String(allowed.headers.vary), 'Origin');
  const other = await closed.inject({ url: '/health', headers: { origin: 'https://evil.example' } });
  t.notOk(other.headers['access-control-allow-origin'], 'another origin gets no CORS grant');
});

t.test('/metrics: Prometheus text with requests, latency, rows, bytes, jobs and event-loop lag', async (t) => {
  const app = await testApp(t);
  // A real connection: bytes of streamed bodies are counted on the socket.
  await app.listen({ port: 0, host: '127.0.0.1' });
  const { port } = app.server.address() as AddressInfo;
  const base = `http://127.0.0.1:${port}`;
  const seven = await (await fetch(`${base}/api/v1/users?seed=1&limit=7`)).arrayBuffer();
  await (await fetch(`${base}/api/v1/users?seed=1&limit=5&offset=998`)).arrayBuffer();
  await (await fetch(`${base}/api/v1/users?limit=0`)).arrayBuffer();
  const answer = await fetch(`${base}/metrics`);
  t.equal(answer.status, 200);
  t.match(String(answer.headers.get('content-type')), 'text/plain');
  const res = { body: await answer.text() };
  const samples = new Map<string, number>();
  for (const line of res.body.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*(?:\{[^}]*\})?) (\S+)$/.exec(line);
    t.ok(match, `sample line parses: ${line.slice(0, 80)}`);
    if (!match) continue;
    const value = Number(match[2]);
    t.ok(!Number.isNaN(value) || match[2] === 'Nan', `${match[1]}: a number (Nan: no sample yet)`);
    samples.set(match[1] as string, value);
  }
  t.equal(samples.get('http_requests_total{method="GET",route="/api/v1/users",status_code="200"}'), 2);
  t.equal(samples.get('http_requests_total{method="GET",route="/api/v1/users",status_code="400"}'), 1);
  t.equal(samples.get('http_request_duration_seconds_count{method="GET",route="/api/v1/users",status_code="200"}'), 2);
  t.equal(samples.get('ecomgen_rows_served_total{route="/api/v1/users"}'), 7 + 2, 'rows: 7, then the last 2 of 1,000');
  t.ok((samples.get('ecomgen_bytes_served_total{route="/api/v1/users"}') ?? 0) > seven.byteLength, 'bytes served, headers included');
  for (const state of ['queued', 'running', 'succeeded', 'failed']) t.equal(samples.get(`ecomgen_jobs{state="${state}"}`), 0, `jobs ${state}`);
  t.ok(samples.has('nodejs_eventloop_lag_seconds'), 'event-loop lag');
  t.ok(samples.has('nodejs_eventloop_lag_p99_seconds'), 'and its p99');

  // The counters take what was answered since the last scrape at each scrape: once, not again.
  await (await fetch(`${base}/api/v1/users?seed=2&limit=3`)).arrayBuffer();
  for (const round of ['second scrape', 'third scrape']) {
    const text = await (await fetch(`${base}/metrics`)).text();
    const sample = (name: string) => Number(new RegExp(`^${name.replace(/[{}"/]/g, '\\$&')} (\\S+)$`, 'm').exec(text)?.[1]);
    t.equal(sample('http_requests_total{method="GET",route="/api/v1/users",status_code="200"}'), 3, `${round}: one request more`);
    t.equal(sample('http_request_duration_seconds_count{method="GET",route="/api/v1/users",status_code="200"}'), 3, `${round}: as many as were timed`);
    t.equal(sample('http_requests_total{method="GET",route="/api/v1/users",status_code="400"}'), 1, `${round}: unchanged`);
    t.equal(sample('ecomgen_rows_served_total{route="/api/v1/users"}'), 7 + 2 + 3, `${round}: its 3 rows`);
    t.ok(sample('ecomgen_bytes_served_total{route="/api/v1/users"}') > (samples.get('ecomgen_bytes_served_total{route="/api/v1/users"}') ?? 0), `${round}: its bytes`);
    t.ok(sample('http_requests_total{method="GET",route="/metrics",status_code="200"}') >= 1, `${round}: the scrapes are counted too`);
  }
});

t.test('a route can opt out of ETags with config.seeded = false', async (t) => {
  const { buildApp } = await import('../../src/app.js');
  const app = await buildApp();
  t.teardown(() => app.close());
  app.get('/live', { config: { seeded: false }, schema: { querystring: { type: 'object', properties: { seed: { type: 'integer' } } }, response: { 200: { type: 'object', properties: { at: { type: 'integer' } } } } } }, async () => ({ at: 1 }));
  await app.ready();
  const res = await app.inject('/live?seed=1');
  t.equal(res.statusCode, 200);
  t.notOk(res.headers.etag);
  t.equal(res.headers['cache-control'], 'no-store');
});

t.test('every error is no-store, whichever stage refuses the request', async (t) => {
  const app = await testApp(t);
  const cases: { url: string; method?: 'GET' | 'DELETE' | 'POST'; headers?: Record<string, string>; payload?: string; status: number }[] = [
    { url: '/api/v1/users?seed=42&limit=x', status: 400 },
    { url: '/api/v1/users?limit=x', status: 400 },
    { url: '/api/v1/users?seed=42&limit=1&limit=2', status: 400 },
    { url: '/api/v1/users?seed=42&nope=1', status: 400 },
    { url: '/api/v1/users?seed=42', headers: { accept: 'image/png' }, status: 406 },
    { url: '/api/v1/nope', status: 404 },
    { url: '/api/v1/users', method: 'DELETE', status: 405 },
    { url: '/api/v1/jobs/00000000-0000-0000-0000-000000000000', status: 404 },
    { url: '/api/v1/sinks/postgres', method: 'POST', headers: { 'content-type': 'application/json' }, payload: '{"seed":42}', status: 409 },
    { url: '/api/v1/sinks/postgres', method: 'POST', headers: { 'content-type': 'application/json' }, payload: '{bad', status: 400 },
  ];
  for (const { url, method = 'GET', headers, payload, status } of cases) {
    const res = await app.inject({ url, method, headers, payload });
    t.equal(res.statusCode, status, `${method} ${url}: status`);
    t.equal(res.headers['cache-control'], 'no-store', `${method} ${url}: no-store`);
    t.notOk(res.headers.etag, `${method} ${url}: no ETag`);
  }
});

t.test('a relative date (end_date=today): the ETag names the day it resolves to, and caches keep it until the next UTC midnight', async (t) => {
  const app = await testApp(t);
  const realNow = Date.now;
  t.teardown(() => {
    Date.now = realNow;
  });
  const DAY = 86_400_000;
  const monday = Date.UTC(2026, 10, 30, 22, 0, 0);
  const url = '/api/v1/users?seed=5&users=30&limit=3&start_date=2026-01-01&end_date=today';
  Date.now = () => monday;
  const first = await app.inject(url);
  t.equal(first.statusCode, 200);
  const etag = String(first.headers.etag);
  t.equal(first.headers['x-date-window'], '2026-01-01T00:00:00.000Z/2026-12-01T00:00:00.000Z');
  t.equal(first.headers['cache-control'], 'public, max-age=7200', 'fresh until the next UTC midnight, two hours away');
  t.equal((await app.inject({ url, headers: { 'if-none-match': etag } })).statusCode, 304, 'the same day: 304');
  const pinned = await app.inject(url.replace('end_date=today', 'end_date=2026-11-30'));
  t.equal(pinned.body, first.body, 'the same bytes as the date it resolved to');
  t.equal(pinned.headers.etag, etag, 'and the same ETag');

  Date.now = () => monday + DAY;
  const next = await app.inject({ url, headers: { 'if-none-match': etag } });
  t.equal(next.statusCode, 200, 'the next day: the body changed, so no 304 for the old ETag');
  t.equal(next.headers['x-date-window'], '2026-01-01T00:00:00.000Z/2026-12-02T00:00:00.000Z');
  t.not(next.body, first.body);
  t.not(next.headers.etag, etag, 'a new ETag for the new bytes');
  t.equal((await app.inject({ url, headers: { 'if-none-match': String(next.headers.etag) } })).statusCode, 304);
});
