/**
 * The Kafka writer of streams: change-feed events to the reference generator's topics, keyed
 * so an order's events share a partition, with provenance headers. The batch sink
 * (kafka.ts) sends entities; this sends events, and shares its connection and topic code.
 */
import type { FastifyBaseLogger } from 'fastify';
import type { IHeaders, Kafka, Message, Producer, SASLOptions } from 'kafkajs';
import type { KafkaConfig } from '../config.js';
import type { FeedEvent } from '../streams/feed-contract.js';
import { DeliveryError, type StreamWriter, type WriteOutcome } from '../streams/writer.js';
import { acknowledged, connect, DEFAULT_SEND_TIMEOUT_MS, describe, disconnectWithin, ensureTopics, logInto, SCHEMA_VERSION } from './kafka.js';
import { kafkaLibrary } from './kafka-client.js';

/** An event that no schema describes: refused, never retried. */
export class NotEncodableError extends Error {}

/** How a stream encodes message values; Avro needs a Schema Registry. */
export interface ValueEncoder {
  /** Prepares (registers schemas) for these topics and event types. */
  prepare(topics: ReadonlyMap<string, readonly string[]>): Promise<void>;
  encode(topic: string, event: FeedEvent): Buffer | string | Promise<Buffer | string>;
  readonly contentType: string;
  /** True when `encode` always answers at once (never a promise): batches can then be encoded ahead. */
  readonly synchronous?: boolean;
  details?(): Record<string, unknown>;
}

/** JSON: the event as `GET /api/v1/events` serves it; a malformed event's raw text verbatim. */
export const jsonEncoder: ValueEncoder = {
  prepare: async () => undefined,
  encode: (_topic, event) => event.raw ?? JSON.stringify(stripRaw(event)),
  contentType: 'application/json',
  synchronous: true,
};

function stripRaw(event: FeedEvent): FeedEvent {
  if (event.raw === undefined) return event;
  const { raw: _raw, ...rest } = event;
  return rest;
}

/** A batch as messages by topic, the events refused, and the bytes of the messages. */
interface BuiltBatch {
  readonly byTopic: Map<string, Message[]>;
  readonly refused: Map<number, string>;
  bytes: number;
}

/** The header names every message carries, and the `defect` header's, in bytes. */
const HEADER_NAME_BYTES = ['event-id', 'event-type', 'entity', 'op', 'sequence', 'seed', 'schema-version', 'content-type'].reduce((n, h) => n + h.length, 0);
const DEFECT_HEADER_BYTES = 'defect'.length;
const SCHEMA_VERSION_TEXT = String(SCHEMA_VERSION);

export interface KafkaStreamOptions {
  readonly topic_prefix?: string;
  readonly partitions?: number;
  readonly replication_factor?: number;
}

/** The reference generator's topics, by the event type's first word. */
const REFERENCE_TOPICS: Readonly<Record<string, string>> = {
  order: 'orders',
  payment: 'payments',
  shipment: 'shipments',
  inventory: 'inventory-changes',
  interaction: 'customer-interactions',
};

/**
 * The topic of an event type: the reference's five (`order.placed` → `orders.v1`,
 * `interaction.page_view` → `customer-interactions.v1`, ...), and `<word>-events.v1` for the
 * other types (`return.requested` → `return-events.v1`).
 */
export function streamTopicOf(eventType: string, prefix = ''): string {
  const word = eventType.split('.')[0] ?? eventType;
  return `${prefix}${REFERENCE_TOPICS[word] ?? `${word}-events`}.v${SCHEMA_VERSION}`;
}

/** The message key: the order an event belongs to when it has one (so an order's story shares a partition), else the row's key. */
export function streamKeyOf(event: FeedEvent): string {
  const order = (event.data as Record<string, unknown> | undefined)?.order_id;
  return typeof order === 'string' || typeof order === 'number' ? String(order) : event.key;
}

/**
 * Short producer retries: an outage is the stream engine's to ride out (it retries the batch
 * with backoff and shows the lag), so a send fails fast instead of blocking for minutes.
 */
const CONNECTION_TIMEOUT_MS = 3000;
const CONNECT_RETRY = { retries: 3, initialRetryTime: 100, maxRetryTime: 1000 };
const SEND_RETRY = { retries: 3, initialRetryTime: 100, maxRetryTime: 1000 };

