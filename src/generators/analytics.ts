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
export type AggregateField = (typeof FIELDS)[number];
type Arrays = Partial<Record<AggregateField, Int32Array | Float64Array>>;

/**
 * The passes the aggregates are made of, each filling its own fields from one entity. A pass
 * over a range of sessions fills partial counts, summed with the other ranges'. They are
 * independent, so precompute threads run them side by side (src/precompute/prepare.ts).
 */
export type AggregatePart =
  | { readonly pass: 'orders' }
  | { readonly pass: 'returns' }
  | { readonly pass: 'reviews' }
  | { readonly pass: 'sessions'; readonly from: number; readonly to: number };

/**
 * Ranges the sessions pass (the largest) is cut into, picked up by whichever thread is free.
 * Few, whatever the world's size: each range's counts are summed on the event loop, an
 * addition per user and product.
 */
const SESSION_PARTS = 3;

/**
 * The parts of a world's aggregates, the largest first by measured CPU at scale 10 (reviews
 * ~0.35 s, returns ~0.25 s, orders ~0.15 s, each sessions range ~0.15 s), so that the two
 * threads taking whichever comes next finish at about the same time.
 */
export function aggregateParts(world: World): AggregatePart[] {
  const sessions = world.generator('sessions').population;
  const ranges: AggregatePart[] = [];
  const count = Math.max(1, Math.min(SESSION_PARTS, sessions));
  for (let k = 0; k < count; k++) {
    ranges.push({ pass: 'sessions', from: Math.floor((k * sessions) / count), to: Math.floor(((k + 1) * sessions) / count) });
  }
  return [{ pass: 'reviews' }, { pass: 'returns' }, { pass: 'orders' }, ...ranges];
}

/** Runs one part of the aggregates of `world`: the arrays of the fields it fills. */
export function aggregatePart(world: World, part: AggregatePart): Arrays {
  const U = world.generator('users').population;
  const P = world.generator('products').population;
  switch (part.pass) {
    case 'orders': {
      const userOrders = new Int32Array(U);
      const userCancelled = new Int32Array(U);
      const userSpentCents = new Float64Array(U);
      const userUnits = new Int32Array(U);
      const userFirst = new Float64Array(U).fill(Infinity);
      const userLast = new Float64Array(U).fill(-Infinity);
      const productUnits = new Int32Array(P);
      const productRevenueCents = new Float64Array(P);
      const productOrders = new Int32Array(P);
      // Indexes come straight from the order plans, no id lookups needed.
      const orders = world.generator('orders');
      for (let i = 0; i < orders.population; i++) {
        const plan = orders.plan(i);
        const u = plan.user;
        userOrders[u]! += 1;
        userFirst[u] = Math.min(userFirst[u]!, plan.createdAt);
        userLast[u] = Math.max(userLast[u]!, plan.createdAt);
        if (plan.status === 'cancelled') {
          userCancelled[u]! += 1;
          continue;
        }
        // The basket and total without the record (ids, address, formatted amounts).
        const { basket, totalCents } = orders.charged(i);
        userSpentCents[u]! += totalCents;
        for (let k = 0; k < basket.products.length; k++) {
          const p = basket.products[k] as number;
          const quantity = basket.quantities[k] as number;
          userUnits[u]! += quantity;
          productUnits[p]! += quantity;
          productRevenueCents[p]! += (basket.unitCents[k] as number) * quantity;
          productOrders[p]! += 1;
        }
      }
      return { userOrders, userCancelled, userSpentCents, userUnits, userFirst, userLast, productUnits, productRevenueCents, productOrders };
    }
    case 'returns': {
      const userReturns = new Int32Array(U);
      const userRefundCents = new Float64Array(U);
      const productReturns = new Int32Array(P);
      const productUnitsReturned = new Int32Array(P);
      const { userOf, productOf } = idIndexes(world);
      const returns = world.generator('returns');
      for (const item of returns.range(0, returns.population)) {
        const u = userOf(item.user_id);
        const p = productOf(item.product_id);
        userReturns[u]! += 1;
        userRefundCents[u]! += cents(item.refund_amount);
        productReturns[p]! += 1;
        productUnitsReturned[p]! += item.quantity;
      }
      return { userReturns, userRefundCents, productReturns, productUnitsReturned };
    }
    case 'reviews': {
      const userReviews = new Int32Array(U);
      const productReviews = new Int32Array(P);
      const productRatingSum = new Float64Array(P);
      // Customers and products as indexes, ratings from the reviews' draws: no records.
      for (const [u, p, rating] of world.generator('reviews').ratings()) {
        userReviews[u]! += 1;
        productReviews[p]! += 1;
        productRatingSum[p]! += rating;
      }
      return { userReviews, productReviews, productRatingSum };
    }
    case 'sessions': {
      const userSessions = new Int32Array(U);
      const productViews = new Int32Array(P);
      const productCartAdds = new Int32Array(P);
      // Through the sessions' plans and the products they view: indexes, no records or scripts.
      const sessions = world.generator('sessions');
      const to = Math.min(part.to, sessions.population);
      for (let i = part.from; i < to; i++) {
        const { products, added } = sessions.viewedProducts(i);
        const u = sessions.plan(i).user;
        if (u >= 0) userSessions[u]! += 1;
        for (let k = 0; k < products.length; k++) {
          const p = products[k] as number;
          productViews[p]! += 1;
          if (k < added) productCartAdds[p]! += 1;
        }
      }
      return { userSessions, productViews, productCartAdds };
    }
  }
}

