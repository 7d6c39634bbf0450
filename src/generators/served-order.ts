import { ChildGenerator, precomputed } from './child-index.js';
import type { EntityName } from './registry.js';
import type { World } from './world.js';

/**
 * The field whose time orders each dated entity's download, for entities whose records are not
 * numbered in time order (children numbered by their parents, sessions numbered by their last
 * event rather than their end). Position i of the download is the record with the i-th smallest
 * time, ties by index; ids, `record(k)` and every reference keep the internal index.
 */
export const SERVED_BY = {
  sessions: 'ended_at',
  shipping: 'shipped_at',
  returns: 'requested_at',
  reviews: 'created_at',
  'support-tickets': 'created_at',
  notifications: 'sent_at',
  'inventory-movements': 'occurred_at',
  wishlists: 'added_at',
} as const satisfies Partial<Record<EntityName, string>>;

export type ServedEntity = keyof typeof SERVED_BY;

export function isServedInTimeOrder(entity: EntityName): entity is ServedEntity {
  return Object.hasOwn(SERVED_BY, entity);
}

/** Key of the permutation in the world's precomputed store: position -> record index. */
export const servedKey = (entity: ServedEntity) => `served:${entity}`;
/** Key of a child entity's first-child table: record index of parent p's first child (parents + 1 entries). */
const firstKey = (entity: ServedEntity) => `served-first:${entity}`;

/**
 * Indexes 0..n-1 ordered by `times`, ties by index (a stable order). Shared by whatever needs
 * records by time: nearly sorted input (children of time-ordered parents) costs little.
 *
 * @example
 * timeOrder(Float64Array.of(5, 1, 5, 0)); // Int32Array [3, 1, 0, 2]
 */
export function timeOrder(times: Float64Array): Int32Array {
  const n = times.length;
  const order = new Int32Array(n);
  let sorted = true;
  let integers = true;
  let min = Infinity;
  let max = -Infinity;
  for (let k = 0; k < n; k++) {
    const t = times[k] as number;
    order[k] = k;
    if (k > 0 && t < (times[k - 1] as number)) sorted = false;
    if (!Number.isInteger(t)) integers = false;
    if (t < min) min = t;
    if (t > max) max = t;
  }
  if (sorted) return order;
  const indexBits = Math.max(1, Math.ceil(Math.log2(n)));
  if (integers && Math.log2(max - min + 1) + indexBits <= 63) {
    // (time, index) packed into one unsigned 64-bit key and sorted natively: 4x faster than a
    // comparator sort of 1.5 million rows (bench/served-order.js), and exactly the same order.
    const shift = BigInt(indexBits);
    const keys = new BigUint64Array(n);
    for (let k = 0; k < n; k++) keys[k] = (BigInt((times[k] as number) - min) << shift) | BigInt(k);
    keys.sort();
    const mask = (1n << shift) - 1n;
    for (let p = 0; p < n; p++) order[p] = Number((keys[p] as bigint) & mask);
    return order;
  }
  return order.sort((a, b) => (times[a] as number) - (times[b] as number) || a - b);
}

/** Times of a child entity's records in index order, cheaply where the parents' plans know them. */
function childTimes(world: World, entity: ServedEntity, generator: ChildGenerator<object>, first: Int32Array): Float64Array {
  const n = generator.population;
  const times = new Float64Array(n);
  const orders = world.generator('orders');
  const field = SERVED_BY[entity];
  let time: (parent: number, k: number, i: number) => number;
  switch (entity) {
    case 'shipping':
      time = (parent) => orders.plan(parent).shippedAt as number;
      break;
    case 'returns':
      time = (parent) => orders.plan(parent).returnRequestedAt;
      break;
    case 'wishlists': {
      const wishlists = world.generator('wishlists');
      time = (parent, k) => (wishlists.entries(parent)[k] as { addedAt: number }).addedAt;
      break;
    }
    default:
      // Times drawn while building the record: the record's own field, parsed back.
      time = (parent, k, i) => Date.parse((generator.childAt(parent, k, i) as Record<string, string>)[field] as string);
  }
  first.fill(-1);
  let i = 0;
  for (const [parent, k] of generator.walk(0, n)) {
    if (k === 0) first[parent] = i;
    times[i] = time(parent, k, i);
    i++;
  }
  // A parent without children starts where the next one does, so a binary search lands on the owner.
  first[first.length - 1] = n;
  for (let p = first.length - 2; p >= 0; p--) if (first[p] === -1) first[p] = first[p + 1] as number;
  return times;
}

