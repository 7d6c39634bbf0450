import type { Order, OrderItem } from '../schemas/order.js';
import { ChildGenerator } from './child-index.js';
import type { OrderGenerator } from './orders.js';
import type { World } from './world.js';

/**
 * Order lines, flat, in order of their orders: the very lines nested in /orders, with order_id.
 *
 * @example
 * new OrderItemGenerator(world).record(0).order_id === orders.idOf(0);
 */
export class OrderItemGenerator extends ChildGenerator<OrderItem> {
  private readonly orders: OrderGenerator;
  protected readonly parents: number;

  constructor(world: World) {
    super(world, 'order-items');
    this.orders = world.generator('orders');
    this.parents = this.orders.population;
  }

  protected childCount(order: number): number {
    return this.orders.lineCount(order);
  }

  protected child(order: number, k: number): OrderItem {
    return this.lineOf(this.orders.record(order), k);
  }

  /**
   * Line k of an order record as an order-items record: what a consumer that already holds the
   * order (the PostgreSQL sink loading orders and order-items in one pass) uses instead of
   * generating the order again.
   */
  lineOf(parent: Order, k: number): OrderItem {
    const line = parent.items[k];
    if (!line) throw new RangeError(`order ${parent.order_id} has no line ${k}`);
    return {
      order_item_id: line.order_item_id,
      order_id: parent.order_id,
      line_number: line.line_number,
      product_id: line.product_id,
      quantity: line.quantity,
      unit_price: line.unit_price,
      total: line.total,
    };
  }

  /** Line ids are keyed by (order, line), so the nested and flat views share them. */
  override idOf(i: number): string {
    const [order, k] = this.locate(i);
    return this.orders.lineId(order, k);
  }
}
