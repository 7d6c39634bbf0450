import { IdSpace, Rng, tagOf } from '../generators/random.js';
import { DAY, DEFAULT_END_DATE, DEFAULT_START_DATE, HOUR, MINUTE, iso, parseDate } from '../generators/time.js';
import { World, resolveSizes } from '../generators/world.js';
import type { InventoryMovement } from '../schemas/inventory-movement.js';
import type { Order } from '../schemas/order.js';
import { EVENT_TYPES, type EventType } from './catalogue.js';
import { defectOf, DEFAULT_MAX_LATENESS_MS } from './chaos.js';
import { ClickstreamBySession, INTERACTION_TYPES, corrupt } from './feed.js';
import { ShipmentsByOrder } from '../generators/inventory-movements.js';
import type { FeedEvent, LiveWorldSpec } from './types.js';

/** The reference generator's event mix: orders 0.6, interactions 0.3, inventory 0.1. */
export const DEFAULT_WEIGHTS = { orders: 0.6, interactions: 0.3, inventory: 0.1 } as const;

/**
 * Traffic by hour of day (UTC as the shop's clock), the same shape as the bounded world's daily
 * curve: quiet nights, a lunch peak and a larger evening peak. Normalised to a mean of 1.
 */
const HOURLY = [1.0, 0.6, 0.4, 0.3, 0.3, 0.5, 1.2, 2.4, 3.6, 4.2, 4.6, 5.2, 6.4, 6.2, 5.0, 4.6, 4.6, 5.2, 6.2, 7.2, 7.6, 6.6, 4.4, 2.2];
const HOURLY_MEAN = HOURLY.reduce((a, b) => a + b, 0) / HOURLY.length;

/** Mean events one live order contributes (placed, authorised, paid x2, dispatched, shipped, ~1.9 sales, delivered x2). */
const EVENTS_PER_ORDER = 10;
/** Orders a minute can hold (the index space of a minute's orders). */
const MINUTE_SLOTS = 2 ** 20;

// The lifecycle of a live order in whole minutes after its placement, so the orders whose
// stage falls in a given minute are found by looking back over a bounded set of offsets.
const PAY_MAX = 45; // payment 0-44 minutes after placement
const CANCEL_MIN = 10; // a customer cancels 10-59 minutes after paying
const CANCEL_SPAN = 50;
const SHIP_HOURS_MIN = 2; // shipped 2-49 hours after placement
const SHIP_HOURS_SPAN = 48;
const DELIVERY_DAYS_MIN = 1; // delivered 1-4 days after shipping
const DELIVERY_DAYS_SPAN = 4;

const TAG_ORDER = tagOf('live-orders');
const TAG_COUNT = tagOf('live-counts');
const TAG_OTHER = tagOf('live-other');

interface LivePlan {
  readonly offsetMs: number;
  readonly template: number;
  readonly pay: number;
  readonly declined: boolean;
  /** Minutes after placement, or -1. */
  readonly cancel: number;
  readonly shipHours: number;
  readonly deliveryDays: number;
}

interface Pending {
  readonly t: number;
  readonly order: number;
  readonly rank: number;
  readonly build: () => Omit<FeedEvent, 'event_id' | 'sequence'>;
}

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

  /** Expected events in minute m (epoch minutes). */
  private rate(m: number): number {
    const hour = Math.floor((m * MINUTE) / HOUR) % 24;
    const curve = this.spec.daily_curve ? (HOURLY[hour] as number) / HOURLY_MEAN : 1;
    return this.spec.events_per_second * 60 * curve;
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

  interactions(m: number): number {
    return this.count(this.rate(m) * this.weights.interactions, m, 1);
  }

  stockChanges(m: number): number {
    return this.count(this.rate(m) * this.weights.inventory, m, 2);
  }

  plan(m: number, k: number): LivePlan {
    const rng = this.rng.key(this.spec.seed, TAG_ORDER, m * MINUTE_SLOTS + k);
    const offsetMs = rng.int(MINUTE);
    const template = rng.int(this.base.sizes.orders);
    const pay = rng.int(PAY_MAX);
    const cancelled = rng.chance(0.06);
    const declined = cancelled && rng.chance(0.4);
    const cancel = cancelled ? (declined ? pay : pay + CANCEL_MIN + rng.int(CANCEL_SPAN)) : -1;
    return {
      offsetMs,
      template,
      pay,
      declined,
      cancel,
      shipHours: SHIP_HOURS_MIN + rng.int(SHIP_HOURS_SPAN),
      deliveryDays: DELIVERY_DAYS_MIN + rng.int(DELIVERY_DAYS_SPAN),
    };
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
    if (worlds.size >= 16) worlds.delete(worlds.keys().next().value as string);
    world = new LiveWorld(spec);
    worlds.set(key, world);
  }
  return world;
}

