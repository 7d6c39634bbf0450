import type { FastifyInstance } from 'fastify';
import { ENTITY_NAMES } from '../generators/registry.js';

/**
 * The requests {@link warmUp} makes: the OpenAPI document, every entity's small page, the formats
 * and the other locale on users and orders, the change feed and the manifest, each of a tiny
 * world (scale 0.01), so the world-level preparations they start cost little.
 */
export const WARM_UP_URLS: readonly string[] = [
  '/health',
  // The OpenAPI document is built at its first request (~260 ms), its YAML at its own (~1 s).
  '/docs/json',
  '/docs/yaml',
  ...ENTITY_NAMES.map((entity) => `/api/v1/${entity}?seed=1&scale=0.01&limit=3`),
  ...['csv', 'ndjson', 'xml'].flatMap((format) => ['users', 'orders'].map((entity) => `/api/v1/${entity}?seed=1&scale=0.01&limit=3&format=${format}`)),
  '/api/v1/users?seed=1&scale=0.01&limit=3&locale=en_GB',
  '/api/v1/events?seed=1&scale=0.01&limit=3',
  '/api/v1/events?seed=1&scale=0.01&limit=3&format=csv',
  '/api/v1/manifest?seed=1&scale=0.01',
];

/**
 * Answers one small request of each kind in process (`inject`) before the server listens.
 *
 * Why: V8 compiles a function when it is first called, and some tables are built at their
 * first use (e.g. a locale's name handles for e-mail addresses). On a fresh process the first
 * request of a kind paid for all of that at once, with the event loop held: the first `users`
 * page ~60 ms, the first `notifications` page ~160 ms, the first `/docs/json` ~260 ms and
 * `/docs/yaml` ~1 s (the OpenAPI document is built and cached then), so a `/health` probe, or any
 * other request, waited that long. Done before `listen`, nobody waits; it adds ~1-2 s of CPU
 * to the start. The requests leave no trace: request logs are off while they run and the
 * metrics are reset after them (`WARM_UP=0` skips it all).
 */
export async function warmUp(app: FastifyInstance): Promise<{ requests: number; failed: string[]; ms: number }> {
  const started = performance.now();
  const level = app.log.level;
  const failed: string[] = [];
  // Each request's logger is a child made when the request arrives, at the parent's level then.
  app.log.level = 'silent';
  try {
    for (const url of WARM_UP_URLS) {
      const response = await app.inject({ method: 'GET', url });
      if (response.statusCode !== 200) failed.push(`${url}: ${response.statusCode}`);
    }
  } finally {
    app.log.level = level;
  }
  await app.resetMetrics?.();
  return { requests: WARM_UP_URLS.length, failed, ms: Math.round(performance.now() - started) };
}
