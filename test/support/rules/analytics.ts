import type { RuleGroup } from './rule.js';

/** Analytics rows equal the aggregates of the raw records, recomputed here in SQL for every row. */
export const analyticsRules: RuleGroup[] = [
  {
    name: 'analytics/users equals the aggregates of the raw records',
    rules: () => [
      {
        name: 'one analytics row per user',
        from: '(SELECT (SELECT count(*) FROM analytics_users) AS a, (SELECT count(*) FROM users) AS u) x',
        holds: 'a = u',
      },
      {
        name: 'orders, cancellations, spend, units, first and last order per user',
        from: `analytics_users a LEFT JOIN LATERAL (
                 SELECT count(*) AS n, count(*) FILTER (WHERE status = 'cancelled') AS cancelled,
                        coalesce(sum(total) FILTER (WHERE status <> 'cancelled'), 0) AS spent,
                        min(created_at) AS first_at, max(created_at) AS last_at
                 FROM orders o WHERE o.user_id = a.user_id) o ON true
               LEFT JOIN LATERAL (
                 SELECT coalesce(sum(i.quantity), 0) AS units FROM order_items i JOIN orders o2 USING (order_id)
                 WHERE o2.user_id = a.user_id AND o2.status <> 'cancelled') i ON true`,
        holds: `a.orders_count = o.n AND a.cancelled_orders = o.cancelled AND a.total_spent = o.spent
                AND a.items_purchased = i.units
                AND a.first_order_at IS NOT DISTINCT FROM o.first_at AND a.last_order_at IS NOT DISTINCT FROM o.last_at
                AND abs(a.average_order_value - CASE WHEN o.n - o.cancelled > 0 THEN round(o.spent / (o.n - o.cancelled), 2) ELSE 0 END) <= 0.01`,
        show: 'a.user_id, a.orders_count, o.n, a.total_spent, o.spent, a.average_order_value',
      },
      {
        name: 'returns, refunds, reviews and sessions per user',
        from: `analytics_users a
               LEFT JOIN (SELECT user_id, count(*) AS n, sum(refund_amount) AS refunded FROM returns GROUP BY user_id) r USING (user_id)
               LEFT JOIN (SELECT user_id, count(*) AS n FROM reviews GROUP BY user_id) v USING (user_id)
               LEFT JOIN (SELECT user_id, count(*) AS n FROM sessions WHERE user_id IS NOT NULL GROUP BY user_id) s USING (user_id)`,
        holds: `a.returns_count = coalesce(r.n, 0) AND a.refunded_amount = coalesce(r.refunded, 0)
                AND a.reviews_count = coalesce(v.n, 0) AND a.sessions_count = coalesce(s.n, 0)`,
        show: 'a.user_id, a.returns_count, r.n, a.reviews_count, v.n, a.sessions_count, s.n',
      },
    ],
  },
  {
    name: 'analytics/products equals the aggregates of the raw records',
    rules: () => [
      {
        name: 'units, revenue and orders per product (orders not cancelled)',
        from: `analytics_products a LEFT JOIN (
                 SELECT i.product_id, sum(i.quantity) AS units, sum(i.total) AS revenue, count(DISTINCT i.order_id) AS orders
                 FROM order_items i JOIN orders o USING (order_id) WHERE o.status <> 'cancelled' GROUP BY i.product_id) s USING (product_id)`,
        holds: 'a.units_sold = coalesce(s.units, 0) AND a.revenue = coalesce(s.revenue, 0) AND a.orders_count = coalesce(s.orders, 0)',
        show: 'a.product_id, a.units_sold, s.units, a.revenue, s.revenue',
      },
      {
        name: 'returns, return rate, reviews and rating per product',
        from: `analytics_products a
               LEFT JOIN (SELECT product_id, count(*) AS n, sum(quantity) AS units FROM returns GROUP BY product_id) r USING (product_id)
               LEFT JOIN (SELECT product_id, count(*) AS n, avg(rating) AS rating FROM reviews GROUP BY product_id) v USING (product_id)`,
        holds: `a.returns_count = coalesce(r.n, 0) AND a.units_returned = coalesce(r.units, 0)
                AND abs(a.return_rate - CASE WHEN a.units_sold > 0 THEN coalesce(r.units, 0)::float8 / a.units_sold ELSE 0 END) < 0.0001
                AND a.review_count = coalesce(v.n, 0)
                AND (a.average_rating IS NULL AND v.n IS NULL OR abs(a.average_rating - v.rating) < 0.006)`,
        show: 'a.product_id, a.returns_count, r.n, a.review_count, v.n, a.average_rating, v.rating',
      },
      {
        name: 'views, cart adds and conversion per product from the clickstream',
        from: `analytics_products a LEFT JOIN (
                 SELECT product_id, count(*) FILTER (WHERE event_type = 'PRODUCT_VIEW') AS views,
                        count(*) FILTER (WHERE event_type = 'CART_ADD') AS adds
                 FROM clickstream WHERE product_id IS NOT NULL GROUP BY product_id) c USING (product_id)`,
        holds: `a.views = coalesce(c.views, 0) AND a.cart_adds = coalesce(c.adds, 0)
                AND (a.conversion_rate IS NULL AND coalesce(c.views, 0) = 0
                     OR abs(a.conversion_rate - a.orders_count::float8 / c.views) < 0.0001)`,
        show: 'a.product_id, a.views, c.views, a.cart_adds, c.adds, a.conversion_rate',
      },
    ],
  },
];
