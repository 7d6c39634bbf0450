import type { FastifyInstance } from 'fastify';
import t from 'tap';
import type { KafkaConfig, WebhookConfig } from '../../src/config.js';
import { streamKeyOf, streamTopicOf } from '../../src/sinks/kafka-stream.js';
import { REPLAY_PAUSE, type FeedEvent } from '../../src/streams/feed-contract.js';
import { FeedUnavailableError, changeFeed, type FeedProvider, type FeedRequest } from '../../src/streams/source.js';
import { feedEvents } from '../../src/events/feed.js';
import { World } from '../../src/generators/world.js';
import { worldSpecFrom } from '../../src/routes/world-query.js';
import { testApp } from '../support/app.js';
import { TEST_EVENT_TYPES, liveFeed, testEvent, testFeedProvider } from '../support/feed-source.js';
import { KafkaTestBroker, type StoredRecord } from '../support/kafka-broker.js';
import { webhookReceiver } from '../support/webhook-receiver.js';


interface StreamJson {
  id: string;
  state: string;
  mode: string;
  delivered: number;
  failed: number;
  retries: number;
  lag_seconds: number;
  by_type: Record<string, { delivered: number; failed: number }>;
  defects: { late: number; duplicate: number; bad: number };
  stop_reason: string | null;
  errors: string[];
  details: Record<string, unknown>;
  last_sequence: number | null;
}

const kafkaConfig = (broker: KafkaTestBroker): KafkaConfig => ({ brokers: [broker.address], clientId: 'ecomgen-stream-test', ssl: false });

async function start(app: FastifyInstance, body: Record<string, unknown>): Promise<StreamJson> {
  const response = await app.inject({ method: 'POST', url: '/api/v1/streams', payload: body });
  if (response.statusCode !== 202) throw new Error(`POST answered ${response.statusCode}: ${response.body}`);
  return response.json() as StreamJson;
}

async function ended(app: FastifyInstance, id: string): Promise<StreamJson> {
  return (await app.inject(`/api/v1/streams/${id}?wait=true`)).json() as StreamJson;
}

/** Every record of the stream's topics, each event once by its sequence header. */
function consumed(broker: KafkaTestBroker, prefix = ''): StoredRecord[] {
  const topics = [...new Set(TEST_EVENT_TYPES.map((type) => streamTopicOf(type, prefix)))];
  return topics.flatMap((topic) => (broker.topic(topic) ? broker.records(topic) : []));
}

