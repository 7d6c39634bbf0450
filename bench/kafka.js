// Benchmark: users through the Kafka sink against raw kafkajs `sendBatch` of the same messages,
// both to the same test broker (test/support/kafka-broker.ts). The sink's figure includes
// generating, serialising and keying the records; the raw figure only sends messages built
// beforehand, so the ratio is what the sink costs on top of the client itself.
//
// The broker runs in a worker thread, as a real broker runs on another machine: while it
// handles one batch, the sink generates the next (what it does against a real cluster), and
// neither side's figure includes the broker's work on the client's thread.
//
// Imported by bench/run.js (after `npm run build`; the broker is TypeScript, so node runs with
// `--import tsx`). Standalone: `node --expose-gc --import tsx bench/kafka.js [records]`.

import { once } from 'node:events';
import { pathToFileURL } from 'node:url';
import { isDeepStrictEqual } from 'node:util';
import { Worker } from 'node:worker_threads';
import { Kafka, logLevel, Partitioners } from 'kafkajs';
import { buildApp } from '../dist/app.js';
import { formatContext } from '../dist/render/batch.js';
import { jsonWriter } from '../dist/formats/json-writer.js';
import { ENTITIES } from '../dist/generators/registry.js';
import { World } from '../dist/generators/world.js';
import { worldSpecFrom } from '../dist/routes/world-query.js';
import { keyFieldOf, SCHEMA_VERSION } from '../dist/sinks/kafka.js';

const SEED = 42;
const TARGET_RATIO = 0.8;
/** The sink's default batch_size; the raw producer sends batches of the same size. */
const BATCH_SIZE = 1000;
const PARTITIONS = 3;
const WARMUP_RECORDS = 20_000;

const collect = () => globalThis.gc?.();

// The worker loads the TypeScript broker through tsx's API (an eval'd worker gets no --import hooks).
const BROKER_WORKER = `
const { parentPort, workerData } = require('node:worker_threads');
import(workerData.tsx).then(({ tsImport }) => tsImport(workerData.url, workerData.parent)).then(async ({ KafkaTestBroker }) => {
  const broker = await KafkaTestBroker.start();
  parentPort.on('message', async ({ id, op, topic }) => {
    let result;
    if (op === 'count') result = broker.recordCount(topic);
    else if (op === 'records') result = broker.records(topic).map((r) => ({ key: r.key, value: r.value, headers: r.headers }));
    else if (op === 'delete') broker.deleteTopic(topic);
    else if (op === 'errors') result = broker.protocolErrors;
    else if (op === 'close') await broker.close();
    parentPort.postMessage({ id, result });
  });
  parentPort.postMessage({ address: broker.address });
});
`;

/** The test broker in a worker thread, and a way to ask it things. */
async function startBroker() {
  const workerData = { tsx: import.meta.resolve('tsx/esm/api'), url: new URL('../test/support/kafka-broker.ts', import.meta.url).href, parent: import.meta.url };
  const worker = new Worker(BROKER_WORKER, { eval: true, workerData });
  const [{ address }] = await once(worker, 'message');
  let next = 0;
  const ask = async (op, topic) => {
    const id = next++;
    worker.postMessage({ id, op, topic });
    for (;;) {
      const [reply] = await once(worker, 'message');
      if (reply.id === id) return reply.result;
    }
  };
  return { address, ask, close: async () => (await ask('close'), await worker.terminate()) };
}

/** The messages the sink sends for users 0..records-1 of the world: key, value, headers. */
function precompute(records) {
  const world = World.of(worldSpecFrom({ seed: SEED, users: records }));
  const context = formatContext('users', Object.keys(ENTITIES.users.schema.properties));
  const keyField = keyFieldOf('users');
  const messages = [];
  let write;
  let index = 0;
  for (const record of world.generator('users').range(0, records)) {
    write ??= jsonWriter(context, record);
    const headers = { entity: 'users', seed: String(SEED), index: String(index++), 'schema-version': String(SCHEMA_VERSION), 'content-type': 'application/json' };
    messages.push({ key: String(record[keyField]), value: write(record), headers });
  }
  return messages;
}

/** Users through the sink (POST ...?wait=true) into `topic`: records/s. */
async function throughSink(app, broker, world, records, topic) {
  collect();
  const started = performance.now();
  const response = await app.inject({
    method: 'POST',
    url: '/api/v1/sinks/kafka?wait=true',
    payload: { seed: SEED, users: world, entity: 'users', limit: records, topic, partitions: PARTITIONS, batch_size: BATCH_SIZE },
  });
  const seconds = (performance.now() - started) / 1000;
  const job = response.json();
  if (response.statusCode !== 200 || job.state !== 'succeeded') throw new Error(`sink job: ${response.statusCode} ${response.body.slice(0, 500)}`);
  const held = await broker.ask('count', topic);
  if (job.records !== records || held !== records) throw new Error(`sink delivered ${job.records}, broker holds ${held}, expected ${records}`);
  return { perSecond: records / seconds, seconds };
}

