import { Buffer } from 'node:buffer';
import { numberText, shapeOf, type PropertyNode } from '../formats/compiled.js';
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
 * The NDJSON stream writes the same bytes without the string: {@link NdjsonChunks.event}.
 */
export function eventJson(event: FeedEvent): string {
  if (event.defect !== undefined) return event.raw ?? JSON.stringify(event);
  return '{"event_id":"' + event.event_id + eventMiddle(event) + event.sequence + eventTail(event);
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
 * Buffer and whole chunks are handed on. Measured against concatenating 512 lines into one
 * string for the stream to encode, that flattening and encoding of a long rope of strings was
 * ~13% of the feed's time. `event` writes an event's bytes without building its line.
 */
export class NdjsonChunks {
  private chunk = Buffer.allocUnsafe(NDJSON_CHUNK);
  private used = 0;
  /** Where the line being written by `event` starts in `chunk`. */
  private lineStart = 0;
  /** A full chunk to hand on, when the line being written by `event` moved to a new one. */
  private full: Buffer | undefined;

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
   * Writes one event as a line, byte for byte `eventJson(event)` and its newline, straight into
   * the chunk: the envelope's fixed text from byte runs encoded once, its values and the row's
   * copied character by character (ASCII; anything else through the UTF-8 encoder), the row by
   * its entity's compiled byte writer ({@link rowBytes}). Written by hand because the feed's
   * speed demands it: building each line as a string and then encoding it (`buf.write`) was
   * the largest single cost in the NDJSON feed's profile. A chaos event, or a row its entity's
   * writer does not fit, is written from `eventJson`. A full chunk, when the line did not fit in
   * the current one.
   */
  event(event: FeedEvent): Buffer | undefined {
    if (event.defect !== undefined) return this.line(eventJson(event));
    const row = rowBytes(event.entity, event.data);
    if (row === undefined) return this.line(eventJson(event));
    this.lineStart = this.used;
    this.full = undefined;
    this.run(ENVELOPE.id);
    this.plain(event.event_id);
    this.run(ENVELOPE.type);
    this.plain(event.event_type);
    this.run(ENVELOPE.time);
    this.plain(event.event_time);
    this.run(ENVELOPE.entity);
    this.plain(event.entity);
    this.run(ENVELOPE.key);
    this.text(event.key);
    this.run(event.op === 'insert' ? ENVELOPE.insert : event.op === 'update' ? ENVELOPE.update : ENVELOPE.delete);
    this.num(event.sequence);
    this.run(ENVELOPE.data);
    row(event.data, this);
    this.room(2);
    this.chunk[this.used++] = 0x7d; // }
    this.chunk[this.used++] = 10;
    const full = this.full;
    this.full = undefined;
    return full;
  }

  /**
   * Makes room for `n` more bytes of the line `event` writes: when the chunk is full, the line
   * so far moves to a new chunk, and the full one (the lines before it) is kept for `event` to
   * hand on.
   */
  room(n: number): void {
    if (this.used + n <= this.chunk.length) return;
    const line = this.used - this.lineStart;
    const next = Buffer.allocUnsafe(Math.max(NDJSON_CHUNK, 2 * (line + n)));
    this.chunk.copy(next, 0, this.lineStart, this.used);
    if (this.lineStart > 0) this.full = this.chunk.subarray(0, this.lineStart);
    this.chunk = next;
    this.lineStart = 0;
    this.used = line;
  }

  /** Copies bytes encoded once (keys, punctuation). */
  run(bytes: Uint8Array): void {
    const n = bytes.length;
    if (this.used + n > this.chunk.length) this.room(n);
    const chunk = this.chunk;
    const at = this.used;
    for (let k = 0; k < n; k++) chunk[at + k] = bytes[k] as number;
    this.used = at + n;
  }

  /** Copies text that JSON writes as it is (no quote, backslash or control character): ASCII by a loop, the rest as UTF-8. */
  plain(s: string): void {
    const n = s.length;
    if (this.used + 3 * n > this.chunk.length) this.room(3 * n);
    const chunk = this.chunk;
    let at = this.used;
    for (let k = 0; k < n; k++) {
      const c = s.charCodeAt(k);
      if (c >= 0x80) {
        this.used = at + chunk.write(k === 0 ? s : s.slice(k), at, 'utf8');
        return;
      }
      chunk[at++] = c;
    }
    this.used = at;
  }

  /** A string as JSON.stringify writes it: quoted, and escaped when it holds what JSON escapes. */
  text(s: string): void {
    const n = s.length;
    if (this.used + 3 * n + 2 > this.chunk.length) this.room(3 * n + 2);
    const chunk = this.chunk;
    const start = this.used;
    let at = start;
    chunk[at++] = 0x22;
    for (let k = 0; k < n; k++) {
      const c = s.charCodeAt(k);
      if (c < 0x20 || c === 0x22 || c === 0x5c || c >= 0x7f) {
        // An escape, non-ASCII text or a lone surrogate: the general way (few of the feed's strings).
        this.used = start;
        this.plain(JSON.stringify(s));
        return;
      }
      chunk[at++] = c;
    }
    chunk[at++] = 0x22;
    this.used = at;
  }

  /** Text that needs no escaping, between quotes. */
  quoted(s: string): void {
    this.room(2);
    this.chunk[this.used++] = 0x22;
    this.plain(s);
    this.room(1);
    this.chunk[this.used++] = 0x22;
  }

  /** A number as JSON.stringify writes it (null when not finite). */
  num(n: number): void {
    if (typeof n === 'number' && n >= 0 && n < 1e9 && (n | 0) === n) {
      // -0 passes too, and is written "0" as JSON.stringify writes it.
      const len = n < 10 ? 1 : n < 100 ? 2 : n < 1000 ? 3 : n < 10_000 ? 4 : n < 100_000 ? 5 : n < 1_000_000 ? 6 : n < 10_000_000 ? 7 : n < 100_000_000 ? 8 : 9;
      if (this.used + len > this.chunk.length) this.room(len);
      const chunk = this.chunk;
      let at = this.used + len;
      this.used = at;
      let v = n | 0;
      do {
        const q = (v / 10) | 0;
        chunk[--at] = 48 + v - q * 10;
        v = q;
      } while (v > 0);
      return;
    }
    // A value of another type is written as the string writer writes it.
    this.plain(n - n === 0 ? numberText(n) : 'null');
  }

  /**
   * Writes one line whose position-free parts are bytes already encoded (by a render worker):
   * `{"event_id":"<idPrefix><sequence>`, bytes [a, b), `<sequence>`, bytes [b, c), newline. A full
   * chunk, when the line did not fit in the current one.
   */
  splice(idPrefix: string, sequence: number, bytes: Uint8Array, a: number, b: number, c: number): Buffer | undefined {
    const seq = String(sequence);
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
    this.lineStart = 0;
    this.chunk = Buffer.allocUnsafe(NDJSON_CHUNK);
    return rest;
  }
}

const bytesOf = (text: string): Uint8Array => Buffer.from(text, 'utf8');

/** The envelope's fixed text, in the order of the event's keys (JSON.stringify's order). */
const ENVELOPE = {
  id: bytesOf('{"event_id":"'),
  type: bytesOf('","event_type":"'),
  time: bytesOf('","event_time":"'),
  entity: bytesOf('","entity":"'),
  key: bytesOf('","key":'),
  insert: bytesOf(',"op":"insert","sequence":'),
  update: bytesOf(',"op":"update","sequence":'),
  delete: bytesOf(',"op":"delete","sequence":'),
  data: bytesOf(',"data":'),
};

/** Writes one row into a chunk writer. */
type RowBytes = (record: object, out: NdjsonChunks) => void;

/** Each entity's compiled row writer of bytes, or null when its rows are written from strings. */
const rowWriters = new Map<string, RowBytes | null>();

/**
 * The byte writer of an entity's rows, chosen on its first row as `jsonWriter` chooses (an
 * all-required schema, the row's keys its properties in order); undefined otherwise.
 */
function rowBytes(entity: string, record: object): RowBytes | undefined {
  let write = rowWriters.get(entity);
  if (write === undefined) {
    write = compileRowBytes(entity, record);
    rowWriters.set(entity, write);
  }
  return write ?? undefined;
}

/**
 * Generated code, one statement per column, for the speed the feed demands (as the string
 * writers of src/formats/json-writer.ts are): the keys and punctuation between values are byte
 * runs merged at compile time (a safe string's closing quote joins the next key), values go
 * through the chunk writer's `plain` (uuids, dates, plain enums), `text` (free text, escaped as
 * JSON.stringify escapes), `num`, or JSON.stringify (anything else, and any value of another
 * type than its schema's). Keys are JSON-quoted and the runs are passed as data, so no input can
 * inject code.
 */
function compileRowBytes(entity: string, sample: object): RowBytes | null {
  if (!isEntityName(entity)) return null;
  const schema = ENTITIES[entity].schema as { properties?: Record<string, PropertyNode>; required?: readonly string[] };
  const properties = schema.properties ?? {};
  const columns = Object.keys(properties);
  // A missing optional value is left out by JSON.stringify: only all-required records compile.
  if (columns.length === 0 || (schema.required ?? []).length !== columns.length) return null;
  const keys = Object.keys(sample);
  if (keys.length !== columns.length || keys.some((k, i) => k !== columns[i])) return null;
  const runs: Uint8Array[] = [];
  const lines: string[] = [];
  let text = '';
  const flush = () => {
    if (text) lines.push(`o.run(R[${runs.push(bytesOf(text)) - 1}]);`);
    text = '';
  };
  columns.forEach((column, k) => {
    text += `${k === 0 ? '{' : ','}${JSON.stringify(column)}:`;
    const v = `r[${JSON.stringify(column)}]`;
    const { kind, nullable } = shapeOf(properties[column]);
    // What each value writes mirrors the string writer (jsonWriter), whose bytes the feed's are.
    if (kind === 'safe-string' && !nullable) {
      text += '"';
      flush();
      lines.push(`{ const x = ${v}; o.plain(typeof x === 'string' ? x : '' + x); }`);
      text = '"';
      return;
    }
    flush();
    const write =
      kind === 'safe-string'
        ? `o.quoted(typeof x === 'string' ? x : '' + x);`
        : kind === 'string'
          ? `if (typeof x === 'string') o.text(x); else o.plain('' + JSON.stringify(x));`
          : kind === 'number'
            ? `o.num(x);`
            : kind === 'boolean'
              ? `if (x === true) o.plain('true'); else if (x === false) o.plain('false'); else o.plain('' + JSON.stringify(x));`
              : `o.plain('' + JSON.stringify(x));`;
    lines.push(`{ const x = ${v}; ${nullable ? `if (x === null) o.plain('null'); else { ${write} }` : write} }`);
  });
  text += '}';
  flush();
  return new Function('R', `return function row(r, o) {\n${lines.join('\n')}\n};`)(runs) as RowBytes;
}
