import { setTimeout as sleep } from 'node:timers/promises';
import type { FastifyInstance } from 'fastify';
import t from 'tap';
import type { WebhookConfig } from '../../src/config.js';
import { testApp } from '../support/app.js';
import { always, failFirst, scripts, webhookReceiver, type Delivery, type Script, type WebhookReceiver } from '../support/webhook-receiver.js';
import { closedPort, type EntityProgressJson, type JobJson as SinkJobJson } from '../support/jobs.js';

const SECRET = 'whsec_test_0123456789';
const WORLD = { seed: 7, users: 50, orders: 100, transactions: 300 };
const WORLD_QUERY = 'seed=7&users=50&orders=100&transactions=300';

interface EntityJson extends EntityProgressJson {
  attempts: number;
  retries: number;
}

type JobJson = SinkJobJson<EntityJson>;

const configFor = (endpoint: string, overrides: Partial<WebhookConfig> = {}): WebhookConfig => ({
  endpoint,
  secret: SECRET,
  maxCount: 1000,
  timeoutMs: 500,
  retries: 3,
  backoffMs: 5,
  ...overrides,
});

async function setup(t: { teardown: (fn: () => unknown) => void }, script?: Script, overrides: Partial<WebhookConfig> = {}): Promise<{ app: FastifyInstance; receiver: WebhookReceiver }> {
  const receiver = await webhookReceiver(t, SECRET, script);
  const app = await testApp(t, { sinks: { webhook: configFor(receiver.url, overrides) } });
  return { app, receiver };
}

async function push(app: FastifyInstance, body: Record<string, unknown>): Promise<JobJson> {
  const response = await app.inject({ method: 'POST', url: '/api/v1/sinks/webhook?wait=true', payload: body });
  if (response.statusCode !== 200) throw new Error(`POST answered ${response.statusCode}: ${response.body}`);
  return response.json() as JobJson;
}

/** The NDJSON lines GET serves for the same world: what each body must equal, byte for byte. */
async function linesOf(app: FastifyInstance, entity: string, offset: number, limit: number): Promise<string[]> {
  const response = await app.inject(`/api/v1/${entity}?${WORLD_QUERY}&format=ndjson&offset=${offset}&limit=${limit}`);
  return response.body.split('\n').filter((line) => line !== '');
}

const bytesOf = (deliveries: readonly Delivery[]) => deliveries.reduce((sum, d) => sum + Buffer.byteLength(d.body), 0);
const ofIndex = (receiver: WebhookReceiver, index: number) => receiver.deliveries.filter((d) => d.index === index);
const only = (job: JobJson): EntityJson => {
  if (job.entities.length !== 1) throw new Error(`expected one entity, got ${job.entities.length}`);
  return job.entities[0] as EntityJson;
};

t.test('by default 100 transactions arrive once each, signed, byte for byte the GET ndjson lines, in order', async (t) => {
  const { app, receiver } = await setup(t);
  const job = await push(app, WORLD);
  const lines = await linesOf(app, 'transactions', 0, 100);
  const json = (await app.inject(`/api/v1/transactions?${WORLD_QUERY}&limit=100`)).json() as Record<string, unknown>[];
  const entity = only(job);

  t.equal(job.state, 'succeeded');
  t.same([entity.entity, entity.planned, entity.records, entity.failed, entity.state], ['transactions', 100, 100, 0, 'done'], 'default entity transactions, default count 100, all delivered');
  t.same([entity.attempts, entity.retries], [100, 0], 'one attempt each');
  t.equal(entity.destination, receiver.url);
  t.equal(receiver.deliveries.length, 100, 'exactly 100 requests');
  t.ok(receiver.deliveries.every((d) => d.verified), 'every X-Signature verifies');
  t.same(receiver.deliveries.map((d) => d.body), lines, 'each body is the ndjson line of its record, in order');
  t.same(receiver.deliveries.map((d) => JSON.parse(d.body) as unknown), json, 'bodies parse to the GET json output');
  t.same(json.map((r) => JSON.stringify(r)), lines, 'JSON.stringify of a record is its ndjson line');
  t.same(receiver.deliveries.map((d) => d.key), json.map((r) => `transactions:${String(r.transaction_id)}`), 'Idempotency-Key is the entity and primary key');
  t.equal(new Set(receiver.deliveries.map((d) => d.key)).size, 100, 'no key twice');
  t.same(receiver.deliveries.map((d) => d.index), [...Array(100).keys()], 'X-Ecomgen-Index counts up');
  const first = receiver.deliveries[0] as Delivery;
  t.same(
    [first.headers['content-type'], first.headers['x-ecomgen-entity'], first.headers['x-ecomgen-seed'], first.headers['x-ecomgen-attempt'], first.headers['x-ecomgen-job']],
    ['application/json', 'transactions', '7', '1', job.id],
    'provenance headers',
  );
  t.equal(job.bytes, bytesOf(receiver.deliveries), 'bytes = the bodies acknowledged');
  t.equal(entity.bytes, job.bytes);
});

