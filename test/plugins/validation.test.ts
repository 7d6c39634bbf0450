import t from 'tap';
import { testApp } from '../support/app.js';

const errorOf = (body: string) => JSON.parse(body) as { statusCode: number; error: string; message: string; code: string };

t.test('query numbers must be finite and in range: Infinity, NaN and 1e308 are 400s naming the parameter', async (t) => {
  const app = await testApp(t);
  const cases: ReadonlyArray<readonly [string, string]> = [
    ['/api/v1/users?users=-Infinity', 'users'],
    ['/api/v1/users?users=Infinity', 'users'],
    ['/api/v1/order-items?orders=-Infinity&limit=1', 'orders'],
    ['/api/v1/users?scale=Infinity', 'scale'],
    ['/api/v1/users?scale=1e999', 'scale'],
    ['/api/v1/users?scale=NaN', 'scale'],
    ['/api/v1/users?seed=1e308', 'seed'],
    ['/api/v1/users?page=1e308', 'page'],
    ['/api/v1/users?page=Infinity', 'page'],
    ['/api/v1/users?offset=1e308', 'offset'],
    ['/api/v1/users?offset=1000000001', 'offset'],
    ['/api/v1/users?limit=-Infinity', 'limit'],
    ['/api/v1/users?limit=2.5', 'limit'],
    ['/api/v1/manifest?scale=Infinity', 'scale'],
  ];
  for (const [url, name] of cases) {
    const res = await app.inject(url);
    const body = errorOf(res.body);
    t.equal(res.statusCode, 400, `${url}: 400`);
    t.equal(body.code, 'INVALID_PARAMETER', `${url}: code`);
    t.equal(body.error, 'Bad Request', `${url}: error`);
    t.match(body.message, new RegExp(`^${name}: `), `${url}: names ${name}`);
    t.notMatch(res.headers.link ?? '', 'Infinity', `${url}: no Infinity in Link`);
  }
  const max = await app.inject('/api/v1/users?seed=1&limit=1&page=1000000000');
  t.equal(max.statusCode, 200, 'the largest page is served (empty)');
  t.same(max.json(), []);
  t.notMatch(String(max.headers.link), /Infinity|e\+/, 'Link carries plain integers');
});

t.test('query numbers are decimal: hex, binary, octal, blanks and separators are 400s naming the parameter', async (t) => {
  const app = await testApp(t);
  const cases: ReadonlyArray<readonly [string, string]> = [
    ['/api/v1/users?limit=0x10', 'limit'],
    ['/api/v1/users?seed=0b11', 'seed'],
    ['/api/v1/users?seed=0o17', 'seed'],
    ['/api/v1/users?limit=', 'limit'],
    ['/api/v1/users?limit=%2010', 'limit'],
    ['/api/v1/users?limit=10%20', 'limit'],
    ['/api/v1/users?seed=1_000', 'seed'],
    ['/api/v1/orders?scale=0x2', 'scale'],
    ['/api/v1/events?limit=0x10', 'limit'],
    ['/api/v1/manifest?seed=0x1', 'seed'],
  ];
  for (const [url, name] of cases) {
    const res = await app.inject(url);
    t.equal(res.statusCode, 400, `${url}: 400`);
    t.equal(errorOf(res.body).message, `${name}: must be a decimal number`, `${url}: names ${name}`);
  }
  // Decimal spellings still work, exponent included.
  for (const [url, rows] of [['/api/v1/users?seed=7&limit=1e1', 10], ['/api/v1/users?seed=007&limit=3.0', 3], ['/api/v1/users?seed=0&limit=2', 2]] as const) {
    const res = await app.inject(url);
    t.equal(res.statusCode, 200, `${url}: 200`);
    t.equal((res.json() as unknown[]).length, rows, `${url}: ${rows} rows`);
  }
  t.same((await app.inject('/api/v1/users?seed=007&limit=2')).json(), (await app.inject('/api/v1/users?seed=7&limit=2')).json(), '007 is 7');
});

t.test('JSON bodies are not coerced: null, booleans, arrays and unsafe integers are 400s', async (t) => {
  const app = await testApp(t);
  const cases: ReadonlyArray<readonly [string, string]> = [
    ['{"seed":null}', 'seed'],
    ['{"seed":"42"}', 'seed'],
    ['{"entity":"users","limit":true}', 'limit'],
    ['{"entity":"users","limit":"5"}', 'limit'],
    ['{"entity":"users","schema":["x"]}', 'schema'],
    ['{"entity":"users","topic":9007199254740993}', 'topic'],
    ['{"entity":"users","topic":["orders"]}', 'topic'],
    ['{"seed":9007199254740993}', 'seed'],
    ['{"scale":1e400}', 'scale'],
  ];
  for (const [payload, name] of cases) {
    const sink = name === 'schema' ? 'postgres' : 'kafka';
    const res = await app.inject({ method: 'POST', url: `/api/v1/sinks/${sink}`, payload, headers: { 'content-type': 'application/json' } });
    const body = errorOf(res.body);
    t.equal(res.statusCode, 400, `${payload}: 400`);
    t.equal(body.code, 'INVALID_PARAMETER', `${payload}: code`);
    t.match(body.message, new RegExp(`^${name}: `), `${payload}: names ${name}`);
  }
  // Well-typed bodies pass validation and reach the handler (here: the sink is not configured).
  const ok = await app.inject({ method: 'POST', url: '/api/v1/sinks/kafka', payload: { seed: 42, entity: 'users', limit: 5, topic: 'users.raw' } });
  t.equal(ok.statusCode, 409);
  t.equal(errorOf(ok.body).code, 'SINK_NOT_CONFIGURED');
  // The query string of a POST is still coerced.
  const wait = await app.inject({ method: 'POST', url: '/api/v1/sinks/kafka?wait=yes', payload: {} });
  t.equal(wait.statusCode, 400);
  t.match(errorOf(wait.body).message, /^wait: /);
});
