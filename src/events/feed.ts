import { ClickstreamGenerator } from '../generators/clickstream.js';
import { ReturnsByOrder, ShipmentsByOrder } from '../generators/inventory-movements.js';
import type { ClickstreamEventType } from '../generators/sessions.js';
import { orderPays } from '../generators/knobs.js';
import { mix32, tagOf } from '../generators/random.js';
import { prepareEntity } from '../precompute/prepare.js';
import { DAY, iso } from '../generators/time.js';
import type { World } from '../generators/world.js';
import type { ClickstreamEvent } from '../schemas/clickstream.js';
import type { SupportTicket } from '../schemas/support-ticket.js';
import { numberText } from '../formats/compiled.js';
import { EVENT_TYPES, type EventType } from './catalogue.js';
import { IDLE, applyChaos, chaosOf, type Delivery } from './chaos.js';
import type { FeedEvent, FeedOptions, TimedSource } from './types.js';

/**
 * What happens, as a small plain value: the merge orders these and only the events a response
 * delivers are turned into rows (skipping an offset, counting defects or seeking never builds a
 * row). Ordered by (t, src, idx, kind, aux), a total order, so the feed is deterministic.
 */
export interface Step {
  /** Event time, epoch ms. */
  readonly t: number;
  /** The source it came from: 0 users, 1 orders (and everything that follows an order), 2 warehouse stock. */
  readonly src: number;
  /** The source record: user, order, or position in the stock schedule. */
  readonly idx: number;
  readonly kind: Kind;
  /** Kind-specific: the order line of a SALE, the return number of a return. */
  readonly aux: number;
  /** Kind-specific: the shipment number of the order (its index in GET /shipping). */
  readonly ref: number;
}

// Kinds, in the order same-moment events of one record happen.
const enum Kind {
  UserSignedUp,
  UserUpdated,
  OrderPlaced,
  PaymentAuthorised,
  PaymentCaptured,
  OrderPaid,
  PaymentFailed,
  OrderCancelled,
  PaymentRefunded,
  ShipmentDispatched,
  OrderShipped,
  Sale,
  ShipmentDelivered,
  OrderDelivered,
  ReturnRequested,
  ReturnDecided,
  ReturnMovement,
  Stock,
  /** A session begins: silent, it schedules the session's clickstream events. */
  SessionStarted,
  Interaction,
  InventoryOpened,
  InventoryCounted,
  ReviewPosted,
  TicketOpened,
  TicketAnswered,
  TicketResolved,
  TicketClosed,
  PriceChanged,
}

const KIND_TYPES: readonly EventType[] = [
  'user.signed_up',
  'user.updated',
  'order.placed',
  'payment.authorised',
  'payment.captured',
  'order.paid',
  'payment.failed',
  'order.cancelled',
  'payment.refunded',
  'shipment.dispatched',
  'order.shipped',
  'inventory.changed',
  'shipment.delivered',
  'order.delivered',
  'return.requested',
  'return.decided',
  'inventory.changed',
  'inventory.changed',
  'interaction.page_view', // never emitted (SessionStarted is silent)
  'interaction.page_view', // by the clickstream row's event_type, see stepType
  'inventory.opened',
  'inventory.counted',
  'review.posted',
  'support_ticket.opened',
  'support_ticket.answered',
  'support_ticket.resolved',
  'support_ticket.closed',
  'product.price_changed',
];

/** The feed's event type of each clickstream event type (live worlds use the same). */
export const INTERACTION_TYPES: Readonly<Record<ClickstreamEventType, EventType>> = {
  PAGE_VIEW: 'interaction.page_view',
  SEARCH: 'interaction.search',
  PRODUCT_VIEW: 'interaction.product_view',
  CART_ADD: 'interaction.cart_add',
  CART_REMOVE: 'interaction.cart_remove',
  CHECKOUT: 'interaction.checkout',
  PURCHASE: 'interaction.purchase',
};
const INTERACTION_CODES = Object.keys(INTERACTION_TYPES) as ClickstreamEventType[];

/** The event type of a step, without building its row. */
export function stepType(step: Step): EventType {
  if (step.kind === Kind.Interaction) return INTERACTION_TYPES[INTERACTION_CODES[step.ref] as ClickstreamEventType];
  return KIND_TYPES[step.kind] as EventType;
}

/**
 * A 4-ary min-heap of steps ordered by (t, src, idx, kind, aux), held in typed arrays (a
 * step's time, and its five small fields side by side) rather than as one object per step: a
 * step waits in the heap for hours to days of event time, long enough for the garbage
 * collector to move an object of it to the old generation, so a heap of objects made every
 * step old garbage (the feed's memory grew by ~170 MB streaming a scale-10 world, and the
 * collector took ~15% of its time). Hand-written: a few dozen lines the merge calls for every
 * event; a general-purpose queue package would hold objects and call a comparator closure.
 * The order is total (no two steps tie), so any heap pops the same sequence: four children a
 * node (~13 levels of a binary heap for the ~7,100 steps of a scale-10 world's look-ahead,
 * ~7 here) halve the moves of a pop (~4.8% of the feed's CPU in process): the merge's walk
 * alone, with this and next()'s closure per step gone, took 0.86-0.94x the CPU of the binary
 * heap's (two interleaved runs, docs/events.md, eleventh round).
 */
class StepHeap {
  private times = new Float64Array(1024);
  /** src, idx, kind, aux, ref of each position: small integers (indexes, counts, -1 for none). */
  private fields = new Int32Array(1024 * 5);
  size = 0;

  /** Whether the step (t, src, idx, kind, aux) goes before the step at position p. */
  private before(t: number, src: number, idx: number, kind: number, aux: number, p: number): boolean {
    const pt = this.times[p] as number;
    if (t !== pt) return t < pt;
    const f = this.fields;
    const q = p * 5;
    if (src !== f[q]) return src < (f[q] as number);
    if (idx !== f[q + 1]) return idx < (f[q + 1] as number);
    if (kind !== f[q + 2]) return kind < (f[q + 2] as number);
    return aux < (f[q + 3] as number);
  }

  /** Whether the step at position a goes before the step at position b. */
  private beforeAt(a: number, b: number): boolean {
    const f = this.fields;
    const q = a * 5;
    return this.before(this.times[a] as number, f[q] as number, f[q + 1] as number, f[q + 2] as number, f[q + 3] as number, b);
  }

