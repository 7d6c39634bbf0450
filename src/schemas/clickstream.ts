import { Type, type Static } from '@sinclair/typebox';
import { Nullable, OneOf, Timestamp, Uuid } from './common.js';

export const CLICKSTREAM_EVENT_TYPES = ['PAGE_VIEW', 'SEARCH', 'PRODUCT_VIEW', 'CART_ADD', 'CART_REMOVE', 'CHECKOUT', 'PURCHASE'] as const;

/**
 * One event of a session, in session order.
 *
 * @example
 * { "event_id": "…", "session_id": "…", "user_id": "…", "event_type": "CART_ADD", "page_url": "/products/ele-hea-000042",
 *   "product_id": "…", "search_query": null, "order_id": null, "sequence_number": 4, "occurred_at": "2025-03-15T19:05:52Z" }
 */
export const ClickstreamEventSchema = Type.Object(
  {
    event_id: Uuid('Primary key'),
    session_id: Uuid('The session'),
    user_id: Nullable(Uuid("The session's customer; null for a guest")),
    event_type: OneOf(CLICKSTREAM_EVENT_TYPES, 'What happened; PURCHASE only in checkout sessions'),
    page_url: Type.String({ description: 'Path of the page the event happened on', examples: ['/products/ele-hea-000042'] }),
    product_id: Nullable(Uuid('The product of PRODUCT_VIEW, CART_ADD and CART_REMOVE events')),
    search_query: Nullable(Type.String({ description: 'What was searched (SEARCH events only)', examples: ['novatek earbuds'] })),
    order_id: Nullable(Uuid('The order placed (PURCHASE events only)')),
    sequence_number: Type.Integer({ minimum: 1, description: '1-based position in the session', examples: [4] }),
    occurred_at: Timestamp('Inside the session; never earlier than the previous event'),
  },
  { $id: 'ClickstreamEvent', additionalProperties: false, description: 'A clickstream event' },
);
export type ClickstreamEvent = Static<typeof ClickstreamEventSchema>;
