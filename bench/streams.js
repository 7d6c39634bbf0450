// Benchmark of the live streams (docs/streams.md, "Performance"), all in one run:
//   1. replay, speed=max, into the Kafka test broker against raw kafkajs `sendBatch` of the same
//      messages (same keys, values and headers, built beforehand, same batch size);
//   2. replay of a real world's change feed into PostgreSQL apply mode (embedded PostgreSQL)
//      against a raw COPY of the same rows (CSV built beforehand, one transaction and one COPY
//      per entity per batch of the same size), in interleaved rounds: the median ratio;
//   3. live streams of the real live world into the Kafka test broker at 1,000 and 100 events/s
//      (daily curve off): events delivered per wall-clock minute against the target, the lag,
//      and this process's peak RSS (VmRSS of /proc/self/status every 10 s), first minute
//      against last;
//   4. a sink that cannot keep up (each batch held 250 ms): the lag the stream reports.
// Ratios are measured in the same run (the machine is shared, absolute figures are noisy).
// Speed is measured here, never asserted.
//
// The broker runs in this process (unlike bench/kafka.js, which gives it a worker thread), so
// both figures include its work; the ratio is still like for like.
//
/* global AbortController, setTimeout */
// Run: `node --expose-gc --import tsx bench/streams.js [--quick] [events]` (default 200,000; 20,000
// with --quick or BENCH_QUICK=1). The live part runs 10 minutes (1 with --quick).
// `--only=kafka,postgres,live` runs only those parts (all by default).

import { Kafka, logLevel, Partitioners } from 'kafkajs';
import { runStream, StreamProgress } from '../src/streams/engine.ts';
import { systemClock } from '../src/streams/jobs.ts';
import { jsonEncoder, KafkaStreamWriter, streamKeyOf, streamTopicOf } from '../src/sinks/kafka-stream.ts';
import { readFileSync } from 'node:fs';
import pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import { pipeline } from 'node:stream/promises';
import { Readable } from 'node:stream';
import { EVENT_TYPE_NAMES } from '../src/events/catalogue.ts';
import { ENTITIES } from '../src/generators/registry.ts';
import { parseDate } from '../src/generators/time.ts';
import { resolveSizes } from '../src/generators/world.ts';
import { columnsOf, createTablesSql, quoteIdentifier, tableName } from '../src/schemas/columns.ts';
import { PostgresStreamWriter } from '../src/sinks/postgres-stream.ts';
import { changeFeed } from '../src/streams/source.ts';
import { KafkaTestBroker } from '../test/support/kafka-broker.ts';
import { boundedFeed, TEST_EVENT_TYPES } from '../test/support/feed-source.ts';
import { startPostgres } from '../test/support/postgres.ts';

const args = process.argv.slice(2);
const QUICK = args.includes('--quick') || process.env.BENCH_QUICK === '1';
const EVENTS = Number(args.find((a) => /^\d+$/.test(a)) ?? (QUICK ? 20_000 : 200_000));
const ONLY = (args.find((a) => a.startsWith('--only='))?.slice('--only='.length) ?? 'kafka,postgres,live').split(',');
const LIVE_MINUTES = QUICK ? 1 : 10;
const PG_SCALE = QUICK ? 0.02 : 0.1;
const BATCH = 1000;
/** Interleaved raw/engine rounds of the PostgreSQL part (each takes seconds). */
const PG_ROUNDS = 5;
/** Interleaved raw/engine rounds of the Kafka part. */
const KAFKA_ROUNDS = 3;
const TARGET_RATIO = 0.8;
/** Warnings only, to stderr (the writer passes kafkajs' log lines here). */
const log = { warn: (obj, msg) => console.error(msg ?? obj), info: () => {}, debug: () => {}, error: (obj, msg) => console.error(msg ?? obj), child: () => log };

const broker = await KafkaTestBroker.start({ retainRecords: false });
const config = { brokers: [broker.address], clientId: 'bench-streams', ssl: false };
// Materialised before any clock starts (by the untimed warm-up run), as the PostgreSQL part's
// feed is: both sides time delivery, not making the test events. Only when the Kafka part runs:
// the live part's memory figures are the stream's, not 200,000 events held here.
let feedEvents;
const feed = { replay: (from) => (feedEvents ??= [...boundedFeed(EVENTS, Date.UTC(2025, 0, 1), 1000).replay(0)]).slice(from), liveMinute: () => [] };
const topicsOf = (prefix) => [...new Set(TEST_EVENT_TYPES.map((t) => streamTopicOf(t, prefix)))];

