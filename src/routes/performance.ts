import { Type, type TSchema } from '@sinclair/typebox';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { FORMATS, FORMAT_NAMES, formatStream, type FormatName } from '../formats/index.js';
import { isoMillis, performanceQuery, performanceQueryProblem, type PerformanceEventGenerator } from '../generators/performance-events.js';
import { ENTITIES } from '../generators/registry.js';
import { World } from '../generators/world.js';
import { badParameter } from '../plugins/errors.js';
import { indexMappingOf } from '../schemas/mapping.js';
import { PerformanceIncidentSchema, PerformanceParams } from '../schemas/performance-event.js';
import { OneOf } from '../schemas/common.js';
import { ErrorSchema, WorldQueryFields } from '../schemas/query.js';
import { chooseFormat } from './negotiate.js';
import { resolveRelativeDates, worldSpecFrom, type WorldParams as WorldQuery } from './world-query.js';
import { retainPrecompute, whenPrepared } from './cost.js';

const ENTITY = 'performance-events';
const definition = ENTITIES[ENTITY];
const BASE = `/api/v1/${ENTITY}`;

/** Incidents of one world are few (2-3 a day, at most 24 x 90): a page may hold them all. */
const MAX_INCIDENTS = 24 * 90;

/** The world and entity parameters plus paging and format, like every list endpoint; all optional. */
const IncidentsQuery = Type.Object(
  Object.fromEntries(
    Object.entries({
      ...WorldQueryFields,
      ...PerformanceParams,
      limit: Type.Integer({ minimum: 1, maximum: MAX_INCIDENTS, default: MAX_INCIDENTS, description: `Incidents to return (1-${MAX_INCIDENTS}; default all).` }),
      offset: Type.Integer({ minimum: 0, description: 'Index of the first incident.', examples: [0] }),
      format: OneOf<FormatName>(FORMAT_NAMES, 'Output format; overrides the Accept header. Default json (an array).'),
    } as Record<string, TSchema>).map(([name, schema]) => [name, Type.Optional(schema)]),
  ),
  { additionalProperties: false },
);
const PAGING = new Set(['limit', 'offset', 'format']);

// The incident schema without its $id, inlined into the response schema.
const { $id: _incidentId, ...Incident } = PerformanceIncidentSchema;

const INCIDENT_COLUMNS = Object.keys(PerformanceIncidentSchema.properties);
const INCIDENT_CONTEXT = { columns: INCIDENT_COLUMNS, root: 'incidents', item: 'incident', schema: PerformanceIncidentSchema };

const MappingResponse = Type.Object(
  {
    mappings: Type.Object({
      dynamic: Type.Literal('strict'),
      properties: Type.Record(Type.String(), Type.Unknown(), { description: 'One field per document field: type date, keyword, text, long, float…' }),
    }),
  },
  { description: 'Body for PUT /<index>' },
);

const errorRef = Type.Ref(ErrorSchema);
const example = (path: string) => `curl 'http://localhost:8000${BASE}${path}'`;

/**
 * The companions of `GET /api/v1/performance-events` for search demos: the OpenSearch index
 * mapping of its documents, and the ground-truth list of incidents of a world.
 */