  private move(from: number, to: number): void {
    this.times[to] = this.times[from] as number;
    // Five assignments, not copyWithin: a builtin call per move cost ~2% of the feed's time.
    const f = this.fields;
    const a = to * 5;
    const b = from * 5;
    f[a] = f[b] as number;
    f[a + 1] = f[b + 1] as number;
    f[a + 2] = f[b + 2] as number;
    f[a + 3] = f[b + 3] as number;
    f[a + 4] = f[b + 4] as number;
  }

  private put(k: number, t: number, src: number, idx: number, kind: number, aux: number, ref: number): void {
    this.times[k] = t;
    const f = this.fields;
    const q = k * 5;
    f[q] = src;
    f[q + 1] = idx;
    f[q + 2] = kind;
    f[q + 3] = aux;
    f[q + 4] = ref;
  }

  push(t: number, src: number, idx: number, kind: number, aux: number, ref: number): void {
    if (this.size === this.times.length) {
      const times = new Float64Array(this.size * 2);
      times.set(this.times);
      const fields = new Int32Array(this.size * 10);
      fields.set(this.fields);
      this.times = times;
      this.fields = fields;
    }
    let k = this.size++;
    while (k > 0) {
      const parent = (k - 1) >> 2;
      if (!this.before(t, src, idx, kind, aux, parent)) break;
      this.move(parent, k);
      k = parent;
    }
    this.put(k, t, src, idx, kind, aux, ref);
  }

  /** The first step's time (undefined when empty), kind and idx. */
  get topTime(): number | undefined {
    return this.size > 0 ? this.times[0] : undefined;
  }

  get topKind(): number {
    return this.fields[2] as number;
  }

  get topIdx(): number {
    return this.fields[1] as number;
  }

  /** The steps held, in heap order: their times and fields (a checkpoint copies them). */
  contents(): { times: Float64Array; fields: Int32Array } {
    return { times: this.times.slice(0, this.size), fields: this.fields.slice(0, this.size * 5) };
  }

  /** Replaces the contents with steps already in heap order. */
  load(times: Float64Array, fields: Int32Array): void {
    const n = times.length;
    let capacity = 1024;
    while (capacity < n) capacity *= 2;
    this.times = new Float64Array(capacity);
    this.times.set(times);
    this.fields = new Int32Array(capacity * 5);
    this.fields.set(fields);
    this.size = n;
  }

  /** Takes the first step off the heap; undefined when empty. */
  pop(): Step | undefined {
    if (this.size === 0) return undefined;
    const f = this.fields;
    const top: Step = { t: this.times[0] as number, src: f[0] as number, idx: f[1] as number, kind: f[2] as Kind, aux: f[3] as number, ref: f[4] as number };
    const n = --this.size;
    if (n === 0) return top;
    // The last step, sifted down from the root.
    const q = n * 5;
    const t = this.times[n] as number;
    const src = f[q] as number;
    const idx = f[q + 1] as number;
    const kind = f[q + 2] as number;
    const aux = f[q + 3] as number;
    const ref = f[q + 4] as number;
    let k = 0;
    for (;;) {
      const first = 4 * k + 1;
      if (first >= n) break;
      // The first of up to four children.
      let child = first;
      const last = Math.min(first + 4, n);
      for (let c = first + 1; c < last; c++) if (this.beforeAt(c, child)) child = c;
      // Position n still holds the last step: nothing below it is written during the sift.
      if (!this.beforeAt(child, n)) break;
      this.move(child, k);
      k = child;
    }
    this.put(k, t, src, idx, kind, aux, ref);
    return top;
  }
}

/** The warehouse's own movements (RESTOCK, DAMAGE, ADJUSTMENT) of every inventory row, sorted by time. */
interface StockSchedule {
  readonly times: Float64Array;
  readonly rows: Int32Array;
  readonly ks: Int32Array;
}

/** The clickstream endpoint's records, addressed by (session, event number): the same rows as GET /clickstream. */
export class ClickstreamBySession extends ClickstreamGenerator {
  of(session: number, k: number): ClickstreamEvent {
    return this.child(session, k);
  }
}

/** Records of an entity sorted by a timestamp: times and record indexes. */
interface RecordSchedule {
  readonly times: Float64Array;
  readonly index: Int32Array;
  /** Each record's parent and child number: the feed builds it without searching the index. */
  readonly parents: Int32Array;
  readonly ks: Int32Array;
}

/** Moves of a sort, or entries of a schedule filled, between two yields to the event loop (~1 ms of CPU). */
const SLICE = 1 << 14;

/** `times`, `first` and `second` taken in `order` into typed arrays, yielding every SLICE entries. */
function* gathered(
  order: Int32Array,
  times: ArrayLike<number>,
  first: ArrayLike<number>,
  second: ArrayLike<number>,
): Generator<void, { times: Float64Array; first: Int32Array; second: Int32Array }> {
  const n = order.length;
  const out = { times: new Float64Array(n), first: new Int32Array(n), second: new Int32Array(n) };
  for (let k = 0; k < n; k++) {
    const at = order[k] as number;
    out.times[k] = times[at] as number;
    out.first[k] = first[at] as number;
    out.second[k] = second[at] as number;
    if ((k + 1) % SLICE === 0) yield;
  }
  return out;
}

/**
 * The order that sorts `times` (epoch ms), ties by position, worked out a slice at a time: a
 * bottom-up merge sort of positions that yields every SLICE moves, so the caller can hand the
 * event loop back between slices. A native sort cannot be cut: over the ~670,000 stock movements
 * of a scale-10 world the one it replaced (a sort of packed (second, position) numbers) held the
 * loop for 0.6-1.4 s on the shared machine. On equal times the left run's position goes first,
 * and every left position is below every right one, so the result is the one order by (time,
 * position): the order the packed sort gave, so the feed's bytes are unchanged. Hand-written for
 * the slicing; two Int32Arrays of the positions are all it holds.
 */