/**
 * A writer opened before the clock starts (connected, its topics or tables created), as the raw
 * side's client is: the engine's figure is then its delivery alone, like the raw side's.
 */
async function opened(writer) {
  await writer.open(new AbortController().signal);
  return {
    destination: writer.destination,
    open: async () => undefined,
    prepare: (batch) => writer.prepare(batch),
    concurrency: writer.concurrency,
    details: () => writer.details(),
    write: (batch, signal) => writer.write(batch, signal),
    close: () => writer.close(),
  };
}

async function engineRun(prefix) {
  const writer = await opened(new KafkaStreamWriter(config, { topic_prefix: prefix, partitions: 3 }, TEST_EVENT_TYPES, 42, jsonEncoder, log));
  const progress = new StreamProgress();
  const cpu0 = process.cpuUsage();
  const start = performance.now();
  await runStream(feed, writer, { mode: 'replay', rate: { eventsPerSecond: 1, dailyCurve: false, timeZone: 'UTC' }, batchSize: BATCH }, systemClock, progress, new AbortController().signal);
  const seconds = (performance.now() - start) / 1000;
  const cpu = process.cpuUsage(cpu0);
  await writer.close();
  if (progress.delivered !== EVENTS) throw new Error(`engine delivered ${progress.delivered} of ${EVENTS}`);
  return { rate: EVENTS / seconds, cpuMs: (cpu.user + cpu.system) / 1000 };
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
  const cpu0 = process.cpuUsage();
  const start = performance.now();
  for (const b of batches) await producer.sendBatch({ acks: -1, topicMessages: [...b.entries()].map(([topic, messages]) => ({ topic, messages })) });
  const seconds = (performance.now() - start) / 1000;
  const cpu = process.cpuUsage(cpu0);
  await producer.disconnect();
  return { rate: EVENTS / seconds, cpuMs: (cpu.user + cpu.system) / 1000 };
}

/** Rows of a table as CSV for COPY: jsonb columns as JSON text, NULL as an empty unquoted field. */
function csvOf(rows, columns) {
  const cell = (v) => {
    if (v === null || v === undefined) return '';
    const text = typeof v === 'object' ? JSON.stringify(v) : String(v);
    return `"${text.replace(/"/g, '""')}"`;
  };
  return rows.map((row) => columns.map((c) => cell(row[c.name])).join(',')).join('\n') + '\n';
}

