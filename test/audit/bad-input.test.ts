/**
 * Bad input a demanding user sends, as the docs promise to answer it: a 4xx JSON body whose
 * message starts with the parameter (or `body`, or the header) and says why. Cases the other
 * tests do not cover: repeated query parameters, bodies that are not JSON or not sent as JSON,
 * unknown fields inside a nested body object, values a pattern refuses.
 */
import t from 'tap';
import { testApp } from '../support/app.js';

const app = await testApp(t);

interface ErrorBody { statusCode: number; error: string; message: string; code: string }

interface Tap { equal: (a: unknown, b: unknown, m: string) => unknown; match: (a: unknown, b: RegExp, m: string) => unknown }
const check = (t: Tap, label: string, response: { statusCode: number; json: () => unknown }, status: number, code: string, message: RegExp) => {
  const body = response.json() as ErrorBody;
  t.equal(response.statusCode, status, `${label}: status`);
  t.equal(body.statusCode, status, `${label}: statusCode`);
  t.equal(body.code, code, `${label}: code`);
  t.match(body.message, message, `${label}: ${body.message}`);
};

t.test('a query parameter given twice is named, with the reason', async (t) => {
  for (const [url, name] of [
    ['/api/v1/users?seed=42&limit=1&limit=2', 'limit'],
    ['/api/v1/users?seed=42&seed=43', 'seed'],
    ['/api/v1/orders?seed=42&format=csv&format=json', 'format'],
    ['/api/v1/events?seed=42&types=order.placed&types=payment.captured', 'types'],
    ['/api/v1/events/defects?seed=42&late_ratio=0.1&late_ratio=0.2', 'late_ratio'],
    ['/api/v1/manifest?seed=42&entities=users&entities=orders', 'entities'],
  ] as const) {
    check(t, url, await app.inject(url), 400, 'INVALID_PARAMETER', new RegExp(`^${name}: given 2 times; give it once`));
  }
});

t.test('a body that is not JSON, or not sent as JSON', async (t) => {
  const post = (payload: string, type: string) => app.inject({ method: 'POST', url: '/api/v1/streams', payload, headers: { 'content-type': type } });
  check(t, 'truncated JSON', await post('{"sink":', 'application/json'), 400, 'BAD_REQUEST', /^body: not valid JSON/);
  check(t, 'a __proto__ key', await post('{"sink":"kafka","__proto__":{"x":1}}', 'application/json'), 400, 'BAD_REQUEST', /^body: not valid JSON/);
  check(t, 'empty', await post('', 'application/json'), 400, 'BAD_REQUEST', /^body: empty; send a JSON object/);
  check(t, 'text/plain', await post('{"sink":"kafka"}', 'text/plain'), 415, 'UNSUPPORTED_MEDIA_TYPE', /^Content-Type: 'text\/plain' is not accepted here; send application\/json/);
  check(t, 'a form', await post('sink=kafka', 'application/x-www-form-urlencoded'), 415, 'UNSUPPORTED_MEDIA_TYPE', /^Content-Type: 'application\/x-www-form-urlencoded' is not accepted here; send application\/json/);
  check(t, 'no body at all', await app.inject({ method: 'POST', url: '/api/v1/streams' }), 400, 'INVALID_PARAMETER', /^body: missing; send a JSON object with Content-Type: application\/json/);
  const sink = await app.inject({ method: 'POST', url: '/api/v1/sinks/postgres', payload: '{"seed": 42', headers: { 'content-type': 'application/json' } });
  check(t, 'a sink', sink, 400, 'BAD_REQUEST', /^body: not valid JSON/);
});

t.test('an unknown field inside a body object is named by its path', async (t) => {
  const response = await app.inject({ method: 'POST', url: '/api/v1/streams', payload: { sink: 'kafka', weights: { orders: 1, nope: 1 } } });
  check(t, 'weights.nope', response, 400, 'UNKNOWN_PARAMETER', /^weights\.nope: unknown body field/);
});

