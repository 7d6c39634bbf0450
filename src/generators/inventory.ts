import type { Inventory } from '../schemas/inventory.js';
import { EntityGenerator, RecordCache } from './entity.js';
import { Rng, tagOf } from './random.js';
import { DAY, iso, laterBy } from './time.js';
import type { World } from './world.js';

const SALT_QTY = tagOf('quantity');

/**
 * Stock per (product, warehouse): row i is product floor(i / W) in warehouse i mod W, where W is
 * the number of warehouses. About one row in five is out of stock.
 *
 * @example
 * new InventoryGenerator(world).record(0).product_id === products.idOf(0);
 */
export class InventoryGenerator extends EntityGenerator<Inventory> {
  readonly population: number;
  private readonly warehouses: number;
  private readonly qtyRng = new Rng();
  /** Product and warehouse ids, remembered (bounded): every row repeats one of each. */
  readonly productIds: RecordCache<string>;
  readonly warehouseIds: RecordCache<string>;

  constructor(world: World) {
    super(world, 'inventory');
    this.warehouses = world.sizes.warehouses;
    this.population = world.sizes.products * this.warehouses;
    const products = world.generator('products');
    const warehouses = world.generator('warehouses');
    this.productIds = new RecordCache((p) => products.idOf(p), world.sizes.products);
    this.warehouseIds = new RecordCache((w) => warehouses.idOf(w), this.warehouses);
  }

  /** Units on hand in row i, without generating the rest of the row. */
  quantityOnHand(i: number): number {
    const rng = this.qtyRng.key(this.world.seed, this.tag, i, SALT_QTY);
    if (rng.chance(0.2)) return 0;
    return Math.round(Math.exp(rng.uniform(1, 5.5)));
  }

  /** Units of product p across all warehouses: the product's stock_quantity. */
  stockOf(product: number): number {
    let sum = 0;
    for (let w = 0; w < this.warehouses; w++) sum += this.quantityOnHand(product * this.warehouses + w);
    return sum;
  }

  /**
   * last_restocked_at (epoch ms, whole seconds, as the record shows it) and reorder_quantity of
   * row i, from the same draws as record(i) without building the row (the change feed's stock
   * schedule reads these for every row).
   */
  restockOf(i: number): { lastRestockedAt: number; reorderQuantity: number } {
    const { window } = this.world;
    const rng = this.keyed(i);
    const restocked = window.end - 1 - rng.int(Math.min(90 * DAY, window.end - window.start));
    const reorderPoint = rng.between(5, 40);
    const onHand = this.quantityOnHand(i);
    if (onHand !== 0) rng.int(Math.min(onHand, 10) + 1);
    return { lastRestockedAt: Math.floor(restocked / 1000) * 1000, reorderQuantity: reorderPoint * rng.between(3, 8) };
  }

  record(i: number): Inventory {
    const { window } = this.world;
    const rng = this.keyed(i);
    const product = Math.floor(i / this.warehouses);
    const warehouse = i % this.warehouses;
    const onHand = this.quantityOnHand(i);
    const restocked = window.end - 1 - rng.int(Math.min(90 * DAY, window.end - window.start));
    const reorderPoint = rng.between(5, 40);
    return {
      inventory_id: this.idOf(i),
      product_id: this.productIds.get(product),
      warehouse_id: this.warehouseIds.get(warehouse),
      quantity_on_hand: onHand,
      quantity_reserved: onHand === 0 ? 0 : rng.int(Math.min(onHand, 10) + 1),
      reorder_point: reorderPoint,
      reorder_quantity: reorderPoint * rng.between(3, 8),
      last_restocked_at: iso(restocked),
      updated_at: iso(laterBy(rng, restocked, 0, window.end - 1 - restocked)),
    };
  }
}
