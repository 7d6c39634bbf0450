import { Type, type Static } from '@sinclair/typebox';
import { Currency, Money, Nullable, OneOf, Timestamp, Uuid } from './common.js';

export const PAYMENT_METHODS = ['credit_card', 'debit_card', 'paypal', 'apple_pay', 'google_pay', 'klarna', 'bank_transfer'] as const;
export const PAYMENT_STATUSES = ['pending', 'completed', 'failed', 'refunded'] as const;

/**
 * The payment of one order: exactly one per order, amount = order total.
 *
 * @example
 * { "payment_id": "…", "order_id": "…", "method": "credit_card", "status": "completed", "amount": 84.96, … }
 */
export const PaymentSchema = Type.Object(
  {
    payment_id: Uuid('Primary key'),
    order_id: Uuid('The order paid for'),
    user_id: Uuid('The paying customer (the order customer)'),
    method: OneOf(PAYMENT_METHODS, 'Payment method'),
    provider: Type.String({ examples: ['Stripe'] }),
    status: OneOf(PAYMENT_STATUSES, 'pending while the order is pending; failed or refunded for cancelled orders'),
    amount: Money('Equal to the order total'),
    currency: Currency(),
    card_last4: Nullable(Type.String({ pattern: '^[0-9]{4}$', description: 'Last four card digits; null for non-card methods' })),
    transaction_reference: Type.String({ description: 'Provider reference, unique', examples: ['TXN-8F3A2C91D0'] }),
    created_at: Timestamp('Payment attempt time, the order checkout time'),
    processed_at: Nullable(Timestamp('Authorisation time; null while pending')),
  },
  { $id: 'Payment', additionalProperties: false, description: 'A payment for an order' },
);
export type Payment = Static<typeof PaymentSchema>;
