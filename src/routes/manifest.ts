import { createHash } from 'node:crypto';
import { Type, type Static } from '@sinclair/typebox';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { FORMATS } from '../formats/index.js';
import { ENTITIES, ENTITY_NAMES, WORLD_ENTITIES, isEntityName, type EntityName } from '../generators/registry.js';
import { DATA_VERSION, World } from '../generators/world.js';
import { ApiError } from '../plugins/errors.js';
import { formatContext, renderBatch } from '../render/batch.js';
import { ErrorSchema, WorldQuery } from '../schemas/query.js';
import { worldSpecFrom } from './world-query.js';

const EntityManifest = Type.Object({
  entity: Type.String({ examples: ['orders'] }),
  locale: Type.String({ description: "The locale the entity was hashed in: the request's, else the entity's default", examples: ['en_US'] }),
  population: Type.Integer({ description: 'X-Total-Count of the entity in this world' }),
  csv_bytes: Type.Integer({ description: 'Size of the canonical CSV of the whole population' }),
  csv_sha256: Type.String({ description: 'SHA-256 (hex) of the canonical CSV of the whole population' }),
});

const ManifestSchema = Type.Object(
  {
    seed: Type.Integer(),
    data_version: Type.Integer({ description: 'The generators\' data version (also the X-Data-Version header): it rises whenever the bytes of a seeded world change (see CHANGELOG.md).' }),
    locale: Type.String(),
    start_date: Type.String({ format: 'date-time' }),
    end_date: Type.String({ format: 'date-time', description: 'Exclusive end of the window' }),
    sizes: Type.Record(Type.String(), Type.Integer()),
    checksum: Type.String({
      description:
        'How csv_sha256 is computed: the SHA-256 of exactly the bytes of GET /api/v1/<entity>?<same world>&format=csv&limit=<population> (uncompressed, all fields, header row, CRLF line ends), that is of the default download (an entity with its own default locale is hashed in it unless the request names one).',
    }),
    totals: Type.Object(
      {
        order_revenue: Type.Number({ description: 'Sum of order totals, cancelled orders excluded' }),
        order_revenue_all: Type.Number({ description: 'Sum of all order totals' }),
        units_sold: Type.Integer({ description: 'Units on lines of orders that were not cancelled' }),
        discounts: Type.Number({ description: 'Sum of order discounts' }),
        tax: Type.Number({ description: 'Sum of order tax' }),
        payments_completed: Type.Number({ description: 'Sum of completed payment amounts' }),
        refunds: Type.Number({ description: 'Sum of return refund_amount' }),
      },
      { description: 'Key sums an ETL test can assert after loading' },
    ),
    entities: Type.Array(EntityManifest),
  },
  { $id: 'Manifest', description: 'Ground truth of a world: populations, key sums and checksums' },
);
type Manifest = Static<typeof ManifestSchema>;

const ManifestQuery = Type.Object(
  {
    ...Object.fromEntries(Object.entries(WorldQuery.properties)),
    entities: Type.Optional(
      Type.String({
        pattern: '^[a-z/-]+(,[a-z/-]+)*$',
        description: 'Comma-separated entities to include (default: all but performance-events, whose population is huge)',
      }),
    ),
  },
  { additionalProperties: false },
);
type ManifestQueryType = Static<typeof WorldQuery> & { entities?: string };

/** Streams the canonical CSV of a whole population through SHA-256 in batches (flat memory). */
function checksum(world: World, entity: EntityName): { bytes: number; sha256: string } {
  const hash = createHash('sha256');
  const columns = Object.keys(ENTITIES[entity].schema.properties);
  const context = formatContext(entity, columns);
  const population = world.generator(entity).population;
  let bytes = 0;
  const add = (text: string) => {
    const chunk = Buffer.from(text, 'utf8');
    bytes += chunk.length;
    hash.update(chunk);
  };
  add(FORMATS.csv.open(context));
  const spec = { seed: world.seed, sizes: world.sizes, locale: world.locale, window: world.window, params: world.params };
  for (let start = 0; start < population; start += 4096) {
    const end = Math.min(population, start + 4096);
    add(renderBatch({ spec, entity, format: 'csv', columns, projected: false, start, end, first: start === 0 }));
  }
  add(FORMATS.csv.close(context, population === 0));
  return { bytes, sha256: hash.digest('hex') };
}

