import { Type, type Static } from '@sinclair/typebox';
import { Nullable, OneOf, Timestamp, Uuid } from './common.js';

export const NOTIFICATION_TYPES = [
  'order_confirmation', 'payment_failed', 'order_cancelled', 'shipping_update', 'delivered', 'return_update', 'review_request',
  'welcome', 'password_reset', 'promotion', 'back_in_stock',
] as const;
export const NOTIFICATION_CHANNELS = ['email', 'sms', 'push', 'in_app'] as const;

/**
 * A message sent to a customer. Order notifications are sent at the order's lifecycle events
 * (checkout, payment failure, cancellation, shipping, delivery, return request, three days
 * after delivery for the review request); marketing (promotion, back_in_stock) goes only to
 * customers who opted in.
 *
 * @example
 * { "notification_id": "…", "type": "shipping_update", "channel": "push", "message": "Good news: order ORD-0000123 has shipped …", "sent_at": "…", "read_at": null }
 */
export const NotificationSchema = Type.Object(
  {
    notification_id: Uuid('Primary key'),
    user_id: Uuid('The recipient'),
    order_id: Nullable(Uuid('The order it is about (order notifications); null otherwise')),
    product_id: Nullable(Uuid('The product it is about (return_update, review_request, back_in_stock); null otherwise')),
    type: OneOf(NOTIFICATION_TYPES, 'What triggered it'),
    channel: OneOf(NOTIFICATION_CHANNELS, 'Delivery channel'),
    title: Type.String({ description: 'Subject line or push title', examples: ['Order ORD-0000123 has shipped'] }),
    message: Type.String({
      description: 'The text the customer received',
      examples: ['Good news: order ORD-0000123 has shipped and should arrive by March 18.'],
    }),
    sent_at: Timestamp('The moment of the triggering event (for order notifications, exactly the order lifecycle time)'),
    read_at: Nullable(Timestamp('When opened; null if unread by the window end')),
  },
  { $id: 'Notification', additionalProperties: false, description: 'A notification sent to a customer' },
);
export type Notification = Static<typeof NotificationSchema>;
