/** Money a finance team would accept: refunds within what was paid, GBP prices that look like GBP. */
import t from 'tap';
import { GBP_PER_USD, pricePoint } from '../../src/generators/products.js';
import { US_STATE_SALES_TAX } from '../../src/generators/locale.js';
import { paidForUnits } from '../../src/generators/returns.js';
import { World, resolveSizes } from '../../src/generators/world.js';
import { money } from '../../src/generators/entity.js';

const WINDOW = { start: Date.UTC(2025, 0, 1), end: Date.UTC(2026, 0, 1) };
const cents = (x: number) => Math.round(x * 100);
const worldOf = (seed: number, locale: 'en_US' | 'en_GB') =>
  World.of({ seed, sizes: resolveSizes(1, { orders: 6000, users: 800, products: 300 }), locale, window: WINDOW });

t.test('paidForUnits: the exact pro-rata share of subtotal - discount + tax, rounded down', async (t) => {
  t.equal(paidForUnits(2000, 2, 1, 5000, 500, 900), 1080, '1 of 2 units of a 20.00 line on a 50.00 order, 5.00 off, 9.00 tax');
  t.equal(paidForUnits(64099, 1, 1, 64099, 12820, 3846), 64099 - 12820 + 3846, 'the whole single-line order: all goods paid');
  t.equal(paidForUnits(1000, 3, 1, 1000, 0, 0), 333, 'rounded down, never up');
  t.equal(paidForUnits(0, 1, 1, 0, 0, 0), 0);
  // All lines refunded in full never add up to more than the goods paid.
  const lines = [333, 667, 1001];
  const sum = lines.reduce((a, l) => a + paidForUnits(l, 1, 1, 2001, 150, 371), 0);
  t.ok(sum <= 2001 - 150 + 371 && sum >= 2001 - 150 + 371 - lines.length, `lines sum to what was paid, within a cent each (${sum})`);
});

t.test('every refund <= what was paid for the returned units after discounts, and <= the payment', async (t) => {
  for (const [seed, locale] of [[42, 'en_US'], [7, 'en_GB']] as const) {
    const world = worldOf(seed, locale);
    const orders = world.generator('orders');
    const payments = world.generator('payments');
    const returns = world.generator('returns');
    const byId = new Map<string, number>();
    for (let i = 0; i < orders.population; i++) byId.set(orders.idOf(i), i);
    let bad = 0;
    let discounted = 0;
    let refunded = 0;
    for (const r of returns.range(0, returns.population)) {
      const i = byId.get(r.order_id) as number;
      const order = orders.record(i);
      const line = order.items.find((l) => l.order_item_id === r.order_item_id);
      if (!line) throw new Error('return of an unknown line');
      // Exact share in rationals: refund x subtotal x line qty <= line total x qty x (subtotal - discount + tax).
      const lhs = cents(r.refund_amount) * cents(order.subtotal) * line.quantity;
      const rhs = cents(line.total) * r.quantity * (cents(order.subtotal) - cents(order.discount) + cents(order.tax));
      if (lhs > rhs || r.refund_amount > payments.record(i).amount) bad++;
      if (order.discount > 0 && r.refund_amount > 0) discounted++;
      if (r.status === 'refunded' && r.reason !== 'changed_mind') {
        refunded++;
        t.equal(cents(r.refund_amount), paidForUnits(cents(line.total), line.quantity, r.quantity, cents(order.subtotal), cents(order.discount), cents(order.tax)));
      }
    }
    t.equal(bad, 0, `seed ${seed} ${locale}: no refund above what was paid (${returns.population} returns)`);
    t.ok(discounted > 10, `returns on discounted orders are covered (${discounted})`);
    t.ok(refunded > 50, `full refunds are covered (${refunded})`);
  }
});

t.test('pricePoint: USD as before, GBP converted and on UK price points', async (t) => {
  t.equal(pricePoint('USD', 31.7, true), 3199);
  t.equal(pricePoint('USD', 31.7, false), 3149);
  t.equal(pricePoint('GBP', 31.7, true), 2499);
  t.equal(pricePoint('GBP', 31.7, false), 2449);
  t.equal(pricePoint('GBP', 0.4, true), 99);
  t.equal(pricePoint('GBP', 190, true), 14900, '£150.10 -> £149');
  t.equal(pricePoint('GBP', 190, false), 15000, '£150.10 -> £150');
  t.equal(pricePoint('GBP', 1500, true), 118900, '£1,185 -> £1,189');
});

