/**
 * A single-node Kafka broker speaking just enough of the wire protocol for the real kafkajs
 * 2.2.4 client to create topics and produce to them idempotently. Hand-written because no
 * Kafka (nor a JVM or container to run one) is available where the tests run, and a mocked
 * client would prove nothing about what goes over the wire.
 *
 * Scope, measured against kafkajs 2.2.4, which only uses non-flexible versions:
 * ApiVersions v0-v2, Metadata v6, Produce v7 (RecordBatch v2, CRC-32C checked with our own
 * crc32c), CreateTopics v3, InitProducerId v1. Anything else closes the connection and is
 * recorded in `protocolErrors`. Topics are never auto-created (an unknown topic answers
 * UNKNOWN_TOPIC_OR_PARTITION), only uncompressed batches are accepted, and idempotent batches
 * follow Kafka's sequence rules: the next sequence is appended, a repeat of one of the last
 * five batches is acknowledged again without being appended, anything else is refused.
 *
 * Batches are kept as received and decoded only when a test reads them, so the broker spends
 * little per record (the benchmark sends hundreds of thousands through it).
 */
import net from 'node:net';
import { crc32c } from './crc32c.js';

/** Kafka error codes the broker answers with. */
export const KafkaError = {
  NONE: 0,
  CORRUPT_MESSAGE: 2,
  UNKNOWN_TOPIC_OR_PARTITION: 3,
  NOT_LEADER_FOR_PARTITION: 6,
  REQUEST_TIMED_OUT: 7,
  MESSAGE_TOO_LARGE: 10,
  INVALID_TOPIC_EXCEPTION: 17,
  UNSUPPORTED_VERSION: 35,
  TOPIC_ALREADY_EXISTS: 36,
  INVALID_PARTITIONS: 37,
  INVALID_REPLICATION_FACTOR: 38,
  INVALID_REQUEST: 42,
  OUT_OF_ORDER_SEQUENCE_NUMBER: 45,
  DUPLICATE_SEQUENCE_NUMBER: 46,
  UNSUPPORTED_COMPRESSION_TYPE: 76,
} as const;

const API = { Produce: 0, Metadata: 3, ApiVersions: 18, CreateTopics: 19, InitProducerId: 22 } as const;

/** [apiKey, minVersion, maxVersion]: exactly the versions implemented below. */
const SUPPORTED: readonly (readonly [number, number, number])[] = [
  [API.Produce, 7, 7],
  [API.Metadata, 6, 6],
  [API.ApiVersions, 0, 2],
  [API.CreateTopics, 3, 3],
  [API.InitProducerId, 1, 1],
];

const NODE_ID = 1;
/** Kafka's default message.max.bytes: the largest record batch a partition accepts. */
const MAX_BATCH_BYTES = 1_048_588;
/** Batches per producer and partition whose repeat is recognised (Kafka keeps five). */
const RECENT_BATCHES = 5;
const TOPIC_NAME = /^[a-zA-Z0-9._-]{1,249}$/;

/** One record as it sits in a partition, decoded from its batch. */
export interface StoredRecord {
  readonly topic: string;
  readonly partition: number;
  readonly offset: number;
  readonly key: string | null;
  readonly value: string | null;
  /** The value's bytes as sent (binary values, e.g. Avro, are not UTF-8 text). */
  readonly valueBytes: Buffer | null;
  /** Header values as UTF-8 text (a repeated header keeps its last value). */
  readonly headers: Readonly<Record<string, string | null>>;
  readonly timestamp: number;
  readonly producerId: bigint;
  readonly producerEpoch: number;
  readonly sequence: number;
}

export interface TopicInfo {
  readonly name: string;
  readonly partitions: number;
  readonly replicationFactor: number;
  readonly configs: Readonly<Record<string, string | null>>;
}

/** What a Produce request asked for, for assertions on client settings. */
export interface ProduceRequestInfo {
  readonly acks: number;
  readonly transactionalId: string | null;
  readonly partitions: number;
  readonly records: number;
  /** The error every partition was answered with by fault injection, or 0. */
  readonly injectedError: number;
}

interface StoredBatch {
  readonly baseOffset: number;
  readonly count: number;
  readonly producerId: bigint;
  readonly producerEpoch: number;
  readonly baseSequence: number;
  /** The batch bytes from its first offset on; undefined when records are not retained. */
  readonly bytes: Buffer | undefined;
}