t.test('count and offset pick the window; limit stands for count; count applies to each entity', async (t) => {
  const { app, receiver } = await setup(t);
  const windowed = await push(app, { ...WORLD, entity: 'transactions', offset: 250, count: 20 });
  t.same([windowed.state, windowed.records, only(windowed).planned], ['succeeded', 20, 20]);
  t.same(receiver.deliveries.map((d) => d.body), await linesOf(app, 'transactions', 250, 20), 'records 250..269, as GET serves them');
  t.same(receiver.deliveries.map((d) => d.index), [...Array(20).keys()].map((i) => 250 + i));

  receiver.deliveries.length = 0;
  const limited = await push(app, { ...WORLD, entity: 'transactions', limit: 5 });
  t.same([limited.state, limited.records], ['succeeded', 5], 'limit 5 sends 5');
  t.same(receiver.deliveries.map((d) => d.body), await linesOf(app, 'transactions', 0, 5));

  receiver.deliveries.length = 0;
  const two = await push(app, { ...WORLD, entities: ['transactions', 'orders'], count: 3 });
  t.same(two.entities.map((e) => [e.entity, e.records]), [['orders', 3], ['transactions', 3]], 'dependency order, 3 of each');
  t.same(receiver.deliveries.map((d) => d.body), [...(await linesOf(app, 'orders', 0, 3)), ...(await linesOf(app, 'transactions', 0, 3))], 'orders (nested items included) then transactions');
  t.same(receiver.deliveries.slice(0, 3).map((d) => d.key), (await linesOf(app, 'orders', 0, 3)).map((l) => `orders:${String((JSON.parse(l) as { order_id: string }).order_id)}`), 'orders keyed by order_id');
  t.ok(receiver.deliveries.every((d) => d.verified));
});

t.test('5xx, 429 and a closed socket are retried: every record still arrives exactly once', async (t) => {
  const { app, receiver } = await setup(t, scripts(failFirst(2, [2, 5]), failFirst(1, [7], 429), failFirst(1, [9]), (d) => (d.index === 11 && d.attempt === 1 ? 'destroy' : undefined)));
  const job = await push(app, { ...WORLD, count: 20 });
  const entity = only(job);

  t.same([job.state, job.records, job.failed, job.error_count], ['succeeded', 20, 0, 0], 'all delivered, nothing failed');
  t.same([entity.retries, entity.attempts], [2 + 2 + 1 + 1 + 1, 20 + 7], 'retries counted: 2 + 2 (503s), 1 (429), 1 (503), 1 (closed socket)');
  const accepted = receiver.accepted();
  t.equal(accepted.length, 20, 'acknowledged 20 times');
  t.same(accepted.map((d) => d.body), await linesOf(app, 'transactions', 0, 20), 'each record accepted exactly once, in order');
  t.same(ofIndex(receiver, 2).map((d) => [d.attempt, d.headers['x-ecomgen-attempt'], d.reply]), [[1, '1', 503], [2, '2', 503], [3, '3', 200]], 'record 2: two 503s, then accepted');
  t.same(ofIndex(receiver, 7).map((d) => d.reply), [429, 200]);
  t.same(ofIndex(receiver, 11).map((d) => d.reply), ['destroy', 200]);
  t.equal(new Set(ofIndex(receiver, 2).map((d) => d.body)).size, 1, 'a retry sends the same bytes');
  t.equal(new Set(ofIndex(receiver, 2).map((d) => d.key)).size, 1, 'with the same Idempotency-Key');
  t.equal(receiver.deliveries.length, 27, 'and nothing else was sent');
  t.ok(receiver.deliveries.every((d) => d.verified), 'retries are signed too');
  t.equal(job.bytes, bytesOf(accepted), 'bytes count each record once');
});