/** The other entities name their parents by id: index lookups by id. */
function idIndexes(world: World): { userOf: (id: string | null) => number; productOf: (id: string | null) => number } {
  const users = world.generator('users');
  const products = world.generator('products');
  const userIndex = new Map<string, number>();
  for (let j = 0; j < users.population; j++) userIndex.set(users.idOf(j), j);
  const productIndex = new Map<string, number>();
  for (let p = 0; p < products.population; p++) productIndex.set(products.idOf(p), p);
  return {
    userOf: (id) => (id === null ? -1 : (userIndex.get(id) ?? -1)),
    productOf: (id) => (id === null ? -1 : (productIndex.get(id) ?? -1)),
  };
}

/** Adds the arrays of one part into `into` (a field filled by several parts, the sessions' counts, is summed). */
export function mergeAggregatePart(into: Arrays, part: Arrays): void {
  for (const field of Object.keys(part) as AggregateField[]) {
    const array = part[field] as Int32Array | Float64Array;
    const sum = into[field];
    if (!sum) into[field] = array;
    else for (let k = 0; k < sum.length; k++) sum[k]! += array[k] as number;
  }
}

/** Installs merged aggregates in a world's precomputed store, where {@link WorldAggregates.of} adopts them. */
export function installAggregates(world: World, arrays: Arrays): void {
  const store = precomputed(world);
  for (const field of FIELDS) {
    const array = arrays[field];
    if (!array) throw new Error(`aggregates: no part filled ${field}`);
    if (!store.has(`aggregates:${field}`)) store.set(`aggregates:${field}`, array);
  }
}

/**
 * Aggregates of one world, computed once from its records and shared by both analytics
 * endpoints. Cost: one pass over orders, returns, reviews, sessions and the products the
 * sessions view (the bench measures it), in parts that precompute threads run side by side;
 * memory: a few typed arrays per user and product plus id lookups.
 */
export class WorldAggregates {
  private static readonly cache = new WeakMap<World, WorldAggregates>();

  readonly userOrders!: Int32Array;
  readonly userCancelled!: Int32Array;
  readonly userSpentCents!: Float64Array;
  readonly userUnits!: Int32Array;
  readonly userFirst!: Float64Array;
  readonly userLast!: Float64Array;
  readonly userReturns!: Int32Array;
  readonly userRefundCents!: Float64Array;
  readonly userReviews!: Int32Array;
  readonly userSessions!: Int32Array;

  readonly productUnits!: Int32Array;
  readonly productRevenueCents!: Float64Array;
  readonly productOrders!: Int32Array;
  readonly productReturns!: Int32Array;
  readonly productUnitsReturned!: Int32Array;
  readonly productReviews!: Int32Array;
  readonly productRatingSum!: Float64Array;
  readonly productViews!: Int32Array;
  readonly productCartAdds!: Int32Array;

  static of(world: World): WorldAggregates {
    let aggregates = WorldAggregates.cache.get(world);
    if (!aggregates) {
      const store = precomputed(world);
      if (!FIELDS.every((field) => store.has(`aggregates:${field}`))) {
        // Not precomputed (a small world, or a caller outside the server): every part, here.
        const arrays: Arrays = {};
        for (const part of aggregateParts(world)) mergeAggregatePart(arrays, aggregatePart(world, part));
        installAggregates(world, arrays);
      }
      aggregates = Object.create(WorldAggregates.prototype) as WorldAggregates;
      for (const field of FIELDS) Object.assign(aggregates, { [field]: store.get(`aggregates:${field}`) });
      WorldAggregates.cache.set(world, aggregates);
    }
    return aggregates;
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