/**
 * Where each inventory movement comes from, so a movement is built directly from its source
 * (`record(i)` of a stock movement scans up to a block of inventory rows: 3x slower served out
 * of order). It follows the generator's three segments (see InventoryMovementGenerator): SALE
 * lines of shipped orders, accepted returns, then each inventory row's own movements; the test
 * holds it to `record(i)`.
 */
function movementLocator(world: World): { sale: Int32Array; ship: Int32Array; accepted: Int32Array; stock: Int32Array } {
  const orders = world.generator('orders');
  const returns = world.generator('returns');
  const movements = world.generator('inventory-movements');
  const count = orders.population;
  const sale = new Int32Array(count + 1);
  const ship = new Int32Array(count);
  const accepted: number[] = [];
  let sales = 0;
  let shipped = 0;
  let ret = 0;
  for (let o = 0; o < count; o++) {
    const plan = orders.plan(o);
    sale[o] = sales;
    ship[o] = shipped;
    if (plan.shippedAt !== null) {
      sales += plan.lines;
      shipped++;
    }
    if (plan.returnLine >= 0) {
      const status = returns.childAt(o, 0, ret).status;
      if (status === 'approved' || status === 'refunded') accepted.push(o, ret);
      ret++;
    }
  }
  sale[count] = sales;
  const rows = world.generator('inventory').population;
  const stock = new Int32Array(rows + 1);
  let at = sales + accepted.length / 2;
  for (let row = 0; row < rows; row++) {
    stock[row] = at;
    at += movements.stockMovementCount(row);
  }
  stock[rows] = at;
  return { sale, ship, accepted: Int32Array.from(accepted), stock };
}

/** Builds and registers the permutation (and a child entity's first-child table) of a world. */
function build(world: World, entity: ServedEntity): Int32Array {
  const generator = world.generator(entity);
  const store = precomputed(world);
  let times: Float64Array;
  if (generator instanceof ChildGenerator) {
    const first = new Int32Array((generator as unknown as { parents: number }).parents + 1);
    times = childTimes(world, entity, generator as ChildGenerator<object>, first);
    store.set(firstKey(entity), first);
  } else if (entity === 'sessions') {
    const sessions = world.generator('sessions');
    times = new Float64Array(sessions.population);
    for (let i = 0; i < times.length; i++) times[i] = sessions.plan(i).endedAt;
  } else {
    times = new Float64Array(generator.population);
    let i = 0;
    for (const record of world.generator('inventory-movements').range(0, times.length)) times[i++] = Date.parse(record.occurred_at);
    for (const [key, array] of Object.entries(movementLocator(world))) store.set(`served-${key}:inventory-movements`, array);
  }
  const order = timeOrder(times);
  store.set(servedKey(entity), order);
  return order;
}

/**
 * The permutation of `entity` in `world` (position -> record index), or undefined for an entity
 * served in index order. Installed by a precompute thread (src/precompute/tasks.ts) before a
 * request serves rows; built here, on the calling thread, otherwise (CLI, render workers).
 */
export function servedOrder(world: World, entity: EntityName): Int32Array | undefined {
  if (!isServedInTimeOrder(entity)) return undefined;
  const installed = precomputed(world).get(servedKey(entity));
  return installed instanceof Int32Array ? installed : build(world, entity);
}

