/**
 * The seeded, counter-keyed random source behind every generated value.
 *
 * A record's randomness is a pure function of (seed, entity, index, salt): the key is hashed
 * into a 128-bit state for a small counter-free PRNG (sfc32), so record i can be produced
 * without producing records 0..i-1 and independently of any other entity.
 *
 * Hand-written rather than `seedrandom`: re-keying happens once per record, millions of times a
 * second, and must cost nanoseconds. seedrandom's generators are seeded from strings through a
 * key schedule (ARC4 mixes 256 bytes; alea hashes the string char by char), measured at
 * 0.4-1.5 µs per seed here against ~40 ns for the integer mixing below.
 */

/** A 32-bit avalanche mix (the "lowbias32" finaliser from hash-prospector). */
export function mix32(x: number): number {
  x = Math.imul(x ^ (x >>> 16), 0x21f0aaad);
  x = Math.imul(x ^ (x >>> 15), 0x735a2d97);
  return (x ^ (x >>> 15)) >>> 0;
}

/** A stable 32-bit tag for a name (FNV-1a): entity and salt names become hash inputs. */
export function tagOf(name: string): number {
  let h = 0x811c9dc5;
  for (let k = 0; k < name.length; k++) {
    h = Math.imul(h ^ name.charCodeAt(k), 0x01000193);
  }
  return mix32(h);
}

const TWO_32 = 4294967296;

/** The part of a key that is fixed per (seed, entity): hashed once, reused for every index. */
function prefixOf(seed: number, tag: number, lane: number): number {
  return mix32(mix32(seed ^ Math.imul(lane + 1, 0x9e3779b9)) ^ tag);
}

/** Hashes (prefix, index, salt) into one 32-bit word; each lane has its own prefix. */
function keyWord(prefix: number, index: number, salt: number): number {
  // Every index below 2^32 (every population): the same words without the float modulo and
  // division (hi is 0, and mix32(x ^ 0) is mix32(x)); a uuid's four words cost ~40% less.
  if (index >= 0 && index < TWO_32) return mix32(mix32(mix32((prefix + index) >>> 0)) ^ salt);
  const lo = index % TWO_32;
  const hi = Math.floor(index / TWO_32);
  return mix32(mix32(mix32((prefix + lo) >>> 0) ^ hi) ^ salt);
}

/**
 * A fast PRNG (sfc32, 128-bit state) that is re-keyed per record.
 *
 * @example
 * const rng = new Rng();
 * rng.key(42, tagOf('users'), 537, 0);
 * rng.int(100); // always the same value for user 537 of seed 42
 */
export class Rng {
  private a = 0;
  private b = 0;
  private c = 0;
  private d = 1;
  // The (seed, tag) prefixes of the last key: a generator keys the same entity again and again.
  private seed = -1;
  private tag = -1;
  private p0 = 0;
  private p1 = 0;
  private p2 = 0;

  /** Positions the stream at the start of (seed, tag, index, salt): 96 key-derived state bits. */
  key(seed: number, tag: number, index: number, salt = 0): this {
    if (seed !== this.seed || tag !== this.tag) {
      this.seed = seed;
      this.tag = tag;
      this.p0 = prefixOf(seed, tag, 0);
      this.p1 = prefixOf(seed, tag, 1);
      this.p2 = prefixOf(seed, tag, 2);
    }
    this.a = keyWord(this.p0, index, salt);
    this.b = keyWord(this.p1, index, salt);
    this.c = keyWord(this.p2, index, salt);
    this.d = 1;
    // The state words are already avalanche-mixed; a few rounds decorrelate the first outputs.
    for (let k = 0; k < 4; k++) this.u32();
    return this;
  }

  /** The next uniform 32-bit unsigned integer. */
  u32(): number {
    const t = (((this.a + this.b) | 0) + this.d) | 0;
    this.d = (this.d + 1) | 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) | 0;
    this.c = (this.c << 21) | (this.c >>> 11);
    this.c = (this.c + t) | 0;
    return t >>> 0;
  }

  /** A float in [0, 1). */
  next(): number {
    return this.u32() / TWO_32;
  }

  /** An integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.next() * n);
  }

  /** An integer in [min, max], both inclusive. */
  between(min: number, max: number): number {
    return min + Math.floor(this.next() * (max - min + 1));
  }

  /** A float in [min, max). */
  uniform(min: number, max: number): number {
    return min + this.next() * (max - min);
  }

  /** True with probability p. */
  chance(p: number): boolean {
    return this.next() < p;
  }

  /** One element of a non-empty array, uniformly. */
  pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.next() * items.length)] as T;
  }

  /** A standard normal deviate (Box-Muller, one of the pair). */
  normal(): number {
    const u = 1 - this.next();
    const v = this.next();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
  }

  /** A string of n decimal digits. */
  digits(n: number): string {
    let s = '';
    for (let k = 0; k < n; k++) s += String.fromCharCode(48 + this.int(10));
    return s;
  }
}

/**
 * Draws an index from cumulative weights (as built by {@link cumulative}).
 * Binary search keeps long tables cheap.
 */
export function drawIndex(rng: Rng, cum: Float64Array): number {
  const x = rng.next() * (cum[cum.length - 1] as number);
  let lo = 0;
  let hi = cum.length - 1;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (x < (cum[mid] as number)) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}

/** Cumulative sums of weights, for {@link drawIndex}. */
export function cumulative(weights: readonly number[]): Float64Array {
  const out = new Float64Array(weights.length);
  let sum = 0;
  weights.forEach((w, k) => {
    sum += w;
    out[k] = sum;
  });
  return out;
}

