import { Type, type Static, type TOptional, type TSchema } from '@sinclair/typebox';
import { INDEX_NAME_PATTERN } from '../formats/bulk.js';
import { FORMAT_NAMES, type FormatName } from '../formats/index.js';
import { LOCALES } from '../generators/locale.js';
import { DEFAULT_END_DATE, DEFAULT_START_DATE } from '../generators/time.js';
import { MAX_PARTITIONS } from '../generators/partition.js';
import { BASE_SIZES, KNOB_DEFAULTS, MAX_POPULATION, MAX_PRICE_CHANGE_RATE, SIZED_ENTITIES } from '../generators/world.js';
import { OneOf } from './common.js';
import { LIST_ITEMS, commaList } from './lists.js';

export const MAX_SEED = 4294967295;
export const MAX_SCALE = 10_000;

/** The world a request reads from: seed, sizes, locale and date window. */
export const WorldQueryFields = {
  seed: Type.Integer({
    minimum: 0,
    maximum: MAX_SEED,
    description: 'World seed. The same seed (and sizes, locale, window) gives the same records, byte for byte. Omitted: one is drawn and returned in `X-Seed`.',
    examples: [42],
  }),
  scale: Type.Number({
    exclusiveMinimum: 0,
    maximum: MAX_SCALE,
    default: 1,
    description: 'Scale factor for every population (users, products, orders linearly; vendors and warehouses by its square root).',
    examples: [1],
  }),
  ...Object.fromEntries(
    SIZED_ENTITIES.map((name) => [
      name,
      Type.Integer({
        minimum: 1,
        maximum: MAX_POPULATION,
        description: `Population of ${name} in this world (overrides scale; default ${BASE_SIZES[name].toLocaleString('en-US')} x scale).`,
      }),
    ]),
  ) as Record<(typeof SIZED_ENTITIES)[number], ReturnType<typeof Type.Integer>>,
  locale: OneOf(LOCALES, 'Names, addresses, phone formats, postcodes, currency and tax: en_US (USD, state sales tax) or en_GB (GBP, 20% VAT, UK postcodes).'),
  start_date: Type.String({
    description: `First day of the date window (YYYY-MM-DD, an ISO 8601 date-time, or today, yesterday, today-<n>d: resolved by the server and reported in X-Date-Window). Default ${DEFAULT_START_DATE}.`,
    examples: [DEFAULT_START_DATE],
  }),
  end_date: Type.String({
    description: `Last day of the date window, inclusive (YYYY-MM-DD, an exclusive ISO 8601 date-time, or today, yesterday, today-<n>d: resolved by the server and reported in X-Date-Window). Default ${DEFAULT_END_DATE}.`,
    // No example: Swagger UI's "Try it out" sends every parameter's example, and with start_date's
    // it made performance-events (start_date or end_date, not both) answer 400.
  }),
  price_change_rate: Type.Number({
    minimum: 0,
    maximum: MAX_PRICE_CHANGE_RATE,
    default: KNOB_DEFAULTS.price_change_rate,
    description: 'Expected price changes per product per 30 days (promotions, cost increases, competitor matches; see /price-changes). The reference generator\'s P_UPDATE_PRICE.',
    examples: [0.5],
  }),
  payment_ratio: Type.Number({
    minimum: 0,
    maximum: 1,
    default: KNOB_DEFAULTS.payment_ratio,
    description:
      'Share of orders that get a payment (the reference generator\'s P_ORDER_HAS_PAYMENT is 0.85). The others stay pending (abandoned checkouts): no payment row, no shipment. Default 1: every order has exactly one payment.',
    examples: [1],
  }),
  shipment_ratio: Type.Number({
    minimum: 0,
    maximum: 1,
    default: KNOB_DEFAULTS.shipment_ratio,
    description:
      'Share of paid, not cancelled orders that are shipped (the reference generator\'s P_ORDER_HAS_SHIPMENT is 0.75 of all orders). The others stay processing: no shipment, no stock sale. Default 1: every paid order ships.',
    examples: [1],
  }),
};

/** `partition=k&partitions=n`: worker k of n takes one contiguous slice (see src/generators/partition.ts). */
export const PartitionFields = {
  partition: Type.Integer({
    minimum: 0,
    maximum: MAX_PARTITIONS - 1,
    description: 'With `partitions`: this worker\'s 0-based index. Worker k of n gets a contiguous slice of the records asked for; the n slices in order of k are the unpartitioned output (CSV: after each slice\'s header line). See docs/scaling.md.',
    // No examples here or on partitions: Swagger UI's "Try it out" sends them, and every list
    // endpoint answered a quarter of its page.
  }),
  partitions: Type.Integer({ minimum: 1, maximum: MAX_PARTITIONS, description: `Number of workers the records are split over (1-${MAX_PARTITIONS}), with \`partition\`.` }),
};

