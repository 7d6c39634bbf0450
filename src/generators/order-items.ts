import type { Order, OrderItem } from '../schemas/order.js';
import { ChildGenerator } from './child-index.js';
import { money } from './entity.js';
import type { Basket, OrderGenerator } from './orders.js';
import type { ProductGenerator } from './products.js';
import type { World } from './world.js';

/**
 * Order lines, flat, in order of their orders: the very lines nested in /orders, with order_id.
 *
 * @example
 * new OrderItemGenerator(world).record(0).order_id === orders.idOf(0);
 */
export class OrderItemGenerator extends ChildGenerator<OrderItem> {
  private readonly orders: OrderGenerator;
  private readonly products: ProductGenerator;
  protected readonly parents: number;

  constructor(world: World) {
    super(world, 'order-items');
    this.orders = world.generator('orders');
    this.products = world.generator('products');
    this.parents = this.orders.population;
  }

  protected childCount(order: number): number {
    return this.orders.lineCount(order);
  }

  protected child(order: number, k: number): OrderItem {
    // From the order's lines alone: building the whole order (customer, promotion, totals) for
    // each of its lines was most of what a line cost.
    const basket = this.orders.basket(order);
    if (basket !== this.lastBasket) {
      this.lastBasket = basket;
      this.lastOrderId = this.orders.idOf(order);
    }
    const unit = basket.unitCents[k];
    const quantity = basket.quantities[k];
    if (unit === undefined || quantity === undefined) throw new RangeError(`order ${this.lastOrderId} has no line ${k}`);
    return {
      order_item_id: this.orders.lineId(order, k),
      order_id: this.lastOrderId,
      line_number: k + 1,
      product_id: this.products.idOf(basket.products[k] as number),
      quantity,
      unit_price: money(unit),
      total: money(unit * quantity),
    };
  }

  private lastBasket?: Basket;
  private lastOrderId = '';

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