interface ProducerState {
  epoch: number;
  nextSequence: number;
  readonly recent: { firstSequence: number; lastSequence: number; baseOffset: number }[];
}

interface PartitionLog {
  nextOffset: number;
  readonly batches: StoredBatch[];
  readonly producers: Map<bigint, ProducerState>;
}

interface Topic {
  readonly info: TopicInfo;
  readonly partitions: PartitionLog[];
}

interface Fault {
  readonly errorCode: number;
  times: number;
  readonly appendFirst: boolean;
  /** Produce requests still to answer normally before this fault applies. */
  after: number;
}

export interface KafkaTestBrokerOptions {
  /** Keep every batch for `records()` (default true); the benchmark only needs counts. */
  readonly retainRecords?: boolean;
  /** Partitions of a topic created with num_partitions -1 (default 1). */
  readonly defaultPartitions?: number;
}

/** A bounds-checked cursor over a request (a short read throws, and the connection is dropped). */
class Reader {
  offset = 0;
  constructor(readonly buf: Buffer) {}

  private need(n: number): void {
    if (this.offset + n > this.buf.length) throw new Error(`request truncated at byte ${this.offset} (needs ${n} more)`);
  }
  int8(): number {
    this.need(1);
    return this.buf.readInt8(this.offset++);
  }
  int16(): number {
    this.need(2);
    const v = this.buf.readInt16BE(this.offset);
    this.offset += 2;
    return v;
  }
  int32(): number {
    this.need(4);
    const v = this.buf.readInt32BE(this.offset);
    this.offset += 4;
    return v;
  }
  nullableString(): string | null {
    const length = this.int16();
    if (length < 0) return null;
    this.need(length);
    const v = this.buf.toString('utf8', this.offset, this.offset + length);
    this.offset += length;
    return v;
  }
  string(): string {
    const v = this.nullableString();
    if (v === null) throw new Error('null where a string is required');
    return v;
  }
  nullableBytes(): Buffer | null {
    const length = this.int32();
    if (length < 0) return null;
    this.need(length);
    const v = this.buf.subarray(this.offset, this.offset + length);
    this.offset += length;
    return v;
  }
  /** An array; null (length -1) reads as null. */
  array<T>(item: (r: Reader) => T): T[] | null {
    const length = this.int32();
    if (length < 0) return null;
    const out: T[] = [];
    for (let k = 0; k < length; k++) out.push(item(this));
    return out;
  }
  boolean(): boolean {
    return this.int8() !== 0;
  }
  /** A zigzag varint (records and their headers); 64-bit values are read exactly up to 2^53. */
  varint(): number {
    let shift = 1;
    let raw = 0;
    for (let k = 0; k < 10; k++) {
      this.need(1);
      const byte = this.buf[this.offset++] as number;
      raw += (byte & 0x7f) * shift;
      if ((byte & 0x80) === 0) return raw % 2 === 0 ? raw / 2 : -(raw + 1) / 2;
      shift *= 128;
    }
    throw new Error('varint longer than 10 bytes');
  }
  varBytes(): Buffer | null {
    const length = this.varint();
    if (length < 0) return null;
    this.need(length);
    const v = this.buf.subarray(this.offset, this.offset + length);
    this.offset += length;
    return v;
  }
}

/** A growable response buffer. */
class Writer {
  private buf = Buffer.allocUnsafe(256);
  private length = 0;

  private room(n: number): void {
    if (this.length + n <= this.buf.length) return;
    const next = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.length + n));
    this.buf.copy(next, 0, 0, this.length);
    this.buf = next;
  }
  int8(v: number): this {
    this.room(1);
    this.length = this.buf.writeInt8(v, this.length);
    return this;
  }
  int16(v: number): this {
    this.room(2);
    this.length = this.buf.writeInt16BE(v, this.length);
    return this;
  }
  int32(v: number): this {
    this.room(4);
    this.length = this.buf.writeInt32BE(v, this.length);
    return this;
  }
  int64(v: number | bigint): this {
    this.room(8);
    this.length = this.buf.writeBigInt64BE(BigInt(v), this.length);
    return this;
  }
  boolean(v: boolean): this {
    return this.int8(v ? 1 : 0);
  }
  nullableString(v: string | null): this {
    if (v === null) return this.int16(-1);
    const n = Buffer.byteLength(v);
    this.int16(n);
    this.room(n);
    this.length += this.buf.write(v, this.length);
    return this;
  }
  array<T>(items: readonly T[], write: (w: this, item: T) => void): this {
    this.int32(items.length);
    for (const item of items) write(this, item);
    return this;
  }
  /** The frame: size, correlation id, body. */
  frame(correlationId: number): Buffer {
    const out = Buffer.allocUnsafe(8 + this.length);
    out.writeInt32BE(4 + this.length, 0);
    out.writeInt32BE(correlationId, 4);
    this.buf.copy(out, 8, 0, this.length);
    return out;
  }
}

