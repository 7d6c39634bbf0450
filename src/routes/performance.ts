import { Type, type TSchema } from '@sinclair/typebox';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { isoMillis, performanceQueryProblem, type PerformanceEventGenerator } from '../generators/performance-events.js';
import { ENTITIES } from '../generators/registry.js';
import { World } from '../generators/world.js';
import { badParameter } from '../plugins/errors.js';
import { indexMappingOf } from '../schemas/mapping.js';
import { PerformanceIncidentSchema, PerformanceParams } from '../schemas/performance-event.js';
import { ErrorSchema, WorldQueryFields } from '../schemas/query.js';
import { worldSpecFrom, type WorldParams as WorldQuery } from './world-query.js';

const ENTITY = 'performance-events';
const definition = ENTITIES[ENTITY];
const BASE = `/api/v1/${ENTITY}`;

/** The world and entity parameters, all optional; nothing else is accepted. */
const IncidentsQuery = Type.Object(
  Object.fromEntries(
    Object.entries({ ...WorldQueryFields, ...PerformanceParams } as Record<string, TSchema>).map(([name, schema]) => [name, Type.Optional(schema)]),
  ),
  { additionalProperties: false },
);

// The incident schema without its $id, inlined into the response schema.
const { $id: _incidentId, ...Incident } = PerformanceIncidentSchema;

const IncidentsResponse = Type.Object(
  {
    seed: Type.Integer({ description: 'The seed of this world', examples: [42] }),
    start: Type.String({ format: 'date-time', description: 'First moment of the range (start_date)', examples: ['2025-01-01T00:00:00.000Z'] }),
    end: Type.String({ format: 'date-time', description: 'End of the range, exclusive (start + days)', examples: ['2025-01-08T00:00:00.000Z'] }),
    days: Type.Integer({ examples: [7] }),
    events: Type.Integer({ description: 'Events in the range: X-Total-Count of /performance-events for the same query', examples: [17550373] }),
    incidents: Type.Array(Incident as unknown as TSchema),
  },
  { description: 'The ground truth of a performance-events world' },
);

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
          `(use as offset/limit). Example: \`${example('/incidents?seed=42&days=2')}\``,
        querystring: IncidentsQuery,
        response: {
          200: IncidentsResponse,
          400: { description: 'A parameter is invalid; the message names it and says why', ...errorRef },
        },
      },
    },
    async (request: FastifyRequest<{ Querystring: Record<string, unknown> }>, reply) => {
      const query = request.query;
      const problem = performanceQueryProblem(query);
      if (problem) throw badParameter(problem.parameter, problem.reason);
      const params = Object.fromEntries(
        Object.keys(PerformanceParams).flatMap((name) => {
          const value = query[name];
          return value === undefined ? [] : [[name, value as number]];
        }),
      );
      const world = World.of({ ...worldSpecFrom(query as WorldQuery), params });
      const events = world.generator(ENTITY) as PerformanceEventGenerator;
      reply.header('X-Seed', world.seed);
      return {
        seed: world.seed,
        start: isoMillis(events.rangeStart),
        end: isoMillis(events.rangeEnd),
        days: events.settings.days,
        events: events.population,
        incidents: events.incidents(),
      };
    },
  );
}
