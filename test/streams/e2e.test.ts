/**
 * Streams end to end on the real change feed (src/events/, no fixture feed): a replay into the
 * Kafka test broker equals GET /api/v1/events of the same world event for event, with the
 * reference topics, order keys and the defects GET /api/v1/events/defects lists; a replay in
 * PostgreSQL apply mode leaves exactly the tables the Postgres sink loads; a live stream into
 * the webhook receiver is liveMinute() of the seed, signed, keyed by event_id; the stream job
 * reports truthful counts and bad input is refused with the real feed's types.
 */
import type { FastifyInstance } from 'fastify';
import t from 'tap';
import type { KafkaConfig, WebhookConfig } from '../../src/config.js';
import { EVENT_TYPE_NAMES, FEED_ENTITIES } from '../../src/events/catalogue.js';
import { liveMinute } from '../../src/events/live.js';
import type { FeedEvent, LiveWorldSpec } from '../../src/events/types.js';
import { quoteIdentifier, tableName } from '../../src/schemas/columns.js';
import { dailyIndexOf } from '../../src/sinks/opensearch-stream.js';
import { testApp } from '../support/app.js';
import { KafkaTestBroker, type StoredRecord } from '../support/kafka-broker.js';
import { startOpenSearchPeer } from '../support/opensearch-server.js';
import { postgresFor } from '../support/postgres.js';
import { webhookReceiver } from '../support/webhook-receiver.js';

interface StreamJson {
  id: string;
  state: string;
  mode: string;
  delivered: number;
  failed: number;
  by_type: Record<string, { delivered: number; failed: number }>;
  defects: { late: number; duplicate: number; bad: number };
  stop_reason: string | null;
  errors: string[];
  error: string | null;
  details: Record<string, unknown>;
  last_sequence: number | null;
}

interface Defect {
  position: number;
  event_id: string;
  sequence: number;
  event_type: string;
  defect: string;
}

/** A small world: a few thousand events. */
const WORLD = { seed: 42, users: 60, vendors: 3, warehouses: 2, products: 40, orders: 150, shops: 2, suppliers: 3, transactions: 10 };
const CHAOS = { late_ratio: 0.02, duplicate_ratio: 0.01, bad_ratio: 0.005 };
const query = (params: Record<string, unknown>) => Object.entries(params).map(([k, v]) => `${k}=${String(v)}`).join('&');

/** The reference generator's topics by the event type's first word; other words get `<word>-events.v1`. */
const REFERENCE: Record<string, string> = { order: 'orders.v1', payment: 'payments.v1', shipment: 'shipments.v1', inventory: 'inventory-changes.v1', interaction: 'customer-interactions.v1' };
const topicOf = (type: string) => {
  const word = type.split('.')[0] as string;
  return REFERENCE[word] ?? `${word}-events.v1`;
};

/** What a consumer reads: the JSON event, or a malformed event's raw text. */
const wire = (event: FeedEvent) => {
  const { raw, ...envelope } = event;
  return raw ?? JSON.stringify(envelope);
};

async function feedLines(app: FastifyInstance, params: Record<string, unknown>): Promise<string[]> {
  const response = await app.inject(`/api/v1/events?${query(params)}&format=ndjson&limit=1000000`);
  if (response.statusCode !== 200) throw new Error(response.body);
  return response.body.trimEnd().split('\n');
}

async function start(app: FastifyInstance, body: Record<string, unknown>): Promise<StreamJson> {
  const response = await app.inject({ method: 'POST', url: '/api/v1/streams', payload: body });
  if (response.statusCode !== 202) throw new Error(`POST answered ${response.statusCode}: ${response.body}`);
  return response.json() as StreamJson;
}

const ended = async (app: FastifyInstance, id: string) => (await app.inject(`/api/v1/streams/${id}?wait=true`)).json() as StreamJson;

const kafkaConfig = (broker: KafkaTestBroker): KafkaConfig => ({ brokers: [broker.address], clientId: 'ecomgen-e2e', ssl: false });

let cluster: ReturnType<typeof postgresFor> | undefined;
/** One PostgreSQL for the two tests that need one (each in its own schemas), started by the first, stopped with the file. */
const postgres = () => (cluster ??= postgresFor(t));

