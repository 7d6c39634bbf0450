import { setTimeout as sleep } from 'node:timers/promises';
import type { FastifyInstance } from 'fastify';
import { CompressionTypes, Kafka, logLevel } from 'kafkajs';
import t from 'tap';
import type { KafkaConfig } from '../../src/config.js';
import type { EntityName } from '../../src/generators/registry.js';
import { keyFieldOf } from '../../src/sinks/kafka.js';
import { testApp } from '../support/app.js';
import { KafkaError, KafkaTestBroker, type StoredRecord } from '../support/kafka-broker.js';
import { closedPort, type EntityProgressJson, type JobJson as SinkJobJson } from '../support/jobs.js';

const WORLD = { seed: 7, users: 50, orders: 100 };
const WORLD_QUERY = 'seed=7&users=50&orders=100';

interface EntityJson extends EntityProgressJson {
  topic?: string;
  partitions?: number;
  key?: string;
}

type JobJson = SinkJobJson<EntityJson>;

type Tap = { teardown: (fn: () => unknown) => void };

const configFor = (broker: { address: string }): KafkaConfig => ({ brokers: [broker.address], clientId: 'ecomgen-test', ssl: false });

async function setup(t: Tap): Promise<{ app: FastifyInstance; broker: KafkaTestBroker }> {
  const broker = await KafkaTestBroker.start();
  t.teardown(() => broker.close());
  const app = await testApp(t, { sinks: { kafka: configFor(broker) } });
  return { app, broker };
}

async function push(app: FastifyInstance, body: Record<string, unknown>): Promise<JobJson> {
  const response = await app.inject({ method: 'POST', url: '/api/v1/sinks/kafka?wait=true', payload: body });
  if (response.statusCode !== 200) throw new Error(`POST answered ${response.statusCode}: ${response.body}`);
  return response.json() as JobJson;
}

/** What GET serves for the same world: NDJSON lines (the exact message values) and parsed JSON. */
async function served(app: FastifyInstance, entity: string, offset = 0, limit?: number): Promise<{ lines: string[]; json: Record<string, unknown>[] }> {
  const total = Number((await app.inject(`/api/v1/${entity}?${WORLD_QUERY}&limit=1`)).headers['x-total-count']);
  const query = `${WORLD_QUERY}&offset=${offset}&limit=${limit ?? Math.max(1, total - offset)}`;
  const lines = (await app.inject(`/api/v1/${entity}?${query}&format=ndjson`)).body.split('\n').filter((l) => l !== '');
  const json = (await app.inject(`/api/v1/${entity}?${query}`)).json() as Record<string, unknown>[];
  return { lines, json };
}

const entityOf = (job: JobJson, entity: string): EntityJson => {
  const found = job.entities.find((e) => e.entity === entity);
  if (!found) throw new Error(`no entity ${entity} in the job`);
  return found;
};

/** Records in the order GET serves them (by their `index` header). */
const byIndex = (records: readonly StoredRecord[]) => [...records].sort((a, b) => Number(a.headers.index) - Number(b.headers.index));

/** Bytes as the sink counts them: key + value + header keys and values. */
const bytesOf = (records: readonly StoredRecord[]) =>
  records.reduce(
    (sum, r) => sum + Buffer.byteLength(r.key ?? '') + Buffer.byteLength(r.value ?? '') + Object.entries(r.headers).reduce((n, [k, v]) => n + Buffer.byteLength(k) + Buffer.byteLength(v ?? ''), 0),
    0,
  );


