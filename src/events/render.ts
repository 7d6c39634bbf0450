import { Readable } from 'node:stream';
import { precomputed } from '../generators/child-index.js';
import { World, type WorldSpec } from '../generators/world.js';
import type { RenderPool } from '../render/pool.js';
import type { Delivery } from './chaos.js';
import { BAD_VARIANTS, FeedWorld, isStockStep, stepEvent, withDefect, type FeedMerge, type Step } from './feed.js';
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
 * One worker's share of a window of the feed: the deliveries whose owner (see {@link ownerOf})
 * falls to that worker, walked by the main thread's merge (small values). The worker builds
 * their events and writes their NDJSON lines. Plain typed arrays, so posting it is cheap.
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
  if (array.buffer instanceof SharedArrayBuffer) return array;
  const Kind = array.constructor as new (buffer: SharedArrayBuffer) => T;
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
 * The record whose caches a step's event uses (an order for everything that follows it, a
 * session for its clicks, an inventory row for its stock movements, ...): every event of one
 * owner goes to the same worker, so each worker's caches (order plans and records, session
 * plans and scripts) see each owner once, as the main thread's do. Without it (batches
 * round-robin) both workers rebuilt the same plans and took twice the CPU (docs/events.md).
 */
function ownerOf(src: number, idx: number, row: number): number {
  // Stock movements and the inventory rows' opening and count: by inventory row.
  return src === 2 ? row : idx;
}

/**
 * Deliveries of the feed (at most `limit`), walked from `deliveries` on this thread in windows
 * of `size`, each split among `parts` workers by owner; `which` says, per position of the
 * window, whose share holds it.
 */
