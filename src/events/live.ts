import { IdSpace, Rng, tagOf } from '../generators/random.js';
import { DAY, DEFAULT_END_DATE, DEFAULT_START_DATE, MINUTE, iso, parseDate } from '../generators/time.js';
import { World, resolveSizes } from '../generators/world.js';
import type { InventoryMovement } from '../schemas/inventory-movement.js';
import type { Order } from '../schemas/order.js';
import { EVENT_TYPES, type EventType } from './catalogue.js';
import { defectOf, DEFAULT_MAX_LATENESS_MS } from './chaos.js';
import { ClickstreamBySession, INTERACTION_TYPES, corrupt } from './feed.js';
import { ShipmentsByOrder } from '../generators/inventory-movements.js';
import type { FeedEvent, LiveWorldSpec } from './types.js';
import { DEFAULT_TIME_ZONE, rateAt } from '../streams/rate.js';

/**
 * The highest base rate of a live world, events per second. Times the daily curve's 1.4 at 15:00
 * that is 840,000 events in a minute, within the minute's sequence space (sequence = minute x
 * 1,000,000 + position) and its index space (MINUTE_SLOTS); a higher rate would overflow both.
 */
export const MAX_LIVE_EVENTS_PER_SECOND = 10_000;

/** The reference generator's event mix: orders 0.6, interactions 0.3, inventory 0.1. */
export const DEFAULT_WEIGHTS = { orders: 0.6, interactions: 0.3, inventory: 0.1 } as const;


/** Mean events one live order contributes (placed, authorised, paid x2, dispatched, shipped, ~1.9 sales, delivered x2). */
const EVENTS_PER_ORDER = 10;
/** Orders a minute can hold (the index space of a minute's orders). */
const MINUTE_SLOTS = 2 ** 20;

// The lifecycle of a live order in whole minutes after its placement, so the orders whose
// stage falls in a given minute are found by looking back over a bounded set of offsets.
const PAY_MAX = 45; // payment 0-44 minutes after placement
const CANCEL_MIN = 10; // a customer cancels 10-59 minutes after paying
const CANCEL_SPAN = 50;
/**
 * Hours from placement to dispatch: 1-3 hours, the same day or the next. A warehouse ships at
 * about the hour of day its orders came in (and a carrier delivers whole days later), so the
 * order flow follows the daily curve an hour or two behind. Spread over 2-49 hours, as before,
 * the shipments and deliveries of the day's orders came at night at the day's average rate,
 * more than a 03:00 minute's whole budget (seed 42 at 20 events/s: 493-536 events against 480,
 * no interactions); now the night keeps its interactions (about a quarter of its events).
 */
const SHIP_HOURS = [1, 2, 3, 25, 26, 27] as const;
const DELIVERY_DAYS_MIN = 1; // delivered 1-4 days after shipping
const DELIVERY_DAYS_SPAN = 4;

/**
 * Units of planning work (an order drawn or scanned, an event placed, sorted or given its
 * chaos) between two pauses of an asynchronous plan: at most about 3 ms (5,000 orders drawn),
 * so planning a minute never holds the event loop longer. Every planning loop counts its units
 * in `planUnits` and pauses when the count reaches a multiple of SLICE.
 */
const SLICE = 5_000;
let planUnits = 0;
/** Order lines of the base world's stock ledger walked between two pauses (about 3 ms; see prepareFlows). */
const PREPARE_BUDGET = 1_000;

/** The stages up to a cancellation look back this many minutes: their plans are kept between minutes. */
const RECENT_MINUTES = PAY_MAX + CANCEL_MIN + CANCEL_SPAN;

const TAG_ORDER = tagOf('live-orders');
const TAG_COUNT = tagOf('live-counts');
const TAG_OTHER = tagOf('live-other');

/** The plans of one minute's orders, by order number k (columns, 12 bytes an order). */
interface MinutePlans {
  readonly n: number;
  /** Milliseconds into the minute (< 60,000). */
  readonly offsetMs: Uint16Array;
  readonly template: Uint32Array;
  /** Minutes from placement to payment (< PAY_MAX). */
  readonly pay: Uint8Array;
  readonly declined: Uint8Array;
  /** Minutes after placement, or -1. */
  readonly cancel: Int16Array;
  readonly shipHours: Uint8Array;
  readonly deliveryDays: Uint8Array;
}

function minutePlans(n: number): MinutePlans {
  return {
    n,
    offsetMs: new Uint16Array(n),
    template: new Uint32Array(n),
    pay: new Uint8Array(n),
    declined: new Uint8Array(n),
    cancel: new Int16Array(n),
    shipHours: new Uint8Array(n),
    deliveryDays: new Uint8Array(n),
  };
}

/**
 * Orders of recent minutes all live worlds together keep (12 bytes each: 96 MB). A stream at
 * 10,000 events/s keeps about 5 million; past the budget, a world draws its recent minutes again.
 */
const RECENT_BUDGET = 8_000_000;
let recentKept = 0;