/** The live order (m, k) as a row at a stage. */
function orderRow(live: LiveWorld, m: number, k: number, plan: LivePlan, status: Order['status'], at: number): Order {
  const template = live.base.generator('orders').record(plan.template);
  const index = m * MINUTE_SLOTS + k;
  return {
    ...template,
    order_id: live.orderIds.uuid(index),
    order_number: `LIVE-${m}-${k + 1}`,
    status,
    created_at: iso(m * MINUTE + plan.offsetMs),
    updated_at: iso(at),
    items: template.items.map((item, line) => ({ ...item, order_item_id: live.lineIds.uuid(index, line + 1) })),
  };
}

function event(type: EventType, time: number, key: string, data: object): Omit<FeedEvent, 'event_id' | 'sequence'> {
  const info = EVENT_TYPES[type];
  return { event_type: type, event_time: iso(time), entity: info.entity, key, op: info.op, data: data as Record<string, unknown> };
}

/** Every stage of live order (m0, k) that falls in minute m, as pending events. */
function orderStages(live: LiveWorld, m: number, out: Pending[]): void {
  const at = (m0: number, plan: LivePlan, minutes: number) => (m0 + minutes) * MINUTE + plan.offsetMs;
  const each = (m0: number, visit: (k: number, plan: LivePlan) => void) => {
    const n = live.orders(m0);
    for (let k = 0; k < n; k++) visit(k, live.plan(m0, k));
  };
  const orderKey = (m0: number, k: number) => m0 * MINUTE_SLOTS + k;
  const payment = (m0: number, k: number, plan: LivePlan, status: string, processed: number | null) => {
    const template = live.base.generator('payments').record(plan.template);
    const order = orderRow(live, m0, k, plan, 'pending', at(m0, plan, 0));
    return {
      ...template,
      payment_id: live.paymentIds.uuid(orderKey(m0, k)),
      order_id: order.order_id,
      status,
      created_at: order.created_at,
      processed_at: processed === null ? null : iso(processed),
    };
  };
  // Placed (and the payment opened) this minute.
  each(m, (k, plan) => {
    const t = at(m, plan, 0);
    out.push({ t, order: orderKey(m, k), rank: 0, build: () => { const o = orderRow(live, m, k, plan, 'pending', t); return event('order.placed', t, o.order_id, o); } });
    out.push({ t, order: orderKey(m, k), rank: 1, build: () => { const p = payment(m, k, plan, 'pending', null); return event('payment.authorised', t, p.payment_id, p); } });
  });
  // Paid or declined.
  for (let p = 0; p < PAY_MAX; p++) {
    each(m - p, (k, plan) => {
      if (plan.pay !== p) return;
      const m0 = m - p;
      const t = at(m0, plan, p);
      if (plan.declined) {
        out.push({ t, order: orderKey(m0, k), rank: 4, build: () => { const row = payment(m0, k, plan, 'failed', t); return event('payment.failed', t, row.payment_id, row); } });
        out.push({ t, order: orderKey(m0, k), rank: 5, build: () => { const o = orderRow(live, m0, k, plan, 'cancelled', t); return event('order.cancelled', t, o.order_id, o); } });
      } else {
        out.push({ t, order: orderKey(m0, k), rank: 2, build: () => { const row = payment(m0, k, plan, 'completed', t); return event('payment.captured', t, row.payment_id, row); } });
        out.push({ t, order: orderKey(m0, k), rank: 3, build: () => { const o = orderRow(live, m0, k, plan, 'processing', t); return event('order.paid', t, o.order_id, o); } });
      }
    });
  }
  // Cancelled by the customer after paying.
  for (let c = CANCEL_MIN; c < PAY_MAX + CANCEL_MIN + CANCEL_SPAN; c++) {
    each(m - c, (k, plan) => {
      if (plan.declined || plan.cancel !== c) return;
      const m0 = m - c;
      const t = at(m0, plan, c);
      const paid = at(m0, plan, plan.pay);
      out.push({ t, order: orderKey(m0, k), rank: 5, build: () => { const o = orderRow(live, m0, k, plan, 'cancelled', t); return event('order.cancelled', t, o.order_id, o); } });
      out.push({ t, order: orderKey(m0, k), rank: 6, build: () => { const row = payment(m0, k, plan, 'refunded', paid); return event('payment.refunded', t, row.payment_id, row); } });
    });
  }
  const shipment = (m0: number, k: number, plan: LivePlan, delivered: boolean) => {
    const template = live.shipments.of(plan.template, plan.template);
    const order = orderRow(live, m0, k, plan, 'shipped', at(m0, plan, plan.shipHours * 60));
    const shipped = at(m0, plan, plan.shipHours * 60);
    const arrives = shipped + plan.deliveryDays * DAY;
    return {
      ...template,
      shipment_id: live.shipmentIds.uuid(orderKey(m0, k)),
      order_id: order.order_id,
      shipping_method: order.shipping_method,
      status: delivered ? 'delivered' : 'in_transit',
      shipped_at: iso(shipped),
      estimated_delivery_at: iso(arrives),
      actual_delivery_at: delivered ? iso(arrives) : null,
    };
  };
  // Shipped, with one stock SALE per line.
  for (let h = SHIP_HOURS_MIN; h < SHIP_HOURS_MIN + SHIP_HOURS_SPAN; h++) {
    const m0 = m - h * 60;
    each(m0, (k, plan) => {
      if (plan.cancel >= 0 || plan.shipHours !== h) return;
      const t = at(m0, plan, h * 60);
      out.push({ t, order: orderKey(m0, k), rank: 7, build: () => { const s = shipment(m0, k, plan, false); return event('shipment.dispatched', t, s.shipment_id, s); } });
      out.push({ t, order: orderKey(m0, k), rank: 8, build: () => { const o = orderRow(live, m0, k, plan, 'shipped', t); return event('order.shipped', t, o.order_id, o); } });
      const lines = live.base.generator('orders').plan(plan.template).lines;
      for (let line = 0; line < lines; line++) {
        out.push({
          t,
          order: orderKey(m0, k),
          rank: 9 + line,
          build: () => {
            const o = orderRow(live, m0, k, plan, 'shipped', t);
            const item = o.items[line] as Order['items'][number];
            const s = shipment(m0, k, plan, false);
            const movement: InventoryMovement = {
              movement_id: live.movementIds.uuid(orderKey(m0, k), line + 1),
              product_id: item.product_id,
              warehouse_id: s.warehouse_id,
              movement_type: 'SALE',
              quantity: -item.quantity,
              occurred_at: iso(t),
              order_item_id: item.order_item_id,
              return_id: null,
              supplier_id: null,
              note: `Order ${o.order_number}, line ${item.line_number}`,
            };
            return event('inventory.changed', t, movement.movement_id, movement);
          },
        });
      }
    });
  }
  // Delivered.
  for (let h = SHIP_HOURS_MIN; h < SHIP_HOURS_MIN + SHIP_HOURS_SPAN; h++) {
    for (let d = DELIVERY_DAYS_MIN; d < DELIVERY_DAYS_MIN + DELIVERY_DAYS_SPAN; d++) {
      const minutes = h * 60 + d * 1440;
      const m0 = m - minutes;
      each(m0, (k, plan) => {
        if (plan.cancel >= 0 || plan.shipHours !== h || plan.deliveryDays !== d) return;
        const t = at(m0, plan, minutes);
        out.push({ t, order: orderKey(m0, k), rank: 30, build: () => { const s = shipment(m0, k, plan, true); return event('shipment.delivered', t, s.shipment_id, s); } });
        out.push({ t, order: orderKey(m0, k), rank: 31, build: () => { const o = orderRow(live, m0, k, plan, 'delivered', t); return event('order.delivered', t, o.order_id, o); } });
      });
    }
  }
}


