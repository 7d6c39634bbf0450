import { Type, type Static } from '@sinclair/typebox';
import { Currency, Money, Nullable, OneOf, Timestamp, Uuid } from './common.js';

export const RETURN_REASONS = ['damaged', 'defective', 'wrong_item', 'not_as_described', 'changed_mind', 'size_fit', 'arrived_late'] as const;
export const RETURN_STATUSES = ['requested', 'approved', 'rejected', 'refunded'] as const;

/**
 * A return of one line of a delivered order.
 *
 * @example
 * { "return_id": "…", "order_id": "…", "order_item_id": "…", "reason": "damaged", "status": "refunded", "refund_amount": 24.99, … }
 */
export const ReturnSchema = Type.Object(
  {
    return_id: Uuid('Primary key'),
    order_id: Uuid('The delivered order'),
    order_item_id: Uuid('The returned line'),
    product_id: Uuid("The line's product"),
    user_id: Uuid('The customer'),
    quantity: Type.Integer({ minimum: 1, description: 'Units returned, at most the line quantity' }),
    reason: OneOf(RETURN_REASONS, 'Reason given by the customer'),
    status: OneOf(RETURN_STATUSES, 'Where the return stands at the end of the window'),
    refund_amount: Money('Refunded so far: 0 unless approved or refunded; never more than paid for the units'),
    currency: Currency(),
    requested_at: Timestamp('After delivery'),
    resolved_at: Nullable(Timestamp('Decision time; null while requested')),
  },
  { $id: 'Return', additionalProperties: false, description: 'A product return' },
);
export type Return = Static<typeof ReturnSchema>;
