import { Type, type Static } from '@sinclair/typebox';
import { Money, Nullable, Timestamp, Uuid } from './common.js';

/**
 * Per-customer aggregates computed from the records of the same world (never drawn).
 *
 * @example
 * { "user_id": "…", "orders_count": 7, "total_spent": 412.36, "average_order_value": 68.73, … }
 */
export const UserAnalyticsSchema = Type.Object(
  {
    user_id: Uuid('The customer (one row per user, in user order)'),
    orders_count: Type.Integer({ minimum: 0, description: 'Orders placed, any status' }),
    cancelled_orders: Type.Integer({ minimum: 0, description: 'Orders with status cancelled' }),
    total_spent: Money('Sum of totals of orders not cancelled'),
    average_order_value: Money('total_spent / orders not cancelled; 0 without any'),
    items_purchased: Type.Integer({ minimum: 0, description: 'Units on lines of orders not cancelled' }),
    first_order_at: Nullable(Timestamp('Earliest order created_at; null without orders')),
    last_order_at: Nullable(Timestamp('Latest order created_at; null without orders')),
    returns_count: Type.Integer({ minimum: 0, description: 'Returns requested' }),
    refunded_amount: Money('Sum of refund_amount of their returns'),
    reviews_count: Type.Integer({ minimum: 0, description: 'Reviews written' }),
    sessions_count: Type.Integer({ minimum: 0, description: 'Sessions logged in as this user' }),
  },
  { $id: 'UserAnalytics', additionalProperties: false, description: 'Aggregates of one customer' },
);
export type UserAnalytics = Static<typeof UserAnalyticsSchema>;

/**
 * Per-product aggregates computed from the records of the same world (never drawn).
 *
 * @example
 * { "product_id": "…", "units_sold": 131, "revenue": 3274.69, "average_rating": 4.21, "conversion_rate": 0.0825, … }
 */
export const ProductAnalyticsSchema = Type.Object(
  {
    product_id: Uuid('The product (one row per product, in product order)'),
    units_sold: Type.Integer({ minimum: 0, description: 'Units on lines of orders not cancelled' }),
    revenue: Money('Sum of those line totals'),
    orders_count: Type.Integer({ minimum: 0, description: 'Orders not cancelled with a line of this product' }),
    returns_count: Type.Integer({ minimum: 0, description: 'Returns of this product' }),
    units_returned: Type.Integer({ minimum: 0, description: 'Units returned' }),
    return_rate: Type.Number({ minimum: 0, description: 'units_returned / units_sold, 4 decimals; 0 without sales' }),
    review_count: Type.Integer({ minimum: 0 }),
    average_rating: Nullable(Type.Number({ minimum: 1, maximum: 5, description: 'Mean rating, 2 decimals; null without reviews' })),
    views: Type.Integer({ minimum: 0, description: 'PRODUCT_VIEW clickstream events' }),
    cart_adds: Type.Integer({ minimum: 0, description: 'CART_ADD clickstream events' }),
    conversion_rate: Nullable(Type.Number({ minimum: 0, description: 'orders_count / views, 4 decimals; null without views' })),
  },
  { $id: 'ProductAnalytics', additionalProperties: false, description: 'Aggregates of one product' },
);
export type ProductAnalytics = Static<typeof ProductAnalyticsSchema>;
