import type { FieldSource, FieldWriter } from '../formats/index.js';
import type { Order, OrderLine } from '../schemas/order.js';
import { ORDER_STATUSES, SHIPPING_METHODS } from '../schemas/order.js';
import { EntityGenerator, RecordCache, longTail, longTailShare, money } from './entity.js';
import { orderPays, orderShips } from './knobs.js';
import { IdSpace, Rng, WeightedChoice, tagOf } from './random.js';
import { DAY, HOUR, MINUTE, iso, laterBy } from './time.js';
import { SHOP_UTC_OFFSET_HOURS, Timeline } from './timeline.js';
import type { UserGenerator } from './users.js';
import type { World } from './world.js';

export type OrderStatus = (typeof ORDER_STATUSES)[number];
export type ShippingMethod = (typeof SHIPPING_METHODS)[number];

/**
 * The skeleton of an order: who, when, how many lines, and every lifecycle time, decided
 * before (and without) its lines and money. Children (payments, shipments, returns) and their
 * populations are derived from it, so it must stay cheap.
 */
export interface OrderPlan {
  /** Where in its slot of the orders timeline the order fell (u ∈ [0, 1); sessions use it). */
  readonly position: number;
  readonly user: number;
  readonly createdAt: number;
  readonly lines: number;
  readonly method: ShippingMethod;
  readonly status: OrderStatus;
  /** When the payment was authorised, declined (failed) — null if still pending at the window end. */
  readonly paymentAt: number | null;
  readonly paymentStatus: 'pending' | 'completed' | 'failed' | 'refunded';
  readonly cancelledAt: number | null;
  readonly shippedAt: number | null;
  readonly estimatedDeliveryAt: number;
  readonly deliveredAt: number | null;
  /** The returned line (0-based), or -1 when the order has no return. */
  readonly returnLine: number;
  readonly returnRequestedAt: number;
  readonly updatedAt: number;
}

const SALT_PLAN = tagOf('plan');

/** Order `order`'s lines: product index, quantity and unit price in cents of each, in line order. */
export interface Basket {
  readonly order: number;
  readonly products: readonly number[];
  readonly quantities: readonly number[];
  readonly unitCents: readonly number[];
}

/**
 * Order volume follows the customer base: ORDER_BASE (the base the shop had before the window,
 * as a share of its sign-ups during it) plus the share of the window's sign-ups so far. With
 * the default growth the last month sees about 2.5 times the first month's orders.
 */
const ORDER_BASE = 0.6;

/** Most customers order now and then; this share of orders goes to the loyal long tail. */
const LOYAL_SHARE = 0.2;

/**
 * How many orders user j can expect relative to the average customer (1 = average): the
 * customer draw above, in closed form. Segments are assigned from it.
 */
export function expectedOrderRatio(j: number, users: number): number {
  return 1 - LOYAL_SHARE + LOYAL_SHARE * users * longTailShare(j, users);
}
const ORDER_ITEMS_TAG = tagOf('order-items');

// Baskets are mostly small: 45% single-line, a long thin tail up to 10 lines.
const BASKET = new WeightedChoice([
  [1, 45], [2, 25], [3, 13], [4, 7.5], [5, 4.5], [6, 2.2], [7, 1.3], [8, 0.7], [9, 0.5], [10, 0.3],
] as const);
const QUANTITY = new WeightedChoice([[1, 76], [2, 16], [3, 5], [4, 2], [5, 1]] as const);
const METHOD = new WeightedChoice<ShippingMethod>([['standard', 70], ['express', 22], ['next_day', 8]]);

const DIGITS3 = Array.from({ length: 1000 }, (_, k) => String(k).padStart(3, '0'));
const DIGITS4 = Array.from({ length: 10_000 }, (_, k) => String(k).padStart(4, '0'));

/**
 * `ORD-` and n in at least 7 digits. Below 10,000,000 from two digit tables: V8 caches every
 * number it turns into a string in its old generation, and a new number per order made that
 * cache a steady source of old garbage (memory grew with the orders streamed).
 */