t.test('several entities: one topic each, every record once, keys, values and headers as GET serves them', async (t) => {
  const { app, broker } = await setup(t);
  const entities: EntityName[] = ['users', 'orders', 'order-items', 'payments', 'shipping'];
  const job = await push(app, { ...WORLD, entities });
  const topics: Record<string, string> = { users: 'users.v1', orders: 'orders.v1', 'order-items': 'order-items.v1', payments: 'payments.v1', shipping: 'shipments.v1' };

  t.equal(job.state, 'succeeded', 'job succeeded');
  t.same(job.errors, [], 'no errors');
  t.same(broker.topics().map((x) => [x.name, x.partitions, x.replicationFactor]).sort(), Object.values(topics).map((name) => [name, 3, 1]).sort(), 'topics created: default names, 3 partitions, the broker default replication');
  t.same(broker.protocolErrors, [], 'the broker understood every request');
  t.ok(broker.produceRequests.length > 0 && broker.produceRequests.every((r) => r.acks === -1 && r.transactionalId === null), 'every produce request asks acks=all');
  t.same([...broker.clientIds], ['ecomgen-test'], 'the configured client id');

  const orderPartition = new Map<string, number>();
  for (const entity of entities) {
    const topic = topics[entity] as string;
    const { lines, json } = await served(app, entity);
    const progress = entityOf(job, entity);
    const stored = broker.records(topic);
    const records = byIndex(stored);
    const keyField = keyFieldOf(entity);

    t.same([progress.state, progress.destination, progress.planned, progress.records, progress.failed], ['done', topic, lines.length, lines.length, 0], `${entity}: every planned record delivered to ${topic}`);
    t.same([progress.topic, progress.partitions, progress.key], [topic, 3, keyField], `${entity}: progress names the topic, its partitions and the key field`);
    t.equal(progress.bytes, bytesOf(stored), `${entity}: bytes = key + value + headers of what arrived`);
    t.same(records.map((r) => Number(r.headers.index)), lines.map((_, i) => i), `${entity}: indexes 0..${lines.length - 1}, each exactly once`);
    t.same(records.map((r) => r.value), lines, `${entity}: values are byte for byte the GET ndjson lines`);
    t.same(records.map((r) => JSON.parse(r.value ?? 'null') as unknown), json, `${entity}: values parse back to the GET json`);
    t.same(records.map((r) => r.key), json.map((r) => String(r[keyField])), `${entity}: keyed by ${keyField}`);
    t.ok(
      records.every((r) => r.headers.entity === entity && r.headers.seed === '7' && r.headers['schema-version'] === '1' && r.headers['content-type'] === 'application/json'),
      `${entity}: provenance headers entity, seed, schema-version, content-type`,
    );
    t.ok(stored.every((r) => r.producerId >= 1000n), `${entity}: written by an idempotent producer (a producer id)`);

    // Kafka orders within a partition: there, records follow their index, and sequences run on.
    const partitions = new Map<number, StoredRecord[]>();
    for (const r of stored) partitions.set(r.partition, [...(partitions.get(r.partition) ?? []), r]);
    const inOrder = [...partitions.values()].every((list) => list.every((r, k) => k === 0 || Number(r.headers.index) > Number((list[k - 1] as StoredRecord).headers.index)));
    t.ok(inOrder, `${entity}: within each partition, records follow their index`);
    t.ok([...partitions.values()].every((list) => list.every((r, k) => r.sequence === k && r.offset === k)), `${entity}: offsets and producer sequences run 0, 1, 2, ... per partition`);

    if (entity === 'orders') for (const r of stored) orderPartition.set(r.key as string, r.partition);
    if (keyField === 'order_id') {
      const byOrder = new Map<string, Set<number>>();
      for (const r of stored) byOrder.set(r.key as string, (byOrder.get(r.key as string) ?? new Set()).add(r.partition));
      t.ok([...byOrder.values()].every((set) => set.size === 1), `${entity}: records of one order share a partition`);
      t.ok([...byOrder.entries()].every(([order, set]) => orderPartition.get(order) === [...set][0]), `${entity}: the same partition as the order in orders.v1`);
    }
  }
  t.equal(keyFieldOf('users'), 'user_id', 'users keyed by their primary key');
  t.equal(keyFieldOf('reviews'), 'review_id', 'reviews (optional order_id) keyed by their primary key');

  const totalBytes = job.entities.reduce((n, e) => n + e.bytes, 0);
  t.same([job.records, job.bytes, job.failed], [broker.recordCount(), totalBytes, 0], 'job totals = what the broker holds');
  const stats = (await app.inject('/api/v1/stats')).json() as { sinks: { kafka: { records: number; bytes: number; failed: number; jobs: { succeeded: number } } } };
  t.same([stats.sinks.kafka.records, stats.sinks.kafka.bytes, stats.sinks.kafka.failed, stats.sinks.kafka.jobs.succeeded], [job.records, job.bytes, 0, 1], 'stats add up');
});

