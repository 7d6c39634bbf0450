/** What a real shop publishes: one review per customer and product, verified iff they ordered it. */
import t from 'tap';
import { World, resolveSizes } from '../../src/generators/world.js';

const WINDOW = { start: Date.UTC(2025, 0, 1), end: Date.UTC(2026, 0, 1) };

t.test('one review per (user, product); verified iff the user ordered the product before the review', async (t) => {
  for (const [seed, sizes] of [
    [8, { users: 300, products: 40, orders: 6000 }],
    [9, { users: 1000, products: 500, orders: 5000 }],
  ] as const) {
    const world = World.of({ seed, sizes: resolveSizes(1, sizes), locale: 'en_US', window: WINDOW });
    const orders = world.generator('orders');
    const products = world.generator('products');
    const users = world.generator('users');
    // Earliest order time of each (user, product).
    const firstOrder = new Map<string, number>();
    for (let o = 0; o < orders.population; o++) {
      const plan = orders.plan(o);
      for (const p of orders.lineProducts(o)) {
        const key = `${users.idOf(plan.user)}|${products.idOf(p)}`;
        firstOrder.set(key, Math.min(firstOrder.get(key) ?? Infinity, plan.createdAt));
      }
    }
    const reviews = world.generator('reviews');
    const seen = new Set<string>();
    let duplicates = 0;
    let wrong = 0;
    let verified = 0;
    for (const r of reviews.range(0, reviews.population)) {
      const key = `${r.user_id}|${r.product_id}`;
      if (seen.has(key)) duplicates++;
      seen.add(key);
      if (r.is_verified) verified++;
      if (r.is_verified !== (firstOrder.get(key) ?? Infinity) < Date.parse(r.created_at)) wrong++;
    }
    t.equal(duplicates, 0, `seed ${seed}: no second review of a product by one customer (${reviews.population} reviews)`);
    t.equal(wrong, 0, `seed ${seed}: verified iff ordered before`);
    t.ok(verified > 50 && verified < reviews.population, `both kinds present (${verified} verified)`);
  }
});
