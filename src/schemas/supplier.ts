import { Type, type Static } from '@sinclair/typebox';
import { Money, Timestamp, Uuid } from './common.js';

/**
 * A company the shop buys stock from, at home or abroad.
 *
 * @example
 * { "supplier_id": "…", "name": "Shenzhen Huaxin Electronics Co., Ltd.", "country": "CN", "lead_time_days": 38, "reliability_score": 0.84, … }
 */
export const SupplierSchema = Type.Object(
  {
    supplier_id: Uuid('Primary key'),
    name: Type.String({ description: 'Registered company name, with its local legal form', examples: ['Shenzhen Huaxin Electronics Co., Ltd.'] }),
    contact_name: Type.String({ description: 'Account manager at the supplier', examples: ['Wei Zhang'] }),
    email: Type.String({ format: 'email', examples: ['export@huaxin-electronics.com.cn'] }),
    phone_number: Type.String({
      description: "National format for a supplier in the shop's country, international (+country code) otherwise",
      examples: ['+86 755 2614 8830'],
    }),
    country: Type.String({ description: 'ISO 3166-1 alpha-2 country code of the supplier', examples: ['CN'] }),
    city: Type.String({ examples: ['Shenzhen'] }),
    lead_time_days: Type.Integer({
      minimum: 1,
      description: 'Typical days from purchase order to delivery at the warehouse (longer for overseas suppliers)',
      examples: [38],
    }),
    reliability_score: Type.Number({ minimum: 0, maximum: 1, description: 'Overall reliability, 0-1 with 2 decimals', examples: [0.84] }),
    on_time_rate: Type.Number({ minimum: 0, maximum: 1, description: 'Share of deliveries that arrived on time, 0-1 with 2 decimals', examples: [0.79] }),
    rating: Type.Number({ minimum: 1, maximum: 5, description: 'Buyer rating, 1 decimal', examples: [4.2] }),
    created_at: Timestamp('Onboarding time (before the date window, like the rest of the catalogue)'),
    is_active: Type.Boolean({ description: 'False for suppliers no longer used (their past deliveries remain)' }),
  },
  { $id: 'Supplier', additionalProperties: false, description: 'A supplier of stock' },
);
export type Supplier = Static<typeof SupplierSchema>;

/**
 * One supplier of one product, with that supplier's terms. A product has 1-3 distinct
 * suppliers, exactly one of them preferred.
 *
 * @example
 * { "product_supplier_id": "…", "product_id": "…", "supplier_id": "…", "supplier_sku": "HUA-7F3A21C9", "cost": 41.37, "is_preferred": true, … }
 */
export const ProductSupplierSchema = Type.Object(
  {
    product_supplier_id: Uuid('Primary key'),
    product_id: Uuid('The product supplied'),
    supplier_id: Uuid('The supplier'),
    supplier_sku: Type.String({ description: "The supplier's own article code, unique", examples: ['HUA-7F3A21C9'] }),
    cost: Money("Unit cost from this supplier, in the product's currency: around the product's cost, always below its price"),
    lead_time_days: Type.Integer({ minimum: 1, description: "Lead time for this product, around the supplier's typical lead time", examples: [35] }),
    min_order_quantity: Type.Integer({ minimum: 1, description: 'Smallest order the supplier accepts (larger for cheap items)', examples: [24] }),
    is_preferred: Type.Boolean({ description: 'The supplier restocks are ordered from by default; exactly one per product' }),
  },
  { $id: 'ProductSupplier', additionalProperties: false, description: 'A supplier of a product and its terms' },
);
export type ProductSupplier = Static<typeof ProductSupplierSchema>;
