import { Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import { ENTITY_NAMES } from '../generators/registry.js';

/** `GET /health` for load balancers and the container HEALTHCHECK; `GET /` as an index. */
export default async function healthRoutes(app: FastifyInstance): Promise<void> {
  app.get(
    '/health',
    {
      schema: {
        tags: ['Service'],
        summary: 'Liveness check',
        description: 'Answers 200 while the process serves requests. Needs no external service.',
        response: {
          200: Type.Object({
            status: Type.Literal('ok'),
            uptime_seconds: Type.Number({ examples: [12.3] }),
          }),
        },
      },
    },
    async () => ({ status: 'ok' as const, uptime_seconds: Math.round(process.uptime() * 10) / 10 }),
  );

  app.get(
    '/',
    {
      schema: {
        tags: ['Service'],
        summary: 'Index of the API',
        description: 'Where the docs and the control panel are, the endpoint of every entity, the manifest, the change feed, and the sink, stream, job and statistics endpoints.',
        response: {
          200: Type.Object({
            service: Type.String(),
            docs: Type.String(),
            openapi: Type.String(),
            panel: Type.String({ description: 'The control panel, for a browser' }),
            entities: Type.Record(Type.String(), Type.String()),
            manifest: Type.String({ description: "A world's ground truth: populations, CSV hashes, key sums" }),
            events: Type.String({ description: "The world's change feed" }),
            streams: Type.String({ description: 'The change feed played into a sink, live or as a replay' }),
            sinks: Type.String({ description: 'The sinks, and which are configured' }),
            jobs: Type.String(),
            stats: Type.String(),
          }),
        },
      },
    },
    async () => ({
      service: 'ecomgen',
      docs: '/docs',
      openapi: '/docs/json',
      panel: '/ui/',
      entities: Object.fromEntries(ENTITY_NAMES.map((n) => [n, `/api/v1/${n}`])),
      manifest: '/api/v1/manifest',
      events: '/api/v1/events',
      streams: '/api/v1/streams',
      sinks: '/api/v1/sinks',
      jobs: '/api/v1/jobs',
      stats: '/api/v1/stats',
    }),
  );
}