function orderNumber(n: number): string {
  if (n >= 10_000_000) return `ORD-${n}`;
  const high = Math.floor(n / 10_000);
  return 'ORD-' + (DIGITS3[high] as string) + (DIGITS4[n - high * 10_000] as string);
}

const PRODUCT_ID_SLOTS = 65_536;

/** The fields of an order, and of each of its lines, in the order {@link OrderGenerator.fields} writes them (the schema's order). */
const ORDER_COLUMNS: readonly string[] = [
  'order_id', 'order_number', 'user_id', 'status', 'created_at', 'updated_at', 'shipping_address', 'shipping_city',
  'shipping_state', 'shipping_postal_code', 'shipping_country', 'shipping_method', 'item_count', 'subtotal', 'discount',
  'promotion_id', 'promotion_code', 'tax', 'shipping_cost', 'total', 'currency', 'items',
];
const LINE_COLUMNS: readonly string[] = ['order_item_id', 'line_number', 'product_id', 'quantity', 'unit_price', 'total'];

/** Delivery charge in cents by locale and method; standard is free above the threshold. */
const SHIPPING_FEES = {
  USD: { threshold: 5000, standard: 599, express: 1299, next_day: 2499 },
  GBP: { threshold: 4000, standard: 399, express: 699, next_day: 999 },
} as const;

/** Working days a method promises, as [min, max]. */
const PROMISE_DAYS: Record<ShippingMethod, readonly [number, number]> = {
  standard: [3, 5],
  express: [2, 2],
  next_day: [1, 1],
};

/**
 * Customer orders with nested lines, numbered in time order: order i+1 is never placed before
 * order i (order numbers increase with time), and an order's customer signed up at least a
 * minute before it. Status is the stage each order reached by the end of the
 * window, so every timestamp in the world lies inside the window and statuses agree with them.
 *
 * @example
 * const o = new OrderGenerator(world).record(0);
 * o.total === o.subtotal - o.discount + o.tax + o.shipping_cost; // to the cent
 */
export class OrderGenerator extends EntityGenerator<Order> {
  readonly population: number;
  private readonly planRng = new Rng();
  private readonly countRng = new Rng();
  private readonly promotionCodes = new Map<number, { readonly promotion_id: string; readonly code: string }>();
  private readonly plans: RecordCache<OrderPlan>;
  private readonly orders: RecordCache<{ order: Order; products: readonly number[] }>;
  private readonly baskets: RecordCache<Basket>;
  private readonly basketRng = new Rng();
  private readonly chargeRng = new Rng();
  private readonly users: UserGenerator;
  private readonly lineIds: IdSpace;
  /**
   * Product ids of order lines, direct-mapped by product index (at most PRODUCT_ID_SLOTS
   * strings, ~4 MB): popular products recur in most orders, and their uuid was hashed and
   * written again for each line. A slot holds the id of `productIdOwner[slot]` (-1: empty).
   * As many slots as products (a power of two): 65,536 for every world cost each new world ~1 ms
   * and 0.8 MB of garbage, most of an unseeded orders page's world set-up on the event loop.
   */
  private readonly productIds: string[];
  private readonly productIdOwner: Int32Array;
  private readonly productIdMask: number;
  /** When orders are placed: the daily curve, week and season on top of the customer base. */
  readonly timeline: Timeline;
  /** The earliest moment an order can be placed: a minute after the first sign-up. */
  private readonly firstOrderAt: number;

