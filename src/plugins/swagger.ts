import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { FastifyInstance, FastifySchema } from 'fastify';
import fp from 'fastify-plugin';
import { ENTITIES, ENTITY_NAMES } from '../generators/registry.js';
import { EXAMPLE_RECORDS, EXAMPLE_SEED } from './openapi-examples.js';

const DESCRIPTION = `Realistic, reproducible e-commerce data: users, catalogue, orders and their lifecycle.

**One seed, one world.** Record *i* of an entity is a pure function of (seed, sizes, locale, date window, entity, *i*):
the same from every endpoint, page, format and field selection, on every machine. Every foreign key resolves to a record
of the referenced endpoint under the same world. Without \`seed\` one is drawn and returned in \`X-Seed\`.

**Formats.** \`format=json|ndjson|csv|xml\` or the Accept header. Responses stream; gzip when asked.

**Sinks.** \`POST /api/v1/sinks/{postgres|kafka|gcs|webhook|opensearch}\` pushes the same records to a destination
configured on the server, as a job with live progress (\`/api/v1/jobs\`) and statistics (\`/api/v1/stats\`). When the
server sets \`API_KEY\`, every POST and DELETE needs \`Authorization: Bearer <API_KEY>\`.`;

type Json = Record<string, unknown>;

const pascal = (text: string) =>
  text
    .split(/[^A-Za-z0-9]+/)
    .filter((w) => w !== '')
    .map((w) => w[0]!.toUpperCase() + w.slice(1))
    .join('');

/** Operation ids a generated client reads well: listOrders, getManifest, createKafkaJob, cancelJob. */
export function operationIdOf(method: string, url: string, returnsArray: boolean): string {
  const path = url.replace(/^\/api\/v1\/?/, '/');
  if (path === '/') return 'getIndex';
  const sink = /^\/sinks\/([a-z-]+)$/.exec(path);
  if (method === 'POST' && sink) return `create${pascal(sink[1]!)}Job`;
  const hasId = /\/:[^/]+$/.test(path);
  const words = pascal(path.replace(/\/:[^/]+/g, ''));
  const singular = hasId ? words.replace(/s$/, '') : words;
  if (method === 'GET') return `${hasId || !returnsArray ? 'get' : 'list'}${singular}`;
  if (method === 'DELETE') return `${hasId ? 'cancel' : 'reset'}${singular}`;
  return `${method.toLowerCase()}${singular}`;
}

const errorResponse = (description: string) => ({ description, $ref: 'Error' });

/**
 * Completes each route's documentation where it would otherwise be silent: an operationId, an
 * explicit `security: []` on open operations, and the error responses every route can give
 * (400 for a bad parameter, 404 for an unknown id, 413/415 for bodies, 500 for a bug).
 */
function completeRoute(schema: FastifySchema & Json, method: string, url: string): FastifySchema {
  const response = { ...((schema.response as Json | undefined) ?? {}) };
  const ok = response['200'] as Json | undefined;
  const okSchema = (ok?.content as Record<string, { schema?: Json }> | undefined)?.['application/json']?.schema ?? ok;
  const returnsArray = okSchema?.type === 'array';
  const add = (code: string, value: Json) => {
    if (response[code] === undefined) response[code] = value;
  };
  if (schema.querystring || schema.body || schema.params) add('400', errorResponse('A parameter is invalid; the message names it and says why'));
  if (schema.params) add('404', errorResponse('No such resource'));
  if (schema.body) {
    add('413', errorResponse('The body is larger than the server accepts'));
    add('415', errorResponse('The body is not application/json'));
  }
  if (method === 'GET' && ok) {
    add('406', errorResponse('Accept names no media type this endpoint offers (and no format= was given)'));
    const seeded = (schema.querystring as { properties?: Json } | undefined)?.properties?.seed !== undefined;
    if (seeded) {
      add('304', { description: 'Not modified: If-None-Match holds the ETag of this seeded response, which never changes' });
      response['200'] = {
        ...ok,
        headers: {
          ...((ok.headers as Json | undefined) ?? {}),
          ETag: { type: 'string', description: 'Strong ETag of a seeded request (absent without seed); send it in If-None-Match for a 304' },
          'Cache-Control': { type: 'string', description: '`public, max-age=86400` with a seed, `no-store` without (a seed is drawn per request)' },
          'X-Request-Id': { type: 'string', description: 'The request id (yours when sane, else a new UUID)' },
        },
      };
    }
  }
  add('500', errorResponse('A bug: the body carries the request id under which it was logged'));
  return {
    ...schema,
    description: (schema.description as string | undefined) ?? (schema.summary as string | undefined),
    operationId: (schema.operationId as string | undefined) ?? operationIdOf(method, url, returnsArray),
    security: (schema.security as unknown[] | undefined) ?? [],
    response,
  } as FastifySchema;
}