/** A weighted choice among labelled options, built once and drawn many times. */
export class WeightedChoice<T> {
  private readonly values: readonly T[];
  private readonly cum: Float64Array;

  constructor(options: ReadonlyArray<readonly [T, number]>) {
    this.values = options.map(([value]) => value);
    this.cum = cumulative(options.map(([, weight]) => weight));
  }

  draw(rng: Rng): T {
    return this.values[drawIndex(rng, this.cum)] as T;
  }
}

const DECIMAL_TEXT = Array.from({ length: 10_000 }, (_, k) => String(k));
const PADDED4_TEXT = Array.from({ length: 10_000 }, (_, k) => String(k).padStart(4, '0'));

/**
 * String(n) of a whole number n, from digit tables for 0 <= n < 100,000,000 (anything else
 * as String). V8 keeps the text of every number it converts in a cache in the old generation,
 * so a number converted per record (a building number, a postcode) piled up there as garbage
 * until a full GC, and grew a long download's memory; the tables are also faster.
 */
export function decimal(n: number): string {
  if (!(n >= 0 && n < 100_000_000 && Number.isInteger(n))) return String(n);
  if (n < 10_000) return DECIMAL_TEXT[n] as string;
  const high = Math.floor(n / 10_000);
  return (DECIMAL_TEXT[high] as string) + (PADDED4_TEXT[n - high * 10_000] as string);
}

/** String(n).padStart(5, '0') of a whole number 0 <= n < 100,000 (US ZIP codes), from the tables. */
export function decimal5(n: number): string {
  if (!(n >= 0 && n < 100_000 && Number.isInteger(n))) return String(n).padStart(5, '0');
  const high = Math.floor(n / 10_000);
  return (DECIMAL_TEXT[high] as string) + (PADDED4_TEXT[n - high * 10_000] as string);
}

// Two hex digits per byte value, as ASCII bytes (512 bytes, built once): a UUID is then sixteen
// 2-byte copies into a reused 36-byte buffer and one latin1 decode. Measured against
// concatenating eight 4-character strings: 3-4x faster with the string flattened (as every
// writer does), and one flat string per id instead of a tree of eleven. A table of four digits
// per 16-bit value (256 KB) did half the reads but missed the processor's first-level cache on
// most of them: this one writes an id ~1.7x faster (in-process, 2,000,000 ids).
const HEX2 = new Uint8Array(512);
for (let k = 0; k < 256; k++) {
  for (let j = 0; j < 2; j++) {
    const nibble = (k >>> (4 - 4 * j)) & 0xf;
    HEX2[2 * k + j] = nibble < 10 ? 48 + nibble : 87 + nibble;
  }
}
const UUID_BYTES = Buffer.alloc(36, 0x2d); // '-' at 8, 13, 18 and 23 stay

function putHex4(out: Uint8Array, at: number, v: number): void {
  const hi = 2 * (v >>> 8);
  const lo = 2 * (v & 0xff);
  out[at] = HEX2[hi] as number;
  out[at + 1] = HEX2[hi + 1] as number;
  out[at + 2] = HEX2[lo] as number;
  out[at + 3] = HEX2[lo + 1] as number;
}

const ID_SALT = tagOf('id');

/**
 * The id space of one entity in one world: deterministic UUIDs (RFC 9562 layout, version 4
 * and variant bits set, 122 key-derived bits) of record `index`, or of sub-record `sub` of it
 * (line `sub` of order `index`). The per-(seed, entity) part of the hash is computed once.
 *
 * @example
 * new IdSpace(42, tagOf('users')).uuid(0); // the same on every machine, for ever
 */
export class IdSpace {
  private readonly p0: number;
  private readonly p1: number;
  private readonly p2: number;
  private readonly p3: number;

  constructor(seed: number, tag: number) {
    this.p0 = prefixOf(seed, tag, 0);
    this.p1 = prefixOf(seed, tag, 1);
    this.p2 = prefixOf(seed, tag, 2);
    this.p3 = prefixOf(seed, tag, 3);
  }

  uuid(index: number, sub = 0): string {
    this.write(index, UUID_BYTES, 0, sub);
    return UUID_BYTES.toString('latin1', 0, 36);
  }

  /**
   * The 36 ASCII bytes of {@link uuid} written into `out` at `at` (dashes included): writers of
   * bytes (src/formats/fields.ts) take them without a string in between.
   */
  write(index: number, out: Uint8Array, at: number, sub = 0): void {
    const salt = (ID_SALT ^ Math.imul(sub + 1, 0x27d4eb2d)) >>> 0;
    const a = keyWord(this.p0, index, salt);
    const b = ((keyWord(this.p1, index, salt) & 0xffff0fff) | 0x00004000) >>> 0;
    const c = ((keyWord(this.p2, index, salt) & 0x3fffffff) | 0x80000000) >>> 0;
    const d = keyWord(this.p3, index, salt);
    putHex4(out, at, a >>> 16);
    putHex4(out, at + 4, a & 0xffff);
    out[at + 8] = 0x2d;
    putHex4(out, at + 9, b >>> 16);
    out[at + 13] = 0x2d;
    putHex4(out, at + 14, b & 0xffff);
    out[at + 18] = 0x2d;
    putHex4(out, at + 19, c >>> 16);
    out[at + 23] = 0x2d;
    putHex4(out, at + 24, c & 0xffff);
    putHex4(out, at + 28, d >>> 16);
    putHex4(out, at + 32, d & 0xffff);
  }
}

/** The UUID of record `index` of the entity with tag `tag` in world `seed` (see {@link IdSpace}). */
export function uuidOf(seed: number, tag: number, index: number, sub = 0): string {
  return new IdSpace(seed, tag).uuid(index, sub);
}