/** A valid RecordBatch v2 header, read from `bytes` (which starts at its base offset). */
interface BatchHeader {
  readonly count: number;
  readonly producerId: bigint;
  readonly producerEpoch: number;
  readonly baseSequence: number;
  readonly firstTimestamp: number;
}

/** Checks a RecordBatch v2 (magic, CRC-32C, compression, record count): its header, or an error code and why. */
function checkBatch(bytes: Buffer): BatchHeader | { errorCode: number; reason: string } {
  if (bytes.length < 61) return { errorCode: KafkaError.CORRUPT_MESSAGE, reason: 'record batch shorter than its header' };
  const magic = bytes.readInt8(16);
  if (magic !== 2) return { errorCode: KafkaError.CORRUPT_MESSAGE, reason: `record batch magic ${magic}, only v2 is supported` };
  const crc = bytes.readUInt32BE(17);
  const computed = crc32c(bytes.subarray(21));
  if (crc !== computed) return { errorCode: KafkaError.CORRUPT_MESSAGE, reason: `CRC-32C mismatch: batch says ${crc}, bytes give ${computed}` };
  const attributes = bytes.readInt16BE(21);
  if ((attributes & 0x07) !== 0) {
    return { errorCode: KafkaError.UNSUPPORTED_COMPRESSION_TYPE, reason: `compression codec ${attributes & 0x07}: this test broker accepts only uncompressed batches` };
  }
  if ((attributes & 0x10) !== 0) return { errorCode: KafkaError.INVALID_REQUEST, reason: 'transactional batches are not supported' };
  const lastOffsetDelta = bytes.readInt32BE(23);
  const count = bytes.readInt32BE(57);
  if (count !== lastOffsetDelta + 1 || count <= 0) {
    return { errorCode: KafkaError.CORRUPT_MESSAGE, reason: `record count ${count} does not match last offset delta ${lastOffsetDelta}` };
  }
  return {
    count,
    firstTimestamp: Number(bytes.readBigInt64BE(27)),
    producerId: bytes.readBigInt64BE(43),
    producerEpoch: bytes.readInt16BE(51),
    baseSequence: bytes.readInt32BE(53),
  };
}

/** The records of one stored batch. */
function decodeBatch(topic: string, partition: number, batch: StoredBatch): StoredRecord[] {
  const bytes = batch.bytes as Buffer;
  const r = new Reader(bytes);
  r.offset = 61;
  const firstTimestamp = Number(bytes.readBigInt64BE(27));
  const records: StoredRecord[] = [];
  for (let k = 0; k < batch.count; k++) {
    const length = r.varint();
    const end = r.offset + length;
    r.int8(); // attributes: unused in v2 records
    const timestampDelta = r.varint();
    const offsetDelta = r.varint();
    const key = r.varBytes();
    const value = r.varBytes();
    const headerCount = r.varint();
    const headers: Record<string, string | null> = {};
    for (let h = 0; h < headerCount; h++) {
      const name = (r.varBytes() ?? Buffer.alloc(0)).toString('utf8');
      const headerValue = r.varBytes();
      headers[name] = headerValue === null ? null : headerValue.toString('utf8');
    }
    if (r.offset !== end) throw new Error(`${topic}-${partition}: record ${k} of the batch at offset ${batch.baseOffset} is ${length} bytes long, its fields ${r.offset - end + length}`);
    records.push({
      topic,
      partition,
      offset: batch.baseOffset + offsetDelta,
      key: key === null ? null : key.toString('utf8'),
      value: value === null ? null : value.toString('utf8'),
      valueBytes: value,
      headers,
      timestamp: firstTimestamp + timestampDelta,
      producerId: batch.producerId,
      producerEpoch: batch.producerEpoch,
      sequence: batch.baseSequence + offsetDelta,
    });
  }
  return records;
}

