import type { InventoryMovement } from '../schemas/inventory-movement.js';
import type { Return } from '../schemas/return.js';
import type { Shipment } from '../schemas/shipment.js';
import { ChildIndex, precomputed } from './child-index.js';
import { EntityGenerator } from './entity.js';
import type { OrderGenerator } from './orders.js';
import { Rng, WeightedChoice, tagOf } from './random.js';
import { ReturnGenerator } from './returns.js';
import { ShipmentGenerator } from './shipping.js';
import { busyMoment, iso } from './time.js';
import type { World } from './world.js';

/**
 * The shipping endpoint's records, addressed by (order, shipment index) directly: a SALE knows
 * both, so it need not page through the shipments' child index. Same entity, same keys, so the
 * very same records (warehouse, shipped_at) as GET /shipping.
 */
export class ShipmentsByOrder extends ShipmentGenerator {
  of(order: number, shipment: number): Shipment {
    return this.child(order, 0, shipment);
  }
}

/** The returns endpoint's records, addressed by (order, return index); see ShipmentsByOrder. */
export class ReturnsByOrder extends ReturnGenerator {
  of(order: number, ret: number): Return {
    return this.child(order, 0, ret);
  }
}

/**
 * A small direct-mapped memo keyed by an index (the record's own index in its entity). Its
 * users ask for the same record a few times in a row (the lines of one shipment, a return
 * decided then booked), so 16 slots serve them; a larger memo (it had 1,024) kept each record
 * alive long enough for the garbage collector to move it to the old generation, where the
 * change feed's stream of them grew the heap.
 */
class Memo<T> {
  private readonly keys = new Float64Array(16).fill(-1);
  private readonly values = new Array<T | undefined>(16);

  get(key: number, produce: () => T): T {
    const slot = key & 15;
    if (this.keys[slot] === key) return this.values[slot] as T;
    const value = produce();
    this.keys[slot] = key;
    this.values[slot] = value;
    return value;
  }
}

const BLOCK = 1024;

/** Keys in the world's precomputed store of the ledger's block counts and of the per-row flows. */
const LEDGER_KEYS = ['inventory-movements.ledger.sale', 'inventory-movements.ledger.ship', 'inventory-movements.ledger.return', 'inventory-movements.ledger.accepted'] as const;
const SOLD_KEY = 'inventory-movements.sold';
const RETURNED_KEY = 'inventory-movements.returned';
const STOCK_KEY = 'child:inventory-movements.stock';