t.test('topic, topic_prefix, offset/limit and existing topics', async (t) => {
  const { app, broker } = await setup(t);
  broker.createTopic('dev.users.v1', 1);

  const prefixed = await push(app, { ...WORLD, entities: ['users', 'shipping', 'analytics/users'], topic_prefix: 'dev.', partitions: 2 });
  t.equal(prefixed.state, 'succeeded');
  t.same(prefixed.entities.map((e) => [e.entity, e.destination, e.partitions]), [['users', 'dev.users.v1', 1], ['shipping', 'dev.shipments.v1', 2], ['analytics/users', 'dev.analytics.users.v1', 2]], 'prefixed default names; the existing topic keeps its 1 partition, new ones get 2');
  t.same(broker.recordCount('dev.users.v1'), 50, 'users went to the existing topic');
  const analytics = await served(app, 'analytics/users');
  t.same(byIndex(broker.records('dev.analytics.users.v1')).map((r) => r.value), analytics.lines, "analytics/users: '/' becomes '.' in the topic; values as GET serves them");

  const named = await push(app, { ...WORLD, entity: 'orders', offset: 5, limit: 10, topic: 'custom_orders-raw', batch_size: 4 });
  t.equal(named.state, 'succeeded');
  const records = byIndex(broker.records('custom_orders-raw'));
  const { lines } = await served(app, 'orders', 5, 10);
  t.same(records.map((r) => r.headers.index), ['5', '6', '7', '8', '9', '10', '11', '12', '13', '14'], 'index headers are positions in the entity (offset 5 on)');
  t.same(records.map((r) => r.value), lines, 'values = GET offset=5&limit=10');
  t.same(broker.produceRequests.slice(-3).map((r) => r.records), [4, 4, 2], 'batch_size 4: sends of 4, 4, 2');
  t.equal(JSON.stringify(JSON.parse(lines[0] as string)), lines[0], 'a GET line is JSON.stringify of its record');
});

t.test('bad options answer 400 naming the field; no configuration answers 409', async (t) => {
  const { app, broker } = await setup(t);
  const cases: [Record<string, unknown>, string][] = [
    [{ entity: 'users', topic: 'bad topic!' }, 'topic:'],
    [{ entity: 'users', topic: '..' }, 'topic:'],
    [{ entity: 'users', topic: 'x'.repeat(250) }, 'topic:'],
    [{ entities: ['users', 'orders'], topic: 'both' }, 'topic:'],
    [{ topic: 'everything' }, 'topic:'],
    [{ entity: 'users', topic: 'a', topic_prefix: 'dev.' }, 'topic_prefix:'],
    [{ entity: 'users', topic_prefix: 'dev/' }, 'topic_prefix:'],
    [{ entity: 'users', topic_prefix: 'p'.repeat(241) }, 'topic_prefix:'],
    [{ entity: 'customer-segments', topic_prefix: 'p'.repeat(240) }, 'topic_prefix: makes topic'],
    [{ entity: 'users', partitions: 0 }, 'partitions:'],
    [{ entity: 'users', partitions: 1001 }, 'partitions:'],
    [{ entity: 'users', replication_factor: 0 }, 'replication_factor:'],
    [{ entity: 'users', events_per_second: 0 }, 'events_per_second:'],
    [{ entity: 'users', batch_size: 10_001 }, 'batch_size:'],
    [{ entity: 'users', acks: 1 }, 'acks:'],
  ];
  for (const [body, field] of cases) {
    const response = await app.inject({ method: 'POST', url: '/api/v1/sinks/kafka', payload: { ...WORLD, ...body } });
    const message = (response.json() as { message: string }).message;
    t.equal(response.statusCode, 400, `${JSON.stringify(body).slice(0, 80)} → 400`);
    t.ok(message.startsWith(field), `names ${field} (${message.slice(0, 120)})`);
  }
  t.equal(broker.topics().length, 0, 'nothing reached the broker');

  const unconfigured = await testApp(t, { sinks: {} });
  const response = await unconfigured.inject({ method: 'POST', url: '/api/v1/sinks/kafka', payload: { ...WORLD, entity: 'users' } });
  t.equal(response.statusCode, 409);
  t.match((response.json() as { message: string }).message, /KAFKA_BROKERS/, 'names KAFKA_BROKERS');
});

