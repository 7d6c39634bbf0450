import { Type, type Static } from '@sinclair/typebox';
import { OneOf, Timestamp, Uuid } from './common.js';

export const SHOP_TYPES = ['flagship', 'high_street', 'outlet', 'concession', 'online_partner'] as const;

/**
 * A shop of the store: its own stores (flagship, high street, outlet), concessions inside
 * department stores, and online marketplace partners. Transactions are sold through shops.
 *
 * @example
 * { "shop_id": "…", "name": "Manchester King Street", "type": "high_street", "city": "Manchester", "postcode": "M2 4WU",
 *   "opening_hours": "Mon-Sat 09:00-17:30, Sun 10:00-16:00", "commission_rate": 0.035, "rating": 4.4, … }
 */
export const ShopSchema = Type.Object(
  {
    shop_id: Uuid('Primary key'),
    name: Type.String({ description: 'Shop name (city and street, host store or marketplace)', examples: ['Manchester King Street'] }),
    type: OneOf(SHOP_TYPES, 'flagship, high_street and outlet are own stores; concession is a counter inside a department store; online_partner a marketplace'),
    city: Type.String({ description: "City or post town, from the locale's places", examples: ['Manchester'] }),
    address: Type.String({ description: 'Street address', examples: ['14 King Street'] }),
    postcode: Type.String({ description: 'Postcode (UK) or ZIP code (US) of the city', examples: ['M2 4WU'] }),
    phone: Type.String({ description: 'Shop telephone in the locale national format (UK: the city dialling code)', examples: ['0161 496 0732'] }),
    email: Type.String({ format: 'email', description: 'Unique shop e-mail address', examples: ['manchester.0007@stores.example.co.uk'] }),
    manager: Type.String({ description: 'Shop manager (or partner account manager)', examples: ['Priya Shah'] }),
    opening_hours: Type.String({ description: 'Opening hours; online partners trade around the clock', examples: ['Mon-Sat 09:00-18:00, Sun 10:00-16:00'] }),
    commission_rate: Type.Number({
      minimum: 0,
      maximum: 0.5,
      description: 'Share of each sale paid as commission: 2-6% staff commission in own stores, 15-30% to the host of a concession, 8-20% to a marketplace',
      examples: [0.035],
    }),
    rating: Type.Number({ minimum: 1, maximum: 5, description: 'Average customer rating, one decimal', examples: [4.4] }),
    created_at: Timestamp('Opening time, before the date window'),
    is_active: Type.Boolean({ description: 'False for shops closed before the window (they sell nothing in it)' }),
  },
  { $id: 'Shop', additionalProperties: false, description: 'A shop, concession or marketplace partner' },
);
export type Shop = Static<typeof ShopSchema>;
