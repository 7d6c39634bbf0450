import { Type, type Static } from '@sinclair/typebox';
import { AddressFields, Timestamp, Uuid } from './common.js';

/**
 * A company whose products the shop sells.
 *
 * @example
 * { "vendor_id": "…", "name": "Hartley & Sons Ltd", "rating": 4.3, "commission_rate": 0.12, … }
 */
export const VendorSchema = Type.Object(
  {
    vendor_id: Uuid('Primary key'),
    name: Type.String({ examples: ['Hartley & Sons Ltd'] }),
    contact_name: Type.String({ examples: ['Priya Shah'] }),
    email: Type.String({ format: 'email', examples: ['sales@hartleysons.example'] }),
    phone_number: Type.String({ examples: ['020 7946 0321'] }),
    website: Type.String({ examples: ['https://hartleysons.example'] }),
    ...AddressFields,
    rating: Type.Number({ minimum: 1, maximum: 5, description: 'Average seller rating, 1 decimal', examples: [4.3] }),
    commission_rate: Type.Number({ minimum: 0, maximum: 1, description: 'Marketplace commission as a fraction', examples: [0.12] }),
    created_at: Timestamp('Onboarding time (before the date window: the catalogue predates the sales)'),
    is_active: Type.Boolean(),
  },
  { $id: 'Vendor', additionalProperties: false, description: 'A product vendor' },
);
export type Vendor = Static<typeof VendorSchema>;