/** The state a live world keeps: its base world (row templates) and id spaces. */
class LiveWorld {
  readonly base: World;
  readonly orderIds: IdSpace;
  readonly lineIds: IdSpace;
  readonly paymentIds: IdSpace;
  readonly shipmentIds: IdSpace;
  readonly movementIds: IdSpace;
  readonly clickIds: IdSpace;
  readonly fingerprint: string;
  readonly weights: { orders: number; interactions: number; inventory: number };
  /** Row templates addressed directly (no child-index lookups). */
  readonly shipments: ShipmentsByOrder;
  readonly clicks: ClickstreamBySession;
  private readonly rng = new Rng();
  /** Plans of the minutes within RECENT_MINUTES before the latest minute built. */
  private readonly recent = new Map<number, MinutePlans>();
  private recentMinute: number | undefined;

  constructor(readonly spec: LiveWorldSpec) {
    const start = parseDate(DEFAULT_START_DATE, false) as number;
    const end = parseDate(DEFAULT_END_DATE, true) as number;
    this.base = World.of({ seed: spec.seed, sizes: resolveSizes(1, {}), locale: spec.locale, window: { start, end } });
    this.shipments = new ShipmentsByOrder(this.base);
    this.clicks = new ClickstreamBySession(this.base);
    const space = (name: string) => new IdSpace(spec.seed, tagOf(name));
    this.orderIds = space('live-orders');
    this.lineIds = space('live-order-items');
    this.paymentIds = space('live-payments');
    this.shipmentIds = space('live-shipping');
    this.movementIds = space('live-inventory-movements');
    this.clickIds = space('live-clickstream');
    const w = { ...DEFAULT_WEIGHTS, ...spec.weights };
    const sum = w.orders + w.interactions + w.inventory || 1;
    this.weights = { orders: w.orders / sum, interactions: w.interactions / sum, inventory: w.inventory / sum };
    this.fingerprint = tagOf(JSON.stringify([spec.seed, spec.locale, spec.events_per_second, spec.daily_curve, this.weights])).toString(16).padStart(8, '0');
  }

  /**
   * Expected events in minute m (epoch minutes): the base rate times the daily curve of a live
   * stream (0.4x at 03:00 to 1.4x at 15:00 in the shop's time zone, src/streams/rate.ts) at the
   * minute's middle, so a stream's token bucket and its minutes agree on the rate.
   */
  private rate(m: number): number {
    const rate = { eventsPerSecond: this.spec.events_per_second, dailyCurve: this.spec.daily_curve, timeZone: DEFAULT_TIME_ZONE[this.spec.locale] };
    return rateAt(rate, m * MINUTE + MINUTE / 2) * 60;
  }

  /** A count with the given mean: its floor, plus one with the probability of its fraction. */
  private count(mean: number, m: number, lane: number): number {
    const base = Math.floor(mean);
    const rng = this.rng.key(this.spec.seed, TAG_COUNT, m, lane);
    return Math.min(MINUTE_SLOTS - 1, base + (rng.next() < mean - base ? 1 : 0));
  }

  orders(m: number): number {
    return this.count((this.rate(m) * this.weights.orders) / EVENTS_PER_ORDER, m, 0);
  }

  /**
   * The interactions and background stock changes of minute m, given the minute's order-flow
   * events: together they make the minute's total, drawn from the rate, split in the ratio of
   * their weights. (A minute whose order flow alone exceeds its total gets neither.)
   */
  fill(m: number, orderFlow: number): { interactions: number; changes: number } {
    const others = this.weights.interactions + this.weights.inventory;
    if (others <= 0) return { interactions: 0, changes: 0 };
    const room = Math.max(0, this.count(this.rate(m), m, 3) - orderFlow);
    const changes = Math.min(room, this.count((room * this.weights.inventory) / others, m, 2));
    return { interactions: room - changes, changes };
  }

  /**
   * The plans of every order placed in minute m (epoch minutes), drawn once into typed arrays.
   * A minute's events look back at the orders of a few dozen earlier minutes (payment,
   * cancellation, shipment and delivery stages), so plans are columns scanned without
   * allocating, and those of the recent minutes, which the next minutes look at again, are kept.
   */
  plans(m: number): MinutePlans {
    const drawing = this.drawPlans(m);
    let step = drawing.next();
    while (!step.done) step = drawing.next();
    return step.value;
  }

  /** plans(m), pausing (a yield) every SLICE units of work. */
  *drawPlans(m: number): Generator<void, MinutePlans, unknown> {
    const cached = this.recent.get(m);
    if (cached !== undefined) return cached;
    const n = this.orders(m);
    const plans = minutePlans(n);
    const orders = this.base.sizes.orders;
    for (let k = 0; k < n; k++) {
      if (++planUnits % SLICE === 0) yield;
      // The draws, in this order, are the live world's contract: changing them changes its events.
      const rng = this.rng.key(this.spec.seed, TAG_ORDER, m * MINUTE_SLOTS + k);
      plans.offsetMs[k] = rng.int(MINUTE);
      plans.template[k] = rng.int(orders);
      const pay = rng.int(PAY_MAX);
      plans.pay[k] = pay;
      const cancelled = rng.chance(0.06);
      const declined = cancelled && rng.chance(0.4);
      plans.declined[k] = declined ? 1 : 0;
      plans.cancel[k] = cancelled ? (declined ? pay : pay + CANCEL_MIN + rng.int(CANCEL_SPAN)) : -1;
      plans.shipHours[k] = SHIP_HOURS[rng.int(SHIP_HOURS.length)] as number;
      plans.deliveryDays[k] = DELIVERY_DAYS_MIN + rng.int(DELIVERY_DAYS_SPAN);
    }
    const latest = this.recentMinute;
    if (latest !== undefined && m > latest - RECENT_MINUTES && m <= latest) {
      for (const [old, kept] of this.recent) {
        if (old > latest - RECENT_MINUTES) continue;
        this.recent.delete(old);
        recentKept -= kept.n;
      }
      if (recentKept + n <= RECENT_BUDGET) {
        this.recent.set(m, plans);
        recentKept += n;
      }
    }
    return plans;
  }