/** The last block whose prefix is <= flat (prefixes never decrease). */
function blockOf(prefix: Float64Array, flat: number): number {
  let lo = 0;
  let hi = prefix.length - 2;
  while (lo < hi) {
    const mid = (lo + hi + 1) >>> 1;
    if ((prefix[mid] as number) <= flat) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}

/**
 * Index arithmetic over the orders for the two order-driven segments: the SALE movements (one
 * per line of a shipped or delivered order) and the RETURN movements (one per approved or
 * refunded return). Per block of 1024 orders it keeps where each count stood (sales, shipments,
 * returns, accepted returns), so a position is found by a binary search and a scan of at most
 * one block, and the shipment and return indexes of an order come with it. The block counts are
 * registered in the world's precomputed store when complete: a precompute thread builds them
 * and the server installs them (src/precompute/prepare.ts), so its event loop never runs the pass.
 */
class OrderLedger {
  /** SALE and RETURN movements: known once {@link build} has taken every order. */
  sales = 0;
  returns = 0;
  /** Whether every order is in (built here, or installed). */
  complete = false;
  private readonly salePrefix: Float64Array;
  private readonly shipPrefix: Float64Array;
  private readonly returnPrefix: Float64Array;
  private readonly acceptedPrefix: Float64Array;
  private readonly count: number;
  /** The next order {@link build} takes, and the counts before it. */
  private next = 0;
  private sums = { sale: 0, ship: 0, ret: 0, acc: 0 };

  constructor(
    private readonly world: World,
    private readonly orders: OrderGenerator,
    /** Whether return `ret` (of order `order`) was accepted, i.e. approved or refunded. */
    private readonly accepted: (order: number, ret: number) => boolean,
  ) {
    this.count = orders.population;
    const blocks = Math.ceil(this.count / BLOCK);
    const store = precomputed(world);
    const installed = LEDGER_KEYS.map((key) => store.get(key));
    if (installed.every((array) => array instanceof Float64Array && array.length === blocks + 1)) {
      [this.salePrefix, this.shipPrefix, this.returnPrefix, this.acceptedPrefix] = installed as [Float64Array, Float64Array, Float64Array, Float64Array];
      this.next = this.count;
      this.sales = this.salePrefix[blocks] as number;
      this.returns = this.acceptedPrefix[blocks] as number;
      this.complete = true;
      return;
    }
    this.salePrefix = new Float64Array(blocks + 1);
    this.shipPrefix = new Float64Array(blocks + 1);
    this.returnPrefix = new Float64Array(blocks + 1);
    this.acceptedPrefix = new Float64Array(blocks + 1);
  }

  /**
   * Takes up to `budget` more orders into the block counts; true when every order is in. In
   * slices so that the change feed's preparation can yield to the event loop between them (one
   * pass over the orders held it for ~0.7 s at scale 10).
   */
  build(budget: number): boolean {
    if (this.complete) return true;
    const s = this.sums;
    const stop = Math.min(this.count, this.next + budget);
    for (let o = this.next; o < stop; o++) {
      if (o % BLOCK === 0) this.mark(o / BLOCK);
      const plan = this.orders.plan(o);
      if (plan.shippedAt !== null) {
        s.sale += plan.lines;
        s.ship++;
      }
      if (plan.returnLine >= 0) {
        if (this.accepted(o, s.ret)) s.acc++;
        s.ret++;
      }
    }
    this.next = stop;
    if (stop < this.count) return false;
    this.mark(Math.ceil(this.count / BLOCK));
    this.sales = s.sale;
    this.returns = s.acc;
    this.complete = true;
    const store = precomputed(this.world);
    const arrays = [this.salePrefix, this.shipPrefix, this.returnPrefix, this.acceptedPrefix];
    LEDGER_KEYS.forEach((key, k) => {
      if (!store.has(key)) store.set(key, arrays[k] as Float64Array);
    });
    return true;
  }

  /** Where each count stands at the start of block b. */
  private mark(b: number): void {
    this.salePrefix[b] = this.sums.sale;
    this.shipPrefix[b] = this.sums.ship;
    this.returnPrefix[b] = this.sums.ret;
    this.acceptedPrefix[b] = this.sums.acc;
  }

  /** (order, line, shipment index) of SALE positions start..end-1. */
  *saleLines(start: number, end: number): Generator<readonly [order: number, line: number, shipment: number]> {
    const stop = Math.min(end, this.sales);
    if (start >= stop) return;
    const b = blockOf(this.salePrefix, start);
    let sale = this.salePrefix[b] as number;
    let ship = this.shipPrefix[b] as number;
    for (let o = b * BLOCK; o < this.count && sale < stop; o++) {
      const plan = this.orders.plan(o);
      if (plan.shippedAt === null) continue;
      for (let k = Math.max(0, start - sale); k < plan.lines && sale + k < stop; k++) yield [o, k, ship];
      sale += plan.lines;
      ship++;
    }
  }

  /** (order, return index, shipment index) of RETURN positions start..end-1. */
  *acceptedReturns(start: number, end: number): Generator<readonly [order: number, ret: number, shipment: number]> {
    const stop = Math.min(end, this.returns);
    if (start >= stop) return;
    const b = blockOf(this.acceptedPrefix, start);
    let acc = this.acceptedPrefix[b] as number;
    let ret = this.returnPrefix[b] as number;
    let ship = this.shipPrefix[b] as number;
    for (let o = b * BLOCK; o < this.count && acc < stop; o++) {
      const plan = this.orders.plan(o);
      if (plan.returnLine >= 0) {
        if (this.accepted(o, ret)) {
          if (acc >= start) yield [o, ret, ship];
          acc++;
        }
        ret++;
      }
      if (plan.shippedAt !== null) ship++;
    }
  }
}

const SALT_STOCK = tagOf('stock-plan');
const SALT_MOVE = tagOf('stock-move');
const SALT_CLOSE = tagOf('stock-close');
const RESTOCKS = new WeightedChoice([[1, 20], [2, 35], [3, 30], [4, 15]] as const);
const DAMAGE_NOTES = [
  'Damaged in handling',
  'Water damage in storage',
  'Packaging crushed, unsellable',
  'Broken during picking',
  'Failed quality inspection',
] as const;
const FOUND_NOTES = ['Cycle count: stock found', 'Stocktake correction (surplus)', 'Mis-picked units put back'] as const;
const LOST_NOTES = ['Cycle count: shrinkage', 'Stocktake correction (shortfall)', 'Units missing at picking'] as const;

/** The warehouse's own movements of an inventory row: restocks, then write-offs, then corrections. */
interface StockPlan {
  readonly restocks: number;
  readonly damages: number;
  readonly adjustments: number;
}

/**
 * The facts of the inventory row whose movements are being built (scratch, overwritten when
 * another row's are asked for): its plan, last restock and reorder quantity.
 */
interface StockRow {
  row: number;
  restocks: number;
  damages: number;
  adjustments: number;
  /** The row's last_restocked_at, epoch ms. */
  lastRestock: number;
  reorderQuantity: number;
}

/** What a warehouse movement draws (scratch, overwritten by the next draw). */
interface StockDraw {
  /** Occurred at, epoch ms (the record shows it to the second). */
  at: number;
  quantity: number;
  /** RESTOCK: the supplier's index, and whether it delivered short. */
  supplier: number;
  short: boolean;
  /** ADJUSTMENT: units found rather than lost. */
  found: boolean;
}

/**
 * What the change feed's schedule pass (`stockMovementTimes`) learns of every inventory row, so
 * that building a movement later need not draw it again: the row's plan, last restock and
 * reorder quantity (a movement's facts, drawn per row otherwise: the feed visits rows in time
 * order, so consecutive movements seldom share one), and the sums of its warehouse movements
 * in and out (the opening stock and the period-close count, which otherwise draw every
 * movement of the row again). Typed arrays, 21 bytes a row: they live as long as the world.
 */
interface StockTable {
  /** restocks | damages << 3 | adjustments << 5; 0 while the row is not yet seen (restocks >= 1). */
  readonly plans: Uint8Array;
  readonly lastRestock: Float64Array;
  readonly reorderQuantity: Int32Array;
  readonly inflow: Int32Array;
  readonly outflow: Int32Array;
}

/**
 * Stock movements of every product in every warehouse, in three segments one after the other:
 *
 * 1. SALE: one per line of every shipped or delivered order (in order of the orders), the line's
 *    product and quantity (negative), leaving the warehouse of the order's shipment at shipped_at.
 * 2. RETURN: one per approved or refunded return, its quantity back into that same warehouse at
 *    the return's resolved_at.
 * 3. The warehouse's own, per inventory row (product x warehouse, in inventory order): 1-4
 *    RESTOCK deliveries of the row's reorder_quantity from one of the product's suppliers (the
 *    preferred one mostly; less reliable suppliers sometimes deliver short), the last of them at
 *    the row's last_restocked_at; now and then a DAMAGE write-off or an ADJUSTMENT.
 *
 * Ids are keyed by what a movement mirrors (the order line, the order's return, the inventory
 * row and movement number), not by its position.
 *
 * @example
 * const m = new InventoryMovementGenerator(world).record(0);
 * m.movement_type; // 'SALE', with m.quantity === -(line quantity) and m.order_item_id set
 */
export class InventoryMovementGenerator extends EntityGenerator<InventoryMovement> {
  private readonly orders: OrderGenerator;
  private readonly shipments: ShipmentsByOrder;
  private readonly returnsByOrder: ReturnsByOrder;
  private readonly shipmentMemo = new Memo<Shipment>();
  private readonly returnMemo = new Memo<Return>();
  private readonly planRng = new Rng();
  private readonly warehouses: number;
  private ledgerCache?: OrderLedger;
  private stockCache?: ChildIndex;
  private readonly facts: StockRow = { row: -1, restocks: 0, damages: 0, adjustments: 0, lastRestock: 0, reorderQuantity: 0 };
  private table?: StockTable;
  private readonly draw: StockDraw = { at: 0, quantity: 0, supplier: 0, short: false, found: false };
  private readonly reliability = new Map<number, number>();
  private flowCache?: { sold: Int32Array; returned: Int32Array };
  private flowBuild?: {
    sold: Int32Array;
    returned: Int32Array;
    sales: Iterator<readonly [number, number, number]>;
    returns: Iterator<readonly [number, number, number]>;
  };

  constructor(world: World) {
    super(world, 'inventory-movements');
    this.orders = world.generator('orders');
    this.shipments = new ShipmentsByOrder(world);
    this.returnsByOrder = new ReturnsByOrder(world);
    this.warehouses = world.sizes.warehouses;
  }

  private get ledger(): OrderLedger {
    const ledger = this.ledgerOf();
    while (!ledger.build(1 << 30));
    return ledger;
  }

  /** The order ledger, built or not (the change feed builds it in slices: prepareFlows). */
  private ledgerOf(): OrderLedger {
    // A ledger half built here is dropped when a precompute thread's arrays have been installed since.
    if (this.ledgerCache && !this.ledgerCache.complete && LEDGER_KEYS.every((key) => precomputed(this.world).has(key))) this.ledgerCache = undefined;
    this.ledgerCache ??= new OrderLedger(this.world, this.orders, (order, ret) => {
      const status = this.returnOf(order, ret).status;
      return status === 'approved' || status === 'refunded';
    });
    return this.ledgerCache;
  }

  private get stock(): ChildIndex {
    this.stockCache ??= ChildIndex.of(this.world, STOCK_KEY, this.world.generator('inventory').population, (row) => {
      const plan = this.stockPlan(row);
      return plan.restocks + plan.damages + plan.adjustments + 1;
    });
    return this.stockCache;
  }

  get population(): number {
    return this.ledger.sales + this.ledger.returns + this.stock.total;
  }

  record(i: number): InventoryMovement {
    if (!Number.isInteger(i) || i < 0 || i >= this.population) throw new RangeError(`${this.entity} ${i} does not exist`);
    const [only] = this.range(i, i + 1);
    if (!only) throw new RangeError(`${this.entity} ${i} does not exist`);
    return only;
  }

  override idOf(i: number): string {
    return this.record(i).movement_id;
  }

  override *range(start: number, end: number): Generator<InventoryMovement> {
    const sales = this.ledger.sales;
    const returns = sales + this.ledger.returns;
    const stop = Math.min(end, this.population);
    for (const [order, line, shipment] of this.ledger.saleLines(start, Math.min(stop, sales))) yield this.sale(order, line, shipment);
    if (stop > sales && start < returns) {
      for (const [order, ret, shipment] of this.ledger.acceptedReturns(Math.max(start, sales) - sales, Math.min(stop, returns) - sales)) {
        yield this.returned(order, ret, shipment);
      }
    }
    if (stop > returns) {
      for (const [row, k] of this.stock.walk(Math.max(start, returns) - returns, stop - returns)) yield this.stockMovement(row, k);
    }
  }

  /**
   * The SALE movement of line `line` of order `order`, whose shipment is shipment number
   * `shipment` (its index in GET /shipping): the change feed builds the ledger by event.
   */
  saleMovement(order: number, line: number, shipment: number): InventoryMovement {
    return this.sale(order, line, shipment);
  }

  /** The RETURN movement of return number `ret` (of order `order`, shipped as `shipment`). */
  returnMovement(order: number, ret: number, shipment: number): InventoryMovement {
    return this.returned(order, ret, shipment);
  }

  /** How many warehouse movements (RESTOCK, DAMAGE, ADJUSTMENT) inventory row `row` has. */
  stockMovementCount(row: number): number {
    const plan = this.stockPlan(row);
    return plan.restocks + plan.damages + plan.adjustments + 1;
  }

  /**
   * Units on hand in inventory row `row` at the start of the window: with every movement of
   * the row added, exactly the row's quantity_on_hand at the window end (the ledger balances).
   * It covers every outflow, so stock never goes below zero along the way.
   */
  openingStock(row: number): number {
    return this.balanceOf(row).opening;
  }

  /** Units sold and returned per inventory row, from one pass over the orders (once per world). */
  private get flows(): { sold: Int32Array; returned: Int32Array } {
    while (!this.prepareFlows(1 << 30));
    return this.flowCache as { sold: Int32Array; returned: Int32Array };
  }

  /**
   * Walks up to `budget` more order lines and returns into the per-row sums behind the opening
   * stock; true when they are complete. Callers that must not block (the change feed) call it
   * in slices, yielding to the event loop between them.
   */
  prepareFlows(budget: number): boolean {
    if (this.flowCache) return true;
    // Built by a precompute thread and installed (src/precompute/prepare.ts), or by another generator of this world.
    const store = precomputed(this.world);
    const sold = store.get(SOLD_KEY);
    const returned = store.get(RETURNED_KEY);
    if (sold instanceof Int32Array && returned instanceof Int32Array) {
      this.flowCache = { sold, returned };
      this.flowBuild = undefined;
      return true;
    }
    if (!this.flowBuild) {
      if (!this.ledgerOf().build(budget)) return false;
      const rows = this.world.generator('inventory').population;
      this.flowBuild = {
        sold: new Int32Array(rows),
        returned: new Int32Array(rows),
        sales: this.ledger.saleLines(0, this.ledger.sales),
        returns: this.ledger.acceptedReturns(0, this.ledger.returns),
      };
    }
    const build = this.flowBuild;
    // The lines' products and quantities from the basket, the warehouse from the shipment's
    // own draw: no order or shipment record is built for a sale (the basket's draws are the
    // record's, test/generators/served-order.test.ts).
    const rowOf = (order: number, line: number, shipment: number) =>
      (this.orders.basket(order).products[line] as number) * this.warehouses + this.shipments.warehouseOf(shipment);
    for (let n = 0; n < budget; n++) {
      const sale = build.sales.next();
      if (!sale.done) {
        const [order, line, shipment] = sale.value;
        const row = rowOf(order, line, shipment);
        build.sold[row] = (build.sold[row] as number) + (this.orders.basket(order).quantities[line] as number);
        continue;
      }
      const ret = build.returns.next();
      if (ret.done) {
        this.flowCache = { sold: build.sold, returned: build.returned };
        this.flowBuild = undefined;
        store.set(SOLD_KEY, build.sold);
        store.set(RETURNED_KEY, build.returned);
        return true;
      }
      const [order, r, shipment] = ret.value;
      const accepted = this.returnOf(order, r);
      const line = this.orders.record(order).items.findIndex((item) => item.order_item_id === accepted.order_item_id);
      const row = rowOf(order, line, shipment);
      build.returned[row] = (build.returned[row] as number) + accepted.quantity;
      // A return builds its order and its return record: counted as ~20 sales, so that a slice
      // of returns costs about what a slice of sales does (500 of them held the loop ~30 ms).
      n += 19;
    }
    return false;
  }

  /** The opening stock of a row and its closing count (the last movement, at the window end). */
  private balanceOf(row: number): { opening: number; closing: number } {
    let inflow = this.flows.returned[row] as number;
    let outflow = this.flows.sold[row] as number;
    const table = this.table;
    if (table !== undefined && table.plans[row] !== 0) {
      inflow += table.inflow[row] as number;
      outflow += table.outflow[row] as number;
    } else {
      const facts = this.rowFacts(row);
      for (let k = 0; k < facts.restocks + facts.damages + facts.adjustments; k++) {
        const q = this.stockDraw(row, k, facts, true).quantity;
        if (q > 0) inflow += q;
        else outflow -= q;
      }
    }
    const onHand = this.world.generator('inventory').quantityOnHand(row);
    const rng = this.planRng.key(this.world.seed, this.tag, row, SALT_CLOSE);
    const opening = Math.max(outflow, onHand - inflow + outflow) + rng.between(1, 6);
    return { opening, closing: onHand - opening - inflow + outflow };
  }

  /** Warehouse movement k of inventory row `row`. */
  stockMovementOf(row: number, k: number): InventoryMovement {
    return this.stockMovement(row, k);
  }

  private shipmentOf(order: number, shipment: number): Shipment {
    return this.shipmentMemo.get(shipment, () => this.shipments.of(order, shipment));
  }

  private returnOf(order: number, ret: number): Return {
    return this.returnMemo.get(ret, () => this.returnsByOrder.of(order, ret));
  }

  private sale(order: number, line: number, shipment: number): InventoryMovement {
    const parent = this.orders.record(order);
    const item = parent.items[line];
    if (!item) throw new RangeError(`order ${order} has no line ${line}`);
    const shipped = this.shipmentOf(order, shipment);
    return {
      movement_id: this.ids.uuid(order, line + 1),
      product_id: item.product_id,
      warehouse_id: shipped.warehouse_id,
      movement_type: 'SALE',
      quantity: -item.quantity,
      occurred_at: shipped.shipped_at,
      order_item_id: item.order_item_id,
      return_id: null,
      supplier_id: null,
      note: `Order ${parent.order_number}, line ${item.line_number}`,
    };
  }

  private returned(order: number, ret: number, shipment: number): InventoryMovement {
    const accepted = this.returnOf(order, ret);
    const parent = this.orders.record(order);
    const line = parent.items.findIndex((item) => item.order_item_id === accepted.order_item_id) + 1;
    return {
      movement_id: this.ids.uuid(order, 0),
      product_id: accepted.product_id,
      warehouse_id: this.shipmentOf(order, shipment).warehouse_id,
      movement_type: 'RETURN',
      quantity: accepted.quantity,
      occurred_at: accepted.resolved_at as string,
      order_item_id: null,
      return_id: accepted.return_id,
      supplier_id: null,
      note: `Customer return, order ${parent.order_number} line ${line} (${accepted.reason.replace(/_/g, ' ')})`,
    };
  }

  private stockPlan(row: number): StockPlan {
    const rng = this.planRng.key(this.world.seed, this.tag, row, SALT_STOCK);
    return {
      restocks: RESTOCKS.draw(rng),
      damages: rng.chance(0.3) ? (rng.chance(0.2) ? 2 : 1) : 0,
      adjustments: rng.chance(0.35) ? 1 : 0,
    };
  }

  /** The plan, last restock and reorder quantity of an inventory row; consecutive movements share a row. */
  private rowFacts(row: number): StockRow {
    const facts = this.facts;
    if (facts.row === row) return facts;
    const table = this.table;
    const packed = table === undefined ? 0 : (table.plans[row] as number);
    if (table !== undefined && packed !== 0) {
      facts.restocks = packed & 7;
      facts.damages = (packed >> 3) & 3;
      facts.adjustments = packed >> 5;
      facts.lastRestock = table.lastRestock[row] as number;
      facts.reorderQuantity = table.reorderQuantity[row] as number;
    } else {
      const { lastRestockedAt, reorderQuantity } = this.world.generator('inventory').restockOf(row);
      const plan = this.stockPlan(row);
      facts.restocks = plan.restocks;
      facts.damages = plan.damages;
      facts.adjustments = plan.adjustments;
      facts.lastRestock = lastRestockedAt;
      facts.reorderQuantity = reorderQuantity;
    }
    facts.row = row;
    return facts;
  }

  /** A supplier's reliability score, by index (suppliers are few: all of them are remembered). */
  private reliabilityOf(supplier: number): number {
    let score = this.reliability.get(supplier);
    if (score === undefined) {
      score = this.world.generator('suppliers').record(supplier).reliability_score;
      this.reliability.set(supplier, score);
    }
    return score;
  }

  /**
   * The numbers of warehouse movement k of a row (not the period-close count), drawn in the
   * very order the record draws them, leaving the record's stream positioned for the rest (the
   * purchase order number, the note). `quantity` false stops after the time: the stock
   * schedule needs only that, for every movement of the world, so it skips the supplier.
   */
  private stockDraw(row: number, k: number, facts: StockRow, quantity: boolean): StockDraw {
    const { start, end } = this.world.window;
    const { restocks, lastRestock } = facts;
    const out = this.draw;
    const rng = this.keyed(row, (SALT_MOVE ^ Math.imul(k + 1, 0x9e3779b1)) >>> 0);
    if (k < restocks) {
      const product = Math.floor(row / this.warehouses);
      const offered = this.world.generator('product-suppliers').suppliersOf(product);
      const preferred = offered.length === 1 || rng.chance(0.75);
      out.supplier = preferred ? (offered[0] as number) : (offered[1 + rng.int(offered.length - 1)] as number);
      // The latest delivery is the one inventory reports; earlier ones spread over the window before it.
      out.at =
        k === restocks - 1
          ? lastRestock
          : start + Math.floor(((lastRestock - start) * (k + rng.uniform(0.15, 0.85))) / (restocks - 1));
      if (!quantity) return out;
      const ordered = facts.reorderQuantity;
      out.short = rng.chance((1 - this.reliabilityOf(out.supplier)) * 0.8);
      out.quantity = out.short ? Math.max(1, Math.round(ordered * rng.uniform(0.5, 0.95))) : ordered;
      return out;
    }
    const damage = k < restocks + facts.damages;
    out.found = !damage && rng.chance(0.4);
    out.quantity = damage ? -rng.between(1, 3) : out.found ? rng.between(1, 4) : -rng.between(1, 6);
    // Before the period-close count at the window's last second.
    out.at = busyMoment(rng, start, end - 1000);
    return out;
  }

  /**
   * The times (epoch ms, whole seconds: their occurred_at) of every warehouse movement of row
   * `row`, the period-close count last, appended to `times`; returns how many. The change
   * feed's stock schedule calls it once per row: it draws each movement whole (its quantity
   * too, a few draws more than its time), so the row's facts and sums are remembered for the
   * movements, the opening stock and the count built later (see StockTable).
   */
  stockMovementTimes(row: number, times: number[]): number {
    const rows = this.world.generator('inventory').population;
    const table = (this.table ??= {
      plans: new Uint8Array(rows),
      lastRestock: new Float64Array(rows),
      reorderQuantity: new Int32Array(rows),
      inflow: new Int32Array(rows),
      outflow: new Int32Array(rows),
    });
    const facts = this.rowFacts(row);
    const n = facts.restocks + facts.damages + facts.adjustments;
    let inflow = 0;
    let outflow = 0;
    for (let k = 0; k < n; k++) {
      const draw = this.stockDraw(row, k, facts, true);
      times.push(Math.floor(draw.at / 1000) * 1000);
      if (draw.quantity > 0) inflow += draw.quantity;
      else outflow -= draw.quantity;
    }
    times.push(Math.floor((this.world.window.end - 1000) / 1000) * 1000);
    table.lastRestock[row] = facts.lastRestock;
    table.reorderQuantity[row] = facts.reorderQuantity;
    table.inflow[row] = inflow;
    table.outflow[row] = outflow;
    table.plans[row] = facts.restocks | (facts.damages << 3) | (facts.adjustments << 5);
    return n + 1;
  }

  /** When warehouse movement k of row `row` happens (epoch ms, whole seconds: its occurred_at). */
  stockMovementTime(row: number, k: number): number {
    const facts = this.rowFacts(row);
    if (k === facts.restocks + facts.damages + facts.adjustments) return Math.floor((this.world.window.end - 1000) / 1000) * 1000;
    return Math.floor(this.stockDraw(row, k, facts, false).at / 1000) * 1000;
  }

  private stockMovement(row: number, k: number): InventoryMovement {
    const { end } = this.world.window;
    const facts = this.rowFacts(row);
    const id = this.ids.uuid(row, 100 + k);
    const inventory = this.world.generator('inventory');
    const productId = inventory.productIds.get(Math.floor(row / this.warehouses));
    const warehouseId = inventory.warehouseIds.get(row % this.warehouses);
    if (k === facts.restocks + facts.damages + facts.adjustments) {
      // The period-close stock count: whatever the count finds missing, at the window's last second.
      return {
        movement_id: id,
        product_id: productId,
        warehouse_id: warehouseId,
        movement_type: 'ADJUSTMENT',
        quantity: this.balanceOf(row).closing,
        occurred_at: iso(end - 1000),
        order_item_id: null,
        return_id: null,
        supplier_id: null,
        note: 'Period-close stock count',
      };
    }
    const draw = this.stockDraw(row, k, facts, true);
    const rng = this.rng;
    if (k < facts.restocks) {
      const supplier = this.world.generator('suppliers').record(draw.supplier);
      const ordered = facts.reorderQuantity;
      const quantity = draw.quantity;
      const po = `PO-${rng.digits(8)}`;
      return {
        movement_id: id,
        product_id: productId,
        warehouse_id: warehouseId,
        movement_type: 'RESTOCK',
        quantity,
        occurred_at: iso(draw.at),
        order_item_id: null,
        return_id: null,
        supplier_id: supplier.supplier_id,
        note: draw.short ? `${po} from ${supplier.name}: short delivery, ${quantity} of ${ordered}` : `${po} from ${supplier.name}`,
      };
    }
    const damage = k < facts.restocks + facts.damages;
    return {
      movement_id: id,
      product_id: productId,
      warehouse_id: warehouseId,
      movement_type: damage ? 'DAMAGE' : 'ADJUSTMENT',
      quantity: draw.quantity,
      occurred_at: iso(draw.at),
      order_item_id: null,
      return_id: null,
      supplier_id: null,
      note: rng.pick(damage ? DAMAGE_NOTES : draw.found ? FOUND_NOTES : LOST_NOTES),
    };
  }
}
