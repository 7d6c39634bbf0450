import { Type } from '@sinclair/typebox';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { BulkTarget } from '../formats/bulk.js';
import { constants as zlibConstants } from 'node:zlib';
import { COMPRESSIBLE_TYPES, FORMATS, FORMAT_NAMES, formatPage, formatStream, type FormatName } from '../formats/index.js';
import type { PageTemplate } from '../plugins/page-cache.js';
import { preparedOnLoop } from '../precompute/prepare.js';
import { ENTITIES, ENTITY_NAMES, type EntityDefinition, type EntityName } from '../generators/registry.js';
import { partSuffix, partitionProblem, partitionRange } from '../generators/partition.js';
import { World, type WorldParams, type WorldSpec } from '../generators/world.js';
import { PARQUET_CONTENT_TYPE, PARQUET_EXTENSION } from '../formats/parquet.js';
import { ApiError, badParameter } from '../plugins/errors.js';
import { recordsOf, type BatchTask } from '../render/batch.js';
import { attachment, encodePage, planBytes, planContext, renderPage, seedHeaders, type PagePlan } from '../render/page.js';
import { servedLocations } from '../generators/served-order.js';
import { orderedStream, pooledPage } from '../render/pool.js';
import { parquetFile } from '../render/parquet.js';
import { ENTITY_GZIP_LEVEL, gzipJoined, takeGzip } from '../render/gzip.js';
import { ErrorSchema, listQuerySchema, type ListQuery } from '../schemas/query.js';
import { chooseEntityFormat } from './negotiate.js';
import { pinRelativeDates, resolveRelativeDates, worldSpecFrom } from './world-query.js';
import { assertWithinBudget, costOf, retainPrecompute, whenPrepared, type CostBudget } from './cost.js';

/** Records per batch when rendering on worker threads (a few hundred KB of output). */
const PARALLEL_BATCH = 2048;

/**
 * Pages of up to this many records (and up to the default `limit`, if larger, within 10,000)
 * are written whole and sent with Content-Length: for small pages a stream's chunked encoding
 * and extra writes cost more than the records.
 */
const WHOLE_PAGE = 1000;

/**
 * Whole pages of more records than this are rendered on the render threads, when the app has
 * them, and sent as one buffer with Content-Length: rendered here, the default page of 1,000
 * orders held the event loop for ~30 ms (a new world's first reviews page ~60 ms), and every
 * other request waited. A page this small costs a few milliseconds at most (orders ~30 µs a
 * record), less than a round trip to a worker is worth for the smallest pages.
 */
export const POOL_PAGE = 128;

/**
 * Compression of entity responses (merged over the app's @fastify/compress settings): gzip at
 * level 1, about twice as fast as zlib's default 6 for ~8% more bytes on users/orders CSV;
 * brotli (quality 4) and zstd (where Node has it) only when the client prefers them, since
 * `gzip` is listed first and wins among equally acceptable encodings.
 */
const COMPRESSION = {
  encodings: ['gzip', 'zstd', 'br', 'deflate'] as ('gzip' | 'zstd' | 'br' | 'deflate')[],
  zlibOptions: { level: ENTITY_GZIP_LEVEL },
  brotliOptions: { params: { [zlibConstants.BROTLI_PARAM_QUALITY]: 4 } },
  // Route options replace the app's list of compressible types rather than merge with it.
  customTypes: COMPRESSIBLE_TYPES,
};

export interface EntityRoutesOptions {
  maxLimit: number;
  defaultLimit: number;
  budget: CostBudget;
}

/** Every column of an entity, in the schema's order, listed once (the list is only read). */
const allColumns = new Map<EntityName, readonly string[]>();