  /** Lets go of the kept plans (the world leaves the cache). */
  release(): void {
    for (const kept of this.recent.values()) recentKept -= kept.n;
    this.recent.clear();
  }

  /** The shipment stages of order (m, k): the same draws as plans(), read to the end. */
  planStages(m: number, k: number): { shipHours: number; deliveryDays: number } {
    const rng = this.rng.key(this.spec.seed, TAG_ORDER, m * MINUTE_SLOTS + k);
    rng.int(MINUTE);
    rng.int(this.base.sizes.orders);
    rng.int(PAY_MAX);
    if (rng.chance(0.06) && !rng.chance(0.4)) rng.int(CANCEL_SPAN);
    return { shipHours: SHIP_HOURS[rng.int(SHIP_HOURS.length)] as number, deliveryDays: DELIVERY_DAYS_MIN + rng.int(DELIVERY_DAYS_SPAN) };
  }

  /** Keeps the plans of the minutes a live stream at minute m will look at again. */
  at(m: number): void {
    if (this.recentMinute === undefined || m > this.recentMinute) this.recentMinute = m;
  }

  other(m: number, n: number, lane: number): Rng {
    return this.rng.key(this.spec.seed, TAG_OTHER, m * MINUTE_SLOTS + n, lane);
  }
}

const worlds = new Map<string, LiveWorld>();
function liveWorld(spec: LiveWorldSpec): LiveWorld {
  const key = JSON.stringify([spec.seed, spec.locale, spec.events_per_second, spec.daily_curve, spec.weights ?? null]);
  let world = worlds.get(key);
  if (!world) {
    if (worlds.size >= 16) {
      const [oldest, gone] = worlds.entries().next().value as [string, LiveWorld];
      gone.release();
      worlds.delete(oldest);
    }
    world = new LiveWorld(spec);
    worlds.set(key, world);
  }
  return world;
}

/** One live order's plan (the same draws as LiveWorld.plans, for the one order an event needs). */
interface LivePlan {
  readonly offsetMs: number;
  readonly template: number;
  readonly pay: number;
}

// A minute's events are planned as two numbers each, sorted before any row is built: the
// millisecond within the minute, and a sort key that also says which event it is. The key is
// category (0 stock change, 1 interaction, 2 order stage) x 2^46 + body x 64 + rank, where an
// order's body is (placement minute - (m - MAX_BACK)) x 2^20 + k and rank is its stage; a stock
// change's or interaction's body is MINUTE_SLOTS - 1 - n. It sorts as the events' (time, order,
// stage) did when each was an object: stock changes, then interactions (both by n descending),
// then orders by placement.
const MAX_BACK = ((SHIP_HOURS[SHIP_HOURS.length - 1] as number) + 1) * 60 + (DELIVERY_DAYS_MIN + DELIVERY_DAYS_SPAN) * 1440;
const CATEGORY = 2 ** 46;
const RANKS = 64;
const Rank = { Placed: 0, Authorised: 1, Captured: 2, Paid: 3, Failed: 4, Cancelled: 5, Refunded: 6, Dispatched: 7, Shipped: 8, Sale: 9, Arrived: 30, Delivered: 31 } as const;
const Variant = { Plain: 0, Bad: 1, Duplicate: 2, Late: 3 } as const;

/**
 * A minute of a live world, planned (which events, in which order, at which times) but with
 * its rows built only when an event is asked for: planning a minute at 1,000 events/s takes a
 * few milliseconds, building all its rows far longer, so a stream builds them as they fall due.
 */
export interface LiveEvents {
  /** Events of the minute, chaos included. */
  readonly length: number;
  /** Time (epoch ms) of position i, without building it: its event_time is this to the second. */
  timeAt(i: number): number;
  /** Type of position i, without building it (filters skip what they do not want). */
  typeAt(i: number): EventType;
  /** The event at position i (built on each call). */
  at(i: number): FeedEvent;
}

/** A direct-mapped memo keyed by a record index: rows of the base world that many events reuse. */
class Memo<T> {
  private readonly keys = new Float64Array(4096).fill(-1);
  private readonly values = new Array<T | undefined>(4096);

  get(key: number, produce: (key: number) => T): T {
    const slot = key % 4096;
    if (this.keys[slot] === key) return this.values[slot] as T;
    const value = produce(key);
    this.keys[slot] = key;
    this.values[slot] = value;
    return value;
  }
}