/** The parent of child record i: the last parent whose first child is at or before i. */
function parentOf(first: Int32Array, i: number): number {
  let lo = 0;
  let hi = first.length - 2;
  while (lo < hi) {
    const mid = (lo + hi + 1) >>> 1;
    if ((first[mid] as number) <= i) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}

/** Int32s per located record: its index, a kind (inventory movements' segment) and up to three arguments. */
const LOCATION = 5;
const SALE = 0;
const RETURN = 1;
const STOCK = 2;

/**
 * Where the records at download positions start..end-1 come from: per record its index and the
 * arguments that build it without a search (a child's parent and number; a movement's order,
 * line or return and shipment, or its inventory row and number). A plain array: it crosses to a
 * render worker, which then needs no permutation of its own. Undefined for an entity served in
 * index order.
 */
export function servedLocations(world: World, entity: EntityName, start: number, end: number): Int32Array | undefined {
  const order = servedOrder(world, entity);
  if (!order) return undefined;
  const stop = Math.min(end, order.length);
  const out = new Int32Array(Math.max(0, stop - start) * LOCATION);
  const store = precomputed(world);
  const first = store.get(firstKey(entity as ServedEntity));
  const sale = store.get('served-sale:inventory-movements');
  const ship = store.get('served-ship:inventory-movements');
  const accepted = store.get('served-accepted:inventory-movements');
  const stock = store.get('served-stock:inventory-movements');
  for (let p = start, o = 0; p < stop; p++, o += LOCATION) {
    const i = order[p] as number;
    out[o] = i;
    if (entity === 'inventory-movements') {
      if (!(sale instanceof Int32Array && ship instanceof Int32Array && accepted instanceof Int32Array && stock instanceof Int32Array)) throw new Error('inventory-movements: no locator');
      const sales = sale[sale.length - 1] as number;
      if (i < sales) {
        const row = parentOf(sale, i);
        out.set([SALE, row, i - (sale[row] as number), ship[row] as number], o + 1);
      } else if (i < (stock[0] as number)) {
        const order = accepted[2 * (i - sales)] as number;
        out.set([RETURN, order, accepted[2 * (i - sales) + 1] as number, ship[order] as number], o + 1);
      } else {
        const row = parentOf(stock, i);
        out.set([STOCK, row, i - (stock[row] as number), 0], o + 1);
      }
    } else if (first instanceof Int32Array) {
      const parent = parentOf(first, i);
      out[o + 2] = parent;
      out[o + 3] = i - (first[parent] as number);
    }
  }
  return out;
}

/** The records at `locations` (from {@link servedLocations} of the same world and entity), in order. */
export function* recordsAtLocations(world: World, entity: EntityName, locations: Int32Array): Generator<object> {
  const generator = world.generator(entity);
  for (let o = 0; o < locations.length; o += LOCATION) {
    const i = locations[o] as number;
    const kind = locations[o + 1] as number;
    const a = locations[o + 2] as number;
    const b = locations[o + 3] as number;
    if (generator instanceof ChildGenerator) yield (generator as ChildGenerator<object>).childAt(a, b, i);
    else if (entity !== 'inventory-movements') yield generator.record(i);
    else {
      const movements = world.generator('inventory-movements');
      if (kind === SALE) yield movements.saleMovement(a, b, locations[o + 4] as number);
      else if (kind === RETURN) yield movements.returnMovement(a, b, locations[o + 4] as number);
      else yield movements.stockMovementOf(a, b);
    }
  }
}

/**
 * Records at download positions start..end-1 of an entity served in time order; undefined for
 * an entity served in index order (its `range` is the download).
 *
 * @example
 * const rows = servedRange(world, 'reviews', 0, 100); // the first 100 reviews posted
 */
export function servedRange(world: World, entity: EntityName, start: number, end: number): Generator<object> | undefined {
  const order = servedOrder(world, entity);
  return order && locatedInChunks(world, entity, start, Math.min(end, order.length));
}

/** Located a chunk at a time, so a whole population streams in flat memory. */
function* locatedInChunks(world: World, entity: EntityName, start: number, end: number): Generator<object> {
  for (let from = start; from < end; from += 1024) {
    yield* recordsAtLocations(world, entity, servedLocations(world, entity, from, Math.min(end, from + 1024)) as Int32Array);
  }
}
