import type { Product } from '../schemas/product.js';
import { CATEGORY_NODES, LEAF_CATEGORY_INDEXES, type CategoryNode } from './catalogue.js';
import { precomputed } from './child-index.js';
import { EntityGenerator, RecordCache, longTail, money } from './entity.js';
import { PriceHistories } from './price-history.js';
import { Rng } from './random.js';
import { busyMoment, iso } from './time.js';
import { CATALOGUE_HISTORY_MS } from './vendors.js';
import type { World } from './world.js';

const CLOSERS = [
  'Free returns within 30 days.',
  'Backed by a two-year warranty.',
  'Ships in recyclable packaging.',
  'One of our best sellers this season.',
  'Designed to last, built for everyday use.',
  'Rated highly by customers.',
];
const ADJECTIVES = ['Classic', 'Pro', 'Ultra', 'Essential', 'Premium', 'Eco', 'Compact', 'Deluxe', 'Smart', 'Original', 'Lite', 'Max'];

/** Dollars to pounds at a believable retail rate (shops price per market, not at the day's rate). */
export const GBP_PER_USD = 0.79;

/**
 * A shelf price in cents for a catalogue price drawn in US dollars. USD: whole dollars less
 * a cent (`usual`) or 51 cents ($31.99, $31.49). GBP: converted at {@link GBP_PER_USD}, then
 * UK price points: under £100 £x.99 (`usual`) or £x.49; from £100 whole pounds, £x9 (`usual`,
 * £149, £1,199) or a round £x5/£x0 (£145, £150).
 *
 * @example
 * pricePoint('USD', 31.7, true); // 3199
 * pricePoint('GBP', 31.7, true); // 2499 (31.7 x 0.79 = 25.04)
 */
export function pricePoint(currency: string, usd: number, usual: boolean): number {
  if (currency !== 'GBP') return Math.max(1, Math.round(usd)) * 100 - (usual ? 1 : 51);
  const pounds = usd * GBP_PER_USD;
  if (pounds < 99.5) return Math.max(1, Math.round(pounds)) * 100 - (usual ? 1 : 51);
  return (usual ? Math.max(10, Math.round(pounds / 10) * 10) - 1 : Math.round(pounds / 5) * 5) * 100;
}

/** Prefix of the price table's arrays in a world's precomputed store (see {@link PriceTable}). */
export const PRICE_TABLE_KEY = 'price-table:';

/**
 * Products' price histories as flat typed arrays, one fixed-size slot per product, filled on
 * first use: every order line asks for a price, and the histories' cache of objects (16,384 of
 * them, with a long-tail of products asked for) missed about a third of the time at scale 100,
 * rebuilding a history each time; pricing lines was half of generating orders. A product with
 * more than {@link PriceTable.STRIDE} changes (a high `price_change_rate`) is answered by the
 * histories themselves.
 *
 * Up to {@link PriceTable.SLOTS} products (scale 131) the table has a slot per product, lives in
 * shared memory and is registered in the world's precomputed store, so the render workers are
 * handed this thread's table with their first batch (src/render/pool.ts) and fill one table
 * together instead of one each: filling it for the 50,000 products of scale 100 cost each worker
 * 204-272 ms of CPU per world. A slot only ever holds its own product, and every thread writes
 * the same values into it (a price is a pure function of the world), so the one ordering that
 * matters is that a reader sees a slot's count only after its prices: the count is stored last,
 * atomically, and read atomically. Above that size the slots are direct-mapped (memory bounded
 * at any scale, ~13 MB, touched only as products are asked for) and the table is each thread's
 * own: two threads could fill one slot with different products at once.
 */
class PriceTable {
  static readonly STRIDE = 16;
  static readonly SLOTS = 65_536;
  /** Direct-mapped tables only: the product a slot holds (-1: none). */
  private readonly keys: Float64Array | undefined;
  /** 0 while a slot is empty; else its number of changes + 2 (1: answered by the histories, too many changes). */
  private readonly counts: Int32Array;
  /** The price before the first change; the price itself when there is no change. */
  private readonly first: Int32Array;
  private readonly times: Float64Array;
  private readonly next: Int32Array;
  /**
   * Slots this thread has filled or seen filled through an atomic read of their count (which
   * orders the prices before it): its later reads of them need no atomic (a price read through
   * an atomic count took ~70 ns, through a plain one ~30 ns: Atomics.load is a call here).
   */
  private readonly seen: Uint8Array;

