import type { Payment } from '../schemas/payment.js';
import { PAYMENT_METHODS } from '../schemas/payment.js';
import { EntityGenerator, scramble } from './entity.js';
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
 * Exactly one payment per order (payment i pays order i); amount is the order total.
 *
 * @example
 * payments.record(7).amount === orders.record(7).total;
 */
export class PaymentGenerator extends EntityGenerator<Payment> {
  readonly population: number;
  private readonly orders: OrderGenerator;

  constructor(world: World) {
    super(world, 'payments');
    this.orders = world.generator('orders');
    this.population = this.orders.population;
  }

  record(i: number): Payment {
    const order = this.orders.record(i);
    const plan = this.orders.plan(i);
    const rng = this.keyed(i);
    const method = METHODS[this.world.profile.country === 'GB' ? 'GB' : 'US'].draw(rng);
    const card = method === 'credit_card' || method === 'debit_card';
    return {
      payment_id: this.idOf(i),
      order_id: order.order_id,
      user_id: order.user_id,
      method,
      provider: rng.pick(PROVIDER[method]),
      status: plan.paymentStatus,
      amount: order.total,
      currency: order.currency,
      card_last4: card ? rng.digits(4) : null,
      transaction_reference: `TXN-${scramble(this.world.seed, i).toString(16).toUpperCase().padStart(8, '0')}`,
      created_at: order.created_at,
      processed_at: plan.paymentAt === null ? null : iso(plan.paymentAt),
    };
  }
}