/** A minute's order numbers by placement time, then by number: a purchase finds the last one before it by bisection. */
function byPlacement(plans: MinutePlans): { plans: MinutePlans; order: Uint32Array } {
  // A counting sort by millisecond: stable, so orders placed at the same millisecond stay in number order.
  const starts = new Int32Array(MINUTE + 1);
  for (let k = 0; k < plans.n; k++) (starts[(plans.offsetMs[k] as number) + 1] as number)++;
  for (let t = 0; t < MINUTE; t++) (starts[t + 1] as number) += starts[t] as number;
  const order = new Uint32Array(plans.n);
  for (let k = 0; k < plans.n; k++) order[(starts[plans.offsetMs[k] as number] as number)++] = k;
  return { plans, order };
}

/** Builds the rows of a live world's events (the base world's rows with live ids and times). */
class LiveRows {
  private readonly rng = new Rng();
  private readonly orderTemplates = new Memo<Order>();
  private readonly paymentTemplates = new Memo<Record<string, unknown>>();
  private readonly shipmentTemplates = new Memo<Record<string, unknown>>();
  private readonly lines: Int8Array;
  /** Plans of the last few minutes purchases looked at, ordered by placement (a minute's purchases share them; bounded). */
  private readonly purchasePlans = new Map<number, { plans: MinutePlans; order: Uint32Array }>();

  constructor(private readonly live: LiveWorld) {
    this.lines = new Int8Array(live.base.sizes.orders).fill(-1);
  }

  /** Order lines of a base-world order (its stock sales when shipped). */
  linesOf(template: number): number {
    let n = this.lines[template] as number;
    if (n < 0) {
      n = this.live.base.generator('orders').plan(template).lines;
      this.lines[template] = n;
    }
    return n;
  }

  planOf(m0: number, k: number): LivePlan {
    const rng = this.rng.key(this.live.spec.seed, TAG_ORDER, m0 * MINUTE_SLOTS + k);
    const offsetMs = rng.int(MINUTE);
    const template = rng.int(this.live.base.sizes.orders);
    return { offsetMs, template, pay: rng.int(PAY_MAX) };
  }

  /**
   * The live order a PURCHASE at `offset` ms into minute m confirms: the last one placed before
   * it (in this minute, else in the RECENT_MINUTES - 1 minutes before), so its
   * `order_id` names an order the live feed has already placed; with none placed in that time
   * (an order weight of 0), null. The user is that order's customer.
   */
  purchased(m: number, offset: number): { order_id: string; user_id: string } | undefined {
    for (let m0 = m; m0 > m - RECENT_MINUTES; m0--) {
      let placed = this.purchasePlans.get(m0);
      if (placed === undefined) {
        placed = byPlacement(this.live.plans(m0));
        this.purchasePlans.set(m0, placed);
        if (this.purchasePlans.size > 4) this.purchasePlans.delete(this.purchasePlans.keys().next().value as number);
      }
      // The last order placed before `offset` (of orders placed at the same millisecond, the last drawn).
      const before = m0 === m ? offset : MINUTE;
      let lo = 0;
      let hi = placed.order.length;
      while (lo < hi) {
        const mid = (lo + hi) >>> 1;
        if ((placed.plans.offsetMs[placed.order[mid] as number] as number) < before) lo = mid + 1;
        else hi = mid;
      }
      if (lo > 0) {
        const best = placed.order[lo - 1] as number;
        return { order_id: this.live.orderIds.uuid(m0 * MINUTE_SLOTS + best), user_id: this.order(placed.plans.template[best] as number).user_id };
      }
    }
    return undefined;
  }

  private order(template: number): Order {
    return this.orderTemplates.get(template, (i) => this.live.base.generator('orders').record(i));
  }

  /** The live order (m0, k) as a row at a stage. */
  orderRow(m0: number, k: number, plan: LivePlan, status: Order['status'], at: number): Order {
    const template = this.order(plan.template);
    const index = m0 * MINUTE_SLOTS + k;
    return {
      ...template,
      order_id: this.live.orderIds.uuid(index),
      order_number: `LIVE-${m0}-${k + 1}`,
      status,
      created_at: iso(m0 * MINUTE + plan.offsetMs),
      updated_at: iso(at),
      items: template.items.map((item, line) => ({ ...item, order_item_id: this.live.lineIds.uuid(index, line + 1) })),
    };
  }

  payment(m0: number, k: number, plan: LivePlan, status: string, processed: number | null): Record<string, unknown> {
    const template = this.paymentTemplates.get(plan.template, (i) => this.live.base.generator('payments').record(i) as unknown as Record<string, unknown>);
    const index = m0 * MINUTE_SLOTS + k;
    return {
      ...template,
      payment_id: this.live.paymentIds.uuid(index),
      order_id: this.live.orderIds.uuid(index),
      status,
      created_at: iso(m0 * MINUTE + plan.offsetMs),
      processed_at: processed === null ? null : iso(processed),
    };
  }

  shipment(m0: number, k: number, plan: LivePlan, shipped: number, arrives: number, delivered: boolean): Record<string, unknown> {
    const template = this.shipmentTemplates.get(plan.template, (i) => this.live.shipments.of(i, i) as unknown as Record<string, unknown>);
    const index = m0 * MINUTE_SLOTS + k;
    return {
      ...template,
      shipment_id: this.live.shipmentIds.uuid(index),
      order_id: this.live.orderIds.uuid(index),
      shipping_method: this.order(plan.template).shipping_method,
      status: delivered ? 'delivered' : 'in_transit',
      shipped_at: iso(shipped),
      estimated_delivery_at: iso(arrives),
      actual_delivery_at: delivered ? iso(arrives) : null,
    };
  }

