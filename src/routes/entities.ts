import { Type } from '@sinclair/typebox';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { BulkTarget } from '../formats/bulk.js';
import { gzipSync, constants as zlibConstants } from 'node:zlib';
import { COMPRESSIBLE_TYPES, FORMATS, FORMAT_NAMES, MEDIA_TYPES, formatChunks, formatPage, formatStream, type FormatName, type RecordFormat } from '../formats/index.js';
import type { FormatContext } from '../formats/types.js';
import type { PageTemplate } from '../plugins/page-cache.js';
import { preparedOnLoop } from '../precompute/prepare.js';
import { ENTITIES, ENTITY_NAMES, type EntityDefinition, type EntityName } from '../generators/registry.js';
import { partitionProblem, partitionRange } from '../generators/partition.js';
import { World, type WorldParams, type WorldSpec } from '../generators/world.js';
import { PARQUET_CONTENT_TYPE, PARQUET_EXTENSION, parquetStream } from '../formats/parquet.js';
import { ApiError, badParameter } from '../plugins/errors.js';
import { formatContext, recordsOf, type BatchTask } from '../render/batch.js';
import { servedLocations, servedOrder } from '../generators/served-order.js';
import { writesColumns, type FieldSource } from '../formats/fields.js';
import { orderedStream } from '../render/pool.js';
import { ENTITY_GZIP_LEVEL, gzipJoined, takeGzip } from '../render/gzip.js';
import { ErrorSchema, listQuerySchema, type ListQuery } from '../schemas/query.js';
import { dateWindowHeader, resolveRelativeDates, worldSpecFrom } from './world-query.js';
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