t.test('a value a pattern refuses gets a reason a person reads, not the pattern', async (t) => {
  check(t, 'types', await app.inject('/api/v1/events?seed=42&types=order'), 400, 'INVALID_PARAMETER', /^types: 'order' is not an event type; must be a comma-separated list of event types/);
  check(t, 'types, empty item', await app.inject('/api/v1/events?seed=42&types=order.placed,,payment.captured'), 400, 'INVALID_PARAMETER', /^types: an empty item; must be a comma-separated list of event types/);
  // A refused list names its first bad item, which in a long list a person would not find by the rule alone.
  check(t, 'types, a bad item', await app.inject('/api/v1/events?seed=42&types=order.placed,payment.captured,Order.Paid'), 400, 'INVALID_PARAMETER', /^types: 'Order\.Paid' is not an event type; /);
  check(t, 'fields, a nested name', await app.inject('/api/v1/orders?seed=42&limit=1&fields=order_id,items.sku'), 400, 'INVALID_PARAMETER', /^fields: 'items\.sku' is not a field name; must be a comma-separated list of field names$/);
  check(t, 'entities, another separator', await app.inject('/api/v1/manifest?seed=42&entities=users;orders'), 400, 'INVALID_PARAMETER', /^entities: 'users;orders' is not an entity name; must be a comma-separated list of entity names/);
  const live = '/api/v1/events/live?seed=42&start=2026-11-30T12:00:00Z&end=2026-11-30T12:01:00Z';
  check(t, 'weights', await app.inject(`${live}&weights=orders:-1`), 400, 'INVALID_PARAMETER', /^weights: must be a comma-separated list of name:weight/);
  for (const url of ['/api/v1/events?seed=42&types=order', `${live}&weights=orders:-1`]) {
    t.notMatch((await app.inject(url)).json(), { message: /\^|\$/ }, `${url}: no regular expression in the message`);
  }
});

t.test('a live window before the Unix epoch is a 400 naming start, not negative sequences', async (t) => {
  for (const start of ['1969-11-30T12:00:00Z', '0001-01-01T00:00:00Z']) {
    const end = start.replace(':00:00Z', ':01:00Z');
    check(t, start, await app.inject(`/api/v1/events/live?seed=42&start=${start}&end=${end}&limit=1`), 400, 'INVALID_PARAMETER', /^start: must be 1970-01-01T00:00:00Z or later/);
  }
  const first = await app.inject('/api/v1/events/live?seed=42&start=1970-01-01T00:00:00Z&end=1970-01-01T00:01:00Z&limit=1');
  t.equal(first.statusCode, 200, 'the epoch itself is a live minute');
  t.ok(((first.json() as { sequence: number }[])[0]?.sequence ?? -1) >= 0, 'with a sequence >= 0');
});

t.test('every API listing refuses unknown parameters; streams filter by state and sink like jobs', async (t) => {
  for (const url of ['/api/v1/streams?bogus=1', '/api/v1/streams/stats?bogus=1', '/api/v1/stats?bogus=1', '/api/v1/sinks?bogus=1']) {
    check(t, url, await app.inject(url), 400, 'UNKNOWN_PARAMETER', /^bogus: unknown query parameter/);
  }
  check(t, 'streams state', await app.inject('/api/v1/streams?state=asleep'), 400, 'INVALID_PARAMETER', /^state: must be one of running, stopping, succeeded, partial, failed, cancelled/);
  check(t, 'streams sink', await app.inject('/api/v1/streams?sink=gcs'), 400, 'INVALID_PARAMETER', /^sink: must be one of kafka, webhook, postgres, opensearch/);
  const running = await app.inject('/api/v1/streams?state=running&sink=kafka');
  t.equal(running.statusCode, 200);
  t.same(running.json(), [], 'no stream runs here');
});

t.test('the index names every kind of endpoint, and each one answers', async (t) => {
  const index = (await app.inject('/')).json() as Record<string, unknown>;
  for (const name of ['docs', 'openapi', 'panel', 'manifest', 'events', 'streams', 'sinks', 'jobs', 'stats']) {
    t.type(index[name], 'string', `${name} is listed`);
  }
  for (const path of ['/api/v1/streams', '/api/v1/sinks', '/api/v1/jobs', '/api/v1/stats', '/docs/json']) {
    t.equal((await app.inject(path)).statusCode, 200, `${path} answers`);
  }
  t.equal((await app.inject('/api/v1/events?seed=42&users=5&orders=5&products=5&warehouses=1&limit=1')).statusCode, 200, '/api/v1/events answers');
  t.equal((await app.inject('/api/v1/manifest?seed=42&users=5&orders=5&products=5&entities=users')).statusCode, 200, '/api/v1/manifest answers');
});

t.test('a full page of a live window links to the next one, which continues it', async (t) => {
  const window = '/api/v1/events/live?seed=42&events_per_second=10&start=2026-11-30T12:00:00Z&end=2026-11-30T12:02:00Z&format=ndjson';
  const whole = (await app.inject(`${window}&limit=100000`)).body;
  const first = await app.inject(`${window}&limit=200`);
  const next = /<([^>]+)>; rel="next"/.exec(String(first.headers.link ?? ''))?.[1];
  t.match(next, /offset=200/, 'a next link with the following offset');
  const second = await app.inject(next ?? '');
  t.equal(first.body + second.body, whole.split('\n').slice(0, 400).join('\n') + '\n', 'two pages by the link are the start of the window');
  const last = await app.inject(`${window}&limit=100000`);
  t.equal(last.headers.link, undefined, 'no next link once the window is delivered');
});