t.test('kafka replay of a real world, with chaos: every event equals GET /api/v1/events at its position', async (t) => {
  const broker = await KafkaTestBroker.start();
  t.teardown(() => broker.close());
  const app = await testApp(t, { sinks: { kafka: kafkaConfig(broker) } });

  const lines = await feedLines(app, { ...WORLD, ...CHAOS });
  t.ok(lines.length > 1000 && lines.length < 20_000, `${lines.length} deliveries in the feed`);
  // A malformed (truncated) line does not parse: its event is identified through the defects list.
  const defects = (await app.inject(`/api/v1/events/defects?${query({ ...WORLD, ...CHAOS })}`)).json() as Defect[];
  t.ok(defects.some((d) => d.defect === 'late') && defects.some((d) => d.defect === 'duplicate') && defects.some((d) => d.defect === 'bad'), 'the feed has every kind of defect');
  const defectAt = new Map(defects.map((d) => [d.position, d]));
  const expected = lines.map((line, position) => {
    let event: FeedEvent | undefined;
    try {
      event = JSON.parse(line) as FeedEvent;
    } catch {
      event = undefined;
    }
    const defect = defectAt.get(position);
    return { line, position, type: event?.event_type ?? (defect as Defect).event_type, event, defect: defect?.defect };
  });

  const started = await start(app, { sink: 'kafka', mode: 'replay', speed: 'max', ...WORLD, ...CHAOS, batch_size: 250 });
  t.equal(started.mode, 'replay');
  const job = await ended(app, started.id);
  t.equal(job.state, 'succeeded', JSON.stringify(job.errors));
  t.equal(job.stop_reason, 'end_of_feed');
  t.equal(job.failed, 0);
  t.equal(job.delivered, lines.length, 'delivered = the feed');
  t.same(broker.protocolErrors, []);

  // Topics: the reference mapping for every type the feed knows, each created.
  const topics = [...new Set(EVENT_TYPE_NAMES.map(topicOf))].sort();
  t.same(broker.topics().map((x) => x.name).sort(), topics, `topics: ${topics.join(', ')}`);
  for (const name of ['orders.v1', 'payments.v1', 'shipments.v1', 'inventory-changes.v1', 'customer-interactions.v1']) t.ok(broker.recordCount(name) > 0, `${name} has events`);
  const records = topics.flatMap((topic) => broker.records(topic));
  t.equal(records.length, lines.length, 'the broker holds each delivery once');

  // Per topic and partition, the records in offset order are the feed's deliveries in feed order.
  const partitionOfKey = new Map<string, number>();
  for (const r of records) partitionOfKey.set(`${r.topic}\u0000${r.key}`, r.partition);
  const keyOf = (e: (typeof expected)[number], r?: StoredRecord) => {
    const data = e.event?.data;
    const order = data?.order_id;
    return typeof order === 'string' ? order : (e.event?.key ?? r?.key ?? '');
  };
  const groups = new Map<string, StoredRecord[]>();
  for (const r of records) {
    const id = `${r.topic}/${r.partition}`;
    groups.set(id, [...(groups.get(id) ?? []), r]);
  }
  let mismatches = 0;
  const check = (ok: boolean, what: string) => {
    if (!ok && mismatches++ < 5) t.fail(what);
  };
  const cursor = new Map<string, number>();
  const orderPartition = new Map<string, number>();
  let splitOrders = 0;
  for (const e of expected) {
    const topic = topicOf(e.type);
    // A truncated line has no parsed key: its record is the next in any partition of its topic whose value is the line.
    let partition = e.event ? partitionOfKey.get(`${topic}\u0000${keyOf(e)}`) : undefined;
    if (partition === undefined) {
      partition = [...groups.entries()].find(([id, list]) => id.startsWith(`${topic}/`) && list[cursor.get(id) ?? 0]?.value === e.line)?.[1][0]?.partition;
    }
    const id = `${topic}/${partition}`;
    const k = cursor.get(id) ?? 0;
    cursor.set(id, k + 1);
    const r = groups.get(id)?.[k];
    if (r === undefined) {
      check(false, `position ${e.position}: nothing in ${id}`);
      continue;
    }
    check(r.value === e.line || (e.event !== undefined && r.value !== null && JSON.stringify(JSON.parse(r.value)) === JSON.stringify(e.event)), `position ${e.position}: ${r.value} vs ${e.line}`);
    if (e.event) {
      check(r.headers['event-id'] === e.event.event_id && r.headers['event-type'] === e.event.event_type && r.headers.sequence === String(e.event.sequence), `position ${e.position}: headers ${JSON.stringify(r.headers)}`);
      check(r.headers.entity === e.event.entity && r.headers.op === e.event.op && r.headers.seed === '42', `position ${e.position}: entity/op/seed headers`);
      check(r.key === keyOf(e), `position ${e.position}: key ${r.key}`);
      const order = e.event.data?.order_id;
      if (typeof order === 'string') {
        const known = orderPartition.get(order);
        if (known !== undefined && known !== r.partition) splitOrders++;
        orderPartition.set(order, r.partition);
      }
    }
    check(r.headers.defect === e.defect, `position ${e.position}: defect header ${r.headers.defect} vs ${e.defect}`);
  }
  t.equal(mismatches, 0, 'every record is the feed event at its position (value, key, headers), per topic and partition');
  t.same([...cursor.entries()].map(([id, n]) => [id, n]).sort(), [...groups.entries()].map(([id, list]) => [id, list.length]).sort(), 'nothing left over in any partition');
  t.ok(orderPartition.size > 100, `${orderPartition.size} orders`);
  t.equal(splitOrders, 0, "an order's events (order, payment, shipment topics) share a partition");

  // Defect headers are exactly GET /api/v1/events/defects.
  const labelled = records.filter((r) => r.headers.defect !== undefined);
  const count = (list: { defect?: string | null }[], kind: string) => list.filter((x) => x.defect === kind).length;
  const headerDefects = labelled.map((r) => ({ defect: r.headers.defect }));
  t.same(
    { late: count(headerDefects, 'late'), duplicate: count(headerDefects, 'duplicate'), bad: count(headerDefects, 'bad') },
    { late: count(defects, 'late'), duplicate: count(defects, 'duplicate'), bad: count(defects, 'bad') },
    'defect headers per kind = /events/defects',
  );
  t.same(
    labelled.filter((r) => r.headers['event-id'] !== undefined).map((r) => `${r.headers['event-id']} ${r.headers.defect}`).sort(),
    defects.map((d) => `${d.event_id} ${d.defect}`).sort(),
    'the labelled records are the listed defects, event id by event id',
  );
  t.same(job.defects, { late: count(defects, 'late'), duplicate: count(defects, 'duplicate'), bad: count(defects, 'bad') }, 'the job counts the same defects');

  // The job as the API lists it: truthful counts.
  const listed = ((await app.inject('/api/v1/streams')).json() as StreamJson[]).find((s) => s.id === started.id);
  t.ok(listed, 'GET /api/v1/streams lists the replay');
  t.equal(listed?.delivered, records.length);
  const byType = new Map<string, number>();
  for (const e of expected) byType.set(e.type, (byType.get(e.type) ?? 0) + 1);
  t.same(
    Object.fromEntries(Object.entries(listed?.by_type ?? {}).map(([type, c]) => [type, c.delivered])),
    Object.fromEntries([...byType.entries()].sort(([a], [b]) => a.localeCompare(b))),
    'delivered per type = the feed per type',
  );
  const perTopic = job.details.topics as Record<string, { messages: number }>;
  t.same(Object.fromEntries(topics.map((x) => [x, perTopic[x]?.messages])), Object.fromEntries(topics.map((x) => [x, broker.recordCount(x)])), 'details.topics = the broker');
  t.same((await app.inject('/api/v1/streams/stats')).json(), { kafka: { streams: 1, running: 0, delivered: records.length, failed: 0 } });

  // Bad input with the real feed.
  const unknown = await app.inject({ method: 'POST', url: '/api/v1/streams', payload: { sink: 'kafka', mode: 'replay', types: ['order.placed', 'order.teleported'] } });
  t.equal(unknown.statusCode, 400);
  t.match(unknown.json(), { statusCode: 400, code: String, message: /^types: unknown event type 'order.teleported'; known: .*order\.placed/ });
  const typed = await ended(app, (await start(app, { sink: 'kafka', mode: 'replay', ...WORLD, types: ['order.placed'], topic_prefix: 'only.' })).id);
  t.equal(typed.state, 'succeeded');
  t.equal(typed.delivered, WORLD.orders, 'types=order.placed: one event per order');
  t.equal(broker.recordCount('only.orders.v1'), WORLD.orders);

  // from_sequence and max_events: a window of the clean feed, as GET /api/v1/events?offset= serves it.
  const from = 1234;
  const window = await ended(app, (await start(app, { sink: 'kafka', mode: 'replay', ...WORLD, from_sequence: from, max_events: 300, topic_prefix: 'from.' })).id);
  t.equal(window.state, 'succeeded');
  t.equal(window.stop_reason, 'max_events');
  t.equal(window.delivered, 300);
  t.equal(window.last_sequence, from + 299, 'last_sequence is the last event sent');
  const slice = (await app.inject(`/api/v1/events?${query(WORLD)}&format=ndjson&offset=${from}&limit=300`)).body.trimEnd().split('\n');
  const got = topics.flatMap((topic) => (broker.topic(`from.${topic}`) ? broker.records(`from.${topic}`) : [])).sort((a, b) => Number(a.headers.sequence) - Number(b.headers.sequence));
  t.same(got.map((r) => r.value), slice, 'events from_sequence on = GET /api/v1/events?offset=from_sequence');
});

