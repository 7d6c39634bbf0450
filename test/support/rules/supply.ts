import type { RuleGroup } from './rule.js';

const SHIPPED = `('shipped', 'delivered')`;
const ACCEPTED = `('approved', 'refunded')`;

/** Business rules of the supply entities (see rule.ts). */
export const supplyRules: RuleGroup[] = [
  {
    name: 'supply: suppliers',
    rules: ({ start }, locale) => {
      const home = locale === 'en_GB' ? 'GB' : 'US';
      return [
        {
          name: 'suppliers were onboarded before the window',
          from: 'suppliers',
          holds: `created_at < ${start}`,
          show: 'supplier_id, name, created_at',
        },
        {
          name: 'supplier scores: reliability and on-time rate in [0, 1] with 2 decimals, rating 1-5 with 1 decimal, lead time >= 1 day',
          from: 'suppliers',
          holds: `reliability_score BETWEEN 0 AND 1 AND on_time_rate BETWEEN 0 AND 1
                  AND reliability_score * 100 = round(reliability_score * 100) AND on_time_rate * 100 = round(on_time_rate * 100)
                  AND rating BETWEEN 1 AND 5 AND rating * 10 = round(rating * 10) AND lead_time_days >= 1`,
          show: 'supplier_id, reliability_score, on_time_rate, rating, lead_time_days',
        },
        {
          name: `suppliers are a mix of countries: at least 4, between 20% and 70% at home (${home})`,
          from: `(SELECT count(DISTINCT country) AS countries, avg((country = '${home}')::int) AS home_share FROM suppliers) x`,
          holds: 'countries >= 4 AND home_share BETWEEN 0.2 AND 0.7',
          show: 'countries, home_share',
        },
        {
          name: 'overseas suppliers have longer lead times and lower reliability than home ones (on average)',
          from: `(SELECT avg(lead_time_days) FILTER (WHERE country = '${home}') AS home_lead,
                         avg(lead_time_days) FILTER (WHERE country <> '${home}') AS abroad_lead,
                         avg(reliability_score) FILTER (WHERE country = '${home}') AS home_reliability,
                         avg(reliability_score) FILTER (WHERE country <> '${home}') AS abroad_reliability
                  FROM suppliers) x`,
          holds: 'home_lead < abroad_lead AND home_reliability > abroad_reliability',
          show: 'home_lead, abroad_lead, home_reliability, abroad_reliability',
        },
      ];
    },
  },
  {
    name: 'supply: product-suppliers',
    rules: () => [
      {
        name: 'every product has 1-3 distinct suppliers, exactly one of them preferred',
        from: `(SELECT p.product_id, count(ps.*) AS suppliers, count(DISTINCT ps.supplier_id) AS distinct_suppliers,
                       count(*) FILTER (WHERE ps.is_preferred) AS preferred
                FROM products p LEFT JOIN product_suppliers ps USING (product_id) GROUP BY p.product_id) x`,
        holds: 'suppliers BETWEEN 1 AND 3 AND distinct_suppliers = suppliers AND preferred = 1',
      },
      {
        name: "product-supplier cost is below the product's price and around its cost (0.9-1.15 x)",
        from: 'product_suppliers ps JOIN products p USING (product_id)',
        holds: 'ps.cost > 0 AND ps.cost < p.price AND ps.cost BETWEEN round(p.cost * 0.9, 2) - 0.01 AND round(p.cost * 1.15, 2) + 0.01',
        show: 'ps.product_supplier_id, ps.is_preferred, ps.cost, p.cost AS product_cost, p.price',
      },
      {
        name: "product-supplier lead time is around the supplier's typical lead time (0.8-1.3 x)",
        from: 'product_suppliers ps JOIN suppliers s USING (supplier_id)',
        holds: 'ps.lead_time_days BETWEEN greatest(1, floor(s.lead_time_days * 0.8)) AND ceil(s.lead_time_days * 1.3)',
        show: 'ps.product_supplier_id, ps.lead_time_days, s.lead_time_days AS supplier_lead_time',
      },
      {
        name: 'product_suppliers.supplier_sku is unique',
        from: `(SELECT supplier_sku, count(*) AS n FROM product_suppliers GROUP BY supplier_sku) x`,
        holds: 'n = 1',
      },
      {
        name: 'cheap products come in case packs (min_order_quantity >= 24 under 20), expensive ones singly (<= 5 from 500)',
        from: 'product_suppliers ps JOIN products p USING (product_id)',
        holds: '(p.price >= 20 OR ps.min_order_quantity >= 24) AND (p.price < 500 OR ps.min_order_quantity <= 5)',
        show: 'ps.product_supplier_id, p.price, ps.min_order_quantity',
      },
    ],
  },
  {
    name: 'supply: inventory movements',
    rules: ({ inWindow }) => [
      {
        name: 'movement signs: SALE and DAMAGE negative, RESTOCK and RETURN positive, ADJUSTMENT non-zero',
        from: 'inventory_movements',
        holds: `CASE movement_type WHEN 'SALE' THEN quantity < 0 WHEN 'DAMAGE' THEN quantity < 0
                  WHEN 'RESTOCK' THEN quantity > 0 WHEN 'RETURN' THEN quantity > 0 ELSE quantity <> 0 END`,
        show: 'movement_id, movement_type, quantity',
      },
      {
        name: 'references by type: order_item_id iff SALE, return_id iff RETURN, supplier_id iff RESTOCK',
        from: 'inventory_movements',
        holds: `(order_item_id IS NOT NULL) = (movement_type = 'SALE') AND (return_id IS NOT NULL) = (movement_type = 'RETURN')
                AND (supplier_id IS NOT NULL) = (movement_type = 'RESTOCK')`,
        show: 'movement_id, movement_type, order_item_id, return_id, supplier_id',
      },
      {
        name: 'all five movement types occur',
        from: `(SELECT count(DISTINCT movement_type) AS types FROM inventory_movements) x`,
        holds: 'types = 5',
      },
      {
        name: 'movement times fall inside the date window',
        from: 'inventory_movements',
        holds: inWindow('occurred_at'),
        show: 'movement_id, movement_type, occurred_at',
      },
      {
        name: 'every movement is of a stocked (product, warehouse): an inventory row',
        from: 'inventory_movements m LEFT JOIN inventory v USING (product_id, warehouse_id)',
        holds: 'v.inventory_id IS NOT NULL',
        show: 'm.movement_id, m.movement_type, m.product_id, m.warehouse_id',
      },
      {
        name: "a SALE is its order line (product, -quantity) of a shipped/delivered order, leaving the shipment's warehouse at shipped_at",
        from: `inventory_movements m LEFT JOIN order_items i USING (order_item_id) LEFT JOIN orders o ON o.order_id = i.order_id
               LEFT JOIN shipping s ON s.order_id = i.order_id`,
        where: `m.movement_type = 'SALE'`,
        holds: `m.product_id = i.product_id AND m.quantity = -i.quantity AND o.status IN ${SHIPPED}
                AND m.warehouse_id = s.warehouse_id AND m.occurred_at = s.shipped_at`,
        show: 'm.movement_id, m.product_id, i.product_id AS line_product, m.quantity, i.quantity AS line_quantity, o.status, m.warehouse_id, s.warehouse_id AS shipped_from, m.occurred_at, s.shipped_at',
      },
      {
        name: 'every line of a shipped or delivered order has exactly one SALE, and no other line has one',
        from: `(SELECT i.order_item_id, o.status, count(m.*) AS sales
                FROM order_items i JOIN orders o USING (order_id)
                LEFT JOIN inventory_movements m ON m.order_item_id = i.order_item_id AND m.movement_type = 'SALE'
                GROUP BY i.order_item_id, o.status) x`,
        holds: `sales = CASE WHEN status IN ${SHIPPED} THEN 1 ELSE 0 END`,
      },
      {
        name: 'count of SALE movements = count of lines of shipped or delivered orders (and units match)',
        from: `(SELECT (SELECT count(*) FROM inventory_movements WHERE movement_type = 'SALE') AS sales,
                       (SELECT -sum(quantity) FROM inventory_movements WHERE movement_type = 'SALE') AS units_out,
                       (SELECT count(*) FROM order_items JOIN orders USING (order_id) WHERE status IN ${SHIPPED}) AS lines,
                       (SELECT sum(quantity) FROM order_items JOIN orders USING (order_id) WHERE status IN ${SHIPPED}) AS units_shipped) x`,
        holds: 'sales = lines AND units_out = units_shipped',
        show: 'sales, lines, units_out, units_shipped',
      },
      {
        name: "a RETURN is an approved/refunded return: its product and quantity, back into the shipment's warehouse at resolved_at, after delivery",
        from: `inventory_movements m LEFT JOIN returns r USING (return_id) LEFT JOIN shipping s ON s.order_id = r.order_id`,
        where: `m.movement_type = 'RETURN'`,
        holds: `r.status IN ${ACCEPTED} AND m.product_id = r.product_id AND m.quantity = r.quantity
                AND m.occurred_at = r.resolved_at AND m.occurred_at > s.actual_delivery_at AND m.warehouse_id = s.warehouse_id`,
        show: 'm.movement_id, r.status, m.product_id, r.product_id AS returned_product, m.quantity, r.quantity AS returned, m.occurred_at, r.resolved_at, s.actual_delivery_at, m.warehouse_id, s.warehouse_id AS shipped_from',
      },
      {
        name: 'every approved or refunded return has exactly one RETURN movement, and no other return has one',
        from: `(SELECT r.return_id, r.status, count(m.*) AS movements
                FROM returns r LEFT JOIN inventory_movements m ON m.return_id = r.return_id AND m.movement_type = 'RETURN'
                GROUP BY r.return_id, r.status) x`,
        holds: `movements = CASE WHEN status IN ${ACCEPTED} THEN 1 ELSE 0 END`,
      },
      {
        name: 'a RESTOCK comes from a supplier of that product (per product-suppliers)',
        from: `inventory_movements m LEFT JOIN product_suppliers ps ON ps.product_id = m.product_id AND ps.supplier_id = m.supplier_id`,
        where: `m.movement_type = 'RESTOCK'`,
        holds: 'ps.product_supplier_id IS NOT NULL',
        show: 'm.movement_id, m.product_id, m.supplier_id',
      },
      {
        name: "a RESTOCK delivers the inventory row's reorder_quantity (a short delivery at least half of it)",
        from: `inventory_movements m JOIN inventory v USING (product_id, warehouse_id)`,
        where: `m.movement_type = 'RESTOCK'`,
        holds: 'm.quantity <= v.reorder_quantity AND m.quantity >= floor(v.reorder_quantity * 0.5)',
        show: 'm.movement_id, m.quantity, v.reorder_quantity',
      },
      {
        name: "every inventory row was restocked, the latest RESTOCK at the row's last_restocked_at",
        from: `inventory v LEFT JOIN (SELECT product_id, warehouse_id, max(occurred_at) AS latest, count(*) AS restocks
                                     FROM inventory_movements WHERE movement_type = 'RESTOCK'
                                     GROUP BY product_id, warehouse_id) x USING (product_id, warehouse_id)`,
        holds: 'x.restocks >= 1 AND x.latest = v.last_restocked_at',
        show: 'v.inventory_id, v.last_restocked_at, x.latest, x.restocks',
      },
    ],
  },
];
