import { Type, type Static } from '@sinclair/typebox';
import { Currency, Money, Timestamp, Uuid } from './common.js';

/**
 * A product in the catalogue. Prices cluster by category; cost is always below price;
 * stock_quantity is the sum of the product's inventory rows.
 *
 * @example
 * { "product_id": "…", "sku": "ELE-SMA-000042", "name": "Novatek Pro Smartphone X2", "price": 499.99, "cost": 271.4, … }
 */
export const ProductSchema = Type.Object(
  {
    product_id: Uuid('Primary key'),
    sku: Type.String({ description: 'Stock keeping unit, unique', examples: ['ELE-SMA-000042'] }),
    name: Type.String({ examples: ['Novatek Pro Smartphone X2'] }),
    category_id: Uuid('Leaf category (a subcategory)'),
    category: Type.String({ description: 'Name of that category (the subcategory), as /categories names it', examples: ['Smartphones'] }),
    vendor_id: Uuid('Vendor supplying the product'),
    supplier: Type.String({
      description: "Name of the product's preferred supplier (the first of its /product-suppliers rows, as /suppliers names it)",
      examples: ['Shenzhen Voltaro Electronics Co., Ltd.'],
    }),
    brand: Type.String({ examples: ['Novatek'] }),
    price: Money('List price'),
    cost: Money('Unit cost to the shop, below price'),
    currency: Currency(),
    stock_quantity: Type.Integer({ minimum: 0, description: 'Units on hand across all warehouses (sum of inventory)' }),
    description: Type.String(),
    weight: Type.Number({ minimum: 0, description: 'Shipping weight in kg', examples: [0.35] }),
    dimensions: Type.String({ description: 'Length x width x height in cm', examples: ['16 x 8 x 1 cm'] }),
    created_at: Timestamp('Listing time (before the date window)'),
    is_active: Type.Boolean({ description: 'False for discontinued products (still referenced by old orders)' }),
  },
  { $id: 'Product', additionalProperties: false, description: 'A catalogue product' },
);
export type Product = Static<typeof ProductSchema>;
