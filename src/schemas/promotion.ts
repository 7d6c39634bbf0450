import { Type, type Static } from '@sinclair/typebox';
import { Money, Nullable, OneOf, Timestamp, Uuid } from './common.js';

export const DISCOUNT_TYPES = ['percentage', 'fixed'] as const;
export const PROMOTION_TARGETS = ['order', 'category', 'product'] as const;

/**
 * A promotion code. An order that carries the code (orders.promotion_code) got exactly this
 * discount: `discount_value`% (percentage) or `discount_value` off (fixed, at most the eligible
 * amount) of the eligible lines — all lines, the lines of the target category, or of the target
 * product — when placed inside the validity window with an order subtotal of at least
 * `min_order_amount`.
 *
 * @example
 * { "code": "SPRING15", "discount_type": "percentage", "discount_value": 15, "target_type": "category", … }
 */
export const PromotionSchema = Type.Object(
  {
    promotion_id: Uuid('Primary key'),
    code: Type.String({ description: 'The code customers enter, unique', examples: ['SPRING15'] }),
    name: Type.String({ examples: ['Spring sale: 15% off Shoes'] }),
    description: Type.String(),
    discount_type: OneOf(DISCOUNT_TYPES, 'percentage of the eligible amount, or a fixed amount off it'),
    discount_value: Type.Number({ minimum: 0, description: 'Percent (percentage) or amount in the shop currency (fixed)', examples: [15] }),
    min_order_amount: Money('Order subtotal needed to use the code'),
    target_type: OneOf(PROMOTION_TARGETS, 'What the discount applies to'),
    target_category_id: Nullable(Uuid('The leaf category whose lines are eligible (target_type category)')),
    target_product_id: Nullable(Uuid('The product whose lines are eligible (target_type product)')),
    starts_at: Timestamp('Valid from (inclusive)'),
    ends_at: Timestamp('Valid until (exclusive)'),
    is_active: Type.Boolean(),
  },
  { $id: 'Promotion', additionalProperties: false, description: 'A promotion code' },
);
export type Promotion = Static<typeof PromotionSchema>;
