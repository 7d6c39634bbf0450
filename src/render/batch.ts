import { Buffer } from 'node:buffer';
import { FORMATS, type FieldSource, type FormatContext, type FormatName } from '../formats/index.js';
import { writesColumns } from '../formats/fields.js';
import { ENTITIES, type EntityName } from '../generators/registry.js';
import { recordsAtLocations, servedOrder, servedRange } from '../generators/served-order.js';
import { World, type WorldSpec } from '../generators/world.js';
import { gzipPart } from './gzip.js';

/**
 * One batch of a response: records start..end-1 of an entity in a world, projected to
 * `columns` when `projected`, written in `format`. A plain value, so it can cross to a worker.
 */
export interface BatchTask {
  readonly spec: WorldSpec;
  readonly entity: EntityName;
  readonly format: FormatName;
  readonly columns: readonly string[];
  readonly projected: boolean;
  readonly start: number;
  readonly end: number;
  /** Whether this is the first batch of the response (JSON separators depend on it). */
  readonly first: boolean;
  /** For an entity served in time order, where its records come from (`servedLocations`), so a worker needs no permutation. */
  readonly locations?: Int32Array;
  /** The bytes framed with their CRC-32 as a part of a gzip body (src/render/gzip.ts). */
  readonly gzip?: boolean;
}

/** What formats need to know to write records of an entity. */
export function formatContext(entity: EntityName, columns: readonly string[]): FormatContext {
  const definition = ENTITIES[entity];
  return { columns, root: definition.xml.root, item: definition.xml.item, schema: definition.schema };
}

/** Records at download positions start..end-1, projected to `columns` when asked. */
export function* recordsOf(world: World, entity: EntityName, start: number, end: number, columns: readonly string[] | null, locations?: Int32Array): Generator<object> {
  // Dated entities numbered by their parents are served in time order (src/generators/served-order.ts).
  const records = locations ? recordsAtLocations(world, entity, locations) : (servedRange(world, entity, start, end) ?? world.generator(entity).range(start, end));
  if (!columns) {
    yield* records;
    return;
  }
  for (const record of records) {
    const row = record as Record<string, unknown>;
    const out: Record<string, unknown> = {};
    for (const c of columns) out[c] = row[c];
    yield out;
  }
}

/**
 * Records handed to a format at once. Small on purpose: records die young, in the scavenger's
 * cheap nursery. 64 as on the main thread's streams (formats/index.ts): 256 orders made a
 * ~170 KB text, a large object allocated straight into the old generation.
 */
const SUB_BATCH = 64;

/** Bytes per row of the last batch written field by field, by entity and format: the next batch reserves that much. */
const bytesPerRow = new Map<string, number>();

/**
 * A batch that can be written field by field straight into bytes (see src/formats/fields.ts),
 * or undefined when it is written as text.
 */
function fieldBatch(world: World, task: BatchTask): Uint8Array | undefined {
  const format = FORMATS[task.format];
  const context = formatContext(task.entity, task.columns);
  const { fields, population } = world.generator(task.entity) as { fields?: FieldSource; population: number };
  if (!(fields && format.fieldRows && !task.projected && !task.locations && !servedOrder(world, task.entity) && writesColumns(fields, context))) return undefined;
  const rows = format.fieldRows(context, task.first);
  const end = Math.min(task.end, population);
  const hint = `${task.entity} ${task.format}`;
  const perRow = bytesPerRow.get(hint);
  if (perRow !== undefined && end > task.start) rows.reserve(Math.ceil(perRow * (end - task.start) * 1.05) + 1024);
  for (let i = task.start; i < end; i++) fields.write(i, rows);
  const bytes = rows.take();
  if (end - task.start >= 64) bytesPerRow.set(hint, bytes.length / (end - task.start));
  return bytes;
}

/** Writes the batch as text, a sub-batch of records at a time, to `write`. */
function writeText(world: World, task: BatchTask, write: (text: string) => void): void {
  const format = FORMATS[task.format];
  const context = formatContext(task.entity, task.columns);
  let first = task.first;
  let records: object[] = [];
  for (const record of recordsOf(world, task.entity, task.start, task.end, task.projected ? task.columns : null, task.locations)) {
    records.push(record);
    if (records.length === SUB_BATCH) {
      write(format.batch(records, context, first));
      first = false;
      records = [];
    }
  }
  if (records.length > 0) write(format.batch(records, context, first));
}

/**
 * Renders one batch: the same bytes on the main thread or in any worker. Records that can be
 * written field by field (see src/formats/fields.ts) are written straight into bytes (nothing
 * to encode, and a buffer a worker can transfer without copying); others as text.
 */
export function renderBatch(task: BatchTask): string | Uint8Array {
  const world = World.of(task.spec);
  const direct = fieldBatch(world, task);
  if (direct) return direct;
  let out = '';
  writeText(world, task, (text) => {
    out += text;
  });
  return out;
}

/** Room for a batch's first bytes: the last batch's size and an eighth, so a buffer rarely grows (a batch of 2,048 orders as CSV is ~1.4 MB). */
const FIRST_BYTES = 64 * 1024;
let bytesHint = FIRST_BYTES;

/**
 * One batch as UTF-8 bytes in a buffer of its own (what a render worker transfers). Text is
 * encoded a sub-batch at a time into a growing buffer: a batch held whole as one string
 * (2,048 orders, ~1.4 MB) outlived the nursery, and encoding it flattened it into the old
 * generation first; orders rendered in a worker cost ~1.5x the CPU of the main thread's
 * stream that way (renderBatch of 2,048-order batches, in-process). With `gzip`, the bytes
 * framed with their CRC-32 as a part of a gzip body (src/render/gzip.ts).
 */
export function renderBytes(task: BatchTask): Uint8Array {
  const bytes = renderPlain(task);
  return task.gzip ? gzipPart(bytes) : bytes;
}

function renderPlain(task: BatchTask): Uint8Array {
  const world = World.of(task.spec);
  const direct = fieldBatch(world, task);
  if (direct) return direct;
  let buf = Buffer.allocUnsafe(bytesHint);
  let pos = 0;
  writeText(world, task, (text) => {
    const most = 3 * text.length;
    if (pos + most > buf.length) {
      const bigger = Buffer.allocUnsafe(Math.max(2 * buf.length, pos + most));
      buf.copy(bigger, 0, 0, pos);
      buf = bigger;
    }
    pos += buf.write(text, pos, 'utf8');
  });
  bytesHint = Math.max(FIRST_BYTES, pos + (pos >>> 3));
  return buf.subarray(0, pos);
}