/** Prebuilt messages through kafkajs alone, configured as the sink configures it: records/s. */
async function throughRaw(kafka, broker, messages, topic) {
  const admin = kafka.admin();
  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1, allowAutoTopicCreation: false, createPartitioner: Partitioners.DefaultPartitioner });
  try {
    await admin.connect();
    await admin.createTopics({ topics: [{ topic, numPartitions: PARTITIONS }], waitForLeaders: true });
    await producer.connect();
    collect();
    const started = performance.now();
    for (let at = 0; at < messages.length; at += BATCH_SIZE) {
      await producer.sendBatch({ acks: -1, topicMessages: [{ topic, messages: messages.slice(at, at + BATCH_SIZE) }] });
    }
    const seconds = (performance.now() - started) / 1000;
    const held = await broker.ask('count', topic);
    if (held !== messages.length) throw new Error(`raw: broker holds ${held} of ${messages.length}`);
    return { perSecond: messages.length / seconds, seconds };
  } finally {
    await Promise.allSettled([producer.disconnect(), admin.disconnect()]);
  }
}

/**
 * Users/s through the Kafka sink and through raw kafkajs `sendBatch` of the same precomputed
 * messages (key, value, headers): same batch size, producer settings, partitions and broker.
 */
export async function benchKafka({ records = 200_000 } = {}) {
  const broker = await startBroker();
  const app = await buildApp({ sinks: { kafka: { brokers: [broker.address], clientId: 'ecomgen-bench', ssl: false } } });
  await app.ready();
  const kafka = new Kafka({ brokers: [broker.address], clientId: 'ecomgen-bench-raw', logLevel: logLevel.NOTHING });
  try {
    const messages = precompute(records);

    // Warm both paths up (JIT, kafkajs' encoders), and check the raw messages are the sink's own.
    const warmup = Math.min(WARMUP_RECORDS, records);
    await throughSink(app, broker, records, warmup, 'warmup-sink');
    const sent = (await broker.ask('records', 'warmup-sink')).sort((a, b) => Number(a.headers.index) - Number(b.headers.index));
    if (!isDeepStrictEqual(sent, messages.slice(0, warmup))) throw new Error('the precomputed messages differ from what the sink sent');
    await throughRaw(kafka, broker, messages.slice(0, warmup), 'warmup-raw');
    await broker.ask('delete', 'warmup-sink');
    await broker.ask('delete', 'warmup-raw');

    const sink = await throughSink(app, broker, records, records, 'users.v1');
    await broker.ask('delete', 'users.v1');
    const raw = await throughRaw(kafka, broker, messages, 'users-raw.v1');
    const errors = await broker.ask('errors');
    if (errors.length > 0) throw new Error(`broker: ${errors.slice(0, 3).join('; ')}`);

    const ratio = sink.perSecond / raw.perSecond;
    const row = (name, r) => `  ${name.padEnd(28)} ${Math.round(r.perSecond).toLocaleString('en-US').padStart(9)} records/s ${r.seconds.toFixed(2).padStart(7)} s`;
    console.log(`\nKafka: ${records.toLocaleString('en-US')} users, batches of ${BATCH_SIZE}, ${PARTITIONS} partitions, idempotent acks=all, test broker in a worker thread`);
    console.log(row('sink (generate + send)', sink));
    console.log(row('raw kafkajs sendBatch', raw));
    console.log(`  ratio ${ratio.toFixed(2)} (target >= ${TARGET_RATIO}) ${ratio >= TARGET_RATIO ? 'OK' : 'MISS'}`);
    return {
      scenarios: [
        { scenario: 'users to Kafka through the sink (generate + key + send; test broker in a worker)', rows: records, seconds: sink.seconds, rowsPerSecond: sink.perSecond },
        { scenario: 'users to Kafka, raw kafkajs sendBatch of the same precomputed messages (baseline)', rows: records, seconds: raw.seconds, rowsPerSecond: raw.perSecond },
      ],
      ratio: { name: 'Kafka sink records/s ÷ raw kafkajs sendBatch records/s', value: ratio, target: TARGET_RATIO, comparison: '≥', pass: ratio >= TARGET_RATIO },
    };
  } finally {
    await app.close();
    await broker.close();
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  await benchKafka({ records: Number(process.argv[2] ?? 200_000) });
}
