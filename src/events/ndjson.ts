import { numberText } from '../formats/compiled.js';
import { jsonWriter, type JsonWriter } from '../formats/json-writer.js';
import { ENTITIES, isEntityName } from '../generators/registry.js';
import type { FeedEvent } from './types.js';

/** The compiled JSON writer of each entity's rows (or JSON.stringify), chosen on its first row. */
const dataWriters = new Map<string, JsonWriter>();

function dataWriter(entity: string, sample: object): JsonWriter {
  let write = dataWriters.get(entity);
  if (!write) {
    const schema = isEntityName(entity) ? ENTITIES[entity].schema : undefined;
    write = schema
      ? jsonWriter({ columns: Object.keys(schema.properties), root: entity, item: entity, schema }, sample)
      : (record: object) => JSON.stringify(record);
    dataWriters.set(entity, write);
  }
  return write;
}

/**
 * An event as one line of JSON, byte for byte JSON.stringify(event): the envelope's fields are
 * plain text (ids, type names, times, numbers) written by concatenation, the row by its
 * entity's compiled writer (src/formats/json-writer.ts), which writes the rows of one entity
 * with the same keys in the same order as JSON.stringify does. Written by hand because the
 * feed's speed demands it: JSON.stringify of the event was the largest single cost of the
 * NDJSON feed. A chaos event (a labelled copy, a malformed row) goes through JSON.stringify.
 */
export function eventJson(event: FeedEvent): string {
  if (event.defect !== undefined) return event.raw ?? JSON.stringify(event);
  return '{"event_id":"' + event.event_id + eventMiddle(event) + numberText(event.sequence) + eventTail(event);
}

/**
 * The part of an event's line between its event_id's value and its sequence's value: what does
 * not depend on the event's position in the feed (a render worker writes it; src/events/split.ts).
 */
export function eventMiddle(event: FeedEvent): string {
  return (
    '","event_type":"' + event.event_type + '","event_time":"' + event.event_time + '","entity":"' + event.entity +
    '","key":' + JSON.stringify(event.key) + ',"op":"' + event.op + '","sequence":'
  );
}

/** The part of an event's line after its sequence: the row, and the closing brace. */
export function eventTail(event: FeedEvent): string {
  return ',"data":' + dataWriter(event.entity, event.data)(event.data) + '}';
}

/** Bytes per NDJSON chunk handed to the socket. */
const NDJSON_CHUNK = 1 << 16;

/**
 * Lines of NDJSON written into Buffers: each line is encoded straight into a chunk-sized
 * Buffer (`buf.write` at an offset) and whole chunks are handed on. Measured against
 * concatenating 512 lines into one string for the stream to encode, that flattening and
 * encoding of a long rope of strings was ~13% of the feed's time.
 */
export class NdjsonChunks {
  private chunk = Buffer.allocUnsafe(NDJSON_CHUNK);
  private used = 0;

  /** Writes one line; a full chunk, when the line did not fit in the current one. */
  line(text: string): Buffer | undefined {
    // A UTF-8 byte sequence is at most 3 bytes per UTF-16 code unit.
    const most = text.length * 3 + 1;
    let full: Buffer | undefined;
    if (this.used + most > this.chunk.length) {
      if (this.used > 0) full = this.chunk.subarray(0, this.used);
      this.chunk = Buffer.allocUnsafe(Math.max(NDJSON_CHUNK, most));
      this.used = 0;
    }
    this.used += this.chunk.write(text, this.used);
    this.chunk[this.used++] = 10;
    return full;
  }

  /**
   * Writes one line whose position-free parts are bytes already encoded (by a render worker):
   * `{"event_id":"<idPrefix><sequence>`, bytes [a, b), `<sequence>`, bytes [b, c), newline. A full
   * chunk, when the line did not fit in the current one.
   */
  splice(idPrefix: string, sequence: number, bytes: Uint8Array, a: number, b: number, c: number): Buffer | undefined {
    const seq = numberText(sequence); // digit tables, as in eventJson
    const head = '{"event_id":"' + idPrefix + seq;
    const most = head.length + seq.length + (c - a) + 1;
    let full: Buffer | undefined;
    if (this.used + most > this.chunk.length) {
      if (this.used > 0) full = this.chunk.subarray(0, this.used);
      this.chunk = Buffer.allocUnsafe(Math.max(NDJSON_CHUNK, most));
      this.used = 0;
    }
    const chunk = this.chunk;
    // The head and the sequence are ASCII: latin1 writes them byte for byte, without UTF-8 encoding.
    let used = this.used + chunk.write(head, this.used, 'latin1');
    chunk.set(bytes.subarray(a, b), used);
    used += b - a;
    used += chunk.write(seq, used, 'latin1');
    chunk.set(bytes.subarray(b, c), used);
    used += c - b;
    chunk[used++] = 10;
    this.used = used;
    return full;
  }

  /** What is written and not yet handed on (undefined when nothing). */
  rest(): Buffer | undefined {
    if (this.used === 0) return undefined;
    const rest = this.chunk.subarray(0, this.used);
    this.used = 0;
    this.chunk = Buffer.allocUnsafe(NDJSON_CHUNK);
    return rest;
  }
}
