import { Type, type Static } from '@sinclair/typebox';
import { Currency, Money, Nullable, OneOf, Timestamp, Uuid } from './common.js';

export const ORDER_STATUSES = ['pending', 'processing', 'shipped', 'delivered', 'cancelled'] as const;
export const SHIPPING_METHODS = ['standard', 'express', 'next_day'] as const;

const lineFields = {
  order_item_id: Uuid('Primary key of the line'),
  line_number: Type.Integer({ minimum: 1, description: '1-based position in the order' }),
  product_id: Uuid('The product bought'),
  quantity: Type.Integer({ minimum: 1, examples: [2] }),
  unit_price: Money("The product's price"),
  total: Money('quantity x unit_price'),
};

/** One line of an order, as nested in the order. */
export const OrderLineSchema = Type.Object(lineFields, {
  $id: 'OrderLine',
  additionalProperties: false,
  description: 'An order line, nested in its order',
});
export type OrderLine = Static<typeof OrderLineSchema>;

/**
 * The same order line, flat, with its order_id (the order-items endpoint).
 *
 * @example
 * { "order_item_id": "…", "order_id": "…", "line_number": 1, "product_id": "…", "quantity": 2, "unit_price": 24.99, "total": 49.98 }
 */
export const OrderItemSchema = Type.Object(
  {
    order_item_id: lineFields.order_item_id,
    order_id: Uuid('The order this line belongs to'),
    line_number: lineFields.line_number,
    product_id: lineFields.product_id,
    quantity: lineFields.quantity,
    unit_price: lineFields.unit_price,
    total: lineFields.total,
  },
  { $id: 'OrderItem', additionalProperties: false, description: 'An order line with its order_id' },
);
export type OrderItem = Static<typeof OrderItemSchema>;

/**
 * A customer order with its lines nested. total = subtotal - discount + tax + shipping_cost.
 *
 * @example
 * { "order_id": "…", "order_number": "ORD-2025-000042", "status": "delivered", "subtotal": 74.97, "total": 84.96, "items": [ … ] }
 */
export const OrderSchema = Type.Object(
  {
    order_id: Uuid('Primary key'),
    order_number: Type.String({ description: 'Human-readable order number, unique', examples: ['ORD-000042'] }),
    user_id: Uuid('The customer'),
    status: OneOf(ORDER_STATUSES, 'Lifecycle stage reached by the end of the date window'),
    created_at: Timestamp('Checkout time, after the customer signed up'),
    updated_at: Timestamp('Time of the latest lifecycle event'),
    shipping_address: Type.String({ description: "Street address, copied from the customer's profile" }),
    shipping_city: Type.String(),
    shipping_state: Type.String(),
    shipping_postal_code: Type.String(),
    shipping_country: Type.String(),
    shipping_method: OneOf(SHIPPING_METHODS, 'Delivery speed chosen at checkout'),
    item_count: Type.Integer({ minimum: 1, description: 'Number of lines' }),
    subtotal: Money('Sum of line totals'),
    discount: Money('Discount from the promotion code, 0 without one'),
    promotion_id: Nullable(Uuid('The promotion applied at checkout, if any')),
    promotion_code: Nullable(Type.String({ description: "The promotion's code; the discount is exactly what it gives", examples: ['SPRING15-04'] })),
    tax: Money('Sales tax or VAT on (subtotal - discount)'),
    shipping_cost: Money('Delivery charge'),
    total: Money('subtotal - discount + tax + shipping_cost'),
    currency: Currency(),
    items: Type.Array(OrderLineSchema, { minItems: 1, description: 'Order lines; also served flat by /order-items' }),
  },
  { $id: 'Order', additionalProperties: false, description: 'A customer order' },
);
export type Order = Static<typeof OrderSchema>;
