import { Type, type Static } from '@sinclair/typebox';
import { Nullable, OneOf, Timestamp, Uuid } from './common.js';
import { SHIPPING_METHODS } from './order.js';

export const SHIPMENT_STATUSES = ['in_transit', 'delivered'] as const;

/**
 * The shipment of an order that has left the warehouse (orders shipped or delivered).
 *
 * @example
 * { "shipment_id": "…", "order_id": "…", "carrier": "Royal Mail", "tracking_number": "RM123456789GB", "status": "delivered", … }
 */
export const ShipmentSchema = Type.Object(
  {
    shipment_id: Uuid('Primary key'),
    order_id: Uuid('The order shipped'),
    warehouse_id: Uuid('The warehouse it left from'),
    carrier: Type.String({ examples: ['UPS'] }),
    shipping_method: OneOf(SHIPPING_METHODS, "The order's shipping method"),
    tracking_number: Type.String({ description: 'Carrier tracking number, unique' }),
    status: OneOf(SHIPMENT_STATUSES, 'delivered once actual_delivery_at is inside the window'),
    shipped_at: Timestamp('Handed to the carrier, after payment'),
    estimated_delivery_at: Timestamp('Delivery promised when shipped; for parcels shipped in the last days it may lie after the window'),
    actual_delivery_at: Nullable(Timestamp('Delivery time; null while in transit')),
    package_weight: Type.Number({ minimum: 0, description: 'Parcel weight in kg' }),
  },
  { $id: 'Shipment', additionalProperties: false, description: 'A shipment of an order' },
);
export type Shipment = Static<typeof ShipmentSchema>;