t.test('bad input: 4xx naming the field, never a destination from the body', async (t) => {
  const broker = await KafkaTestBroker.start();
  t.teardown(() => broker.close());
  const app = await testApp(t, { sinks: { kafka: kafkaConfig(broker) }, feed: testFeedProvider(10) });
  const cases: [Record<string, unknown>, number, RegExp][] = [
    [{ sink: 'kafka', events_per_second: 0 }, 400, /^events_per_second: must be > 0/],
    [{ sink: 'kafka', events_per_second: -5 }, 400, /^events_per_second/],
    [{ sink: 'kafka', events_per_second: 10_001 }, 400, /^events_per_second: a live stream's base rate is at most 10,000 events\/s \(10001 asked; up to 100,000 bounds a replay\)/],
    [{ sink: 'kafka', mode: 'replay', events_per_second: 100_001 }, 400, /^events_per_second: must be <= 100000/],
    [{ sink: 'kafka', types: ['order.placed', 'order.teleported'] }, 400, /^types: unknown event type 'order.teleported'; known: order.placed/],
    [{ sink: 'kafka', weights: { orders: -1 } }, 400, /^weights.orders: must be >= 0/],
    [{ sink: 'kafka', weights: { orders: 0, inventory: 0 } }, 400, /^weights: at least one weight/],
    [{ sink: 'kafka', late_ratio: 0.8, bad_ratio: 0.8 }, 400, /^late_ratio: late_ratio \+ duplicate_ratio \+ bad_ratio may not exceed 1/],
    [{ sink: 'kafka', weights: { refunds: 1 } }, 400, /^weights\.refunds: unknown body field/],
    [{ sink: 'kafka', value_format: 'avro' }, 409, /^value_format: avro needs a Schema Registry: set SCHEMA_REGISTRY_URL/],
    [{ sink: 'kafka', speed: 10 }, 400, /^speed: applies to mode=replay, not live/],
    [{ sink: 'kafka', mode: 'replay', weights: { orders: 1 } }, 400, /^weights: applies to mode=live/],
    [{ sink: 'kafka', delay_ms: 10 }, 400, /^delay_ms: applies to sink webhook, not kafka/],
    [{ sink: 'webhook' }, 409, /^sink: webhook is not configured: set STREAM_ENDPOINT and STREAM_SECRET/],
    [{ sink: 'kafka', brokers: ['evil:9092'] }, 400, /^brokers: unknown body field/],
    [{ sink: 'gcs' }, 400, /^sink: must be one of kafka, webhook, postgres, opensearch/],
    [{ sink: 'webhook', schema: 'bronze' }, 400, /^schema: applies to sink postgres, kafka, not webhook/],
    [{ sink: 'kafka', inventory_canonical: 'postgres' }, 409, /^inventory_canonical: keeping inventory in PostgreSQL needs DATABASE_URL/],
    [{ sink: 'kafka', inventory_canonical: 'postgres', mirror_to_db: true }, 400, /^mirror_to_db: applies to inventory_canonical=kafka/],
    [{}, 400, /sink/],
    [{ sink: 'kafka', late_ratio: 1.5 }, 400, /^late_ratio: must be <= 1/],
    [{ sink: 'kafka', mode: 'replay', speed: 0 }, 400, /^speed/],
  ];
  for (const [body, status, message] of cases) {
    const response = await app.inject({ method: 'POST', url: '/api/v1/streams', payload: body });
    const json = response.json() as { statusCode: number; message: string; code: string };
    t.equal(response.statusCode, status, `${JSON.stringify(body)}: ${status}`);
    t.match(json.message, message, json.message);
    t.equal(json.statusCode, status);
    t.type(json.code, 'string');
  }
  t.same((await app.inject('/api/v1/streams')).json(), [], 'nothing started');
  t.equal(broker.topics().length, 0, 'no topic touched');

  // A build without the change feed: its provider answers FEED_UNAVAILABLE (the service's own feed is always there).
  const missing: FeedProvider = {
    eventTypes: () => {
      throw new FeedUnavailableError();
    },
    open: () => {
      throw new FeedUnavailableError();
    },
  };
  const noFeed = await testApp(t, { sinks: { kafka: kafkaConfig(broker) }, feed: missing });
  const response = await noFeed.inject({ method: 'POST', url: '/api/v1/streams', payload: { sink: 'kafka' } });
  t.equal(response.statusCode, 503);
  t.same(response.json(), { statusCode: 503, error: 'Service Unavailable', message: 'the change feed (GET /api/v1/events) is not available in this build, so streams cannot start', code: 'FEED_UNAVAILABLE' });

  const locked = await testApp(t, { sinks: { kafka: kafkaConfig(broker), apiKey: 'k3y' }, feed: testFeedProvider(10) });
  const denied = await locked.inject({ method: 'POST', url: '/api/v1/streams', payload: { sink: 'kafka' } });
  t.equal(denied.statusCode, 401, 'API_KEY guards POST /streams');
  t.equal((await locked.inject('/api/v1/streams')).statusCode, 200, 'reading needs no key');
});

t.test('kafka replay as fast as possible: every event at its position, topics, keys, headers', async (t) => {
  const broker = await KafkaTestBroker.start();
  t.teardown(() => broker.close());
  const feed = testFeedProvider(1200, 60_000);
  const app = await testApp(t, { sinks: { kafka: kafkaConfig(broker) }, feed });
  const started = await start(app, { sink: 'kafka', mode: 'replay', seed: 7, batch_size: 100 });
  t.equal(started.state, 'running');
  const job = await ended(app, started.id);
  t.equal(job.state, 'succeeded');
  t.equal(job.stop_reason, 'end_of_feed');
  t.equal(job.delivered, 1200);
  t.equal(job.failed, 0);
  t.same(broker.protocolErrors, []);
  t.same(
    broker.topics().map((x) => x.name).sort(),
    ['customer-interactions.v1', 'inventory-changes.v1', 'orders.v1', 'payments.v1', 'review-events.v1', 'shipments.v1'],
    "the reference's five topics and one for the other type",
  );

  const start0 = (feed.requests[0] as { world: { window: { start: number } } }).world.window.start;
  const records = consumed(broker);
  t.equal(records.length, 1200, 'each event once');
  const bySequence = new Map(records.map((r) => [Number(r.headers.sequence), r]));
  let mismatches = 0;
  const partitionOfOrder = new Map<string, number>();
  let splitOrders = 0;
  for (let s = 0; s < 1200; s++) {
    const expected = testEvent(s, start0 + s * 60_000);
    const record = bySequence.get(s);
    const { raw, ...envelope } = expected;
    const value = raw ?? JSON.stringify(envelope);
    if (
      record === undefined ||
      record.value !== value ||
      record.topic !== streamTopicOf(expected.event_type) ||
      record.key !== streamKeyOf(expected) ||
      record.headers['event-type'] !== expected.event_type ||
      record.headers['event-id'] !== expected.event_id ||
      record.headers.seed !== '7' ||
      record.headers.op !== expected.op ||
      record.headers.defect !== expected.defect
    ) {
      if (mismatches++ < 3) t.fail(`event ${s}: ${JSON.stringify(record)} vs ${value}`);
    }
    if (record) {
      const known = partitionOfOrder.get(record.key as string);
      if (known !== undefined && known !== record.partition) splitOrders++;
      partitionOfOrder.set(record.key as string, record.partition);
    }
  }
  t.equal(mismatches, 0, 'every delivered event equals the source at its position (value, topic, key, headers)');
  t.equal(splitOrders, 0, "an order's events share a partition across topics");
  const defects = records.filter((r) => r.headers.defect !== undefined);
  t.same(
    { late: defects.filter((r) => r.headers.defect === 'late').length, duplicate: defects.filter((r) => r.headers.defect === 'duplicate').length, bad: defects.filter((r) => r.headers.defect === 'bad').length },
    job.defects,
    'defect headers match the counts in the job',
  );
  t.ok(job.defects.bad === 1 && job.defects.late > 0 && job.defects.duplicate > 0);
  t.equal(Object.values(job.by_type).reduce((n, c) => n + c.delivered, 0), 1200);
  t.equal(job.by_type['order.placed']?.delivered, 200);
  const topics = job.details.topics as Record<string, { partitions: number; messages: number }>;
  t.equal(topics['orders.v1']?.messages, 200);
  t.equal(topics['orders.v1']?.partitions, 3);
});

t.test('kafka live: events are now, stop counts exactly what was delivered, several streams at once', async (t) => {
  const broker = await KafkaTestBroker.start();
  t.teardown(() => broker.close());
  const app = await testApp(t, { sinks: { kafka: kafkaConfig(broker) }, feed: testFeedProvider(0) });
  const before = new Date().getTime();
  const timed = await start(app, { sink: 'kafka', seed: 1, events_per_second: 200, daily_curve: false, duration_s: 1.5, topic_prefix: 'a.' });
  const open = await start(app, { sink: 'kafka', seed: 1, events_per_second: 100, daily_curve: false, topic_prefix: 'b.', types: ['order.placed', 'payment.captured'] });
  const list = (await app.inject('/api/v1/streams')).json() as StreamJson[];
  t.same(list.map((s) => s.id), [open.id, timed.id], 'both listed, newest first');

  const a = await ended(app, timed.id);
  t.equal(a.state, 'succeeded');
  t.equal(a.stop_reason, 'duration');
  const aRecords = consumed(broker, 'a.');
  t.equal(aRecords.length, a.delivered, 'delivered = what the broker holds');
  t.ok(a.delivered > 0, `${a.delivered} events in 1.5 s`);
  // Live events are the feed's events of the current minutes, at their positions.
  const rate = { eventsPerSecond: 200, dailyCurve: false, timeZone: 'America/New_York' };
  const expected = new Map<number, FeedEvent>();
  for (let minute = Math.floor(before / 60_000) * 60_000 - 120_000; minute < new Date().getTime() + 60_000; minute += 60_000) {
    for (const event of liveFeed(rate).liveMinute(minute)) expected.set(event.sequence, event);
  }
  const wrong = aRecords.filter((r) => {
    const event = expected.get(Number(r.headers.sequence));
    if (event === undefined) return true;
    const { raw, ...envelope } = event;
    return r.value !== (raw ?? JSON.stringify(envelope));
  });
  t.equal(wrong.length, 0, 'each live event is the source event at its sequence');
  t.ok(aRecords.every((r) => r.headers.defect === 'late' || r.headers.defect === 'bad' || Date.parse(JSON.parse(r.value as string).event_time as string) >= before - 1000), 'event times are now');

  const stop = await app.inject({ method: 'DELETE', url: `/api/v1/streams/${open.id}` });
  t.equal(stop.statusCode, 200);
  const b = stop.json() as StreamJson;
  t.equal(b.state, 'cancelled');
  t.equal(b.stop_reason, 'cancelled');
  const bRecords = consumed(broker, 'b.');
  t.equal(bRecords.length, b.delivered, 'a stopped stream reports exactly what the broker got');
  t.ok(bRecords.every((r) => r.headers['event-type'] === 'order.placed' || r.headers['event-type'] === 'payment.captured'), 'only the chosen types');
  t.same(Object.keys(b.by_type).sort(), b.delivered > 0 ? ['order.placed', 'payment.captured'].filter((type) => bRecords.some((r) => r.headers['event-type'] === type)) : []);
  const again = await app.inject({ method: 'DELETE', url: `/api/v1/streams/${open.id}` });
  t.equal((again.json() as StreamJson).delivered, b.delivered, 'stopping again changes nothing');
  t.same((await app.inject('/api/v1/streams/stats')).json(), { kafka: { streams: 2, running: 0, delivered: a.delivered + b.delivered, failed: 0 } }, 'statistics add up the streams');
});

t.test('MAX_STREAMS: a stream beyond the running ones is a 429 before anything is opened; stopping one makes room', async (t) => {
  const broker = await KafkaTestBroker.start();
  t.teardown(() => broker.close());
  const app = await testApp(t, { sinks: { kafka: kafkaConfig(broker) }, feed: testFeedProvider(0), maxStreams: 2 });
  const body = { sink: 'kafka', seed: 1, events_per_second: 5, daily_curve: false };
  const first = await start(app, { ...body, topic_prefix: 'c1.' });
  const second = await start(app, { ...body, topic_prefix: 'c2.' });
  for (const [mode, payload] of [['live', { ...body, topic_prefix: 'c3.' }], ['replay', { sink: 'kafka', mode: 'replay', topic_prefix: 'c3.' }]] as const) {
    const refused = await app.inject({ method: 'POST', url: '/api/v1/streams', payload });
    t.equal(refused.statusCode, 429, `a third ${mode} stream is refused`);
    t.same(refused.json(), {
      statusCode: 429,
      error: 'Too Many Requests',
      code: 'TOO_MANY_STREAMS',
      message: 'sink: 2 streams are already running (MAX_STREAMS); stop one (DELETE /api/v1/streams/{id}) or wait for one to end',
    });
  }
  t.same(((await app.inject('/api/v1/streams')).json() as StreamJson[]).map((s) => s.id), [second.id, first.id], 'no stream was created for the refused requests');
  t.equal((await app.inject({ method: 'DELETE', url: `/api/v1/streams/${first.id}` })).statusCode, 200, 'one stopped');
  const third = await start(app, { ...body, topic_prefix: 'c3.' });
  t.equal(third.state, 'running', 'room again once a stream has ended');
  for (const id of [second.id, third.id]) await app.inject({ method: 'DELETE', url: `/api/v1/streams/${id}` });
});

t.test('kafka unreachable: the stream fails with the reason', async (t) => {
  const broker = await KafkaTestBroker.start();
  const address = broker.address;
  await broker.close();
  const app = await testApp(t, { sinks: { kafka: { brokers: [address], clientId: 'x', ssl: false } }, feed: testFeedProvider(10) });
  const job = await ended(app, (await start(app, { sink: 'kafka', mode: 'replay' })).id);
  t.equal(job.state, 'failed');
  t.match((job as unknown as { error: string }).error, /Kafka: cannot connect to 127\.0\.0\.1/);
  t.equal(job.delivered, 0);
});

t.test('webhook: signed, one POST per event with its event_id as Idempotency-Key, an outage ridden out', async (t) => {
  const secret = 'stream-secret';
  let outage = 0;
  const receiver = await webhookReceiver(t, secret, (d) => (d.index >= 20 && outage++ < 4 ? 503 : undefined));
  const webhook: WebhookConfig = { endpoint: receiver.url, secret, maxCount: 10, timeoutMs: 5000, retries: 1, backoffMs: 5 };
  const feed = testFeedProvider(60, 1000);
  const app = await testApp(t, { sinks: { webhook }, feed });
  const job = await ended(app, (await start(app, { sink: 'webhook', mode: 'replay', seed: 3, batch_size: 10 })).id);
  t.equal(job.state, 'succeeded');
  t.equal(job.delivered, 60, 'more than STREAM_MAX_COUNT (10): streams have no count cap');
  t.equal(job.failed, 0);
  t.ok(job.retries >= 1, `the stream retried the outage (${job.retries})`);
  t.equal(receiver.deliveries.filter((d) => d.reply === 503).length, 4, 'the receiver was down for 4 requests');
  const accepted = receiver.accepted();
  t.equal(accepted.length, 60, 'each event accepted once');
  t.ok(receiver.deliveries.every((d) => d.verified), 'every request signed with HMAC-SHA512');
  const start0 = (feed.requests[0] as { world: { window: { start: number } } }).world.window.start;
  const wrong = accepted.filter((d, k) => {
    const event = testEvent(k, start0 + k * 1000);
    const { raw, ...envelope } = event;
    return d.body !== (raw ?? JSON.stringify(envelope)) || d.key !== event.event_id || d.headers['x-ecomgen-event-type'] !== event.event_type || d.headers['x-ecomgen-defect'] !== event.defect;
  });
  t.equal(wrong.length, 0, 'bodies, Idempotency-Keys and labels are the events, in order');
  t.match(job.errors.join('\n'), /outage, retrying: webhook http:\/\/127\.0\.0\.1:\d+\/hooks\/ecomgen: HTTP 503/);
});

t.test('webhook: a refused event counts failed, the rest go on', async (t) => {
  const secret = 's';
  const receiver = await webhookReceiver(t, secret, (d) => (d.index === 5 ? 422 : undefined));
  const app = await testApp(t, { sinks: { webhook: { endpoint: receiver.url, secret, maxCount: 1000, timeoutMs: 5000, retries: 2, backoffMs: 5 } }, feed: testFeedProvider(12, 1000) });
  const job = await ended(app, (await start(app, { sink: 'webhook', mode: 'replay' })).id);
  t.equal(job.state, 'partial');
  t.equal(job.delivered, 11);
  t.equal(job.failed, 1);
  t.equal(receiver.accepted().length, 11);
  t.match(job.errors[0], /sequence 5: event evt_5: HTTP 422/);
});

t.test('a replay from deep in the feed starts from the merge sought while preparing: the events of a walk', async (t) => {
  const world = worldSpecFrom({ seed: 12, scale: 0.05 });
  for (const feed of [{}, { late_ratio: 0.05, duplicate_ratio: 0.02, bad_ratio: 0.01 }, { types: ['order.placed', 'inventory.changed'] }]) {
    for (const from of [0, 1, 2500, 7000]) {
      const request: FeedRequest = { world, feed, live: { seed: 12, locale: 'en_US', events_per_second: 10, daily_curve: true }, fromSequence: from };
      await changeFeed.prepare?.(request);
      // The replay's pauses (a turn for the event loop every IDLE_EVERY steps walked) are no events.
      const replayed = [...changeFeed.open(request).replay(from)].filter((e) => e !== REPLAY_PAUSE).slice(0, 300);
      const walked = [...feedEvents(World.of(world), feed, from - 1)].slice(0, 300);
      t.ok(walked.length > 0, `${JSON.stringify(feed)} from ${from}: ${walked.length} events`);
      t.equal(JSON.stringify(replayed), JSON.stringify(walked), `${JSON.stringify(feed)} from ${from}`);
    }
  }
});

t.test('a replay with relative dates records the dates they resolved to, as it records the seed', async (t) => {
  const secret = 's';
  const receiver = await webhookReceiver(t, secret);
  const app = await testApp(t, { sinks: { webhook: { endpoint: receiver.url, secret, maxCount: 1000, timeoutMs: 5000, retries: 2, backoffMs: 5 } }, feed: testFeedProvider(3, 1000) });
  const realNow = Date.now;
  t.teardown(() => {
    Date.now = realNow;
  });
  Date.now = () => Date.UTC(2026, 10, 30, 15, 0, 0);
  const started = await start(app, { sink: 'webhook', mode: 'replay', seed: 3, start_date: 'today-3d', end_date: 'today' });
  Date.now = realNow;
  const job = await ended(app, started.id);
  t.equal(job.state, 'succeeded');
  const recorded = (job as unknown as { request: Record<string, unknown> }).request;
  t.equal(recorded.start_date, '2026-11-27');
  t.equal(recorded.end_date, '2026-11-30');
  t.equal(recorded.seed, 3);
});