export class KafkaTestBroker {
  private readonly server = net.createServer((socket) => this.accept(socket));
  private readonly sockets = new Set<net.Socket>();
  private readonly topicMap = new Map<string, Topic>();
  private readonly faults: Fault[] = [];
  private nextProducerId = 1000n;
  private readonly retainRecords: boolean;
  private readonly defaultPartitions: number;
  port = 0;
  readonly host = '127.0.0.1';
  /** Requests by API key, e.g. `requestCounts.get(0)` Produce requests. */
  readonly requestCounts = new Map<number, number>();
  readonly produceRequests: ProduceRequestInfo[] = [];
  /** Repeated idempotent batches acknowledged without being appended again. */
  duplicateBatches = 0;
  /** Anything the broker could not handle (unsupported API, malformed request, refused batch). */
  readonly protocolErrors: string[] = [];
  /** Client ids seen in request headers. */
  readonly clientIds = new Set<string>();

  private constructor(options: KafkaTestBrokerOptions) {
    this.retainRecords = options.retainRecords ?? true;
    this.defaultPartitions = options.defaultPartitions ?? 1;
  }

  /** Starts a broker on 127.0.0.1 and a free port. */
  static async start(options: KafkaTestBrokerOptions = {}): Promise<KafkaTestBroker> {
    const broker = new KafkaTestBroker(options);
    await new Promise<void>((resolve, reject) => {
      broker.server.once('error', reject);
      broker.server.listen(0, broker.host, () => resolve());
    });
    broker.port = (broker.server.address() as net.AddressInfo).port;
    return broker;
  }

  /** `host:port`, as kafkajs' `brokers` wants it. */
  get address(): string {
    return `${this.host}:${this.port}`;
  }

  async close(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  /** Creates a topic directly (as an operator would), outside any client. */
  createTopic(name: string, partitions = 1, configs: Record<string, string | null> = {}): void {
    if (this.topicMap.has(name)) throw new Error(`topic ${name} exists`);
    this.topicMap.set(name, {
      info: { name, partitions, replicationFactor: 1, configs },
      partitions: Array.from({ length: partitions }, () => ({ nextOffset: 0, batches: [], producers: new Map() })),
    });
  }

  /** Deletes a topic and its records (as an operator would). */
  deleteTopic(name: string): void {
    this.topicMap.delete(name);
  }

  topics(): TopicInfo[] {
    return [...this.topicMap.values()].map((t) => t.info);
  }

  topic(name: string): TopicInfo | undefined {
    return this.topicMap.get(name)?.info;
  }

  /** Records appended to a topic (all partitions), however they were sent. */
  recordCount(topic?: string): number {
    let n = 0;
    for (const t of topic === undefined ? this.topicMap.values() : [this.topicMap.get(topic)]) {
      for (const p of t?.partitions ?? []) n += p.nextOffset;
    }
    return n;
  }

  /** The records of a topic, partition by partition, in offset order. */
  records(topic: string): StoredRecord[] {
    if (!this.retainRecords) throw new Error('this broker was started with retainRecords: false');
    const t = this.topicMap.get(topic);
    if (!t) return [];
    return t.partitions.flatMap((p, partition) => p.batches.flatMap((b) => decodeBatch(topic, partition, b)));
  }

  /**
   * Answers the next `times` Produce requests (after letting `after` more through, once the
   * faults queued before have been used up) with `errorCode` on every partition. With
   * `appendFirst`, their batches are appended before the error goes back, as when a broker
   * writes a batch but its answer is lost: a correct idempotent client's retry is then
   * acknowledged without a second copy.
   */
  /**
   * While true, Produce requests are read and never answered (nor appended): a broker that
   * froze with its connections open.
   */
  silentProduce = false;

  failNextProduce(errorCode: number, times = 1, options: { appendFirst?: boolean; after?: number } = {}): void {
    this.faults.push({ errorCode, times, appendFirst: options.appendFirst ?? false, after: options.after ?? 0 });
  }

  private accept(socket: net.Socket): void {
    this.sockets.add(socket);
    socket.setNoDelay(true);
    socket.on('close', () => this.sockets.delete(socket));
    socket.on('error', () => socket.destroy());
    const chunks: Buffer[] = [];
    let buffered = 0;
    socket.on('data', (chunk: Buffer) => {
      chunks.push(chunk);
      buffered += chunk.length;
      // Whole frames only; a large Produce request is joined once, when complete.
      while (buffered >= 4) {
        if ((chunks[0] as Buffer).length < 4) chunks.splice(0, chunks.length, Buffer.concat(chunks));
        const size = (chunks[0] as Buffer).readInt32BE(0);
        if (buffered < 4 + size) return;
        const all = chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks);
        const frame = all.subarray(4, 4 + size);
        const rest = all.subarray(4 + size);
        chunks.length = 0;
        if (rest.length > 0) chunks.push(rest);
        buffered = rest.length;
        let response: Buffer | undefined;
        try {
          response = this.handle(frame);
        } catch (error) {
          this.protocolErrors.push((error as Error).message);
          socket.destroy();
          return;
        }
        if (response) socket.write(response);
      }
    });
  }

