import type { RuleGroup } from './rule.js';

/** Business rules of customer segments and promotions (see rule.ts). */
export const catalogueRules: RuleGroup[] = [
  {
    name: 'catalogue: product category and supplier names',
    rules: () => [
      {
        name: "a product's category is the name of its category_id",
        from: 'products p JOIN categories c USING (category_id)',
        holds: 'p.category = c.name',
        show: 'p.product_id, p.category, c.name',
      },
      {
        name: "a product's supplier is the name of its preferred supplier",
        from: `products p JOIN product_suppliers ps ON ps.product_id = p.product_id AND ps.is_preferred
               JOIN suppliers s ON s.supplier_id = ps.supplier_id`,
        holds: 'p.supplier = s.name',
        show: 'p.product_id, p.supplier, s.name',
      },
    ],
  },
  {
    name: 'catalogue: price history',
    rules: (window) => [
      {
        name: "a product's price changes chain: each previous_price is the new_price of the change before it, and differs from its new_price",
        from: `(SELECT c.*, lag(c.new_price) OVER (PARTITION BY c.product_id ORDER BY c.changed_at) AS before FROM price_changes c) x`,
        holds: 'previous_price <> new_price AND (before IS NULL OR before = previous_price)',
        show: 'change_id, product_id, changed_at, before, previous_price, new_price',
      },
      {
        name: "a product's last new_price is its price",
        from: `products p JOIN (SELECT DISTINCT ON (product_id) product_id, new_price FROM price_changes ORDER BY product_id, changed_at DESC) c USING (product_id)`,
        holds: 'c.new_price = p.price',
        show: 'p.product_id, p.price, c.new_price',
      },
      {
        name: 'price changes lie inside the window, in the currency of their product, and a promotion ends at the price it started from',
        from: `price_changes c JOIN products p USING (product_id)`,
        holds: `c.changed_at >= ${window.start} AND c.changed_at < ${window.end} AND c.currency = p.currency
                AND (c.reason <> 'PROMOTION_END' OR c.new_price = (SELECT s.previous_price FROM price_changes s WHERE s.product_id = c.product_id
                     AND s.changed_at < c.changed_at ORDER BY s.changed_at DESC LIMIT 1))`,
        show: 'c.change_id, c.changed_at, c.reason, c.previous_price, c.new_price',
      },
    ],
  },
  {
    name: 'customer segments',
    rules: (window) => [
      {
        name: 'every user is in exactly the churned segment iff the account is closed',
        from: 'users u JOIN customer_segments s USING (segment_id)',
        holds: "(s.code = 'churned') = (NOT u.is_active)",
        show: 'u.user_id, u.is_active, s.code',
      },
      {
        name: "'new' users signed up in the last 45 days of the window",
        from: 'users u JOIN customer_segments s USING (segment_id)',
        where: "s.code = 'new'",
        holds: `u.created_at >= ${window.end} - interval '45 days'`,
        show: 'u.user_id, u.created_at',
      },
      {
        name: "'regular' users have at least 500 loyalty points, 'occasional' fewer",
        from: 'users u JOIN customer_segments s USING (segment_id)',
        where: "s.code IN ('regular', 'occasional')",
        holds: "(s.code = 'regular') = (u.loyalty_points >= 500)",
        show: 'u.user_id, u.loyalty_points, s.code',
      },
      {
        name: 'vip and loyal customers place more orders than the average customer',
        from: `(SELECT s.code, count(o.order_id)::float8 / count(DISTINCT u.user_id) AS per_user,
                       (SELECT count(*)::float8 FROM orders) / (SELECT count(*) FROM users) AS average
                FROM users u JOIN customer_segments s USING (segment_id) LEFT JOIN orders o USING (user_id)
                WHERE s.code IN ('vip', 'loyal') GROUP BY s.code) x`,
        holds: 'per_user > average',
        show: 'code, per_user, average',
      },
    ],
  },
  {
    name: 'promotions',
    rules: (window) => [
      {
        name: 'promotions run inside the window, starts_at < ends_at',
        from: 'promotions',
        holds: `starts_at >= ${window.start} AND ends_at <= ${window.end} AND starts_at < ends_at`,
        show: 'promotion_id, starts_at, ends_at',
      },
      {
        name: 'a promotion targets exactly what its target_type says',
        from: 'promotions',
        holds: `(target_type = 'category') = (target_category_id IS NOT NULL)
                AND (target_type = 'product') = (target_product_id IS NOT NULL)`,
        show: 'promotion_id, target_type, target_category_id, target_product_id',
      },
      {
        name: "an order's promotion_code is its promotion's code; no promotion, no discount",
        from: 'orders o LEFT JOIN promotions p USING (promotion_id)',
        holds: `(o.promotion_id IS NULL AND o.promotion_code IS NULL AND o.discount = 0)
                OR (o.promotion_code = p.code)`,
        show: 'o.order_id, o.promotion_code, p.code, o.discount',
      },
      {
        name: 'an order with a code got exactly that discount (window, minimum, eligible lines, type)',
        from: `(SELECT o.order_id, o.created_at, o.subtotal, o.discount, p.discount_type, p.discount_value,
                       p.min_order_amount, p.starts_at, p.ends_at,
                       sum(CASE WHEN p.target_type = 'order'
                                  OR (p.target_type = 'category' AND pr.category_id = p.target_category_id)
                                  OR (p.target_type = 'product' AND i.product_id = p.target_product_id)
                                THEN i.total ELSE 0 END) AS eligible
                FROM orders o JOIN promotions p USING (promotion_id)
                JOIN order_items i ON i.order_id = o.order_id JOIN products pr ON pr.product_id = i.product_id
                GROUP BY o.order_id, p.promotion_id) x`,
        holds: `eligible > 0 AND created_at >= starts_at AND created_at < ends_at AND subtotal >= min_order_amount
                AND abs(discount - CASE WHEN discount_type = 'percentage' THEN round(eligible * discount_value::numeric / 100, 2)
                                        ELSE least(eligible, discount_value::numeric) END) < 0.005`,
        show: 'order_id, created_at, subtotal, discount, discount_type, discount_value, eligible, starts_at, ends_at',
      },
      {
        name: 'some orders use a code (between 10% and 40%)',
        from: "(SELECT avg((promotion_id IS NOT NULL)::int)::float8 AS share FROM orders) x",
        holds: 'share BETWEEN 0.10 AND 0.40',
        show: 'share',
      },
    ],
  },
];