  constructor(
    world: World,
    population: number,
    private readonly histories: PriceHistories,
    private readonly finalPrice: (p: number) => number,
  ) {
    if (population > PriceTable.SLOTS) {
      this.seen = new Uint8Array(0);
      this.keys = new Float64Array(PriceTable.SLOTS).fill(-1);
      this.counts = new Int32Array(PriceTable.SLOTS);
      this.first = new Int32Array(PriceTable.SLOTS);
      this.times = new Float64Array(PriceTable.SLOTS * PriceTable.STRIDE);
      this.next = new Int32Array(PriceTable.SLOTS * PriceTable.STRIDE);
      return;
    }
    const slots = Math.max(1, population);
    this.seen = new Uint8Array(slots);
    const store = precomputed(world);
    const installed = store.get(`${PRICE_TABLE_KEY}counts`);
    if (installed instanceof Int32Array && installed.length === slots) {
      this.counts = installed;
      this.first = store.get(`${PRICE_TABLE_KEY}first`) as Int32Array;
      this.times = store.get(`${PRICE_TABLE_KEY}times`) as Float64Array;
      this.next = store.get(`${PRICE_TABLE_KEY}next`) as Int32Array;
      return;
    }
    // Zeroed shared memory: pages are touched only as products are filled.
    this.counts = new Int32Array(new SharedArrayBuffer(slots * 4));
    this.first = new Int32Array(new SharedArrayBuffer(slots * 4));
    this.times = new Float64Array(new SharedArrayBuffer(slots * PriceTable.STRIDE * 8));
    this.next = new Int32Array(new SharedArrayBuffer(slots * PriceTable.STRIDE * 4));
    store.set(`${PRICE_TABLE_KEY}counts`, this.counts);
    store.set(`${PRICE_TABLE_KEY}first`, this.first);
    store.set(`${PRICE_TABLE_KEY}times`, this.times);
    store.set(`${PRICE_TABLE_KEY}next`, this.next);
  }

  priceAt(p: number, t: number): number {
    const keys = this.keys;
    let slot = p;
    let count: number;
    if (keys) {
      slot = p % PriceTable.SLOTS;
      count = keys[slot] === p ? (this.counts[slot] as number) : this.fill(p, slot);
    } else if (this.seen[slot] === 1) {
      count = this.counts[slot] as number;
    } else {
      count = Atomics.load(this.counts, slot);
      if (count === 0) count = this.fill(p, slot);
      this.seen[slot] = 1;
    }
    const n = count - 2;
    if (n < 0) return this.histories.priceAt(p, t);
    if (n === 0) return this.first[slot] as number;
    const base = slot * PriceTable.STRIDE;
    if (t < (this.times[base] as number)) return this.first[slot] as number;
    let k = base + n - 1;
    while ((this.times[k] as number) > t) k--;
    return this.next[k] as number;
  }

  /** Fills `slot` with product p's history and returns its count (see {@link counts}). */
  private fill(p: number, slot: number): number {
    // Built, not taken from the histories' cache: kept there, every history the table copies
    // would be promoted to the old generation and then replaced, garbage growing with the rows.
    const history = this.histories.build(p);
    const n = history.times.length;
    if (this.keys) this.keys[slot] = p;
    if (n > PriceTable.STRIDE) {
      Atomics.store(this.counts, slot, 1);
      return 1;
    }
    this.first[slot] = n === 0 ? this.finalPrice(p) : (history.previous[0] as number);
    const base = slot * PriceTable.STRIDE;
    for (let k = 0; k < n; k++) {
      this.times[base + k] = history.times[k] as number;
      this.next[base + k] = history.next[k] as number;
    }
    // Last, so a thread sharing the table never sees the count before the prices.
    Atomics.store(this.counts, slot, n + 2);
    return n + 2;
  }
}

/** A product's name from the first draws of its stream. */
const nameOf = ({ brand, adjective, noun, model }: { brand: string; adjective: string; noun: string; model: string }): string => `${brand} ${adjective} ${noun}${model}`;

