import { Readable } from 'node:stream';
import { bulkFormat } from './bulk.js';
import { csvFormat } from './csv.js';
import { jsonFormat, ndjsonFormat } from './json.js';
import type { FormatContext, RecordFormat } from './types.js';
import { xmlFormat } from './xml.js';

export type { FormatContext, RecordFormat } from './types.js';
export type { FieldSource, FieldWriter } from './fields.js';

export const FORMATS = { json: jsonFormat, ndjson: ndjsonFormat, csv: csvFormat, xml: xmlFormat, bulk: bulkFormat } as const;
export type FormatName = keyof typeof FORMATS;
/** The formats of every entity; `bulk` only for entities whose registry definition has a `bulkIndex`. */
export const FORMAT_NAMES: readonly FormatName[] = ['json', 'ndjson', 'csv', 'xml'];

/** Media types a client may ask for in `Accept`, and the format each selects. */
export const MEDIA_TYPES: Readonly<Record<string, FormatName>> = {
  'application/json': 'json',
  'application/x-ndjson': 'ndjson',
  'application/ndjson': 'ndjson',
  'application/jsonl': 'ndjson',
  'text/csv': 'csv',
  'application/xml': 'xml',
  'text/xml': 'xml',
};

/**
 * Content types compressed when the client accepts a content coding: @fastify/compress's own
 * default list (text other than event streams, JSON, XML, octet streams) plus NDJSON, which that
 * list misses (`application/x-ndjson` is neither `/json` nor in mime-db), so NDJSON downloads and
 * the events feed went out uncompressed whatever the client asked for.
 */
export const COMPRESSIBLE_TYPES = /^text\/(?!event-stream)|(?:\+|\/)json(?:;|$)|(?:\+|\/)text(?:;|$)|(?:\+|\/)xml(?:;|$)|octet-stream(?:;|$)|\/(?:x-)?ndjson(?:;|$)/u;

/** Text produced between two yields to the event loop: large enough that per-write costs vanish. */
const CHUNK_CHARS = 64 * 1024;

/**
 * Bytes a response stream may hold ahead of its consumer: a few chunks, so the next chunk is
 * generated on this thread while the previous ones are compressed (zlib runs on the libuv
 * threadpool) or written, instead of waiting for each one to drain first.
 */
const AHEAD_BYTES = 4 * CHUNK_CHARS;

/**
 * Records handed to a format at once. Small on purpose: records die young, in the scavenger's
 * cheap nursery; holding thousands at once pushes them to the old generation. 64, not 256:
 * 256 orders (~650 bytes a row) made a ~170 KB chunk, whose flat string is a large object,
 * allocated straight into the old generation; with 64 a chunk stays under 128 KB.
 */
const SUB_BATCH = 64;

/**
 * Writes records as text a chunk at a time: `next()` returns the next ~64 KB (the format's
 * head first, its tail last), or null when everything has been written. Each call does a
 * bounded amount of work, so callers can yield to the event loop between chunks.
 */
export function formatChunks(
  format: RecordFormat,
  context: FormatContext,
  records: Iterable<object>,
  batchSize = SUB_BATCH,
  pause?: object,
): { next(): string | null; stop(): void; readonly finished: boolean } {
  const iterator = records[Symbol.iterator]();
  let opened = false;
  let done = false;
  let first = true;
  return {
    next() {
      if (done) return null;
      let out = '';
      if (!opened) {
        opened = true;
        out = format.open(context);
      }
      let batch: object[] = [];
      while (out.length < CHUNK_CHARS) {
        const step = iterator.next();
        if (step.done) {
          done = true;
          break;
        }
        // The records' source asks for a turn of the event loop: the chunk ends here (maybe empty).
        if (step.value === pause) break;
        batch.push(step.value);
        if (batch.length === batchSize) {
          out += format.batch(batch, context, first);
          first = false;
          batch = [];
        }
      }
      if (batch.length > 0) {
        out += format.batch(batch, context, first);
        first = false;
      }
      if (done) out += format.close(context, first);
      return out;
    },
    stop() {
      done = true;
      iterator.return?.();
    },
    get finished() {
      return done;
    },
  };
}

/**
 * Serialises records lazily into a byte stream: a chunk is generated and written only when the
 * consumer asks for more, so memory stays flat however many records stream. Each chunk is
 * produced in its own turn of the event loop (setImmediate): a client that reads as fast as
 * the server writes would otherwise keep the stream refilling itself from process.nextTick
 * (a write completed synchronously emits 'drain' there), and no other request would be served
 * until its download ended.
 */
export function formatStream(
  format: RecordFormat,
  context: FormatContext,
  records: Iterable<object>,
  batchSize = SUB_BATCH,
  pause?: object,
): Readable {
  const chunks = formatChunks(format, context, records, batchSize, pause);
  // The chunks as an iterator: null ends it, an empty chunk (the records paused) takes a turn.
  return turnTakingStream({
    next: () => {
      const text = chunks.next();
      return text === null ? { done: true, value: undefined } : { done: false, value: text };
    },
    return: () => {
      chunks.stop();
      return { done: true, value: undefined };
    },
  });
}

/** A chunk of a {@link turnTakingStream}: bytes or text, or a promise of them; an empty one writes nothing. */
export type StreamChunk = string | Uint8Array | Promise<string | Uint8Array>;

/**
 * A byte stream of `chunks` that takes a turn of the event loop (setImmediate) before each
 * chunk ({@link formatStream} writes every record format through it). `Readable.from` refills itself from process.nextTick
 * whenever a write completes at once, so a client (or a COPY) reading as fast as the server
 * writes held the event loop for the whole transfer: downloading a scale-1 feed as NDJSON
 * (145 MB), /health waited 1.8 s; orders of scale 10 as Parquet, 2.2 s; a long defects list,
 * 0.3 s. An empty chunk (a generator's pause) writes nothing and takes another turn.
 */
export function turnTakingStream(chunks: Iterator<StreamChunk> | AsyncIterator<StreamChunk>, highWaterMark = AHEAD_BYTES): Readable {
  let scheduled = false;
  const stream = new Readable({
    highWaterMark,
    read() {
      if (scheduled) return;
      scheduled = true;
      setImmediate(produce);
    },
    destroy(err, callback) {
      // A generator still running (an async one awaiting) ends at its next step.
      Promise.resolve()
        .then(() => chunks.return?.())
        .then(
          () => callback(err),
          () => callback(err),
        );
    },
  });
  async function produce(): Promise<void> {
    if (stream.destroyed) return;
    let value: string | Uint8Array | null;
    try {
      const step = await chunks.next();
      value = step.done === true ? null : await step.value;
    } catch (err) {
      scheduled = false;
      stream.destroy(err as Error);
      return;
    }
    scheduled = false;
    if (stream.destroyed) return;
    if (value === null) stream.push(null);
    else if (value.length > 0) stream.push(value);
    else {
      scheduled = true;
      setImmediate(produce);
    }
  }
  return stream;
}

/**
 * The whole text of a small page, for a response with Content-Length instead of a stream.
 * Yields to the event loop between chunks, like {@link formatStream}; a page that fits one
 * chunk is written without waiting.
 */
export async function formatPage(format: RecordFormat, context: FormatContext, records: Iterable<object>): Promise<string> {
  const chunks = formatChunks(format, context, records);
  let out = chunks.next() ?? '';
  while (!chunks.finished) {
    await new Promise<void>((resolve) => setImmediate(resolve));
    out += chunks.next() ?? '';
  }
  return out;
}
