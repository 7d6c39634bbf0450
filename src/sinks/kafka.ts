import { Type, type TSchema } from '@sinclair/typebox';
import { setTimeout as sleep } from 'node:timers/promises';
import type { FastifyBaseLogger } from 'fastify';
import type { Admin, IHeaders, logCreator, Message, Producer, SASLOptions } from 'kafkajs';
import type { KafkaConfig } from '../config.js';
import { jsonWriter, type JsonWriter } from '../formats/json-writer.js';
import { ENTITIES, ENTITY_NAMES, type EntityName } from '../generators/registry.js';
import { formatContext } from '../render/batch.js';
import { kafkaLibrary, loadedKafka } from './kafka-client.js';
import { messageOf, type EntityProgress } from './progress.js';
import { pause, unlessAborted } from './retry.js';
import type { EntitySlice, SinkDefinition, SinkRun } from './types.js';

export interface KafkaOptions {
  topic?: string;
  topic_prefix?: string;
  partitions?: number;
  replication_factor?: number;
  events_per_second?: number;
  batch_size?: number;
}

/**
 * The version of the message shape: the `.v1` of default topic names and the `schema-version`
 * header. It moves when an entity's schema changes incompatibly, so old and new records never
 * share a topic.
 */
export const SCHEMA_VERSION = 1;

/** Default topic stems that differ from the entity's URL name (the names consumers expect). */
const TOPIC_STEMS: Partial<Record<EntityName, string>> = {
  shipping: 'shipments',
  'inventory-movements': 'inventory-changes',
  clickstream: 'customer-interactions',
};

const JSON_TYPE = 'application/json';
const DEFAULT_PARTITIONS = 3;
const DEFAULT_BATCH_SIZE = 1000;
const MAX_BATCH_SIZE = 10_000;
/** Kafka's limit on a topic name. */
const MAX_TOPIC_LENGTH = 249;
/**
 * Bytes of one send, records' overhead included, kept under Kafka's default message.max.bytes
 * (1,048,588 per partition batch), so large records shrink a batch instead of being refused.
 */
const MAX_SEND_BYTES = 1_000_000;
/** Per-record framing in a RecordBatch (lengths, deltas, attributes), counted against MAX_SEND_BYTES. */
const RECORD_OVERHEAD = 32;
/** With a rate limit, about this many sends per second, so the rate holds over short windows too. */
const SENDS_PER_SECOND = 10;

/**
 * Connecting fails within seconds when no broker answers: a refused connection is retried
 * three times within about a second, a silent host times out after 3 s per attempt.
 */
const CONNECTION_TIMEOUT_MS = 3000;
const CONNECT_RETRY = { retries: 3, initialRetryTime: 100, maxRetryTime: 1000 };
/**
 * Sends ride out a leader election or a broker restart and then fail the job, rather than
 * retrying forever as kafkajs' idempotent default would: 9 attempts, with waits between them
 * starting at 100 ms and doubling (±20% jitter) up to 8 s, about 20 s of waiting in all. Each
 * attempt may itself wait for the request timeout (REQUEST_TIMEOUT_MS) when a broker accepts the
 * connection but never answers; KAFKA_SEND_TIMEOUT_MS bounds the whole batch.
 */
const SEND_RETRY = { retries: 8, initialRetryTime: 100, maxRetryTime: 8000 };
/** Longest kafkajs waits for one broker's answer to one request (its default is 30 s). */
const REQUEST_TIMEOUT_MS = 10_000;
/**
 * Longest one batch may go unacknowledged, retries included (KAFKA_SEND_TIMEOUT_MS): a broker
 * that takes requests and never answers fails the job after this, whatever kafkajs' retries do.
 */
export const DEFAULT_SEND_TIMEOUT_MS = 60_000;
/** Longest disconnecting may take once the job is over (a frozen broker never answers it). */
const DISCONNECT_TIMEOUT_MS = 3_000;

/** Disconnects the clients, settling when they have or after DISCONNECT_TIMEOUT_MS, whichever is first. */
export function disconnectWithin(...clients: readonly { disconnect(): Promise<void> }[]): Promise<unknown> {
  return Promise.race([Promise.allSettled(clients.map((client) => client.disconnect())), sleep(DISCONNECT_TIMEOUT_MS, undefined, { ref: false })]);
}

/**
 * `send`'s answer, or an error once `ms` pass without one or `signal` aborts: kafkajs takes no
 * signal, and against a broker that accepts requests and never answers, its own request
 * timeouts and retries add up to minutes.
 */
