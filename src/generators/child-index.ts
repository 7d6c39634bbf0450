import { EntityGenerator } from './entity.js';
import type { World } from './world.js';

/** The typed arrays of a world's precomputed structures, by name (see {@link precomputed}). */
export type PrecomputedArrays = Map<string, Int32Array | Float64Array>;

const stores = new WeakMap<World, PrecomputedArrays>();

/**
 * The precomputed arrays of a world (child-index prefix sums, analytics aggregates). Structures
 * that grow with the world register their arrays here when built, and look here before
 * building: a precompute thread builds them off the event loop and the server installs its
 * copies (src/precompute/prepare.ts), so the main thread never runs the pass itself.
 */
export function precomputed(world: World): PrecomputedArrays {
  let store = stores.get(world);
  if (!store) stores.set(world, (store = new Map()));
  return store;
}

/**
 * Installs arrays built elsewhere (a precompute or render thread, the main thread's copies) in
 * a world's store before anything of the world is built, so its generators find them instead of
 * building their own; an array the world already has stays.
 */
export function installPrecomputed(world: World, arrays: Iterable<readonly [string, Int32Array | Float64Array]> | undefined): void {
  if (arrays === undefined) return;
  const store = precomputed(world);
  for (const [key, array] of arrays) if (!store.has(key)) store.set(key, array);
}

/**
 * Index arithmetic for a child entity whose records are the children of a parent's records in
 * parent order (order lines of orders, shipments of shipped orders, returns of delivered
 * orders). Child k of parent p has a flat position; paging the child endpoint needs the inverse.
 *
 * It keeps one prefix sum per block of 1024 parents (8 bytes per 1024 parents), built once per
 * world from a cheap `count(parent)`; locating a flat position scans at most one block.
 */
const BLOCK = 1024;

export class ChildIndex {
  private readonly prefix: Float64Array;
  readonly total: number;

  constructor(
    readonly parents: number,
    private readonly count: (parent: number) => number,
    /** Prefix sums built elsewhere (a precompute thread) for the same parents and counts. */
    prefix?: Float64Array,
  ) {
    const blocks = Math.ceil(parents / BLOCK);
    if (prefix && prefix.length === blocks + 1) {
      this.prefix = prefix;
      this.total = prefix[blocks] as number;
      return;
    }
    this.prefix = new Float64Array(blocks + 1);
    let sum = 0;
    for (let b = 0; b < blocks; b++) {
      this.prefix[b] = sum;
      const end = Math.min(parents, (b + 1) * BLOCK);
      for (let p = b * BLOCK; p < end; p++) sum += count(p);
    }
    this.prefix[blocks] = sum;
    this.total = sum;
  }

  /** The index of a world's `key`: installed prefix sums if any, else built and registered. */
  static of(world: World, key: string, parents: number, count: (parent: number) => number): ChildIndex {
    const store = precomputed(world);
    const installed = store.get(key);
    const index = new ChildIndex(parents, count, installed instanceof Float64Array ? installed : undefined);
    if (!installed) store.set(key, index.prefix);
    return index;
  }

  /** The (parent, k) pairs of flat positions start..end-1, in order. */
  *walk(start: number, end: number): Generator<readonly [parent: number, k: number]> {
    const stop = Math.min(end, this.total);
    if (start >= stop) return;
    let [parent, k] = this.locate(start);
    let n = this.count(parent);
    for (let flat = start; flat < stop; flat++) {
      while (k >= n) {
        parent++;
        k = 0;
        n = this.count(parent);
      }
      yield [parent, k];
      k++;
    }
  }

  /** The flat position of the first child of `parent` (`total` for parent = parents). */
  firstOf(parent: number): number {
    if (parent >= this.parents) return this.total;
    const block = Math.floor(parent / BLOCK);
    let flat = this.prefix[block] as number;
    for (let p = block * BLOCK; p < parent; p++) flat += this.count(p);
    return flat;
  }

  /** The parent and child number of flat position `flat` (0 <= flat < total). */
  locate(flat: number): [parent: number, k: number] {
    let lo = 0;
    let hi = this.prefix.length - 2;
    while (lo < hi) {
      const mid = (lo + hi + 1) >>> 1;
      if ((this.prefix[mid] as number) <= flat) lo = mid;
      else hi = mid - 1;
    }
    let before = this.prefix[lo] as number;
    for (let p = lo * BLOCK; p < this.parents; p++) {
      const n = this.count(p);
      if (flat < before + n) return [p, flat - before];
      before += n;
    }
    throw new RangeError(`position ${flat} is beyond ${this.total} children`);
  }
}

/**
 * A generator whose records are children of another entity's records (see {@link ChildIndex}).
 * Subclasses say how many children a parent has and build child k of parent p.
 */
export abstract class ChildGenerator<T extends object> extends EntityGenerator<T> {
  private index?: ChildIndex;

  /** Number of parent records. */
  protected abstract readonly parents: number;
  /** How many children parent p has; must be cheap (it is called for every parent once). */
  protected abstract childCount(parent: number): number;
  /** Child k of parent p, which sits at flat position i. */
  protected abstract child(parent: number, k: number, i: number): T;

  private get positions(): ChildIndex {
    this.index ??= ChildIndex.of(this.world, `child:${this.entity}`, this.parents, (p) => this.childCount(p));
    return this.index;
  }

  get population(): number {
    return this.positions.total;
  }

  /** The parent and child number of record i. */
  locate(i: number): [parent: number, k: number] {
    if (i < 0 || i >= this.population) throw new RangeError(`${this.entity} ${i} does not exist`);
    return this.positions.locate(i);
  }

  /** The (parent, k) pairs of records start..end-1, in index order (see src/generators/served-order.ts). */
  walk(start: number, end: number): Generator<readonly [parent: number, k: number]> {
    return this.positions.walk(start, end);
  }

  /** Child k of parent p, which is record i (a pair {@link walk} yields): no locating. */
  childAt(parent: number, k: number, i: number): T {
    return this.child(parent, k, i);
  }

  /** The flat position of the first child of `parent` (the population for parent = parents). */
  firstOf(parent: number): number {
    return this.positions.firstOf(parent);
  }

  record(i: number): T {
    const [parent, k] = this.locate(i);
    return this.child(parent, k, i);
  }

  override *range(start: number, end: number): Generator<T> {
    let i = start;
    for (const [parent, k] of this.positions.walk(start, end)) yield this.child(parent, k, i++);
  }
}