/**
 * The events of one minute of an open-ended (live) world: a pure function of (spec, minute),
 * so a live stream can be fetched again later by time. Populations come from rates: the
 * minute's expected events (events_per_second x 60, shaped by the daily curve) split by the
 * mix weights into new orders (each followed, in later minutes, by its payment, shipment with
 * stock sales and delivery), customer interactions and warehouse stock changes. Rows are those
 * of the seed's scale-1 world with fresh ids and times. Sorted by event_time, except labelled
 * late events (held to the end of the minute, at most).
 *
 * @example
 * liveMinute({ seed: 42, locale: 'en_US', events_per_second: 50, daily_curve: true }, Date.UTC(2026, 0, 5, 12, 30));
 */
export function liveMinute(spec: LiveWorldSpec, minuteStartMs: number): FeedEvent[] {
  const live = liveWorld(spec);
  const m = Math.floor(minuteStartMs / MINUTE);
  const pending: Pending[] = [];
  orderStages(live, m, pending);
  const sessions = live.base.generator('sessions');
  const interactions = live.interactions(m);
  for (let n = 0; n < interactions; n++) {
    const rng = live.other(m, n, 1);
    const t = m * MINUTE + rng.int(MINUTE);
    const session = rng.int(sessions.population);
    const k = rng.int(sessions.plan(session).events);
    pending.push({
      t,
      order: -1 - n,
      rank: 0,
      build: () => {
        const row = { ...live.clicks.of(session, k), event_id: live.clickIds.uuid(m * MINUTE_SLOTS + n), occurred_at: iso(t) };
        return event(INTERACTION_TYPES[row.event_type], t, row.event_id, row);
      },
    });
  }
  const movements = live.base.generator('inventory-movements');
  const rows = live.base.generator('inventory').population;
  const changes = live.stockChanges(m);
  for (let n = 0; n < changes; n++) {
    const rng = live.other(m, n, 2);
    const t = m * MINUTE + rng.int(MINUTE);
    const row = rng.int(rows);
    const k = rng.int(movements.stockMovementCount(row));
    pending.push({
      t,
      order: -MINUTE_SLOTS - n,
      rank: 0,
      build: () => {
        const movement = { ...movements.stockMovementOf(row, k), movement_id: live.movementIds.uuid(m * MINUTE_SLOTS + n, 0), occurred_at: iso(t) };
        return event('inventory.changed', t, movement.movement_id, movement);
      },
    });
  }
  pending.sort((a, b) => a.t - b.t || a.order - b.order || a.rank - b.rank);

  const chaos = { seed: spec.seed, late: spec.late_ratio ?? 0, duplicate: spec.duplicate_ratio ?? 0, bad: spec.bad_ratio ?? 0, maxLatenessMs: DEFAULT_MAX_LATENESS_MS };
  const anyChaos = chaos.late + chaos.duplicate + chaos.bad > 0;
  const out: FeedEvent[] = [];
  const late: FeedEvent[] = [];
  pending.forEach((p, n) => {
    const sequence = m * 1_000_000 + n;
    const e: FeedEvent = { event_id: `lv-${live.fingerprint}-${m}-${n}`, sequence, ...p.build() } as FeedEvent;
    const ordered: FeedEvent = {
      event_id: e.event_id,
      event_type: e.event_type,
      event_time: e.event_time,
      entity: e.entity,
      key: e.key,
      op: e.op,
      sequence,
      data: e.data,
    };
    if (!anyChaos) {
      out.push(ordered);
      return;
    }
    const { defect, variant } = defectOf(chaos, sequence);
    if (defect === 'late') late.push({ ...ordered, defect: 'late' });
    else {
      if (defect === 'bad') out.push(corrupt(ordered, variant ?? 'missing_field', spec.seed));
      out.push(ordered);
      if (defect === 'duplicate') out.push({ ...ordered, defect: 'duplicate' });
    }
  });
  return late.length > 0 ? out.concat(late) : out;
}
