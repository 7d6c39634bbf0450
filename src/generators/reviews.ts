import type { Review } from '../schemas/review.js';
import { ChildGenerator, precomputed } from './child-index.js';
import { capitalise, fill, nounOf } from './engagement-text.js';
import type { OrderGenerator } from './orders.js';
import { Rng, WeightedChoice, mix32, tagOf } from './random.js';
import { DAY, HOUR, MINUTE, busyMoment, iso, laterBy } from './time.js';
import type { World } from './world.js';

type Stars = 1 | 2 | 3 | 4 | 5;
const stars = (w5: number, w4: number, w3: number, w2: number, w1: number) =>
  new WeightedChoice<Stars>([[5, w5], [4, w4], [3, w3], [2, w2], [1, w1]]);

// The J-shape of online ratings (mostly 5, then 4, a dip at 2-3 and a bump at 1), bent by
// what happened: a good product, a late parcel, a line that went back.
const RATINGS = {
  great: stars(72, 20, 4, 1, 3),
  fine: stars(60, 21, 7, 4, 8),
  poor: stars(30, 20, 15, 12, 23),
  late: stars(35, 24, 14, 10, 17),
  returned: stars(4, 7, 16, 26, 47),
  unverified: stars(50, 15, 8, 7, 20),
} as const;

/** Chance that a delivered line gets a review: unhappy customers write more. */
const REVIEW_CHANCE = { returned: 0.38, late: 0.17, normal: 0.11 } as const;
/** Unverified reviews per user, at any scale. */
const UNVERIFIED_PER_USER = 0.25;
const MAX_LINES = 32;

const TITLES: Record<Stars, readonly string[]> = {
  5: ['Absolutely love it', 'Exceeded my expectations', 'Best {noun} I have owned', 'Five stars', 'Worth every penny', 'Perfect {noun}', 'Brilliant'],
  4: ['Really good {noun}', 'Very happy overall', 'Great value', 'Does the job well', 'Solid {noun}, minor niggles', 'Nearly perfect'],
  3: ['It is okay', 'Average {noun}', 'Mixed feelings', 'Decent but not great', 'Does what it says, nothing more'],
  2: ['Disappointed', 'Not as described', 'Would not buy again', 'Below expectations', 'Poor quality {noun}'],
  1: ['Avoid', 'Very poor', 'Waste of money', 'Terrible {noun}', 'Do not buy', 'Really disappointed'],
};
const OPENERS: Record<Stars, readonly string[]> = {
  5: ['I love {this}.', 'Really impressed with {this}.', '{This} {is} exactly what I wanted.', 'Fantastic {noun}, I use {them} every day.', 'So glad I bought {this}.'],
  4: ['Very good {noun} overall.', 'Happy with {this}.', 'A good {noun} for the money.', 'Pleased with {this}.'],
  3: ['{This} {is} fine.', 'The {noun} does the job, nothing special.', 'An average {noun}.', 'Not bad, not great.'],
  2: ['Not impressed with {this}.', 'The {noun} looked better in the photos.', 'I expected more from {this}.'],
  1: ['Really disappointed with {this}.', 'Do not buy {this}.', 'Worst {noun} I have bought.'],
};
const DETAILS: Record<Stars, readonly string[]> = {
  5: ['The quality is excellent and {it} {is} even better in person.', 'Great value for the price.', 'Well made and easy to use.', 'Would definitely recommend to friends and family.', 'Already thinking of buying another as a gift.'],
  4: ['Not perfect, but close.', 'The finish could be a little better.', 'Slightly smaller than I expected, but {it} work{s} well.', 'Good quality, though the instructions could be clearer.'],
  3: ['Quality is average for the price.', 'Some parts feel a bit cheap.', 'It is okay, but I expected more.', 'Fine for occasional use.'],
  2: ['{It} stopped working properly after a few uses.', 'The quality is not what I expected for the price.', '{It} feel{s} flimsy.', 'Does not match the description.'],
  1: ['{It} broke within days.', 'Nothing like the description.', 'Cheaply made and not fit for purpose.', 'Complete waste of money.'],
};
const LATE_HAPPY = ['Delivery was a few days late, but {it} {is} worth the wait.', 'Arrived later than promised, otherwise no complaints.'];
const LATE_UNHAPPY = ['{It} also arrived later than promised.', 'Delivery was late too.', 'Took ages to arrive as well.'];
const RETURNED_HAPPY = ['Had to send {them} back because of the size, but the quality is great.', 'Returned {them} as I changed my mind, nothing wrong with {them}.'];
const RETURNED_UNHAPPY = ['Sent {them} back for a refund.', 'Returned {them} the same week.', 'Went straight back for a refund.'];