  sale(m0: number, k: number, plan: LivePlan, line: number, t: number): InventoryMovement {
    const index = m0 * MINUTE_SLOTS + k;
    const item = this.order(plan.template).items[line] as Order['items'][number];
    const warehouse = this.shipmentTemplates.get(plan.template, (i) => this.live.shipments.of(i, i) as unknown as Record<string, unknown>).warehouse_id as string;
    return {
      movement_id: this.live.movementIds.uuid(index, line + 1),
      product_id: item.product_id,
      warehouse_id: warehouse,
      movement_type: 'SALE',
      quantity: -item.quantity,
      occurred_at: iso(t),
      order_item_id: this.live.lineIds.uuid(index, line + 1),
      return_id: null,
      supplier_id: null,
      note: `Order LIVE-${m0}-${k + 1}, line ${item.line_number}`,
    };
  }
}

const rowsOf = new WeakMap<LiveWorld, LiveRows>();

/** The shipment stage times of an order placed in minute m0 (shipped, arrives) for its plan draws. */
function shipTimes(m0: number, plan: LivePlan, shipHours: number, deliveryDays: number): [number, number] {
  const shipped = (m0 + shipHours * 60) * MINUTE + plan.offsetMs;
  return [shipped, shipped + deliveryDays * DAY];
}

/** A minute planned: per event, its millisecond in the minute and its sort key, in feed order. */
interface MinutePlan {
  readonly offsets: Uint16Array;
  readonly keys: Float64Array;
}

/** What the events of a minute look for among the orders placed `back` minutes before it. */
interface LookBack {
  readonly back: number;
  /** Paid or declined `back` minutes after placement. */
  readonly pay: boolean;
  /** Cancelled by the customer `back` minutes after placement. */
  readonly cancel: boolean;
  /** Dispatched `back` minutes (whole hours) after placement. */
  readonly ship: boolean;
  /** Delivered `back` minutes after placement (some ship-hours-plus-delivery-days sum). */
  readonly deliver: boolean;
}

/** Every placement minute a minute's events come from, nearest first, each looked at once. */
const LOOK_BACKS: readonly LookBack[] = (() => {
  const deliveries = new Set<number>();
  for (const h of SHIP_HOURS) for (let d = DELIVERY_DAYS_MIN; d < DELIVERY_DAYS_MIN + DELIVERY_DAYS_SPAN; d++) deliveries.add(h * 60 + d * 1440);
  const ships = new Set<number>(SHIP_HOURS.map((h) => h * 60));
  const list: LookBack[] = [];
  for (let back = 0; back < MAX_BACK; back++) {
    const role = { back, pay: back < PAY_MAX, cancel: back >= CANCEL_MIN && back < PAY_MAX + CANCEL_MIN + CANCEL_SPAN, ship: ships.has(back), deliver: deliveries.has(back) };
    if (role.pay || role.cancel || role.ship || role.deliver) list.push(role);
  }
  return list;
})();

/**
 * Every event of minute m, planned: times within the minute and sort keys, in feed order. A
 * generator that pauses (yields) every few milliseconds of work, so a caller that must not
 * block plans a minute in slices (see liveMinuteEventsAsync); the result is its return value.
 * Each earlier minute's plans are drawn once and let go (unless recent), so memory holds one
 * minute's orders besides the recent ones and the plan itself.
 */
