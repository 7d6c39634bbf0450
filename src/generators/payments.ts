import type { Payment } from '../schemas/payment.js';
import { PAYMENT_METHODS } from '../schemas/payment.js';
import { ChildIndex } from './child-index.js';
import { EntityGenerator, scramble } from './entity.js';
import { orderPays } from './knobs.js';
import { WeightedChoice } from './random.js';
import { iso } from './time.js';
import type { OrderGenerator } from './orders.js';
import type { World } from './world.js';

type Method = (typeof PAYMENT_METHODS)[number];

// UK shoppers pay by debit card far more than US shoppers do.
const METHODS: Record<'US' | 'GB', WeightedChoice<Method>> = {
  US: new WeightedChoice<Method>([
    ['credit_card', 46], ['debit_card', 20], ['paypal', 14], ['apple_pay', 9], ['google_pay', 5], ['klarna', 4], ['bank_transfer', 2],
  ]),
  GB: new WeightedChoice<Method>([
    ['debit_card', 41], ['credit_card', 21], ['paypal', 17], ['apple_pay', 10], ['google_pay', 4], ['klarna', 5], ['bank_transfer', 2],
  ]),
};
const CARD_PROVIDERS = ['Stripe', 'Adyen', 'Braintree', 'Worldpay'] as const;
const PROVIDER: Record<Method, readonly string[]> = {
  credit_card: CARD_PROVIDERS,
  debit_card: CARD_PROVIDERS,
  paypal: ['PayPal'],
  apple_pay: ['Stripe', 'Adyen'],
  google_pay: ['Stripe', 'Adyen'],
  klarna: ['Klarna'],
  bank_transfer: ['GoCardless', 'Plaid'],
};

/**
 * One payment per order that gets one, in order of the orders: by default every order (payment
 * i pays order i); with `payment_ratio` < 1 only the orders picked by {@link orderPays}, found
 * through a child index (per-block counts of the picked orders, built once per world). A
 * payment's id and draws are keyed by its order, so the default world's payments do not change
 * with the knob's plumbing. Amount is the order total.
 *
 * @example
 * payments.record(7).amount === orders.record(7).total; // payment_ratio 1
 */
export class PaymentGenerator extends EntityGenerator<Payment> {
  private readonly orders: OrderGenerator;
  private readonly everyOrder: boolean;
  private index?: ChildIndex;

  constructor(world: World) {
    super(world, 'payments');
    this.orders = world.generator('orders');
    this.everyOrder = world.knob('payment_ratio') >= 1;
  }

  private get positions(): ChildIndex {
    this.index ??= ChildIndex.of(this.world, 'child:payments', this.orders.population, (o) => (orderPays(this.world, o) ? 1 : 0));
    return this.index;
  }

  get population(): number {
    return this.everyOrder ? this.orders.population : this.positions.total;
  }

  /** The order payment i pays. */
  orderOf(i: number): number {
    if (this.everyOrder) return i;
    if (i < 0 || i >= this.population) throw new RangeError(`payments ${i} does not exist`);
    return this.positions.locate(i)[0];
  }

  record(i: number): Payment {
    return this.ofOrder(this.orderOf(i));
  }

  override idOf(i: number): string {
    return this.ids.uuid(this.orderOf(i));
  }

  override *range(start: number, end: number): Generator<Payment> {
    if (this.everyOrder) {
      yield* super.range(start, end);
      return;
    }
    for (const [order] of this.positions.walk(start, end)) yield this.ofOrder(order);
  }

  /** The payment of order o (an order without one, see {@link orderPays}, has none: do not ask). */
  ofOrder(o: number): Payment {
    const order = this.orders.record(o);
    const plan = this.orders.plan(o);
    const rng = this.keyed(o);
    const method = METHODS[this.world.profile.country === 'GB' ? 'GB' : 'US'].draw(rng);
    const card = method === 'credit_card' || method === 'debit_card';
    return {
      payment_id: this.ids.uuid(o),
      order_id: order.order_id,
      user_id: order.user_id,
      method,
      provider: rng.pick(PROVIDER[method]),
      status: plan.paymentStatus,
      amount: order.total,
      currency: order.currency,
      card_last4: card ? rng.digits(4) : null,
      transaction_reference: `TXN-${scramble(this.world.seed, o).toString(16).toUpperCase().padStart(8, '0')}`,
      created_at: order.created_at,
      processed_at: plan.paymentAt === null ? null : iso(plan.paymentAt),
    };
  }
}
