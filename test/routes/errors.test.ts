import t from 'tap';
import { testApp } from '../support/app.js';

// Each bad input gets a 4xx JSON error { statusCode, error, message, code } naming the parameter.
const cases: ReadonlyArray<readonly [url: string, status: number, code: string, names: string]> = [
  ['/api/v1/nope', 404, 'NOT_FOUND', '/api/v1/nope'],
  ['/api/v1/users?seed=abc', 400, 'INVALID_PARAMETER', 'seed'],
  ['/api/v1/users?seed=-1', 400, 'INVALID_PARAMETER', 'seed'],
  ['/api/v1/users?seed=4294967296', 400, 'INVALID_PARAMETER', 'seed'],
  ['/api/v1/users?seed=1.5', 400, 'INVALID_PARAMETER', 'seed'],
  ['/api/v1/users?limit=0', 400, 'INVALID_PARAMETER', 'limit'],
  ['/api/v1/users?limit=1000001', 400, 'INVALID_PARAMETER', 'limit'],
  ['/api/v1/users?limit=ten', 400, 'INVALID_PARAMETER', 'limit'],
  ['/api/v1/users?offset=-5', 400, 'INVALID_PARAMETER', 'offset'],
  ['/api/v1/users?page=0', 400, 'INVALID_PARAMETER', 'page'],
  ['/api/v1/users?offset=10&page=2', 400, 'INVALID_PARAMETER', 'page'],
  ['/api/v1/users?fields=user_id,shoe_size', 400, 'UNKNOWN_FIELD', 'shoe_size'],
  ['/api/v1/users?fields=user_id,,email', 400, 'INVALID_PARAMETER', 'fields'],
  ['/api/v1/users?format=yaml', 400, 'INVALID_PARAMETER', 'format'],
  ['/api/v1/users?locale=fr_FR', 400, 'INVALID_PARAMETER', 'locale'],
  ['/api/v1/users?start_date=2025-02-30', 400, 'INVALID_PARAMETER', 'start_date'],
  ['/api/v1/users?end_date=tomorrow', 400, 'INVALID_PARAMETER', 'end_date'],
  ['/api/v1/users?start_date=2025-06-01&end_date=2025-01-01', 400, 'INVALID_PARAMETER', 'end_date'],
  ['/api/v1/users?scale=0', 400, 'INVALID_PARAMETER', 'scale'],
  ['/api/v1/users?scale=-2', 400, 'INVALID_PARAMETER', 'scale'],
  ['/api/v1/users?scale=100000', 400, 'INVALID_PARAMETER', 'scale'],
  ['/api/v1/users?users=0', 400, 'INVALID_PARAMETER', 'users'],
  ['/api/v1/orders?orders=2000000000', 400, 'INVALID_PARAMETER', 'orders'],
  ['/api/v1/users?limt=5', 400, 'UNKNOWN_PARAMETER', 'limt'],
  ['/api/v1/payments?payments=5', 400, 'UNKNOWN_PARAMETER', 'payments'],
];

t.test('bad input gets a clear 4xx naming the parameter', async (t) => {
  const app = await testApp(t);
  for (const [url, status, code, names] of cases) {
    const res = await app.inject(url);
    const body = res.json() as Record<string, unknown>;
    t.equal(res.statusCode, status, `${url}: status`);
    t.equal(body.code, code, `${url}: code`);
    t.equal(body.statusCode, status, `${url}: statusCode in body`);
    t.type(body.error, 'string', `${url}: error`);
    t.match(String(body.message), names, `${url}: message names ${names}`);
    t.match(String(res.headers['content-type']), /application\/json/, `${url}: JSON error`);
  }
});

t.test('the configured maximum limit is enforced', async (t) => {
  const app = await testApp(t, { maxLimit: 50, defaultLimit: 10 });
  const over = await app.inject('/api/v1/users?limit=51');
  t.equal(over.statusCode, 400);
  t.match(over.json().message, 'limit: must be <= 50');
  const fallback = await app.inject('/api/v1/users?seed=1');
  t.equal((fallback.json() as unknown[]).length, 10, 'default limit applies');
});

t.test('an offset beyond the population is an empty page, not an error', async (t) => {
  const app = await testApp(t);
  const res = await app.inject('/api/v1/warehouses?seed=1&offset=10000');
  t.equal(res.statusCode, 200);
  t.same(res.json(), []);
  t.equal(res.headers['x-total-count'], '10');
  const csv = await app.inject('/api/v1/warehouses?seed=1&offset=10000&format=csv');
  t.equal(csv.body.split('\r\n')[0]?.split(',')[0], 'warehouse_id', 'CSV still has its header');
  const xml = await app.inject('/api/v1/warehouses?seed=1&offset=10000&format=xml');
  t.match(xml.body, /<warehouses[^>]*><\/warehouses>/, 'XML still well-formed');
});

t.test('tiny worlds are served, not hung: a one-product catalogue caps baskets at one line', async (t) => {
  const app = await testApp(t);
  const res = await app.inject('/api/v1/orders?seed=1&products=1&users=1&orders=50&limit=50');
  t.equal(res.statusCode, 200);
  const orders = res.json() as { items: unknown[] }[];
  t.equal(orders.length, 50);
  t.ok(orders.every((o) => o.items.length === 1));
  const shipping = await app.inject('/api/v1/shipping?seed=1&products=3&orders=20');
  t.equal(shipping.statusCode, 200);
});
