/**
 * Parquet downloads encoded on a render worker. hyparquet-writer encodes a whole row group in
 * one synchronous call (50,000 orders: ~1.5 s), so on the main thread a large download held the
 * event loop for that long per row group. Here a worker of the pool (src/render/pool.ts, a
 * channel per response) builds the world, walks the same records in the same served order
 * (`recordsOf`, as the route does) and encodes them with the same encoder
 * (src/formats/parquet.ts `ParquetEncoder`); the main thread only forwards the chunks. Bytes equal
 * the in-thread stream's (test/formats/parquet-pool.test.ts).
 */
import { Readable } from 'node:stream';
import { installPrecomputed, type PrecomputedArrays } from '../generators/child-index.js';
import { ENTITIES, type EntityName } from '../generators/registry.js';
import { World, type WorldSpec } from '../generators/world.js';
import { ParquetEncoder, parquetStream } from '../formats/parquet.js';
import { recordsOf } from './batch.js';
import { RenderError, type RenderPool, type WorkerChannel } from './pool.js';

/** Marks a channel's `open` as a Parquet file's (src/render/worker.ts routes by it). */
export const PARQUET_CHANNEL = 'parquet';

/** Files of more rows than this are encoded on a render worker (fewer: on the caller's thread, no round trip). */
export const PARQUET_POOL_ROWS = 4096;

/** Chunks (row groups) asked for and not yet forwarded: memory stays at about two row groups. */
const AHEAD = 2;

/** What the main thread opens a Parquet channel with (besides the world's spec and arrays). */
export interface ParquetOpen {
  readonly kind: typeof PARQUET_CHANNEL;
  readonly entity: EntityName;
  readonly start: number;
  readonly end: number;
  readonly columns: readonly string[];
  readonly projected: boolean;
}

// ---- Worker side -------------------------------------------------------------------------

/** A file a worker is writing: its records and its encoder. */
interface ParquetFile {
  readonly records: Iterator<object>;
  readonly encoder: ParquetEncoder;
}

/** The files this worker is writing, by channel id: dropped at the footer, on close or on error. */
const files = new Map<number, ParquetFile>();

/** How many Parquet files this worker holds (for the pool's `workerChannelCounts`). */
export function parquetFilesHeld(): number {
  return files.size;
}

/** Whether a channel message in a worker belongs to a Parquet file. */
export function isParquetChannelMessage(message: { channel: number; kind?: string }): boolean {
  return message.kind === PARQUET_CHANNEL || files.has(message.channel);
}

/**
 * A Parquet channel's message in a render worker (src/render/worker.ts): `open` starts the file,
 * `more` answers with its next row group's bytes (`chunks`, transferred), the last with the
 * footer too and `done`; `close` drops it. An error is answered once, with `error`, and drops the file.
 */
export function parquetChannelMessage(
  message: { channel: number; op: string; spec?: WorldSpec; arrays?: PrecomputedArrays } & Partial<ParquetOpen>,
  post: (message: object, transfer?: ArrayBuffer[]) => void,
): void {
  const { channel, op } = message;
  if (op === 'close') {
    files.delete(channel);
    return;
  }
  try {
    if (op === 'open') {
      const world = World.of(message.spec as WorldSpec);
      // The main thread's precomputed arrays (served orders among them), installed before
      // anything of the world is built, as for batches.
      installPrecomputed(world, message.arrays);
      const entity = message.entity as EntityName;
      const columns = message.columns as readonly string[];
      const records = recordsOf(world, entity, message.start as number, message.end as number, message.projected === true ? columns : null);
      files.set(channel, { records: records[Symbol.iterator](), encoder: new ParquetEncoder(ENTITIES[entity].schema, { columns }) });
      return;
    }
    const file = files.get(channel);
    // A 'more' after the footer (asked ahead) or after a close: nothing to answer.
    if (op !== 'more' || !file) return;
    const { records, encoder } = file;
    for (let next = records.next(); next.done !== true; next = records.next()) {
      if (encoder.add(next.value)) {
        const bytes = encoder.flush();
        post({ channel, chunks: [bytes], done: false }, [bytes.buffer as ArrayBuffer]);
        return;
      }
    }
    // The records are exhausted: the last row group (if any) and the footer, as parquetStream writes them.
    files.delete(channel);
    const chunks = encoder.rows > 0 ? [encoder.flush(), encoder.finish()] : [encoder.finish()];
    post({ channel, chunks, done: true }, chunks.map((b) => b.buffer as ArrayBuffer));
  } catch (err) {
    files.delete(channel);
    post({ channel, error: err instanceof Error ? err.message : String(err) });
  }
}

