import t from 'tap';
import { World, resolveSizes } from '../../src/generators/world.js';
import { DAY } from '../../src/generators/time.js';

const window = { start: Date.UTC(2025, 0, 1), end: Date.UTC(2026, 0, 1) };
const worldOf = (seed: number, overrides: Parameters<typeof resolveSizes>[1] = {}) =>
  World.of({ seed, sizes: resolveSizes(1, { users: 400, products: 150, orders: 1500, warehouses: 3, ...overrides }), locale: 'en_US', window });

t.test('inventory-movements: segments concatenate, and any record or slice equals the full walk', async (t) => {
  const movements = worldOf(5).generator('inventory-movements');
  const all = [...movements.range(0, movements.population)];
  t.equal(all.length, movements.population, 'range(0, population) yields the population');

  const firstOf = (type: string) => all.findIndex((m) => m.movement_type === type);
  const returnsAt = firstOf('RETURN');
  const stockAt = all.findIndex((m) => m.movement_type !== 'SALE' && m.movement_type !== 'RETURN');
  t.ok(returnsAt > 0 && stockAt > returnsAt, `SALE [0, ${returnsAt}), RETURN [${returnsAt}, ${stockAt}), stock after`);
  t.ok(all.slice(0, returnsAt).every((m) => m.movement_type === 'SALE'), 'the first segment is all SALE');
  t.ok(all.slice(returnsAt, stockAt).every((m) => m.movement_type === 'RETURN'), 'the second segment is all RETURN');
  t.ok(all.slice(stockAt).every((m) => ['RESTOCK', 'DAMAGE', 'ADJUSTMENT'].includes(m.movement_type)), 'the rest is the warehouses’ own');

  const probes = [0, 1, returnsAt - 1, returnsAt, returnsAt + 1, stockAt - 1, stockAt, stockAt + 1, all.length - 1];
  for (let k = 0; k < 40; k++) probes.push(Math.floor(((k * 2654435761) % 4294967296) / 4294967296 * all.length));
  // A fresh world each time: nothing cached from the full walk helps.
  for (const i of probes) {
    const fresh = worldOf(5).generator('inventory-movements');
    t.same(fresh.record(i), all[i], `record(${i})`);
    t.same([...fresh.range(Math.max(0, i - 2), i + 3)], all.slice(Math.max(0, i - 2), i + 3), `range around ${i}`);
    t.equal(fresh.idOf(i), all[i]?.movement_id, `idOf(${i})`);
  }
  t.equal(new Set(all.map((m) => m.movement_id)).size, all.length, 'movement ids are unique');
  t.throws(() => movements.record(all.length), RangeError, 'no record past the population');
  t.throws(() => movements.record(-1), RangeError, 'no record before 0');
});

t.test('inventory-movements: ids follow what a movement mirrors, not its position', async (t) => {
  // More orders shift the stock segment's positions (more SALE lines before it), not its ids.
  const small = worldOf(9).generator('inventory-movements');
  const ids = new Set([...small.range(0, small.population)].map((m) => m.movement_id));
  const other = worldOf(9, { orders: 1600 }).generator('inventory-movements');
  const otherAll = [...other.range(0, other.population)];
  const sales = otherAll.filter((m) => m.movement_type === 'SALE').slice(0, 100);
  t.ok(sales.every((m) => ids.has(m.movement_id)), 'the first orders’ SALE ids do not change when later orders are added');
  const stock = otherAll.filter((m) => m.movement_type === 'RESTOCK').slice(0, 100);
  t.ok(stock.every((m) => ids.has(m.movement_id)), 'RESTOCK ids do not change when orders are added');
});

t.test('product-suppliers: suppliersOf agrees with the records; restocks come from them', async (t) => {
  const world = worldOf(21);
  const productSuppliers = world.generator('product-suppliers');
  const suppliers = world.generator('suppliers');
  const products = world.generator('products');
  const rows = [...productSuppliers.range(0, productSuppliers.population)];
  let at = 0;
  for (let p = 0; p < products.population; p++) {
    const offered = productSuppliers.suppliersOf(p);
    t.ok(offered.length >= 1 && offered.length <= 3 && new Set(offered).size === offered.length, `product ${p}: 1-3 distinct suppliers`);
    offered.forEach((j, k) => {
      const row = rows[at++];
      if (row?.product_id !== products.idOf(p) || row.supplier_id !== suppliers.idOf(j) || row.is_preferred !== (k === 0)) {
        t.fail(`product ${p}, supplier ${k}: record disagrees with suppliersOf`);
      }
    });
  }
  t.equal(at, rows.length, 'the records are exactly the products’ suppliers, in product order');
});

t.test('suppliers: a believable mix, lead time growing with distance', async (t) => {
  for (const locale of ['en_US', 'en_GB'] as const) {
    const world = World.of({ seed: 3, sizes: resolveSizes(1, { suppliers: 400 }), locale, window });
    const suppliers = [...world.generator('suppliers').range(0, 400)];
    const home = locale === 'en_GB' ? 'GB' : 'US';
    const atHome = suppliers.filter((s) => s.country === home);
    const abroad = suppliers.filter((s) => s.country !== home);
    const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
    t.ok(atHome.length / 400 > 0.3 && atHome.length / 400 < 0.6, `${locale}: 30-60% at home (${atHome.length})`);
    t.ok(new Set(abroad.map((s) => s.country)).size >= 8, `${locale}: many countries abroad`);
    t.ok(mean(abroad.map((s) => s.lead_time_days)) > 2 * mean(atHome.map((s) => s.lead_time_days)), `${locale}: overseas lead times are longer`);
    t.ok(suppliers.every((s) => Date.parse(s.created_at) < window.start && Date.parse(s.created_at) >= window.start - 730 * DAY), `${locale}: onboarded in the two years before the window`);
    t.ok(abroad.every((s) => s.phone_number.startsWith('+')), `${locale}: foreign phone numbers are international`);
  }
});
