/**
 * The cost model: requests whose world is too large for the server's budget are refused before
 * any work (422 COST_BUDGET_EXCEEDED naming the parameter to lower), large worlds that need no
 * precomputation are served at once, and a manifest is computed off the event loop while other
 * requests are answered.
 */
import t from 'tap';
import { testApp } from '../support/app.js';
import { closedPort } from '../support/jobs.js';

const refused = async (t: Tap, app: Awaited<ReturnType<typeof testApp>>, url: string, parameter: string) => {
  const res = await app.inject(url);
  t.equal(res.statusCode, 422, `${url}: 422`);
  const body = res.json() as { statusCode: number; error: string; message: string; code: string };
  t.same(Object.keys(body).sort(), ['code', 'error', 'message', 'statusCode']);
  t.equal(body.code, 'COST_BUDGET_EXCEEDED');
  t.ok(body.message.startsWith(`${parameter}: `), `${url}: names ${parameter} (${body.message})`);
  t.match(body.message, /COST_BUDGET_(MS|MB)/, 'says which budget');
};
type Tap = Parameters<Parameters<typeof t.test>[0]>[0];

t.test('the abuse cases of issue 10 are refused at once, naming the parameter', async (t) => {
  const app = await testApp(t);
  await refused(t, app, '/api/v1/analytics/users?users=1000000000&limit=1', 'users');
  await refused(t, app, '/api/v1/order-items?orders=1000000000&limit=1', 'orders');
  await refused(t, app, '/api/v1/manifest?scale=10000', 'scale');
  await refused(t, app, '/api/v1/analytics/users?scale=100&limit=1', 'scale');
  await refused(t, app, '/api/v1/clickstream?scale=10000&limit=1', 'scale');
  await refused(t, app, '/api/v1/manifest?seed=1&users=50&orders=80&products=20&entities=performance-events', 'entities');
});

t.test('large worlds that need no precomputation are served', async (t) => {
  const app = await testApp(t);
  for (const [url, total] of [
    ['/api/v1/orders?seed=5&orders=100000000&limit=1', 100_000_000],
    ['/api/v1/users?seed=5&users=1000000000&limit=2&offset=999999998', 1_000_000_000],
    ['/api/v1/payments?seed=5&orders=1000000000&limit=1', 1_000_000_000],
  ] as const) {
    const res = await app.inject(url);
    t.equal(res.statusCode, 200, url);
    t.equal(Number(res.headers['x-total-count']), total);
    t.ok((res.json() as object[]).length > 0);
  }
  const segments = (await app.inject('/api/v1/users?seed=5&users=1000000000&limit=3&fields=segment_id')).json() as { segment_id: string }[];
  const ids = (await app.inject('/api/v1/customer-segments?seed=5')).json() as { segment_id: string; code: string }[];
  const vip = ids.find((s) => s.code === 'vip')?.segment_id;
  t.ok(vip !== undefined && segments.every((u) => u.segment_id === vip || ids.some((s) => s.segment_id === u.segment_id)), 'the first users carry known segments');
});

t.test('a sink POST for a world over the budget is refused before a job starts', async (t) => {
  const app = await testApp(t, { sinks: { postgres: { connectionString: `postgres://u:p@127.0.0.1:${await closedPort()}/db` } } });
  const res = await app.inject({ method: 'POST', url: '/api/v1/sinks/postgres', payload: { seed: 1, scale: 10000 } });
  t.equal(res.statusCode, 422);
  t.equal(res.json().code, 'COST_BUDGET_EXCEEDED');
  t.match(res.json().message, /^scale: /);
  const jobs = (await app.inject('/api/v1/jobs')).json() as unknown[];
  t.equal(jobs.length, 0, 'no job was created');
});

t.test('the budget is configurable', async (t) => {
  const small = await testApp(t, { costBudget: { ms: 1 } });
  await refused(t, small, '/api/v1/order-items?seed=1&orders=5000&limit=1', 'orders');
  t.equal((await small.inject('/api/v1/orders?seed=1&limit=1')).statusCode, 200, 'no precomputation, no refusal');
  const tight = await testApp(t, { costBudget: { mb: 1 } });
  await refused(t, tight, '/api/v1/analytics/products?seed=1&users=100000&limit=1', 'users');
  const generous = await testApp(t, { costBudget: { ms: 10_000_000, mb: 100_000 } });
  const res = await generous.inject('/api/v1/order-items?seed=1&orders=20000&limit=1');
  t.equal(res.statusCode, 200);
});

t.test('a manifest is computed off the event loop: /health answers while it runs', async (t) => {
  const app = await testApp(t);
  const done: string[] = [];
  const manifest = app.inject('/api/v1/manifest?seed=9&users=300&orders=1500&products=100').then((res) => {
    done.push('manifest');
    return res;
  });
  // Let the manifest request reach its handler and hand the work to the precompute thread.
  await new Promise((resolve) => setTimeout(resolve, 50));
  const health = await app.inject('/health');
  done.push('health');
  t.equal(health.statusCode, 200);
  const res = await manifest;
  t.equal(res.statusCode, 200);
  t.same(done, ['health', 'manifest'], '/health was answered before the manifest finished');
  const again = app.inject('/api/v1/manifest?seed=9&users=300&orders=1500&products=100');
  const twin = app.inject('/api/v1/manifest?seed=9&users=300&orders=1500&products=100');
  const [a, b] = await Promise.all([again, twin]);
  t.equal(a.body, res.body, 'cached');
  t.equal(b.body, res.body, 'shared');
});

t.test('child indexes and aggregates are built off the event loop, and serve the same records', async (t) => {
  const app = await testApp(t);
  const world = 'seed=12&users=400&products=80&orders=3000';
  const done: string[] = [];
  const analytics = app.inject(`/api/v1/analytics/users?${world}&limit=400`).then((res) => {
    done.push('analytics');
    return res;
  });
  await new Promise((resolve) => setImmediate(resolve));
  t.equal((await app.inject('/health')).statusCode, 200);
  done.push('health');
  const [itemsRes, analyticsRes] = await Promise.all([app.inject(`/api/v1/order-items?${world}&limit=4&offset=6000`), analytics]);
  t.same(done, ['health', 'analytics'], '/health was answered while the aggregates were computed');

  // Order lines in order, flattened, are the order-items: the installed index places them right.
  const orders = (await app.inject(`/api/v1/orders?${world}&limit=3000`)).json() as { order_id: string; user_id: string; status: string; items: { line_number: number; product_id: string }[] }[];
  const lines = orders.flatMap((o) => o.items.map((line) => ({ order_id: o.order_id, line_number: line.line_number, product_id: line.product_id })));
  t.equal(Number(itemsRes.headers['x-total-count']), lines.length, 'population = lines of all orders');
  const served = (itemsRes.json() as { order_id: string; line_number: number; product_id: string }[]).map(({ order_id, line_number, product_id }) => ({ order_id, line_number, product_id }));
  t.same(served, lines.slice(6000, 6004), 'records 6000..6003 are the lines at those positions');

  // The adopted aggregates count each user's orders as /orders does.
  const users = (await app.inject(`/api/v1/users?${world}&limit=400&fields=user_id`)).json() as { user_id: string }[];
  const counted = new Map<string, number>();
  for (const o of orders) counted.set(o.user_id, (counted.get(o.user_id) ?? 0) + 1);
  const rows = analyticsRes.json() as { user_id: string; orders_count: number }[];
  t.same(rows.map((r) => r.orders_count), users.map((u) => counted.get(u.user_id) ?? 0), 'orders_count per user matches /orders');
});
