import { Type, type Static } from '@sinclair/typebox';
import { Nullable, OneOf, Timestamp, Uuid } from './common.js';

export const TICKET_CATEGORIES = ['delivery', 'refund', 'payment', 'order_change', 'product_question', 'account', 'technical'] as const;
export const TICKET_PRIORITIES = ['low', 'medium', 'high', 'urgent'] as const;
export const TICKET_STATUSES = ['open', 'pending', 'resolved', 'closed'] as const;
export const TICKET_CHANNELS = ['email', 'chat', 'phone', 'web_form', 'social'] as const;

/**
 * A customer support ticket, optionally about one order. Categories agree with the order's
 * history: refund tickets follow a return request or a cancellation, delivery tickets concern
 * shipped orders, order changes are asked for before shipping.
 *
 * @example
 * { "ticket_id": "…", "ticket_number": "TKT-0000042", "category": "delivery", "status": "resolved", "subject": "Where is my order ORD-0000123?", … }
 */
export const SupportTicketSchema = Type.Object(
  {
    ticket_id: Uuid('Primary key'),
    ticket_number: Type.String({ description: 'Human-readable reference, unique', examples: ['TKT-0000042'] }),
    user_id: Uuid('The customer who raised it'),
    order_id: Nullable(Uuid("The order it is about (the customer's own); null for account, technical and general questions")),
    category: OneOf(TICKET_CATEGORIES, 'What the ticket is about'),
    priority: OneOf(TICKET_PRIORITIES, 'Triage priority'),
    status: OneOf(TICKET_STATUSES, 'At the window end: open (waiting on support; always so before the first reply), pending (waiting on the customer), resolved, or closed (resolved and closed 3+ days later)'),
    channel: OneOf(TICKET_CHANNELS, 'How the customer got in touch'),
    subject: Type.String({ description: 'Subject line as the customer wrote it', examples: ['Where is my order ORD-0000123?'] }),
    created_at: Timestamp("After the customer's sign-up and after the order (and the event the ticket is about)"),
    first_response_at: Nullable(Timestamp('First agent reply; null while open')),
    resolved_at: Nullable(Timestamp('When it was resolved; null unless resolved or closed')),
    satisfaction_score: Nullable(Type.Integer({ minimum: 1, maximum: 5, description: 'Post-resolution survey (1-5); null when unresolved or unanswered' })),
  },
  { $id: 'SupportTicket', additionalProperties: false, description: 'A customer support ticket' },
);
export type SupportTicket = Static<typeof SupportTicketSchema>;