t.test('persistent 5xx fails a record after its retries, a 4xx at once; failures are counted exactly and stats add up', async (t) => {
  const { app, receiver } = await setup(t, scripts(always(500, [3]), always(400, [6]), always(422, [8]), always(302, [9])));
  const partial = await push(app, { ...WORLD, count: 10 });
  const entity = only(partial);

  t.equal(partial.state, 'partial', 'a job with failed records is partial');
  t.same([partial.records, partial.failed, entity.records, entity.failed], [6, 4, 6, 4], '6 delivered, 4 failed');
  t.equal(partial.records + partial.failed, entity.planned, 'delivered + failed = attempted');
  t.equal(ofIndex(receiver, 3).length, 4, 'record 3: the first attempt and 3 retries');
  t.equal(ofIndex(receiver, 6).length, 1, 'record 6: a 400 is not retried');
  t.equal(ofIndex(receiver, 8).length, 1, 'record 8: a 422 is not retried');
  t.equal(ofIndex(receiver, 9).length, 1, 'record 9: a redirect is neither followed nor retried');
  t.same([entity.attempts, entity.retries], [13, 3]);
  t.equal(partial.error_count, 4, 'one error per failed record');
  t.match(partial.errors[0], /^transactions: record 3 \(transactions:[0-9a-f-]+\): HTTP 500 Internal Server Error: .* \(4 attempts\)$/);
  t.match(partial.errors[1], /^transactions: record 6 .*HTTP 400 Bad Request.*\(not retried\)$/);
  t.match(partial.errors[2], /record 8 .*HTTP 422/);
  t.match(partial.errors[3], /record 9 .*HTTP 302/);
  t.same(receiver.accepted().map((d) => d.index), [0, 1, 2, 4, 5, 7], 'the others arrived, once each');

  receiver.script = () => undefined;
  const succeeded = await push(app, { ...WORLD, count: 5, offset: 10, entity: 'transactions' });
  t.equal(succeeded.state, 'succeeded');
  const stats = (await app.inject('/api/v1/stats')).json() as { sinks: Record<string, { records: number; bytes: number; failed: number; jobs: Record<string, number> }> };
  const webhook = stats.sinks.webhook;
  t.same(
    webhook && [webhook.records, webhook.failed, webhook.bytes],
    [11, 4, bytesOf(receiver.accepted())],
    'stats: records and bytes of both jobs, failures of the first',
  );
  t.same(webhook?.jobs, { total: 2, running: 0, succeeded: 1, partial: 1, failed: 0, cancelled: 0 });
});

t.test('a receiver that does not answer in time is retried; one that never answers fails that record', async (t) => {
  // One retry instead of three keeps the waits for the 500 ms timeout to three.
  const { app, receiver } = await setup(t, scripts((d) => (d.index === 2 && d.attempt === 1 ? 'hang' : undefined), always('hang', [4])), { retries: 1 });
  const job = await push(app, { ...WORLD, count: 6 });
  const entity = only(job);

  t.same([job.state, job.records, job.failed], ['partial', 5, 1], 'record 4 failed, the rest delivered');
  t.same(ofIndex(receiver, 2).map((d) => d.reply), ['hang', 200], 'record 2 delivered on its second attempt');
  t.equal(ofIndex(receiver, 4).length, 2, 'record 4 tried twice (1 retry)');
  t.match(job.errors[0], /record 4 .*no answer within 500 ms \(2 attempts\)/);
  t.same(receiver.accepted().map((d) => d.index), [0, 1, 2, 3, 5], 'record 5 still sent after the failure');
  t.same([entity.attempts, entity.retries], [8, 2]);
});

t.test('delay_ms paces the sends without changing what or in which order', async (t) => {
  const { app, receiver } = await setup(t);
  const job = await push(app, { ...WORLD, count: 5, delay_ms: 20 });
  t.same([job.state, job.records], ['succeeded', 5]);
  t.same(receiver.deliveries.map((d) => d.body), await linesOf(app, 'transactions', 0, 5), 'same records, same order, once each');
});

