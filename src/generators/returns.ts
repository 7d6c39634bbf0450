import type { Return } from '../schemas/return.js';
import { RETURN_REASONS } from '../schemas/return.js';
import { ChildGenerator } from './child-index.js';
import { cents, money } from './entity.js';
import type { OrderGenerator } from './orders.js';
import { WeightedChoice } from './random.js';
import { DAY, HOUR, iso, laterBy } from './time.js';
import type { World } from './world.js';

type Reason = (typeof RETURN_REASONS)[number];
const REASONS = new WeightedChoice<Reason>([
  ['size_fit', 24], ['changed_mind', 20], ['damaged', 14], ['defective', 13], ['not_as_described', 13], ['wrong_item', 10], ['arrived_late', 6],
]);
const OUTCOMES = new WeightedChoice<'approved' | 'rejected' | 'refunded'>([['refunded', 76], ['approved', 12], ['rejected', 12]]);

/**
 * What the customer paid, in cents, for `quantity` of the `lineQuantity` units of a line whose
 * total is `lineCents`, on an order with `subtotal`, `discount` and `tax` (all cents): the line's
 * pro-rata share of the goods paid for (subtotal - discount + tax; shipping is not refunded),
 * i.e. the line after its share of the order discount plus the tax charged on that, rounded
 * down to the cent. Rounding down (rather than a largest-remainder allocation, which can give
 * a line one cent more than its exact share) keeps every refund at or below the exact share,
 * however an auditor allocates the discount, and the refunds of all lines of an order never
 * add up to more than its payment.
 *
 * @example
 * paidForUnits(2000, 2, 1, 5000, 500, 900); // 1 of 2 units of a 20.00 line: 10.80 (of 54.00 paid)
 */
export function paidForUnits(lineCents: number, lineQuantity: number, quantity: number, subtotal: number, discount: number, tax: number): number {
  if (subtotal <= 0) return 0;
  // Integers well below 2^53 (cents x units x cents), so the division is the only rounding.
  return Math.floor((lineCents * quantity * (subtotal - discount + tax)) / (subtotal * lineQuantity));
}

/**
 * Returns of one line of a delivered order, requested after delivery. The refund is what the
 * customer paid for the returned units after the order's discount, tax included
 * (`paidForUnits`); a 10% restocking fee applies to change-of-mind returns.
 *
 * @example
 * returns.record(0).refund_amount <= paidForUnits(line, line.quantity, quantity, subtotal, discount, tax) / 100;
 */
export class ReturnGenerator extends ChildGenerator<Return> {
  private readonly orders: OrderGenerator;
  protected readonly parents: number;

  constructor(world: World) {
    super(world, 'returns');
    this.orders = world.generator('orders');
    this.parents = this.orders.population;
  }

  protected childCount(order: number): number {
    return this.orders.plan(order).returnLine < 0 ? 0 : 1;
  }

  protected child(order: number, _k: number, i: number): Return {
    const { end } = this.world.window;
    const plan = this.orders.plan(order);
    const parent = this.orders.record(order);
    const line = parent.items[plan.returnLine];
    if (!line) throw new RangeError(`order ${order} has no line ${plan.returnLine}`);
    const rng = this.keyed(i);
    const reason = REASONS.draw(rng);
    const quantity = line.quantity === 1 ? 1 : rng.between(1, line.quantity);
    const decidedAt = laterBy(rng, plan.returnRequestedAt, 6 * HOUR, 10 * DAY);
    const status = decidedAt < end ? OUTCOMES.draw(rng) : 'requested';
    const paid = paidForUnits(cents(line.total), line.quantity, quantity, cents(parent.subtotal), cents(parent.discount), cents(parent.tax));
    const refund =
      status === 'refunded' || status === 'approved' ? (reason === 'changed_mind' ? Math.round(paid * 0.9) : paid) : 0;
    return {
      return_id: this.idOf(i),
      order_id: parent.order_id,
      order_item_id: line.order_item_id,
      product_id: line.product_id,
      user_id: parent.user_id,
      quantity,
      reason,
      status,
      refund_amount: money(refund),
      currency: parent.currency,
      requested_at: iso(plan.returnRequestedAt),
      resolved_at: status === 'requested' ? null : iso(decidedAt),
    };
  }
}