function* planMinute(live: LiveWorld, rows: LiveRows, m: number): Generator<void, MinutePlan, unknown> {
  const offsets: number[] = [];
  const keys: number[] = [];
  const orderKey = (m0: number, k: number) => 2 * CATEGORY + ((m0 - m + MAX_BACK) * MINUTE_SLOTS + k) * RANKS;
  const push = (offset: number, key: number) => {
    offsets.push(offset);
    keys.push(key);
  };
  live.at(m);
  for (const { back, pay, cancel, ship, deliver } of LOOK_BACKS) {
    const m0 = m - back;
    const plans = yield* live.drawPlans(m0);
    const base = orderKey(m0, 0);
    for (let k = 0; k < plans.n; k++) {
      if (++planUnits % SLICE === 0) yield;
      // Placed (and the payment opened) this minute.
      if (back === 0) {
        const t = plans.offsetMs[k] as number;
        push(t, base + k * RANKS + Rank.Placed);
        push(t, base + k * RANKS + Rank.Authorised);
      }
      // Paid or declined.
      if (pay && plans.pay[k] === back) {
        const t = plans.offsetMs[k] as number;
        const declined = plans.declined[k] === 1;
        push(t, base + k * RANKS + (declined ? Rank.Failed : Rank.Captured));
        push(t, base + k * RANKS + (declined ? Rank.Cancelled : Rank.Paid));
      }
      const cancelAt = plans.cancel[k] as number;
      // Cancelled by the customer after paying.
      if (cancelAt >= 0) {
        if (cancel && cancelAt === back && plans.declined[k] === 0) {
          const t = plans.offsetMs[k] as number;
          push(t, base + k * RANKS + Rank.Cancelled);
          push(t, base + k * RANKS + Rank.Refunded);
        }
        continue;
      }
      if (!ship && !deliver) continue;
      const shipAt = (plans.shipHours[k] as number) * 60;
      // Shipped, with one stock SALE per line.
      if (ship && shipAt === back) {
        const t = plans.offsetMs[k] as number;
        push(t, base + k * RANKS + Rank.Dispatched);
        push(t, base + k * RANKS + Rank.Shipped);
        const lines = rows.linesOf(plans.template[k] as number);
        for (let line = 0; line < lines; line++) push(t, base + k * RANKS + Rank.Sale + line);
      }
      // Delivered.
      if (deliver && shipAt + (plans.deliveryDays[k] as number) * 1440 === back) {
        const t = plans.offsetMs[k] as number;
        push(t, base + k * RANKS + Rank.Arrived);
        push(t, base + k * RANKS + Rank.Delivered);
      }
    }
  }
  // Customer interactions and warehouse stock changes fill the minute up to its exact count
  // (only their times are drawn here): the order stages of earlier minutes vary from minute to
  // minute, so the minute's total follows the rate exactly and the mix holds on average.
  const { interactions, changes } = live.fill(m, offsets.length);
  for (let n = 0; n < interactions; n++) {
    if (++planUnits % SLICE === 0) yield;
    push(live.other(m, n, 1).int(MINUTE), CATEGORY + (MINUTE_SLOTS - 1 - n) * RANKS);
  }
  for (let n = 0; n < changes; n++) {
    if (++planUnits % SLICE === 0) yield;
    push(live.other(m, n, 2).int(MINUTE), (MINUTE_SLOTS - 1 - n) * RANKS);
  }

  yield;
  // A counting sort by millisecond, then the rare events of the same millisecond by key.
  const total = offsets.length;
  const starts = new Int32Array(MINUTE + 1);
  for (let i = 0; i < total; i++) {
    if (++planUnits % SLICE === 0) yield;
    (starts[(offsets[i] as number) + 1] as number)++;
  }
  for (let t = 0; t < MINUTE; t++) (starts[t + 1] as number) += starts[t] as number;
  const fill = starts.slice(0, MINUTE);
  const sortedKeys = new Float64Array(total);
  const sortedOffsets = new Uint16Array(total);
  for (let i = 0; i < total; i++) {
    if (++planUnits % SLICE === 0) yield;
    const offset = offsets[i] as number;
    const at = (fill[offset] as number)++;
    sortedKeys[at] = keys[i] as number;
    sortedOffsets[at] = offset;
  }
  yield;
  for (let t = 0; t < MINUTE; t++) {
    if (++planUnits % SLICE === 0) yield;
    const from = starts[t] as number;
    const to = starts[t + 1] as number;
    if (to - from === 2) {
      if ((sortedKeys[from] as number) > (sortedKeys[from + 1] as number)) sortedKeys.set([sortedKeys[from + 1] as number, sortedKeys[from] as number], from);
    } else if (to - from > 2) sortedKeys.subarray(from, to).sort();
  }
  return { offsets: sortedOffsets, keys: sortedKeys };
}

/** The event types of an order's stages by rank (stock SALEs: the ranks from Sale up). */
const RANK_TYPES: Readonly<Record<number, EventType>> = {
  [Rank.Placed]: 'order.placed',
  [Rank.Authorised]: 'payment.authorised',
  [Rank.Captured]: 'payment.captured',
  [Rank.Paid]: 'order.paid',
  [Rank.Failed]: 'payment.failed',
  [Rank.Cancelled]: 'order.cancelled',
  [Rank.Refunded]: 'payment.refunded',
  [Rank.Dispatched]: 'shipment.dispatched',
  [Rank.Shipped]: 'order.shipped',
  [Rank.Arrived]: 'shipment.delivered',
  [Rank.Delivered]: 'order.delivered',
};

/**
 * The type of the planned event with sort key `key` in minute m, from the same draws as
 * {@link build} without its row: an order stage's by its rank, an interaction's from its
 * session's script (chaos never changes a type).
 */
function typeOf(live: LiveWorld, m: number, key: number): EventType {
  const category = Math.floor(key / CATEGORY);
  if (category === 0) return 'inventory.changed';
  if (category === 2) return RANK_TYPES[key % RANKS] ?? 'inventory.changed';
  const n = MINUTE_SLOTS - 1 - Math.floor((key - category * CATEGORY) / RANKS);
  const rng = live.other(m, n, 1);
  rng.int(MINUTE);
  const sessions = live.base.generator('sessions');
  const session = rng.int(sessions.population);
  const k = rng.int(sessions.plan(session).events);
  return INTERACTION_TYPES[(sessions.script(session)[k] as { type: keyof typeof INTERACTION_TYPES }).type];
}

function event(type: EventType, time: number, eventId: string, sequence: number, key: string, data: object): FeedEvent {
  const info = EVENT_TYPES[type];
  return { event_id: eventId, event_type: type, event_time: iso(time), entity: info.entity, key, op: info.op, sequence, data: data as Record<string, unknown> };
}

