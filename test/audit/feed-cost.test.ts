/**
 * The change feed's cost check: a feed whose preparation would be over the server's budget is
 * refused before any work (422 COST_BUDGET_EXCEEDED naming the parameter to lower) on every
 * path that prepares it (GET /api/v1/events in every format and with a cursor or offset,
 * /events/defects, a replay stream at creation, `ecomgen events`), while the server keeps
 * answering; the feeds it can hold (scale 10 at default parameters) are not refused.
 */
import t from 'tap';
import { feedCost } from '../../src/generators/cost.js';
import { World } from '../../src/generators/world.js';
import { DEFAULT_COST_BUDGET } from '../../src/routes/cost.js';
import { worldSpecFrom } from '../../src/routes/world-query.js';
import { testApp } from '../support/app.js';
import { inProcess } from '../support/cli.js';
import { closedPort } from '../support/jobs.js';

type Tap = Parameters<Parameters<typeof t.test>[0]>[0];
type App = Awaited<ReturnType<typeof testApp>>;

async function refused(t: Tap, app: App, request: { url: string; method?: 'GET' | 'POST'; payload?: object }, parameter: string): Promise<string> {
  const res = await app.inject({ method: request.method ?? 'GET', url: request.url, ...(request.payload ? { payload: request.payload } : {}) });
  t.equal(res.statusCode, 422, `${request.url}: 422`);
  const body = res.json() as { statusCode: number; error: string; message: string; code: string };
  t.same(Object.keys(body).sort(), ['code', 'error', 'message', 'statusCode']);
  t.equal(body.code, 'COST_BUDGET_EXCEEDED');
  t.ok(body.message.startsWith(`${parameter}: `), `names ${parameter}: ${body.message}`);
  t.match(body.message, new RegExp(`lower ${parameter} `), 'says what to lower');
  t.match(body.message, /COST_BUDGET_(MS|MB)/, 'says which budget');
  return body.message;
}

const within = (cost: { ms: number; mb: number }) => cost.ms <= DEFAULT_COST_BUDGET.ms && cost.mb <= DEFAULT_COST_BUDGET.mb;
const worldOf = (query: Parameters<typeof worldSpecFrom>[0]) => World.of(worldSpecFrom({ seed: 42, ...query }));

t.test('the estimate: scale 10 within the default budget, with chaos too; scale 1000 far over it', async (t) => {
  const ten = feedCost(worldOf({ scale: 10 }));
  t.ok(within(ten), `scale 10: ${Math.round(ten.ms)} ms, ${ten.mb.toFixed(1)} MB`);
  const chaos = { late_ratio: 0.05, duplicate_ratio: 0.01, bad_ratio: 0.001, max_lateness_ms: 86_400_000 };
  t.ok(within(feedCost(worldOf({ scale: 10 }), chaos)), 'scale 10 with the reference chaos and a day of lateness');
  t.ok(within(feedCost(worldOf({ scale: 10 }), chaos, true)), 'and its defects list');
  const thousand = feedCost(worldOf({ scale: 1000 }));
  t.ok(thousand.ms > 10 * DEFAULT_COST_BUDGET.ms && thousand.mb > 10 * DEFAULT_COST_BUDGET.mb, `scale 1000: ${Math.round(thousand.ms)} ms, ${Math.round(thousand.mb)} MB`);
  // It grows with every size the preparation walks, and with the price changes' knob.
  const one = feedCost(worldOf({ scale: 1 }));
  for (const query of [{ orders: 50_000 }, { products: 5000 }, { warehouses: 100 }, { users: 100_000 }, { price_change_rate: 10 }]) {
    t.ok(feedCost(worldOf({ scale: 1, ...query })).ms > one.ms, `${JSON.stringify(query)} costs more than scale 1`);
  }
  // A defects list holds every chaos delivery: all of them duplicated at scale 10 is too much.
  const everything = feedCost(worldOf({ scale: 10 }), { duplicate_ratio: 1 }, true);
  t.notOk(within(everything), `every event duplicated: ${Math.round(everything.mb)} MB`);
  t.equal(everything.memoryDriver, 'duplicate_ratio');
});

