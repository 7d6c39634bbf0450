import { FORMATS, type FieldSource, type FormatContext, type FormatName } from '../formats/index.js';
import { writesColumns } from '../formats/fields.js';
import { ENTITIES, type EntityName } from '../generators/registry.js';
import { recordsAtLocations, servedOrder, servedRange } from '../generators/served-order.js';
import { World, type WorldSpec } from '../generators/world.js';

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
 * cheap nursery; holding 2,048 at once pushed them to the old generation and GC took 60% of
 * the time.
 */
const SUB_BATCH = 256;

/** Bytes per row of the last batch written field by field, by entity and format: the next batch reserves that much. */
const bytesPerRow = new Map<string, number>();

/**
 * Renders one batch: the same bytes on the main thread or in any worker. Records that can be
 * written field by field (see src/formats/fields.ts) are written straight into bytes (nothing
 * to encode, and a buffer a worker can transfer without copying); others as text.
 */
export function renderBatch(task: BatchTask): string | Uint8Array {
  const world = World.of(task.spec);
  const format = FORMATS[task.format];
  const context = formatContext(task.entity, task.columns);
  const { fields, population } = world.generator(task.entity) as { fields?: FieldSource; population: number };
  if (fields && format.fieldRows && !task.projected && !task.locations && !servedOrder(world, task.entity) && writesColumns(fields, context)) {
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
  let out = '';
  let first = task.first;
  let records: object[] = [];
  for (const record of recordsOf(world, task.entity, task.start, task.end, task.projected ? task.columns : null, task.locations)) {
    records.push(record);
    if (records.length === SUB_BATCH) {
      out += format.batch(records, context, first);
      first = false;
      records = [];
    }
  }
  if (records.length > 0) out += format.batch(records, context, first);
  return out;
}