function* sortedOrder(times: ArrayLike<number>): Generator<void, Int32Array> {
  const n = times.length;
  let from = new Int32Array(n);
  for (let k = 0; k < n; k++) from[k] = k;
  if (n < 2) return from;
  let to = new Int32Array(n);
  let moves = 0;
  for (let width = 1; width < n; width *= 2) {
    for (let lo = 0; lo < n; lo += 2 * width) {
      const mid = Math.min(lo + width, n);
      const hi = Math.min(lo + 2 * width, n);
      let l = lo;
      let r = mid;
      let k = lo;
      while (l < mid && r < hi) {
        const left = from[l] as number;
        const right = from[r] as number;
        if ((times[right] as number) < (times[left] as number)) {
          to[k++] = right;
          r++;
        } else {
          to[k++] = left;
          l++;
        }
        if (++moves === SLICE) {
          moves = 0;
          yield;
        }
      }
      // One run is used up: the rest of the other is in place already, copied whole.
      if (l < mid) to.set(from.subarray(l, mid), k);
      else if (r < hi) to.set(from.subarray(r, hi), k);
    }
    [from, to] = [to, from];
  }
  return from;
}

/** Tickets held open for the feed at most (see FeedWorld.holdTicket): a few hundred are open at once at scale 10. */
const MAX_OPEN_TICKETS = 65_536;

/** Per-world state the feed builds once: the stock schedule and the world's fingerprint. */
export class FeedWorld {
  readonly fingerprint: string;
  /** `ev-<fingerprint>-`: an event id is this and its sequence (see {@link eventId}), one concatenation an event. */
  readonly idPrefix: string;
  readonly shipments: ShipmentsByOrder;
  readonly returns: ReturnsByOrder;
  readonly clicks: ClickstreamBySession;
  private schedule?: StockSchedule;
  private stockBuild?: Generator<void, StockSchedule>;
  /** Inventory rows the stock schedule's pass takes between yields (the latest prepareSome's). */
  private stockRows = 0;
  private reviewOrder?: RecordSchedule;
  private ticketOrder?: RecordSchedule;
  private recordBuild?: Generator<void, void>;
  /** Records the schedules' passes take between yields (the latest prepareRecords'). */
  private recordBudget = 0;

  /**
   * Support tickets from their opening to their last event (index -> the ticket and that
   * event's time): a ticket's four events lie days apart, and each built the ticket again
   * (~14 µs a build, its text; 2.3% of the scale-10 feed in process for ~1% of its events).
   * At most the tickets open at once in the feeds being walked.
   */
  private readonly openTickets = new Map<number, { readonly until: number; readonly ticket: SupportTicket }>();

  /** Ticket `idx` (its parent and child number given), held from its opening to its last event. */
  ticket(idx: number, parent: number, k: number): SupportTicket {
    return this.openTickets.get(idx)?.ticket ?? this.world.generator('support-tickets').recordAt(parent, k, idx);
  }

  /** Holds a ticket just opened until `until`, its last event's time. */
  holdTicket(idx: number, ticket: SupportTicket, until: number): void {
    if (this.openTickets.size >= MAX_OPEN_TICKETS) this.openTickets.clear(); // a bound for feeds left half-walked
    this.openTickets.set(idx, { until, ticket });
  }

  /** Drops the tickets whose last event is before `t` (that event's row is built by then). */
  releaseBefore(t: number): void {
    if (this.openTickets.size === 0) return;
    for (const [idx, held] of this.openTickets) if (held.until < t) this.openTickets.delete(idx);
  }

  constructor(readonly world: World) {
    const { seed, sizes, locale, window, knobs } = world;
    const identity = [seed, sizes, locale, window.start, window.end, ...(Object.keys(knobs).length > 0 ? [knobs] : [])];
    this.fingerprint = tagOf(JSON.stringify(identity)).toString(16).padStart(8, '0');
    this.idPrefix = 'ev-' + this.fingerprint + '-';
    this.shipments = new ShipmentsByOrder(world);
    this.returns = new ReturnsByOrder(world);
    this.clicks = new ClickstreamBySession(world);
  }

  /**
   * Builds the stock schedule a slice further: up to `rows` more inventory rows, or a slice of
   * its sort or of its arrays; true when it is complete.
   */
  prepareSome(rows: number): boolean {
    if (this.schedule) return true;
    this.stockRows = rows;
    this.stockBuild ??= this.buildStock();
    const step = this.stockBuild.next();
    if (!step.done) return false;
    this.schedule = step.value;
    this.stockBuild = undefined;
    return true;
  }

  /**
   * The stock schedule, yielding between slices: the rows' movement times, their order, the
   * arrays. While it is built it holds the times and, per movement, its row and number (13
   * bytes) rather than three growing arrays of numbers (8 bytes each plus their spare room): at
   * scale 30 the build's peak was ~240 MB live with those.
   */
  private *buildStock(): Generator<void, StockSchedule> {
    const movements = this.world.generator('inventory-movements');
    const total = this.world.generator('inventory').population;
    const taken: number[] = [];
    // Movements per row (a plan packs at most 7 restocks, 3 damages and 7 adjustments, plus the count: < 256).
    const counts = new Uint8Array(total);
    for (let row = 0; row < total; ) {
      const stop = Math.min(total, row + this.stockRows);
      // The times, and the row's facts and sums kept for the movements built later.
      for (; row < stop; row++) counts[row] = movements.stockMovementTimes(row, taken);
      if (row < total) yield;
    }
    const n = taken.length;
    const times = new Float64Array(n);
    const rowOf = new Int32Array(n);
    const kOf = new Uint8Array(n);
    for (let row = 0, p = 0; row < total; row++) {
      for (let k = 0; k < (counts[row] as number); k++, p++) {
        times[p] = taken[p] as number;
        rowOf[p] = row;
        kOf[p] = k;
        if ((p + 1) % SLICE === 0) yield;
      }
    }
    taken.length = 0;
    const order = yield* sortedOrder(times);
    const sorted = yield* gathered(order, times, rowOf, kOf);
    return { times: sorted.times, rows: sorted.first, ks: sorted.second };
  }

  /** Takes the reviews and tickets a slice further into their schedules (up to `budget` records, or a slice of a sort); true when both are complete. */
  prepareRecords(budget: number): boolean {
    if (this.reviewOrder && this.ticketOrder) return true;
    this.recordBudget = budget;
    this.recordBuild ??= this.buildRecords();
    if (!this.recordBuild.next().done) return false;
    this.recordBuild = undefined;
    return true;
  }

