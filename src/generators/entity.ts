import { IdSpace, Rng, tagOf } from './random.js';
import type { World } from './world.js';
import type { FieldWriter } from '../formats/index.js';

/**
 * What every entity generator offers: a population, a pure `record(i)`, the id of any index
 * without generating the record, and a streaming `range`.
 */
export abstract class EntityGenerator<T extends object = object> {
  readonly tag: number;
  /** The per-record stream; `keyed(i)` positions it at record i. */
  protected readonly rng = new Rng();
  protected readonly ids: IdSpace;

  constructor(
    readonly world: World,
    readonly entity: string,
  ) {
    this.tag = tagOf(entity);
    this.ids = new IdSpace(world.seed, this.tag);
  }

  /** How many records this entity has in the world. */
  abstract readonly population: number;

  /** Record i: a pure function of (world, entity, i). */
  abstract record(i: number): T;

  /** The primary key of record i, computed without generating the record. */
  idOf(i: number): string {
    return this.ids.uuid(i);
  }

  /** The primary key of record i as a field (src/formats/fields.ts): `idOf(i)` without the string. */
  writeId(i: number, w: FieldWriter): void {
    w.uuid(this.ids, i);
  }

  /** Records start..end-1 in order. */
  *range(start: number, end: number): Generator<T> {
    const stop = Math.min(end, this.population);
    for (let i = start; i < stop; i++) yield this.record(i);
  }

  /** Positions the record stream at record i (optionally a named sub-stream of it). */
  protected keyed(i: number, salt = 0): Rng {
    return this.rng.key(this.world.seed, this.tag, i, salt);
  }
}

/**
 * A bounded, direct-mapped memo of parent records: a child that copies data from its parent
 * (an order line's unit price, an order's address) asks here instead of regenerating the
 * parent each time. Small populations end up fully cached; large ones keep memory bounded.
 *
 * It starts small and doubles (dropping what it held) each time it has missed twice its size,
 * up to `capacity`: a request without a seed builds a new world, and allocating every cache of
 * it at full size (65,536 slots for products) was most of what such a small request cost.
 */
export class RecordCache<T> {
  private keys: Float64Array;
  private values: (T | undefined)[];
  private readonly limit: number;
  private misses = 0;

  constructor(
    private readonly produce: (i: number) => T,
    population: number,
    capacity = 65_536,
    /** Slots to start with (at most the limit): for records dear enough that the growth's drops cost more. */
    initial = RecordCache.INITIAL,
  ) {
    this.limit = Math.max(1, Math.min(population, capacity));
    const size = Math.max(1, Math.min(this.limit, initial));
    this.keys = new Float64Array(size).fill(-1);
    this.values = new Array<T | undefined>(size);
  }

  private static readonly INITIAL = 64;

  /** Record i when it is held, without producing it. */
  peek(i: number): T | undefined {
    const slot = i % this.keys.length;
    return this.keys[slot] === i ? this.values[slot] : undefined;
  }

  get(i: number): T {
    const slot = i % this.keys.length;
    if (this.keys[slot] === i) return this.values[slot] as T;
    const value = this.produce(i);
    if (++this.misses > 2 * this.keys.length && this.keys.length < this.limit) {
      const size = Math.min(this.limit, this.keys.length * 2);
      this.keys = new Float64Array(size).fill(-1);
      this.values = new Array<T | undefined>(size);
      this.misses = 0;
    }
    const at = i % this.keys.length;
    this.keys[at] = i;
    this.values[at] = value;
    return value;
  }
}

/** Round to cents (money is computed in integer cents, then shown with two decimals). */
export function cents(amount: number): number {
  return Math.round(amount * 100);
}

/** Integer cents to a 2-decimal amount. */
export function money(centsValue: number): number {
  return Math.round(centsValue) / 100;
}

/**
 * A shifted Zipf draw over [0, n): index 0 is the most popular and popularity decays like
 * 1/(rank + n/50), so roughly the top 20% of indexes take 60% of the draws while no single
 * index dominates.
 */
export function longTail(u: number, n: number): number {
  const c = Math.max(1, n / 50);
  const j = Math.floor(c * Math.pow((n + c) / c, u) - c);
  return Math.min(n - 1, Math.max(0, j));
}

/** The probability that {@link longTail} draws index j of n. */
export function longTailShare(j: number, n: number): number {
  const c = Math.max(1, n / 50);
  return (Math.log((j + 1 + c) / c) - Math.log((j + c) / c)) / Math.log((n + c) / c);
}

/** A bijection on [0, 2^32): distinct indexes give distinct (scrambled) numbers. */
export function scramble(seed: number, i: number): number {
  let x = (i ^ Math.imul(seed, 0x9e3779b1)) >>> 0;
  x = Math.imul(x ^ (x >>> 16), 0x21f0aaad);
  x = Math.imul(x ^ (x >>> 15), 0x735a2d97);
  return (x ^ (x >>> 15)) >>> 0;
}