export default async function performanceRoutes(app: FastifyInstance): Promise<void> {
  app.addHook('onClose', retainPrecompute());
  const mapping = indexMappingOf(definition.schema);

  app.get(
    `${BASE}/mapping`,
    {
      schema: {
        tags: [definition.group],
        summary: 'OpenSearch index mapping of performance-events',
        description:
          'The index mapping for the documents of /performance-events (and its `format=bulk` output), derived from the same schema: ' +
          '`@timestamp` is a date, ids, enums and codes are keywords, error messages text with a keyword sub-field, latencies and counts long, ' +
          'percentages float. `dynamic: strict`, so a document with an unexpected field is refused. Use it as the body of `PUT /<index>` ' +
          `before posting the bulk file. Example: \`${example('/mapping')} | curl -X PUT localhost:9200/ecommerce_performance_demo -H 'Content-Type: application/json' --data-binary @-\``,
        querystring: Type.Object({}, { additionalProperties: false }),
        response: { 200: MappingResponse, 400: { description: 'An unknown query parameter', ...errorRef } },
      },
    },
    async () => mapping,
  );

  app.get(
    `${BASE}/incidents`,
    {
      schema: {
        tags: [definition.group],
        summary: 'Ground-truth incidents of performance-events',
        description:
          'Every incident of the performance-events of the same world and parameters (seed, start_date, days, incidents_per_day, …), ' +
          'computed by the code that generates the events: type, active phase (started_at..ended_at), recovery (..recovery_ended_at), ' +
          'peak error rate, affected services (the only services whose events carry the incident_id), the error code and message of ' +
          'its errors, the root cause an investigation should find, and the index range of the events in its window ' +
          '(use as offset/limit). Like every list endpoint it pages with `limit`/`offset` and writes json (an array), ndjson, csv or xml; ' +
          'the range and the event count are in the X-Date-Window and X-Events-Count headers. ' +
          `Example: \`${example('/incidents?seed=42&days=2&format=csv')}\``,
        querystring: IncidentsQuery,
        response: {
          200: {
            description:
              'The incidents, in time order. Headers: X-Total-Count (incidents), X-Seed, X-Events-Count (events of the same query: X-Total-Count of /performance-events), X-Date-Window (the range start/end, ISO 8601, end exclusive).',
            headers: {
              'X-Total-Count': { type: 'integer', description: 'Incidents in this world' },
              'X-Seed': { type: 'integer', description: 'The seed of this world' },
              'X-Events-Count': { type: 'integer', description: 'Events in the range' },
              'X-Date-Window': { type: 'string', description: 'Range of the events: <start>/<end>, end exclusive' },
            },
            content: {
              'application/json': { schema: Type.Array(Incident as unknown as TSchema) },
              'application/x-ndjson': { schema: Type.String({ description: 'One incident per line' }) },
              'text/csv': { schema: Type.String({ description: 'RFC 4180 CSV with a header row; affected_services as a JSON array' }) },
              'application/xml': { schema: Type.String({ description: '<incidents><incident>…' }) },
            },
          },
          400: { description: 'A parameter is invalid; the message names it and says why', ...errorRef },
        },
      },
    },
    async (request: FastifyRequest<{ Querystring: Record<string, unknown> }>, reply: FastifyReply) => {
      const given = resolveRelativeDates(request.query);
      const problem = performanceQueryProblem(Object.fromEntries(Object.entries(given).filter(([name]) => !PAGING.has(name))));
      if (problem) throw badParameter(problem.parameter, problem.reason);
      const query = performanceQuery(given);
      const params = Object.fromEntries(
        Object.keys(PerformanceParams).flatMap((name) => {
          const value = query[name];
          return value === undefined ? [] : [[name, value as number]];
        }),
      );
      const world = World.of({ ...worldSpecFrom(query as WorldQuery), params });
      // The per-minute schedule of a new world, built on a precompute thread.
      await whenPrepared(world, ENTITY);
      const events = world.generator(ENTITY) as PerformanceEventGenerator;
      const incidents = events.incidents();
      const offset = (query.offset as number | undefined) ?? 0;
      const limit = (query.limit as number | undefined) ?? MAX_INCIDENTS;
      const format = FORMATS[chooseFormat(query.format as FormatName | undefined, request.headers.accept)];
      reply
        .header('X-Total-Count', incidents.length)
        .header('X-Seed', world.seed)
        .header('X-Events-Count', events.population)
        .header('X-Date-Window', `${isoMillis(events.rangeStart)}/${isoMillis(events.rangeEnd)}`)
        .type(format.contentType);
      if (format.name !== 'json') {
        reply.header('Content-Disposition', `attachment; filename="performance-incidents-seed${world.seed}.${format.extension}"`);
      }
      return reply.send(formatStream(format, INCIDENT_CONTEXT, incidents.slice(offset, offset + limit)));
    },
  );
}