t.test('postgres apply mode: a replay leaves exactly the tables the Postgres sink loads', async (t) => {
  const { server, client } = await postgres();
  const app = await testApp(t, { sinks: { postgres: { connectionString: server.connectionString } } });

  const loaded = await app.inject({ method: 'POST', url: '/api/v1/sinks/postgres?wait=true', payload: { ...WORLD, entities: FEED_ENTITIES, schema: 'truth' } });
  t.equal(loaded.statusCode, 200, loaded.body);
  t.equal((loaded.json() as { state: string }).state, 'succeeded', 'the Postgres sink loads the tables');

  const events = (await feedLines(app, WORLD)).length;
  const job = await ended(app, (await start(app, { sink: 'postgres', mode: 'replay', speed: 'max', ...WORLD, schema: 'applied', batch_size: 300 })).id);
  t.equal(job.state, 'succeeded', JSON.stringify({ errors: job.errors, error: job.error }));
  t.equal(job.delivered, events, `${events} events applied`);
  t.equal(job.failed, 0);

  for (const entity of FEED_ENTITIES) {
    const table = quoteIdentifier(tableName(entity));
    const { rows } = await client.query<{ missing: string; extra: string; total: string }>(
      `SELECT (SELECT count(*) FROM (SELECT * FROM truth.${table} EXCEPT ALL SELECT * FROM applied.${table}) m) AS missing,
              (SELECT count(*) FROM (SELECT * FROM applied.${table} EXCEPT ALL SELECT * FROM truth.${table}) x) AS extra,
              (SELECT count(*) FROM truth.${table}) AS total`,
    );
    const row = rows[0];
    t.ok(Number(row?.total) > 0, `${entity}: ${row?.total} rows loaded`);
    t.same({ missing: Number(row?.missing), extra: Number(row?.extra) }, { missing: 0, extra: 0 }, `${entity}: applied EXCEPT ALL loaded, both ways, 0 rows`);
  }
  // Late and duplicated deliveries (out of order, again after later changes) must not roll a row back.
  const chaotic = await ended(app, (await start(app, { sink: 'postgres', mode: 'replay', ...WORLD, late_ratio: 0.2, duplicate_ratio: 0.05, max_lateness_ms: 86_400_000, schema: 'chaotic', batch_size: 300 })).id);
  t.equal(chaotic.state, 'succeeded', JSON.stringify({ errors: chaotic.errors, error: chaotic.error }));
  t.ok(chaotic.defects.late > 0 && chaotic.defects.duplicate > 0, `${chaotic.defects.late} late, ${chaotic.defects.duplicate} duplicate deliveries`);
  const stale = Object.values((chaotic.details as { tables: Record<string, { stale: number }> }).tables).reduce((n, c) => n + c.stale, 0);
  t.ok(stale > 0, `${stale} stale deliveries (older than the row) recognised and not applied`);
  for (const entity of FEED_ENTITIES) {
    const table = quoteIdentifier(tableName(entity));
    const { rows } = await client.query<{ missing: string; extra: string }>(
      `SELECT (SELECT count(*) FROM (SELECT * FROM truth.${table} EXCEPT ALL SELECT * FROM chaotic.${table}) m) AS missing,
              (SELECT count(*) FROM (SELECT * FROM chaotic.${table} EXCEPT ALL SELECT * FROM truth.${table}) x) AS extra`,
    );
    t.same({ missing: Number(rows[0]?.missing), extra: Number(rows[0]?.extra) }, { missing: 0, extra: 0 }, `${entity}: with late and duplicate deliveries, still the loaded table`);
  }
  const tables = (job.details as { tables: Record<string, { upserted: number }> }).tables;
  t.same(Object.keys(tables).sort(), FEED_ENTITIES.map((e) => tableName(e)).sort(), 'details.tables names every table it kept');
});