function totalsOf(world: World): Manifest['totals'] {
  const orders = world.generator('orders');
  let revenue = 0;
  let revenueAll = 0;
  let units = 0;
  let discounts = 0;
  let tax = 0;
  for (const order of orders.range(0, orders.population)) {
    const total = Math.round(order.total * 100);
    revenueAll += total;
    discounts += Math.round(order.discount * 100);
    tax += Math.round(order.tax * 100);
    if (order.status !== 'cancelled') {
      revenue += total;
      for (const line of order.items) units += line.quantity;
    }
  }
  let paid = 0;
  for (const payment of world.generator('payments').range(0, orders.population)) {
    if (payment.status === 'completed') paid += Math.round(payment.amount * 100);
  }
  let refunds = 0;
  const returns = world.generator('returns');
  for (const item of returns.range(0, returns.population)) refunds += Math.round(item.refund_amount * 100);
  return {
    order_revenue: revenue / 100,
    order_revenue_all: revenueAll / 100,
    units_sold: units,
    discounts: discounts / 100,
    tax: tax / 100,
    payments_completed: paid / 100,
    refunds: refunds / 100,
  };
}

const cache = new WeakMap<World, Map<string, Manifest>>();

/** `GET /api/v1/manifest`: the ground truth an ETL test asserts after loading a world. */
export default async function manifestRoutes(app: FastifyInstance): Promise<void> {
  app.get(
    '/api/v1/manifest',
    {
      schema: {
        tags: ['Analytics'],
        summary: 'Ground-truth manifest of a world',
        description:
          'Per entity the population and the SHA-256 of its canonical CSV (exactly the bytes of `GET /api/v1/<entity>?<world>&format=csv&limit=<population>`), plus key sums (revenue, units, discounts, tax, payments, refunds). Load a world, recompute these, compare. Cost: it generates every record of the listed entities once per world (cached afterwards). Example: `curl "http://localhost:8000/api/v1/manifest?seed=42"`',
        querystring: ManifestQuery,
        response: { 200: ManifestSchema, 400: { description: 'A parameter is invalid', ...Type.Ref(ErrorSchema) } },
      },
    },
    async (request: FastifyRequest<{ Querystring: ManifestQueryType }>) => {
      const query = request.query;
      const names = query.entities
        ? [...new Set(query.entities.split(','))]
        : WORLD_ENTITIES;
      const unknown = names.filter((name) => !isEntityName(name));
      if (unknown.length > 0) {
        throw new ApiError(400, 'UNKNOWN_ENTITY', `entities: no entity ${unknown.map((n) => `'${n}'`).join(', ')}; known: ${ENTITY_NAMES.join(', ')}`);
      }
      const spec = worldSpecFrom(query);
      const world = World.of(spec);
      let perWorld = cache.get(world);
      if (!perWorld) cache.set(world, (perWorld = new Map()));
      const key = names.join(',');
      const cached = perWorld.get(key);
      if (cached) return cached;
      const manifest: Manifest = {
        seed: world.seed,
        data_version: DATA_VERSION,
        locale: world.locale,
        start_date: new Date(world.window.start).toISOString(),
        end_date: new Date(world.window.end).toISOString(),
        sizes: { ...world.sizes },
        checksum: ManifestSchema.properties.checksum.description as string,
        totals: totalsOf(world),
        entities: (names as EntityName[]).map((entity) => {
          // Hashed as its default download serves it: an entity with its own default locale
          // keeps it unless the request names a locale.
          const served = query.locale ? world : World.of({ ...spec, locale: ENTITIES[entity].defaultLocale ?? spec.locale });
          const { bytes, sha256 } = checksum(served, entity);
          return { entity, locale: served.locale, population: served.generator(entity).population, csv_bytes: bytes, csv_sha256: sha256 };
        }),
      };
      perWorld.set(key, manifest);
      return manifest;
    },
  );
}
