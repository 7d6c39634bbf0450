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