const SALT_PICK = tagOf('reviewed-lines');
const SALT_PRODUCT = tagOf('product-quality');
const SALT_UNVERIFIED = tagOf('unverified-review');

/** Keys of the suppression's arrays in the world's precomputed store (see {@link Suppression}). */
const SUPPRESSED_LINES_KEY = 'reviews.suppressed-lines';
const SUPPRESSED_SLOTS_KEY = 'reviews.suppressed-slots';

/** The position of `value` in the sorted `keys` (every `stride`-th entry from 0), or -1. */
function search(keys: Int32Array, value: number, stride: number): number {
  let lo = 0;
  let hi = keys.length / stride - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >>> 1;
    const at = keys[mid * stride] as number;
    if (at === value) return mid * stride;
    if (at < value) lo = mid + 1;
    else hi = mid - 1;
  }
  return -1;
}

/**
 * Which drawn reviews a real shop would not publish: a second review by one customer of one
 * product, and an unverified review of a product the customer ordered. Two sorted Int32Arrays,
 * kept in the world's precomputed store: a precompute thread builds them (one pass over the
 * orders) and the server installs them (src/precompute/prepare.ts), so its event loop never
 * runs that pass; its render workers get them too.
 */
class Suppression {
  constructor(
    /** (order, bits) pairs by order: a bit per reviewed line (by line number) whose product this customer already reviewed. */
    private readonly lines: Int32Array,
    /** Unverified review slots whose (customer, product) is taken or was ordered, ascending. */
    private readonly slots: Int32Array,
  ) {}

  /** The world's installed suppression, if a thread has built it. */
  static installed(world: World): Suppression | undefined {
    const store = precomputed(world);
    const lines = store.get(SUPPRESSED_LINES_KEY);
    const slots = store.get(SUPPRESSED_SLOTS_KEY);
    return lines instanceof Int32Array && slots instanceof Int32Array ? new Suppression(lines, slots) : undefined;
  }

  /** The suppression a pass found (orders and slots were taken in ascending order), registered in the world's store. */
  static register(world: World, lines: Map<number, number>, slots: Set<number>): Suppression {
    const pairs = new Int32Array(lines.size * 2);
    let n = 0;
    for (const [order, bits] of lines) {
      pairs[n++] = order;
      pairs[n++] = bits;
    }
    const suppression = new Suppression(pairs, Int32Array.from(slots));
    const store = precomputed(world);
    if (!store.has(SUPPRESSED_LINES_KEY) || !store.has(SUPPRESSED_SLOTS_KEY)) {
      store.set(SUPPRESSED_LINES_KEY, suppression.lines);
      store.set(SUPPRESSED_SLOTS_KEY, suppression.slots);
    }
    return suppression;
  }

  /** The bits of order o's suppressed lines (0: none). */
  dropped(order: number): number {
    const at = search(this.lines, order, 2);
    return at < 0 ? 0 : (this.lines[at + 1] as number);
  }

  /** Whether unverified slot `slot` has no review. */
  hasSlot(slot: number): boolean {
    return search(this.slots, slot, 1) >= 0;
  }
}

interface Reviewed {
  /** Number of reviewed lines. */
  count: number;
  /** Line numbers (0-based) of the reviewed lines, in line order, and when each review was written. */
  readonly lines: Int32Array;
  readonly times: Float64Array;
}

/**
 * Product reviews. Verified reviews are children of delivered orders: each delivered line is
 * reviewed by the order's customer with a small chance (higher for a returned line or a late
 * parcel), between 2 hours and 45 days after delivery and inside the window, linked to the
 * order and the line. After them come unverified reviews (0.25 per user, no order) by any
 * customer after sign-up. Ratings follow the J-shape of real shops and drop with a bad
 * experience; title and text agree with the rating.
 *
 * @example
 * const r = new ReviewGenerator(world).record(0); // r.is_verified === (r.order_id !== null)
 */
export class ReviewGenerator extends ChildGenerator<Review> {
  protected readonly parents: number;
  private readonly orders: OrderGenerator;
  private readonly orderCount: number;
  private readonly lookupRng = new Rng();
  private readonly scratch: Reviewed = { count: 0, lines: new Int32Array(MAX_LINES), times: new Float64Array(MAX_LINES) };

  constructor(world: World) {
    super(world, 'reviews');
    this.orders = world.generator('orders');
    this.orderCount = this.orders.population;
    // Orders first (their verified reviews), then one parent slot per unverified review.
    this.parents = this.orderCount + Math.round(world.sizes.users * UNVERIFIED_PER_USER);
  }

