import { type PriceChange, type PriceChangeReason } from '../schemas/price-change.js';
import { precomputed } from './child-index.js';
import { EntityGenerator, RecordCache, money } from './entity.js';
import { Rng, tagOf } from './random.js';
import { DAY, MINUTE, iso } from './time.js';
import { GBP_PER_USD, pricePoint } from './products.js';
import { MAX_PRICE_CHANGE_RATE, type World } from './world.js';


/** One product's price history: its changes in time order (times strictly increasing). */
export interface PriceHistory {
  /** Epoch ms of each change (whole seconds, inside the window). */
  readonly times: readonly number[];
  /** The price in cents before each change. */
  readonly previous: readonly number[];
  /** The price in cents from each change on; the last is the product's price (GET /products). */
  readonly next: readonly number[];
  readonly reasons: readonly PriceChangeReason[];
}

const EMPTY: PriceHistory = { times: [], previous: [], next: [], reasons: [] };

/** Kinds of episode, and the changes each makes: a promotion is a cut and (usually) its end. */
const enum Episode {
  Promotion,
  CostIncrease,
  CompetitorMatch,
}
/** Episode shares (promotion 50%, cost increase 30%, competitor match 20%): 1.5 changes per episode on average. */
const CHANGES_PER_EPISODE = 0.5 * 2 + 0.3 + 0.2;

/**
 * A Poisson count with mean `mean` (Knuth's product of uniforms; a rounded normal above 30,
 * where the product would underflow and the normal is close).
 */
function poisson(rng: Rng, mean: number): number {
  if (mean <= 0) return 0;
  if (mean > 30) return Math.max(0, Math.round(mean + Math.sqrt(mean) * rng.normal()));
  const limit = Math.exp(-mean);
  let k = 0;
  let product = rng.next();
  while (product > limit) {
    k++;
    product *= rng.next();
  }
  return k;
}

/**
 * Price points of a currency as a grid: the nearest point to `cents`, and the point next below
 * or above a point (USD and GBP under £100: x.49 and x.99, 50 cents apart; GBP from £100: whole
 * pounds ending in 9, 5 or 0, stepped by £10 so the ending is kept).
 */
class PriceGrid {
  constructor(private readonly currency: string) {}

  nearest(cents: number, usual: boolean): number {
    const usd = cents / 100 / (this.currency === 'GBP' ? GBP_PER_USD : 1);
    return pricePoint(this.currency, usd, usual);
  }

  down(cents: number): number {
    if (this.currency !== 'GBP' || cents < 10_000) return cents - 50;
    return cents - 1000 < 10_000 ? 9999 : cents - 1000;
  }

  up(cents: number): number {
    if (this.currency !== 'GBP' || cents + 50 < 10_000) return cents + 50;
    return cents < 10_000 ? 10_900 : cents + 1000;
  }

  /** A point near `target`, strictly below `limit`; undefined when there is none above zero. */
  below(target: number, limit: number, usual: boolean): number | undefined {
    let c = this.nearest(target, usual);
    while (c >= limit) c = this.down(c);
    return c >= 1 ? c : undefined;
  }

  /** A point near `target`, strictly above `limit`. */
  above(target: number, limit: number, usual: boolean): number {
    let c = this.nearest(target, usual);
    while (c <= limit) c = this.up(c);
    return c;
  }
}

/**
 * Price histories of a world's products. Each product's history is a pure function of (world,
 * product) drawn from its own stream: a Poisson number of episodes (mean `price_change_rate` ×
 * days / 30 / 1.5), one per equal slot of the window, each a promotion (a cut of 5-30% at
 * midnight-ish, back to the regular price 3-21 days later; the window's last promotion may still
 * be running at its end), a cost increase (+2-10%) or a competitor match (-3-10%). The price at
 * the window end is the product's price (GET /products); the earlier prices are derived
 * backwards from it, each rounded to the currency's price points, and kept within 0.8-1.35× of
 * it (a cost increase that would go lower is a competitor match instead, and vice versa).
 */
export class PriceHistories {
  private readonly rng = new Rng();
  private readonly tag = tagOf('price-history');
  private readonly grid: PriceGrid;
  private readonly episodesMean: number;
  private readonly cache: RecordCache<PriceHistory>;