/** Validates `fields` against the entity's properties; returns the columns to write. */
function columnsFor(entity: EntityName, fields: string | undefined): { columns: readonly string[]; projected: boolean } {
  let all = allColumns.get(entity);
  if (all === undefined) allColumns.set(entity, (all = Object.keys(ENTITIES[entity].schema.properties)));
  if (!fields) return { columns: all, projected: false };
  const requested = [...new Set(fields.split(','))];
  const unknown = requested.filter((f) => !all.includes(f));
  if (unknown.length > 0) {
    throw new ApiError(400, 'UNKNOWN_FIELD', `fields: ${entity} has no field ${unknown.map((f) => `'${f}'`).join(', ')}; valid fields: ${all.join(', ')}`);
  }
  return { columns: requested, projected: true };
}

/**
 * The index and id column of `format=bulk` (undefined for other formats): only for entities
 * that opt in, and the primary key must be among the written fields, since it is the `_id`.
 */
function bulkTarget(definition: EntityDefinition, format: FormatName, index: unknown, columns: readonly string[]): BulkTarget | undefined {
  if (format !== 'bulk') {
    if (index !== undefined) throw badParameter('index', 'only applies with format=bulk');
    return undefined;
  }
  if (!definition.bulkIndex) {
    throw badParameter('format', 'bulk (OpenSearch _bulk NDJSON) is not offered by this entity; use json, ndjson, csv or xml');
  }
  if (!columns.includes(definition.primaryKey)) {
    throw badParameter('fields', `format=bulk needs ${definition.primaryKey} among the fields: it is each document's _id`);
  }
  return { index: typeof index === 'string' ? index : definition.bulkIndex, idColumn: definition.primaryKey };
}

/**
 * The world spec of a request: `base` with the entity's locale and parameters. Written out, not
 * as `{ ...base, locale, params }`: on Node 20.20 (this machine; Node 22 not measured) a spread
 * followed by more properties was ~3 µs an object, and the objects survived scavenges until a
 * mark-compact (2,000,000 in a loop: 6.7 s and 40 ms scavenges, against 0.1 s written out).
 */
function withLocaleAndParams(base: WorldSpec, locale: WorldSpec['locale'], params: WorldParams): WorldSpec {
  const { seed, sizes, window, knobs } = base;
  return knobs === undefined ? { seed, sizes, locale, window, params } : { seed, sizes, locale, window, knobs, params };
}

const exampleValue = (entity: EntityName) => `curl 'http://localhost:8000/api/v1/${entity}?seed=42&limit=5&format=csv'`;