  /** One request frame (without its size): the response frame, or undefined when none is due. */
  private handle(frame: Buffer): Buffer | undefined {
    const r = new Reader(frame);
    const apiKey = r.int16();
    const version = r.int16();
    const correlationId = r.int32();
    const clientId = r.nullableString();
    if (clientId !== null) this.clientIds.add(clientId);
    this.requestCounts.set(apiKey, (this.requestCounts.get(apiKey) ?? 0) + 1);
    const supported = SUPPORTED.find(([key]) => key === apiKey);
    if (apiKey === API.ApiVersions) return this.apiVersions(version, supported).frame(correlationId);
    if (!supported || version < supported[1] || version > supported[2]) {
      throw new Error(`unsupported request: api key ${apiKey} version ${version}`);
    }
    switch (apiKey) {
      case API.Metadata:
        return this.metadata(r).frame(correlationId);
      case API.CreateTopics:
        return this.createTopics(r).frame(correlationId);
      case API.InitProducerId:
        return this.initProducerId(r).frame(correlationId);
      case API.Produce: {
        if (this.silentProduce) return undefined;
        const { writer, acks } = this.produce(r);
        return acks === 0 ? undefined : writer.frame(correlationId);
      }
      default:
        throw new Error(`unsupported request: api key ${apiKey}`);
    }
  }

  private apiVersions(version: number, supported: readonly [number, number, number] | undefined): Writer {
    const w = new Writer();
    // A version we do not know is answered in v0 form with UNSUPPORTED_VERSION, as Kafka does.
    const known = supported !== undefined && version >= supported[1] && version <= supported[2];
    w.int16(known ? KafkaError.NONE : KafkaError.UNSUPPORTED_VERSION);
    w.array(SUPPORTED, (out, [key, min, max]) => out.int16(key).int16(min).int16(max));
    if (known && version >= 1) w.int32(0);
    return w;
  }

  private metadata(r: Reader): Writer {
    const requested = r.array((x) => x.string());
    r.boolean(); // allow_auto_topic_creation: topics are never auto-created here
    const names = requested ?? [...this.topicMap.keys()];
    const w = new Writer().int32(0);
    w.array([NODE_ID], (out, id) => out.int32(id).nullableString(this.host).int32(this.port).nullableString(null));
    w.nullableString('ecomgen-test-cluster').int32(NODE_ID);
    w.array(names, (out, name) => {
      const topic = this.topicMap.get(name);
      out.int16(topic ? KafkaError.NONE : KafkaError.UNKNOWN_TOPIC_OR_PARTITION).nullableString(name).boolean(false);
      out.array(topic ? topic.partitions.map((_, index) => index) : [], (p, index) => {
        p.int16(KafkaError.NONE).int32(index).int32(NODE_ID);
        p.int32(1).int32(NODE_ID); // replicas
        p.int32(1).int32(NODE_ID); // isr
        p.int32(0); // offline replicas
      });
    });
    return w;
  }

