import { Type, type Static } from '@sinclair/typebox';
import { AddressFields, Timestamp, Uuid } from './common.js';

/**
 * A fulfilment centre holding stock.
 *
 * @example
 * { "warehouse_id": "…", "code": "WH-03", "name": "Leeds Fulfilment Centre", "capacity_units": 120000, … }
 */
export const WarehouseSchema = Type.Object(
  {
    warehouse_id: Uuid('Primary key'),
    code: Type.String({ description: 'Short unique code', examples: ['WH-03'] }),
    name: Type.String({ examples: ['Leeds Fulfilment Centre'] }),
    ...AddressFields,
    capacity_units: Type.Integer({ minimum: 1, description: 'Storage capacity in units', examples: [120000] }),
    manager: Type.String({ examples: ['Tom Baker'] }),
    created_at: Timestamp('Opening time (before the date window)'),
    is_active: Type.Boolean(),
  },
  { $id: 'Warehouse', additionalProperties: false, description: 'A warehouse' },
);
export type Warehouse = Static<typeof WarehouseSchema>;
