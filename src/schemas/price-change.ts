import { Type, type Static } from '@sinclair/typebox';
import { Currency, Money, OneOf, Timestamp, Uuid } from './common.js';

export const PRICE_CHANGE_REASONS = ['PROMOTION_START', 'PROMOTION_END', 'COST_INCREASE', 'COMPETITOR_MATCH'] as const;
export type PriceChangeReason = (typeof PRICE_CHANGE_REASONS)[number];

/**
 * A change of a product's price. A product's changes chain: each previous_price is the
 * new_price of the change before it, and the last new_price is the product's price.
 *
 * @example
 * { "change_id": "…", "product_id": "…", "previous_price": 49.99, "new_price": 39.99, "currency": "USD", "reason": "PROMOTION_START", "changed_at": "2025-03-02T01:17:00Z" }
 */
export const PriceChangeSchema = Type.Object(
  {
    change_id: Uuid('Primary key'),
    product_id: Uuid('The product whose price changes'),
    previous_price: Money('Price before the change'),
    new_price: Money('Price from changed_at on'),
    currency: Currency(),
    reason: OneOf(
      PRICE_CHANGE_REASONS,
      'PROMOTION_START (a cut of 5-30%), PROMOTION_END (back to the regular price), COST_INCREASE (+2-10%) or COMPETITOR_MATCH (-3-10%)',
    ),
    changed_at: Timestamp('When the new price takes effect; order lines placed from then on are priced at it'),
  },
  { $id: 'PriceChange', additionalProperties: false, description: "A change of a product's price" },
);
export type PriceChange = Static<typeof PriceChangeSchema>;