t.test('retriable produce errors: kafkajs retries and every record is in the topic exactly once', async (t) => {
  const { app, broker } = await setup(t);
  // Written but the answer lost, twice; then refused outright once.
  broker.failNextProduce(KafkaError.NOT_LEADER_FOR_PARTITION, 2, { appendFirst: true });
  broker.failNextProduce(KafkaError.REQUEST_TIMED_OUT, 1);
  const job = await push(app, { ...WORLD, entity: 'order-items', batch_size: 40 });
  const { lines } = await served(app, 'order-items');
  const records = byIndex(broker.records('order-items.v1'));

  t.equal(job.state, 'succeeded');
  t.same(broker.produceRequests.slice(0, 3).map((r) => r.injectedError), [6, 6, 7], 'the injected errors were answered');
  t.ok(broker.duplicateBatches > 0, `the retries of written batches were recognised as repeats (${broker.duplicateBatches})`);
  t.same([job.records, job.failed, broker.recordCount('order-items.v1')], [lines.length, 0, lines.length], 'delivered = planned = held by the broker');
  t.same(records.map((r) => r.value), lines, 'each record exactly once, as GET serves it');
  t.same(broker.protocolErrors, [], 'no refused batch');
});

t.test('a non-retriable produce error mid-way fails the job: delivered and failed counted exactly', async (t) => {
  const { app, broker } = await setup(t);
  broker.failNextProduce(KafkaError.INVALID_REQUEST, 1, { after: 2 });
  const job = await push(app, { ...WORLD, entities: ['users', 'orders'], batch_size: 15 });
  const users = entityOf(job, 'users');
  const orders = entityOf(job, 'orders');
  t.equal(job.state, 'failed');
  t.same([users.state, users.records, users.failed], ['failed', 30, 15], 'two batches delivered, the refused third counted failed');
  t.equal(broker.recordCount('users.v1'), 30, 'the broker holds exactly what was reported delivered');
  t.same(byIndex(broker.records('users.v1')).map((r) => r.headers.index), Array.from({ length: 30 }, (_, i) => String(i)), 'records 0..29, once each');
  t.same([orders.state, orders.records, orders.failed, broker.recordCount('orders.v1')], ['failed', 0, 0, 0], 'nothing later was sent');
  t.match(users.error, /users\.v1 failed after retries/, `entity error names the topic (${users.error})`);
  t.match(job.errors.join('\n'), /INVALID_REQUEST/, 'the job errors carry the Kafka error');
  t.same([job.records, job.failed], [30, 15], 'job totals');
});

t.test('the test broker refuses what a real one would: compressed batches, unknown topics', async (t) => {
  const broker = await KafkaTestBroker.start();
  t.teardown(() => broker.close());
  broker.createTopic('plain', 1);
  const kafka = new Kafka({ brokers: [broker.address], clientId: 'broker-check', logLevel: logLevel.NOTHING, retry: { retries: 0 } });
  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1, allowAutoTopicCreation: false, retry: { retries: 1, initialRetryTime: 10 } });
  await producer.connect();
  t.teardown(() => producer.disconnect());
  await t.rejects(producer.send({ topic: 'plain', compression: CompressionTypes.GZIP, messages: [{ key: 'k', value: 'v' }] }), /compression/i, 'gzip refused (UNSUPPORTED_COMPRESSION_TYPE)');
  t.match(broker.protocolErrors.join('\n'), /compression codec 1/, 'and recorded');
  await t.rejects(producer.send({ topic: 'absent', messages: [{ key: 'k', value: 'v' }] }), /topic/i, 'an unknown topic is not auto-created');
  t.same([broker.topics().map((x) => x.name), broker.recordCount()], [['plain'], 0], 'nothing created, nothing stored');
});