t.test('webhook live stream: signed POSTs, Idempotency-Key = event_id, the events are liveMinute() of the seed', async (t) => {
  const secret = 'e2e-secret';
  const receiver = await webhookReceiver(t, secret);
  const webhook: WebhookConfig = { endpoint: receiver.url, secret, maxCount: 10, timeoutMs: 5000, retries: 2, backoffMs: 10 };
  const app = await testApp(t, { sinks: { webhook } });
  const before = new Date().getTime();
  const job = await ended(app, (await start(app, { sink: 'webhook', mode: 'live', seed: 7, events_per_second: 50, daily_curve: false, max_events: 150, late_ratio: 0.05, duplicate_ratio: 0.02 })).id);
  const after = new Date().getTime();
  t.equal(job.state, 'succeeded', JSON.stringify(job.errors));
  t.equal(job.stop_reason, 'max_events');
  t.equal(job.delivered, 150);
  const accepted = receiver.accepted();
  t.equal(accepted.length, 150, 'one accepted POST per event');
  t.equal(receiver.deliveries.length, 150, 'no retries needed');
  t.ok(receiver.deliveries.every((d) => d.verified), 'every POST verifies with HMAC-SHA512 under the secret');

  // The live world's minutes are a pure function of the seed: the POSTs are a run of them.
  const spec: LiveWorldSpec = { seed: 7, locale: 'en_US', events_per_second: 50, daily_curve: false, late_ratio: 0.05, duplicate_ratio: 0.02 };
  const minutes: FeedEvent[] = [];
  for (let minute = Math.floor(before / 60_000) * 60_000; minute <= after; minute += 60_000) minutes.push(...liveMinute(spec, minute));
  const first = accepted[0];
  const at = minutes.findIndex((e) => wire(e) === first?.body);
  t.ok(at >= 0, 'the first POST is an event of the minute the stream started in');
  const wrong = accepted.filter((d, k) => {
    const event = minutes[at + k];
    return (
      event === undefined ||
      d.body !== wire(event) ||
      d.key !== event.event_id ||
      d.headers['x-ecomgen-event-type'] !== event.event_type ||
      d.headers['x-ecomgen-sequence'] !== String(event.sequence) ||
      d.headers['x-ecomgen-seed'] !== '7' ||
      d.headers['x-ecomgen-defect'] !== event.defect
    );
  });
  t.equal(wrong.length, 0, 'each POST is the next event of liveMinute(), body, Idempotency-Key and headers');
  const times = accepted.map((d) => Date.parse((JSON.parse(d.body) as FeedEvent).event_time));
  t.ok(times.every((ms) => ms >= before - 5 * 60_000 && ms <= after + 1000), 'event times are now');
  t.same(liveMinute(spec, Math.floor(before / 60_000) * 60_000), liveMinute({ ...spec }, Math.floor(before / 60_000) * 60_000), 'a minute again: the same events');
});