export class KafkaStreamWriter implements StreamWriter {
  readonly destination: string;
  /** Made by {@link open} (which loads kafkajs), as every writer is opened before use. */
  private kafka: Kafka | undefined;
  private producer: Producer | undefined;
  private readonly topics = new Map<string, number>();
  /** Each event type's topic, worked out once (not once per event). */
  private readonly topicByType = new Map<string, string>();
  private readonly counts = new Map<string, number>();
  private readonly seedText: string;
  /** Batches encoded ahead (prepare), until written. */
  private readonly built = new WeakMap<readonly FeedEvent[], BuiltBatch>();

  constructor(
    private readonly config: KafkaConfig,
    private readonly options: KafkaStreamOptions,
    /** Every event type the stream may carry: their topics exist before the first event goes. */
    private readonly eventTypes: readonly string[],
    private readonly seed: number,
    private readonly encoder: ValueEncoder,
    private readonly log: FastifyBaseLogger,
  ) {
    this.seedText = String(seed);
    this.destination = `${options.topic_prefix ?? ''}*.v${SCHEMA_VERSION} on ${config.brokers.join(',')}`;
  }

  async open(): Promise<void> {
    const { Kafka, Partitioners, logLevel } = await kafkaLibrary();
    const config = this.config;
    const kafka = (this.kafka ??= new Kafka({
      clientId: config.clientId,
      brokers: [...config.brokers],
      ssl: config.ssl,
      ...(config.sasl ? { sasl: { ...config.sasl } as SASLOptions } : {}),
      connectionTimeout: CONNECTION_TIMEOUT_MS,
      retry: CONNECT_RETRY,
      logLevel: logLevel.WARN,
      logCreator: logInto(this.log),
    }));
    const byTopic = new Map<string, string[]>();
    for (const type of this.eventTypes) {
      const topic = streamTopicOf(type, this.options.topic_prefix);
      byTopic.set(topic, [...(byTopic.get(topic) ?? []), type]);
    }
    const admin = kafka.admin();
    try {
      await connect(admin, this.config.brokers);
      const partitions = await ensureTopics(admin, [...byTopic.keys()], this.options);
      for (const [topic, n] of partitions) this.topics.set(topic, n);
    } finally {
      await admin.disconnect().catch(() => undefined);
    }
    await this.encoder.prepare(byTopic);
    this.producer = kafka.producer({
      idempotent: true,
      maxInFlightRequests: 1,
      allowAutoTopicCreation: false,
      createPartitioner: Partitioners.DefaultPartitioner,
      retry: SEND_RETRY,
    });
    await connect(this.producer, this.config.brokers);
  }

  /**
   * The batch's messages by topic, in batch order. Values are encoded as the encoder answers: at
   * once (JSON: the whole batch is built without a pause, so it can be built ahead), or
   * asynchronously (Avro, which may register a schema first: the rest of the batch is awaited).
   */
  private messagesOf(batch: readonly FeedEvent[]): BuiltBatch | Promise<BuiltBatch> {
    const built: BuiltBatch = { byTopic: new Map(), refused: new Map(), bytes: 0 };
    for (let k = 0; k < batch.length; k++) {
      const event = batch[k] as FeedEvent;
      const topic = this.topicOf(built, k, event);
      if (topic === undefined) continue;
      let value: Buffer | string | Promise<Buffer | string>;
      try {
        value = this.encoder.encode(topic, event);
      } catch (error) {
        this.encodeFailed(built, k, event, topic, error);
        continue;
      }
      if (value instanceof Promise) return this.messagesFrom(batch, k, topic, value, built);
      this.addMessage(built, event, topic, value, this.encoder.contentType);
    }
    return built;
  }

  /** The rest of messagesOf from event `k` on, once an encoder answered asynchronously. */
  private async messagesFrom(batch: readonly FeedEvent[], k: number, topicOfK: string, valueOfK: Promise<Buffer | string>, built: BuiltBatch): Promise<BuiltBatch> {
    for (let j = k; j < batch.length; j++) {
      const event = batch[j] as FeedEvent;
      const topic = j === k ? topicOfK : this.topicOf(built, j, event);
      if (topic === undefined) continue;
      let value: Buffer | string;
      try {
        value = await (j === k ? valueOfK : this.encoder.encode(topic, event));
      } catch (error) {
        this.encodeFailed(built, j, event, topic, error);
        continue;
      }
      this.addMessage(built, event, topic, value, this.encoder.contentType);
    }
    return built;
  }

  /** The event's topic, or undefined when it was not prepared (the event is refused). */
  private topicOf(built: BuiltBatch, k: number, event: FeedEvent): string | undefined {
    let topic = this.topicByType.get(event.event_type);
    if (topic === undefined) this.topicByType.set(event.event_type, (topic = streamTopicOf(event.event_type, this.options.topic_prefix)));
    if (this.topics.has(topic)) return topic;
    built.refused.set(k, `event type ${event.event_type} has no topic (${topic} was not prepared)`);
    return undefined;
  }