/** Entity name of each component schema ($id), to give its properties the example record's values. */
const ENTITY_OF_COMPONENT = new Map(ENTITY_NAMES.map((name) => [String((ENTITIES[name].schema as { $id?: string }).$id), name]));

/**
 * Puts generated records into the document: every entity property's example is the value of
 * record 0 of seed 42, every list's JSON example is that record, every sink POST has a body
 * that "Try it out" can send as it is.
 */
function addExamples(document: Json): Json {
  const components = (document.components as { schemas?: Record<string, Json> } | undefined)?.schemas ?? {};
  for (const [id, schema] of Object.entries(components)) {
    const entity = ENTITY_OF_COMPONENT.get(id);
    const record = entity ? EXAMPLE_RECORDS[entity] : undefined;
    const properties = schema.properties as Record<string, Json> | undefined;
    if (!record || !properties) continue;
    for (const [name, property] of Object.entries(properties)) {
      if (name in record) property.examples = [record[name]];
    }
  }
  const paths = (document.paths ?? {}) as Record<string, Record<string, Json>>;
  for (const [url, operations] of Object.entries(paths)) {
    const entity = url.replace(/^\/api\/v1\//, '');
    const record = EXAMPLE_RECORDS[entity];
    const json = ((operations.get?.responses as Record<string, Json> | undefined)?.['200']?.content as Record<string, Json> | undefined)?.['application/json'];
    if (record && json) json.example = [record];
    const sink = /^\/api\/v1\/sinks\/([a-z-]+)$/.exec(url);
    const body = ((operations.post?.requestBody as Json | undefined)?.content as Record<string, Json> | undefined)?.['application/json'];
    if (sink && body) body.example = { seed: EXAMPLE_SEED, entity: 'orders', limit: 100 };
  }
  return document;
}

/** OpenAPI document (at /docs/json) and Swagger UI (at /docs). */
export default fp(
  async (app: FastifyInstance) => {
    await app.register(swagger, {
      openapi: {
        openapi: '3.1.0',
        info: { title: 'ecomgen', version: '0.1.0', description: DESCRIPTION, license: { name: 'MIT', identifier: 'MIT' } },
        servers: [{ url: '/', description: 'This server' }],
        tags: [
          { name: 'Customers', description: 'People who shop' },
          { name: 'Catalogue', description: 'Categories, vendors, warehouses, products and stock' },
          { name: 'Orders', description: 'Orders, their lines, payments, shipments and returns' },
          { name: 'Engagement', description: 'Reviews, support tickets, promotions, wishlists and notifications' },
          { name: 'Supply', description: 'Shops, suppliers, and stock movements' },
          { name: 'Behaviour', description: 'Sessions, clickstream and UK store transactions' },
          { name: 'Observability', description: 'Service telemetry with incidents, for search and observability demos' },
          { name: 'Analytics', description: 'Aggregates computed from the records of the same world, and the ground-truth manifest' },
          { name: 'Events', description: "The world's change feed: every event in time order, replayable into its tables" },
          { name: 'Sinks', description: 'Push records to PostgreSQL, Kafka, Cloud Storage, a signed webhook or OpenSearch, as jobs' },
          { name: 'Streams', description: 'Play the change feed live or as a replay into Kafka or a signed webhook, at a rate, as long-running jobs' },
          { name: 'Service', description: 'Health and index' },
        ],
        components: {
          securitySchemes: {
            bearerAuth: { type: 'http', scheme: 'bearer', description: 'The API_KEY of the server; required on POST and DELETE only when API_KEY is set.' },
          },
        },
      },
      transform: ({ schema, url, route }) => {
        const method = [route.method].flat()[0] ?? 'GET';
        return { schema: schema ? completeRoute(schema as FastifySchema & Json, method, url) : schema, url };
      },
      transformObject: (document) => addExamples(('openapiObject' in document ? document.openapiObject : {}) as Json) as never,
      refResolver: {
        buildLocalReference: (json, _baseUri, _fragment, i) => (typeof json.$id === 'string' ? json.$id : `def-${i}`),
      },
    });
    await app.register(swaggerUi, {
      routePrefix: '/docs',
      uiConfig: { docExpansion: 'list', deepLinking: true, tryItOutEnabled: true, validatorUrl: null },
    });
  },
  { name: 'swagger' },
);
