import avro from 'avsc';
import t from 'tap';
import { AvroEncoder, eventAvroSchema } from '../../src/sinks/avro-stream.js';
import { streamTopicOf } from '../../src/sinks/kafka-stream.js';
import type { FeedEvent } from '../../src/streams/feed-contract.js';
import { testApp } from '../support/app.js';
import { TEST_EVENT_TYPES, testEvent, testFeedProvider } from '../support/feed-source.js';
import { KafkaTestBroker } from '../support/kafka-broker.js';
import { startSchemaRegistry, type SchemaRegistryPeer } from '../support/schema-registry.js';

/** JSON as a consumer compares it: no null-valued fields (Avro writes absent optionals as null). */
function normal(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(normal);
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== null && v !== undefined).map(([k, v]) => [k, normal(v)]));
  }
  return value;
}

/** The JSON event a consumer expects: the envelope without the raw text. */
function envelope(event: FeedEvent): unknown {
  const { raw: _raw, ...rest } = event;
  return normal(JSON.parse(JSON.stringify(rest)));
}

/** Decodes a Confluent wire-format value with the schema the registry holds for its id. */
function decode(registry: SchemaRegistryPeer, bytes: Buffer): { id: number; value: Record<string, unknown> } {
  if (bytes[0] !== 0) throw new Error(`magic byte ${bytes[0]}`);
  const id = bytes.readInt32BE(1);
  const schema = registry.schema(id);
  if (schema === undefined) throw new Error(`schema ${id} is not registered`);
  const value = avro.Type.forSchema(JSON.parse(schema) as avro.Schema).fromBuffer(bytes.subarray(5)) as Record<string, unknown>;
  return { id, value: JSON.parse(JSON.stringify(value)) as Record<string, unknown> };
}

t.test('avro stream: schemas registered under <topic>-value, values in the wire format decode to the JSON events', async (t) => {
  const broker = await KafkaTestBroker.start();
  t.teardown(() => broker.close());
  const registry = await startSchemaRegistry();
  t.teardown(() => registry.close());
  const feed = testFeedProvider(240, 60_000, true);
  const app = await testApp(t, { sinks: { kafka: { brokers: [broker.address], clientId: 'avro-test', ssl: false }, schemaRegistry: { url: registry.url } }, feed });
  const started = await app.inject({ method: 'POST', url: '/api/v1/streams', payload: { sink: 'kafka', mode: 'replay', seed: 5, value_format: 'avro' } });
  t.equal(started.statusCode, 202, started.body);
  const job = (await app.inject(`/api/v1/streams/${(started.json() as { id: string }).id}?wait=true`)).json() as { state: string; delivered: number; failed: number; errors: string[]; details: { subjects: Record<string, number> } };
  t.equal(job.state, 'succeeded', job.errors.join('\n'));
  t.equal(job.delivered, 240);

  const topics = [...new Set(TEST_EVENT_TYPES.map((type) => streamTopicOf(type)))];
  t.same(registry.registered.map((r) => r.subject).sort(), topics.map((topic) => `${topic}-value`).sort(), 'one subject per topic');
  t.same(job.details.subjects, Object.fromEntries(registry.registered.map((r) => [r.subject, r.id])), 'the job names the subjects and ids');

  const start0 = (feed.requests[0] as { world: { window: { start: number } } }).world.window.start;
  let checked = 0;
  let wrong = 0;
  for (const topic of topics) {
    for (const record of broker.records(topic)) {
      const { id, value } = decode(registry, record.valueBytes as Buffer);
      const sequence = Number(record.headers.sequence);
      const expected = testEvent(sequence, start0 + sequence * 60_000, true);
      if (id !== job.details.subjects[`${topic}-value`] || JSON.stringify(normal(value)) !== JSON.stringify(envelope(expected)) || record.headers['content-type'] !== 'application/vnd.confluent.avro') {
        if (wrong++ < 2) t.fail(`${topic} ${sequence}: ${JSON.stringify(value)} vs ${JSON.stringify(envelope(expected))}`);
      }
      checked++;
    }
  }
  t.equal(checked, 240, 'every message decoded');
  t.equal(wrong, 0, 'each decodes with its registered schema to the JSON event at its position');
});

t.test('a topic carrying a second entity registers a backward-compatible new version', async (t) => {
  const registry = await startSchemaRegistry();
  t.teardown(() => registry.close());
  const encoder = new AvroEncoder({ url: registry.url });
  const order = testEvent(0, Date.UTC(2025, 0, 1), true); // orders
  const payment = { ...testEvent(1, Date.UTC(2025, 0, 1), true), event_type: 'order.paid' }; // payments, on orders.v1 too
  const first = decode(registry, (await encoder.encode('orders.v1', order)) as Buffer);
  const second = decode(registry, (await encoder.encode('orders.v1', payment)) as Buffer);
  const again = decode(registry, (await encoder.encode('orders.v1', order)) as Buffer);
  t.same(registry.registered.map((r) => [r.subject, r.version, r.id]), [['orders.v1-value', 1, 1], ['orders.v1-value', 2, 2]], 'version 2 accepted under BACKWARD');
  t.same(normal(first.value), envelope(order));
  t.same(Object.keys(second.value.data as object), ['ecomgen.Payments'], 'the union branch names the entity');
  t.same(normal({ ...second.value, data: (second.value.data as Record<string, unknown>)['ecomgen.Payments'] }), envelope(payment));
  t.equal(again.id, 2, 'later events use the newest version');
  t.ok(eventAvroSchema(['orders']), 'schemas derive from the entity schemas');
});

t.test('avro: a registry outage is retried by the stream, not counted failed', async (t) => {
  const broker = await KafkaTestBroker.start();
  t.teardown(() => broker.close());
  const registry = await startSchemaRegistry();
  t.teardown(() => registry.close());
  registry.down = true;
  const app = await testApp(t, { sinks: { kafka: { brokers: [broker.address], clientId: 'avro-test', ssl: false }, schemaRegistry: { url: registry.url } }, feed: testFeedProvider(30, 60_000, true) });
  const started = (await app.inject({ method: 'POST', url: '/api/v1/streams', payload: { sink: 'kafka', mode: 'replay', value_format: 'avro', types: ['order.placed'] } })).json() as { id: string };
  // Down until the stream itself has had to retry (the client's own retries used up).
  while (((await app.inject(`/api/v1/streams/${started.id}`)).json() as { retries: number }).retries < 1) await new Promise((resolve) => setTimeout(resolve, 20));
  registry.down = false;
  const job = (await app.inject(`/api/v1/streams/${started.id}?wait=true`)).json() as { state: string; delivered: number; failed: number; retries: number; errors: string[] };
  t.equal(job.state, 'succeeded', job.errors.join('\n'));
  t.equal(job.delivered, 5, 'the order.placed events of 30');
  t.equal(job.failed, 0);
  t.ok(job.retries >= 1, `retried (${job.retries})`);
  t.match(job.errors[0], /Schema Registry/);
});