t.test('options are validated: 400 naming the field, nothing sent', async (t) => {
  const { app, receiver } = await setup(t);
  const cases: [Record<string, unknown>, RegExp][] = [
    [{ count: 1001 }, /^count: must be at most 1000 \(STREAM_MAX_COUNT\), got 1001$/],
    [{ count: 0 }, /^count: /],
    [{ count: 2.5 }, /^count: /],
    [{ delay_ms: 2001 }, /^delay_ms: /],
    [{ delay_ms: -1 }, /^delay_ms: /],
    [{ delay_ms: 'soon' }, /^delay_ms: /],
    [{ entity: 'transactions', limit: 5000 }, /^limit: must be at most 1000/],
    [{ entity: 'transactions', limit: 5, count: 5 }, /^count: give count or limit, not both/],
    [{ endpoint: 'http://169.254.169.254/' }, /^endpoint: unknown body field$/],
    [{ secret: 'x' }, /^secret: unknown body field$/],
  ];
  for (const [body, message] of cases) {
    const response = await app.inject({ method: 'POST', url: '/api/v1/sinks/webhook', payload: { ...WORLD, ...body } });
    t.equal(response.statusCode, 400, JSON.stringify(body));
    t.match((response.json() as { message: string }).message, message);
  }
  t.equal(receiver.deliveries.length, 0);

  const small = await testApp(t, { sinks: { webhook: configFor(receiver.url, { maxCount: 50 }) } });
  const defaulted = await small.inject({ method: 'POST', url: '/api/v1/sinks/webhook', payload: WORLD });
  t.equal(defaulted.statusCode, 400, 'the default count may not exceed a smaller STREAM_MAX_COUNT');
  t.match((defaulted.json() as { message: string }).message, /^count: required: the default 100 is more than this server's STREAM_MAX_COUNT \(50\)$/);
  const fits = await small.inject({ method: 'POST', url: '/api/v1/sinks/webhook?wait=true', payload: { ...WORLD, count: 50 } });
  t.equal((fits.json() as JobJson).records, 50, 'count 50 fits');

  const unconfigured = await testApp(t);
  const missing = await unconfigured.inject({ method: 'POST', url: '/api/v1/sinks/webhook', payload: WORLD });
  t.equal(missing.statusCode, 409);
  t.match((missing.json() as { message: string }).message, /STREAM_ENDPOINT and STREAM_SECRET/);
});

t.test('credentials in STREAM_ENDPOINT go as basic auth and, like the query, stay out of the progress', async (t) => {
  const receiver = await webhookReceiver(t, SECRET);
  const endpoint = receiver.url.replace('http://', 'http://hook%20user:p%40ss@') + '?token=s3cret';
  const app = await testApp(t, { sinks: { webhook: configFor(endpoint) } });
  const job = await push(app, { ...WORLD, count: 2 });
  t.same([job.state, job.records], ['succeeded', 2]);
  t.equal(only(job).destination, receiver.url, 'destination: origin and path only');
  t.notMatch(JSON.stringify(job), /s3cret|p%40ss|p@ss/, 'no secret anywhere in the job');
  const delivery = receiver.deliveries[0] as Delivery;
  t.equal(delivery.headers.authorization, `Basic ${Buffer.from('hook user:p@ss').toString('base64')}`);
});

t.test('an unreachable endpoint fails the job after one record, with a clear error', async (t) => {
  const port = await closedPort();
  const app = await testApp(t, { sinks: { webhook: configFor(`http://127.0.0.1:${port}/hooks`) } });
  const job = await push(app, { ...WORLD, count: 50 });
  const entity = only(job);
  t.equal(job.state, 'failed');
  t.same([job.records, job.failed, entity.attempts], [0, 1, 4], 'the first record failed after its retries; no other was tried');
  t.equal(entity.state, 'failed');
  t.match(entity.error, new RegExp(`^webhook endpoint http://127\\.0\\.0\\.1:${port}/hooks is unreachable: no HTTP answer after 3 retries \\(.*ECONNREFUSED`));
  t.ok(job.errors.some((e) => e === entity.error), 'the job names it too');
});

t.test('an endpoint that stops answering fails the job after 3 unanswered records in a row', async (t) => {
  const { app, receiver } = await setup(t, (d) => (d.index >= 3 ? 'destroy' : undefined));
  const job = await push(app, { ...WORLD, count: 10 });
  t.equal(job.state, 'failed');
  t.same([job.records, job.failed], [3, 3], '3 delivered, 3 given up on, 4 never tried');
  t.equal(receiver.deliveries.length, 3 + 3 * 4);
  t.same([...new Set(receiver.deliveries.map((d) => d.index))], [0, 1, 2, 3, 4, 5]);
  t.match(job.errors.at(-1), /stopped answering: 3 records in a row got no HTTP answer/);
});

t.test('cancelling mid-way stops sending: delivered < count, and the receiver has exactly those', async (t) => {
  const { app, receiver } = await setup(t);
  const started = await app.inject({ method: 'POST', url: '/api/v1/sinks/webhook', payload: { ...WORLD, count: 50, delay_ms: 500 } });
  t.equal(started.statusCode, 202);
  const id = (started.json() as JobJson).id;
  let running = started.json() as JobJson;
  while (running.records < 2) {
    await sleep(10);
    running = (await app.inject(`/api/v1/jobs/${id}`)).json() as JobJson;
  }
  // The sink is now in its 500 ms pause after a delivery: the cancel lands between sends.
  const cancelled = (await app.inject({ method: 'DELETE', url: `/api/v1/jobs/${id}` })).json() as JobJson;
  t.equal(cancelled.state, 'cancelled');
  t.ok(cancelled.records >= 2 && cancelled.records < 50, `delivered ${cancelled.records} of 50`);
  t.equal(cancelled.failed, 0);
  t.equal(only(cancelled).state, 'cancelled');
  t.same(receiver.deliveries.map((d) => d.body), await linesOf(app, 'transactions', 0, cancelled.records), 'the receiver got exactly the delivered records');
  await sleep(600);
  t.equal(receiver.deliveries.length, cancelled.records, 'and nothing more after the cancel');
});

/** Starts a job without waiting, and polls it until `ready` holds. */
async function startAndWait(app: FastifyInstance, body: Record<string, unknown>, ready: (job: JobJson) => boolean): Promise<string> {
  const started = await app.inject({ method: 'POST', url: '/api/v1/sinks/webhook', payload: body });
  if (started.statusCode !== 202) throw new Error(`POST answered ${started.statusCode}: ${started.body}`);
  const id = (started.json() as JobJson).id;
  let job = started.json() as JobJson;
  while (!ready(job)) {
    await sleep(10);
    job = (await app.inject(`/api/v1/jobs/${id}`)).json() as JobJson;
  }
  return id;
}

t.test('cancelling aborts a request in flight and a backoff wait; that record counts neither delivered nor failed', async (t) => {
  // Timeouts and backoff far longer than the cancel wait: only an abort can end these jobs in time.
  const inFlight = await setup(t, always('hang', [1]), { timeoutMs: 120_000 });
  const hangingId = await startAndWait(inFlight.app, { ...WORLD, count: 5 }, (j) => (j.entities[0]?.attempts ?? 0) >= 1 && inFlight.receiver.deliveries.length === 2);
  const hanging = await inFlight.app.inject({ method: 'DELETE', url: `/api/v1/jobs/${hangingId}` });
  t.equal(hanging.statusCode, 200, 'the job stopped');
  const hangingJob = hanging.json() as JobJson;
  t.same([hangingJob.state, hangingJob.records, hangingJob.failed, only(hangingJob).attempts], ['cancelled', 1, 0, 2], 'record 0 delivered; record 1 was in flight');

  const backingOff = await setup(t, always(503, [1]), { backoffMs: 60_000 });
  const waitingId = await startAndWait(backingOff.app, { ...WORLD, count: 5 }, (j) => (j.entities[0]?.attempts ?? 0) >= 2);
  const waiting = await backingOff.app.inject({ method: 'DELETE', url: `/api/v1/jobs/${waitingId}` });
  t.equal(waiting.statusCode, 200, 'the job stopped');
  const waitingJob = waiting.json() as JobJson;
  t.same([waitingJob.state, waitingJob.records, waitingJob.failed, only(waitingJob).retries], ['cancelled', 1, 0, 0], 'cancelled before the first retry');
  t.same(backingOff.receiver.deliveries.map((d) => [d.index, d.reply]), [[0, 200], [1, 503]]);
});