/** A product's weight in kg: its stream's draw after the cost's. */
const weightOf = (rng: Rng, { sub }: { sub: { minKg: number; maxKg: number } }): number => Math.round(rng.uniform(sub.minKg, sub.maxKg) * 100) / 100;

/** The start of a SKU (`DEP-SUB-`) by leaf category node (a fixed catalogue: bounded). */
const SKU_PREFIXES = new Map<CategoryNode, string>();

/** What other entities read of a product: {@link ProductGenerator.facts}. */
export interface ProductFacts {
  readonly name: string;
  readonly brand: string;
  readonly sku: string;
  /** Kilograms, as the record's `weight`. */
  readonly weight: number;
}

/**
 * Catalogue products. Price is log-uniform inside the subcategory's band with the currency's
 * price points ({@link pricePoint}): the price at the window end, after the product's price
 * history ({@link priceAt}); cost is 35-75% of price; stock_quantity is the sum of the
 * product's inventory.
 *
 * @example
 * const p = new ProductGenerator(world).record(0); // p.cost < p.price
 */
export class ProductGenerator extends EntityGenerator<Product> {
  readonly population: number;
  private readonly cache: RecordCache<Product>;
  private readonly factsCache: RecordCache<ProductFacts>;
  private readonly lookupRng = new Rng();
  private readonly factsRng = new Rng();
  /** Every product's price changes over the window (src/generators/price-history.ts). */
  readonly histories: PriceHistories;

  constructor(world: World) {
    super(world, 'products');
    this.population = world.sizes.products;
    // Started at up to 8,192 slots (128 KB), not 64: a product is dear to build (its stock sums a
    // keyed draw per warehouse), and each doubling of a small cache drops what it held, so the
    // change feed of a scale-10 world built its 5,000 products 21,262 times.
    this.cache = new RecordCache((i) => this.build(i), this.population, 65_536, 8192);
    // Facts are cheap to build: the cache starts small (a new world's set-up) and grows.
    this.factsCache = new RecordCache((i) => this.buildFacts(i), this.population, 65_536);
    this.histories = new PriceHistories(world, (p) => this.priceCents(p));
  }

  /** Product i, memoised: order lines look up products far more often than they change. */
  record(i: number): Product {
    return this.cache.get(i);
  }

  /**
   * Product i's name, brand, SKU and weight, exactly the record's, from the first draws of its
   * stream without the rest of the record; memoised. Shipments (weight), sessions (SKU, name),
   * reviews and notifications (name) read only these: building whole records for them summed
   * each product's stock over every warehouse, most of a render thread's CPU for shipments at
   * scale 100.
   */
  facts(i: number): ProductFacts {
    return this.factsCache.get(i);
  }

  private buildFacts(i: number): ProductFacts {
    const rng = this.factsRng.key(this.world.seed, this.tag, i);
    const head = this.head(rng);
    rng.next(); // the cost's draw (see build)
    return { name: nameOf(head), brand: head.brand, sku: this.skuOf(i, head), weight: weightOf(rng, head) };
  }

  /** `DEP-SUB-000042`: department, subcategory and number of product i. */
  private skuOf(i: number, { node, sub }: { node: CategoryNode; sub: { name: string } }): string {
    let prefix = SKU_PREFIXES.get(node);
    if (prefix === undefined) {
      // Once per category node: per product, its regular expression was ~3% of a render thread's CPU for sessions at scale 100.
      prefix = `${node.department.name.slice(0, 3).toUpperCase()}-${sub.name.replace(/[^A-Za-z]/g, '').slice(0, 3).toUpperCase()}-`;
      SKU_PREFIXES.set(node, prefix);
    }
    return prefix + String(i + 1).padStart(6, '0');
  }

  /** The leaf category index of product p: the first draw of its stream, without the record. */
  categoryIndex(p: number): number {
    return this.lookupRng.key(this.world.seed, this.tag, p).pick(LEAF_CATEGORY_INDEXES);
  }