async function postgresRuns() {
  const server = await startPostgres();
  try {
    const config = { connectionString: server.connectionString };
    const start = parseDate('2025-01-01', false);
    const end = parseDate('2025-12-31', true);
    const world = { seed: 7, sizes: resolveSizes(PG_SCALE, {}), locale: 'en_US', window: { start, end } };
    const request = { world, feed: {}, live: { seed: 7, locale: 'en_US', events_per_second: 1, daily_curve: false } };
    await changeFeed.prepare(request);
    const events = [...changeFeed.open(request).replay(0)];
    // The engine: replay at max speed into apply mode.
    const run = async (schema) => {
      // Its tables exist before the clock starts, as the raw side's do (the writer's own DDL then finds them).
      await client.query(createTablesSql(entities, { schema, prefix: '' }).join(';\n'));
      const writer = await opened(new PostgresStreamWriter(config, { schema }, log));
      const progress = new StreamProgress();
      // Every backend of the writer (it applies batches on more than one connection at once).
      const backends = (await client.query(`SELECT pid FROM pg_stat_activity WHERE application_name = 'ecomgen-stream'`)).rows.map((r) => r.pid);
      const cpu = cpuClock(backends);
      const t0 = performance.now();
      await runStream({ replay: () => events, liveMinute: () => [] }, writer, { mode: 'replay', rate: { eventsPerSecond: 1, dailyCurve: false, timeZone: 'UTC' }, batchSize: BATCH }, systemClock, progress, new AbortController().signal);
      const seconds = (performance.now() - t0) / 1000;
      const used = cpu();
      const { conflicts = 0 } = writer.details();
      await writer.close();
      if (progress.delivered !== events.length) throw new Error(`apply mode delivered ${progress.delivered} of ${events.length}: ${progress.errors.join('; ')}`);
      return { rate: events.length / seconds, conflicts, ...used };
    };
    const client = new pg.Client({ connectionString: server.connectionString });
    client.on('error', () => undefined); // the server stops under it when a round fails: that failure is the one to report
    await client.connect();
    const rawBackends = [(await client.query('SELECT pg_backend_pid() AS pid')).rows[0].pid];
    const entities = [...new Set(events.map((e) => e.entity))];
    await client.query('CREATE SCHEMA warm');
    await run('warm');
    // The raw baseline: the same rows, COPY per entity per batch, into tables of the same columns (no keys to conflict on).
    const batchesInto = (schema) => {
      const batches = [];
      for (let k = 0; k < events.length; k += BATCH) {
        const byEntity = new Map();
        for (const e of events.slice(k, k + BATCH)) {
          if (!byEntity.has(e.entity)) byEntity.set(e.entity, []);
          byEntity.get(e.entity).push(e.data);
        }
        batches.push([...byEntity.entries()].map(([entity, rows]) => {
          const columns = columnsOf(ENTITIES[entity].schema);
          return { sql: `COPY ${schema}.${quoteIdentifier(tableName(entity))} (${columns.map((c) => quoteIdentifier(c.name)).join(', ')}) FROM STDIN WITH (FORMAT csv)`, csv: csvOf(rows, columns) };
        }));
      }
      return batches;
    };
    const rawRun = async (schema) => {
      await client.query(`CREATE SCHEMA ${schema}`);
      for (const entity of entities) await client.query(`CREATE TABLE ${schema}.${quoteIdentifier(tableName(entity))} (LIKE warm.${quoteIdentifier(tableName(entity))})`);
      const batches = batchesInto(schema);
      globalThis.gc?.();
      const cpu = cpuClock(rawBackends);
      const t0 = performance.now();
      for (const batch of batches) {
        await client.query('BEGIN');
        for (const { sql, csv } of batch) await pipeline(Readable.from([csv]), client.query(copyFrom(sql)));
        await client.query('COMMIT');
      }
      const seconds = (performance.now() - t0) / 1000;
      return { rate: events.length / seconds, ...cpu() };
    };
    // Interleaved rounds (raw, engine, raw, engine, ...), each into empty tables: the medians, and
    // the median of the ratios pair by pair, are what a shared machine's drift moves least.
    const rawRounds = [];
    const engineRounds = [];
    for (let round = 0; round < PG_ROUNDS; round++) {
      rawRounds.push(await rawRun(`raw${round}`));
      await client.query(`CREATE SCHEMA apply${round}`);
      globalThis.gc?.();
      engineRounds.push(await run(`apply${round}`));
    }
    const raws = rawRounds.map((r) => r.rate);
    const engines = engineRounds.map((r) => r.rate);
    const ratio = median(raws.map((r, k) => engines[k] / r));
    await client.end();
    const cpuOf = (rounds) => ({ postgres: median(rounds.map((r) => r.postgresMs)), node: median(rounds.map((r) => r.nodeMs)) });
    const conflicts = engineRounds.reduce((n, r) => n + r.conflicts, 0);
    return { events: events.length, raw: median(raws), engine: median(engines), ratio, raws, engines, rawCpu: cpuOf(rawRounds), engineCpu: cpuOf(engineRounds), conflicts };
  } finally {
    await server.stop();
  }
}

/**
 * CPU time from now on: the PostgreSQL backends' (utime + stime of /proc/<pid>/stat, in 10 ms
 * ticks, summed) and this process's. Wall time alone hides which side does the work on a shared machine.
 */
function cpuClock(backendPids) {
  const ticks = () =>
    backendPids.reduce((sum, pid) => {
      const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
      return sum + Number(fields[11]) + Number(fields[12]);
    }, 0);
  const pg0 = ticks();
  const node0 = process.cpuUsage();
  return () => {
    const node = process.cpuUsage(node0);
    return { postgresMs: (ticks() - pg0) * 10, nodeMs: (node.user + node.system) / 1000 };
  };
}

const rssKb = () => Number(/VmRSS:\s+(\d+)/.exec(readFileSync('/proc/self/status', 'utf8'))?.[1] ?? 0);

/** A writer that holds each batch 250 ms: a sink that cannot keep up with 1,000 events/s in batches of 20. */
class SlowWriter {
  constructor(inner) {
    this.inner = inner;
    this.destination = inner.destination;
  }
  open(signal) {
    return this.inner.open(signal);
  }
  async write(batch, signal) {
    await new Promise((resolve) => setTimeout(resolve, 250));
    return this.inner.write(batch, signal);
  }
  close() {
    return this.inner.close();
  }
}

