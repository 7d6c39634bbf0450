import type { EntityGenerator } from './entity.js';
import { localeProfile, type LocaleCode, type LocaleProfile } from './locale.js';
import { ENTITY_NAMES, entityDefinition, type EntityName, type GeneratorOf } from './registry.js';
import type { DateWindow } from './time.js';

/**
 * The data version: raised with every deliberate change of the bytes a seeded world produces,
 * so a seed written in a ticket names its version too. Served as `X-Data-Version` on every API
 * response and as `data_version` in the manifest; the history is in CHANGELOG.md.
 */
export const DATA_VERSION = 6;

/** Entities whose population a request can set directly (`?users=50000`). */
export const SIZED_ENTITIES = ['users', 'vendors', 'warehouses', 'products', 'orders', 'shops', 'suppliers', 'transactions'] as const;
export type SizedEntity = (typeof SIZED_ENTITIES)[number];
export type Sizes = Record<SizedEntity, number>;

/**
 * Populations at scale 1. Users, products and orders grow linearly with `scale`; vendors and
 * warehouses with its square root (a shop ten times larger does not have ten times the
 * warehouses).
 */
export const BASE_SIZES: Sizes = {
  users: 1000,
  vendors: 50,
  warehouses: 10,
  products: 500,
  orders: 5000,
  shops: 25,
  suppliers: 40,
  transactions: 10_000,
};
const SQRT_SCALED: ReadonlySet<SizedEntity> = new Set(['vendors', 'warehouses', 'shops', 'suppliers']);

/** The largest population any entity may have (keeps ids and offsets exact). */
export const MAX_POPULATION = 1_000_000_000;

/** Populations by scale, for requests that set no population (the usual case): one frozen object per scale. */
const sizesByScale = new Map<number, Sizes>();

/**
 * Resolves populations from a scale factor and explicit overrides. Without overrides the same
 * (frozen) object is returned for a scale, so what depends on the populations alone (the cost
 * estimate) can be kept by it for every world of that scale.
 */
export function resolveSizes(scale: number, overrides: Partial<Sizes>): Sizes {
  let plain = true;
  for (const name in overrides) if (overrides[name as SizedEntity] !== undefined) plain = false;
  if (plain) {
    let sizes = sizesByScale.get(scale);
    if (!sizes) {
      sizes = Object.freeze(scaledSizes(scale, {}));
      if (sizesByScale.size >= 64) sizesByScale.clear();
      sizesByScale.set(scale, sizes);
    }
    return sizes;
  }
  return scaledSizes(scale, overrides);
}

function scaledSizes(scale: number, overrides: Partial<Sizes>): Sizes {
  const sizes = {} as Sizes;
  for (const name of SIZED_ENTITIES) {
    const factor = SQRT_SCALED.has(name) ? Math.sqrt(scale) : scale;
    const scaled = Math.max(1, Math.round(BASE_SIZES[name] * factor));
    sizes[name] = Math.min(MAX_POPULATION, overrides[name] ?? scaled);
  }
  return sizes;
}

/** Entity-specific parameters (see EntityDefinition.params): plain JSON values. */
export type WorldParams = Readonly<Record<string, number | string | boolean>>;

/**
 * The reference generator's knobs as world parameters (docs/events.md, "knobs"). Absent means
 * the default, and a request that gives the default leaves it out, so the default world is one.
 */
export interface WorldKnobs {
  /** Expected price changes per product per 30 days (default 0.5; src/generators/price-history.ts). */
  readonly price_change_rate?: number;
  /** Share of orders that get a payment (default 1; src/generators/knobs.ts). */
  readonly payment_ratio?: number;
  /** Share of paid, not cancelled orders that are shipped (default 1). */
  readonly shipment_ratio?: number;
}
export const KNOB_DEFAULTS: Required<WorldKnobs> = { price_change_rate: 0.5, payment_ratio: 1, shipment_ratio: 1 };
/** The most `price_change_rate` may be: a change every other day on average. */
export const MAX_PRICE_CHANGE_RATE = 15;
export const KNOB_NAMES = Object.keys(KNOB_DEFAULTS) as (keyof WorldKnobs)[];

export interface WorldSpec {
  readonly seed: number;
  readonly sizes: Sizes;
  readonly locale: LocaleCode;
  readonly window: DateWindow;
  /** Parameters of the requested entity; absent or empty for most requests. */
  readonly params?: WorldParams;
  /** Knobs that differ from their defaults; absent or empty for most requests. */
  readonly knobs?: WorldKnobs;
}

/** The knobs of a query that differ from their defaults, in name order. */
export function knobsOf(query: Readonly<Partial<Record<keyof WorldKnobs, number>>>): WorldKnobs {
  const knobs: Partial<Record<keyof WorldKnobs, number>> = {};
  for (const name of KNOB_NAMES) {
    const value = query[name];
    if (value !== undefined && value !== KNOB_DEFAULTS[name]) knobs[name] = value;
  }
  return knobs;
}