  /**
   * The product index an order line buys: a long-tail draw, so a few products sell most.
   * Popularity is by index, and indexes are unrelated to category, price or vendor.
   */
  popularIndex(u: number): number {
    return longTail(u, this.population);
  }

  /**
   * The price of product p in cents, exactly the record's, from the first draws of its stream
   * without building (or caching) the record: order lines and transactions need only the price,
   * and building whole products for them filled the product cache (memory grew with the rows
   * streamed at large scales).
   */
  priceCents(p: number): number {
    return this.head(this.lookupRng.key(this.world.seed, this.tag, p)).priceCents;
  }

  /**
   * The price of product p in cents at moment t (epoch ms): the new price of its last change at
   * or before t, else the price before its first change. At the window end it is the record's
   * price. O(number of changes of p), from {@link PriceTable} (the same answer as
   * `histories.priceAt`, which a test holds).
   */
  priceAt(p: number, t: number): number {
    return (this.prices ??= this.priceTable()).priceAt(p, t);
  }

  private prices?: PriceTable;

  /**
   * Makes the price table now (empty) rather than at the first price asked for, so that a world
   * whose orders are rendered on worker threads registers it before the first batch is sent and
   * the workers share it (see {@link PriceTable}). Costs nothing measurable: zeroed memory.
   */
  sharePrices(): void {
    this.prices ??= this.priceTable();
  }

  private priceTable(): PriceTable {
    return new PriceTable(this.world, this.population, this.histories, (q) => this.priceCents(q));
  }

  /** The first draws of a product's stream: category, brand, noun, model, adjective and price. */
  private head(rng: Rng) {
    const node = CATEGORY_NODES[rng.pick(LEAF_CATEGORY_INDEXES)] as CategoryNode;
    const sub = node.subcategory;
    if (!sub) throw new Error('products are filed under leaf categories');
    const brand = rng.pick(node.department.brands);
    const noun = rng.pick(sub.nouns);
    const model = rng.chance(0.4) ? ` ${String.fromCharCode(65 + rng.int(26))}${rng.between(1, 9)}` : '';
    const adjective = rng.pick(ADJECTIVES);
    // Log-uniform inside the band (US dollars), then a retail price point of the currency.
    const raw = Math.exp(rng.uniform(Math.log(sub.minPrice), Math.log(sub.maxPrice)));
    const priceCents = pricePoint(this.world.profile.currency, raw, rng.chance(0.8));
    return { node, sub, brand, noun, model, adjective, priceCents };
  }

  private build(i: number): Product {
    const { profile, window } = this.world;
    const rng = this.keyed(i);
    const head = this.head(rng);
    const { node, sub, brand, noun, adjective, priceCents } = head;
    const name = nameOf(head);
    const costCents = Math.min(priceCents - 1, Math.max(1, Math.round(priceCents * rng.uniform(0.35, 0.75))));
    const weight = weightOf(rng, head);
    const l = Math.max(1, Math.round(10 * Math.cbrt(weight * 4) * rng.uniform(0.8, 1.6)));
    const w = Math.max(1, Math.round(l * rng.uniform(0.3, 0.9)));
    const h = Math.max(1, Math.round(l * rng.uniform(0.1, 0.6)));
    const vendor = longTail(rng.next(), this.world.sizes.vendors);
    const created = busyMoment(rng, window.start - CATALOGUE_HISTORY_MS, window.start);
    const description = `${adjective} ${noun.toLowerCase()} from ${brand}, part of our ${sub.name.toLowerCase()} range. ${rng.pick(CLOSERS)}`;
    return {
      product_id: this.idOf(i),
      sku: this.skuOf(i, head),
      name,
      category_id: this.world.generator('categories').idOf(node.index),
      category: node.name,
      vendor_id: this.world.generator('vendors').idOf(vendor),
      supplier: this.world.generator('suppliers').record(this.world.generator('product-suppliers').suppliersOf(i)[0] as number).name,
      brand,
      price: money(priceCents),
      cost: money(costCents),
      currency: profile.currency as Product['currency'],
      stock_quantity: this.world.generator('inventory').stockOf(i),
      description,
      weight,
      dimensions: `${l} x ${w} x ${h} cm`,
      created_at: iso(created),
      is_active: rng.chance(0.93),
    };
  }
}