  protected childCount(parent: number): number {
    return parent < this.orderCount ? this.reviewed(parent).count : this.suppressed().hasSlot(parent) ? 0 : 1;
  }

  private suppression: Suppression | undefined;

  /**
   * One review per customer and product, and verified iff the customer ordered it: one pass
   * over the orders (in index order, so the first reviewed purchase keeps its review) collects
   * every (customer, product) ordered and every one reviewed, then the unverified slots are
   * checked against both and against each other. The pass reads every order's lines, the cost
   * of one full /orders read, once per world: on a precompute thread when the server serves
   * reviews (installed from the world's store, see {@link Suppression}), else here when first asked for.
   */
  private suppressed(): Suppression {
    while (!this.prepareSuppression(1 << 30));
    return this.suppression as Suppression;
  }

  private suppressionBuild?: Generator<void, Suppression>;
  private suppressionBudget = 0;

  /**
   * Builds the suppression a slice further, up to `budget` orders; true when it is built. The
   * change feed's preparation calls it in slices, yielding to the event loop between them (the
   * pass held the loop for ~0.35 s at scale 10).
   */
  prepareSuppression(budget: number): boolean {
    if (this.suppression) return true;
    // Built by a precompute thread and installed (src/precompute/prepare.ts), or by another generator of this world.
    this.suppression = Suppression.installed(this.world);
    if (this.suppression) {
      this.suppressionBuild = undefined;
      return true;
    }
    this.suppressionBudget = budget;
    this.suppressionBuild ??= this.buildSuppression();
    const step = this.suppressionBuild.next();
    if (!step.done) return false;
    // ratings() may have built it meanwhile, from the same draws: the first one stays.
    this.suppression ??= step.value;
    this.suppressionBuild = undefined;
    return true;
  }

  private *buildSuppression(): Generator<void, Suppression> {
    const products = this.world.sizes.products;
    const key = (user: number, product: number) => user * products + product;
    const ordered = new Set<number>();
    const reviewedPairs = new Set<number>();
    const lines = new Map<number, number>();
    for (let o = 0; o < this.orderCount; o++) {
      const user = this.orders.plan(o).user;
      // The basket's draws only: building whole orders (ids, address, totals) was most of this pass.
      const bought = this.orders.basket(o).products;
      for (const product of bought) ordered.add(key(user, product));
      const drawn = this.drawnLines(o);
      let dropped = 0;
      for (let k = 0; k < drawn.count; k++) {
        const line = drawn.lines[k] as number;
        const pair = key(user, bought[line] as number);
        if (reviewedPairs.has(pair)) dropped |= 1 << line;
        else reviewedPairs.add(pair);
      }
      if (dropped !== 0) lines.set(o, dropped);
      if ((o + 1) % this.suppressionBudget === 0) yield;
    }
    return Suppression.register(this.world, lines, this.suppressedSlots(ordered, reviewedPairs));
  }

  /**
   * The created_at of every review in index order (epoch ms, whole seconds, as the records show
   * it), with its parent and child number, from the same draws as the records without building
   * them: the change feed schedules reviews by it and addresses them by (parent, k) with
   * {@link recordAt}.
   */
  *createdTimes(): Generator<readonly [time: number, parent: number, k: number]> {
    const { end } = this.world.window;
    const users = this.world.generator('users');
    let i = 0;
    for (let parent = 0; parent < this.parents; parent++) {
      if (parent < this.orderCount) {
        const reviewed = this.reviewed(parent);
        // Copied out first: the scratch is reused by the next order.
        const times = Array.from(reviewed.times.subarray(0, reviewed.count));
        for (let k = 0; k < times.length; k++) {
          yield [Math.floor((times[k] as number) / 1000) * 1000, parent, k];
          i++;
        }
      } else if (this.childCount(parent) === 1) {
        const { user } = this.unverifiedPair(parent);
        yield [Math.floor(busyMoment(this.keyed(i), users.createdAt(user) + MINUTE, end) / 1000) * 1000, parent, 0];
        i++;
      }
    }
  }