export async function acknowledged<T>(send: Promise<T>, ms: number, signal?: AbortSignal): Promise<T> {
  // An abandoned send's late failure is nobody's: not an unhandled rejection.
  send.catch(() => undefined);
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no acknowledgement within ${ms} ms`)), ms);
  });
  try {
    const answered = Promise.race([send, deadline]);
    if (signal === undefined) return await answered;
    // Wrapped, so that an answer of undefined is not read as the abort.
    const outcome = await unlessAborted(answered.then((value) => ({ value })), signal);
    if (outcome === undefined) throw new Error('stopped while the broker had not answered');
    return outcome.value;
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Names Kafka refuses or keeps for itself: `.` and `..` (they clash with paths on the broker's
 * disk) and anything starting with `__` (internal topics such as `__consumer_offsets` and
 * `__transaction_state`; producing into them corrupts the cluster's own state).
 */
export function reservedTopicProblem(name: string): string | undefined {
  if (/^\.+$/.test(name)) return `'${name}' is not a valid topic name`;
  if (name.startsWith('__')) return `'${name.slice(0, 100)}' starts with '__', which Kafka reserves for internal topics (e.g. __consumer_offsets)`;
  return undefined;
}

/** The default topic of an entity: `orders.v1`, `shipments.v1`, `analytics.users.v1`. */
export function defaultTopic(entity: EntityName): string {
  return `${(TOPIC_STEMS[entity] ?? entity).replaceAll('/', '.')}.v${SCHEMA_VERSION}`;
}

export function topicOf(entity: EntityName, options: KafkaOptions): string {
  return options.topic ?? `${options.topic_prefix ?? ''}${defaultTopic(entity)}`;
}

const isNullable = (schema: TSchema | undefined) => (schema?.anyOf as TSchema[] | undefined)?.some((s) => s.type === 'null') ?? false;

/**
 * The field whose value keys an entity's messages. Records that belong to one order (its
 * lines, payments, shipments, returns: an `order_id` foreign key to orders that is never null)
 * are keyed by that order_id, so with the default partitioner they land in the same partition
 * as each other and, with equal partition counts, as the order in orders.v1; a consumer sees an
 * order's story in sequence. Everything else, including entities whose order_id is optional
 * (reviews, tickets, sessions, ...), is keyed by its primary key: one topic, one kind of key.
 */
export function keyFieldOf(entity: EntityName): string {
  const definition = ENTITIES[entity];
  const properties = definition.schema.properties as Record<string, TSchema>;
  const orderColumn = Object.entries(definition.foreignKeys).find(([, parent]) => parent === 'orders')?.[0];
  return orderColumn !== undefined && !isNullable(properties[orderColumn]) ? orderColumn : definition.primaryKey;
}

const kafkaOptions: Record<keyof KafkaOptions, TSchema> = {
  topic: Type.String({
    minLength: 1,
    maxLength: MAX_TOPIC_LENGTH,
    pattern: '^[a-zA-Z0-9._-]+$',
    description: 'The topic, when sending exactly one entity (default: `<entity>.v1`, see above). Letters, digits, `.`, `_`, `-`.',
    examples: ['orders.raw'],
  }),
  topic_prefix: Type.String({
    minLength: 1,
    maxLength: 240,
    pattern: '^[a-zA-Z0-9._-]+$',
    description: 'Prepended to every default topic name, e.g. `dev.` gives `dev.orders.v1`. Not with `topic`.',
    examples: ['dev.'],
  }),
  partitions: Type.Integer({ minimum: 1, maximum: 1000, default: DEFAULT_PARTITIONS, description: 'Partitions of topics this request creates (existing topics are used as they are).' }),
  replication_factor: Type.Integer({ minimum: 1, maximum: 32, description: "Replicas of topics this request creates (default: the brokers' default.replication.factor)." }),
  events_per_second: Type.Number({
    exclusiveMinimum: 0,
    maximum: 1_000_000,
    description: 'Rate limit over the whole job, in records per second (default: as fast as the brokers acknowledge).',
  }),
  batch_size: Type.Integer({
    minimum: 1,
    maximum: MAX_BATCH_SIZE,
    default: DEFAULT_BATCH_SIZE,
    description: 'Records per produce request (fewer when they would exceed 1 MB, or with a low `events_per_second`).',
  }),
};

/** kafkajs' log lines into the job's logger. Its ERROR lines are mostly retries that may still succeed: warn. */
export function logInto(log: FastifyBaseLogger): logCreator {
  return () =>
    ({ namespace, level, log: { message, timestamp: _timestamp, logger: _logger, ...extra } }) => {
      // Retries are bounded on purpose (see SEND_RETRY): a send that gives up fails the job, so nothing is reordered.
      if (message.startsWith('Limiting retries for the idempotent producer')) return;
      const line = { kafkajs: namespace, ...extra };
      const { logLevel } = loadedKafka();
      if (level === logLevel.ERROR || level === logLevel.WARN) log.warn(line, message);
      else if (level === logLevel.INFO) log.info(line, message);
      else log.debug(line, message);
    };
}

/** An error's message with kafkajs' error type and per-topic causes, which messages alone omit. */
export function describe(error: unknown): string {
  const { type, errors } = error as { type?: unknown; errors?: unknown };
  const base = messageOf(error);
  const withType = typeof type === 'string' && !base.includes(type) ? `${base} (${type})` : base;
  if (!Array.isArray(errors) || errors.length === 0) return withType;
  const causes = errors.map((e: { topic?: unknown }) => `${typeof e.topic === 'string' ? `${e.topic}: ` : ''}${describe(e)}`);
  return `${withType}: ${[...new Set(causes)].join('; ')}`;
}

/** Keeps the job's average at `eventsPerSecond` (real time), sleeping before a send when ahead. */
class Pacer {
  private readonly startedAt = performance.now();
  private sent = 0;

  constructor(private readonly eventsPerSecond: number | undefined) {}

  /** Waits until `records` more may go; false when cancelled meanwhile. */
  async admit(records: number, signal: AbortSignal): Promise<boolean> {
    if (this.eventsPerSecond !== undefined) {
      const due = this.startedAt + (this.sent / this.eventsPerSecond) * 1000;
      const wait = due - performance.now();
      if (wait > 0 && !(await pause(wait, signal))) return false;
    }
    this.sent += records;
    return !signal.aborted;
  }
}

/**
 * Sends one entity's batches one at a time and in order (the idempotent producer's sequence
 * numbers need that), while the next batch is generated: a send is started and not awaited
 * until the next one is due, so generation overlaps the round trip to the brokers.
 */
class BatchSender {
  private inflight: Promise<void> = Promise.resolve();
  private failure: unknown;

  constructor(
    private readonly producer: Producer,
    private readonly topic: string,
    private readonly progress: EntityProgress,
    private readonly pacer: Pacer,
    private readonly signal: AbortSignal,
    private readonly timeoutMs: number,
  ) {}

  /** Starts sending `messages` once the previous send is acknowledged; false when cancelled. */
  async send(messages: Message[], bytes: number): Promise<boolean> {
    await this.drain();
    if (this.signal.aborted || !(await this.pacer.admit(messages.length, this.signal))) return false;
    this.inflight = acknowledged(this.producer.sendBatch({ acks: -1, topicMessages: [{ topic: this.topic, messages }] }), this.timeoutMs).then(
      () => this.progress.delivered(messages.length, bytes),
      (error: unknown) => {
        // Not acknowledged after every retry: the batch may or may not be in the topic, so it
        // counts as failed, and the job stops rather than send later records out of order.
        const reason = `sending to ${this.topic} failed after retries: ${describe(error)}`;
        this.progress.failedRecords(messages.length, reason);
        this.failure = new Error(`Kafka: ${reason}`);
        this.progress.fail(this.failure);
      },
    );
    // One turn of the event loop lets kafkajs encode and write the request now, so the brokers
    // work on it while the next batch is generated (it would otherwise wait for that batch).
    await new Promise((resolve) => setImmediate(resolve));
    return true;
  }

  /** Waits for the send in flight (or a cancel); throws if it failed. */
  async drain(): Promise<void> {
    await unlessAborted(this.inflight, this.signal);
    if (this.failure !== undefined) throw this.failure;
  }
}

/** Sends one entity's records to its topic. */
async function sendSlice(run: SinkRun<KafkaConfig, KafkaOptions>, slice: EntitySlice, producer: Producer, topic: string, partitions: number, pacer: Pacer): Promise<void> {
  const progress = run.progress(slice.entity);
  const keyField = keyFieldOf(slice.entity);
  const primaryKey = ENTITIES[slice.entity].primaryKey;
  progress.begin(topic);
  Object.assign(progress.details, { topic, partitions, key: keyField });

  const batchSize = Math.min(
    run.options.batch_size ?? DEFAULT_BATCH_SIZE,
    run.options.events_per_second === undefined ? MAX_BATCH_SIZE : Math.max(1, Math.floor(run.options.events_per_second / SENDS_PER_SECOND)),
  );
  const context = formatContext(slice.entity, Object.keys(ENTITIES[slice.entity].schema.properties));
  const entity = slice.entity;
  const seed = String(run.seed);
  const schemaVersion = String(SCHEMA_VERSION);
  const headerBytes = (headers: IHeaders) => Object.entries(headers).reduce((n, [k, v]) => n + Buffer.byteLength(k) + Buffer.byteLength(String(v)), 0);
  // Every header but index is the same for the whole entity.
  const fixedHeaderBytes = headerBytes({ entity, seed, 'schema-version': schemaVersion, 'content-type': JSON_TYPE, index: '' });
  const sender = new BatchSender(producer, topic, progress, pacer, run.signal, run.config.sendTimeoutMs ?? DEFAULT_SEND_TIMEOUT_MS);

  let write: JsonWriter | undefined;
  let messages: Message[] = [];
  let bytes = 0;
  let sendBytes = 0;
  let index = slice.start;
  for (const record of slice.records()) {
    write ??= jsonWriter(context, record);
    const row = record as Record<string, unknown>;
    const key = String(row[keyField] ?? row[primaryKey]);
    // The same text as the record's line in GET ...&format=ndjson.
    const value = write(record);
    const position = String(index++);
    const headers: IHeaders = { entity, seed, index: position, 'schema-version': schemaVersion, 'content-type': JSON_TYPE };
    const size = Buffer.byteLength(key) + Buffer.byteLength(value) + fixedHeaderBytes + position.length;
    messages.push({ key, value, headers });
    bytes += size;
    sendBytes += size + RECORD_OVERHEAD;
    if (messages.length >= batchSize || sendBytes >= MAX_SEND_BYTES) {
      if (!(await sender.send(messages, bytes))) break;
      messages = [];
      bytes = 0;
      sendBytes = 0;
    }
  }
  if (messages.length > 0 && !run.signal.aborted) await sender.send(messages, bytes);
  await sender.drain();
  if (!run.signal.aborted) progress.done();
}

/** Connects, naming the brokers when none answers. */
export async function connect(client: Admin | Producer, brokers: readonly string[]): Promise<void> {
  try {
    await client.connect();
  } catch (error) {
    throw new Error(`Kafka: cannot connect to ${brokers.join(', ')}: ${describe(error)}`);
  }
}

/** Creates the topics that do not exist yet; returns every topic's partition count. */
export async function ensureTopics(admin: Admin, topics: readonly string[], options: KafkaOptions): Promise<Map<string, number>> {
  const existing = new Set(await admin.listTopics());
  const missing = topics.filter((t) => !existing.has(t));
  if (missing.length > 0) {
    try {
      await admin.createTopics({
        topics: missing.map((topic) => ({
          topic,
          numPartitions: options.partitions ?? DEFAULT_PARTITIONS,
          ...(options.replication_factor !== undefined ? { replicationFactor: options.replication_factor } : {}),
        })),
        waitForLeaders: true,
      });
    } catch (error) {
      throw new Error(`Kafka: cannot create topic${missing.length > 1 ? 's' : ''} ${missing.join(', ')}: ${describe(error)}`);
    }
  }
  const metadata = await admin.fetchTopicMetadata({ topics: [...topics] });
  return new Map(metadata.topics.map((t) => [t.name, t.partitions.length]));
}

async function run(run: SinkRun<KafkaConfig, KafkaOptions>): Promise<void> {
  const { config, options, slices, signal } = run;
  const { Kafka, logLevel, Partitioners } = await kafkaLibrary();
  const kafka = new Kafka({
    clientId: config.clientId,
    brokers: [...config.brokers],
    ssl: config.ssl,
    ...(config.sasl ? { sasl: { ...config.sasl } as SASLOptions } : {}),
    connectionTimeout: CONNECTION_TIMEOUT_MS,
    requestTimeout: REQUEST_TIMEOUT_MS,
    retry: CONNECT_RETRY,
    logLevel: logLevel.WARN,
    logCreator: logInto(run.log),
  });
  const admin = kafka.admin();
  // Idempotent with acks=all: a retried batch is written once, in order. kafkajs sends one
  // request per broker at a time for it anyway; maxInFlightRequests says so explicitly (KIP-98).
  const producer = kafka.producer({
    idempotent: true,
    maxInFlightRequests: 1,
    allowAutoTopicCreation: false,
    createPartitioner: Partitioners.DefaultPartitioner,
    retry: SEND_RETRY,
  });
  let completed = false;
  try {
    await connect(admin, config.brokers);
    const topics = slices.map((s) => topicOf(s.entity, options));
    // Every topic exists before the first record goes: a refused topic fails the job up front.
    const partitions = await ensureTopics(admin, [...new Set(topics)], options);
    await admin.disconnect();
    await connect(producer, config.brokers);
    const pacer = new Pacer(options.events_per_second);
    for (const [k, slice] of slices.entries()) {
      if (signal.aborted) return;
      const topic = topics[k] as string;
      await sendSlice(run, slice, producer, topic, partitions.get(topic) ?? 0, pacer);
    }
    // A cancel ends the slice's send early without an error.
    completed = !signal.aborted;
  } finally {
    const closed = disconnectWithin(producer, admin);
    // A job that ran to its end waits (bounded) for its connections to close. A cancelled or
    // failed one ends at once and they close behind it: a silent broker never answers the
    // disconnect, and a cancel ended the job only after DISCONNECT_TIMEOUT_MS (the sink
    // promises an end at once).
    if (completed) await closed;
  }
}

/**
 * Produces records to Kafka with kafkajs: one topic per entity, keyed, with provenance headers,
 * through an idempotent producer with acks=all.
 *
 * @example
 * // POST /api/v1/sinks/kafka {"seed": 42, "entities": ["orders", "order-items"], "topic_prefix": "dev."}
 * // → dev.orders.v1 keyed by order_id, dev.order-items.v1 keyed by order_id too
 */
export const kafkaSink: SinkDefinition<'kafka', KafkaOptions> = {
  name: 'kafka',
  configKey: 'kafka',
  requires: 'KAFKA_BROKERS',
  summary: 'Produce entities to Kafka topics',
  description: [
    'Produces each record as one Kafka message to a topic per entity, `<entity>.v1` by default (`orders.v1`, `payments.v1`; `shipping` → `shipments.v1`, `inventory-movements` → `inventory-changes.v1`, `clickstream` → `customer-interactions.v1`, `analytics/users` → `analytics.users.v1`). `topic_prefix` prepends to those names; `topic` names the one topic of a single-entity request. Missing topics are created with `partitions` (and `replication_factor`); existing ones are used as they are.',
    '',
    "- **Key**: the primary key, except for an order's own records (order-items, payments, shipping, returns), keyed by `order_id` so they share the order's partition.",
    '- **Value**: the record as JSON, byte for byte its line in `GET /api/v1/<entity>?format=ndjson` for the same world.',
    '- **Headers**: `entity`, `seed`, `index` (the record\'s position in the entity), `schema-version`, `content-type: application/json`.',
    '- **Delivery**: an idempotent producer with `acks=all` sends batches of `batch_size` in order, optionally paced to `events_per_second`. Records count as delivered once the brokers acknowledge them; bytes are key + value + header keys and values. A batch still refused after retries (about 20 s of them), or not acknowledged within `KAFKA_SEND_TIMEOUT_MS` (default 60 s), is counted failed and fails the job; a cancel ends the job at once, even while a broker is silent.',
    '',
    "Each entity's progress shows its `topic`, `partitions` and `key` field.",
  ].join('\n'),
  options: kafkaOptions,
  defaultEntities: ENTITY_NAMES.filter((e) => e !== 'performance-events'),
  optionsProblem(options, entities) {
    if (options.topic !== undefined) {
      if (entities.length !== 1) {
        return { parameter: 'topic', reason: `names one topic, so send exactly one entity (this request sends ${entities.length}: ${entities.join(', ')}); use topic_prefix to rename several` };
      }
      const reserved = reservedTopicProblem(options.topic);
      if (reserved) return { parameter: 'topic', reason: reserved };
      if (options.topic_prefix !== undefined) return { parameter: 'topic_prefix', reason: 'applies to the default topic names; with topic, give the full name' };
    }
    if (options.topic_prefix !== undefined) {
      const reserved = reservedTopicProblem(options.topic_prefix);
      if (reserved) return { parameter: 'topic_prefix', reason: reserved };
    }
    const tooLong = entities.map((e) => topicOf(e, options)).find((t) => t.length > MAX_TOPIC_LENGTH);
    if (tooLong !== undefined) return { parameter: 'topic_prefix', reason: `makes topic '${tooLong}' longer than Kafka's ${MAX_TOPIC_LENGTH} characters` };
    return undefined;
  },
  run,
};
