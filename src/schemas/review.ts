import { Type, type Static } from '@sinclair/typebox';
import { Nullable, Timestamp, Uuid } from './common.js';

/**
 * A product review. Verified reviews come from a customer who bought the product (order_id and
 * order_item_id name the delivered line) and are written after delivery; unverified reviews
 * carry no order.
 *
 * @example
 * { "review_id": "…", "product_id": "…", "user_id": "…", "order_id": "…", "rating": 5, "title": "Worth every penny", "is_verified": true, … }
 */
export const ReviewSchema = Type.Object(
  {
    review_id: Uuid('Primary key'),
    product_id: Uuid('The product reviewed'),
    user_id: Uuid('The reviewer'),
    order_id: Nullable(Uuid('The delivered order the product was bought in; null for unverified reviews')),
    order_item_id: Nullable(Uuid('The order line bought; null for unverified reviews')),
    rating: Type.Integer({ minimum: 1, maximum: 5, description: 'Stars, 1-5: mostly 5, then 4, with a bump at 1', examples: [5] }),
    title: Type.String({ description: 'Headline matching the rating', examples: ['Worth every penny'] }),
    body: Type.String({
      description: 'Review text matching the rating and the delivery experience',
      examples: ['Really impressed with this kettle. Well made and easy to use.'],
    }),
    is_verified: Type.Boolean({ description: 'True when the reviewer bought the product here (order_id is set)' }),
    helpful_votes: Type.Integer({ minimum: 0, description: 'Other customers who found the review helpful', examples: [3] }),
    created_at: Timestamp('Written after delivery (verified) or after the reviewer signed up (unverified)'),
  },
  { $id: 'Review', additionalProperties: false, description: 'A product review' },
);
export type Review = Static<typeof ReviewSchema>;