  constructor(
    readonly world: World,
    private readonly finalPrice: (p: number) => number,
  ) {
    this.grid = new PriceGrid(world.profile.currency);
    const days = (world.window.end - world.window.start) / DAY;
    this.cache = new RecordCache((p) => this.build(p), world.sizes.products, 16_384);
    this.episodesMean = (Math.min(world.knob('price_change_rate'), MAX_PRICE_CHANGE_RATE) * days) / 30 / CHANGES_PER_EPISODE;
  }

  /**
   * The changes of product p, in time order. O(its changes); memoised in a bounded direct-mapped
   * cache (order lines ask for the popular products again and again; measured: pricing lines
   * without it made generating orders ~40% slower).
   */
  of(p: number): PriceHistory {
    return this.cache.get(p);
  }

  /** The changes of product p, built afresh and not kept (for a caller that keeps its own copy). */
  build(p: number): PriceHistory {
    if (this.episodesMean <= 0) return EMPTY;
    const rng = this.rng.key(this.world.seed, this.tag, p);
    const episodes = Math.min(512, poisson(rng, this.episodesMean));
    if (episodes === 0) return EMPTY;
    const { start, end } = this.world.window;
    const last = end - 1000;
    const slot = (end - start) / episodes;
    // Forward: when each episode happens and what it is.
    const kinds: Episode[] = [];
    const at: number[] = [];
    const until: number[] = [];
    const sizes: number[] = [];
    const usual: boolean[] = [];
    let previous = start - 1000;
    for (let e = 0; e < episodes; e++) {
      const u = rng.next();
      const kind = u < 0.5 ? Episode.Promotion : u < 0.8 ? Episode.CostIncrease : Episode.CompetitorMatch;
      const slotStart = start + e * slot;
      // Early in the slot, at a shop-clock time between midnight and 06:00, in whole seconds.
      let t = slotStart + rng.next() * slot * 0.4;
      if (slot >= DAY) t = Math.floor(t / DAY) * DAY + rng.int(360) * MINUTE + rng.int(60) * 1000;
      t = Math.max(Math.floor(t / 1000) * 1000, previous + 1000, start);
      const size = kind === Episode.Promotion ? rng.uniform(0.05, 0.3) : kind === Episode.CostIncrease ? rng.uniform(0.02, 0.1) : rng.uniform(0.03, 0.1);
      const isUsual = rng.chance(0.7);
      const days = rng.between(3, 21);
      if (t > last) break;
      let stop = -1;
      if (kind === Episode.Promotion) {
        stop = Math.floor((t + days * DAY) / 1000) * 1000;
        // Inside its slot, except the last promotion, which may still run at the window end.
        const slotEnd = Math.floor((slotStart + slot) / 1000) * 1000 - 1000;
        if (e < episodes - 1) stop = Math.min(stop, slotEnd);
        if (stop <= t) stop = e < episodes - 1 ? -1 : stop;
        if (stop > last) stop = -1;
        if (stop < 0 && e < episodes - 1) continue; // no room for the promotion's end: no promotion
      }
      kinds.push(kind);
      at.push(t);
      until.push(stop);
      sizes.push(size);
      usual.push(isUsual);
      previous = stop >= 0 ? stop : t;
    }
    // Backward: the prices, from the product's price at the window end.
    const final = this.finalPrice(p);
    const low = final * 0.8;
    const high = final * 1.35;
    const times: number[] = [];
    const before: number[] = [];
    const after: number[] = [];
    const reasons: PriceChangeReason[] = [];
    const add = (t: number, from: number, to: number, reason: PriceChangeReason) => {
      times.push(t);
      before.push(from);
      after.push(to);
      reasons.push(reason);
    };
    let price = final;
    for (let e = kinds.length - 1; e >= 0; e--) {
      const t = at[e] as number;
      const size = sizes[e] as number;
      const pointUsual = usual[e] as boolean;
      switch (kinds[e]) {
        case Episode.Promotion: {
          if ((until[e] as number) >= 0) {
            // The promotion ended back at the regular price: the cut and its end.
            const sale = this.grid.below(price * (1 - size), price, pointUsual);
            if (sale === undefined) break;
            add(until[e] as number, sale, price, 'PROMOTION_END');
            add(t, price, sale, 'PROMOTION_START');
          } else {
            // Still running at the window end: the regular price was higher.
            const regular = this.grid.above(price / (1 - size), price, pointUsual);
            add(t, regular, price, 'PROMOTION_START');
            price = regular;
          }
          break;
        }
        case Episode.CostIncrease:
        case Episode.CompetitorMatch: {
          // Backwards, a cost increase came from a lower price and a competitor match from a higher one.
          const lower = this.grid.below(price / (1 + size), price, pointUsual);
          const higher = this.grid.above(price / (1 - size), price, pointUsual);
          const rise = lower !== undefined && lower >= low && (kinds[e] === Episode.CostIncrease || higher > high);
          if (rise) add(t, lower, price, 'COST_INCREASE');
          else add(t, higher, price, 'COMPETITOR_MATCH');
          price = rise ? lower : higher;
          break;
        }
      }
    }
    times.reverse();
    before.reverse();
    after.reverse();
    reasons.reverse();
    return { times, previous: before, next: after, reasons };
  }