/** Builds the planned event with sort key `key` at time t of minute m. */
function build(live: LiveWorld, rows: LiveRows, m: number, t: number, key: number, eventId: string, sequence: number): FeedEvent {
  const category = Math.floor(key / CATEGORY);
  const body = Math.floor((key - category * CATEGORY) / RANKS);
  if (category === 1) {
    const n = MINUTE_SLOTS - 1 - body;
    const rng = live.other(m, n, 1);
    rng.int(MINUTE);
    const sessions = live.base.generator('sessions');
    const session = rng.int(sessions.population);
    const k = rng.int(sessions.plan(session).events);
    const row = { ...live.clicks.of(session, k), event_id: live.clickIds.uuid(m * MINUTE_SLOTS + n), occurred_at: iso(t) };
    // A purchase confirms a live order placed before it, not the base world's order of its template.
    if (row.event_type === 'PURCHASE') Object.assign(row, rows.purchased(m, t - m * MINUTE) ?? { order_id: null });
    return event(INTERACTION_TYPES[row.event_type], t, eventId, sequence, row.event_id, row);
  }
  if (category === 0) {
    const n = MINUTE_SLOTS - 1 - body;
    const rng = live.other(m, n, 2);
    rng.int(MINUTE);
    const movements = live.base.generator('inventory-movements');
    const row = rng.int(live.base.generator('inventory').population);
    const k = rng.int(movements.stockMovementCount(row));
    const movement = { ...movements.stockMovementOf(row, k), movement_id: live.movementIds.uuid(m * MINUTE_SLOTS + n, 0), occurred_at: iso(t) };
    return event('inventory.changed', t, eventId, sequence, movement.movement_id, movement);
  }
  const rank = key % RANKS;
  const k = body % MINUTE_SLOTS;
  const m0 = m - MAX_BACK + Math.floor(body / MINUTE_SLOTS);
  const plan = rows.planOf(m0, k);
  const orderEvent = (type: EventType, status: Order['status']) => {
    const o = rows.orderRow(m0, k, plan, status, t);
    return event(type, t, eventId, sequence, o.order_id, o);
  };
  const paymentEvent = (type: EventType, status: string, processed: number | null) => {
    const p = rows.payment(m0, k, plan, status, processed);
    return event(type, t, eventId, sequence, p.payment_id as string, p);
  };
  // The stages after payment need the rest of the plan's draws: its shipment hours and delivery days.
  const shipment = (type: EventType, delivered: boolean) => {
    const plans = live.planStages(m0, k);
    const [shipped, arrives] = shipTimes(m0, plan, plans.shipHours, plans.deliveryDays);
    const s = rows.shipment(m0, k, plan, shipped, arrives, delivered);
    return event(type, t, eventId, sequence, s.shipment_id as string, s);
  };
  switch (rank) {
    case Rank.Placed:
      return orderEvent('order.placed', 'pending');
    case Rank.Authorised:
      return paymentEvent('payment.authorised', 'pending', null);
    case Rank.Captured:
      return paymentEvent('payment.captured', 'completed', t);
    case Rank.Paid:
      return orderEvent('order.paid', 'processing');
    case Rank.Failed:
      return paymentEvent('payment.failed', 'failed', t);
    case Rank.Cancelled:
      return orderEvent('order.cancelled', 'cancelled');
    case Rank.Refunded:
      return paymentEvent('payment.refunded', 'refunded', (m0 + plan.pay) * MINUTE + plan.offsetMs);
    case Rank.Dispatched:
      return shipment('shipment.dispatched', false);
    case Rank.Shipped:
      return orderEvent('order.shipped', 'shipped');
    case Rank.Arrived:
      return shipment('shipment.delivered', true);
    case Rank.Delivered:
      return orderEvent('order.delivered', 'delivered');
    default: {
      const movement = rows.sale(m0, k, plan, rank - Rank.Sale, t);
      return event('inventory.changed', t, eventId, sequence, movement.movement_id, movement);
    }
  }
}

/**
 * The events of one minute of an open-ended (live) world, planned, rows built on demand: a pure
 * function of (spec, minute), so a live stream can be fetched again later by time. Populations
 * come from rates: the minute's expected events (events_per_second x 60, shaped by the daily
 * curve) split by the mix weights into new orders (each followed, in later minutes, by its
 * payment, shipment with stock sales and delivery), customer interactions and warehouse stock
 * changes. Rows are those of the seed's scale-1 world with fresh ids and times. Sorted by
 * event_time, except labelled late events (held to the end of the minute, at most).
 *
 * @example
 * const minute = liveMinuteEvents({ seed: 42, locale: 'en_US', events_per_second: 50, daily_curve: true }, Date.UTC(2026, 0, 5, 12, 30));
 * minute.at(0).event_type // 'interaction.page_view', say
 */
export function liveMinuteEvents(spec: LiveWorldSpec, minuteStartMs: number): LiveEvents {
  const planning = minuteEvents(spec, minuteStartMs);
  let step = planning.next();
  while (!step.done) step = planning.next();
  return step.value;
}

/**
 * liveMinuteEvents without blocking the event loop: the minute is planned in slices of a few
 * milliseconds with a turn of the event loop between them (the same events).
 */