  private *buildRecords(): Generator<void, void> {
    // The reviews' suppression (one pass over the orders) before their first time.
    const reviews = this.world.generator('reviews');
    while (!reviews.prepareSuppression(this.recordBudget)) yield;
    this.reviewOrder ??= yield* this.scheduleOf(reviews.createdTimes());
    this.ticketOrder ??= yield* this.scheduleOf(this.world.generator('support-tickets').createdTimes());
  }

  /** Records sorted by their time, yielding every `recordBudget` records taken and between slices of the sort. */
  private *scheduleOf(records: Iterable<readonly [time: number, parent: number, k: number]>): Generator<void, RecordSchedule> {
    const times: number[] = [];
    const parents: number[] = [];
    const ks: number[] = [];
    let taken = 0;
    for (const [time, parent, k] of records) {
      times.push(time);
      parents.push(parent);
      ks.push(k);
      if (++taken >= this.recordBudget) {
        taken = 0;
        yield;
      }
    }
    const order = yield* sortedOrder(times);
    const sorted = yield* gathered(order, times, parents, ks);
    return { times: sorted.times, index: order, parents: sorted.first, ks: sorted.second };
  }

  /** Reviews by created_at (they are numbered by order, then by user). */
  get reviews(): RecordSchedule {
    while (!this.prepareRecords(1 << 30));
    return this.reviewOrder as RecordSchedule;
  }

  /** Support tickets by created_at. */
  get tickets(): RecordSchedule {
    while (!this.prepareRecords(1 << 30));
    return this.ticketOrder as RecordSchedule;
  }

  get stock(): StockSchedule {
    while (!this.prepareSome(1 << 30));
    return this.schedule as StockSchedule;
  }

  /** Checkpoints of the merge, by sequence (see {@link Checkpoint}); taken while seeking. */
  private readonly checkpoints: Checkpoint[] = [];
  /** Sequences between checkpoints: doubles whenever the list outgrows MAX_CHECKPOINTS. */
  checkpointEvery = CHECKPOINT_EVERY;

  /** Keeps a checkpoint of `merge` (settled, its next step at time `top`) unless one exists. */
  remember(merge: FeedMerge, top: number): void {
    const list = this.checkpoints;
    const last = list[list.length - 1];
    if (last && last.sequence >= merge.sequence) {
      if (list.some((c) => c.sequence === merge.sequence)) return;
    }
    list.push(merge.checkpoint(top));
    list.sort((a, b) => a.sequence - b.sequence);
    if (list.length > MAX_CHECKPOINTS) {
      // Bounded: every other one goes, and the spacing doubles.
      this.checkpointEvery *= 2;
      const kept = list.filter((c) => c.sequence % this.checkpointEvery === 0);
      list.length = 0;
      list.push(...kept);
    }
  }

  /**
   * The latest checkpoint a seek to (start, afterSequence) may resume from: its next step is
   * still before the place sought (the merge's times never decrease, so the test is monotone).
   */
  checkpointBefore(start: number, afterSequence: number): Checkpoint | undefined {
    for (let k = this.checkpoints.length - 1; k >= 0; k--) {
      const c = this.checkpoints[k] as Checkpoint;
      if (c.top < start || c.sequence <= afterSequence) return c;
    }
    return undefined;
  }

  /** How many checkpoints this world's feed holds (for tests). */
  get checkpointCount(): number {
    return this.checkpoints.length;
  }

  private static readonly cache = new WeakMap<World, FeedWorld>();

  static of(world: World): FeedWorld {
    let feed = FeedWorld.cache.get(world);
    if (!feed) {
      feed = new FeedWorld(world);
      FeedWorld.cache.set(world, feed);
    }
    return feed;
  }
}

/**
 * Builds what the feed of a world needs before its first event, in slices that yield to the
 * event loop between them (the stock schedule walks every inventory row once per world).
 */
export async function prepareFeed(world: World): Promise<void> {
  const feed = FeedWorld.of(world);
  const movements = world.generator('inventory-movements');
  await prepareEntity(world, 'price-changes');
  // Slices of ~1-2 ms of CPU each (orders and lines ~4 µs, inventory rows ~5 µs, reviews ~8 µs).
  while (!movements.prepareFlows(500)) await new Promise((resolve) => setImmediate(resolve));
  while (!feed.prepareSome(300)) await new Promise((resolve) => setImmediate(resolve));
  while (!feed.prepareRecords(200)) await new Promise((resolve) => setImmediate(resolve));
}

/**
 * A merge of the world's feed positioned at the options' start (and after `afterSequence`),
 * walked there in slices that yield to the event loop: only small step values, no rows.
 */
export async function seekFeed(world: World, options: FeedOptions, afterSequence = -1): Promise<FeedMerge> {
  await prepareFeed(world);
  const feed = FeedWorld.of(world);
  const merge = new FeedMerge(feed);
  const start = options.start ?? -Infinity;
  const from = feed.checkpointBefore(start, afterSequence);
  if (from) merge.restore(from);
  while (!merge.advance(start, afterSequence, 8192)) await new Promise((resolve) => setImmediate(resolve));
  return merge;
}

/**
 * The feed's checkpoints of a world: how many it holds, and (for tests) the spacing of new
 * ones, in events.
 */
export function feedCheckpoints(world: World): { count: number; every: number; setEvery(every: number): void } {
  const feed = FeedWorld.of(world);
  return {
    count: feed.checkpointCount,
    every: feed.checkpointEvery,
    setEvery: (every: number) => {
      feed.checkpointEvery = every;
    },
  };
}

/**
 * A checkpoint of the merge: a copy of its look-ahead heap's typed arrays (28 bytes a step; at
 * most ~7,100 steps at scale 10), and its counters. Restoring one and walking on gives exactly
 * the steps a walk from the start gives, so a seek deep into the feed (a cursor, an offset, a start time) walks at most
 * the spacing between checkpoints instead of the whole feed before it.
 */
interface Checkpoint {
  readonly sequence: number;
  /** Time of the next step. */
  readonly top: number;
  /** Every numeric field of the merge, by name: counters of every source, added later or not. */
  readonly counters: ReadonlyMap<string, number>;
  readonly times: Float64Array;
  /** src, idx, kind, aux, ref of each step. */
  readonly fields: Int32Array;
}

/** Events between checkpoints at first. */
const CHECKPOINT_EVERY = 1 << 16;
/** Checkpoints kept per world: at scale 10, ~46 of at most ~200 KB each. */
const MAX_CHECKPOINTS = 64;