  constructor(world: World) {
    super(world, 'orders');
    this.population = world.sizes.orders;
    const slots = Math.min(PRODUCT_ID_SLOTS, 2 ** Math.ceil(Math.log2(Math.max(1, world.sizes.products))));
    this.productIds = new Array<string>(slots).fill('');
    this.productIdOwner = new Int32Array(slots).fill(-1);
    this.productIdMask = slots - 1;
    const signups = world.generator('users');
    this.timeline = new Timeline(world.window, SHOP_UTC_OFFSET_HOURS, (from, to) =>
      ORDER_BASE + signups.timeline.fractionBefore((from + to) / 2),
    );
    this.firstOrderAt = signups.createdAt(0) + MINUTE;
    this.lineIds = new IdSpace(world.seed, ORDER_ITEMS_TAG);
    this.plans = new RecordCache((i) => this.buildPlan(i), this.population, 256);
    this.orders = new RecordCache((i) => this.build(i), this.population, 64);
    this.baskets = new RecordCache((i) => this.drawBasket(i, this.plan(i), this.basketRng.key(this.world.seed, this.tag, i)), this.population, 64);
    // Orders copy only the customer's id and address: no user record is built or cached (a
    // cache of whole users filled with the population and was most of orders' GC time).
    this.users = world.generator('users');
    // Made now, before the first batch of this world is sent to a render worker, so that the
    // workers share this thread's price table rather than fill one each (src/generators/products.ts).
    world.generator('products').sharePrices();
  }

  record(i: number): Order {
    return this.orders.get(i).order;
  }

  /**
   * Product indexes of order i's lines, in line order: the held record's, else the basket's (the
   * same draws, test/generators/served-order.test.ts) without building the order. A checkout
   * session's script asks for them before its order is placed: building the whole order there
   * (address, ids, checkout) and again for order.placed, after the small record cache had
   * dropped it, was ~50,000 extra order builds in the scale-10 change feed.
   */
  lineProducts(i: number): readonly number[] {
    return this.orders.peek(i)?.products ?? this.basket(i).products;
  }

  /**
   * The moment at a position of the orders timeline: order i is placed at momentAt(i + u) for its
   * own u ∈ [0, 1), so positions in [i, i + 1) are "around order i" (sessions use them).
   * Never before the first order can be placed; non-decreasing in the position.
   */
  momentAt(position: number): number {
    // Clamping a non-decreasing sequence from below keeps it non-decreasing.
    return Math.max(this.firstOrderAt, this.timeline.timeAt(position / this.population));
  }

  plan(i: number): OrderPlan {
    return this.plans.get(i);
  }

  /**
   * How many lines order i has, exactly `plan(i).lines`, from the plan's draws without the rest
   * of the plan: counting the lines of every order (the order-items index) then skips the
   * timeline and sign-up lookups. The draws before the basket (position, customer) are fixed
   * in number; see buildPlan.
   */
  lineCount(i: number): number {
    const rng = this.countRng.key(this.world.seed, this.tag, i, SALT_PLAN);
    rng.u32(); // position
    rng.u32(); // loyal or not
    rng.u32(); // which customer
    return Math.min(BASKET.draw(rng), this.world.sizes.products);
  }

  /** The id of line k (0-based) of order i; the order-items endpoint serves the same id. */
  lineId(i: number, k: number): string {
    return this.lineIds.uuid(i, k + 1);
  }