/**
 * One seed, one world: the seed, the populations, the locale and the date window. Generators
 * are created on first use and shared, so parent lookups and child indexes are built once.
 *
 * @example
 * const world = World.of({ seed: 42, sizes: resolveSizes(1, {}), locale: 'en_GB', window });
 * world.generator('orders').record(537); // the same order from every endpoint, page and format
 */
export class World implements WorldSpec {
  readonly seed: number;
  readonly sizes: Sizes;
  readonly locale: LocaleCode;
  readonly window: DateWindow;
  readonly params: WorldParams;
  readonly knobs: WorldKnobs;
  readonly profile: LocaleProfile;
  private readonly generators = new Map<EntityName, EntityGenerator>();

  private constructor(spec: WorldSpec) {
    this.seed = spec.seed >>> 0;
    this.sizes = spec.sizes;
    this.locale = spec.locale;
    this.window = spec.window;
    this.params = spec.params ?? {};
    this.knobs = knobsOf(spec.knobs ?? {});
    this.profile = localeProfile(spec.locale);
  }

  /** The value of a knob in this world. */
  knob<K extends keyof WorldKnobs>(name: K): number {
    return this.knobs[name] ?? KNOB_DEFAULTS[name];
  }

  /** The world's spec, to rebuild the same world elsewhere (a precompute thread). */
  get spec(): WorldSpec {
    const { seed, sizes, locale, window, params, knobs } = this;
    return { seed, sizes, locale, window, params, ...(Object.keys(knobs).length > 0 ? { knobs } : {}) };
  }

  /** The generator of an entity in this world. */
  generator<N extends EntityName>(name: N): GeneratorOf<N> {
    let generator = this.generators.get(name);
    if (!generator) {
      generator = entityDefinition(name).create(this);
      this.generators.set(name, generator);
    }
    return generator as GeneratorOf<N>;
  }

  /** Populations of every entity, in dependency order. */
  populations(): Record<EntityName, number> {
    const out = {} as Record<EntityName, number>;
    for (const name of ENTITY_NAMES) out[name] = this.generator(name).population;
    return out;
  }

  private static readonly cache = new Map<string, World>();

  /** Structures that depend on the date window alone, shared by the worlds of that window. */
  private static readonly perWindow = new Map<string, unknown>();
  private static readonly PER_WINDOW_SIZE = 64;

  /**
   * A structure that is a function of the date window alone (e.g. the sign-up timeline), built
   * once per window and shared by every world of it: a request without a seed builds a new
   * world, and rebuilding such a structure was most of what a small page of it cost. `name`
   * must identify the function; the value must be immutable.
   *
   * @example
   * const timeline = world.byWindow('users.signups', () => new Timeline(world.window, 0, level));
   */
  byWindow<T>(name: string, build: () => T): T {
    const key = `${name}|${this.window.start}|${this.window.end}`;
    let value = World.perWindow.get(key) as T | undefined;
    if (value === undefined) {
      value = build();
      if (World.perWindow.size >= World.PER_WINDOW_SIZE) World.perWindow.delete(World.perWindow.keys().next().value as string);
      World.perWindow.set(key, value);
    }
    return value;
  }

  /**
   * The cache key of a spec. Most specs have no params or knobs: their key is written field by
   * field (a JSON.stringify of the whole spec was ~3% of a small page's CPU); the others as JSON.
   */
  private static keyOf(spec: WorldSpec): string {
    const { seed, sizes, locale, window } = spec;
    // The populations' part, written once per sizes object (worlds of a scale share theirs,
    // see resolveSizes): 27 concatenations a request less.
    let populations = World.sizesKeys.get(sizes);
    if (populations === undefined) {
      populations = '';
      for (const name of SIZED_ENTITIES) populations += `|${sizes[name]}`;
      World.sizesKeys.set(sizes, populations);
    }
    const key = `${seed}|${locale}|${window.start}|${window.end}${populations}`;
    const params = spec.params === undefined ? [] : Object.entries(spec.params);
    const knobs = spec.knobs === undefined ? {} : knobsOf(spec.knobs);
    if (params.length === 0 && Object.keys(knobs).length === 0) return key;
    params.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `${key}|${JSON.stringify([params, knobs])}`;
  }
  private static readonly sizesKeys = new WeakMap<Sizes, string>();
  private static readonly CACHE_SIZE = 16;

  /**
   * The world for a spec, shared between requests (least recently used of 16 kept), so caches
   * built for one page serve the next.
   */
  static of(spec: WorldSpec): World {
    const key = World.keyOf(spec);
    let world = World.cache.get(key);
    if (world) {
      World.cache.delete(key);
    } else {
      world = new World(spec);
      if (World.cache.size >= World.CACHE_SIZE) {
        const oldest = World.cache.keys().next().value as string;
        World.cache.delete(oldest);
      }
    }
    World.cache.set(key, world);
    return world;
  }

  /**
   * A world for a spec no later request is expected to share (a request without a seed: a new
   * random seed each time), built without the shared cache: kept there, a stream of unseeded
   * requests pushed the seeded worlds out of it (16 kept), and each request paid for its key.
   */
  static fresh(spec: WorldSpec): World {
    return new World(spec);
  }
}
