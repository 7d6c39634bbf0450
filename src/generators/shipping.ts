import type { Shipment } from '../schemas/shipment.js';
import { ChildGenerator } from './child-index.js';
import { scramble } from './entity.js';
import type { OrderGenerator } from './orders.js';
import { iso } from './time.js';
import type { World } from './world.js';

type Carrier = readonly [name: string, tracking: (serial: string) => string];

const CARRIERS: Record<'US' | 'GB', readonly Carrier[]> = {
  US: [
    ['UPS', (n: string) => `1Z${n.slice(0, 6)}03${n.slice(6)}`],
    ['FedEx', (n: string) => `7${n}1`],
    ['USPS', (n: string) => `9400${n}00`],
    ['DHL', (n: string) => `JD01${n}`],
  ],
  GB: [
    ['Royal Mail', (n: string) => `RM${n}GB`],
    ['DPD', (n: string) => `15${n}2`],
    ['Evri', (n: string) => `H0${n}1`],
    ['DHL', (n: string) => `JD01${n}`],
  ],
};

/**
 * One shipment per order that left the warehouse (status shipped or delivered), in order of
 * the orders. Shipped after payment; delivered (when it was) after shipping.
 *
 * @example
 * shipping.record(0).order_id; // the first shipped order's id
 */
export class ShipmentGenerator extends ChildGenerator<Shipment> {
  private readonly orders: OrderGenerator;
  protected readonly parents: number;

  constructor(world: World) {
    super(world, 'shipping');
    this.orders = world.generator('orders');
    this.parents = this.orders.population;
  }

  protected childCount(order: number): number {
    return this.orders.plan(order).shippedAt === null ? 0 : 1;
  }

  /**
   * The warehouse (its index) shipment i leaves from: the record's draw after the carrier's,
   * without the rest of the record (its order, the package's weight). A SALE movement and the
   * opening stock's sums need only this.
   */
  warehouseOf(i: number): number {
    const rng = this.keyed(i);
    rng.u32(); // the carrier
    return rng.int(this.world.generator('warehouses').population);
  }

  protected child(order: number, _k: number, i: number): Shipment {
    const plan = this.orders.plan(order);
    // The order's lines as drawn (the record's products and quantities), not the whole order.
    const basket = this.orders.basket(order);
    const rng = this.keyed(i);
    const products = this.world.generator('products');
    const warehouses = this.world.generator('warehouses');
    const carriers = CARRIERS[this.world.profile.country === 'GB' ? 'GB' : 'US'];
    const [carrier, tracking] = rng.pick(carriers);
    // A unique 10-digit serial: a bijection of the index, never a random draw that could collide.
    const serial = String(scramble(this.world.seed ^ 0x5bd1e995, i)).padStart(10, '0');
    let weight = 0.1; // packaging
    for (let k = 0; k < basket.products.length; k++) weight += products.facts(basket.products[k] as number).weight * (basket.quantities[k] as number);
    return {
      shipment_id: this.idOf(i),
      order_id: this.orders.idOf(order),
      warehouse_id: warehouses.idOf(rng.int(warehouses.population)),
      carrier,
      shipping_method: plan.method,
      tracking_number: tracking(serial),
      status: plan.deliveredAt === null ? 'in_transit' : 'delivered',
      shipped_at: iso(plan.shippedAt as number),
      estimated_delivery_at: iso(plan.estimatedDeliveryAt),
      actual_delivery_at: plan.deliveredAt === null ? null : iso(plan.deliveredAt),
      package_weight: Math.round(weight * 100) / 100,
    };
  }
}
