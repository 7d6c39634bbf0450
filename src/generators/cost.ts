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
  // Measured 2026-12-02 (the slowest of scales 1 and 10 in bench/served-order.js, and of the first
  // request at scale 100, its whole CPU per row): sessions 2.1, shipping 3.7, notifications 6.6,
  // inventory movements 8.9 µs per row; about twice that here (were 10, 18, 40, 35).
  sessions: { usPerRow: 5, parents: {} },
  shipping: { usPerRow: 8, parents: { orders: 1 } },
  // Measured again 2026-12-02 (bench/served-order.js, quiet machine, the slowest of scales 1, 10
  // and 100): returns 53.6, reviews 28.1, support tickets 67.2 µs per row; about twice that here.
  returns: { usPerRow: 110, parents: { orders: 1 } },
  reviews: { usPerRow: 60, parents: { orders: 1, users: 0.25 } },
  'support-tickets': { usPerRow: 140, parents: { orders: 1, users: 0.06 } },
  notifications: { usPerRow: 13, parents: { orders: 1, users: 1 } },
  // The locator of each movement's source: two tables over the orders, one over inventory rows.
  'inventory-movements': { usPerRow: 18, parents: { orders: 2, inventory: 1 } },
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

/**
 * The change feed's preparation (src/events/feed.ts prepareFeed) per record of the size it grows
 * with: microseconds of CPU and bytes at its peak. Calibrated on the shared 2-core machine
 * (docs/limits.md, "The change feed's budget"): the real preparation of scales 0.1, 1, 10 and
 * 30 timed phase by phase in one process, rounded up to bounds the measurements stay under
 * (scale 10: 2.1-2.2 s CPU, peak 32 MB live, 58 MB with garbage; scale 30: 6.9-7.3 s, peak 169
 * MB with garbage, RSS +173 MB).
 *
 * - orders: the order ledger and the units sold and returned per inventory row (one pass over
 *   the orders and their lines, 12-14 µs an order), then the review and support-ticket
 *   schedules (their times, sorted: 8-10 µs an order).
 * - inventory rows (products × warehouses): the stock schedule, every warehouse movement's
 *   time worked out and sorted (5.0-5.3 µs a row; ~4.2 movements a row, 16 bytes each kept and
 *   ~25 more while it is built and sorted, plus a 29-byte table per row: ~205 bytes a row at
 *   the peak at scale 30, garbage included).
 * - products: the time order of the price changes (on the precompute thread), by the number of
 *   changes a product has (the price_change_rate knob and the window's length; ~100 bytes a
 *   change measured with the generators it starts).
 * - users: the unverified-review and unlinked-ticket slots of the schedules.
 */
const FEED_US: Rate = { orders: 40, inventory: 8, users: 5 };
const FEED_BYTES: Rate = { orders: 60, inventory: 250, users: 16 };
/** Per product: a fixed part and a part per price change. */
const FEED_PRICE_US = { perProduct: 20, perChange: 5 };
const FEED_PRICE_BYTES = { perProduct: 8, perChange: 120 };
/** Start-up of the preparation (the generators' first calls, the code's first runs): ~0.4 s CPU at scale 1. */
const FEED_BASE_MS = 200;

/**
 * Events of a feed per record, rounded up from the counts of scales 0.1, 1 and 3 (238,448
 * events at scale 1; a scale-10 feed has 3,057,504): an order brings its lifecycle, its lines'
 * SALE movements and its sessions' clickstream; an inventory row its opening, count and
 * warehouse movements; a user the sign-up and an update.
 */
const EVENTS_PER: Rate = { orders: 45, inventory: 7, users: 2 };
/** Bytes one entry of the defects list holds: the object (216 measured at scale 1) and its JSON in the answer (179). */
const DEFECT_BYTES = 400;
/** Bytes one late event held back holds in the chaos buffer. */
const HELD_BYTES = 200;

/** A feed's chaos as far as its cost goes: the ratios and the longest lateness (ms). */
export interface FeedChaos {
  readonly late_ratio?: number | undefined;
  readonly duplicate_ratio?: number | undefined;
  readonly bad_ratio?: number | undefined;
  readonly max_lateness_ms?: number | undefined;
}

/**
 * What the change feed of `world` costs before its first event: the preparation's CPU time and
 * peak memory, from the world's sizes, knobs and window alone, without building anything. With
 * `defects`, also the list of GET /api/v1/events/defects (every chaos delivery, held until
 * answered); late events held back by the chaos count in any case. `types`, `start`, `end` and
 * pages do not change the preparation (it is the whole world's), so they do not appear here.
 *
 * @example
 * feedCost(world).ms; // ~3,800 at scale 10, ~200,000 at scale 1000
 */
export function feedCost(world: World, chaos: FeedChaos = {}, defects = false): CostEstimate {
  const { sizes } = world;
  const windowMs = world.window.end - world.window.start;
  const changesPerProduct = (Math.min(world.knob('price_change_rate'), 15) * windowMs) / (30 * 86_400_000);
  const us = add(terms(FEED_US, sizes), { ...ZERO, products: sizes.products * (FEED_PRICE_US.perProduct + FEED_PRICE_US.perChange * changesPerProduct) });
  const bytes = new Map<string, number>(Object.entries(add(terms(FEED_BYTES, sizes), { ...ZERO, products: sizes.products * (FEED_PRICE_BYTES.perProduct + FEED_PRICE_BYTES.perChange * changesPerProduct) })));
  const events = Object.values(terms(EVENTS_PER, sizes)).reduce((a, b) => a + b, 0) + sizes.products * changesPerProduct;
  const late = chaos.late_ratio ?? 0;
  // Late events wait for up to max_lateness of event time: at most the share of the feed in that span.
  const held = events * late * Math.min(1, (chaos.max_lateness_ms ?? 300_000) / windowMs);
  if (held > 0) bytes.set('late_ratio', held * HELD_BYTES);
  if (defects) {
    // Every chaos delivery is an entry; the largest ratio is the one to lower.
    const ratios: [string, number][] = [['late_ratio', late], ['duplicate_ratio', chaos.duplicate_ratio ?? 0], ['bad_ratio', chaos.bad_ratio ?? 0]];
    const total = ratios.reduce((sum, [, r]) => sum + r, 0);
    const [name] = ratios.sort((a, b) => b[1] - a[1])[0] as [string, number];
    if (total > 0) bytes.set(name, (bytes.get(name) ?? 0) + events * total * DEFECT_BYTES);
  }
  const ranked = [...bytes.entries()].sort((a, b) => b[1] - a[1]);
  const mb = ranked.reduce((sum, [, v]) => sum + v, 0) / 1e6;
  return estimate(us, new Map([['scale', FEED_BASE_MS * 1000]]), { mb, memoryDriver: (ranked[0] as [string, number])[0] });
}