t.test('a GBP world prices in GBP: converted, price points, cost < price, and orders and transactions follow', async (t) => {
  const us = worldOf(11, 'en_US');
  const gb = worldOf(11, 'en_GB');
  const products = gb.generator('products');
  const ratios: number[] = [];
  for (let p = 0; p < products.population; p++) {
    const g = products.record(p);
    const u = us.generator('products').record(p);
    t.equal(g.product_id, u.product_id);
    t.equal(g.currency, 'GBP');
    const pence = cents(g.price);
    // £x.99 / £x.49 below £100; whole pounds ending in 9, 5 or 0 from about £100.
    const shape = pence % 100 === 99 || pence % 100 === 49 ? pence < 10_000 : pence % 100 === 0 && [9, 5, 0].includes((pence / 100) % 10);
    if (!shape || !(g.cost < g.price && g.cost > 0)) t.fail(`product ${p}: £${g.price} cost ${g.cost}`);
    ratios.push(g.price / u.price);
  }
  ratios.sort((a, b) => a - b);
  const median = ratios[ratios.length >> 1] as number;
  t.ok(Math.abs(median - GBP_PER_USD) < 0.03, `median £/$ ratio near ${GBP_PER_USD} (${median.toFixed(3)})`);
  t.ok(ratios.filter((r) => Math.abs(r - 1) < 1e-9).length < products.population / 20, 'prices are not relabelled dollars');

  const orders = gb.generator('orders');
  let lines = 0;
  let wrong = 0;
  for (let i = 0; i < 500; i++) {
    const order = orders.record(i);
    orders.lineProducts(i).forEach((p, k) => {
      lines++;
      if (order.items[k]?.unit_price !== money(products.priceAt(p, Date.parse(order.created_at))) || order.currency !== 'GBP') wrong++;
    });
  }
  t.equal(wrong, 0, `order line unit_price = the GBP product price when ordered (${lines} lines)`);
  const transactions = gb.generator('transactions');
  const byId = new Map<string, number>();
  for (let p = 0; p < products.population; p++) byId.set(products.idOf(p), p);
  let mismatched = 0;
  for (const tx of transactions.range(0, 2000)) {
    if (tx.unit_price !== money(products.priceAt(byId.get(tx.product_id) as number, Date.parse(tx.timestamp))) || tx.currency !== 'GBP') mismatched++;
  }
  t.equal(mismatched, 0, 'transaction unit_price = the GBP product price at its timestamp');
});

t.test('US sales tax is per state: every order of a state pays that state\'s rate; UK orders pay 20% VAT', async (t) => {
  const states = new Set<string>();
  let wrong = 0;
  const orders = worldOf(3, 'en_US').generator('orders');
  for (const o of orders.range(0, orders.population)) {
    const rate = US_STATE_SALES_TAX[o.shipping_state];
    states.add(o.shipping_state);
    if (rate === undefined || cents(o.tax) !== Math.round((cents(o.subtotal) - cents(o.discount)) * rate)) wrong++;
  }
  t.equal(wrong, 0, `tax = state rate x (subtotal - discount) on ${orders.population} orders`);
  t.ok(states.size >= 20, `orders ship to many states (${states.size})`);
  const gb = worldOf(3, 'en_GB').generator('orders');
  let vat = 0;
  for (const o of gb.range(0, 2000)) if (cents(o.tax) !== Math.round((cents(o.subtotal) - cents(o.discount)) * 0.2)) vat++;
  t.equal(vat, 0, 'UK: 20% VAT');
});

t.test('priceCents(p) is the product record\'s price, without building the record', async (t) => {
  let differ = 0;
  for (const locale of ['en_US', 'en_GB'] as const) {
    const world = World.of({ seed: 77, sizes: resolveSizes(2, {}), locale, window: { start: Date.UTC(2025, 0, 1), end: Date.UTC(2026, 0, 1) } });
    const products = world.generator('products');
    for (let p = 0; p < products.population; p++) if (products.priceCents(p) !== Math.round(products.record(p).price * 100)) differ++;
  }
  t.equal(differ, 0, 'every product of two worlds');
});

t.test("facts(p) are the product record's name, brand, SKU and weight, without building the record", async (t) => {
  let differ = 0;
  let checked = 0;
  for (const locale of ['en_US', 'en_GB'] as const) {
    const world = World.of({ seed: 78, sizes: resolveSizes(2, {}), locale, window: { start: Date.UTC(2025, 0, 1), end: Date.UTC(2026, 0, 1) } });
    const products = world.generator('products');
    // Facts first, in another order than the records (no shared state between the two ways).
    for (let p = products.population - 1; p >= 0; p--) {
      const facts = products.facts(p);
      const record = products.record(p);
      checked++;
      if (facts.name !== record.name || facts.brand !== record.brand || facts.sku !== record.sku || facts.weight !== record.weight) differ++;
    }
  }
  t.ok(checked >= 2000, `${checked} products checked`);
  t.equal(differ, 0, 'every product of two worlds');
});