  /**
   * The customer, product and rating of every review in index order (user and product as
   * indexes), from the records' draws without building them (no text, ids or times): what the
   * analytics aggregates count. It replays {@link verified} and {@link unverified} up to the rating.
   */
  *ratings(): Generator<readonly [user: number, product: number, rating: number]> {
    const { end } = this.world.window;
    const users = this.world.generator('users');
    // When the suppression is not built yet, it is built in this pass (the same walk over the
    // orders in index order as suppressed()): each order's plan, basket and drawn lines are
    // made once instead of once for the suppression and again for the ratings (their caches
    // hold a few hundred orders), which was about half of the analytics' reviews pass.
    const known = this.suppression ?? Suppression.installed(this.world);
    const products = this.world.sizes.products;
    const key = (user: number, product: number) => user * products + product;
    const ordered = new Set<number>();
    const reviewedPairs = new Set<number>();
    const droppedLines = new Map<number, number>();
    const kept: number[] = [];
    let i = 0;
    for (let parent = 0; parent < this.orderCount; parent++) {
      const plan = this.orders.plan(parent);
      const bought = this.orders.basket(parent).products;
      const drawn = this.drawnLines(parent);
      let dropped = 0;
      if (known) dropped = known.dropped(parent);
      else {
        for (const product of bought) ordered.add(key(plan.user, product));
        for (let k = 0; k < drawn.count; k++) {
          const line = drawn.lines[k] as number;
          const pair = key(plan.user, bought[line] as number);
          if (reviewedPairs.has(pair)) dropped |= 1 << line;
          else reviewedPairs.add(pair);
        }
        if (dropped !== 0) droppedLines.set(parent, dropped);
      }
      // Copied out first: the scratch is reused by the next order.
      kept.length = 0;
      for (let k = 0; k < drawn.count; k++) {
        const line = drawn.lines[k] as number;
        if ((dropped & (1 << line)) === 0) kept.push(line);
      }
      const late = plan.deliveredAt !== null && plan.deliveredAt > plan.estimatedDeliveryAt;
      for (const line of kept) {
        const product = bought[line] as number;
        const chance = RATINGS[line === plan.returnLine ? 'returned' : late ? 'late' : this.quality(product)];
        yield [plan.user, product, chance.draw(this.keyed(i))];
        i++;
      }
    }
    if (!known) {
      this.suppression ??= Suppression.register(this.world, droppedLines, this.suppressedSlots(ordered, reviewedPairs));
    }
    for (let parent = this.orderCount; parent < this.parents; parent++) {
      if (this.childCount(parent) !== 1) continue;
      const { user, product } = this.unverifiedPair(parent);
      const rng = this.keyed(i);
      busyMoment(rng, users.createdAt(user) + MINUTE, end);
      yield [user, product, (this.quality(product) === 'poor' ? RATINGS.poor : RATINGS.unverified).draw(rng)];
      i++;
    }
  }

  /** Review i, known to be child k of parent `parent` (no search of the index: see createdTimes). */
  recordAt(parent: number, k: number, i: number): Review {
    return this.child(parent, k, i);
  }

  /**
   * The unverified slots suppressed after the pass over the orders: a slot whose pair was
   * ordered, or reviewed before it (by an order's line or an earlier slot), has no review.
   * Adds the slots' own pairs to `reviewedPairs`.
   */
  private suppressedSlots(ordered: Set<number>, reviewedPairs: Set<number>): Set<number> {
    const products = this.world.sizes.products;
    const slots = new Set<number>();
    for (let slot = this.orderCount; slot < this.parents; slot++) {
      const { user, product } = this.unverifiedPair(slot);
      const pair = user * products + product;
      if (ordered.has(pair) || reviewedPairs.has(pair)) slots.add(slot);
      else reviewedPairs.add(pair);
    }
    return slots;
  }

  /** The customer and product of an unverified review slot: keyed by the slot, so known before the index. */
  private unverifiedPair(slot: number): { user: number; product: number } {
    const rng = this.lookupRng.key(this.world.seed, this.tag, slot, SALT_UNVERIFIED);
    const user = rng.int(this.world.sizes.users);
    const product = this.world.generator('products').popularIndex(rng.next());
    return { user, product };
  }

  protected child(parent: number, k: number, i: number): Review {
    return parent < this.orderCount ? this.verified(parent, k, i) : this.unverified(parent, i);
  }

  /** The reviewed lines of order o, without the ones suppressed as a second review of the product. */
  private reviewed(order: number): Reviewed {
    // Suppression first: building it draws every order's lines into the same scratch.
    const dropped = this.suppressed().dropped(order);
    const out = this.drawnLines(order);
    if (dropped === 0) return out;
    let kept = 0;
    for (let k = 0; k < out.count; k++) {
      const line = out.lines[k] as number;
      if ((dropped & (1 << line)) !== 0) continue;
      out.lines[kept] = line;
      out.times[kept] = out.times[k] as number;
      kept++;
    }
    out.count = kept;
    return out;
  }

