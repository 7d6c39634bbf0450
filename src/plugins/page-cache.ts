import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { LRUCache } from 'lru-cache';
import type { OutgoingHttpHeaders } from 'node:http';

/** The default budget of the cache of small responses (PAGE_CACHE_MB). */
export const DEFAULT_PAGE_CACHE_BYTES = 32 * 1024 * 1024;
/** Responses up to this size are kept (a page of a few hundred records). */
export const PAGE_CACHE_MAX_BODY = 64 * 1024;

export interface PageCacheOptions {
  /** Bytes the cache may hold, bodies and headers (default 32 MB); 0 turns it off. */
  maxBytes?: number;
}

declare module 'fastify' {
  interface FastifyContextConfig {
    /** The route's small seeded responses may be kept and answered again (see src/plugins/page-cache.ts). */
    pageCache?: boolean;
  }
  interface FastifyInstance {
    /** What the cache of small responses holds: entries and bytes (both 0 when it is off). */
    pageCacheStats(): { entries: number; bytes: number };
  }
  interface FastifyReply {
    /**
     * Set by the route when this response is a pure function of the request: seeded, no
     * relative date (the clock would change it), rendered whole.
     */
    pageCacheable: boolean;
  }
}

/**
 * A kept response: every header as sent, in order (names and values in one flat list, the form
 * `writeHead` takes), with the slot of the per-request X-Request-Id (-1: none); the population (what
 * /metrics counts rows by), the query as validated, the body.
 */
interface Kept {
  head: (string | number | string[])[];
  requestIdAt: number;
  total: string | number | string[] | undefined;
  query: unknown;
  body: Buffer;
}

interface PageStore {
  cache: LRUCache<string, Kept>;
}

const STATE = Symbol('pageCache');
const STORE = Symbol('pageCacheStore');
type WithState = FastifyReply & { [STATE]?: string };
type WithStore = FastifyInstance & { [STORE]?: PageStore };

/**
 * A byte-bounded LRU cache of small seeded responses (status 200, body ≤ 64 KB), for routes
 * that opt in with `config: { pageCache: true }` and mark each cacheable reply
 * (`reply.pageCacheable = true`). Two plugins: this one, registered before the others, answers;
 * `keepPages`, registered after the plugins that set headers (caching, compression), keeps.
 *
 * Why: a seeded response is a pure function of the request and DATA_VERSION (that is what its
 * strong ETag says), and a small page's records are cheap next to what answering any request
 * through the whole route costs (validation, world lookup, headers, hooks: ~4× a hello-world
 * route's CPU). A repeated request is answered from the first onRequest hook, before the other
 * plugins' hooks, validation and the onSend hooks run: the kept status line, headers (all of
 * them, in the order sent, the request's own X-Request-Id in its place) and bytes are written
 * straight to the socket's response (`reply.hijack()`; the onResponse hooks, /metrics and the
 * request log, still run). The key is everything the response depends on: the URL, Accept
 * (format, 406), Accept-Encoding (content coding) and Origin (CORS). Requests with If-None-Match
 * (304) or X-No-Compression go through the route. Measured figures are in docs/performance.md.
 */
export default fp(
  async (app: FastifyInstance, options: PageCacheOptions) => {
    app.decorateReply('pageCacheable', false);
    const maxBytes = options.maxBytes ?? DEFAULT_PAGE_CACHE_BYTES;
    if (maxBytes <= 0) {
      app.decorate('pageCacheStats', () => ({ entries: 0, bytes: 0 }));
      return;
    }
    // Each entry counted as its body plus 1 KB for its key, headers and query.
    const cache = new LRUCache<string, Kept>({ maxSize: maxBytes, sizeCalculation: (kept) => kept.body.length + 1024 });
    app.decorate('pageCacheStats', () => ({ entries: cache.size, bytes: cache.calculatedSize }));
    (app as WithStore)[STORE] = { cache };

    // A callback hook, not an async one: no promise per request.
    app.addHook('onRequest', (request, reply, done) => {
      const headers = request.headers;
      if (request.method !== 'GET' || headers['if-none-match'] !== undefined || headers['x-no-compression'] !== undefined) return done();
      // Every GET is looked up (a route's config is not read here: request.routeOptions builds an
      // object per call); only the routes that opt in keep answers, so other URLs miss.
      const key = `${request.url}\n${headers.accept ?? ''}\n${headers['accept-encoding'] ?? ''}\n${headers.origin ?? ''}`;
      const kept = cache.get(key);
      if (kept === undefined) {
        (reply as WithState)[STATE] = key;
        return done();
      }
      // What reads the request after the response (metrics, logs): the validated query, the population.
      request.query = kept.query;
      if (kept.total !== undefined) reply.header('x-total-count', kept.total);
      const head = kept.head.slice();
      if (kept.requestIdAt >= 0) head[kept.requestIdAt] = request.id;
      reply.hijack();
      reply.raw.writeHead(200, head as unknown as OutgoingHttpHeaders);
      reply.raw.end(kept.body);
    });
  },
  { name: 'page-cache' },
);

/**
 * Keeps the small seeded responses `page-cache` answers: the last onSend hook of each route that
 * opts in, so the kept headers are the ones sent (ETag with its content coding, Content-Encoding).
 */
export const keepPages = fp(
  async (app: FastifyInstance) => {
    const store = (app as WithStore)[STORE];
    if (store === undefined) return;
    const { cache } = store;
    const keep = (request: FastifyRequest, reply: FastifyReply, payload: unknown, done: (err: null, payload: unknown) => void): void => {
      const key = (reply as WithState)[STATE];
      if (key !== undefined && reply.pageCacheable && reply.statusCode === 200 && (typeof payload === 'string' || Buffer.isBuffer(payload))) {
        const body = typeof payload === 'string' ? Buffer.from(payload) : payload;
        if (body.length <= PAGE_CACHE_MAX_BODY) {
          const head: Kept['head'] = [];
          let requestIdAt = -1;
          let sized = false;
          for (const [name, value] of Object.entries(reply.getHeaders())) {
            if (value === undefined) continue;
            if (name === 'x-request-id') requestIdAt = head.length + 1;
            sized ||= name === 'content-length';
            head.push(name, name === 'content-length' ? body.length : value);
          }
          // Fastify adds Content-Length after the onSend hooks, last, unless already set.
          if (!sized) head.push('content-length', body.length);
          cache.set(key, { head, requestIdAt, total: reply.getHeader('x-total-count'), query: request.query, body });
          return done(null, body);
        }
      }
      done(null, payload);
    };
    app.addHook('onRoute', (route) => {
      if ((route.config as { pageCache?: boolean } | undefined)?.pageCache !== true) return;
      route.onSend = [...[route.onSend ?? []].flat(), keep] as typeof route.onSend;
    });
  },
  { name: 'page-cache-keep', dependencies: ['page-cache', 'caching'] },
);