t.test('GET /events and /events/defects: refused before any work, naming the parameter, /health answering meanwhile', async (t) => {
  const app = await testApp(t);
  await app.listen({ port: 0, host: '127.0.0.1' });
  const base = `http://127.0.0.1:${(app.server.address() as { port: number }).port}`;
  // Over the network, with /health asked alongside: both answer.
  const [feed, health] = await Promise.all([fetch(`${base}/api/v1/events?seed=42&scale=1000&limit=1`), fetch(`${base}/health`)]);
  t.equal(feed.status, 422);
  t.equal(((await feed.json()) as { code: string }).code, 'COST_BUDGET_EXCEEDED');
  t.equal(health.status, 200);
  for (const query of ['format=ndjson', 'format=csv', 'format=xml', 'format=json', 'offset=5', 'after=ev-00000000-5', 'types=order.placed', 'late_ratio=0.05']) {
    await refused(t, app, { url: `/api/v1/events?seed=42&scale=1000&limit=1&${query}` }, 'scale');
  }
  await refused(t, app, { url: '/api/v1/events/defects?seed=42&scale=1000&late_ratio=0.05' }, 'scale');
  // The size the request set is the one to lower.
  await refused(t, app, { url: '/api/v1/events?seed=42&orders=100000000&limit=1' }, 'orders');
  await refused(t, app, { url: '/api/v1/events?seed=42&products=10000000&limit=1' }, 'products');
  await refused(t, app, { url: '/api/v1/events?seed=42&users=1000000000&limit=1' }, 'users');
  // A defects list of every event of a scale-10 world, duplicated, is refused by its ratio.
  await refused(t, app, { url: '/api/v1/events/defects?seed=42&scale=10&duplicate_ratio=1' }, 'duplicate_ratio');
  t.equal((await fetch(`${base}/health`)).status, 200, '/health still answers');
});

t.test('a small feed is served; the same feed over a tiny budget is refused', async (t) => {
  const query = 'seed=7&scale=0.05&limit=3&format=ndjson';
  const app = await testApp(t);
  const ok = await app.inject(`/api/v1/events?${query}`);
  t.equal(ok.statusCode, 200);
  const events = ok.body.trimEnd().split('\n').map((line) => JSON.parse(line) as { sequence: number });
  t.same(events.map((e) => e.sequence), [0, 1, 2]);
  t.equal((await app.inject('/api/v1/events/defects?seed=7&scale=0.05&bad_ratio=0.01')).statusCode, 200);
  const tight = await testApp(t, { costBudget: { ms: 1 } });
  const message = await refused(t, tight, { url: `/api/v1/events?${query}` }, 'scale');
  t.match(message, /^scale: the change feed in this world needs an estimated [\d.]+ s of precomputation, over this server's budget of 0\.0 s per request \(COST_BUDGET_MS\)/);
  const small = await testApp(t, { costBudget: { mb: 1 } });
  await refused(t, small, { url: '/api/v1/events?seed=7&scale=1&limit=1' }, 'scale');
});

t.test('a replay stream over budget is refused at creation, and no stream is made', async (t) => {
  const endpoint = `http://127.0.0.1:${await closedPort()}/hooks`;
  const app = await testApp(t, { sinks: { webhook: { endpoint, secret: 's3cret-s3cret-s3cret', maxCount: 10, timeoutMs: 1000, retries: 0, backoffMs: 5 } } });
  await refused(t, app, { method: 'POST', url: '/api/v1/streams', payload: { sink: 'webhook', mode: 'replay', seed: 42, scale: 1000 } }, 'scale');
  await refused(t, app, { method: 'POST', url: '/api/v1/streams', payload: { sink: 'webhook', mode: 'replay', seed: 42, orders: 100_000_000 } }, 'orders');
  t.same((await app.inject('/api/v1/streams')).json(), [], 'no stream was started');
});

t.test('ecomgen events: refused with the same message, exit code 2', async (t) => {
  const run = await inProcess(['events', '--seed', '42', '--scale', '1000', '--limit', '1', '--out', '-']);
  t.equal(run.code, 2);
  t.equal(run.out, '');
  t.match(run.err, /^error: --scale: the change feed in this world needs an estimated \d+ MB of precomputed state/);
  const defects = await inProcess(['events', '--seed', '42', '--scale', '1000', '--defects', '--late-ratio', '0.1', '--out', '-']);
  t.equal(defects.code, 2);
  t.match(defects.err, /^error: --scale: the defects list of the change feed in this world needs/);
});