  private buildPlan(i: number): OrderPlan {
    const { end } = this.world.window;
    const rng = this.planRng.key(this.world.seed, this.tag, i, SALT_PLAN);
    // lineCount replays the draws up to the basket: keep their number fixed.
    const position = rng.next();
    const createdAt = this.momentAt(i + position);
    // The customer is one of those who had signed up a minute before: users are numbered in
    // sign-up order, so that is a prefix 0..signedUp-1 (at least user 0).
    const signedUp = Math.max(1, this.world.generator('users').signedUpBy(createdAt - MINUTE));
    const user = rng.chance(1 - LOYAL_SHARE) ? rng.int(signedUp) : longTail(rng.next(), signedUp);
    // A basket never lists a product twice, so a tiny catalogue caps the basket.
    const lines = Math.min(BASKET.draw(rng), this.world.sizes.products);
    const method = METHOD.draw(rng);

    const cancelled = rng.chance(0.06);
    const declined = cancelled && rng.chance(0.4);
    let paymentAt = declined
      ? laterBy(rng, createdAt, 20_000, 5 * MINUTE)
      : laterBy(rng, createdAt, 20_000, 45 * MINUTE);
    // A declined payment cancels the order at once; a customer cancels within a day of paying.
    let cancelAt = cancelled ? (declined ? paymentAt : laterBy(rng, paymentAt, 10 * MINUTE, DAY)) : Infinity;
    let shipAt = cancelled ? Infinity : laterBy(rng, paymentAt, 2 * HOUR, 3 * DAY);
    const [minDays, maxDays] = PROMISE_DAYS[method];
    const estimatedAt = (Number.isFinite(shipAt) ? shipAt : paymentAt) + rng.between(minDays, maxDays) * DAY;
    let deliverAt = !Number.isFinite(shipAt)
      ? Infinity
      : rng.chance(0.86)
        ? estimatedAt - laterBy(rng, 0, 0, Math.min(DAY, estimatedAt - shipAt - 2 * HOUR))
        : estimatedAt + laterBy(rng, 0, 2 * HOUR, 3 * DAY);
    // The payment_ratio and shipment_ratio knobs (src/generators/knobs.ts): unpaid orders stay pending, unshipped ones processing.
    if (!orderPays(this.world, i)) paymentAt = cancelAt = shipAt = deliverAt = Infinity;
    else if (!Number.isFinite(cancelAt) && !orderShips(this.world, i)) shipAt = deliverAt = Infinity;

    const before = (t: number) => t < end;
    let status: OrderStatus;
    if (before(cancelAt)) status = 'cancelled';
    else if (before(deliverAt)) status = 'delivered';
    else if (before(shipAt)) status = 'shipped';
    else if (before(paymentAt) && !declined) status = 'processing';
    else status = 'pending';

    let paymentStatus: OrderPlan['paymentStatus'] = 'pending';
    if (before(paymentAt)) {
      if (declined) paymentStatus = 'failed';
      else paymentStatus = status === 'cancelled' ? 'refunded' : 'completed';
    }

    let returnLine = -1;
    let returnRequestedAt = Infinity;
    if (status === 'delivered' && rng.chance(0.08)) {
      const requested = laterBy(rng, deliverAt, HOUR, 30 * DAY);
      if (before(requested)) {
        returnLine = rng.int(lines);
        returnRequestedAt = requested;
      }
    }
    // The latest of the moments that happened (no temporary array: this runs for every order).
    let updatedAt = -Infinity;
    if (before(createdAt)) updatedAt = createdAt;
    if (before(paymentAt) && paymentAt > updatedAt) updatedAt = paymentAt;
    if (before(cancelAt) && cancelAt > updatedAt) updatedAt = cancelAt;
    if (before(shipAt) && shipAt > updatedAt) updatedAt = shipAt;
    if (before(deliverAt) && deliverAt > updatedAt) updatedAt = deliverAt;
    return {
      position,
      user,
      createdAt,
      lines,
      method,
      status,
      paymentAt: before(paymentAt) ? paymentAt : null,
      paymentStatus,
      cancelledAt: before(cancelAt) ? cancelAt : null,
      shippedAt: status === 'shipped' || status === 'delivered' ? shipAt : null,
      estimatedDeliveryAt: estimatedAt,
      deliveredAt: status === 'delivered' ? deliverAt : null,
      returnLine,
      returnRequestedAt,
      updatedAt,
    };
  }

  /** The id of product p (the products' own idOf), through the direct-mapped slots. */
  private productId(p: number): string {
    const slot = p & this.productIdMask;
    if (this.productIdOwner[slot] === p) return this.productIds[slot] as string;
    const id = this.world.generator('products').idOf(p);
    this.productIdOwner[slot] = p;
    this.productIds[slot] = id;
    return id;
  }

  /** Id and code of promotion j, memoised (promotions are few; a whole record per order was not). */
  private promotionCode(j: number): { readonly promotion_id: string; readonly code: string } {
    let code = this.promotionCodes.get(j);
    if (!code) {
      const { promotion_id, code: text } = this.world.generator('promotions').record(j);
      code = { promotion_id, code: text };
      this.promotionCodes.set(j, code);
    }
    return code;
  }

