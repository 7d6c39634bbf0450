import { Type, type Static } from '@sinclair/typebox';
import { Nullable, OneOf, Timestamp, Uuid } from './common.js';

export const MOVEMENT_TYPES = ['RESTOCK', 'SALE', 'RETURN', 'DAMAGE', 'ADJUSTMENT'] as const;

/**
 * One change to the stock of a product in a warehouse. SALE movements mirror the lines of
 * shipped orders, RETURN movements the accepted returns; RESTOCK, DAMAGE and ADJUSTMENT are
 * the warehouse's own.
 *
 * @example
 * { "movement_id": "…", "movement_type": "SALE", "quantity": -2, "order_item_id": "…", "return_id": null, "supplier_id": null, … }
 */
export const InventoryMovementSchema = Type.Object(
  {
    movement_id: Uuid('Primary key'),
    product_id: Uuid('The product moved'),
    warehouse_id: Uuid('The warehouse whose stock changed'),
    movement_type: OneOf(
      MOVEMENT_TYPES,
      'RESTOCK (delivery from a supplier, +), SALE (an order line leaving with its shipment, -), RETURN (an accepted customer return, +), DAMAGE (written off, -), ADJUSTMENT (stock count correction, + or -)',
    ),
    quantity: Type.Integer({ description: 'Signed change in units on hand: negative for SALE and DAMAGE, never 0', examples: [-2] }),
    occurred_at: Timestamp('When the stock changed: the shipment time for a SALE, the return decision for a RETURN'),
    order_item_id: Nullable(Uuid('The order line shipped (SALE only)')),
    return_id: Nullable(Uuid('The accepted return (RETURN only)')),
    supplier_id: Nullable(Uuid('The supplier who delivered, one of the product-suppliers of the product (RESTOCK only)')),
    note: Type.String({ description: 'Human-readable reason or reference', examples: ['Order ORD-0000042, line 1'] }),
  },
  { $id: 'InventoryMovement', additionalProperties: false, description: 'A stock movement of a product in a warehouse' },
);
export type InventoryMovement = Static<typeof InventoryMovementSchema>;
