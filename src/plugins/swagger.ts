import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';

const DESCRIPTION = `Realistic, reproducible e-commerce data: users, catalogue, orders and their lifecycle.

**One seed, one world.** Record *i* of an entity is a pure function of (seed, sizes, locale, date window, entity, *i*):
the same from every endpoint, page, format and field selection, on every machine. Every foreign key resolves to a record
of the referenced endpoint under the same world. Without \`seed\` one is drawn and returned in \`X-Seed\`.

**Formats.** \`format=json|ndjson|csv|xml\` or the Accept header. Responses stream; gzip when asked.

**Sinks.** \`POST /api/v1/sinks/{postgres|kafka|gcs|webhook|opensearch}\` pushes the same records to a destination
configured on the server, as a job with live progress (\`/api/v1/jobs\`) and statistics (\`/api/v1/stats\`). When the
server sets \`API_KEY\`, every POST and DELETE needs \`Authorization: Bearer <API_KEY>\`.`;

/** OpenAPI document (at /docs/json) and Swagger UI (at /docs). */
export default fp(
  async (app: FastifyInstance) => {
    await app.register(swagger, {
      openapi: {
        openapi: '3.0.3',
        info: { title: 'ecomgen', version: '0.1.0', description: DESCRIPTION },
        tags: [
          { name: 'Customers', description: 'People who shop' },
          { name: 'Catalogue', description: 'Categories, vendors, warehouses, products and stock' },
          { name: 'Orders', description: 'Orders, their lines, payments, shipments and returns' },
          { name: 'Engagement', description: 'Reviews, support tickets, promotions, wishlists and notifications' },
          { name: 'Supply', description: 'Shops, suppliers, and stock movements' },
          { name: 'Behaviour', description: 'Sessions, clickstream and UK store transactions' },
          { name: 'Observability', description: 'Service telemetry with incidents, for search and observability demos' },
          { name: 'Analytics', description: 'Aggregates computed from the records of the same world, and the ground-truth manifest' },
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
      refResolver: {
        buildLocalReference: (json, _baseUri, _fragment, i) => (typeof json.$id === 'string' ? json.$id : `def-${i}`),
      },
    });
    await app.register(swaggerUi, {
      routePrefix: '/docs',
      uiConfig: { docExpansion: 'list', deepLinking: true, tryItOutEnabled: true },
    });
  },
  { name: 'swagger' },
);