  /** Which lines of order o the customer chose to review and when: a replayable keyed draw per line. */
  private drawnLines(order: number): Reviewed {
    const out = this.scratch;
    out.count = 0;
    const plan = this.orders.plan(order);
    if (plan.deliveredAt === null) return out;
    const { end } = this.world.window;
    const rng = this.lookupRng.key(this.world.seed, this.tag, order, SALT_PICK);
    const late = plan.deliveredAt > plan.estimatedDeliveryAt;
    for (let k = 0; k < plan.lines && k < MAX_LINES; k++) {
      const p = k === plan.returnLine ? REVIEW_CHANCE.returned : late ? REVIEW_CHANCE.late : REVIEW_CHANCE.normal;
      if (!rng.chance(p)) continue;
      const at = laterBy(rng, plan.deliveredAt, 2 * HOUR, 45 * DAY);
      if (at >= end) continue;
      out.lines[out.count] = k;
      out.times[out.count] = at;
      out.count++;
    }
    return out;
  }

  /** A product's standing with its buyers: a few are loved, a few are duds. */
  private quality(product: number): 'great' | 'fine' | 'poor' {
    const h = mix32((this.world.seed ^ SALT_PRODUCT) + product) % 100;
    return h < 20 ? 'great' : h < 88 ? 'fine' : 'poor';
  }

  private verified(order: number, k: number, i: number): Review {
    const plan = this.orders.plan(order);
    const reviewed = this.reviewed(order);
    const line = reviewed.lines[k] as number;
    const createdAt = reviewed.times[k] as number;
    const products = this.world.generator('products');
    const product = this.orders.basket(order).products[line] as number;
    const rng = this.keyed(i);
    const returned = line === plan.returnLine;
    const late = (plan.deliveredAt as number) > plan.estimatedDeliveryAt;
    const rating = RATINGS[returned ? 'returned' : late ? 'late' : this.quality(product)].draw(rng);
    const noun = nounOf(products.facts(product).name);
    let body = this.text(rng, rating, noun);
    const happy = rating >= 4;
    if (returned) body += ' ' + fill(rng.pick(happy ? RETURNED_HAPPY : RETURNED_UNHAPPY), noun);
    else if (late) body += ' ' + fill(rng.pick(happy ? LATE_HAPPY : LATE_UNHAPPY), noun);
    return {
      review_id: this.idOf(i),
      product_id: products.idOf(product),
      user_id: this.world.generator('users').idOf(plan.user),
      order_id: this.orders.idOf(order),
      order_item_id: this.orders.lineId(order, line),
      rating,
      title: capitalise(fill(rng.pick(TITLES[rating]), noun)),
      body,
      is_verified: true,
      helpful_votes: this.votes(rng, rating, createdAt),
      created_at: iso(createdAt),
    };
  }

  /** Review i, the one review of unverified slot `slot` (its parent, known to every caller: no search of the index). */
  private unverified(slot: number, i: number): Review {
    const { end } = this.world.window;
    const rng = this.keyed(i);
    const users = this.world.generator('users');
    const products = this.world.generator('products');
    const { user, product } = this.unverifiedPair(slot);
    const createdAt = busyMoment(rng, users.createdAt(user) + MINUTE, end);
    const rating = (this.quality(product) === 'poor' ? RATINGS.poor : RATINGS.unverified).draw(rng);
    const noun = nounOf(products.facts(product).name);
    return {
      review_id: this.idOf(i),
      product_id: products.idOf(product),
      user_id: users.idOf(user),
      order_id: null,
      order_item_id: null,
      rating,
      title: capitalise(fill(rng.pick(TITLES[rating]), noun)),
      body: this.text(rng, rating, noun),
      is_verified: false,
      helpful_votes: this.votes(rng, rating, createdAt),
      created_at: iso(createdAt),
    };
  }

  private text(rng: Rng, rating: Stars, noun: string): string {
    return capitalise(fill(rng.pick(OPENERS[rating]), noun)) + ' ' + capitalise(fill(rng.pick(DETAILS[rating]), noun));
  }

  /** Votes grow with the time a review has been visible; strong opinions collect more. */
  private votes(rng: Rng, rating: Stars, createdAt: number): number {
    const { end } = this.world.window;
    if (rng.chance(0.45)) return 0;
    const exposure = Math.min(1, (end - createdAt) / (90 * DAY));
    const strong = rating === 1 || rating === 5 ? 1.6 : 1;
    return Math.floor(Math.exp(rng.normal() * 1.1 + 0.8) * exposure * strong);
  }
}