function* feedWindows(
  world: World,
  merge: FeedMerge,
  deliveries: Iterator<Delivery>,
  limit: number,
  size: number,
  parts: number,
): Generator<{ tasks: FeedBatchTask[]; which: Uint8Array }> {
  const feed = sharedFeedWorld(world);
  const spec = world.spec;
  let left = limit;
  while (left > 0) {
    const room = Math.min(size, left);
    const which = new Uint8Array(room);
    const times = Array.from({ length: parts }, () => new Float64Array(room * 2));
    const fields = Array.from({ length: parts }, () => new Int32Array(room * FIELDS));
    const counts = new Array<number>(parts).fill(0);
    let n = 0;
    for (; n < room; n++) {
      const r = deliveries.next();
      if (r.done) break;
      const { step, sequence, defect, variant } = r.value;
      let aux = step.aux;
      let ref = step.ref;
      if (isStockStep(step)) [aux, ref] = merge.stockOf(step);
      const part = ownerOf(step.src, step.idx, step.src === 2 ? aux : step.idx) % parts;
      which[n] = part;
      const c = counts[part] as number;
      counts[part] = c + 1;
      const t = times[part] as Float64Array;
      t[c * 2] = step.t;
      t[c * 2 + 1] = sequence;
      const f = fields[part] as Int32Array;
      const o = c * FIELDS;
      f[o] = step.src;
      f[o + 1] = step.idx;
      f[o + 2] = step.kind;
      f[o + 3] = aux;
      f[o + 4] = ref;
      f[o + 5] = defect === undefined ? 0 : DEFECTS.indexOf(defect);
      f[o + 6] = variant === undefined ? 0 : BAD_VARIANTS.indexOf(variant);
    }
    if (n > 0) {
      const tasks = counts.map((count, part) => ({
        feed,
        spec,
        count,
        times: (times[part] as Float64Array).subarray(0, count * 2),
        fields: (fields[part] as Int32Array).subarray(0, count * FIELDS),
      }));
      yield { tasks, which: which.subarray(0, n) };
    }
    if (n < room) return;
    left -= n;
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
let scratch = Buffer.allocUnsafeSlow(1 << 20);

/**
 * The NDJSON lines of a worker's share of a window, byte for byte those the main thread writes
 * for these deliveries (stepEvent, withDefect and eventJson are shared): `count` line lengths
 * (Uint32, each with its newline), then the lines. The result owns its memory, so the worker
 * transfers it without a copy.
 */
export function renderFeedBatch(task: FeedBatchTask): Uint8Array {
  const world = worldOf(task);
  const feed = FeedWorld.of(world);
  const { times, fields, count } = task;
  const head = count * 4;
  const lengths = new Uint32Array(count);
  let used = 0;
  for (let n = 0; n < count; n++) {
    const f = n * FIELDS;
    const step: Step = {
      t: times[n * 2] as number,
      src: fields[f] as number,
      idx: fields[f + 1] as number,
      kind: fields[f + 2] as number,
      aux: fields[f + 3] as number,
      ref: fields[f + 4] as number,
    };
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
    const start = used;
    used += scratch.write(line, used);
    scratch[used++] = 10;
    lengths[n] = used - start;
  }
  const bytes = new Uint8Array(head + used);
  bytes.set(new Uint8Array(lengths.buffer), 0);
  bytes.set(scratch.subarray(0, used), head);
  return bytes;
}

/** Deliveries per window: each worker renders its owners' share of it. */
const WINDOW = 4096;

/**
 * The NDJSON of `limit` deliveries rendered on the pool's workers: this thread walks the merge
 * (small step values) and splits each window among the workers by owner, each worker always
 * getting the same owners (RenderPool.runOn); the windows' lines are put back in feed order
 * (one copy each) and streamed. At most `ahead` windows are in flight, so memory stays bounded;
 * a worker that fails or dies ends the stream with an error (the response is cut off, never
 * ended as if complete); a client that goes away stops the walk.
 */
export function parallelNdjson(pool: RenderPool, world: World, merge: FeedMerge, deliveries: Iterator<Delivery>, limit: number, ahead = 2 * pool.size + 2): Readable {
  const parts = pool.size;
  const windows = feedWindows(world, merge, deliveries, limit, WINDOW, parts);
  const done = new Map<number, Buffer>();
  let scheduled = 0;
  let pushed = 0;
  let exhausted = false;
  let inFlight = 0;
  let wanting = false;
  let ended = false;

  const stream = new Readable({
    read() {
      wanting = true;
      pump();
    },
  });

  function pump(): void {
    if (stream.destroyed || ended) return;
    while (!exhausted && inFlight + done.size < ahead) {
      let next: IteratorResult<{ tasks: FeedBatchTask[]; which: Uint8Array }>;
      try {
        next = windows.next();
      } catch (err) {
        stream.destroy(err as Error);
        return;
      }
      if (next.done) {
        exhausted = true;
        break;
      }
      const index = scheduled++;
      const { tasks, which } = next.value;
      inFlight++;
      Promise.all(tasks.map((task, part) => (task.count > 0 ? pool.runOn(part, task) : new Uint8Array(0)))).then(
        (shares) => {
          inFlight--;
          done.set(index, interleave(which, shares));
          pump();
        },
        (err: Error) => stream.destroy(err),
      );
    }
    while (wanting && done.has(pushed)) {
      const bytes = done.get(pushed) as Buffer;
      done.delete(pushed++);
      if (bytes.length > 0) wanting = stream.push(bytes);
    }
    if (exhausted && inFlight === 0 && done.size === 0 && wanting) {
      ended = true;
      stream.push(null);
    }
  }
  return stream;
}

/** A window's lines in feed order, from its shares (see {@link renderFeedBatch}): runs of one share copied at once. */
function interleave(which: Uint8Array, shares: Uint8Array[]): Buffer {
  const parts = shares.length;
  const lengths: Uint32Array[] = [];
  const at: number[] = [];
  const seen = new Array<number>(parts).fill(0);
  let total = 0;
  for (let p = 0; p < parts; p++) {
    const share = shares[p] as Uint8Array;
    let count = 0;
    for (let n = 0; n < which.length; n++) if (which[n] === p) count++;
    lengths.push(new Uint32Array(share.buffer, share.byteOffset, count));
    at.push(share.byteOffset + count * 4);
    total += share.length - count * 4;
  }
  const out = Buffer.allocUnsafe(total);
  let o = 0;
  for (let n = 0; n < which.length; ) {
    const p = which[n] as number;
    const own = lengths[p] as Uint32Array;
    let k = seen[p] as number;
    let bytes = 0;
    for (; n < which.length && which[n] === p; n++) bytes += own[k++] as number;
    seen[p] = k;
    const share = shares[p] as Uint8Array;
    const from = (at[p] as number) - share.byteOffset;
    out.set(share.subarray(from, from + bytes), o);
    at[p] = (at[p] as number) + bytes;
    o += bytes;
  }
  return out;
}
