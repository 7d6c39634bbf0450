import compress from '@fastify/compress';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import Fastify, { type FastifyInstance, type FastifyServerOptions } from 'fastify';
import { ENTITIES, ENTITY_NAMES } from './generators/registry.js';
import { COMPRESSIBLE_TYPES } from './formats/index.js';
import { DATA_VERSION } from './generators/world.js';
import panel from './plugins/panel.js';
import caching from './plugins/caching.js';
import errors, { errorServerOptions } from './plugins/errors.js';
import http, { requestIdServerOptions } from './plugins/http.js';
import metrics from './plugins/metrics.js';
import pageCache, { DEFAULT_PAGE_CACHE_BYTES, PageFront, keepPages } from './plugins/page-cache.js';
import renderPool from './plugins/render-pool.js';
import swagger from './plugins/swagger.js';
import { validationOptions } from './plugins/validation.js';
import entityRoutes from './routes/entities.js';
import eventRoutes from './routes/events.js';
import liveEventRoutes from './routes/live-events.js';
import healthRoutes from './routes/health.js';
import performanceRoutes from './routes/performance.js';
import manifestRoutes from './routes/manifest.js';
import sinkRoutes from './routes/sinks.js';
import streamRoutes from './routes/streams.js';
import { StreamManager } from './streams/jobs.js';
import type { FeedProvider } from './streams/source.js';
import type { SinkConfig } from './config.js';
import { DEFAULT_COST_BUDGET, type CostBudget } from './routes/cost.js';
import { warmPrecompute } from './precompute/prepare.js';
import { ErrorSchema } from './schemas/query.js';

export interface AppOptions {
  /** Largest `limit` a request may ask for (default 1,000,000). */
  maxLimit?: number;
  /** `limit` when none is given (default 1,000). */
  defaultLimit?: number;
  logger?: FastifyServerOptions['logger'];
  /**
   * Worker threads rendering large responses (default 0 here: everything on the main thread, as
   * tests expect; the server starts `defaultRenderThreads()`, one per processor, at most 4). The
   * bytes are the same either way (docs/performance.md).
   */
  renderThreads?: number;
  /**
   * Where the sinks may send records, and the API key (see src/config.ts). Default: none
   * configured; the server reads it from the environment with loadConfig().
   */
  sinks?: SinkConfig;
  /** Sink jobs running at once; the others wait as `queued` (MAX_RUNNING_JOBS, default 4). */
  maxRunningJobs?: number;
  /** Sink jobs that may wait as `queued`; beyond, a new job is a 429 (MAX_QUEUED_JOBS, default 100). */
  maxQueuedJobs?: number;
  /** How long `DELETE /api/v1/jobs/{id}` and `/streams/{id}` wait for the end before answering 202 (default 30 s; tests shorten it). */
  cancelWaitMs?: number;
  /** Streams running at once; beyond, a new stream is a 429 (MAX_STREAMS, default 32). */
  maxStreams?: number;
  /** Origins allowed by CORS (default any: `['*']`); see src/plugins/http.ts. */
  corsOrigins?: readonly string[];
  /** The change feed streams play (default: the service's own; tests give a deterministic one). */
  feed?: FeedProvider;
  /**
   * The most one request may cost before its first row (estimated precomputation time and
   * memory; see docs/limits.md). Default 30 s and 256 MB; over it, 422 COST_BUDGET_EXCEEDED.
   */
  costBudget?: Partial<CostBudget>;
  /** Bytes kept by the cache of small seeded responses (default 32 MB; 0 turns it off; src/plugins/page-cache.ts). */
  pageCacheBytes?: number;
  /**
   * Render unseeded small pages ahead on the render pool's page thread (default false here; the
   * server turns it on unless PAGE_AHEAD=0; needs the page cache and render threads; src/plugins/page-cache.ts `PAGE_AHEAD`, docs/performance.md).
   */
  pageAhead?: boolean;
  /**
   * Start the precompute threads when the app is ready instead of at the first request that
   * needs them (default false; the server sets it: a thread's start was most of the slowest
   * analytics first byte). Tests leave it off: each app would start two threads.
   */
  warmPrecompute?: boolean;
  /**
   * Large NDJSON pages of the change feed render their clickstream on the render threads
   * (src/events/split.ts; default false). ~1.2-1.3x the events/s on two cores, at ~100-150 MB
   * more peak memory while a whole feed streams (docs/events.md): off by default, so a whole
   * feed stays within 1.2x a small page's memory.
   */
  feedSplit?: boolean;
}

