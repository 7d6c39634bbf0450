import type { EntityName } from './registry.js';
import { BROWSING_SESSIONS_PER_ORDER } from './sessions.js';
import type { Sizes, World } from './world.js';

/**
 * What serving an entity of a world costs before its first row: the one-off precomputation
 * (child indexes, analytics aggregates, the time order of a dated entity's download) and, for a manifest, rendering every row once. Estimated
 * from the world's sizes alone, without building anything, so a request can be refused before
 * any work starts. The rates were measured on a 2-core machine (milliseconds per 1,000 parent
 * records); they are deliberately rough upper estimates, not a benchmark.
 */
export interface CostEstimate {
  /** Estimated CPU milliseconds of precomputation (and rendering, for a manifest). */
  readonly ms: number;
  /** Estimated memory held by the precomputed structures, in MB. */
  readonly mb: number;
  /** The world size that contributes most (a size like `orders`, or `entities`): what to lower. */
  readonly driver: string;
  /** The world size that contributes most to `mb`. */
  readonly memoryDriver: string;
}

/** Per parent record: microseconds of precomputation, by the size it grows with. */
interface Rate {
  readonly orders?: number;
  readonly users?: number;
  readonly products?: number;
  /** Per inventory row (products x warehouses). */
  readonly inventory?: number;
}

/** Precomputation a first `population` or `record` triggers (entities not listed need none). */
const PRECOMPUTE: Partial<Record<EntityName, Rate>> = {
  'product-suppliers': { products: 3 },
  // The time order of the price changes: every product's history, then a sort (~40 us per product measured).
  'price-changes': { products: 50 },
  'order-items': { orders: 9 },
  shipping: { orders: 7 },
  returns: { orders: 8 },
  reviews: { orders: 16 },
  'support-tickets': { orders: 4 },
  notifications: { orders: 13, users: 2 },
  'inventory-movements': { orders: 16, inventory: 5 },
  clickstream: { orders: 8 },
  // One pass over orders, returns, reviews, sessions and their clickstream, plus id maps.
  'analytics/users': { orders: 140, users: 2, products: 2 },
  'analytics/products': { orders: 140, users: 2, products: 2 },
};

/**
 * The time order of a dated entity's download (src/generators/served-order.ts): microseconds per
 * row to work out each row's time and sort, the slowest of scales 1, 10 and 100 measured on the
 * shared 2-core machine (docs/time.md; rounded up), and the parents whose first-child table it keeps (4 bytes each,
 * plus 4 per row for the permutation itself).
 */
const SERVED: Partial<Record<EntityName, { readonly usPerRow: number; readonly parents: Rate }>> = {
  sessions: { usPerRow: 10, parents: {} },
  shipping: { usPerRow: 18, parents: { orders: 1 } },
  returns: { usPerRow: 170, parents: { orders: 1 } },
  reviews: { usPerRow: 170, parents: { orders: 1, users: 0.25 } },
  'support-tickets': { usPerRow: 300, parents: { orders: 1, users: 0.06 } },
  notifications: { usPerRow: 40, parents: { orders: 1, users: 1 } },
  // The locator of each movement's source: two tables over the orders, one over inventory rows.
  'inventory-movements': { usPerRow: 35, parents: { orders: 2, inventory: 1 } },
  wishlists: { usPerRow: 6, parents: { users: 1 } },
};
const SERVED_BYTES_PER_ENTRY = 4;

/** Time (µs) and memory (bytes) of the time orders of `entities`, by the size they grow with. */
function servedTerms(entities: readonly EntityName[], sizes: Sizes): { us: Terms; bytes: Terms } {
  let us = ZERO;
  let bytes = ZERO;
  for (const entity of entities) {
    const served = SERVED[entity];
    if (!served) continue;
    const rows = terms(ROWS_PER[entity], sizes);
    const parents = terms(served.parents, sizes);
    us = add(us, scaled(rows, served.usPerRow));
    bytes = add(bytes, scaled(add(rows, parents), SERVED_BYTES_PER_ENTRY));
  }
  return { us, bytes };
}

/** Bytes held per user and per product by the analytics aggregates (typed arrays + id maps). */
const AGGREGATE_BYTES_PER_USER = 180;
const AGGREGATE_BYTES_PER_PRODUCT = 180;

/** Rows of child entities per parent, measured on the default world (for manifests). */
const ROWS_PER: Partial<Record<EntityName, Rate>> = {
  'product-suppliers': { products: 2 },
  // At the default price_change_rate (0.5 per 30 days) over a year.
  'price-changes': { products: 6 },
  'order-items': { orders: 2.3 },
  shipping: { orders: 1 },
  returns: { orders: 0.1 },
  reviews: { orders: 0.3 },
  'support-tickets': { orders: 0.15 },
  wishlists: { users: 2 },
  notifications: { orders: 5.5 },
  'inventory-movements': { orders: 2.5, inventory: 3 },
  sessions: { orders: 1 + BROWSING_SESSIONS_PER_ORDER },
  clickstream: { orders: 6.5 * (1 + BROWSING_SESSIONS_PER_ORDER) },
};