export async function liveMinuteEventsAsync(spec: LiveWorldSpec, minuteStartMs: number): Promise<LiveEvents> {
  const planning = minuteEvents(spec, minuteStartMs);
  let step = planning.next();
  while (!step.done) {
    await new Promise<void>((resolve) => setImmediate(resolve));
    step = planning.next();
  }
  return step.value;
}

/**
 * How a minute's planning went in slices, for tests: the pauses it made, the units of work it
 * did in all and the most it did between two pauses (see SLICE), and its events.
 */
export function livePlanningSlices(spec: LiveWorldSpec, minuteStartMs: number): { pauses: number; units: number; mostUnits: number; events: LiveEvents } {
  const planning = minuteEvents(spec, minuteStartMs);
  const first = planUnits;
  let pauses = 0;
  let mostUnits = 0;
  let before = planUnits;
  let step = planning.next();
  for (; !step.done; step = planning.next()) {
    pauses++;
    mostUnits = Math.max(mostUnits, planUnits - before);
    before = planUnits;
  }
  mostUnits = Math.max(mostUnits, planUnits - before);
  return { pauses, units: planUnits - first, mostUnits, events: step.value };
}

let eventsBuilt = 0;
/** Live events built so far in this process (rows included): for tests that bound work. */
export function liveEventsBuilt(): number {
  return eventsBuilt;
}

/** Orders of recent minutes the live worlds keep, and their budget (RECENT_BUDGET): for tests. */
export function liveRecentKept(): { orders: number; budget: number } {
  return { orders: recentKept, budget: RECENT_BUDGET };
}

function* minuteEvents(spec: LiveWorldSpec, minuteStartMs: number): Generator<void, LiveEvents, unknown> {
  const live = liveWorld(spec);
  let rows = rowsOf.get(live);
  if (rows === undefined) {
    rows = new LiveRows(live);
    rowsOf.set(live, rows);
  }
  const m = Math.floor(minuteStartMs / MINUTE);
  // A world's first warehouse stock change reads the opening stock of its base world, whose
  // ledger of every order line is built once: here, in slices (built at that event, it held
  // the event loop 45-120 ms once per live world).
  if (live.weights.inventory > 0) {
    const movements = live.base.generator('inventory-movements');
    while (!movements.prepareFlows(PREPARE_BUDGET)) yield;
  }
  const plan = yield* planMinute(live, rows, m);
  return yield* minuteOf(spec, live, rows, m, plan);
}

function* minuteOf(spec: LiveWorldSpec, live: LiveWorld, liveRows: LiveRows, m: number, { offsets, keys }: MinutePlan): Generator<void, LiveEvents, unknown> {
  const chaos = { seed: spec.seed, late: spec.late_ratio ?? 0, duplicate: spec.duplicate_ratio ?? 0, bad: spec.bad_ratio ?? 0, maxLatenessMs: DEFAULT_MAX_LATENESS_MS };
  // Positions: n x 4 + variant; late events after the others.
  let positions: Float64Array | undefined;
  if (chaos.late + chaos.duplicate + chaos.bad > 0) {
    const out: number[] = [];
    const late: number[] = [];
    for (let n = 0; n < keys.length; n++) {
      if (++planUnits % SLICE === 0) yield;
      const { defect } = defectOf(chaos, m * 1_000_000 + n);
      if (defect === 'late') late.push(n * 4 + Variant.Late);
      else if (defect === 'bad') out.push(n * 4 + Variant.Bad, n * 4 + Variant.Plain);
      else if (defect === 'duplicate') out.push(n * 4 + Variant.Plain, n * 4 + Variant.Duplicate);
      else out.push(n * 4 + Variant.Plain);
    }
    positions = new Float64Array(out.length + late.length);
    positions.set(out);
    positions.set(late, out.length);
  }
  const eventAt = (n: number): FeedEvent => {
    eventsBuilt++;
    const sequence = m * 1_000_000 + n;
    return build(live, liveRows, m, m * MINUTE + (offsets[n] as number), keys[n] as number, `lv-${live.fingerprint}-${m}-${n}`, sequence);
  };
  if (positions === undefined) {
    return { length: keys.length, timeAt: (i) => m * MINUTE + (offsets[i] as number), typeAt: (i) => typeOf(live, m, keys[i] as number), at: eventAt };
  }
  const codes = positions;
  return {
    length: codes.length,
    timeAt: (i) => m * MINUTE + (offsets[Math.floor((codes[i] as number) / 4)] as number),
    typeAt: (i) => typeOf(live, m, keys[Math.floor((codes[i] as number) / 4)] as number),
    at: (i) => {
      const code = codes[i] as number;
      const n = Math.floor(code / 4);
      const ordered = eventAt(n);
      switch (code % 4) {
        case Variant.Bad:
          return corrupt(ordered, defectOf(chaos, ordered.sequence).variant ?? 'missing_field', spec.seed);
        case Variant.Duplicate:
          return { ...ordered, defect: 'duplicate' };
        case Variant.Late:
          return { ...ordered, defect: 'late' };
        default:
          return ordered;
      }
    },
  };
}

/** The events of one minute of a live world, all built (see liveMinuteEvents). */
export function liveMinute(spec: LiveWorldSpec, minuteStartMs: number): FeedEvent[] {
  const minute = liveMinuteEvents(spec, minuteStartMs);
  return Array.from({ length: minute.length }, (_, i) => minute.at(i));
}
