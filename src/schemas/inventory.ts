import { Type, type Static } from '@sinclair/typebox';
import { Timestamp, Uuid } from './common.js';

/**
 * Stock of one product in one warehouse: one row per (product, warehouse).
 *
 * @example
 * { "inventory_id": "…", "product_id": "…", "warehouse_id": "…", "quantity_on_hand": 42, … }
 */
export const InventorySchema = Type.Object(
  {
    inventory_id: Uuid('Primary key'),
    product_id: Uuid('The product stocked'),
    warehouse_id: Uuid('The warehouse holding it'),
    quantity_on_hand: Type.Integer({ minimum: 0 }),
    quantity_reserved: Type.Integer({ minimum: 0, description: 'Units held for open orders, at most on hand' }),
    reorder_point: Type.Integer({ minimum: 0 }),
    reorder_quantity: Type.Integer({ minimum: 1 }),
    last_restocked_at: Timestamp('Last delivery into this warehouse'),
    updated_at: Timestamp('Last stock change, at or after last_restocked_at'),
  },
  { $id: 'Inventory', additionalProperties: false, description: 'Stock of a product in a warehouse' },
);
export type Inventory = Static<typeof InventorySchema>;