/** The fingerprint event ids of this world carry: a cursor from another world does not match. */
export function worldFingerprint(world: World): string {
  return FeedWorld.of(world).fingerprint;
}

/**
 * `ev-<world fingerprint>-<sequence>`: deterministic, and a cursor. The sequence's digits come
 * from digit tables (numberText), not a number-to-string conversion: V8 keeps each number it
 * converts in its old-generation cache, and every event has a new sequence.
 */
export function eventId(fingerprint: string, sequence: number): string {
  return 'ev-' + fingerprint + '-' + numberText(sequence);
}

/** The sequence an event id names, or undefined when it is not one of this world's ids. */
export function sequenceOfId(fingerprint: string, id: string): number | undefined {
  const match = /^ev-([0-9a-f]{8})-(\d{1,15})$/.exec(id);
  if (!match || match[1] !== fingerprint) return undefined;
  return Number(match[2]);
}

/**
 * Sessions are numbered by their last event, and a session lasts well under this long: the
 * merge schedules a session's clicks this much before its last event, so they enter the heap
 * before any of them is due.
 */
const SESSION_LOOKAHEAD = 6 * 60 * 60_000;

const sessions = (world: World): TimedSource => {
  const generator = world.generator('sessions');
  return { population: generator.population, createdAt: (i) => generator.plan(i).lastEventAt - SESSION_LOOKAHEAD };
};
const users = (world: World): TimedSource => world.generator('users');
const prices = (world: World): TimedSource => {
  const generator = world.generator('price-changes');
  return { population: generator.population, createdAt: (i) => generator.timeOf(i) };
};
const orders = (world: World): TimedSource => {
  const generator = world.generator('orders');
  return { population: generator.population, createdAt: (i) => generator.plan(i).createdAt };
};

/** The merge drops the tickets held past their last event every 1,024 steps (see FeedWorld.holdTicket). */
const RELEASE_EVERY_MASK = 1023;

/**
 * The k-way merge of the world's time-ordered sources. Each source contributes its next
 * record's creation; a record's later lifecycle (an order's payment, shipment, delivery,
 * return) is pushed when its creation is taken, so the heap holds only the look-ahead: the
 * pending futures of records created in the last few weeks, never the world.
 *
 * Assumes each source is numbered in time order (createdAt(i) non-decreasing); every update
 * follows its insert whatever the sources do, since a record's futures enter the heap only
 * after its creation left it.
 */
export class FeedMerge {
  private readonly heap = new StepHeap();
  private readonly userSource: TimedSource;
  private readonly orderSource: TimedSource;
  private readonly sessionSource: TimedSource;
  private nextSession = 0;
  private sessionStride = 1;
  private nextOpened = 0;
  private nextCounted = 0;
  private readonly rows: number;
  private readonly reviews: RecordSchedule;
  private readonly tickets: RecordSchedule;
  private nextReview = 0;
  private nextTicket = 0;
  private readonly stock: StockSchedule;
  private nextUser = 0;
  private nextOrder = 0;
  private nextStock = 0;
  private shipmentCount = 0;
  private returnCount = 0;
  private readonly priceSource: TimedSource;
  private nextPrice = 0;
  /** Position in the feed of the next step. */
  sequence = 0;

  /**
   * `mode`: 'all' (the whole feed), 'only' (the sessions' clickstream alone: exactly the
   * src-3 steps of the whole feed in the same relative order, since nothing outside src 3 reads
   * a session; it needs none of the world's preparation) or 'off' (every other source). A
   * render worker walks 'only' while the main thread walks 'off' and merges the two by the
   * same (t, src, idx, kind, aux) order (src/events/split.ts). With `sessionParts` > 1, 'only'
   * walks the sessions numbered sessionPart, sessionPart + sessionParts, …: one worker's share.
   */
  constructor(
    readonly feed: FeedWorld,
    readonly mode: 'all' | 'only' | 'off' = 'all',
    sessionPart = 0,
    sessionParts = 1,
  ) {
    // 'only' may take every sessionParts-th session from sessionPart (a worker's share).
    this.nextSession = sessionPart;
    this.sessionStride = sessionParts;
    this.userSource = users(feed.world);
    this.orderSource = orders(feed.world);
    this.sessionSource = sessions(feed.world);
    if (mode === 'only') {
      this.priceSource = { population: 0, createdAt: () => 0 };
      this.stock = { times: new Float64Array(0), rows: new Int32Array(0), ks: new Int32Array(0) };
      this.rows = 0;
      this.reviews = this.tickets = { times: new Float64Array(0), index: new Int32Array(0), parents: new Int32Array(0), ks: new Int32Array(0) };
      this.pushSession();
      return;
    }
    this.priceSource = prices(feed.world);
    this.stock = feed.stock;
    this.rows = feed.world.generator('inventory').population;
    this.reviews = feed.reviews;
    this.tickets = feed.tickets;
    this.pushScheduled(Kind.ReviewPosted);
    this.pushScheduled(Kind.TicketOpened);
    this.pushInventory(Kind.InventoryOpened);
    this.pushInventory(Kind.InventoryCounted);
    this.pushSession();
    this.pushUser();
    this.pushOrder();
    this.pushStock();
    this.pushPrice();
  }

  /** The next price change (numbered in time order, like users and orders). */
  private pushPrice(): void {
    const i = this.nextPrice++;
    if (i < this.priceSource.population) this.heap.push(this.priceSource.createdAt(i), 7, i, Kind.PriceChanged, 0, 0);
  }

  private pushUser(): void {
    const i = this.nextUser++;
    if (i < this.userSource.population) this.heap.push(this.userSource.createdAt(i), 0, i, Kind.UserSignedUp, 0, 0);
  }

  private pushOrder(): void {
    const i = this.nextOrder++;
    if (i < this.orderSource.population) this.heap.push(this.orderSource.createdAt(i), 1, i, Kind.OrderPlaced, 0, 0);
  }

  private pushStock(): void {
    const k = this.nextStock++;
    if (k < this.stock.times.length) this.heap.push(this.stock.times[k] as number, 2, k, Kind.Stock, 0, 0);
  }

