/**
 * What the change feed remembers of a world to build its rows faster gives the very rows a
 * fresh generator builds without it: the stock schedule's per-row facts and sums (the
 * warehouse movements, the opening stock, the period-close count) and the shipment's warehouse
 * drawn alone, and the products' cache started at its full size.
 */
import t from 'tap';
import { InventoryMovementGenerator } from '../../src/generators/inventory-movements.js';
import { World, resolveSizes, type WorldSpec } from '../../src/generators/world.js';

const window = { start: Date.UTC(2025, 0, 1), end: Date.UTC(2026, 0, 1) };
const specOf = (seed: number): WorldSpec => ({
  seed,
  sizes: resolveSizes(1, { users: 300, products: 120, orders: 1200, warehouses: 3 }),
  locale: 'en_US',
  window,
});

/** A scattered visit of 0..n-1 (a stride prime to n), as the feed visits rows by time. */
function scattered(n: number): number[] {
  let stride = 7919;
  while (n % stride === 0) stride += 2;
  return Array.from({ length: n }, (_, k) => (k * stride) % n);
}

for (const seed of [3, 44]) {
  t.test(`the stock schedule's remembered rows build the same movements and balances (seed ${seed})`, async (t) => {
    // Two generators of one world, each with its own memos: one never sees the schedule pass.
    const world = World.of(specOf(seed));
    const plain = new InventoryMovementGenerator(world);
    const scheduled = new InventoryMovementGenerator(world);
    const rows = world.generator('inventory').population;
    let movements = 0;
    for (let row = 0; row < rows; row++) {
      const times: number[] = [];
      const n = scheduled.stockMovementTimes(row, times);
      if (n !== plain.stockMovementCount(row)) t.equal(n, plain.stockMovementCount(row), `row ${row}: count`);
      const expected = Array.from({ length: n }, (_, k) => plain.stockMovementTime(row, k));
      if (JSON.stringify(times) !== JSON.stringify(expected)) t.same(times, expected, `row ${row}: times`);
      movements += n;
    }
    t.pass(`${rows} rows scheduled, their counts and times equal`);
    let differ = 0;
    for (const row of scattered(rows)) {
      if (scheduled.openingStock(row) !== plain.openingStock(row)) differ++;
      for (let k = 0; k < plain.stockMovementCount(row); k++) {
        if (JSON.stringify(scheduled.stockMovementOf(row, k)) !== JSON.stringify(plain.stockMovementOf(row, k))) differ++;
      }
    }
    t.equal(differ, 0, `${rows} opening stocks and ${movements} movements equal, visited out of order`);
    // And the segment GET serves, from a generator whose rows are remembered.
    const all = [...plain.range(0, plain.population)];
    t.same([...scheduled.range(0, scheduled.population)], all, 'range(0, population) equal');
  });
}

t.test("a shipment's warehouse drawn alone is the record's", async (t) => {
  const world = World.of(specOf(5));
  const shipping = world.generator('shipping');
  const warehouses = world.generator('warehouses');
  let differ = 0;
  for (let i = 0; i < shipping.population; i++) {
    if (warehouses.idOf(shipping.warehouseOf(i)) !== shipping.record(i).warehouse_id) differ++;
  }
  t.ok(shipping.population > 500, `${shipping.population} shipments`);
  t.equal(differ, 0, 'warehouseOf(i) names every shipment record’s warehouse');
});

t.test("the products' cache, started large, serves the same records in any order", async (t) => {
  const spec = { ...specOf(9), sizes: resolveSizes(1, { products: 3000 }) };
  const inOrder = [...World.of(spec).generator('products').range(0, 3000)].map((p) => JSON.stringify(p));
  const cached = World.of(spec).generator('products');
  let differ = 0;
  // Every product twice, out of order: the second visit is served from the cache.
  for (const p of [...scattered(cached.population), ...scattered(cached.population)]) {
    if (JSON.stringify(cached.record(p)) !== inOrder[p]) differ++;
  }
  t.equal(cached.population, 3000);
  t.equal(differ, 0, 'each product visited twice, out of order, equals the in-order record');
});
