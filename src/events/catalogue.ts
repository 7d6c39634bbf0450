import type { EntityName } from '../generators/registry.js';
import type { EventOp } from './types.js';

/** What an event type does: the entity whose row it changes, how, and when it happens. */
export interface EventTypeInfo {
  readonly entity: EntityName;
  readonly op: EventOp;
  readonly description: string;
}

const INTERACTION = (what: string) =>
  ({ entity: 'clickstream', op: 'insert', description: `A visitor ${what} (at occurred_at): the clickstream row, in its session.` }) as const;

function interactions() {
  return {
    'interaction.page_view': INTERACTION('views a page (home, category, cart)'),
    'interaction.search': INTERACTION('searches'),
    'interaction.product_view': INTERACTION('views a product page'),
    'interaction.cart_add': INTERACTION('adds a product to the cart'),
    'interaction.cart_remove': INTERACTION('removes a product from the cart'),
    'interaction.checkout': INTERACTION('starts the checkout'),
    'interaction.purchase': INTERACTION('completes a purchase (its order is placed at the same moment)'),
  };
}

/**
 * Every event type of the change feed, in the order the docs list them. `data` is always the
 * whole row of `entity` after the change, as GET /api/v1/<entity> serves it at that moment.
 */
export const EVENT_TYPES = {
  'user.signed_up': { entity: 'users', op: 'insert', description: 'A customer registers (at created_at); the row as it was then: updated_at = created_at.' },
  'user.updated': { entity: 'users', op: 'update', description: 'A customer changes their profile (at updated_at, when later than created_at); the final row.' },
  'order.placed': { entity: 'orders', op: 'insert', description: 'An order is placed (at created_at): status pending, updated_at = created_at.' },
  'payment.authorised': { entity: 'payments', op: 'insert', description: 'The payment of a new order is opened with the provider (at the order’s created_at): status pending, processed_at null.' },
  'payment.captured': { entity: 'payments', op: 'update', description: 'The payment goes through (at processed_at): status completed.' },
  'order.paid': { entity: 'orders', op: 'update', description: 'The order is paid (at the payment’s processed_at): status processing.' },
  'payment.failed': { entity: 'payments', op: 'update', description: 'The payment is declined (at processed_at): status failed; the order is cancelled at the same moment.' },
  'order.cancelled': { entity: 'orders', op: 'update', description: 'The order is cancelled (a declined payment, or the customer within a day of paying): status cancelled.' },
  'payment.refunded': { entity: 'payments', op: 'update', description: 'A paid order was cancelled, its payment is refunded (at the cancellation): status refunded.' },
  'shipment.dispatched': { entity: 'shipping', op: 'insert', description: 'The parcel leaves the warehouse (at shipped_at): status in_transit, actual_delivery_at null.' },
  'order.shipped': { entity: 'orders', op: 'update', description: 'The order ships (at the shipment’s shipped_at): status shipped.' },
  'shipment.delivered': { entity: 'shipping', op: 'update', description: 'The parcel arrives (at actual_delivery_at): status delivered.' },
  'order.delivered': { entity: 'orders', op: 'update', description: 'The order is delivered (at the shipment’s actual_delivery_at): status delivered.' },
  'return.requested': { entity: 'returns', op: 'insert', description: 'A customer asks to return a line (at requested_at): status requested, refund_amount 0, resolved_at null.' },
  'return.decided': { entity: 'returns', op: 'update', description: 'The return is approved, refunded or rejected (at resolved_at); the final row.' },
  'inventory.changed': {
    entity: 'inventory-movements',
    op: 'insert',
    description:
      'Stock of a product in a warehouse changes (at occurred_at): the ledger row, movement_type SALE (with the shipment), RETURN (with an accepted return), RESTOCK, DAMAGE or ADJUSTMENT.',
  },
  'inventory.opened': {
    entity: 'inventory',
    op: 'insert',
    description: 'Opening stock of a product in a warehouse, at the window start: quantity_on_hand is the opening stock, quantity_reserved 0, last_restocked_at and updated_at the window start (its restocks in the window come later, as inventory.changed RESTOCK).',
  },
  'inventory.counted': {
    entity: 'inventory',
    op: 'update',
    description:
      "The period-close stock count at the window's last second (right after the row's closing ADJUSTMENT): the row as GET serves it. Opening stock + the quantities of the row's inventory.changed events = this quantity_on_hand.",
  },
  'product.price_changed': {
    entity: 'price-changes',
    op: 'insert',
    description:
      "A product's price changes (at changed_at): the price-changes row, reason PROMOTION_START, PROMOTION_END, COST_INCREASE or COMPETITOR_MATCH. A product's last new_price is its price in /products; order lines placed from changed_at on carry the new price.",
  },
  'review.posted': { entity: 'reviews', op: 'insert', description: 'A review is written (at created_at); the review row.' },
  'support_ticket.opened': {
    entity: 'support-tickets',
    op: 'insert',
    description: 'A customer opens a ticket (at created_at): status open, first_response_at, resolved_at and satisfaction_score null.',
  },
  'support_ticket.answered': {
    entity: 'support-tickets',
    op: 'update',
    description: 'An agent first replies (at first_response_at): status pending (waiting on the customer), or open when the ticket is still open at the window end.',
  },
  'support_ticket.resolved': { entity: 'support-tickets', op: 'update', description: 'The ticket is resolved (at resolved_at): status resolved, with the survey score.' },
  'support_ticket.closed': { entity: 'support-tickets', op: 'update', description: 'A resolved ticket is closed, 3 days after its resolution: status closed.' },
  ...interactions(),
} as const satisfies Record<string, EventTypeInfo>;

export type EventType = keyof typeof EVENT_TYPES;
export const EVENT_TYPE_NAMES = Object.keys(EVENT_TYPES) as EventType[];

export function isEventType(name: string): name is EventType {
  return Object.hasOwn(EVENT_TYPES, name);
}

/**
 * The reason a `types` list is refused: its first unknown names (three at most) and every known
 * type, whole (~600 characters: the message's bound, MAX_MESSAGE, has room for them). Undefined
 * when every name is known.
 */
export function unknownTypesReason(names: Iterable<string>, known: readonly string[] = EVENT_TYPE_NAMES): string | undefined {
  const unknown = [...new Set(names)].filter((name) => !known.includes(name));
  if (unknown.length === 0) return undefined;
  const shown = unknown.slice(0, 3).map((name) => `'${name}'`).join(', ');
  const more = unknown.length > 3 ? ` (and ${unknown.length - 3} more)` : '';
  return `unknown event type ${shown}${more}; known: ${known.join(', ')}`;
}

/** The entities whose tables the feed rebuilds: replaying it onto empty tables gives GET's rows. */
export const FEED_ENTITIES: readonly EntityName[] = [...new Set(EVENT_TYPE_NAMES.map((t) => EVENT_TYPES[t].entity))];