t.test('opensearch replay with late and duplicate deliveries: each daily index holds the newest row per key', async (t) => {
  const peer = await startOpenSearchPeer();
  t.teardown(() => peer.close());
  const app = await testApp(t, { sinks: { opensearch: { node: peer.url } } });
  const clean = (await feedLines(app, WORLD)).map((line) => JSON.parse(line) as FeedEvent);
  const expected = new Map<string, Map<string, unknown>>();
  for (const event of clean) {
    const index = dailyIndexOf(event, 'e2e');
    if (!expected.has(index)) expected.set(index, new Map());
    expected.get(index)?.set(event.key, event.data);
  }
  const job = await ended(app, (await start(app, { sink: 'opensearch', mode: 'replay', ...WORLD, late_ratio: 0.2, duplicate_ratio: 0.05, max_lateness_ms: 86_400_000, index_prefix: 'e2e', batch_size: 500 })).id);
  t.equal(job.state, 'succeeded', JSON.stringify({ errors: job.errors.slice(0, 3), error: job.error }));
  t.equal(job.failed, 0, 'every real row fits its strict mapping');
  t.ok(job.defects.late > 0 && job.defects.duplicate > 0, `${job.defects.late} late, ${job.defects.duplicate} duplicate deliveries`);
  t.ok((job.details.stale as number) > 0, `${String(job.details.stale)} stale deliveries answered 409 and skipped`);
  t.same([...peer.indices.keys()].sort(), [...expected.keys()].sort(), 'one index per entity and day');
  let wrong = 0;
  for (const [index, docs] of expected) {
    const stored = Object.fromEntries(peer.indices.get(index)?.docs ?? []);
    if (JSON.stringify(Object.fromEntries([...docs.entries()].sort())) !== JSON.stringify(Object.fromEntries(Object.entries(stored).sort()))) {
      if (wrong++ < 3) t.fail(`${index}: stored rows differ from the newest rows of the feed`);
    }
  }
  t.equal(wrong, 0, `all ${expected.size} daily indices hold the newest row per key, as the clean feed ends`);
});