  /**
   * Order i's lines without the rest of the order (customer, promotion, totals): what
   * order-items serve. The same draws, in the same order, as the start of {@link build}, from
   * its own stream positioned the same way, so the values are the record's (a test holds them
   * together); memoised for the lines of one order asked for one after the other.
   */
  basket(i: number): Basket {
    return this.baskets.get(i);
  }

  /** The lines' draws: the first draws of order i's stream (`rng` positioned at it), left after them. */
  private drawBasket(i: number, plan: OrderPlan, rng: Rng): Basket {
    const products = this.world.generator('products');
    const chosen: number[] = [];
    const quantities: number[] = [];
    const unitCents: number[] = [];
    for (let k = 0; k < plan.lines; k++) {
      // A basket does not list the same product twice; redraw on a clash (bounded).
      let p = products.popularIndex(rng.next());
      for (let attempt = 0; chosen.includes(p) && attempt < 16; attempt++) p = rng.int(products.population);
      while (chosen.includes(p)) p = (p + 1) % products.population;
      chosen.push(p);
      quantities.push(QUANTITY.draw(rng));
      unitCents.push(products.priceAt(p, plan.createdAt));
    }
    return { order: i, products: chosen, quantities, unitCents };
  }

  /**
   * Orders written field by field (see src/formats/fields.ts): the draws of {@link build}, in the
   * same order, written as they are drawn, with no record, line objects or field strings (ids,
   * timestamps and amounts go straight into bytes). A test holds the bytes of both ways equal in
   * every format, at two scales and in both locales.
   */
  readonly fields: FieldSource = {
    columns: ORDER_COLUMNS,
    write: (i, w) => this.writeFields(i, w),
  };

  private writeFields(i: number, w: FieldWriter): void {
    const plan = this.plan(i);
    const rng = this.keyed(i);
    const user = this.users.shippingOf(plan.user);
    const basket = this.drawBasket(i, plan, rng);
    const { subtotal, promotion, discount, tax, shipping } = this.checkout(plan, rng, basket, user.taxRate);
    w.begin();
    this.writeId(i, w);
    w.safe(orderNumber(i + 1));
    this.users.writeId(plan.user, w);
    w.safe(plan.status);
    w.timestamp(plan.createdAt);
    w.timestamp(plan.updatedAt);
    w.text(user.address);
    w.text(user.city);
    w.text(user.state);
    w.text(user.postal_code);
    w.text(user.country);
    w.safe(plan.method);
    w.number(plan.lines);
    // money(x) is Math.round(x) / 100: the writers take its whole cents.
    w.money(Math.round(subtotal));
    w.money(Math.round(discount));
    if (promotion >= 0) {
      const promo = this.promotionCode(promotion);
      w.safe(promo.promotion_id);
      w.text(promo.code);
    } else {
      w.nil();
      w.nil();
    }
    w.money(Math.round(tax));
    w.money(Math.round(shipping));
    w.money(Math.round(subtotal - discount + tax + shipping));
    w.safe(this.world.profile.currency);
    w.list(LINE_COLUMNS, plan.lines);
    for (let k = 0; k < plan.lines; k++) {
      const quantity = basket.quantities[k] as number;
      const unit = basket.unitCents[k] as number;
      w.item();
      w.uuid(this.lineIds, i, k + 1);
      w.number(k + 1);
      w.safe(this.productId(basket.products[k] as number));
      w.number(quantity);
      w.money(Math.round(unit));
      w.money(Math.round(unit * quantity));
      w.endItem();
    }
    w.endList();
    w.end();
  }