  /** Every inventory row opens at the window start and is counted at its last second. */
  private pushInventory(kind: Kind.InventoryOpened | Kind.InventoryCounted): void {
    const row = kind === Kind.InventoryOpened ? this.nextOpened++ : this.nextCounted++;
    const { start, end } = this.feed.world.window;
    if (row < this.rows) this.heap.push(kind === Kind.InventoryOpened ? start : end - 1000, 4, row, kind, 0, 0);
  }

  /** The next review or ticket by time (idx is its record index). */
  private pushScheduled(kind: Kind.ReviewPosted | Kind.TicketOpened): void {
    const schedule = kind === Kind.ReviewPosted ? this.reviews : this.tickets;
    const k = kind === Kind.ReviewPosted ? this.nextReview++ : this.nextTicket++;
    if (k < schedule.times.length) {
      // aux and ref carry the child number and the parent (aux ties only within one record).
      const idx = schedule.index[k] as number;
      this.heap.push(schedule.times[k] as number, kind === Kind.ReviewPosted ? 5 : 6, idx, kind, schedule.ks[k] as number, schedule.parents[k] as number);
    }
  }

  private pushSession(): void {
    if (this.mode === 'off') return;
    const i = this.nextSession;
    this.nextSession += this.sessionStride;
    if (i < this.sessionSource.population) this.heap.push(this.sessionSource.createdAt(i), 3, i, Kind.SessionStarted, 0, 0);
  }

  /**
   * Schedules any session that starts before the next step to be emitted; that step's time, or
   * undefined at the end of the feed.
   */
  private settle(): number | undefined {
    const heap = this.heap;
    // A session's start is silent: it schedules its clickstream events.
    while (heap.size > 0 && heap.topKind === Kind.SessionStarted) {
      const session = heap.topIdx;
      heap.pop();
      this.pushSession();
      const sessions = this.feed.world.generator('sessions');
      const script = sessions.script(session);
      const last = script.length - 1;
      for (let k = 0; k <= last; k++) {
        const e = script[k] as { type: ClickstreamEventType; at: number };
        // A PURCHASE (a checkout session's last event) is at its order's created_at to the
        // second; it enters the merge at the order's exact moment, so it follows that order's
        // order.placed (src 1 before src 3 at one moment) instead of preceding it by the
        // order's milliseconds. Its event_time (to the second) and its row are unchanged.
        const at = k === last && e.type === 'PURCHASE' ? this.feed.world.generator('orders').plan(sessions.plan(session).order).createdAt : e.at;
        heap.push(at, 3, session, Kind.Interaction, k, INTERACTION_CODES.indexOf(e.type));
      }
    }
    return heap.topTime;
  }

  /**
   * Moves past the steps before `start` and those up to sequence `afterSequence`, at most
   * `budget` of them (so a caller can yield to the event loop between calls); true when done.
   */
  advance(start: number, afterSequence: number, budget: number): boolean {
    for (let n = 0; n < budget; n++) {
      const top = this.settle();
      if (top === undefined || (top >= start && this.sequence > afterSequence)) return true;
      if (this.sequence % this.feed.checkpointEvery === 0) this.feed.remember(this, top);
      this.next();
    }
    return false;
  }

  /** This merge's state, settled, its next step at time `top`. */
  checkpoint(top: number): Checkpoint {
    const counters = new Map<string, number>();
    for (const [name, value] of Object.entries(this)) if (typeof value === 'number') counters.set(name, value);
    const { times, fields } = this.heap.contents();
    return { sequence: this.sequence, top, counters, times, fields };
  }

  /** Puts this merge in the state of a checkpoint (of the same world). */
  restore(checkpoint: Checkpoint): void {
    const self = this as unknown as Record<string, number>;
    for (const [name, value] of checkpoint.counters) self[name] = value;
    this.heap.load(checkpoint.times, checkpoint.fields);
  }

  /** The next step of the feed, or undefined at its end. */
  next(): Step | undefined {
    if (this.settle() === undefined) return undefined;
    const step = this.heap.pop() as Step;
    // Tickets held past their last event are dropped (that event's row is built before this step's).
    if ((this.sequence & RELEASE_EVERY_MASK) === 0) this.feed.releaseBefore(step.t);
    this.sequence++;
    switch (step.kind) {
      case Kind.UserSignedUp: {
        this.pushUser();
        const user = this.feed.world.generator('users').record(step.idx);
        if (user.updated_at !== user.created_at) this.follow(step, Date.parse(user.updated_at), Kind.UserUpdated, step.aux, step.ref);
        break;
      }
      case Kind.OrderPlaced: {
        this.pushOrder();
        const plan = this.feed.world.generator('orders').plan(step.idx);
        const shipment = plan.shippedAt === null ? -1 : this.shipmentCount++;
        const ret = plan.returnLine < 0 ? -1 : this.returnCount++;
        if (orderPays(this.feed.world, step.idx)) this.follow(step, step.t, Kind.PaymentAuthorised, ret, shipment);
        if (plan.paymentAt !== null) {
          if (plan.paymentStatus === 'failed') {
            this.follow(step, plan.paymentAt, Kind.PaymentFailed, ret, shipment);
          } else {
            this.follow(step, plan.paymentAt, Kind.PaymentCaptured, ret, shipment);
            this.follow(step, plan.paymentAt, Kind.OrderPaid, ret, shipment);
          }
        }
        if (plan.cancelledAt !== null) {
          this.follow(step, plan.cancelledAt, Kind.OrderCancelled, ret, shipment);
          if (plan.paymentStatus === 'refunded') this.follow(step, plan.cancelledAt, Kind.PaymentRefunded, ret, shipment);
        }
        if (plan.shippedAt !== null) {
          this.follow(step, plan.shippedAt, Kind.ShipmentDispatched, ret, shipment);
          this.follow(step, plan.shippedAt, Kind.OrderShipped, ret, shipment);
          for (let line = 0; line < plan.lines; line++) this.follow(step, plan.shippedAt, Kind.Sale, line, shipment);
        }
        if (plan.deliveredAt !== null) {
          this.follow(step, plan.deliveredAt, Kind.ShipmentDelivered, ret, shipment);
          this.follow(step, plan.deliveredAt, Kind.OrderDelivered, ret, shipment);
        }
        if (ret >= 0) this.follow(step, plan.returnRequestedAt, Kind.ReturnRequested, ret, shipment);
        break;
      }
      case Kind.ReturnRequested: {
        const decided = this.feed.returns.of(step.idx, step.aux);
        if (decided.resolved_at !== null) {
          const t = Date.parse(decided.resolved_at);
          this.follow(step, t, Kind.ReturnDecided, step.aux, step.ref);
          if (decided.status === 'approved' || decided.status === 'refunded') this.follow(step, t, Kind.ReturnMovement, step.aux, step.ref);
        }
        break;
      }
      case Kind.Stock:
        this.pushStock();
        break;
      case Kind.InventoryOpened:
      case Kind.InventoryCounted:
        this.pushInventory(step.kind);
        break;
      case Kind.ReviewPosted:
        this.pushScheduled(Kind.ReviewPosted);
        break;
      case Kind.PriceChanged:
        this.pushPrice();
        break;
      case Kind.TicketOpened: {
        this.pushScheduled(Kind.TicketOpened);
        const ticket = this.feed.world.generator('support-tickets').recordAt(step.ref, step.aux, step.idx);
        let until = step.t;
        if (ticket.first_response_at !== null) {
          until = Date.parse(ticket.first_response_at);
          this.follow(step, until, Kind.TicketAnswered, step.aux, step.ref);
        }
        if (ticket.resolved_at !== null) {
          const resolved = Date.parse(ticket.resolved_at);
          this.follow(step, resolved, Kind.TicketResolved, step.aux, step.ref);
          until = Math.max(until, resolved);
          if (ticket.status === 'closed') {
            this.follow(step, resolved + 3 * DAY, Kind.TicketClosed, step.aux, step.ref);
            until = Math.max(until, resolved + 3 * DAY);
          }
        }
        this.feed.holdTicket(step.idx, ticket, until);
        break;
      }
      default:
        break;
    }
    return step;
  }