t.test('kafka with inventory canonical in PostgreSQL: warehouse_inventory ends at the stock the sink loads', async (t) => {
  const broker = await KafkaTestBroker.start();
  t.teardown(() => broker.close());
  const { server, client } = await postgres();
  const app = await testApp(t, { sinks: { kafka: kafkaConfig(broker), postgres: { connectionString: server.connectionString } } });
  const loaded = await app.inject({ method: 'POST', url: '/api/v1/sinks/postgres?wait=true', payload: { ...WORLD, entities: ['inventory'], schema: 'inventory_truth' } });
  t.equal((loaded.json() as { state: string }).state, 'succeeded', 'the Postgres sink loads the inventory');
  const runs: [string, Record<string, unknown>][] = [
    ['canonical', { inventory_canonical: 'postgres' }],
    ['mirror', { mirror_to_db: true }],
    ['late', { inventory_canonical: 'postgres', late_ratio: 0.2, duplicate_ratio: 0.05, max_lateness_ms: 86_400_000 }],
  ];
  for (const [schema, extra] of runs) {
    const job = await ended(app, (await start(app, { sink: 'kafka', mode: 'replay', ...WORLD, types: ['inventory.opened', 'inventory.changed', 'inventory.counted'], topic_prefix: `${schema}.`, schema, ...extra })).id);
    t.equal(job.state, 'succeeded', `${schema}: ${JSON.stringify({ errors: job.errors.slice(0, 3), error: job.error })}`);
    const { rows } = await client.query<{ rows: string; off: string }>(
      `SELECT count(*) AS rows, count(*) FILTER (WHERE w.quantity_on_hand IS DISTINCT FROM i.quantity_on_hand) AS off
         FROM inventory_truth.inventory i FULL JOIN ${schema}.warehouse_inventory w ON w.warehouse_id = i.warehouse_id AND w.product_id = i.product_id`,
    );
    t.ok(Number(rows[0]?.rows) > 0, `${schema}: ${rows[0]?.rows} product x warehouse rows`);
    t.equal(Number(rows[0]?.off), 0, `${schema}: every warehouse_inventory row = the loaded quantity_on_hand`);
  }
});
