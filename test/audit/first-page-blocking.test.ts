import t from 'tap';
import { precomputed } from '../../src/generators/child-index.js';
import { World, resolveSizes, type WorldSpec } from '../../src/generators/world.js';
import type { PerformanceEventGenerator } from '../../src/generators/performance-events.js';
import { prepareEntity, preparedOnLoop, retainPrecompute } from '../../src/precompute/prepare.js';

// The first page of an entity for a new world must not run a pass over the world's orders on
// the event loop: what the page needs is built by a precompute thread and installed
// (src/precompute/prepare.ts). The reviews' suppression (one customer, one review per product)
// and the inventory movements' order ledger, stock index and stock flows used to be rebuilt on
// the main thread at the first record (0.15-0.55 s with the loop held). Asserted by what the
// main thread does (how many orders it plans), never by timing.

const WINDOW = { start: Date.UTC(2025, 0, 1), end: Date.UTC(2026, 0, 1) };
const specOf = (seed: number): WorldSpec => ({ seed, sizes: resolveSizes(3, {}), locale: 'en_US', window: WINDOW });
/** A record's lookup scans at most a block of parents (1024) of a child index or ledger. */
const BLOCK = 1024;

/** Counts the order plans this thread makes from now on (every pass over the orders makes one per order). */
function countPlans(world: World): { readonly calls: number } {
  const orders = world.generator('orders');
  const plan = orders.plan.bind(orders);
  const counter = { calls: 0 };
  orders.plan = (i: number) => {
    counter.calls++;
    return plan(i);
  };
  return counter;
}

const shared = (array: unknown) => (array as { buffer?: unknown } | undefined)?.buffer instanceof SharedArrayBuffer;

t.test('reviews: after the precompute thread, the suppression is installed, not rebuilt', async (t) => {
  const release = retainPrecompute();
  t.teardown(release);
  const spec = specOf(1601);
  const world = World.of(spec);
  await prepareEntity(world, 'reviews');
  const store = precomputed(world);
  t.ok(shared(store.get('reviews.suppressed-lines')) && shared(store.get('reviews.suppressed-slots')), 'the suppression arrived in shared memory');
  const reviews = world.generator('reviews');
  t.equal(reviews.prepareSuppression(1), true, 'complete before any record is built (a build would take one order)');
  const plans = countPlans(world);
  const population = reviews.population;
  const indexes = [0, 1, Math.floor(population / 2), population - 1];
  const records = indexes.map((i) => reviews.record(i));
  t.ok(plans.calls <= 2 * BLOCK * indexes.length, `${plans.calls} order plans for ${indexes.length} records, not a pass over ${world.sizes.orders} orders`);

  // The very records a world that builds everything on this thread serves.
  const local = World.fresh(spec).generator('reviews');
  t.equal(population, local.population, 'same population');
  t.strictSame(records, indexes.map((i) => local.record(i)), 'same records');
  t.ok(records.some((r) => !r.is_verified) && records.some((r) => r.is_verified), 'verified and unverified ones');
});

t.test('inventory movements: the ledger, stock index and flows are installed, not rebuilt', async (t) => {
  const release = retainPrecompute();
  t.teardown(release);
  const spec = specOf(2501);
  const world = World.of(spec);
  await prepareEntity(world, 'inventory-movements');
  const store = precomputed(world);
  for (const key of [
    'inventory-movements.ledger.sale',
    'inventory-movements.ledger.ship',
    'inventory-movements.ledger.return',
    'inventory-movements.ledger.accepted',
    'inventory-movements.sold',
    'inventory-movements.returned',
    'child:inventory-movements.stock',
  ]) {
    t.ok(shared(store.get(key)), `${key} arrived in shared memory`);
  }
  const movements = world.generator('inventory-movements');
  t.equal(movements.prepareFlows(1), true, 'flows complete before any record is built (a build would take one order)');
  const plans = countPlans(world);
  const population = movements.population;
  t.equal(plans.calls, 0, 'no order planned for the population');
  // A sale, then the first return, a warehouse movement and the period-close count (the last, which needs the flows).
  const local = World.fresh(spec).generator('inventory-movements');
  let [lo, hi] = [0, population - 1];
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (local.record(mid).movement_type === 'SALE') lo = mid + 1;
    else hi = mid;
  }
  const firstReturn = lo;
  const indexes = [0, firstReturn, population - 2, population - 1];
  const records = indexes.map((i) => movements.record(i));
  t.ok(plans.calls <= 2 * BLOCK * indexes.length, `${plans.calls} order plans for ${indexes.length} records, not a pass over ${world.sizes.orders} orders`);
  t.equal(population, local.population, 'same population');
  t.strictSame(records, indexes.map((i) => local.record(i)), 'same records');
  t.strictSame(
    records.map((m) => m.movement_type),
    ['SALE', 'RETURN', records[2]?.movement_type, 'ADJUSTMENT'],
    'a sale, a return, a warehouse movement, the period-close count',
  );
});

t.test("performance-events: a new world's per-minute schedule is built on the precompute thread and installed", async (t) => {
  const release = retainPrecompute();
  t.teardown(release);
  // 30 days: 43,200 minutes, one keyed draw each (~0.1 s on the event loop before).
  const spec = { ...specOf(3301), params: { days: 30 } };
  const world = World.of(spec);
  t.notOk(preparedOnLoop(world, 'performance-events'), 'too much for the event loop');
  await prepareEntity(world, 'performance-events');
  const store = precomputed(world);
  const keys = ['performance-events.prefix', 'performance-events.error-rate', 'performance-events.load'];
  for (const key of keys) t.ok(shared(store.get(key)), `${key} arrived in shared memory`);
  const installed = keys.map((key) => store.get(key));
  const events = world.generator('performance-events') as PerformanceEventGenerator;
  t.ok(
    keys.every((key, k) => store.get(key) === installed[k]),
    'the generator took the installed arrays (it would have put its own in the store)',
  );
  const local = World.fresh(spec).generator('performance-events') as PerformanceEventGenerator;
  t.equal(events.population, local.population, `same population (${events.population})`);
  const indexes = [0, 1, Math.floor(events.population / 3), events.population - 1];
  t.strictSame(indexes.map((i) => events.record(i)), indexes.map((i) => local.record(i)), 'same records');
  t.strictSame(events.incidents(), local.incidents(), 'same incidents');
});
