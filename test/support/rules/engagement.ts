import type { RuleGroup } from './rule.js';

const MARKETING = `('promotion', 'back_in_stock')`;
const ORDER_TYPES = `('order_confirmation', 'payment_failed', 'order_cancelled', 'shipping_update', 'delivered', 'return_update', 'review_request')`;

/** Business rules of the engagement entities (see rule.ts). */
export const engagementRules: RuleGroup[] = [
  {
    name: 'engagement: reviews',
    rules: ({ inWindow }) => [
      {
        name: 'a verified review is by the customer of a delivered order, about a product on its line, written after delivery',
        from: `reviews r LEFT JOIN orders o ON o.order_id = r.order_id
               LEFT JOIN order_items i ON i.order_item_id = r.order_item_id
               LEFT JOIN shipping s ON s.order_id = r.order_id`,
        where: 'r.is_verified',
        holds: `r.user_id = o.user_id AND i.order_id = r.order_id AND i.product_id = r.product_id
                AND o.status = 'delivered' AND r.created_at > s.actual_delivery_at`,
        show: 'r.review_id, r.user_id, o.user_id AS order_user, r.product_id, i.product_id AS line_product, o.status, s.actual_delivery_at, r.created_at',
      },
      {
        name: 'one review per customer and product',
        from: `(SELECT user_id, product_id, count(*) AS n FROM reviews GROUP BY user_id, product_id) x`,
        holds: 'n = 1',
        show: 'user_id, product_id, n',
      },
      {
        name: 'verified iff the customer ordered the product before the review (unverified: no order of it before the review)',
        from: `reviews r LEFT JOIN LATERAL (
                 SELECT count(*) AS n FROM orders o JOIN order_items i USING (order_id)
                 WHERE o.user_id = r.user_id AND i.product_id = r.product_id AND o.created_at < r.created_at) b ON true`,
        holds: 'r.is_verified = (b.n > 0)',
        show: 'r.review_id, r.user_id, r.product_id, r.is_verified, b.n AS earlier_orders',
      },
      {
        name: 'is_verified iff the review names an order and a line; unverified reviews have no order',
        from: 'reviews',
        holds: `is_verified = (order_id IS NOT NULL) AND (order_id IS NULL) = (order_item_id IS NULL)`,
        show: 'review_id, is_verified, order_id, order_item_id',
      },
      {
        name: 'there are unverified reviews, and they carry no order',
        from: 'reviews',
        where: 'NOT is_verified',
        holds: 'order_id IS NULL AND order_item_id IS NULL',
      },
      {
        name: 'a review is written after the reviewer signed up',
        from: 'reviews r JOIN users u USING (user_id)',
        holds: 'r.created_at > u.created_at',
        show: 'r.review_id, u.created_at AS signed_up, r.created_at',
      },
      {
        name: 'review timestamps fall inside the date window',
        from: 'reviews',
        holds: inWindow('created_at'),
        show: 'review_id, created_at',
      },
      {
        name: 'ratings are J-shaped: 5 > 4 > 3 stars, and more 1-star than 2-star reviews',
        from: `(SELECT avg((rating = 5)::int) AS five, avg((rating = 4)::int) AS four, avg((rating = 3)::int) AS three,
                       avg((rating = 2)::int) AS two, avg((rating = 1)::int) AS one FROM reviews) x`,
        holds: 'five > 0.4 AND five > four AND four > three AND one > two',
      },
      {
        name: 'reviews of a returned line rate lower than other verified reviews (by more than a star on average)',
        from: `(SELECT avg(r.rating) FILTER (WHERE ret.return_id IS NOT NULL) AS returned,
                       avg(r.rating) FILTER (WHERE ret.return_id IS NULL) AS kept
                FROM reviews r LEFT JOIN returns ret ON ret.order_item_id = r.order_item_id WHERE r.is_verified) x`,
        holds: 'returned < kept - 1',
      },
      {
        name: 'review text agrees with the rating (no praise in 1-2 stars, no complaints in 4-5 stars) and is real text',
        from: 'reviews',
        holds: `length(title) > 2 AND length(body) > 30 AND body !~* 'lorem'
                AND CASE WHEN rating >= 4 THEN body || ' ' || title !~* '(disappointed|waste of money|do not buy|broke|avoid)'
                         WHEN rating <= 2 THEN body || ' ' || title !~* '(I love|fantastic|excellent|worth every penny|five stars)'
                         ELSE true END`,
        show: 'review_id, rating, title, body',
      },
      {
        name: 'helpful_votes is never negative',
        from: 'reviews',
        holds: 'helpful_votes >= 0',
      },
    ],
  },
  {
    name: 'engagement: support tickets',
    rules: ({ inWindow }) => [
      {
        name: 'a ticket is raised after the customer signed up',
        from: 'support_tickets t JOIN users u USING (user_id)',
        holds: 't.created_at > u.created_at',
        show: 't.ticket_id, u.created_at AS signed_up, t.created_at',
      },
      {
        name: "a ticket about an order is raised by the order's customer, after the order was placed",
        from: 'support_tickets t JOIN orders o USING (order_id)',
        holds: 't.user_id = o.user_id AND t.created_at >= o.created_at',
        show: 't.ticket_id, t.user_id, o.user_id AS order_user, o.created_at AS ordered, t.created_at',
      },
      {
        name: 'refund tickets follow a return request or the cancellation of a refunded order',
        from: 'support_tickets t JOIN orders o USING (order_id) JOIN payments p USING (order_id)',
        where: `t.category = 'refund'`,
        holds: `EXISTS (SELECT 1 FROM returns r WHERE r.order_id = t.order_id AND r.requested_at <= t.created_at)
                OR (o.status = 'cancelled' AND p.status = 'refunded' AND t.created_at >= o.updated_at)`,
        show: 't.ticket_id, t.created_at, o.status, p.status AS payment_status, o.updated_at',
      },
      {
        name: 'delivery tickets concern shipped orders and come after shipping',
        from: 'support_tickets t LEFT JOIN shipping s USING (order_id)',
        where: `t.category = 'delivery'`,
        holds: 't.order_id IS NOT NULL AND t.created_at >= s.shipped_at',
        show: 't.ticket_id, t.order_id, s.shipped_at, t.created_at',
      },
      {
        name: 'payment tickets come after the payment was processed',
        from: 'support_tickets t LEFT JOIN payments p USING (order_id)',
        where: `t.category = 'payment'`,
        holds: 't.order_id IS NOT NULL AND t.created_at >= p.processed_at',
        show: 't.ticket_id, t.order_id, p.processed_at, t.created_at',
      },
      {
        name: 'order changes are asked for before the order ships, never for a cancelled order',
        from: 'support_tickets t JOIN orders o USING (order_id) LEFT JOIN shipping s USING (order_id)',
        where: `t.category = 'order_change'`,
        holds: `o.status <> 'cancelled' AND (s.shipped_at IS NULL OR t.created_at <= s.shipped_at)`,
        show: 't.ticket_id, o.status, s.shipped_at, t.created_at',
      },
      {
        name: 'tickets without an order are about the account, the site, or a product',
        from: 'support_tickets',
        where: 'order_id IS NULL',
        holds: `category IN ('account', 'technical', 'product_question')`,
        show: 'ticket_id, category, subject',
      },
      {
        name: 'a ticket about an order names its order number in the subject',
        from: 'support_tickets t JOIN orders o USING (order_id)',
        where: `t.category <> 'product_question'`,
        holds: `position(o.order_number in t.subject) > 0`,
        show: 't.ticket_id, o.order_number, t.subject',
      },
      {
        name: 'resolved_at is set iff the ticket is resolved or closed, and then after created_at and the first reply',
        from: 'support_tickets',
        holds: `(status IN ('resolved', 'closed')) = (resolved_at IS NOT NULL)
                AND (resolved_at IS NULL OR (resolved_at > created_at AND resolved_at >= first_response_at))`,
        show: 'ticket_id, status, created_at, first_response_at, resolved_at',
      },
      {
        name: 'first_response_at is after created_at; a ticket nobody answered yet is open',
        from: 'support_tickets',
        holds: `(first_response_at IS NULL AND status = 'open') OR first_response_at >= created_at`,
        show: 'ticket_id, status, created_at, first_response_at',
      },
      {
        name: 'satisfaction_score only for resolved or closed tickets',
        from: 'support_tickets',
        where: 'satisfaction_score IS NOT NULL',
        holds: `status IN ('resolved', 'closed') AND satisfaction_score BETWEEN 1 AND 5`,
        show: 'ticket_id, status, satisfaction_score',
      },
      {
        name: 'ticket timestamps fall inside the date window',
        from: 'support_tickets',
        holds: `${inWindow('created_at')} AND (first_response_at IS NULL OR ${inWindow('first_response_at')})
                AND (resolved_at IS NULL OR ${inWindow('resolved_at')})`,
        show: 'ticket_id, created_at, first_response_at, resolved_at',
      },
      {
        name: 'support_tickets.ticket_number is unique',
        from: '(SELECT ticket_number, count(*) AS n FROM support_tickets GROUP BY ticket_number) x',
        holds: 'n = 1',
      },
      {
        name: 'between 4% and 14% of orders raise a ticket, at most one each',
        from: `(SELECT (SELECT count(DISTINCT order_id) FROM support_tickets)::float8 / (SELECT count(*) FROM orders) AS share,
                       (SELECT count(order_id) - count(DISTINCT order_id) FROM support_tickets) AS repeats) x`,
        holds: 'share BETWEEN 0.04 AND 0.14 AND repeats = 0',
      },
    ],
  },
  {
    name: 'engagement: wishlists',
    rules: ({ inWindow }) => [
      {
        name: 'a product is on a wishlist at most once per user',
        from: '(SELECT user_id, product_id, count(*) AS n FROM wishlists GROUP BY user_id, product_id) x',
        holds: 'n = 1',
      },
      {
        name: 'a wishlist entry is added after the customer signed up, inside the window',
        from: 'wishlists w JOIN users u USING (user_id)',
        holds: `w.added_at > u.created_at AND ${inWindow('w.added_at')}`,
        show: 'w.wishlist_item_id, u.created_at AS signed_up, w.added_at',
      },
      {
        name: 'between 30% and 70% of customers keep a wishlist',
        from: '(SELECT (SELECT count(DISTINCT user_id) FROM wishlists)::float8 / (SELECT count(*) FROM users) AS share) x',
        holds: 'share BETWEEN 0.3 AND 0.7',
      },
    ],
  },
  {
    name: 'engagement: notifications',
    rules: ({ inWindow }) => [
      {
        name: "an order notification goes to the order's customer exactly at the lifecycle event it reports",
        from: `notifications n JOIN orders o ON o.order_id = n.order_id JOIN payments p ON p.order_id = n.order_id
               LEFT JOIN shipping s ON s.order_id = n.order_id LEFT JOIN returns r ON r.order_id = n.order_id`,
        holds: `n.user_id = o.user_id AND CASE n.type
                  WHEN 'order_confirmation' THEN n.sent_at = o.created_at
                  WHEN 'payment_failed' THEN p.status = 'failed' AND n.sent_at = p.processed_at
                  WHEN 'order_cancelled' THEN o.status = 'cancelled' AND p.status = 'refunded' AND n.sent_at = o.updated_at
                  WHEN 'shipping_update' THEN n.sent_at = s.shipped_at
                  WHEN 'delivered' THEN n.sent_at = s.actual_delivery_at
                  WHEN 'return_update' THEN n.sent_at = r.requested_at AND n.product_id = r.product_id
                  WHEN 'review_request' THEN n.sent_at = s.actual_delivery_at + interval '3 days'
                    AND EXISTS (SELECT 1 FROM order_items i WHERE i.order_id = n.order_id AND i.product_id = n.product_id)
                  ELSE false END`,
        show: 'n.notification_id, n.type, n.sent_at, o.created_at, p.processed_at, s.shipped_at, s.actual_delivery_at, r.requested_at',
      },
      {
        name: 'every order is confirmed once, and every shipment, delivery and return is notified once',
        from: `(SELECT o.order_id, coalesce(n.confirmed, 0) AS confirmed, coalesce(n.ship_notes, 0) AS ship_notes,
                       coalesce(s.shipments, 0) AS shipments, coalesce(n.delivery_notes, 0) AS delivery_notes,
                       coalesce(s.deliveries, 0) AS deliveries, coalesce(n.return_notes, 0) AS return_notes, coalesce(r.returns, 0) AS returns
                FROM orders o
                LEFT JOIN (SELECT order_id, count(*) FILTER (WHERE type = 'order_confirmation') AS confirmed,
                                  count(*) FILTER (WHERE type = 'shipping_update') AS ship_notes,
                                  count(*) FILTER (WHERE type = 'delivered') AS delivery_notes,
                                  count(*) FILTER (WHERE type = 'return_update') AS return_notes
                           FROM notifications WHERE order_id IS NOT NULL GROUP BY order_id) n USING (order_id)
                LEFT JOIN (SELECT order_id, count(*) AS shipments, count(actual_delivery_at) AS deliveries FROM shipping GROUP BY order_id) s USING (order_id)
                LEFT JOIN (SELECT order_id, count(*) AS returns FROM returns GROUP BY order_id) r USING (order_id)) x`,
        holds: 'confirmed = 1 AND ship_notes = shipments AND delivery_notes = deliveries AND return_notes = returns',
      },
      {
        name: 'order notifications name an order, the others do not',
        from: 'notifications',
        holds: `(type IN ${ORDER_TYPES}) = (order_id IS NOT NULL)`,
        show: 'notification_id, type, order_id',
      },
      {
        name: 'marketing (promotion, back_in_stock) goes only to customers who opted in',
        from: 'notifications n JOIN users u USING (user_id)',
        where: `n.type IN ${MARKETING}`,
        holds: 'u.marketing_opt_in',
        show: 'n.notification_id, n.type, u.user_id, u.marketing_opt_in',
      },
      {
        name: "a back_in_stock alert is for a product on the customer's wishlist, sent after it was added",
        from: 'notifications n',
        where: `n.type = 'back_in_stock'`,
        holds: `EXISTS (SELECT 1 FROM wishlists w WHERE w.user_id = n.user_id AND w.product_id = n.product_id AND w.added_at <= n.sent_at)`,
        show: 'n.notification_id, n.user_id, n.product_id, n.sent_at',
      },
      {
        name: 'every customer gets one welcome, at sign-up',
        from: `(SELECT u.user_id, u.created_at, count(n.*) AS welcomes, min(n.sent_at) AS sent_at
                FROM users u LEFT JOIN notifications n ON n.user_id = u.user_id AND n.type = 'welcome' GROUP BY u.user_id, u.created_at) x`,
        holds: 'welcomes = 1 AND sent_at = created_at',
      },
      {
        name: 'nothing is sent before the customer signed up',
        from: 'notifications n JOIN users u USING (user_id)',
        holds: 'n.sent_at >= u.created_at',
        show: 'n.notification_id, n.type, u.created_at AS signed_up, n.sent_at',
      },
      {
        name: 'read_at is null or at/after sent_at; both inside the date window',
        from: 'notifications',
        holds: `${inWindow('sent_at')} AND (read_at IS NULL OR (read_at >= sent_at AND ${inWindow('read_at')}))`,
        show: 'notification_id, type, sent_at, read_at',
      },
      {
        name: 'a notification message is a real sentence; order notifications name the order number',
        from: 'notifications n LEFT JOIN orders o USING (order_id)',
        holds: `length(n.message) > 40 AND n.message ~ '[.!?]$'
                AND (o.order_id IS NULL OR position(o.order_number in n.message) > 0)`,
        show: 'n.notification_id, n.type, n.message',
      },
    ],
  },
];