t.test('a topic the broker refuses to create fails the job before anything is sent', async (t) => {
  const { app, broker } = await setup(t);
  const job = await push(app, { ...WORLD, entities: ['users', 'orders'], replication_factor: 3 });
  t.equal(job.state, 'failed');
  t.match(job.errors.join('\n'), /cannot create topics users\.v1, orders\.v1: .*INVALID_REPLICATION_FACTOR/, `clear error (${job.errors.join('; ')})`);
  t.same([job.records, broker.topics().length, broker.produceRequests.length], [0, 0, 0], 'no topic, no record');
});

t.test('unreachable brokers fail the job with a clear error', async (t) => {
  const port = await closedPort();
  const app = await testApp(t, { sinks: { kafka: configFor({ address: `127.0.0.1:${port}` }) } });
  const job = await push(app, { ...WORLD, entity: 'users' });
  t.equal(job.state, 'failed');
  t.same([job.records, job.failed], [0, 0], 'nothing delivered, nothing attempted');
  t.match(job.errors.join('\n'), new RegExp(`cannot connect to 127\\.0\\.0\\.1:${port}: .*ECONNREFUSED`), `names the broker and the cause (${job.errors.join('; ')})`);
});

t.test('events_per_second paces small sends; cancelling stops between them and the broker holds what was reported', async (t) => {
  const { app, broker } = await setup(t);
  const paced = await push(app, { ...WORLD, entity: 'users', limit: 30, events_per_second: 100 });
  t.equal(paced.state, 'succeeded');
  t.same(broker.produceRequests.map((r) => r.records), [10, 10, 10], 'at 100/s, sends of 10 (a tenth of a second each)');

  const started = await app.inject({ method: 'POST', url: '/api/v1/sinks/kafka', payload: { seed: 7, users: 5000, entity: 'users', topic: 'slow-users', events_per_second: 400 } });
  t.equal(started.statusCode, 202);
  const id = (started.json() as JobJson).id;
  let running = (await app.inject(`/api/v1/jobs/${id}`)).json() as JobJson;
  while (running.records < 80 && (running.state === 'queued' || running.state === 'running')) {
    await sleep(10);
    running = (await app.inject(`/api/v1/jobs/${id}`)).json() as JobJson;
  }
  const cancelled = (await app.inject({ method: 'DELETE', url: `/api/v1/jobs/${id}` })).json() as JobJson;
  const users = entityOf(cancelled, 'users');
  t.equal(cancelled.state, 'cancelled');
  t.equal(users.state, 'cancelled');
  t.ok(users.records >= 80 && users.records < users.planned, `stopped mid-way (${users.records} of ${users.planned})`);
  t.equal(broker.recordCount('slow-users'), users.records, 'the broker holds exactly the records reported delivered');
  t.equal(users.failed, 0, 'nothing counted failed');
  await sleep(150);
  t.equal(broker.recordCount('slow-users'), users.records, 'and nothing more arrives afterwards');
});

t.test('a broker that never answers: cancel ends the job at once, and without a cancel the send deadline fails it', async (t) => {
  const broker = await KafkaTestBroker.start();
  t.teardown(() => broker.close());
  // The cancel's answer waits 2 s at most for the end (30 s by default): the job used to end only
  // after its 3 s bound on disconnecting from the silent broker, and the answer was a 202.
  const app = await testApp(t, { sinks: { kafka: { ...configFor(broker), sendTimeoutMs: 500 } }, cancelWaitMs: 2000 });
  broker.silentProduce = true;

  const started = await app.inject({ method: 'POST', url: '/api/v1/sinks/kafka', payload: { ...WORLD, entity: 'users', topic: 'frozen' } });
  t.equal(started.statusCode, 202);
  const id = (started.json() as JobJson).id;
  while ((broker.requestCounts.get(0) ?? 0) === 0) await sleep(10);
  const cancelled = await app.inject({ method: 'DELETE', url: `/api/v1/jobs/${id}` });
  t.equal(cancelled.statusCode, 200, 'the cancel answers with the ended job');
  t.equal((cancelled.json() as JobJson).state, 'cancelled');

  const { state, errors, failed } = await push(app, { ...WORLD, entity: 'users', topic: 'frozen-too' });
  t.equal(state, 'failed');
  t.match(errors.join('\n'), /no acknowledgement within 500 ms/);
  t.ok(failed > 0, 'the unacknowledged batch counts as failed');
  t.equal(broker.recordCount('frozen-too'), 0);
});