/** Just the world parameters, all optional (for routes that read a world but page nothing). */
export const WorldQuery = Type.Object(
  Object.fromEntries(Object.entries(WorldQueryFields).map(([k, v]) => [k, Type.Optional(v)])) as {
    [K in keyof typeof WorldQueryFields]: TOptional<(typeof WorldQueryFields)[K]>;
  },
  { additionalProperties: false },
);

/** Query string of every `GET /api/v1/<entity>`. */
export function listQuerySchema(
  maxLimit: number,
  defaultLimit: number,
  entityParams: Readonly<Record<string, TSchema>> = {},
  bulkIndex?: string,
) {
  return Type.Object(
    optional({
      ...WorldQueryFields,
      ...(entityParams as Record<string, TSchema>),
      limit: Type.Integer({
        minimum: 1,
        maximum: maxLimit,
        default: defaultLimit,
        description: `Records to return (1-${maxLimit.toLocaleString('en-US')}). Never more than the population (X-Total-Count) from offset: a world of scale 1 has 5,000 orders, so for 100,000 orders ask for scale=20.`,
      }),
      offset: Type.Integer({ minimum: 0, maximum: MAX_POPULATION, description: 'Index of the first record (not with `page`).' }),
      page: Type.Integer({ minimum: 1, maximum: MAX_POPULATION, description: '1-based page of `limit` records (not with `offset`).' }),
      ...PartitionFields,
      format: OneOf<FormatName | 'parquet'>(
        bulkIndex ? [...FORMAT_NAMES, 'parquet', 'bulk'] : [...FORMAT_NAMES, 'parquet'],
        bulkIndex
          ? 'Output format; overrides the Accept header. Default json. `parquet`: Apache Parquet with typed columns (docs/parquet.md). `bulk`: OpenSearch `_bulk` NDJSON, an action line (`_index`, `_id` = primary key) before each record.'
          : 'Output format; overrides the Accept header. Default json. `parquet`: Apache Parquet with typed columns (docs/parquet.md).',
      ),
      ...(bulkIndex ? { index: BulkIndexField(bulkIndex) } : {}),
      fields: Type.String({
        pattern: commaList(LIST_ITEMS.fields.pattern),
        description: 'Comma-separated subset of fields, in the order to output them (e.g. `user_id,email`).',
      }),
    }),
    { additionalProperties: false },
  );
}

/** `index=`: the OpenSearch index named in the action lines of `format=bulk`. */
const BulkIndexField = (defaultIndex: string) =>
  Type.String({
    pattern: INDEX_NAME_PATTERN,
    maxLength: 255,
    description: `Index named in the action lines of format=bulk (only with format=bulk). Default ${defaultIndex}. Lowercase letters, digits, '.', '_' and '-', not starting with '.', '_' or '-'.`,
    // No example: Swagger UI's "Try it out" sends it without format=bulk, a 400.
  });

/** Every parameter is optional: Type.Object would otherwise require them all. */
function optional<T extends Record<string, TSchema>>(fields: T): { [K in keyof T]: TOptional<T[K]> } {
  return Object.fromEntries(Object.entries(fields).map(([k, v]) => [k, Type.Optional(v)])) as {
    [K in keyof T]: TOptional<T[K]>;
  };
}
export type ListQuery = Static<ReturnType<typeof listQuerySchema>> & Record<string, unknown>;

/** The query string of a route that takes no parameters: any parameter is a 400 naming it. */
export const NO_QUERY = Type.Object({}, { additionalProperties: false });

/** The body of every error response. */
export const ErrorSchema = Type.Object(
  {
    statusCode: Type.Integer({ examples: [400] }),
    error: Type.String({ examples: ['Bad Request'] }),
    message: Type.String({ examples: ["limit: must be <= 1000000"] }),
    code: Type.String({ description: 'Stable machine-readable code', examples: ['INVALID_PARAMETER'] }),
    request_id: Type.Optional(Type.String({ description: 'On 5xx: the request id, as in X-Request-Id, under which the failure was logged' })),
  },
  { $id: 'Error', description: 'Every error has this shape' },
);