  private createTopics(r: Reader): Writer {
    const requests =
      r.array((x) => ({
        name: x.string(),
        partitions: x.int32(),
        replicationFactor: x.int16(),
        assignments: x.array((a) => ({ partition: a.int32(), brokers: a.array((b) => b.int32()) })) ?? [],
        configs: x.array((c) => [c.string(), c.nullableString()] as const) ?? [],
      })) ?? [];
    r.int32(); // timeout_ms
    const validateOnly = r.boolean();
    const results = requests.map(({ name, partitions, replicationFactor, assignments, configs }) => {
      const fail = (errorCode: number, message: string) => ({ name, errorCode, message });
      if (!TOPIC_NAME.test(name) || name === '.' || name === '..') {
        return fail(KafkaError.INVALID_TOPIC_EXCEPTION, `Topic name "${name}" is illegal, it contains a character other than ASCII alphanumerics, '.', '_' and '-'`);
      }
      if (this.topicMap.has(name)) return fail(KafkaError.TOPIC_ALREADY_EXISTS, `Topic '${name}' already exists.`);
      if (assignments.length > 0) return fail(KafkaError.INVALID_REQUEST, 'replica assignments are not supported by this test broker');
      const count = partitions === -1 ? this.defaultPartitions : partitions;
      if (count < 1) return fail(KafkaError.INVALID_PARTITIONS, `Number of partitions must be larger than 0.`);
      const replicas = replicationFactor === -1 ? 1 : replicationFactor;
      if (replicas < 1) return fail(KafkaError.INVALID_REPLICATION_FACTOR, 'Replication factor must be larger than 0.');
      if (replicas > 1) return fail(KafkaError.INVALID_REPLICATION_FACTOR, `Replication factor: ${replicas} larger than available brokers: 1.`);
      if (!validateOnly) this.createTopic(name, count, Object.fromEntries(configs));
      return { name, errorCode: KafkaError.NONE, message: null };
    });
    const w = new Writer().int32(0);
    w.array(results, (out, t) => out.nullableString(t.name).int16(t.errorCode).nullableString(t.message));
    return w;
  }

  private initProducerId(r: Reader): Writer {
    const transactionalId = r.nullableString();
    r.int32(); // transaction_timeout_ms
    if (transactionalId !== null) return new Writer().int32(0).int16(KafkaError.INVALID_REQUEST).int64(-1).int16(-1);
    const id = this.nextProducerId++;
    return new Writer().int32(0).int16(KafkaError.NONE).int64(id).int16(0);
  }

  private produce(r: Reader): { writer: Writer; acks: number } {
    const transactionalId = r.nullableString();
    const acks = r.int16();
    r.int32(); // timeout_ms
    const topics =
      r.array((x) => ({
        name: x.string(),
        partitions: x.array((p) => ({ index: p.int32(), records: p.nullableBytes() })) ?? [],
      })) ?? [];
    let fault = this.faults[0];
    if (fault && fault.after > 0) {
      fault.after--;
      fault = undefined;
    } else if (fault) {
      fault.times--;
      if (fault.times <= 0) this.faults.shift();
    }
    let partitionCount = 0;
    let recordCount = 0;
    const responses = topics.map(({ name, partitions }) => ({
      name,
      partitions: partitions.map(({ index, records }) => {
        partitionCount++;
        if (fault && !fault.appendFirst) return { index, errorCode: fault.errorCode, baseOffset: -1 };
        const answer = this.append(name, index, records);
        recordCount += answer.appended;
        return fault ? { index, errorCode: fault.errorCode, baseOffset: -1 } : { index, errorCode: answer.errorCode, baseOffset: answer.baseOffset };
      }),
    }));
    if (this.retainRecords) this.produceRequests.push({ acks, transactionalId, partitions: partitionCount, records: recordCount, injectedError: fault?.errorCode ?? 0 });
    const w = new Writer();
    w.array(responses, (out, t) => {
      out.nullableString(t.name);
      out.array(t.partitions, (p, answer) => p.int32(answer.index).int16(answer.errorCode).int64(answer.baseOffset).int64(-1).int64(0));
    });
    w.int32(0); // throttle_time_ms
    return { writer: w, acks };
  }

