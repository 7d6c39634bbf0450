/**
 * CORS (src/plugins/http.ts): a browser script on another origin may read every header of ours a
 * response carries. Checked on the responses themselves: each X- header a route sets is listed in
 * Access-Control-Expose-Headers, and the preflight allows what the panel and scripts send.
 */
import t from 'tap';
import { EXPOSED_HEADERS } from '../../src/plugins/http.js';
import { testApp } from '../support/app.js';

const ORIGIN = 'https://notebook.example';

/** Responses that between them set every X- header of the API. */
const URLS = [
  '/api/v1/users?seed=4&limit=3&partition=1&partitions=2',
  '/api/v1/users?limit=2',
  '/api/v1/orders?seed=4&limit=5000&format=csv',
  '/api/v1/events?seed=4&users=20&orders=40&limit=5&partition=0&partitions=2',
  '/api/v1/performance-events/incidents?seed=4&days=1',
  '/api/v1/performance-events?seed=4&days=1&limit=2',
  '/health',
];

t.test('every X- header a response carries is exposed to cross-origin scripts', async (t) => {
  const app = await testApp(t, { renderThreads: 0 });
  const seen = new Set<string>();
  for (const url of URLS) {
    const res = await app.inject({ url, headers: { origin: ORIGIN } });
    t.equal(res.statusCode, 200, `${url}: 200`);
    t.equal(res.headers['access-control-allow-origin'], '*');
    const exposed = String(res.headers['access-control-expose-headers'] ?? '')
      .split(',')
      .map((h) => h.trim().toLowerCase());
    const ours = Object.keys(res.headers).filter((name) => name.startsWith('x-') && !['x-content-type-options', 'x-dns-prefetch-control', 'x-download-options', 'x-frame-options', 'x-permitted-cross-domain-policies', 'x-xss-protection'].includes(name));
    for (const name of ours) {
      seen.add(name);
      t.ok(exposed.includes(name), `${url}: ${name} is exposed`);
    }
    for (const name of ['link', 'etag', 'content-disposition']) if (res.headers[name] !== undefined) t.ok(exposed.includes(name), `${url}: ${name} is exposed`);
  }
  t.same(
    [...seen].sort(),
    ['x-data-version', 'x-date-window', 'x-events-count', 'x-partition-range', 'x-request-id', 'x-seed', 'x-total-count'],
    'the X- headers the API sets, all seen above',
  );
  t.same(
    EXPOSED_HEADERS.map((h) => h.toLowerCase()).filter((h) => h.startsWith('x-')).sort(),
    [...seen].sort(),
    'the list exposes exactly those',
  );
});

t.test('a preflight allows the methods and headers scripts send', async (t) => {
  const app = await testApp(t, { renderThreads: 0 });
  const preflight = await app.inject({
    method: 'OPTIONS',
    url: '/api/v1/users?seed=1',
    headers: { origin: ORIGIN, 'access-control-request-method': 'GET', 'access-control-request-headers': 'accept, if-none-match, x-request-id' },
  });
  t.equal(preflight.statusCode, 204);
  t.equal(preflight.headers['access-control-allow-origin'], '*');
  t.same(String(preflight.headers['access-control-allow-methods']).split(',').map((m) => m.trim()), ['GET', 'HEAD', 'POST', 'DELETE']);
  const allowed = String(preflight.headers['access-control-allow-headers']).toLowerCase();
  for (const name of ['accept', 'if-none-match', 'x-request-id', 'authorization', 'content-type']) t.match(allowed, name, `${name} may be sent`);
  t.equal(preflight.headers['access-control-max-age'], '600');
  const restricted = await testApp(t, { renderThreads: 0, corsOrigins: ['https://panel.example'] });
  const other = await restricted.inject({ url: '/api/v1/users?seed=1&limit=1', headers: { origin: ORIGIN } });
  t.equal(other.headers['access-control-allow-origin'], undefined, 'an origin outside CORS_ORIGINS is not allowed');
  const listed = await restricted.inject({ url: '/api/v1/users?seed=1&limit=1', headers: { origin: 'https://panel.example' } });
  t.equal(listed.headers['access-control-allow-origin'], 'https://panel.example');
  t.match(String(listed.headers['access-control-expose-headers']), 'X-Date-Window');
});

t.test('an OPTIONS that is not a preflight: 204 with the allowed methods, not a text/plain 400', async (t) => {
  const app = await testApp(t, { renderThreads: 0 });
  for (const headers of [{}, { origin: ORIGIN }, { 'access-control-request-method': 'GET' }]) {
    const res = await app.inject({ method: 'OPTIONS', url: '/api/v1/users', headers });
    t.equal(res.statusCode, 204, `${JSON.stringify(headers)}: 204`);
    t.equal(res.body, '');
    t.same(String(res.headers['access-control-allow-methods']).split(',').map((m) => m.trim()), ['GET', 'HEAD', 'POST', 'DELETE']);
  }
});