/** `GET /api/v1/<entity>` for every entity of the registry. */
export default async function entityRoutes(app: FastifyInstance, options: EntityRoutesOptions): Promise<void> {
  const errorRef = Type.Ref(ErrorSchema);
  app.addHook('onClose', retainPrecompute());

  for (const entity of ENTITY_NAMES) {
    const definition: EntityDefinition = ENTITIES[entity];
    const paramNames = Object.keys(definition.params ?? {});
    const querystring = listQuerySchema(options.maxLimit, options.defaultLimit, definition.params, definition.bulkIndex);
    const itemRef = Type.Ref(definition.schema);
    const wholePage = Math.max(WHOLE_PAGE, Math.min(options.defaultLimit, 10 * WHOLE_PAGE));
    app.get(
      `/api/v1/${entity}`,
      {
        compress: COMPRESSION,
        // A GET has no body to decompress: no preParsing hook per request.
        decompress: false,
        // Small seeded pages are kept and answered again (src/plugins/page-cache.ts).
        config: { pageCache: true },
        schema: {
          tags: [definition.group],
          summary: definition.summary,
          description: `${definition.description}\n\nRecords stream in any format; record i is the same whatever the page, format or field selection. Example: \`${exampleValue(entity)}\``,
          querystring,
          response: {
            200: {
              description: `A page of ${entity}. Headers: X-Total-Count (population), X-Seed, Link (first/prev/next/last), Content-Disposition for csv/ndjson/xml.`,
              headers: {
                'X-Total-Count': { type: 'integer', description: `Population of ${entity} in this world` },
                'X-Seed': { type: 'integer', description: 'The seed of this world (drawn when not given)' },
                Link: { type: 'string', description: 'RFC 8288 links to the first, previous, next and last pages' },
                'X-Date-Window': { type: 'string', description: 'The dates the records cover, <start>/<end> (ISO 8601, end exclusive), relative dates such as end_date=today resolved: ask again with them for the same bytes' },
              },
              content: {
                'application/json': { schema: Type.Array(itemRef) },
                'application/x-ndjson': {
                  schema: Type.String({
                    description: definition.bulkIndex
                      ? 'One JSON record per line; with format=bulk, OpenSearch _bulk NDJSON: an action line {"index":{"_index":…,"_id":…}} before each record'
                      : 'One JSON record per line',
                  }),
                },
                'text/csv': { schema: Type.String({ description: 'RFC 4180 CSV with a header row' }) },
                'application/xml': { schema: Type.String({ description: `<${definition.xml.root}><${definition.xml.item}>…` }) },
                [PARQUET_CONTENT_TYPE]: { schema: Type.String({ format: 'binary', description: 'Apache Parquet with typed columns (docs/parquet.md); by format=parquet or this Accept type' }) },
              },
            },
            400: { description: 'A parameter is invalid; the message names it and says why', ...errorRef },
            422: { description: 'COST_BUDGET_EXCEEDED: the world is too large for this server (see docs/limits.md); the message names the parameter to lower', ...errorRef },
            503: {
              description:
                "PRECOMPUTE_FAILED: the world's background precomputation failed (e.g. out of memory) or the server is shutting down; RENDER_FAILED: the render threads of a large download failed before its first byte",
              ...errorRef,
            },
          },
        },
      },
      async (request: FastifyRequest<{ Querystring: ListQuery }>, reply: FastifyReply) => {
        const given = resolveRelativeDates(request.query);
        if (given.offset !== undefined && given.page !== undefined) {
          throw badParameter('page', 'use either offset or page, not both');
        }
        const problem = definition.queryProblem?.(given) ?? partitionProblem(given.partition, given.partitions);
        if (problem) throw badParameter(problem.parameter, problem.reason);
        const query = definition.resolveQuery ? definition.resolveQuery(given) : given;
        const { columns, projected } = columnsFor(entity, query.fields);
        const params = Object.fromEntries(
          paramNames.flatMap((name) => {
            const value = (query as Record<string, unknown>)[name];
            return value === undefined ? [] : [[name, value as number | string | boolean]];
          }),
        );
        const base = worldSpecFrom(query);
        // An entity may serve another locale by default (transactions: the UK store, en_GB).
        const spec = withLocaleAndParams(base, query.locale ?? definition.defaultLocale ?? base.locale, params);
        // Unseeded and rendered whole on this thread (with render threads, up to POOL_PAGE
        // records): a world no later request shares, kept out of the shared cache
        // (src/generators/world.ts). Larger pages keep the cached world: the render pool finds
        // the request's precomputed store through it.
        const pool = app.renderPool;
        const world = query.seed === undefined && (query.limit ?? options.defaultLimit) <= (pool ? POOL_PAGE : wholePage) ? World.fresh(spec) : World.of(spec);
        assertWithinBudget(costOf(world, entity), options.budget, query, entity);
        await whenPrepared(world, entity);
        const total = world.generator(entity).population;
        const limit = query.limit ?? options.defaultLimit;
        const pageStart = query.page !== undefined ? (query.page - 1) * limit : (query.offset ?? 0);
        const pageEnd = Math.min(total, pageStart + limit);
        // A partition is a contiguous part of the page asked for (src/generators/partition.ts).
        const { partition, partitions } = query;
        const { start: offset, end } =
          partition !== undefined && partitions !== undefined ? partitionRange(pageStart, pageEnd, { partition, partitions }) : { start: pageStart, end: pageEnd };
        const chosen = chooseEntityFormat(query.format, request.headers.accept);
        const parquet = chosen === 'parquet';
        if (parquet && query.index !== undefined) throw badParameter('index', 'only applies with format=bulk');
        const format = FORMATS[parquet ? 'json' : chosen];
        const bulk = parquet ? undefined : bulkTarget(definition, format.name, query.index, columns);
        // The page as plain values: the route and the page cache's front (or a render worker,
        // for an unseeded URL) render a seed's page and headers with the same functions (src/render/page.ts).
        const plan: PagePlan = {
          spec,
          entity,
          format: format.name,
          columns,
          projected,
          ...(bulk && { bulk }),
          offset,
          end,
          total,
          url: pinRelativeDates(request.url, request.query, given),
          pageStart,
          limit,
          byPage: query.page !== undefined,
        };
        reply.headers({ 'x-total-count': total, ...seedHeaders(plan, world) });
        if (partitions !== undefined) reply.header('X-Partition-Range', `${offset}-${end}`);
        // Each slice of a partitioned download has its own file name (curl -OJ would not overwrite the first).
        const part = partSuffix(partition, partitions);
        if (parquet) {
          reply.type(PARQUET_CONTENT_TYPE).header('Content-Disposition', attachment(entity, world.seed, `${part}.${PARQUET_EXTENSION}`));
          // Large files are encoded on a render worker (src/render/parquet.ts).
          const file = parquetFile(app.renderPool, spec, entity, { start: offset, end }, columns, projected, () => recordsOf(world, entity, offset, end, projected ? columns : null));
          return reply.send(file.body);
        }
        reply.type(format.contentType);
        if (format.name !== 'json') {
          reply.header('Content-Disposition', attachment(entity, world.seed, `${part}.${format.extension}`));
        }
        const context = planContext(plan);
        const records = () => recordsOf(world, entity, offset, end, projected ? columns : null);
        /** The page's batches for the render threads (gzip: each deflated there, see src/render/gzip.ts). */
        function* tasks(gzip?: BatchTask['gzip']): Generator<BatchTask> {
          for (let start = offset; start < end; start += PARALLEL_BATCH) {
            const stop = Math.min(end, start + PARALLEL_BATCH);
            const locations = servedLocations(world, entity, start, stop);
            yield { spec, entity, format: format.name, columns, projected, start, end: stop, first: start === offset, ...(locations && { locations }), ...(gzip && { gzip }) };
          }
        }
        // Bulk renders on this thread: a worker's batch context carries no index.
        const onPool = pool && !bulk ? pool : undefined;
        if (end - offset <= wholePage) {
          // A pure function of the request when seeded and no relative date was resolved against the clock.
          const pure = given === request.query;
          reply.pageCacheable = query.seed !== undefined && pure;
          // Larger whole pages: rendered on the render threads, sent whole (see POOL_PAGE).
          if (onPool && end - offset > POOL_PAGE) return reply.send(await pooledPage(onPool, format.open(context), tasks(), format.close(context, false)));
          // Unseeded: the same URL's page for any other seed, for the page cache's front (src/plugins/page-cache.ts).
          if (query.seed === undefined && pure && preparedOnLoop(world, entity)) {
            reply.pageTemplate = {
              render: (seed) => renderPage(plan, context, seed),
              encode: encodePage,
              plan,
            } satisfies PageTemplate;
          }
          return reply.send(planBytes(plan, context, world) ?? (await formatPage(format, context, records())));
        }
        if (!onPool || end - offset <= 2 * PARALLEL_BATCH) return reply.send(formatStream(format, context, records()));
        // Large responses: batches rendered on worker threads, streamed back in order; gzip, when
        // negotiated, several batches at once (src/render/gzip.ts).
        const gzip = takeGzip(request, reply, COMPRESSION.encodings);
        const [head, tail] = [format.open(context), format.close(context, false)];
        if (gzip) return reply.send(gzipJoined(orderedStream(onPool, '', tasks(gzip), '', 2 * onPool.size + 1), head, tail));
        return reply.send(orderedStream(onPool, head, tasks(), tail, 2 * onPool.size + 1));
      },
    );
  }
}

export { FORMAT_NAMES };