  private build(i: number): { order: Order; products: readonly number[] } {
    const { profile } = this.world;
    const plan = this.plan(i);
    const rng = this.keyed(i);
    const user = this.users.shippingOf(plan.user);
    const basket = this.drawBasket(i, plan, rng);
    const chosen = basket.products;
    const items: OrderLine[] = [];
    for (let k = 0; k < plan.lines; k++) {
      const quantity = basket.quantities[k] as number;
      const unit = basket.unitCents[k] as number;
      items.push({
        order_item_id: this.lineId(i, k),
        line_number: k + 1,
        product_id: this.productId(chosen[k] as number),
        quantity,
        unit_price: money(unit),
        total: money(unit * quantity),
      });
    }
    const { subtotal, promotion, discount, tax, shipping } = this.checkout(plan, rng, basket, user.taxRate);
    const promo = promotion >= 0 ? this.promotionCode(promotion) : null;
    const order: Order = {
      order_id: this.idOf(i),
      order_number: orderNumber(i + 1),
      user_id: this.users.idOf(plan.user),
      status: plan.status,
      created_at: iso(plan.createdAt),
      updated_at: iso(plan.updatedAt),
      shipping_address: user.address,
      shipping_city: user.city,
      shipping_state: user.state,
      shipping_postal_code: user.postal_code,
      shipping_country: user.country,
      shipping_method: plan.method,
      item_count: plan.lines,
      subtotal: money(subtotal),
      discount: money(discount),
      promotion_id: promo ? promo.promotion_id : null,
      promotion_code: promo ? promo.code : null,
      tax: money(tax),
      shipping_cost: money(shipping),
      total: money(subtotal - discount + tax + shipping),
      currency: profile.currency as Order['currency'],
      items,
    };
    return { order, products: chosen };
  }

  /**
   * The checkout of a drawn basket, in cents: the promotion the shopper tries (the draws after
   * the basket's), tax at the customer's rate and the shipping fee. Shared by {@link build}
   * and {@link charged}, so the record and the analytics sums cannot drift apart.
   */
  private checkout(plan: OrderPlan, rng: Rng, basket: Basket, taxRate: number) {
    let subtotal = 0;
    for (let k = 0; k < plan.lines; k++) subtotal += (basket.unitCents[k] as number) * (basket.quantities[k] as number);
    // About a third of shoppers try a code at checkout; it sticks when it applies to the basket.
    let promotion = -1;
    let discount = 0;
    if (rng.chance(0.35)) {
      // The lines as promotions see them, only for the orders that try a code (categoryIndex
      // is a keyed lookup per line; it uses the products' stream, not this order's).
      const products = this.world.generator('products');
      const promotions = this.world.generator('promotions');
      const lines = basket.products.map((product, k) => ({ product, category: products.categoryIndex(product), totalCents: (basket.unitCents[k] as number) * (basket.quantities[k] as number) }));
      for (let attempt = 0; attempt < 3 && promotion < 0; attempt++) {
        const j = rng.int(promotions.population);
        const off = promotions.discountCents(promotions.termsOf(j), plan.createdAt, subtotal, lines);
        if (off >= 0) {
          promotion = j;
          discount = off;
        }
      }
    }
    const taxable = subtotal - discount;
    const tax = Math.round(taxable * taxRate);
    const fees = SHIPPING_FEES[this.world.profile.currency as keyof typeof SHIPPING_FEES];
    const shipping = plan.method === 'standard' && taxable >= fees.threshold ? 0 : fees[plan.method];
    return { subtotal, promotion, discount, tax, shipping };
  }

  /**
   * Order i's basket and total in cents, exactly the record's, without building the record (ids,
   * address, formatted amounts): what the analytics aggregates sum.
   * test/generators/analytics.test.ts holds the sums equal to the served orders'.
   */
  charged(i: number): { basket: Basket; totalCents: number } {
    const plan = this.plan(i);
    const rng = this.chargeRng.key(this.world.seed, this.tag, i);
    const basket = this.drawBasket(i, plan, rng);
    const { subtotal, discount, tax, shipping } = this.checkout(plan, rng, basket, this.users.place(plan.user).taxRate);
    return { basket, totalCents: subtotal - discount + tax + shipping };
  }
}
