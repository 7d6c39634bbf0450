import { Type, type TSchema } from '@sinclair/typebox';

/** A deterministic UUID, derived from (seed, entity, index). */
export const Uuid = (description: string) =>
  Type.String({ format: 'uuid', description, examples: ['3f6c2a9e-8d1b-4c7a-9e2f-5b8d4a1c7e90'] });

/** A UTC timestamp with second precision. */
export const Timestamp = (description: string) =>
  Type.String({ format: 'date-time', description, examples: ['2025-03-15T09:30:00Z'] });

/** A calendar date. */
export const CalendarDate = (description: string) =>
  Type.String({ format: 'date', description, examples: ['1988-07-21'] });

/** Marks money in descriptions; the SQL column map reads it to choose numeric(12,2). */
export const MONEY_NOTE = '2 decimals';

/** How {@link Money} ends a description: the marker that tells writers a number is money. */
const MONEY_MARK = ` (${MONEY_NOTE})`;

/** A monetary amount with two decimals, in the record's currency. */
export const Money = (description: string) =>
  Type.Number({ minimum: 0, description: `${description}${MONEY_MARK}`, examples: [49.99] });

/**
 * Whether a property schema was declared with {@link Money}: CSV and XML then write its value
 * with exactly two decimals (`59.60`, `0.00`). Matches the end of the description, so a score
 * described "0-1 with 2 decimals" is not money.
 */
export const isMoney = (node: { type?: unknown; description?: unknown } | undefined): boolean =>
  node?.type === 'number' && typeof node.description === 'string' && node.description.endsWith(MONEY_MARK);

/** An ISO 4217 currency code. */
export const Currency = () =>
  OneOf(['USD', 'GBP'] as const, 'ISO 4217 currency of the amounts (USD for en_US, GBP for en_GB)');

/** A closed set of string values (a JSON Schema enum, so errors and docs list the values). */
export const OneOf = <T extends string>(values: readonly T[], description: string) =>
  Type.Unsafe<T>({ type: 'string', enum: [...values], description });

/** A value that may be absent for this record: `null` in JSON, an empty cell in CSV. */
export const Nullable = <T extends TSchema>(schema: T) => Type.Union([schema, Type.Null()]);

/** The address block shared by users, vendors and warehouses. */
export const AddressFields = {
  address: Type.String({ description: 'Street address', examples: ['742 Evergreen Road'] }),
  city: Type.String({ description: 'City or post town', examples: ['Manchester'] }),
  state: Type.String({ description: 'US state code, or UK county/region', examples: ['Greater Manchester'] }),
  postal_code: Type.String({ description: 'ZIP code (US) or postcode (UK)', examples: ['M14 5TL'] }),
  country: Type.String({ description: 'ISO 3166-1 alpha-2 country code', examples: ['GB'] }),
};
