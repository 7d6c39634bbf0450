import type { ProductSupplier } from '../schemas/supplier.js';
import { CATEGORY_NODES, DEPARTMENTS } from './catalogue.js';
import { ChildGenerator } from './child-index.js';
import { RecordCache, cents, longTail, money, scramble } from './entity.js';
import { Rng, WeightedChoice, tagOf } from './random.js';
import { SupplierGenerator } from './suppliers.js';
import type { World } from './world.js';

const SALT_COUNT = tagOf('supplier-count');
const SALT_PLAN = tagOf('supplier-plan');
const SUPPLIERS_PER_PRODUCT = new WeightedChoice([[1, 40], [2, 40], [3, 20]] as const);
const HEX8 = (n: number) => n.toString(16).toUpperCase().padStart(8, '0');

/** Smallest order a supplier takes: case packs for cheap goods, single units for expensive ones. */
function minOrderQuantity(rng: Rng, priceCents: number): number {
  if (priceCents < 2000) return rng.pick([24, 48, 50, 100, 144, 250]);
  if (priceCents < 10_000) return rng.pick([6, 10, 12, 20, 24, 50]);
  if (priceCents < 50_000) return rng.pick([1, 2, 4, 5, 10]);
  return rng.pick([1, 1, 2, 5]);
}

/**
 * Which suppliers supply which product: 1-3 distinct suppliers per product (children of the
 * products, in product order), the first one preferred. A product's suppliers specialise in its
 * department when there are enough of them; a few suppliers supply most products (long tail).
 * Unit cost is around the product's cost (the preferred supplier is the cheaper side of it)
 * and always below the price; lead time is around the supplier's typical one.
 *
 * @example
 * new ProductSupplierGenerator(world).suppliersOf(0); // [preferred supplier index, …others]
 */
export class ProductSupplierGenerator extends ChildGenerator<ProductSupplier> {
  protected readonly parents: number;
  private readonly suppliers: SupplierGenerator;
  private readonly countRng = new Rng();
  private readonly planRng = new Rng();
  private readonly plans: RecordCache<readonly number[]>;

  constructor(world: World) {
    super(world, 'product-suppliers');
    this.parents = world.sizes.products;
    this.suppliers = world.generator('suppliers');
    this.plans = new RecordCache((p) => this.plan(p), this.parents, 16_384);
  }

  protected childCount(product: number): number {
    const rng = this.countRng.key(this.world.seed, this.tag, product, SALT_COUNT);
    return Math.min(SUPPLIERS_PER_PRODUCT.draw(rng), this.suppliers.population);
  }

  /** Supplier indexes of product p, distinct; the first is the preferred one. */
  suppliersOf(product: number): readonly number[] {
    return this.plans.get(product);
  }

  private plan(product: number): readonly number[] {
    const count = this.childCount(product);
    const n = this.suppliers.population;
    // From the category draw alone: the product record names its preferred supplier, so it cannot be read here.
    const node = CATEGORY_NODES[this.world.generator('products').categoryIndex(product)];
    const department = node ? DEPARTMENTS.indexOf(node.department) : 0;
    const stride = DEPARTMENTS.length;
    // Suppliers of the product's department are department, department + 8, …; too few of them
    // (a tiny world) and any supplier will do.
    const specialists = n > department ? Math.floor((n - 1 - department) / stride) + 1 : 0;
    const specialised = specialists >= count;
    const pool = specialised ? specialists : n;
    const supplierAt = (t: number) => (specialised ? department + t * stride : t);
    const positionOf = (j: number) => (specialised ? (j - department) / stride : j);
    const rng = this.planRng.key(this.world.seed, this.tag, product, SALT_PLAN);
    const chosen: number[] = [];
    for (let k = 0; k < count; k++) {
      const draw = () => supplierAt(rng.chance(0.6) ? longTail(rng.next(), pool) : rng.int(pool));
      let j = draw();
      // Distinct suppliers; the preferred one is an active supplier when a few draws find one.
      for (let attempt = 0; attempt < 12 && (chosen.includes(j) || (k === 0 && !this.suppliers.isActive(j))); attempt++) j = draw();
      while (chosen.includes(j)) j = supplierAt((positionOf(j) + 1) % pool);
      chosen.push(j);
    }
    return chosen;
  }

  protected child(product: number, k: number, i: number): ProductSupplier {
    const supplierIndex = this.suppliersOf(product)[k];
    if (supplierIndex === undefined) throw new RangeError(`product ${product} has no supplier ${k}`);
    const item = this.world.generator('products').record(product);
    const supplier = this.suppliers.record(supplierIndex);
    const rng = this.keyed(i);
    const price = cents(item.price);
    const preferred = k === 0;
    // The preferred supplier is the better deal; the others cost a little more, never the price.
    const factor = preferred ? rng.uniform(0.9, 1.0) : rng.uniform(0.97, 1.15);
    const cost = Math.min(price - 1, Math.max(1, Math.round(cents(item.cost) * factor)));
    const code = supplier.name.replace(/[^A-Za-z]/g, '').slice(0, 3).toUpperCase();
    return {
      product_supplier_id: this.idOf(i),
      product_id: item.product_id,
      supplier_id: supplier.supplier_id,
      supplier_sku: `${code}-${HEX8(scramble(this.world.seed ^ 0x2c1b3c6d, i))}`,
      cost: money(cost),
      lead_time_days: Math.max(1, Math.round(supplier.lead_time_days * rng.uniform(0.8, 1.3))),
      min_order_quantity: minOrderQuantity(rng, price),
      is_preferred: preferred,
    };
  }
}