/** Microseconds to generate and render one row as CSV and hash it (manifest). */
const RENDER_US_PER_ROW = 35;
/** Microseconds per order of the manifest's key sums (orders, payments, returns). */
const TOTALS_US_PER_ORDER = 40;

const terms = (rate: Rate | undefined, sizes: Sizes) => ({
  orders: (rate?.orders ?? 0) * sizes.orders,
  users: (rate?.users ?? 0) * sizes.users,
  products: (rate?.products ?? 0) * sizes.products,
  warehouses: (rate?.inventory ?? 0) * sizes.products * sizes.warehouses,
});

type Terms = ReturnType<typeof terms>;
const add = (a: Terms, b: Terms): Terms => ({
  orders: a.orders + b.orders,
  users: a.users + b.users,
  products: a.products + b.products,
  warehouses: a.warehouses + b.warehouses,
});
const ZERO: Terms = { orders: 0, users: 0, products: 0, warehouses: 0 };
const scaled = (a: Terms, factor: number): Terms => ({
  orders: a.orders * factor,
  users: a.users * factor,
  products: a.products * factor,
  warehouses: a.warehouses * factor,
});

/** Memory held by the precomputed structures: analytics aggregates and time orders. */
function aggregateMb(entities: readonly EntityName[], sizes: Sizes): { mb: number; memoryDriver: string } {
  let bytes = servedTerms(entities, sizes).bytes;
  if (entities.some((e) => e === 'analytics/users' || e === 'analytics/products')) {
    bytes = add(bytes, { ...ZERO, users: sizes.users * AGGREGATE_BYTES_PER_USER, products: sizes.products * AGGREGATE_BYTES_PER_PRODUCT });
  }
  const ranked = Object.entries(bytes).sort((a, b) => b[1] - a[1]);
  const total = ranked.reduce((sum, [, v]) => sum + v, 0);
  return { mb: total / 1e6, memoryDriver: total > 0 ? (ranked[0] as [string, number])[0] : 'users' };
}

function estimate(us: Terms, extra: ReadonlyMap<string, number>, { mb, memoryDriver }: { mb: number; memoryDriver: string }): CostEstimate {
  const ranked: [string, number][] = [...Object.entries(us), ...extra.entries()];
  ranked.sort((a, b) => b[1] - a[1]);
  const total = ranked.reduce((sum, [, v]) => sum + v, 0);
  return { ms: total / 1000, mb, driver: (ranked[0] as [string, number])[0], memoryDriver };
}

/** What a GET of `entity` (or a sink sending `entities`) precomputes in a world of `sizes`. */
export function precomputeCost(entities: readonly EntityName[], sizes: Sizes): CostEstimate {
  const us = entities.reduce((sum, e) => add(sum, terms(PRECOMPUTE[e], sizes)), servedTerms(entities, sizes).us);
  return estimate(us, new Map(), aggregateMb(entities, sizes));
}

/** The size a flat entity's population follows. */
const FLAT_DRIVER: Partial<Record<EntityName, keyof Terms>> = {
  orders: 'orders',
  payments: 'orders',
  users: 'users',
  'analytics/users': 'users',
  products: 'products',
  'analytics/products': 'products',
  inventory: 'warehouses',
};

/**
 * What a manifest of `entities` costs: their precomputation, the key sums, and generating,
 * rendering and hashing every row. Populations that are cheap to know are read from the world;
 * those behind a child index are estimated from the parents.
 */
export function manifestCost(entities: readonly EntityName[], world: World): CostEstimate {
  const { sizes } = world;
  let us = add(terms({ orders: TOTALS_US_PER_ORDER }, sizes), servedTerms(entities, sizes).us);
  const extra = new Map<string, number>();
  for (const entity of entities) {
    us = add(us, terms(PRECOMPUTE[entity], sizes));
    const per = ROWS_PER[entity];
    if (per) {
      const rows = terms(per, sizes);
      us = add(us, { orders: rows.orders * RENDER_US_PER_ROW, users: rows.users * RENDER_US_PER_ROW, products: rows.products * RENDER_US_PER_ROW, warehouses: rows.warehouses * RENDER_US_PER_ROW });
      continue;
    }
    // Flat entities know their population without precomputation.
    const rowsUs = world.generator(entity).population * RENDER_US_PER_ROW;
    const driver = FLAT_DRIVER[entity];
    if (driver) us = add(us, { ...ZERO, [driver]: rowsUs });
    else {
      // Sized on their own (transactions, vendors...), or by entity parameters (performance-events).
      const name = entity in sizes ? entity : 'entities';
      extra.set(name, (extra.get(name) ?? 0) + rowsUs);
    }
  }
  return estimate(us, extra, aggregateMb(entities, sizes));
}
