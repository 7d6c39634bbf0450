import { precomputed } from '../generators/child-index.js';
import { World, type WorldSpec } from '../generators/world.js';
import { BAD_VARIANTS, FeedWorld, isStockStep, stepEvent, withDefect, type FeedMerge, type Step } from './feed.js';
import type { Delivery } from './chaos.js';
import { eventJson } from './ndjson.js';
import type { DefectKind } from './types.js';

/**
 * What a render worker needs of a prepared world that it cannot cheaply build itself: the
 * arrays the precompute threads built (the price changes' time order, ...) and the opening
 * stock's per-row sums (a pass over every order). Copied once per world into shared memory, so
 * every batch carries them without a copy and no worker walks the orders again.
 */
export interface SharedFeedWorld {
  readonly precomputed: readonly (readonly [key: string, array: Int32Array | Float64Array])[];
  readonly sold: Int32Array;
  readonly returned: Int32Array;
}

/**
 * A batch of the feed for a render worker: deliveries the main thread's merge walked (small
 * values), whose events the worker builds and writes as NDJSON lines. A plain value of typed
 * arrays, so posting it to a worker is cheap.
 */
export interface FeedBatchTask {
  readonly feed: SharedFeedWorld;
  readonly spec: WorldSpec;
  readonly count: number;
  /** Per delivery: event time (epoch ms) and sequence. */
  readonly times: Float64Array;
  /**
   * Per delivery: src, idx, kind, aux, ref, defect (0 none, 1 late, 2 duplicate, 3 bad),
   * variant (index in BAD_VARIANTS). A stock step carries its inventory row and movement
   * number in aux and ref (the worker has no stock schedule).
   */
  readonly fields: Int32Array;
}

const FIELDS = 7;
const DEFECTS: readonly (DefectKind | undefined)[] = [undefined, 'late', 'duplicate', 'bad'];

const shared = new WeakMap<World, SharedFeedWorld>();

function sharedCopy<T extends Int32Array | Float64Array>(array: T): T {
  const Kind = array.constructor as { new (buffer: SharedArrayBuffer): T };
  const copy = new Kind(new SharedArrayBuffer(array.byteLength));
  copy.set(array);
  return copy;
}

/** What workers need of a prepared world (after prepareFeed), in shared memory, built once per world. */
export function sharedFeedWorld(world: World): SharedFeedWorld {
  let feed = shared.get(world);
  if (!feed) {
    const flows = world.generator('inventory-movements').preparedFlows;
    if (!flows) throw new Error('the feed of this world is not prepared');
    feed = {
      precomputed: [...precomputed(world)].map(([key, array]) => [key, sharedCopy(array)] as const),
      sold: sharedCopy(flows.sold),
      returned: sharedCopy(flows.returned),
    };
    shared.set(world, feed);
  }
  return feed;
}

/**
 * Batches of up to `size` deliveries, walked from `deliveries` on this thread (at most `limit`
 * of them): each walk is a few milliseconds of small step values, no rows.
 */
export function* feedBatches(world: World, merge: FeedMerge, deliveries: Iterator<Delivery>, limit: number, size: number): Generator<FeedBatchTask> {
  const feed = sharedFeedWorld(world);
  const spec = world.spec;
  let left = limit;
  while (left > 0) {
    const room = Math.min(size, left);
    const times = new Float64Array(room * 2);
    const fields = new Int32Array(room * FIELDS);
    let count = 0;
    for (; count < room; count++) {
      const r = deliveries.next();
      if (r.done) break;
      const { step, sequence, defect, variant } = r.value;
      times[count * 2] = step.t;
      times[count * 2 + 1] = sequence;
      const f = count * FIELDS;
      fields[f] = step.src;
      fields[f + 1] = step.idx;
      fields[f + 2] = step.kind;
      if (isStockStep(step)) {
        const [row, k] = merge.stockOf(step);
        fields[f + 3] = row;
        fields[f + 4] = k;
      } else {
        fields[f + 3] = step.aux;
        fields[f + 4] = step.ref;
      }
      fields[f + 5] = defect === undefined ? 0 : DEFECTS.indexOf(defect);
      fields[f + 6] = variant === undefined ? 0 : BAD_VARIANTS.indexOf(variant);
    }
    if (count > 0) yield { feed, spec, count, times, fields };
    if (count < room) return;
    left -= count;
  }
}

const installed = new WeakSet<World>();

/** The world of a batch, with the shared arrays installed on its first batch in this thread. */
function worldOf(task: FeedBatchTask): World {
  const world = World.of(task.spec);
  if (!installed.has(world)) {
    const store = precomputed(world);
    for (const [key, array] of task.feed.precomputed) if (!store.has(key)) store.set(key, array);
    world.generator('inventory-movements').useFlows(task.feed);
    installed.add(world);
  }
  return world;
}

/** A scratch buffer the lines are written into, then copied out at their exact length. */
let scratch = Buffer.allocUnsafeSlow(1 << 21);

/**
 * The NDJSON bytes of a batch: the same lines, byte for byte, that the main thread writes for
 * these deliveries (stepEvent, withDefect and eventJson are shared). The result owns its
 * memory, so the worker transfers it without a copy.
 */
export function renderFeedBatch(task: FeedBatchTask): Uint8Array {
  const world = worldOf(task);
  const feed = FeedWorld.of(world);
  const { times, fields } = task;
  let used = 0;
  for (let n = 0; n < task.count; n++) {
    const f = n * FIELDS;
    const step: Step = { t: times[n * 2] as number, src: fields[f] as number, idx: fields[f + 1] as number, kind: fields[f + 2] as number, aux: fields[f + 3] as number, ref: fields[f + 4] as number };
    const sequence = times[n * 2 + 1] as number;
    const defect = DEFECTS[fields[f + 5] as number];
    const event = stepEvent(feed, step, sequence, step.aux, step.ref);
    const line = eventJson(defect ? withDefect(event, { defect, variant: BAD_VARIANTS[fields[f + 6] as number] }, world.seed) : event);
    // A UTF-8 byte sequence is at most 3 bytes per UTF-16 code unit.
    const most = line.length * 3 + 1;
    if (used + most > scratch.length) {
      const bigger = Buffer.allocUnsafeSlow(Math.max(scratch.length * 2, used + most));
      scratch.copy(bigger, 0, 0, used);
      scratch = bigger;
    }
    used += scratch.write(line, used);
    scratch[used++] = 10;
  }
  const bytes = new Uint8Array(used);
  bytes.set(scratch.subarray(0, used));
  return bytes;
}