// ---- Main thread side --------------------------------------------------------------------

/**
 * Records start..end-1 of `entity` in the world of `spec` as one Parquet file, encoded on a
 * render worker: a chunk (row group) asked for when the stream is read, at most {@link AHEAD}
 * ahead. Undefined when the pool cannot open a channel (closed, no threads).
 *
 * A failure before the first chunk fails the stream with a {@link RenderError} (the client gets
 * a 503, not a 200); a later one destroys it, and the chunked response is aborted without its
 * final chunk, so no client takes a cut file for a whole one. Destroying the stream (a client
 * that went away) closes the channel: the worker drops the file.
 */
export function parquetPoolStream(
  pool: RenderPool,
  spec: WorldSpec,
  entity: EntityName,
  start: number,
  end: number,
  columns: readonly string[],
  projected: boolean,
): Readable | undefined {
  const open: ParquetOpen = { kind: PARQUET_CHANNEL, entity, start, end, columns, projected };
  const opened = pool.openChannel(spec, { ...open });
  if (!opened) return undefined;
  const channel: WorkerChannel = opened;
  const queue: Uint8Array[] = [];
  let asked = 0;
  let last = false;
  let wanting = false;
  let started = false;

  const stream = new Readable({
    read() {
      wanting = true;
      pump();
    },
    destroy(err, callback) {
      channel.close();
      callback(err);
    },
  });

  const fail = (err: Error) => stream.destroy(started ? err : new RenderError(err));

  channel.onMessage = (message) => {
    if (stream.destroyed) return;
    if (typeof message.error === 'string') {
      fail(new Error(`parquet worker: ${message.error}`));
      return;
    }
    asked--;
    for (const bytes of message.chunks as Uint8Array[]) if (bytes.length > 0) queue.push(bytes);
    if (message.done === true) {
      last = true;
      channel.close();
    }
    pump();
  };
  channel.onError = fail;

  function pump(): void {
    if (stream.destroyed) return;
    while (wanting && queue.length > 0) {
      started = true;
      wanting = stream.push(queue.shift());
    }
    if (last) {
      if (queue.length === 0) stream.push(null);
      return;
    }
    while (asked + queue.length < AHEAD) {
      channel.send({ op: 'more' });
      asked++;
    }
  }

  return stream;
}

/**
 * The Parquet file of records start..end-1 of `entity`, for every caller that sends one (GET,
 * the GCS sink): encoded on a render worker when there are render threads and more than
 * {@link PARQUET_POOL_ROWS} records (a row group encoded on the event loop held it for up to
 * ~1.5 s), else on this thread from `records` (a small file: no round trip). `onWorker` says which.
 */
export function parquetFile(
  pool: RenderPool | null | undefined,
  spec: WorldSpec,
  entity: EntityName,
  range: { readonly start: number; readonly end: number },
  columns: readonly string[],
  projected: boolean,
  records: () => Iterable<object>,
): { body: Readable; onWorker: boolean } {
  const pooled = pool && range.end - range.start > PARQUET_POOL_ROWS ? parquetPoolStream(pool, spec, entity, range.start, range.end, columns, projected) : undefined;
  return pooled ? { body: pooled, onWorker: true } : { body: parquetStream(ENTITIES[entity].schema, records(), { columns }), onWorker: false };
}