/** Live streams of the real live world at 1,000 and 100 events/s: per-minute counts, lag, RSS. */
async function liveRuns() {
  const stop = new AbortController();
  const live = (rate, prefix, slow = false) => {
    const signal = slow ? new AbortController().signal : stop.signal;
    const spec = { seed: 42, locale: 'en_US', events_per_second: rate, daily_curve: false };
    const source = changeFeed.open({ world: { seed: 42, sizes: resolveSizes(1, {}), locale: 'en_US', window: { start: parseDate('2025-01-01', false), end: parseDate('2025-12-31', true) } }, feed: {}, live: spec });
    const kafka = new KafkaStreamWriter(config, { topic_prefix: prefix, partitions: 3 }, EVENT_TYPE_NAMES, 42, jsonEncoder, log);
    const progress = new StreamProgress();
    const options = { mode: 'live', rate: { eventsPerSecond: rate, dailyCurve: false, timeZone: 'America/New_York' }, ...(slow ? { durationMs: 20_000 } : {}) };
    const done = runStream(source, slow ? new SlowWriter(kafka) : kafka, options, systemClock, progress, signal).finally(() => kafka.close());
    return { progress, done };
  };
  // The minutes are counted from the first whole wall-clock minute after both streams start.
  const fast = live(1000, 'live1000.');
  const slowRate = live(100, 'live100.');
  const firstMinute = Math.ceil((Date.now() + 5000) / 60_000) * 60_000;
  await new Promise((resolve) => setTimeout(resolve, firstMinute - Date.now()));
  const counts = { fast: [], slow: [] };
  const rss = [];
  const heap = [];
  let at = { fast: fast.progress.delivered, slow: slowRate.progress.delivered };
  let maxLag = 0;
  for (let minute = 0; minute < LIVE_MINUTES; minute++) {
    const minuteRss = [];
    for (let s = 1; s <= 6; s++) {
      await new Promise((resolve) => setTimeout(resolve, firstMinute + minute * 60_000 + s * 10_000 - Date.now()));
      minuteRss.push(rssKb());
      maxLag = Math.max(maxLag, fast.progress.lagSeconds);
    }
    const now = { fast: fast.progress.delivered, slow: slowRate.progress.delivered };
    counts.fast.push(now.fast - at.fast);
    counts.slow.push(now.slow - at.slow);
    at = now;
    rss.push(Math.max(...minuteRss));
    // What stays alive (heap after a full collection): RSS alone also shows V8 growing lazily.
    globalThis.gc?.();
    heap.push(process.memoryUsage().heapUsed);
    console.error(`  live minute ${minute + 1}: ${counts.fast.at(-1)} at 1,000/s, ${counts.slow.at(-1)} at 100/s, peak RSS ${Math.round(rss.at(-1) / 1024)} MB, heap after GC ${Math.round(heap.at(-1) / 2 ** 20)} MB, lag ${fast.progress.lagSeconds} s`);
  }
  stop.abort();
  await Promise.all([fast.done, slowRate.done]);
  // A sink that cannot keep up: the lag shows.
  const slowSink = live(1000, 'slow.', true);
  await slowSink.done;
  return { counts, rss, heap, maxLag, failed: fast.progress.failed + slowRate.progress.failed, slowLag: slowSink.progress.maxLagSeconds, slowDelivered: slowSink.progress.delivered };
}

const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
const list = (rates) => rates.map((r) => Math.round(r).toLocaleString('en-US')).join(', ');
const pct = (x, target) => `${x >= target ? '+' : ''}${(((x - target) / target) * 100).toFixed(2)}%`;

try {
  if (ONLY.includes('kafka')) await kafkaPart();
  if (ONLY.includes('postgres')) await postgresPart();
  if (ONLY.includes('live')) await livePart();
} finally {
  await broker.close();
}

