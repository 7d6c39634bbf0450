// Benchmark: the stream engine into the Kafka test broker (replay, speed=max) against raw
// kafkajs `sendBatch` of the same messages (same keys, values and headers, built beforehand) in
// the same run, to the same broker. The ratio is what the engine and the stream writer cost on
// top of the client. Speed is measured here, never asserted.
//
// The broker runs in this process (unlike bench/kafka.js, which gives it a worker thread), so
// both figures include its work; the ratio is still like for like.
//
/* global AbortController */
// Run: `node --expose-gc --import tsx bench/streams.js [events]` (default 200,000).
// Not measured yet: PostgreSQL apply mode against raw COPY (see docs/streams.md).

import { Kafka, logLevel, Partitioners } from 'kafkajs';
import { runStream, StreamProgress } from '../src/streams/engine.ts';
import { systemClock } from '../src/streams/jobs.ts';
import { jsonEncoder, KafkaStreamWriter, streamKeyOf, streamTopicOf } from '../src/sinks/kafka-stream.ts';
import { KafkaTestBroker } from '../test/support/kafka-broker.ts';
import { boundedFeed, TEST_EVENT_TYPES } from '../test/support/feed-source.ts';

const EVENTS = Number(process.argv[2] ?? 200_000);
const BATCH = 1000;
const TARGET_RATIO = 0.8;
/** Warnings only, to stderr (the writer passes kafkajs' log lines here). */
const log = { warn: (obj, msg) => console.error(msg ?? obj), info: () => {}, debug: () => {}, error: (obj, msg) => console.error(msg ?? obj), child: () => log };

const broker = await KafkaTestBroker.start({ retainRecords: false });
const config = { brokers: [broker.address], clientId: 'bench-streams', ssl: false };
const feed = boundedFeed(EVENTS, Date.UTC(2025, 0, 1), 1000);
const topicsOf = (prefix) => [...new Set(TEST_EVENT_TYPES.map((t) => streamTopicOf(t, prefix)))];

async function engineRun(prefix) {
  const writer = new KafkaStreamWriter(config, { topic_prefix: prefix, partitions: 3 }, TEST_EVENT_TYPES, 42, jsonEncoder, log);
  const progress = new StreamProgress();
  const start = performance.now();
  await runStream(feed, writer, { mode: 'replay', rate: { eventsPerSecond: 1, dailyCurve: false, timeZone: 'UTC' }, batchSize: BATCH }, systemClock, progress, new AbortController().signal);
  const seconds = (performance.now() - start) / 1000;
  await writer.close();
  if (progress.delivered !== EVENTS) throw new Error(`engine delivered ${progress.delivered} of ${EVENTS}`);
  return EVENTS / seconds;
}

async function rawRun(prefix) {
  const kafka = new Kafka({ clientId: 'bench-raw', brokers: [broker.address], logLevel: logLevel.NOTHING });
  const admin = kafka.admin();
  await admin.connect();
  await admin.createTopics({ topics: topicsOf(prefix).map((topic) => ({ topic, numPartitions: 3 })) });
  await admin.disconnect();
  // The same messages as the stream writer builds, built before the clock starts.
  const batches = [];
  let batch = new Map();
  let n = 0;
  for (const event of feed.replay(0)) {
    const topic = streamTopicOf(event.event_type, prefix);
    if (!batch.has(topic)) batch.set(topic, []);
    batch.get(topic).push({
      key: streamKeyOf(event),
      value: jsonEncoder.encode(topic, event),
      headers: { 'event-id': event.event_id, 'event-type': event.event_type, entity: event.entity, op: event.op, sequence: String(event.sequence), seed: '42', 'schema-version': '1', 'content-type': 'application/json', ...(event.defect ? { defect: event.defect } : {}) },
    });
    if (++n % BATCH === 0) {
      batches.push(batch);
      batch = new Map();
    }
  }
  if (batch.size > 0) batches.push(batch);
  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1, createPartitioner: Partitioners.DefaultPartitioner });
  await producer.connect();
  const start = performance.now();
  for (const b of batches) await producer.sendBatch({ acks: -1, topicMessages: [...b.entries()].map(([topic, messages]) => ({ topic, messages })) });
  const seconds = (performance.now() - start) / 1000;
  await producer.disconnect();
  return EVENTS / seconds;
}

try {
  await engineRun('warm.'); // JIT and connections
  globalThis.gc?.();
  const raw = await rawRun('raw.');
  globalThis.gc?.();
  const engine = await engineRun('engine.');
  const ratio = engine / raw;
  console.log(`streams → Kafka test broker, ${EVENTS.toLocaleString('en-US')} events, batches of ${BATCH}`);
  console.log(`  raw kafkajs sendBatch : ${Math.round(raw).toLocaleString('en-US')} events/s`);
  console.log(`  stream engine (max)   : ${Math.round(engine).toLocaleString('en-US')} events/s`);
  console.log(`  ratio                 : ${ratio.toFixed(2)}x  ${ratio >= TARGET_RATIO ? 'OK' : 'MISS'} (goal >= ${TARGET_RATIO}x)`);
} finally {
  await broker.close();
}