/** The format: `format=` wins, then the first supported type in Accept, then JSON. */
export function chooseFormat(format: FormatName | undefined, accept: string | undefined): FormatName {
  if (format) return format;
  if (!accept) return 'json';
  const ranked = accept
    .split(',')
    .map((part, order) => {
      const [type = '', ...params] = part.trim().split(';');
      const q = params.map((p) => p.trim()).find((p) => p.startsWith('q='));
      return { type: type.trim().toLowerCase(), q: q ? Number(q.slice(2)) : 1, order };
    })
    .filter((m) => m.q > 0)
    .sort((a, b) => b.q - a.q || a.order - b.order);
  for (const { type } of ranked) {
    const match = MEDIA_TYPES[type];
    if (match) return match;
  }
  return 'json';
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

/** Values no query holds: `=` inside a value is percent-encoded, so `key=` + these occur only where set. */
const LINK_SLOT = 'ecomgen-link-slot';
const SEED_SLOT = 'ecomgen-seed-slot';

/** Link templates by request URL (see linkTemplate); a few hundred, dropped whole when full. */
const linkTemplates = new Map<string, readonly [before: string, between: string, after: string, seedFirst: boolean]>();
const LINK_TEMPLATES = 256;

/**
 * The request's URL as the Link header writes it, cut where the seed and the offset (or page)
 * go. The query is parsed and serialised once per distinct URL (WHATWG URL rules, so
 * percent-encoding is normalised as before): a small page spent ~7% of its CPU in `new URL`.
 */
function linkTemplate(url: string, byPage: boolean): readonly [string, string, string, boolean] {
  const cacheKey = (byPage ? 'p' : 'o') + url;
  let template = linkTemplates.get(cacheKey);
  if (!template) {
    const parsed = new URL(url, 'http://localhost');
    parsed.searchParams.set('seed', SEED_SLOT);
    const key = byPage ? 'page' : 'offset';
    parsed.searchParams.delete(byPage ? 'offset' : 'page');
    parsed.searchParams.set(key, LINK_SLOT);
    const text = `${parsed.pathname}${parsed.search}`;
    const seedAt = text.indexOf(`seed=${SEED_SLOT}`);
    const slotAt = text.indexOf(`${key}=${LINK_SLOT}`);
    const [first, second] = seedAt < slotAt ? [`seed=${SEED_SLOT}`, `${key}=${LINK_SLOT}`] : [`${key}=${LINK_SLOT}`, `seed=${SEED_SLOT}`];
    const [before = '', rest = ''] = text.split(first);
    const [between = '', after = ''] = rest.split(second);
    template = [before, between, after, seedAt < slotAt];
    if (linkTemplates.size >= LINK_TEMPLATES) linkTemplates.clear();
    linkTemplates.set(cacheKey, template);
  }
  return template;
}

/** RFC 8288 Link header: first, prev, next and last pages, each pinned to the same seed. */
function linkHeader(url: string, seed: number, offset: number, limit: number, total: number, byPage: boolean): string {
  const [before, between, after, seedFirst] = linkTemplate(url, byPage);
  const key = byPage ? 'page=' : 'offset=';
  const seedPart = `seed=${seed}`;
  const at = (start: number) => {
    const slot = key + (byPage ? Math.floor(start / limit) + 1 : start);
    return seedFirst ? `<${before}${seedPart}${between}${slot}${after}>` : `<${before}${slot}${between}${seedPart}${after}>`;
  };
  const lastStart = total === 0 ? 0 : Math.floor((total - 1) / limit) * limit;
  let links = `${at(0)}; rel="first"`;
  if (offset > 0) links += `, ${at(Math.max(0, offset - limit))}; rel="prev"`;
  if (offset + limit < total) links += `, ${at(offset + limit)}; rel="next"`;
  return `${links}, ${at(lastStart)}; rel="last"`;
}

/** The dates a response covers (relative dates resolved): the world's window, or an entity's own range (performance-events). */
function dateWindowOf(world: World, entity: EntityName): string {
  const generator = world.generator(entity) as { rangeStart?: number; rangeEnd?: number };
  return generator.rangeStart !== undefined && generator.rangeEnd !== undefined
    ? dateWindowText(generator.rangeStart, generator.rangeEnd)
    : dateWindowText(world.window.start, world.window.end);
}

/** The last X-Date-Window written, kept: nearly every request has the default window (two toISOString calls saved). */
let lastWindow = { start: NaN, end: NaN, text: '' };
function dateWindowText(start: number, end: number): string {
  if (lastWindow.start !== start || lastWindow.end !== end) lastWindow = { start, end, text: dateWindowHeader(start, end) };
  return lastWindow.text;
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

/** The Content-Disposition of a download: analytics/users -> analytics-users-seed1.csv (`curl -OJ` keeps only the last path segment). */
function attachment(entity: EntityName, seed: number, suffix: string): string {
  return `attachment; filename="${entity.replace(/\//g, '-')}-seed${seed}${suffix}"`;
}

/** `spec` with another seed (written out: see withLocaleAndParams). */
function withSeed(spec: WorldSpec, seed: number): WorldSpec {
  const { sizes, locale, window, params, knobs } = spec;
  if (knobs === undefined) return params === undefined ? { seed, sizes, locale, window } : { seed, sizes, locale, window, params };
  return params === undefined ? { seed, sizes, locale, window, knobs } : { seed, sizes, locale, window, knobs, params };
}

/**
 * The whole text of a small page without yielding (what {@link formatPage} returns): for the
 * page cache's front, which answers in the server's request listener. Only pages of up to
 * 64 KB are answered there (a few milliseconds at most).
 */
function pageNow(format: RecordFormat, context: FormatContext, records: Iterable<object>): string {
  const chunks = formatChunks(format, context, records);
  let out = chunks.next() ?? '';
  while (!chunks.finished) out += chunks.next() ?? '';
  return out;
}

/**
 * Pages of up to this many records are written field by field straight into bytes, without
 * yielding, where the entity and format can be (src/formats/fields.ts): for a 10-user JSON page,
 * a fresh world and its page cost ~29 µs so against ~48 µs as record objects, text and its
 * encoding (docs/performance.md, "Eighth round"). Larger pages stay text written a chunk at a
 * time, yielding between chunks.
 */
const BYTE_PAGE = 100;
/** Bytes per row of the last page written as bytes, by entity and format: the next one reserves that much. */
const pageBytesPerRow = new Map<string, number>();

/** A small page as bytes written field by field (the same bytes as the format's text), or undefined when it cannot be. */
function pageBytes(world: World, entity: EntityName, format: RecordFormat, context: FormatContext, start: number, end: number): Buffer | undefined {
  if (end <= start || end - start > BYTE_PAGE || format.fieldRows === undefined) return undefined;
  const { fields } = world.generator(entity) as { fields?: FieldSource };
  if (fields === undefined || servedOrder(world, entity) !== undefined || !writesColumns(fields, context)) return undefined;
  const rows = format.fieldRows(context, true);
  const hint = `${entity} ${format.name}`;
  const open = format.open(context);
  const close = format.close(context, false);
  rows.reserve(Math.ceil((pageBytesPerRow.get(hint) ?? 1024) * (end - start) * 1.1) + 3 * (open.length + close.length) + 256);
  rows.raw(open);
  for (let i = start; i < end; i++) fields.write(i, rows);
  rows.raw(close);
  const page = rows.take();
  pageBytesPerRow.set(hint, (page.length - open.length - close.length) / (end - start));
  return page;
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
              },
            },
            400: { description: 'A parameter is invalid; the message names it and says why', ...errorRef },
            422: { description: 'COST_BUDGET_EXCEEDED: the world is too large for this server (see docs/limits.md); the message names the parameter to lower', ...errorRef },
            503: { description: "PRECOMPUTE_FAILED: the world's background precomputation failed (e.g. out of memory) or the server is shutting down", ...errorRef },
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
        // Unseeded and rendered whole on this thread: a world no later request shares, kept out of
        // the shared cache (src/generators/world.ts). Larger pages keep the cached world: the
        // render pool finds the request's precomputed store through it.
        const world = query.seed === undefined && (query.limit ?? options.defaultLimit) <= wholePage ? World.fresh(spec) : World.of(spec);
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
        const parquet = query.format === 'parquet';
        if (parquet && query.index !== undefined) throw badParameter('index', 'only applies with format=bulk');
        const format = FORMATS[chooseFormat(parquet ? 'json' : (query.format as FormatName | undefined), request.headers.accept)];
        const bulk = parquet ? undefined : bulkTarget(definition, format.name, query.index, columns);
        const { url } = request;
        const byPage = query.page !== undefined;
        /** The headers that name the world's seed (the page front fills them in for another seed). */
        const seedHeaders = (w: World): Record<string, string | number> => ({
          'x-seed': w.seed,
          'x-date-window': dateWindowOf(w, entity),
          link: linkHeader(url, w.seed, pageStart, limit, total, byPage),
        });
        reply.headers({ 'x-total-count': total, ...seedHeaders(world) });
        if (partitions !== undefined) reply.header('X-Partition-Range', `${offset}-${end}`);
        if (parquet) {
          const part = partitions !== undefined ? `-part${partition}of${partitions}` : '';
          reply.type(PARQUET_CONTENT_TYPE).header('Content-Disposition', attachment(entity, world.seed, `${part}.${PARQUET_EXTENSION}`));
          return reply.send(parquetStream(definition.schema, recordsOf(world, entity, offset, end, projected ? columns : null), { columns }));
        }
        reply.type(format.contentType);
        if (format.name !== 'json') {
          reply.header('Content-Disposition', attachment(entity, world.seed, `.${format.extension}`));
        }
        const context = bulk ? { ...formatContext(entity, columns), bulk } : formatContext(entity, columns);
        const recordsIn = (w: World) => recordsOf(w, entity, offset, end, projected ? columns : null);
        const records = () => recordsIn(world);
        /** The page as bytes, where the entity and format can write it so (see pageBytes). */
        const bytesIn = (w: World) => (projected || bulk ? undefined : pageBytes(w, entity, format, context, offset, end));
        if (end - offset <= wholePage) {
          // A pure function of the request when seeded and no relative date was resolved against the clock.
          const pure = given === request.query;
          reply.pageCacheable = query.seed !== undefined && pure;
          // Unseeded: the same URL's page for any other seed, for the page cache's front (src/plugins/page-cache.ts).
          if (query.seed === undefined && pure && preparedOnLoop(world, entity)) {
            const named = format.name !== 'json';
            reply.pageTemplate = {
              render: (seed) => {
                const other = World.fresh(withSeed(spec, seed));
                if (other.generator(entity).population !== total) return undefined;
                const headers = seedHeaders(other);
                if (named) headers['content-disposition'] = attachment(entity, other.seed, `.${format.extension}`);
                return { headers, body: bytesIn(other) ?? pageNow(format, context, recordsIn(other)) };
              },
              // What @fastify/compress writes for a small body (its synchronous path, these options);
              // the page cache checks it against the route's own answer before using it.
              encode: (coding, body) => (coding === 'gzip' ? gzipSync(body, COMPRESSION.zlibOptions) : undefined),
            } satisfies PageTemplate;
          }
          return reply.send(bytesIn(world) ?? (await formatPage(format, context, records())));
        }
        const pool = app.renderPool;
        // Bulk renders on this thread: a worker's batch context carries no index.
        if (!pool || end - offset <= 2 * PARALLEL_BATCH || bulk) return reply.send(formatStream(format, context, records()));
        // Large responses: batches rendered on worker threads, streamed back in order; gzip, when
        // negotiated, several batches at once (src/render/gzip.ts).
        const gzip = takeGzip(request, reply, COMPRESSION.encodings);
        function* tasks(): Generator<BatchTask> {
          for (let start = offset; start < end; start += PARALLEL_BATCH) {
            const stop = Math.min(end, start + PARALLEL_BATCH);
            const locations = servedLocations(world, entity, start, stop);
            yield { spec, entity, format: format.name, columns, projected, start, end: stop, first: start === offset, ...(locations && { locations }), ...(gzip && { gzip }) };
          }
        }
        const [head, tail] = [format.open(context), format.close(context, false)];
        if (gzip) return reply.send(gzipJoined(orderedStream(pool, '', tasks(), '', 2 * pool.size + 1), head, tail));
        return reply.send(orderedStream(pool, head, tasks(), tail, 2 * pool.size + 1));
      },
    );
  }
}

export { FORMAT_NAMES };