  /** Product p's price in cents at moment t: the last change at or before t, else its first price. O(its changes). */
  priceAt(p: number, t: number): number {
    const history = this.of(p);
    const n = history.times.length;
    if (n === 0) return this.finalPrice(p);
    if (t < (history.times[0] as number)) return history.previous[0] as number;
    let k = n - 1;
    while ((history.times[k] as number) > t) k--;
    return history.next[k] as number;
  }
}

/**
 * GET /api/v1/price-changes: every product's price changes, numbered in time order (change
 * i+1 never before change i; ties by product). The order needs one pass over the products'
 * histories per world (a sort of their change times), kept as two Int32Arrays in the world's
 * precomputed store, so a precompute thread can build it off the event loop.
 */
export class PriceChangeGenerator extends EntityGenerator<PriceChange> {
  private order?: { products: Int32Array; ks: Int32Array };

  constructor(world: World) {
    super(world, 'price-changes');
  }

  private get index(): { products: Int32Array; ks: Int32Array } {
    if (this.order) return this.order;
    const store = precomputed(this.world);
    const products = store.get('price-changes.products');
    const ks = store.get('price-changes.ks');
    if (products instanceof Int32Array && ks instanceof Int32Array) return (this.order = { products, ks });
    const histories = this.world.generator('products').histories;
    const times: number[] = [];
    const of: number[] = [];
    const kOf: number[] = [];
    const population = this.world.sizes.products;
    for (let p = 0; p < population; p++) {
      const history = histories.of(p);
      for (let k = 0; k < history.times.length; k++) {
        times.push(history.times[k] as number);
        of.push(p);
        kOf.push(k);
      }
    }
    const sorted = Array.from({ length: times.length }, (_, j) => j);
    sorted.sort((a, b) => (times[a] as number) - (times[b] as number) || (of[a] as number) - (of[b] as number) || a - b);
    this.order = { products: Int32Array.from(sorted, (j) => of[j] as number), ks: Int32Array.from(sorted, (j) => kOf[j] as number) };
    store.set('price-changes.products', this.order.products);
    store.set('price-changes.ks', this.order.ks);
    return this.order;
  }

  get population(): number {
    return this.index.products.length;
  }

  /** The time (epoch ms) of change i, without building the row. */
  timeOf(i: number): number {
    const { products, ks } = this.index;
    return this.world.generator('products').histories.of(products[i] as number).times[ks[i] as number] as number;
  }

  record(i: number): PriceChange {
    const { products, ks } = this.index;
    const p = products[i] as number;
    const k = ks[i] as number;
    const generator = this.world.generator('products');
    const history = generator.histories.of(p);
    return {
      change_id: this.idOf(i),
      product_id: generator.idOf(p),
      previous_price: money(history.previous[k] as number),
      new_price: money(history.next[k] as number),
      currency: this.world.profile.currency as PriceChange['currency'],
      reason: history.reasons[k] as PriceChangeReason,
      changed_at: iso(history.times[k] as number),
    };
  }
}
