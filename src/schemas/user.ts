import { Type, type Static } from '@sinclair/typebox';
import { AddressFields, CalendarDate, Timestamp, Uuid } from './common.js';

/**
 * A registered customer.
 *
 * @example
 * { "user_id": "…", "email": "olivia.jones537@gmail.com", "first_name": "Olivia", "city": "Leeds", … }
 */
export const UserSchema = Type.Object(
  {
    user_id: Uuid('Primary key'),
    email: Type.String({ format: 'email', description: 'Unique e-mail address', examples: ['olivia.jones537@gmail.com'] }),
    username: Type.String({ description: 'Unique login name', examples: ['olivia.jones537'] }),
    first_name: Type.String({ examples: ['Olivia'] }),
    last_name: Type.String({ examples: ['Jones'] }),
    date_of_birth: CalendarDate('Customer date of birth (18-80 years before the window)'),
    phone_number: Type.String({ description: 'Phone number in the locale national format', examples: ['07700 900123'] }),
    ...AddressFields,
    created_at: Timestamp('Sign-up time, inside the date window'),
    updated_at: Timestamp('Last profile change, at or after created_at'),
    is_active: Type.Boolean({ description: 'False for closed accounts (about 5%)' }),
    marketing_opt_in: Type.Boolean({ description: 'Consented to marketing e-mail' }),
    loyalty_points: Type.Integer({ minimum: 0, description: 'Loyalty points balance', examples: [325] }),
    segment_id: Uuid('Customer segment (see /customer-segments for the assignment rules)'),
  },
  { $id: 'User', additionalProperties: false, description: 'A registered customer' },
);
export type User = Static<typeof UserSchema>;
