import { numberText, shapeOf, type PropertyNode } from '../formats/compiled.js';
import { jsonWriter, type JsonWriter } from '../formats/json-writer.js';
import { ENTITIES, isEntityName } from '../generators/registry.js';
import type { FeedEvent } from './types.js';

/**
 * What the line of an entity's event needs, made on its first row: the row's compiled JSON
 * writer (or JSON.stringify), and the column whose value the event's key is when the schema
 * declares it a non-null string that never needs escaping (a uuid), else undefined.
 */
interface EntityText {
  readonly write: JsonWriter;
  readonly keyColumn: string | undefined;
}

const entityTexts = new Map<string, EntityText>();

function entityText(entity: string, sample: object): EntityText {
  let text = entityTexts.get(entity);
  if (!text) {
    const schema = isEntityName(entity) ? ENTITIES[entity].schema : undefined;
    const columns = schema ? Object.keys(schema.properties) : [];
    const first = columns[0];
    const { kind, nullable } = shapeOf(first === undefined ? undefined : (schema?.properties[first] as PropertyNode | undefined));
    text = {
      write: schema ? jsonWriter({ columns, root: entity, item: entity, schema }, sample) : (record: object) => JSON.stringify(record),
      keyColumn: kind === 'safe-string' && !nullable ? first : undefined,
    };
    entityTexts.set(entity, text);
  }
  return text;
}

/**
 * The event's key as JSON. Every feed event's key is its row's primary key, a uuid: when it is
 * the very value of the row's key column and the schema says that column never needs escaping
 * (as the row's compiled writer trusts it to), it is quoted by concatenation. JSON.stringify of
 * the key was ~120 ns an event (in process); anything else still goes through it.
 */
function keyJson(event: FeedEvent, text: EntityText): string {
  const key = event.key;
  const column = text.keyColumn;
  if (column !== undefined && typeof key === 'string' && (event.data as Record<string, unknown>)[column] === key) return '"' + key + '"';
  return JSON.stringify(key);
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
  const text = entityText(event.entity, event.data);
  return '{"event_id":"' + event.event_id + middle(event, text) + numberText(event.sequence) + tail(event, text);
}

/**
 * The part of an event's line between its event_id's value and its sequence's value: what does
 * not depend on the event's position in the feed (a render worker writes it; src/events/split.ts).
 */
export function eventMiddle(event: FeedEvent): string {
  return middle(event, entityText(event.entity, event.data));
}

/** The part of an event's line after its sequence: the row, and the closing brace. */
export function eventTail(event: FeedEvent): string {
  return tail(event, entityText(event.entity, event.data));
}

function middle(event: FeedEvent, text: EntityText): string {
  return (
    '","event_type":"' + event.event_type + '","event_time":"' + event.event_time + '","entity":"' + event.entity +
    '","key":' + keyJson(event, text) + ',"op":"' + event.op + '","sequence":'
  );
}

function tail(event: FeedEvent, text: EntityText): string {
  return ',"data":' + text.write(event.data) + '}';
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
