import type { ProductAnalytics, UserAnalytics } from '../schemas/analytics.js';
import { EntityGenerator, cents, money } from './entity.js';
import { iso } from './time.js';
import type { World } from './world.js';
import { precomputed } from './child-index.js';

/** The aggregate arrays, by field: what a precompute thread hands over (see precomputed()). */
const FIELDS = [
  'userOrders', 'userCancelled', 'userSpentCents', 'userUnits', 'userFirst', 'userLast', 'userReturns', 'userRefundCents', 'userReviews', 'userSessions',
  'productUnits', 'productRevenueCents', 'productOrders', 'productReturns', 'productUnitsReturned', 'productReviews', 'productRatingSum', 'productViews', 'productCartAdds',
] as const;

/**
 * Aggregates of one world, computed once from its records and shared by both analytics
 * endpoints. Cost: one pass over orders, returns, reviews, sessions and clickstream (the
 * bench measures it); memory: a few typed arrays per user and product plus id lookups.
 */
export class WorldAggregates {
  private static readonly cache = new WeakMap<World, WorldAggregates>();

  readonly userOrders: Int32Array;
  readonly userCancelled: Int32Array;
  readonly userSpentCents: Float64Array;
  readonly userUnits: Int32Array;
  readonly userFirst: Float64Array;
  readonly userLast: Float64Array;
  readonly userReturns: Int32Array;
  readonly userRefundCents: Float64Array;
  readonly userReviews: Int32Array;
  readonly userSessions: Int32Array;

  readonly productUnits: Int32Array;
  readonly productRevenueCents: Float64Array;
  readonly productOrders: Int32Array;
  readonly productReturns: Int32Array;
  readonly productUnitsReturned: Int32Array;
  readonly productReviews: Int32Array;
  readonly productRatingSum: Float64Array;
  readonly productViews: Int32Array;
  readonly productCartAdds: Int32Array;

  static of(world: World): WorldAggregates {
    let aggregates = WorldAggregates.cache.get(world);
    if (!aggregates) {
      const store = precomputed(world);
      if (FIELDS.every((field) => store.has(`aggregates:${field}`))) {
        // Computed on a precompute thread: adopt its arrays.
        aggregates = Object.create(WorldAggregates.prototype) as WorldAggregates;
        for (const field of FIELDS) Object.assign(aggregates, { [field]: store.get(`aggregates:${field}`) });
      } else {
        aggregates = new WorldAggregates(world);
        for (const field of FIELDS) store.set(`aggregates:${field}`, aggregates[field]);
      }
      WorldAggregates.cache.set(world, aggregates);
    }
    return aggregates;
  }

  private constructor(world: World) {
    const users = world.generator('users');
    const products = world.generator('products');
    const U = users.population;
    const P = products.population;
    this.userOrders = new Int32Array(U);
    this.userCancelled = new Int32Array(U);
    this.userSpentCents = new Float64Array(U);
    this.userUnits = new Int32Array(U);
    this.userFirst = new Float64Array(U).fill(Infinity);
    this.userLast = new Float64Array(U).fill(-Infinity);
    this.userReturns = new Int32Array(U);
    this.userRefundCents = new Float64Array(U);
    this.userReviews = new Int32Array(U);
    this.userSessions = new Int32Array(U);
    this.productUnits = new Int32Array(P);
    this.productRevenueCents = new Float64Array(P);
    this.productOrders = new Int32Array(P);
    this.productReturns = new Int32Array(P);
    this.productUnitsReturned = new Int32Array(P);
    this.productReviews = new Int32Array(P);
    this.productRatingSum = new Float64Array(P);
    this.productViews = new Int32Array(P);
    this.productCartAdds = new Int32Array(P);

    // Orders: indexes come straight from the order plans, no id lookups needed.
    const orders = world.generator('orders');
    for (let i = 0; i < orders.population; i++) {
      const plan = orders.plan(i);
      const order = orders.record(i);
      const u = plan.user;
      this.userOrders[u]! += 1;
      this.userFirst[u] = Math.min(this.userFirst[u]!, plan.createdAt);
      this.userLast[u] = Math.max(this.userLast[u]!, plan.createdAt);
      if (plan.status === 'cancelled') {
        this.userCancelled[u]! += 1;
        continue;
      }
      this.userSpentCents[u]! += cents(order.total);
      const lineProducts = orders.lineProducts(i);
      order.items.forEach((line, k) => {
        const p = lineProducts[k] as number;
        this.userUnits[u]! += line.quantity;
        this.productUnits[p]! += line.quantity;
        this.productRevenueCents[p]! += cents(line.total);
        this.productOrders[p]! += 1;
      });
    }

    // The other entities name their parents by id.
    const userIndex = new Map<string, number>();
    for (let j = 0; j < U; j++) userIndex.set(users.idOf(j), j);
    const productIndex = new Map<string, number>();
    for (let p = 0; p < P; p++) productIndex.set(products.idOf(p), p);
    const userOf = (id: string | null) => (id === null ? -1 : (userIndex.get(id) ?? -1));
    const productOf = (id: string | null) => (id === null ? -1 : (productIndex.get(id) ?? -1));

    const returns = world.generator('returns');
    for (const item of returns.range(0, returns.population)) {
      const u = userOf(item.user_id);
      const p = productOf(item.product_id);
      this.userReturns[u]! += 1;
      this.userRefundCents[u]! += cents(item.refund_amount);
      this.productReturns[p]! += 1;
      this.productUnitsReturned[p]! += item.quantity;
    }
    const reviews = world.generator('reviews');
    for (const review of reviews.range(0, reviews.population)) {
      const p = productOf(review.product_id);
      this.userReviews[userOf(review.user_id)]! += 1;
      this.productReviews[p]! += 1;
      this.productRatingSum[p]! += review.rating;
    }
    // Sessions and their clickstream through their plans and scripts: indexes, no records.
    const sessions = world.generator('sessions');
    for (let i = 0; i < sessions.population; i++) {
      const u = sessions.plan(i).user;
      if (u >= 0) this.userSessions[u]! += 1;
      for (const event of sessions.script(i)) {
        if (event.product < 0) continue;
        if (event.type === 'PRODUCT_VIEW') this.productViews[event.product]! += 1;
        else if (event.type === 'CART_ADD') this.productCartAdds[event.product]! += 1;
      }
    }
  }
}

