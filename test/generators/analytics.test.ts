/**
 * The analytics aggregates are sums over the served records: the lean passes (reviews' ratings
 * and the products sessions view, read without building records or scripts) count what the
 * records show, and the parts computed on precompute threads and merged equal one in-process pass.
 */
import t from 'tap';
import { WorldAggregates, aggregatePart, aggregateParts, mergeAggregatePart } from '../../src/generators/analytics.js';
import { World, resolveSizes } from '../../src/generators/world.js';
import { prepareEntity, retainPrecompute } from '../../src/precompute/prepare.js';
import { precomputed } from '../../src/generators/child-index.js';

const WINDOW = { start: Date.UTC(2025, 0, 1), end: Date.UTC(2026, 0, 1) };
const cents = (amount: number) => Math.round(amount * 100);

t.test('every aggregate equals the sum over the served records of a small world', async (t) => {
  const world = World.of({ seed: 11, sizes: resolveSizes(0.2, {}), locale: 'en_US', window: WINDOW });
  const users = world.generator('users');
  const products = world.generator('products');
  const userIndex = new Map(Array.from({ length: users.population }, (_, j) => [users.idOf(j), j] as const));
  const productIndex = new Map(Array.from({ length: products.population }, (_, p) => [products.idOf(p), p] as const));
  const U = users.population;
  const P = products.population;
  const expected = {
    userOrders: new Float64Array(U), userCancelled: new Float64Array(U), userSpentCents: new Float64Array(U), userUnits: new Float64Array(U),
    userReturns: new Float64Array(U), userRefundCents: new Float64Array(U), userReviews: new Float64Array(U), userSessions: new Float64Array(U),
    productUnits: new Float64Array(P), productRevenueCents: new Float64Array(P), productOrders: new Float64Array(P), productReturns: new Float64Array(P),
    productUnitsReturned: new Float64Array(P), productReviews: new Float64Array(P), productRatingSum: new Float64Array(P), productViews: new Float64Array(P),
    productCartAdds: new Float64Array(P),
  };
  const orders = world.generator('orders');
  for (const order of orders.range(0, orders.population)) {
    const u = userIndex.get(order.user_id) as number;
    expected.userOrders[u]! += 1;
    if (order.status === 'cancelled') {
      expected.userCancelled[u]! += 1;
      continue;
    }
    expected.userSpentCents[u]! += cents(order.total);
    for (const line of order.items) {
      const p = productIndex.get(line.product_id) as number;
      expected.userUnits[u]! += line.quantity;
      expected.productUnits[p]! += line.quantity;
      expected.productRevenueCents[p]! += cents(line.total);
      expected.productOrders[p]! += 1;
    }
  }
  const returns = world.generator('returns');
  for (const item of returns.range(0, returns.population)) {
    const u = userIndex.get(item.user_id) as number;
    const p = productIndex.get(item.product_id) as number;
    expected.userReturns[u]! += 1;
    expected.userRefundCents[u]! += cents(item.refund_amount);
    expected.productReturns[p]! += 1;
    expected.productUnitsReturned[p]! += item.quantity;
  }
  const reviews = world.generator('reviews');
  for (const review of reviews.range(0, reviews.population)) {
    const p = productIndex.get(review.product_id) as number;
    expected.userReviews[userIndex.get(review.user_id) as number]! += 1;
    expected.productReviews[p]! += 1;
    expected.productRatingSum[p]! += review.rating;
  }
  const sessions = world.generator('sessions');
  for (const session of sessions.range(0, sessions.population)) {
    if (session.user_id !== null) expected.userSessions[userIndex.get(session.user_id) as number]! += 1;
  }
  const clickstream = world.generator('clickstream');
  let views = 0;
  for (const event of clickstream.range(0, clickstream.population)) {
    if (event.product_id === null) continue;
    const p = productIndex.get(event.product_id) as number;
    if (event.event_type === 'PRODUCT_VIEW') {
      expected.productViews[p]! += 1;
      views++;
    } else if (event.event_type === 'CART_ADD') expected.productCartAdds[p]! += 1;
  }
  t.ok(views > 1000 && reviews.population > 50 && returns.population > 20, 'the world has views, reviews and returns to count');

  const aggregates = WorldAggregates.of(world);
  for (const [field, values] of Object.entries(expected)) {
    t.same([...(aggregates[field as keyof typeof expected] as Iterable<number>)], [...values], field);
  }
});

t.test('parts computed on the precompute threads and merged equal one in-process pass', async (t) => {
  const release = retainPrecompute();
  t.teardown(release);
  const spec = { seed: 12, sizes: resolveSizes(1, {}), locale: 'en_US' as const, window: WINDOW };
  const threaded = World.of(spec);
  await prepareEntity(threaded, 'analytics/products');
  t.ok(precomputed(threaded).has('aggregates:productViews'), 'installed by the precompute threads');
  // The same parts, here, one after another (a part computes from the records, not the store).
  const arrays = {};
  for (const part of aggregateParts(threaded)) mergeAggregatePart(arrays, aggregatePart(threaded, part));
  for (const [field, array] of Object.entries(arrays)) {
    t.same([...(precomputed(threaded).get(`aggregates:${field}`) as Iterable<number>)], [...(array as Iterable<number>)], field);
  }
  t.equal(threaded.generator('analytics/users').record(0).orders_count, (arrays as { userOrders: Int32Array }).userOrders[0], 'the rows read the installed arrays');
});

t.test("an order's charged basket and total are the served order's, promotions and other currencies included", async (t) => {
  for (const locale of ['en_US', 'en_GB'] as const) {
    const world = World.of({ seed: 13, sizes: resolveSizes(0.2, {}), locale, window: WINDOW });
    const orders = world.generator('orders');
    let promoted = 0;
    let mismatches = 0;
    for (let i = 0; i < orders.population; i++) {
      const order = orders.record(i);
      const { basket, totalCents } = orders.charged(i);
      if (order.promotion_id !== null) promoted++;
      const lines = order.items.map((line) => [line.quantity, cents(line.unit_price)]);
      const drawn = basket.products.map((_, k) => [basket.quantities[k], basket.unitCents[k]]);
      if (totalCents !== cents(order.total) || JSON.stringify(lines) !== JSON.stringify(drawn) || JSON.stringify(basket.products) !== JSON.stringify(orders.lineProducts(i))) mismatches++;
    }
    t.ok(promoted > 10, `${locale}: some orders carry a promotion (${promoted})`);
    t.equal(mismatches, 0, `${locale}: every order of ${orders.population}`);
  }
});
