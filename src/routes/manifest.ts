import { Type, type Static } from '@sinclair/typebox';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { ENTITY_NAMES, WORLD_ENTITIES, isEntityName, type EntityName } from '../generators/registry.js';
import { DATA_VERSION, World } from '../generators/world.js';
import { ApiError } from '../plugins/errors.js';
import { LIST_ITEMS, commaList } from '../schemas/lists.js';
import { manifestCost } from '../generators/cost.js';
import { manifestData } from '../precompute/manifest.js';
import { PrecomputeError, PrecomputePool } from '../precompute/pool.js';
import { ErrorSchema, WorldQuery } from '../schemas/query.js';
import { assertWithinBudget, type CostBudget } from './cost.js';
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
        pattern: commaList(LIST_ITEMS.entities.pattern),
        description: 'Comma-separated entities to include (default: all but performance-events, whose population is huge)',
      }),
    ),
  },
  { additionalProperties: false },
);
type ManifestQueryType = Static<typeof WorldQuery> & { entities?: string };

export interface ManifestRoutesOptions {
  budget: CostBudget;
}

/** `GET /api/v1/manifest`: the ground truth an ETL test asserts after loading a world. */
export default async function manifestRoutes(app: FastifyInstance, options: ManifestRoutesOptions): Promise<void> {
  // Manifests hash every row of a world: seconds of CPU, done off the event loop and cached.
  const pool = new PrecomputePool();
  app.addHook('onClose', async () => pool.close());
  app.get(
    '/api/v1/manifest',
    {
      schema: {
        tags: ['Analytics'],
        summary: 'Ground-truth manifest of a world',
        description:
          'Per entity the population and the SHA-256 of its canonical CSV (exactly the bytes of `GET /api/v1/<entity>?<world>&format=csv&limit=<population>`), plus key sums (revenue, units, discounts, tax, payments, refunds). Load a world, recompute these, compare. Cost: it generates every record of the listed entities once per world, on a background thread (cached afterwards, and shared by concurrent requests); a world whose manifest would cost more than the server budget gets 422 COST_BUDGET_EXCEEDED. Example: `curl "http://localhost:8000/api/v1/manifest?seed=42"`',
        querystring: ManifestQuery,
        response: {
          200: ManifestSchema,
          400: { description: 'A parameter is invalid', ...Type.Ref(ErrorSchema) },
          422: { description: 'COST_BUDGET_EXCEEDED: the manifest of this world costs more than this server allows (see docs/limits.md); the message names the parameter to lower', ...Type.Ref(ErrorSchema) },
          503: { description: 'PRECOMPUTE_FAILED: the background computation failed (e.g. out of memory) or the server is shutting down', ...Type.Ref(ErrorSchema) },
        },
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
      const world = World.of(worldSpecFrom(query));
      const entities = names as EntityName[];
      assertWithinBudget(manifestCost(entities, world), options.budget, query, `the manifest of ${entities.length === 1 ? entities[0] : `${entities.length} entities`}`);
      const key = names.join(',');
      const spec = world.spec;
      let data: ReturnType<typeof manifestData>;
      try {
        data = await pool.run(JSON.stringify(['manifest', spec, key]), { kind: 'manifest', spec, entities });
      } catch (err) {
        if (err instanceof PrecomputeError) throw new ApiError(503, 'PRECOMPUTE_FAILED', `manifest: ${err.message}`);
        throw err;
      }
      const manifest: Manifest = {
        seed: world.seed,
        data_version: DATA_VERSION,
        locale: world.locale,
        start_date: new Date(world.window.start).toISOString(),
        end_date: new Date(world.window.end).toISOString(),
        sizes: { ...world.sizes },
        checksum: ManifestSchema.properties.checksum.description as string,
        totals: data.totals,
        entities: data.entities,
      };
      return manifest;
    },
  );
}