declare module 'fastify' {
  interface FastifyInstance {
    /** Binds the other addresses of the host name `listen` was given (see PageFront.listenAlso); call after listen. */
    listenAlso(host: string): Promise<void>;
    /** Ends every connection of every listening address (the shutdown's cut: responses still streaming are ended). */
    cutConnections(): void;
  }
}

export const DEFAULT_MAX_LIMIT = 1_000_000;
export const DEFAULT_LIMIT = 1000;

/** Builds the service: plugins and routes, nothing else (no listen, no process state). */
export async function buildApp(options: AppOptions = {}): Promise<FastifyInstance> {
  const maxLimit = options.maxLimit ?? DEFAULT_MAX_LIMIT;
  const defaultLimit = Math.min(options.defaultLimit ?? DEFAULT_LIMIT, maxLimit);
  const budget: CostBudget = { ...DEFAULT_COST_BUDGET, ...options.costBudget };
  const pageCacheBytes = options.pageCacheBytes ?? DEFAULT_PAGE_CACHE_BYTES;
  // With the page cache on, the app's HTTP server answers kept pages before Fastify (src/plugins/page-cache.ts).
  const front = pageCacheBytes > 0 ? new PageFront() : undefined;
  const app = Fastify({
    logger: options.logger ?? false,
    ...(front && { serverFactory: front.serverFactory }),
    // Unknown query parameters are errors, not silently dropped: a typo must not change the data.
    // Query strings are coerced and must be finite, bodies are not coerced (src/plugins/validation.ts).
    ...validationOptions,
    ...errorServerOptions,
    ...requestIdServerOptions,
  }).withTypeProvider<TypeBoxTypeProvider>();

  app.addSchema(ErrorSchema);
  for (const name of ENTITY_NAMES) app.addSchema(ENTITIES[name].schema);

  await app.register(errors);
  // First of the request hooks: a kept small page is answered before the others run.
  await app.register(pageCache, front ? { maxBytes: pageCacheBytes, front, ahead: options.pageAhead ?? false } : { maxBytes: pageCacheBytes });
  // After listen: the host name's other addresses (Fastify binds them itself only for a server it makes).
  app.decorate('listenAlso', async (host: string) => front?.listenAlso(app.server, host));
  app.decorate('cutConnections', () => {
    app.server.closeAllConnections();
    for (const other of front?.others ?? []) other.closeAllConnections();
  });
  // Every answer names the data version its bytes belong to (a seed + this version = the same bytes).
  await app.register(http, { corsOrigins: options.corsOrigins ?? ['*'], headers: { 'X-Data-Version': String(DATA_VERSION) } });
  await app.register(swagger);
  await app.register(compress, { encodings: ['br', 'gzip', 'deflate'], customTypes: COMPRESSIBLE_TYPES });
  // After compress, so its onSend sees the content coding (the ETag names it).
  await app.register(caching);
  await app.register(metrics);
  // After caching and compress: it keeps the headers they set.
  await app.register(keepPages);
  await app.register(renderPool, { threads: options.renderThreads ?? 0 });
  await app.register(panel);
  await app.register(healthRoutes);
  await app.register(entityRoutes, { maxLimit, defaultLimit, budget });
  if (options.warmPrecompute) {
    app.addHook('onReady', async () => {
      warmPrecompute();
      // The render threads too: the first large response no longer pays their start.
      app.renderPool?.warm();
    });
  }
  await app.register(performanceRoutes);
  await app.register(manifestRoutes, { budget });
  await app.register(eventRoutes, { split: options.feedSplit ?? false, budget });
  await app.register(liveEventRoutes);
  // One set of streams for the streams routes and the jobs list (streams are jobs too).
  const streams = new StreamManager(app.log);
  // Unset options stay undefined: each route takes its default for them.
  const { maxRunningJobs, maxQueuedJobs, cancelWaitMs, maxStreams, feed } = options;
  await app.register(sinkRoutes, { config: options.sinks ?? {}, budget, streams, maxRunningJobs, maxQueuedJobs, cancelWaitMs });
  await app.register(streamRoutes, { config: options.sinks ?? {}, streams, budget, feed, maxStreams, cancelWaitMs });
  return app;
}
