import t from 'tap';
import { World, resolveSizes } from '../../src/generators/world.js';

const YEAR = { start: Date.UTC(2025, 0, 1), end: Date.UTC(2026, 0, 1) };

// Lookups that replay part of a record's draws (instead of building and caching the record)
// must agree with the record, field by field, in every locale.
for (const locale of ['en_US', 'en_GB'] as const) {
  t.test(`a user's shipping lookup is the record's address and tax (${locale})`, async (t) => {
    const world = World.of({ seed: 11, sizes: resolveSizes(1, { users: 3000 }), locale, window: YEAR });
    const users = world.generator('users');
    for (let i = 0; i < users.population; i++) {
      const user = users.record(i);
      const ship = users.shippingOf(i);
      const same =
        ship.address === user.address &&
        ship.city === user.city &&
        ship.state === user.state &&
        ship.postal_code === user.postal_code &&
        ship.country === user.country &&
        ship.taxRate === users.place(i).taxRate;
      if (!same) {
        t.same(ship, { ...user, taxRate: users.place(i).taxRate }, `user ${i}`);
        return;
      }
    }
    t.pass(`${users.population} users agree`);
  });

  t.test(`orders ship to their customer's address (${locale})`, async (t) => {
    const world = World.of({ seed: 12, sizes: resolveSizes(1, { users: 400, orders: 3000 }), locale, window: YEAR });
    const users = world.generator('users');
    const orders = world.generator('orders');
    const byId = new Map(Array.from({ length: users.population }, (_, j) => [users.idOf(j), users.record(j)] as const));
    let checked = 0;
    for (const order of orders.range(0, orders.population)) {
      const user = byId.get(order.user_id);
      if (!user) throw new Error(`order ${order.order_id} has no customer`);
      t.equal(order.shipping_address, user.address);
      t.equal(order.shipping_postal_code, user.postal_code);
      t.equal(order.shipping_city + order.shipping_state + order.shipping_country, user.city + user.state + user.country);
      checked++;
    }
    t.equal(checked, orders.population);
  });
}

t.test('the line count of an order is its plan\'s, without the plan', async (t) => {
  for (const products of [3, 5000]) {
    const world = World.of({ seed: 13, sizes: resolveSizes(1, { products, orders: 20_000 }), locale: 'en_US', window: YEAR });
    const orders = world.generator('orders');
    let differ = 0;
    for (let i = 0; i < orders.population; i++) if (orders.lineCount(i) !== orders.plan(i).lines) differ++;
    t.equal(differ, 0, `${orders.population} orders, ${products} products`);
  }
});

// Products' price table (flat typed arrays, filled on first use) answers exactly what the
// histories answer, at every change, just before it and at the window's ends; a rate of 1.5
// gives some products more changes than a slot holds (answered by the histories themselves).
for (const knobs of [{}, { price_change_rate: 1.5 }]) {
  t.test(`the products' price table agrees with the price histories ${JSON.stringify(knobs)}`, async (t) => {
    const world = World.of({ seed: 23, sizes: resolveSizes(1, { products: 1500 }), locale: 'en_GB', window: YEAR, knobs });
    const products = world.generator('products');
    let asked = 0;
    let wrong = 0;
    let long = 0;
    // Twice over, in two orders, so answers from a filled slot are checked too.
    for (const order of [(k: number) => k, (k: number) => products.population - 1 - k]) {
      for (let k = 0; k < products.population; k++) {
        const p = order(k);
        const history = products.histories.of(p);
        if (history.times.length > 16) long++;
        const moments = [YEAR.start, YEAR.end - 1, ...history.times.flatMap((at) => [at - 1, at, at + 1])];
        for (const at of moments) {
          asked++;
          if (products.priceAt(p, at) !== products.histories.priceAt(p, at)) wrong++;
        }
      }
    }
    t.equal(wrong, 0, `${asked} prices agree`);
    if ('price_change_rate' in knobs) t.ok(long > 0, `${long / 2} products have more changes than a slot holds`);
  });
}

// Order-items are built from an order's lines alone (its basket), not from the whole order:
// every line must equal the line nested in the order, in order and out of order.
for (const locale of ['en_US', 'en_GB'] as const) {
  t.test(`order-items from the basket are the lines nested in orders (${locale})`, async (t) => {
    const world = World.of({ seed: 31, sizes: resolveSizes(1, { orders: 2000, products: 300 }), locale, window: YEAR });
    const items = world.generator('order-items');
    const orders = world.generator('orders');
    const total = items.population;
    const forwards = [...items.range(0, total)];
    const backwards: unknown[] = [];
    for (let i = total - 1; i >= 0; i--) backwards.push(items.record(i));
    backwards.reverse();
    let wrong = 0;
    for (let i = 0; i < total; i++) {
      const [order, k] = items.locate(i);
      const expected = items.lineOf(orders.record(order), k);
      if (JSON.stringify(forwards[i]) !== JSON.stringify(expected) || JSON.stringify(backwards[i]) !== JSON.stringify(expected)) wrong++;
    }
    t.equal(wrong, 0, `${total} lines agree, keys in the same order`);
  });
}