  private follow(step: Step, t: number, kind: Kind, aux: number, ref: number): void {
    this.heap.push(t, step.src, step.idx, kind, aux, ref);
  }

  /** The event a step stands for, with the row as it was right after it. */
  event(step: Step, sequence: number): FeedEvent {
    const row = step.kind === Kind.Stock ? (this.stock.rows[step.idx] as number) : 0;
    const k = step.kind === Kind.Stock ? (this.stock.ks[step.idx] as number) : 0;
    return stepEvent(this.feed, step, sequence, row, k);
  }
}

/**
 * The event a step stands for, with the row as it was right after it: a pure function of the
 * world and the step (a stock step's inventory row and movement number given).
 */
function stepEvent(feed: FeedWorld, step: Step, sequence: number, stockRow: number, stockK: number): FeedEvent {
  const world = feed.world;
  const type = stepType(step);
  const info = EVENT_TYPES[type];
  const time = iso(step.t);
  let data: Record<string, unknown>;
  let key: string;
  switch (step.kind) {
    case Kind.UserSignedUp:
    case Kind.UserUpdated: {
      const user = world.generator('users').record(step.idx);
      data = step.kind === Kind.UserSignedUp ? { ...user, updated_at: user.created_at } : user;
      key = user.user_id;
      break;
    }
    case Kind.OrderPlaced:
    case Kind.OrderPaid:
    case Kind.OrderCancelled:
    case Kind.OrderShipped:
    case Kind.OrderDelivered: {
      const order = world.generator('orders').record(step.idx);
      data = { ...order, status: ORDER_STATUS[step.kind] as string, updated_at: time };
      key = order.order_id;
      break;
    }
    case Kind.PaymentAuthorised:
    case Kind.PaymentCaptured:
    case Kind.PaymentFailed:
    case Kind.PaymentRefunded: {
      const payment = world.generator('payments').ofOrder(step.idx);
      data =
        step.kind === Kind.PaymentAuthorised
          ? { ...payment, status: 'pending', processed_at: null }
          : { ...payment, status: PAYMENT_STATUS[step.kind] as string };
      key = payment.payment_id;
      break;
    }
    case Kind.ShipmentDispatched:
    case Kind.ShipmentDelivered: {
      const shipment = feed.shipments.of(step.idx, step.ref);
      data = step.kind === Kind.ShipmentDispatched ? { ...shipment, status: 'in_transit', actual_delivery_at: null } : shipment;
      key = shipment.shipment_id;
      break;
    }
    case Kind.ReturnRequested:
    case Kind.ReturnDecided: {
      const ret = feed.returns.of(step.idx, step.aux);
      data = step.kind === Kind.ReturnRequested ? { ...ret, status: 'requested', refund_amount: 0, resolved_at: null } : ret;
      key = ret.return_id;
      break;
    }
    case Kind.Sale:
    case Kind.ReturnMovement:
    case Kind.Stock: {
      const movements = world.generator('inventory-movements');
      const movement =
        step.kind === Kind.Sale
          ? movements.saleMovement(step.idx, step.aux, step.ref)
          : step.kind === Kind.ReturnMovement
            ? movements.returnMovement(step.idx, step.aux, step.ref)
            : movements.stockMovementOf(stockRow, stockK);
      data = movement;
      key = movement.movement_id;
      break;
    }
    case Kind.InventoryOpened:
    case Kind.InventoryCounted: {
      const row = world.generator('inventory').record(step.idx);
      data =
        step.kind === Kind.InventoryCounted
          ? row
          : // At the window's start: its opening stock, and no restock yet in the window (the
            // row's own last_restocked_at is its last RESTOCK's, later in the window).
            { ...row, quantity_on_hand: world.generator('inventory-movements').openingStock(step.idx), quantity_reserved: 0, last_restocked_at: time, updated_at: time };
      key = row.inventory_id;
      break;
    }
    case Kind.PriceChanged: {
      const change = world.generator('price-changes').record(step.idx);
      data = change;
      key = change.change_id;
      break;
    }
    case Kind.ReviewPosted: {
      const review = world.generator('reviews').recordAt(step.ref, step.aux, step.idx);
      data = review;
      key = review.review_id;
      break;
    }
    case Kind.TicketOpened:
    case Kind.TicketAnswered:
    case Kind.TicketResolved:
    case Kind.TicketClosed: {
      const ticket = feed.ticket(step.idx, step.ref, step.aux);
      data =
        step.kind === Kind.TicketOpened
          ? { ...ticket, status: 'open', first_response_at: null, resolved_at: null, satisfaction_score: null }
          : step.kind === Kind.TicketAnswered
            ? { ...ticket, status: ticket.status === 'open' ? 'open' : 'pending', resolved_at: null, satisfaction_score: null }
            : step.kind === Kind.TicketResolved
              ? { ...ticket, status: 'resolved' }
              : ticket;
      key = ticket.ticket_id;
      break;
    }
    default: {
      const click = feed.clicks.of(step.idx, step.aux);
      data = click;
      key = click.event_id;
    }
  }
  return {
    event_id: feed.idPrefix + numberText(sequence), // eventId(feed.fingerprint, sequence)
    event_type: type,
    event_time: time,
    entity: info.entity,
    key,
    op: info.op,
    sequence,
    data,
  };
}