  /** Appends one partition's record set: all its batches, or none (with the error that refused them). */
  private append(topicName: string, index: number, records: Buffer | null): { errorCode: number; baseOffset: number; appended: number } {
    const refuse = (errorCode: number, reason: string) => {
      this.protocolErrors.push(`produce ${topicName}-${index}: ${reason}`);
      return { errorCode, baseOffset: -1, appended: 0 };
    };
    const log = this.topicMap.get(topicName)?.partitions[index];
    if (!log) return refuse(KafkaError.UNKNOWN_TOPIC_OR_PARTITION, 'no such topic or partition');
    if (records === null || records.length === 0) return refuse(KafkaError.CORRUPT_MESSAGE, 'empty record set');

    const batches: { bytes: Buffer; header: BatchHeader }[] = [];
    for (let at = 0; at < records.length; ) {
      if (at + 12 > records.length) return refuse(KafkaError.CORRUPT_MESSAGE, 'record set ends inside a batch header');
      const size = 12 + records.readInt32BE(at + 8);
      if (at + size > records.length) return refuse(KafkaError.CORRUPT_MESSAGE, 'record set ends inside a batch');
      if (size > MAX_BATCH_BYTES) return refuse(KafkaError.MESSAGE_TOO_LARGE, `record batch of ${size} bytes exceeds message.max.bytes ${MAX_BATCH_BYTES}`);
      const bytes = records.subarray(at, at + size);
      const header = checkBatch(bytes);
      if ('errorCode' in header) return refuse(header.errorCode, header.reason);
      batches.push({ bytes, header });
      at += size;
    }

    // Check every batch's sequence before appending any, so a refused record set leaves no trace.
    const plans: ({ duplicateOf: number } | { append: true })[] = [];
    const pending = new Map<bigint, number>();
    for (const { header } of batches) {
      if (header.producerId < 0n) {
        plans.push({ append: true });
        continue;
      }
      const state = log.producers.get(header.producerId);
      // A new epoch starts its sequences again at 0.
      const current = state?.epoch === header.producerEpoch ? state : undefined;
      const expected = pending.get(header.producerId) ?? current?.nextSequence ?? 0;
      const last = header.baseSequence + header.count - 1;
      const repeat = current?.recent.find((b) => b.firstSequence === header.baseSequence && b.lastSequence === last);
      if (state && header.producerEpoch < state.epoch) return refuse(KafkaError.INVALID_REQUEST, `producer ${header.producerId} epoch ${header.producerEpoch} is fenced`);
      if (repeat) {
        plans.push({ duplicateOf: repeat.baseOffset });
      } else if (header.baseSequence === expected) {
        plans.push({ append: true });
        pending.set(header.producerId, last + 1);
      } else if (header.baseSequence > expected) {
        return refuse(KafkaError.OUT_OF_ORDER_SEQUENCE_NUMBER, `producer ${header.producerId}: sequence ${header.baseSequence}, expected ${expected}`);
      } else {
        return refuse(KafkaError.DUPLICATE_SEQUENCE_NUMBER, `producer ${header.producerId}: sequence ${header.baseSequence} is older than the last five batches`);
      }
    }

    let firstOffset = -1;
    let appended = 0;
    batches.forEach(({ bytes, header }, k) => {
      const plan = plans[k] as { duplicateOf: number } | { append: true };
      if ('duplicateOf' in plan) {
        this.duplicateBatches++;
        if (firstOffset < 0) firstOffset = plan.duplicateOf;
        return;
      }
      const baseOffset = log.nextOffset;
      if (firstOffset < 0) firstOffset = baseOffset;
      log.nextOffset += header.count;
      appended += header.count;
      // Without retainRecords only the counts stay (a long benchmark must not grow the broker).
      if (this.retainRecords) {
        log.batches.push({ baseOffset, count: header.count, producerId: header.producerId, producerEpoch: header.producerEpoch, baseSequence: header.baseSequence, bytes });
      }
      if (header.producerId >= 0n) {
        let state = log.producers.get(header.producerId);
        if (!state || state.epoch !== header.producerEpoch) {
          state = { epoch: header.producerEpoch, nextSequence: 0, recent: [] };
          log.producers.set(header.producerId, state);
        }
        state.nextSequence = header.baseSequence + header.count;
        state.recent.push({ firstSequence: header.baseSequence, lastSequence: state.nextSequence - 1, baseOffset });
        if (state.recent.length > RECENT_BATCHES) state.recent.shift();
      }
    });
    return { errorCode: KafkaError.NONE, baseOffset: firstOffset, appended };
  }
}