const round = (x: number, digits: number) => Math.round(x * 10 ** digits) / 10 ** digits;

/**
 * `analytics/users`: row i summarises user i. Computed, never drawn: each row equals the
 * aggregate of the raw records (orders, returns, reviews, sessions) of the same world.
 *
 * @example
 * new UserAnalyticsGenerator(world).record(0).orders_count; // = orders of user 0 in /orders
 */
export class UserAnalyticsGenerator extends EntityGenerator<UserAnalytics> {
  readonly population: number;

  constructor(world: World) {
    super(world, 'analytics/users');
    this.population = world.generator('users').population;
  }

  override idOf(i: number): string {
    return this.world.generator('users').idOf(i);
  }

  record(i: number): UserAnalytics {
    const a = WorldAggregates.of(this.world);
    const orders = a.userOrders[i] as number;
    const live = orders - (a.userCancelled[i] as number);
    const spent = a.userSpentCents[i] as number;
    return {
      user_id: this.idOf(i),
      orders_count: orders,
      cancelled_orders: a.userCancelled[i] as number,
      total_spent: money(spent),
      average_order_value: live > 0 ? money(Math.round(spent / live)) : 0,
      items_purchased: a.userUnits[i] as number,
      first_order_at: orders > 0 ? iso(a.userFirst[i] as number) : null,
      last_order_at: orders > 0 ? iso(a.userLast[i] as number) : null,
      returns_count: a.userReturns[i] as number,
      refunded_amount: money(a.userRefundCents[i] as number),
      reviews_count: a.userReviews[i] as number,
      sessions_count: a.userSessions[i] as number,
    };
  }
}

/**
 * `analytics/products`: row p summarises product p from orders, returns, reviews and clickstream.
 *
 * @example
 * new ProductAnalyticsGenerator(world).record(0).units_sold; // = units of product 0 on live orders
 */
export class ProductAnalyticsGenerator extends EntityGenerator<ProductAnalytics> {
  readonly population: number;

  constructor(world: World) {
    super(world, 'analytics/products');
    this.population = world.generator('products').population;
  }

  override idOf(i: number): string {
    return this.world.generator('products').idOf(i);
  }

  record(p: number): ProductAnalytics {
    const a = WorldAggregates.of(this.world);
    const units = a.productUnits[p] as number;
    const reviews = a.productReviews[p] as number;
    const views = a.productViews[p] as number;
    const orders = a.productOrders[p] as number;
    return {
      product_id: this.idOf(p),
      units_sold: units,
      revenue: money(a.productRevenueCents[p] as number),
      orders_count: orders,
      returns_count: a.productReturns[p] as number,
      units_returned: a.productUnitsReturned[p] as number,
      return_rate: units > 0 ? round((a.productUnitsReturned[p] as number) / units, 4) : 0,
      review_count: reviews,
      average_rating: reviews > 0 ? round((a.productRatingSum[p] as number) / reviews, 2) : null,
      views,
      cart_adds: a.productCartAdds[p] as number,
      conversion_rate: views > 0 ? round(orders / views, 4) : null,
    };
  }
}