  /** An event that could not be encoded: a malformed one goes as JSON, labelled; one no schema fits is refused; a registry error is an outage. */
  private encodeFailed(built: BuiltBatch, k: number, event: FeedEvent, topic: string, error: unknown): void {
    if (event.defect === 'bad') {
      // A malformed event is meant for the consumer's dead-letter queue: it goes as it is, labelled.
      this.addMessage(built, event, topic, jsonEncoder.encode(topic, event) as string, jsonEncoder.contentType);
    } else if (error instanceof NotEncodableError || (error as { name?: unknown }).name === 'ConfluentSchemaRegistryValidationError') {
      built.refused.set(k, `event ${event.event_id} (${event.event_type}) cannot be encoded: ${describe(error)}`);
    } else {
      // The registry did not answer or answered with an error: an outage, retried by the stream.
      throw new DeliveryError(`Schema Registry: ${describe(error)}`, 0, 0);
    }
  }

  private addMessage(built: BuiltBatch, event: FeedEvent, topic: string, value: Buffer | string, contentType: string): void {
    const key = streamKeyOf(event);
    const seed = this.seedText;
    const schemaVersion = SCHEMA_VERSION_TEXT;
    const sequence = String(event.sequence);
    const headers: IHeaders = {
      'event-id': event.event_id,
      'event-type': event.event_type,
      entity: event.entity,
      op: event.op,
      sequence,
      seed,
      'schema-version': schemaVersion,
      'content-type': contentType,
    };
    if (event.defect !== undefined) headers.defect = event.defect;
    built.bytes +=
      Buffer.byteLength(key) +
      Buffer.byteLength(value) +
      HEADER_NAME_BYTES +
      Buffer.byteLength(event.event_id) +
      Buffer.byteLength(event.event_type) +
      Buffer.byteLength(event.entity) +
      event.op.length +
      sequence.length +
      seed.length +
      schemaVersion.length +
      contentType.length +
      (event.defect !== undefined ? DEFECT_HEADER_BYTES + event.defect.length : 0);
    let messages = built.byTopic.get(topic);
    if (messages === undefined) built.byTopic.set(topic, (messages = []));
    messages.push({ key, value, headers });
  }

  /** Encodes the next batch while the one before is with the broker (the engine calls this ahead); encoders that answer at once only. */
  prepare(batch: readonly FeedEvent[]): void {
    if (this.encoder.synchronous !== true) return;
    try {
      this.built.set(batch, this.messagesOf(batch) as BuiltBatch);
    } catch {
      // Left to write(), which encodes it again and reports what went wrong.
    }
  }

  async write(batch: readonly FeedEvent[], signal: AbortSignal): Promise<WriteOutcome> {
    const producer = this.producer;
    if (producer === undefined) throw new DeliveryError('Kafka: the writer is not open', 0, 0, false);
    const ready = this.built.get(batch) ?? this.messagesOf(batch);
    this.built.delete(batch);
    // Without a pause when the values are ready: the batch goes out before the engine prepares the next one.
    const { byTopic, refused, bytes } = ready instanceof Promise ? await ready : ready;
    if (byTopic.size > 0) {
      try {
        // Bounded as a sink job's batch is (KAFKA_SEND_TIMEOUT_MS), and cut by a hard stop: a
        // stream into a broker that never answered could not be stopped (DELETE left it
        // `stopping`, and the server's shutdown waited on it).
        const send = producer.sendBatch({ acks: -1, topicMessages: [...byTopic.entries()].map(([topic, messages]) => ({ topic, messages })) });
        await acknowledged(send, this.config.sendTimeoutMs ?? DEFAULT_SEND_TIMEOUT_MS, signal);
      } catch (error) {
        throw new DeliveryError(`Kafka: ${describe(error)}`);
      }
      for (const [topic, messages] of byTopic) this.counts.set(topic, (this.counts.get(topic) ?? 0) + messages.length);
    }
    return { bytes, refused };
  }

  async close(): Promise<void> {
    // Bounded: a frozen broker never answers the disconnect.
    if (this.producer) await disconnectWithin(this.producer);
  }

  details(): Record<string, unknown> {
    return {
      topics: Object.fromEntries([...this.topics.entries()].sort().map(([topic, partitions]) => [topic, { partitions, messages: this.counts.get(topic) ?? 0 }])),
      ...this.encoder.details?.(),
    };
  }
}