async function kafkaPart() {
  await engineRun('warm.'); // JIT and connections
  // Interleaved rounds (raw, engine, raw, engine, ...), as in the PostgreSQL part: one pair alone
  // moved by a third either way on the shared machine.
  const raws = [];
  const engines = [];
  const cpu = { raw: [], engine: [] };
  for (let round = 0; round < KAFKA_ROUNDS; round++) {
    globalThis.gc?.();
    const raw = await rawRun(`raw${round}.`);
    globalThis.gc?.();
    const engine = await engineRun(`engine${round}.`);
    raws.push(raw.rate);
    engines.push(engine.rate);
    cpu.raw.push(raw.cpuMs);
    cpu.engine.push(engine.cpuMs);
  }
  const ratio = median(raws.map((r, k) => engines[k] / r));
  console.log(`streams → Kafka test broker, replay speed=max, ${EVENTS.toLocaleString('en-US')} events, batches of ${BATCH}, ${KAFKA_ROUNDS} interleaved rounds (medians)`);
  console.log(`  raw kafkajs sendBatch : ${Math.round(median(raws)).toLocaleString('en-US')} events/s [${list(raws)}]`);
  console.log(`  stream engine (max)   : ${Math.round(median(engines)).toLocaleString('en-US')} events/s [${list(engines)}]`);
  console.log(`  ratio                 : ${ratio.toFixed(2)}x  ${ratio >= TARGET_RATIO ? 'OK' : 'MISS'} (goal >= ${TARGET_RATIO}x; pairwise ${raws.map((r, k) => (engines[k] / r).toFixed(2)).join(', ')})`);
  // One thread does everything here (client, engine, broker): its CPU time is what a quiet machine's wall time would be.
  const perThousand = (list) => (median(list) / (EVENTS / 1000)).toFixed(1);
  console.log(`  CPU time, medians     : raw ${perThousand(cpu.raw)} ms, engine ${perThousand(cpu.engine)} ms per 1,000 events: raw / engine ${(median(cpu.raw) / median(cpu.engine)).toFixed(2)}x`);
}

async function postgresPart() {
  const pgResult = await postgresRuns();
  const pgRatio = pgResult.ratio;
  console.log(`streams → PostgreSQL apply mode, replay of a scale-${PG_SCALE} world's feed (${pgResult.events.toLocaleString('en-US')} events), batches of ${BATCH}, ${PG_ROUNDS} interleaved rounds (medians)`);
  console.log(`  raw COPY of the rows  : ${Math.round(pgResult.raw).toLocaleString('en-US')} events/s [${list(pgResult.raws)}]`);
  console.log(`  stream engine (max)   : ${Math.round(pgResult.engine).toLocaleString('en-US')} events/s [${list(pgResult.engines)}]`);
  console.log(`  ratio                 : ${pgRatio.toFixed(2)}x  ${pgRatio >= TARGET_RATIO ? 'OK' : 'MISS'} (goal >= ${TARGET_RATIO}x)`);
  const cpu = ({ postgres, node }) => `PostgreSQL backends ${postgres} ms, Node ${Math.round(node)} ms`;
  console.log(`  CPU time, medians     : raw COPY ${cpu(pgResult.rawCpu)}; apply mode ${cpu(pgResult.engineCpu)}`);
  console.log(`  apply mode            : two batches in flight on two connections (raw COPY: one); ${pgResult.conflicts} batch${pgResult.conflicts === 1 ? '' : 'es'} rolled back by a deadlock and applied again over the ${PG_ROUNDS} rounds`);
}

async function livePart() {
  const liveResult = await liveRuns();
  const { counts, rss, heap } = liveResult;
  console.log(`live streams → Kafka test broker, ${LIVE_MINUTES} wall-clock minute${LIVE_MINUTES === 1 ? '' : 's'}, daily curve off`);
  for (const [name, target, list] of [['1,000 events/s', 60_000, counts.fast], ['  100 events/s', 6_000, counts.slow]]) {
    const min = Math.min(...list);
    const max = Math.max(...list);
    console.log(`  ${name}: per minute min ${min.toLocaleString('en-US')} (${pct(min, target)}), max ${max.toLocaleString('en-US')} (${pct(max, target)}) [${list.join(', ')}]`);
  }
  console.log(`  max lag at 1,000/s: ${liveResult.maxLag} s; failed: ${liveResult.failed}`);
  console.log(`  peak RSS per minute (MB): ${rss.map((kb) => Math.round(kb / 1024)).join(', ')}; last / first ${(rss.at(-1) / rss[0]).toFixed(2)}`);
  console.log(`  heap after GC per minute (MB): ${heap.map((b) => Math.round(b / 2 ** 20)).join(', ')}; last / first ${(heap.at(-1) / heap[0]).toFixed(2)}`);
  console.log(`  a sink holding each batch 250 ms, 1,000 events/s for 20 s: ${liveResult.slowDelivered.toLocaleString('en-US')} delivered, max lag reported ${liveResult.slowLag} s`);
}
