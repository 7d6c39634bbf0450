import { Type, type Static } from '@sinclair/typebox';
import { Currency, Money, OneOf, Timestamp, Uuid } from './common.js';

export const TRANSACTION_PAYMENT_METHODS = ['debit_card', 'credit_card', 'paypal', 'apple_pay', 'google_pay', 'klarna'] as const;
export const TRANSACTION_STATUSES = ['completed', 'pending', 'failed', 'refunded'] as const;

/**
 * A UK-store sale of one product through a shop, made in the customer's logged-in session.
 * The first fifteen fields are those of the store's transaction feed, in its order.
 *
 * @example
 * { "transaction_id": "…", "customer_id": "…", "product_id": "…", "shop_id": "…", "quantity": 2, "unit_price": 24.99,
 *   "subtotal": 49.98, "tax": 10.0, "total": 59.98, "payment_method": "debit_card", "status": "completed",
 *   "timestamp": "2025-03-15T19:05:52Z", "session_id": "…", "user_agent": "Mozilla/5.0 …", "ip_address": "81.174.23.140", "currency": "GBP" }
 */
export const TransactionSchema = Type.Object(
  {
    transaction_id: Uuid('Primary key'),
    customer_id: Uuid('The customer (a user): the user logged in to session_id'),
    product_id: Uuid('The product sold'),
    shop_id: Uuid('The (active) shop that sold it'),
    quantity: Type.Integer({ minimum: 1, examples: [2] }),
    unit_price: Money("The product's price"),
    subtotal: Money('quantity x unit_price'),
    tax: Money("VAT (en_GB: 20%) or sales tax of the shop's city on the subtotal"),
    total: Money('subtotal + tax'),
    payment_method: OneOf(TRANSACTION_PAYMENT_METHODS, 'How the customer paid'),
    status: OneOf(TRANSACTION_STATUSES, 'pending only in the last 24 hours of the window'),
    timestamp: Timestamp('Inside the session (started_at <= timestamp <= ended_at)'),
    session_id: Uuid("The customer's session the transaction was made in"),
    user_agent: Type.String({ description: "The session's User-Agent" }),
    ip_address: Type.String({ format: 'ipv4', description: "The session's IP address", examples: ['81.174.23.140'] }),
    currency: Currency(),
  },
  { $id: 'Transaction', additionalProperties: false, description: 'A UK-store sales transaction' },
);
export type Transaction = Static<typeof TransactionSchema>;