const ORDER_STATUS: Partial<Record<Kind, string>> = {
  [Kind.OrderPlaced]: 'pending',
  [Kind.OrderPaid]: 'processing',
  [Kind.OrderCancelled]: 'cancelled',
  [Kind.OrderShipped]: 'shipped',
  [Kind.OrderDelivered]: 'delivered',
};
const PAYMENT_STATUS: Partial<Record<Kind, string>> = {
  [Kind.PaymentCaptured]: 'completed',
  [Kind.PaymentFailed]: 'failed',
  [Kind.PaymentRefunded]: 'refunded',
};

/** A step with its position in the whole feed. */
export interface Placed {
  readonly step: Step;
  readonly sequence: number;
}

/**
 * The steps of a world's feed inside the options' window and types, after `afterSequence`,
 * in feed order, without building rows. With `idleEvery`, {@link IDLE} is yielded after every
 * that many steps walked, delivered or not, so a caller on the event loop can let other work run;
 * without it (0), never. Counting only steps walked past (as before) left a subset whose events
 * come every dozen steps or so unpaced: `types=order.placed` walked 1,024 deliveries (~15,000
 * steps) between two turns of a page's walk, and held the event loop ~190 ms.
 */
export function* feedSteps(merge: FeedMerge, options: FeedOptions, afterSequence = -1, idleEvery = 0): Generator<Placed> {
  const types = options.types && options.types.length > 0 ? new Set(options.types) : undefined;
  const start = options.start ?? -Infinity;
  const end = options.end ?? Infinity;
  let walked = 0;
  for (;;) {
    const sequence = merge.sequence;
    const step = merge.next();
    if (!step || step.t >= end) return;
    if (idleEvery > 0 && ++walked >= idleEvery) {
      walked = 0;
      yield IDLE;
    }
    if (step.t < start || sequence <= afterSequence || (types && !types.has(stepType(step)))) continue;
    yield { step, sequence };
  }
}

/** The deliveries of a feed (chaos applied, offset not), still without rows; with `idleEvery`, {@link IDLE} among them (see {@link feedSteps}). */
export function feedDeliveries(
  world: World,
  options: FeedOptions = {},
  afterSequence = -1,
  merge: FeedMerge = new FeedMerge(FeedWorld.of(world)),
  idleEvery = 0,
): { merge: FeedMerge; deliveries: Iterable<Delivery> } {
  const chaos = chaosOf(world.seed, options);
  const steps = feedSteps(merge, options, afterSequence, idleEvery);
  return { merge, deliveries: chaos ? applyChaos(steps, chaos) : steps };
}

/**
 * A bounded world's change feed in time order, streamed lazily: rows are built only for the
 * events it yields, and memory holds the look-ahead heap, not the world.
 *
 * @example
 * for (const event of feedEvents(world, { types: ['order.placed'] })) console.log(event.key);
 */
export function* feedEvents(world: World, options: FeedOptions = {}, afterSequence = -1): Generator<FeedEvent> {
  const { merge, deliveries } = feedDeliveries(world, options, afterSequence);
  let skip = options.offset ?? 0;
  for (const delivery of deliveries) {
    if (skip > 0) {
      skip--;
      continue;
    }
    yield materialise(merge, delivery, world.seed);
  }
}

/** The event of a delivery, with its chaos applied. */
export function materialise(merge: FeedMerge, delivery: Delivery, seed: number): FeedEvent {
  return withDefect(merge.event(delivery.step, delivery.sequence), delivery, seed);
}

/** An event as a delivery delivers it: a chaos copy labelled, a bad one malformed. */
export function withDefect(event: FeedEvent, delivery: Pick<Delivery, 'defect' | 'variant'>, seed: number): FeedEvent {
  if (!delivery.defect) return event;
  if (delivery.defect !== 'bad') return { ...event, defect: delivery.defect };
  return corrupt(event, delivery.variant ?? 'missing_field', seed);
}

/** The malformed variants a 'bad' event comes in. */
export const BAD_VARIANTS = ['missing_field', 'wrong_type', 'negative_quantity', 'unknown_enum', 'truncated'] as const;
export type BadVariant = (typeof BAD_VARIANTS)[number];

/** A malformed copy of an event: what a dead-letter queue should catch. */
export function corrupt(event: FeedEvent, variant: BadVariant, seed: number): FeedEvent {
  const data = { ...event.data };
  const bad: FeedEvent = { ...event, data, defect: 'bad' };
  switch (variant) {
    case 'missing_field':
      // The row loses its primary key.
      delete data[Object.keys(data)[0] as string];
      break;
    case 'wrong_type':
      // A timestamp becomes a number.
      (bad as unknown as Record<string, unknown>).event_time = Date.parse(event.event_time);
      break;
    case 'negative_quantity': {
      const field = ['quantity', 'item_count', 'total', 'amount', 'loyalty_points', 'refund_amount'].find((f) => typeof data[f] === 'number');
      if (field) data[field] = -Math.abs(data[field] as number) - 1;
      else (bad as unknown as Record<string, unknown>).sequence = -1 - event.sequence;
      break;
    }
    case 'unknown_enum':
      if ('status' in data) data.status = 'unknown_status';
      else if ('movement_type' in data) data.movement_type = 'TELEPORT';
      else (bad as unknown as Record<string, unknown>).op = 'upsert';
      break;
    case 'truncated': {
      const text = JSON.stringify(bad);
      const cut = 8 + (mix32(seed ^ Math.imul(event.sequence + 1, 0x9e3779b1)) % Math.max(1, text.length - 16));
      bad.raw = text.slice(0, cut);
      break;
    }
  }
  return bad;
}
