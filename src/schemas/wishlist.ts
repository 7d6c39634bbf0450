import { Type, type Static } from '@sinclair/typebox';
import { Nullable, OneOf, Timestamp, Uuid } from './common.js';

export const WISHLIST_PRIORITIES = ['low', 'medium', 'high'] as const;

/**
 * One product on a customer's wishlist: each (user, product) pair appears at most once.
 *
 * @example
 * { "wishlist_item_id": "…", "user_id": "…", "product_id": "…", "added_at": "2025-04-02T19:14:08Z", "priority": "high", "note": "Birthday gift idea" }
 */
export const WishlistItemSchema = Type.Object(
  {
    wishlist_item_id: Uuid('Primary key'),
    user_id: Uuid('The customer whose wishlist it is'),
    product_id: Uuid('The product wished for (distinct per user)'),
    added_at: Timestamp("Added after the customer's sign-up"),
    priority: OneOf(WISHLIST_PRIORITIES, 'How much the customer wants it'),
    note: Nullable(Type.String({ description: "The customer's own note; usually empty", examples: ['Birthday gift idea'] })),
  },
  { $id: 'WishlistItem', additionalProperties: false, description: 'A product on a customer wishlist' },
);
export type WishlistItem = Static<typeof WishlistItemSchema>;
