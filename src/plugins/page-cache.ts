import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { LRUCache } from 'lru-cache';

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

/** A kept response: what the route and its hooks added to the headers, the query as validated, the body. */
interface Kept {
  headers: Record<string, string | number | string[]>;
  query: unknown;
  body: Buffer;
}

interface State {
  key: string | undefined;
  before: Record<string, unknown> | undefined;
}

const STATE = Symbol('pageCache');
type WithState = FastifyReply & { [STATE]?: State; pageCacheHit?: boolean };

/**
 * A byte-bounded LRU cache of small seeded responses (status 200, body ≤ 64 KB), for routes
 * that opt in with `config: { pageCache: true }` and mark each cacheable reply
 * (`reply.pageCacheable = true`).
 *
 * Why: a seeded response is a pure function of the request and DATA_VERSION (that is what its
 * strong ETag says), and a small page's records are cheap next to what answering any request
 * through the whole route costs (validation, world lookup, headers, hooks: ~4× a hello-world
 * route's CPU). A repeated request is answered from the route's first onRequest hook with the
 * headers the route and its hooks had added (the app-wide ones — X-Request-Id, security, CORS —
 * are set per request as always) and the same bytes. The key is everything the response
 * depends on: the URL, Accept (format, 406), Accept-Encoding (content coding) and Origin
 * (CORS). Requests with If-None-Match (304) or X-No-Compression go through the route.
 * Measured figures and the cache-missing figures are in docs/performance.md.
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

    const lookup = (request: FastifyRequest, reply: FastifyReply, done: () => void): void => {
      const headers = request.headers;
      if (request.method !== 'GET' || headers['if-none-match'] !== undefined || headers['x-no-compression'] !== undefined) return done();
      const key = `${request.url}\n${headers.accept ?? ''}\n${headers['accept-encoding'] ?? ''}\n${headers.origin ?? ''}`;
      const kept = cache.get(key);
      if (kept === undefined) {
        (reply as WithState)[STATE] = { key, before: reply.getHeaders() };
        return done();
      }
      (reply as WithState).pageCacheHit = true;
      // The validated query, for what reads it after the response (metrics, logs).
      request.query = kept.query;
      reply.headers(kept.headers).send(kept.body);
    };

    const keep = (request: FastifyRequest, reply: FastifyReply, payload: unknown, done: (err: null, payload: unknown) => void): void => {
      const state = (reply as WithState)[STATE];
      if (state?.key !== undefined && reply.pageCacheable && reply.statusCode === 200 && (typeof payload === 'string' || Buffer.isBuffer(payload))) {
        const body = typeof payload === 'string' ? Buffer.from(payload) : payload;
        if (body.length <= PAGE_CACHE_MAX_BODY) {
          const added: Kept['headers'] = {};
          for (const [name, value] of Object.entries(reply.getHeaders())) {
            if (value !== undefined && name !== 'x-request-id' && state.before?.[name] !== value) added[name] = value;
          }
          cache.set(state.key, { headers: added, query: request.query, body });
          return done(null, body);
        }
      }
      done(null, payload);
    };

    app.addHook('onRoute', (route) => {
      if ((route.config as { pageCache?: boolean } | undefined)?.pageCache !== true) return;
      // First among the route's own hooks (the app-wide ones have run), and the last onSend, so
      // the kept headers are the ones sent (ETag with its content coding, Content-Encoding).
      route.onRequest = [lookup, ...[route.onRequest ?? []].flat()] as typeof route.onRequest;
      route.onSend = [...[route.onSend ?? []].flat(), keep] as typeof route.onSend;
    });
  },
  { name: 'page-cache' },
);

/** Whether this reply was answered from the page cache (its route-level onSend hooks see the kept headers). */
export function answeredFromPageCache(reply: FastifyReply): boolean {
  return (reply as WithState).pageCacheHit === true;
}
