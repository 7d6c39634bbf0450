import type { FastifyBaseLogger, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { LRUCache } from 'lru-cache';
import { randomInt } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type IncomingMessage, type Server, type ServerOptions, type ServerResponse } from 'node:http';
import { lookup } from 'node:dns/promises';
import { performance } from 'node:perf_hooks';
import { genReqId, requestLog } from './http.js';
import { rowsOf } from './metrics.js';
import { releasePage, type PageAhead, type RenderPool } from '../render/pool.js';
import type { PagePlan } from '../render/page.js';
import { headText, writeAnswer, type FlatHead, type HeadText } from './raw-head.js';

/** The default budget of the cache of small responses (PAGE_CACHE_MB). */
export const DEFAULT_PAGE_CACHE_BYTES = 32 * 1024 * 1024;
/** Responses up to this size are kept (a page of a few hundred records). */
export const PAGE_CACHE_MAX_BODY = 64 * 1024;

export interface PageCacheOptions {
  /** Bytes the cache may hold, bodies and headers (default 32 MB); 0 turns it off. */
  maxBytes?: number;
  /** The app's server front ({@link PageFront}), when the app was built with its `serverFactory`. */
  front?: PageFront;
  /** Render unseeded pages ahead on the render pool's page thread (see {@link PAGE_AHEAD}); off unless asked (the server asks by default). */
  ahead?: boolean;
}

declare module 'fastify' {
  interface FastifyContextConfig {
    /** The route's small seeded responses may be kept and answered again (see src/plugins/page-cache.ts). */
    pageCache?: boolean;
  }
  interface FastifyInstance {
    /** What the cache of small responses holds: entries and bytes, and the unseeded URLs' shapes the front answers from (all 0 when it is off). */
    pageCacheStats(): { entries: number; bytes: number; shapes: number };
    /**
     * The unseeded pages rendered ahead on the render threads (see {@link PageFront}): ready now
     * (answers and bytes), batches asked of the workers and not yet back, batches asked in all,
     * answers written from them.
     */
    pageAheadStats(): { ready: number; bytes: number; rendering: number; asked: number; served: number };
  }
  interface FastifyReply {
    /**
     * Set by the route when this response is a pure function of the request: seeded, no
     * relative date (the clock would change it), rendered whole.
     */
    pageCacheable: boolean;
    /**
     * Set by the route on an unseeded page rendered whole: how to render the same URL's page
     * for another seed, so the front may answer the URL's next requests itself (see keepPages).
     */
    pageTemplate: PageTemplate | null;
  }
}

/**
 * An unseeded page for any seed: what `render` returns is the body and the headers that
 * depend on the seed (lower-case names), exactly what the route sends for that seed; undefined
 * when this page cannot be rendered so for that seed (the route then answers it).
 */
export interface PageTemplate {
  render(seed: number): { headers: Readonly<Record<string, string | number>>; body: string | Uint8Array } | undefined;
  /** The body as the route's compression writes it with this content coding; undefined for a coding not reproduced here. */
  encode?(coding: string, body: Uint8Array): Buffer | undefined;
  /** The page as plain values, for a render worker to render the same pages ahead (src/render/page.ts). */
  plan?: PagePlan;
}

/**
 * The shape of an unseeded URL's answer (see keepPages): every header as sent, in order, with
 * the slots of the request id, of the seed's headers and of Content-Length; the page's template.
 */
interface Shape {
  head: FlatHead;
  requestIdAt: number;
  lengthAt: number;
  slots: [at: number, name: string][];
  /** The head as text around its slots (see src/plugins/raw-head.ts), or undefined when `writeHead` writes it. */
  text: HeadText | undefined;
  template: PageTemplate;
  route: string;
  rows: number;
  /** The content coding of the answers (compressed by the template's `encode`), or none. */
  coding: string | undefined;
  /**
   * When the request accepts a content coding, whether the route compresses depends on the
   * body's size (a threshold below, a synchronous-compression ceiling above): the front answers
   * only bodies whose size lies between the smallest and the largest the route was seen to
   * answer with this shape; others go to the route, which widens the range.
   */
  sizes: [min: number, max: number] | undefined;
  /** Set when the template could not render a seed: the URL is left to the route from then on. */
  dead: boolean;
  /** Answers rendered ahead on the page thread, each for its own new seed, used once (see {@link PAGE_AHEAD}). */
  ahead: PageAhead[];
  /** Batches of answers being rendered ahead for this shape. */
  asking: number;
  /** Answers the front wrote for this shape (rendering ahead starts after a few). */
  served: number;
  /** Set when rendering ahead failed or the shape was dropped: no more is asked for it. */
  stopped: boolean;
}

/**
 * Rendering ahead, off the main thread: for an unseeded URL the front answers often, the render
 * pool's page thread (a worker at a lower priority, `RenderPool.renderPages`) draws new seeds (`randomInt(0, 2 ** 32)`, the route's draw) and renders their pages and
 * headers in batches (src/render/page.ts, the route's own functions); the front takes one ready
 * answer per request, oldest first, and fills only the request id and Content-Length (Node adds
 * Date). Each answer is written once and dropped; with none ready the front renders inline as
 * before. A batch is asked only when a request takes an answer and leaves few, so a URL that
 * goes quiet asks for nothing more and an idle server renders nothing; the answers still ready
 * stay until used or the shape is dropped, within a budget of bytes over all shapes. Measured
 * in docs/performance.md ("Ninth round").
 */
export const PAGE_AHEAD = {
  /** Front answers of a shape before its pages are rendered ahead (a URL asked once or twice is not worth a batch). */
  after: 4,
  /** Answers rendered per batch: one message each way per batch (posting one cost the main thread several µs). */
  batch: 32,
  /**
   * Answers held or being rendered per shape: a batch is asked when a request leaves room for
   * one, so up to three batches are on their way at once (on a loaded machine one batch at a
   * time arrived too late: half the answers were rendered inline).
   */
  depth: 96,
  /** Bytes of ready answers over all shapes beyond which no batch is asked. */
  bytes: 2 * 1024 * 1024,
} as const;

/** Unseeded URLs whose answer's shape is kept (a few hundred bytes each, plus the answers rendered ahead). */
const SHAPES = 256;

/**
 * A kept response: every header as sent, in order (names and values in one flat list, the form
 * `writeHead` takes), with the slot of the per-request X-Request-Id (-1: none); the population (what
 * /metrics counts rows by), the query as validated, the body.
 */
interface Kept {
  head: FlatHead;
  requestIdAt: number;
  /** The head as text around the request id's slot (see src/plugins/raw-head.ts), or undefined when `writeHead` writes it. */
  text: HeadText | undefined;
  total: string | number | string[] | undefined;
  query: unknown;
  body: Buffer;
  /** The route pattern and records served, as /metrics counts them. */
  route: string;
  rows: number;
}

/** The cache key: everything a kept response depends on besides the URL's route (see the plugin). */
const keyOf = (url: string | undefined, headers: IncomingHttpHeaders): string =>
  `${url}\n${headers.accept ?? ''}\n${headers['accept-encoding'] ?? ''}\n${headers.origin ?? ''}`;

/** Whether a request may be answered from the cache: a GET that asks neither for a 304 nor for no compression. */
const answerable = (method: string | undefined, headers: IncomingHttpHeaders): boolean =>
  method === 'GET' && headers['if-none-match'] === undefined && headers['x-no-compression'] === undefined;

/**
 * Writes a kept response: its status line, every kept header in order with this request's id, its
 * body. The kept list is written over: `writeAnswer` reads it before it returns.
 */
function writeKept(res: ServerResponse, kept: Kept, requestId: string): void {
  if (kept.requestIdAt >= 0) kept.head[kept.requestIdAt] = requestId;
  writeAnswer(res, kept.head, kept.text, kept.body.length, kept.body);
}

/** Set on a request the front looked up and missed: its cache key (the onRequest hook need not build it again). */
const LOOKED_UP = Symbol('pageCacheKey');
type LookedUp = IncomingMessage & { [LOOKED_UP]?: string };

/** What an answer written by the front needs once it has been sent: counted in /metrics, logged. */
interface Answered {
  req: IncomingMessage;
  route: string;
  rows: number;
  bytes: number;
  id: string;
  start: number;
}
const ANSWERED = Symbol('pageCacheAnswered');
type WithAnswered = ServerResponse & { [ANSWERED]?: Answered };
const AHEAD = Symbol('pageCacheAhead');
type WithAhead = ServerResponse & { [AHEAD]?: PageAhead };

/** A response written from a page rendered ahead has closed: the page's body is no longer read (see releasePage). */
function closedAhead(this: WithAhead): void {
  const page = this[AHEAD];
  this[AHEAD] = undefined;
  if (page !== undefined) releasePage(page);
}

/**
 * The HTTP server of an app whose kept pages are answered before Fastify: its `serverFactory`
 * (Fastify's documented option) makes the `http.Server`, whose request listener answers a
 * page-cache hit itself (status, headers in order with the request's own X-Request-Id, body)
 * and hands everything else to Fastify's handler. A hit answered there skips Fastify's request
 * and reply objects, child logger, router and hook chain (a kept page cost ~2× a hello-world
 * route's CPU through the first onRequest hook; docs/performance.md, "Seventh round"); /metrics
 * and the request log count it through the same code as Fastify's answers
 * (`app.countAnswer`, `requestLog.requestCompleted`).
 *
 * Fastify gives the server it makes its timeouts; a factory's server gets them here. With a
 * factory, Fastify listens on the first address of a host name only (`HOST=localhost`: not
 * also ::1 where localhost resolves to both).
 */
export class PageFront {
  /** Answers a kept page (true) or leaves the request to Fastify (false); set while the app is ready and not closing. */
  answer: ((req: IncomingMessage, res: ServerResponse) => boolean) | undefined;

  /** Servers on the host name's other addresses (see {@link listenAlso}), closed with the app. */
  readonly others: Server[] = [];
  private made: { handler: (req: IncomingMessage, res: ServerResponse) => void; options: Record<string, unknown> } | undefined;

  readonly serverFactory = (handler: (req: IncomingMessage, res: ServerResponse) => void, options: Record<string, unknown>): Server => {
    this.made = { handler, options };
    const server = createServer((options.http ?? {}) as ServerOptions, (req, res) => {
      if (this.answer === undefined || !this.answer(req, res)) handler(req, res);
    });
    // What Fastify does to the server it makes (its defaults: keep-alive 72 s, the rest off);
    // the Keep-Alive header's timeout is part of every response's bytes.
    server.keepAliveTimeout = Number(options.keepAliveTimeout ?? 72_000);
    server.requestTimeout = Number(options.requestTimeout ?? 0);
    server.setTimeout(Number(options.connectionTimeout ?? 0));
    const perSocket = Number(options.maxRequestsPerSocket ?? 0);
    if (perSocket > 0) server.maxRequestsPerSocket = perSocket;
    return server;
  };

  /**
   * Listens on the host name's other addresses at the app's port, as Fastify does with a server
   * it makes (with a factory it binds the first address only): `HOST=localhost` answers on
   * 127.0.0.1 and on ::1 where localhost resolves to both. An address that cannot be bound is
   * skipped, as Fastify skips it.
   */
  async listenAlso(primary: Server, host: string): Promise<void> {
    const bound = primary.address();
    if (this.made === undefined || bound === null || typeof bound === 'string') return;
    const addresses = await lookup(host, { all: true }).catch(() => []);
    for (const { address } of addresses) {
      if (address === bound.address) continue;
      const server = this.serverFactory(this.made.handler, this.made.options);
      const listening = await new Promise<boolean>((resolve) => {
        server.once('error', () => resolve(false));
        server.listen(bound.port, address, () => resolve(true));
      });
      if (listening) this.others.push(server);
    }
  }
}

/** A kept answer's request as the request log reads it (Fastify's `req` serializer: method, url, headers, host, ip, socket). */
function loggedRequest(answered: Answered): FastifyRequest {
  const { req, id } = answered;
  return { id, method: req.method, url: req.url, headers: req.headers, host: req.headers.host, ip: req.socket.remoteAddress, socket: req.socket, raw: req } as unknown as FastifyRequest;
}

/** Counts and logs a kept answer the front wrote, once sent (Fastify runs its onResponse hooks on 'finish' too). */
function sent(this: WithAnswered, app: FastifyInstance): void {
  const answered = this[ANSWERED];
  if (answered === undefined) return;
  this[ANSWERED] = undefined;
  const { req } = answered;
  const elapsed = performance.now() - answered.start;
  app.countAnswer?.('GET', answered.route, 200, elapsed / 1000, answered.rows, req.socket, answered.bytes);
  // pino's level test; the no-op logger of an app without one has none (and writes nothing).
  const log = app.log as FastifyBaseLogger & { isLevelEnabled?: (level: string) => boolean };
  if (log.isLevelEnabled?.('info') === true) {
    const request = loggedRequest(answered);
    if (!requestLog.isLogDisabled(request)) {
      const reply = { log: log.child({ reqId: answered.id }), statusCode: 200, elapsedTime: elapsed } as unknown as FastifyReply;
      requestLog.requestCompleted(null, request, reply);
    }
  }
}

interface PageStore {
  cache: LRUCache<string, Kept>;
  /** The shapes of unseeded URLs' answers, when the app has the front (only it answers from them). */
  shapes: LRUCache<string, Shape> | undefined;
  /** Unseeded URLs whose answer has no shape (another content coding, a template that did not match): not tried again. */
  refused: LRUCache<string, true> | undefined;
}

/**
 * The shape's head with this answer's request id and seed headers in their slots (Content-Length
 * is the caller's). The shape's own list, written over: every slot is written for each answer,
 * and `writeAnswer` reads the list into the response's head before it returns (no copy a request).
 */
function fillHead(shape: Shape, headers: Readonly<Record<string, string | number>>, requestId: string): FlatHead {
  const head = shape.head;
  if (shape.requestIdAt >= 0) head[shape.requestIdAt] = requestId;
  for (const [at, name] of shape.slots) head[at] = headers[name] as string | number;
  return head;
}

/**
 * Answers an unseeded URL from its shape: a new random seed (as the route draws one), that
 * seed's page and headers in the shape's slots; the body's bytes. Undefined (nothing written)
 * when the page's size lies outside the sizes seen (the route decides), or when the template
 * cannot render the seed (the URL is then left to the route for good).
 */
function writeShaped(res: ServerResponse, shape: Shape, requestId: string): number | undefined {
  let page;
  let body: string | Uint8Array | undefined;
  try {
    page = shape.template.render(randomInt(0, 2 ** 32));
    body = page?.body;
    if (body !== undefined && shape.sizes !== undefined) {
      const size = typeof body === 'string' ? Buffer.byteLength(body) : body.length;
      // Outside the sizes seen: the route decides whether to compress (nothing written yet).
      if (size < shape.sizes[0] || size > shape.sizes[1]) return undefined;
      // A page written as bytes is encoded as it is (Buffer.from would copy it).
      if (shape.coding !== undefined) body = shape.template.encode?.(shape.coding, typeof body === 'string' ? Buffer.from(body) : body);
    }
  } catch {
    page = undefined;
  }
  if (page === undefined || body === undefined) {
    shape.dead = true;
    return undefined;
  }
  const head = fillHead(shape, page.headers, requestId);
  const bytes = typeof body === 'string' ? Buffer.byteLength(body) : body.length;
  head[shape.lengthAt] = bytes;
  writeAnswer(res, head, shape.text, bytes, body);
  return bytes;
}

/**
 * Answers an unseeded URL with an answer rendered ahead: its seed's headers in the shape's slots,
 * its body. Undefined (nothing written) when the page's size lies outside the sizes seen (the
 * route then answers with a seed of its own; this answer is dropped either way).
 */
function writeAhead(res: ServerResponse, shape: Shape, page: PageAhead, requestId: string): number | undefined {
  if (shape.sizes !== undefined && (page.size < shape.sizes[0] || page.size > shape.sizes[1])) return undefined;
  const head = fillHead(shape, page.headers, requestId);
  head[shape.lengthAt] = page.body.length;
  writeAnswer(res, head, shape.text, page.body.length, page.body);
  return page.body.length;
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
 * route's CPU). A repeated request is answered by the HTTP server's request listener, before
 * Fastify ({@link PageFront}; over HTTP), or else by the first onRequest hook (`app.inject`, an
 * app without the front), before the other plugins' hooks, validation and the onSend hooks
 * run: the kept status line, headers (all of them, in the order sent, the request's own
 * X-Request-Id in its place) and bytes are written straight to the Node response; /metrics and
 * the request log count it like any other answer. The key is everything the response depends on: the URL, Accept
 * (format, 406), Accept-Encoding (content coding) and Origin (CORS). Requests with If-None-Match
 * (304) or X-No-Compression go through the route. Measured figures are in docs/performance.md.
 */
export default fp(
  async (app: FastifyInstance, options: PageCacheOptions) => {
    app.decorateReply('pageCacheable', false);
    app.decorateReply('pageTemplate', null);
    const maxBytes = options.maxBytes ?? DEFAULT_PAGE_CACHE_BYTES;
    if (maxBytes <= 0) {
      app.decorate('pageCacheStats', () => ({ entries: 0, bytes: 0, shapes: 0 }));
      app.decorate('pageAheadStats', () => ({ ready: 0, bytes: 0, rendering: 0, asked: 0, served: 0 }));
      return;
    }
    // Each entry counted as its body plus 1 KB for its key, headers and query.
    const cache = new LRUCache<string, Kept>({ maxSize: maxBytes, sizeCalculation: (kept) => kept.body.length + 1024 });
    const front = options.front;
    const ahead = { ready: 0, bytes: 0, rendering: 0, asked: 0, served: 0 };
    /** Drops a shape's answers rendered ahead, and asks for no more (the shape was dropped, or the app is closing). */
    const stopAhead = (shape: Shape) => {
      shape.stopped = true;
      for (const page of shape.ahead.splice(0)) {
        ahead.ready--;
        ahead.bytes -= page.body.length;
        releasePage(page);
      }
    };
    const shapes = front === undefined ? undefined : new LRUCache<string, Shape>({ max: SHAPES, dispose: stopAhead });
    const refused = front === undefined ? undefined : new LRUCache<string, true>({ max: SHAPES });
    app.decorate('pageCacheStats', () => ({ entries: cache.size, bytes: cache.calculatedSize, shapes: shapes?.size ?? 0 }));
    app.decorate('pageAheadStats', () => ({ ...ahead }));
    (app as WithStore)[STORE] = { cache, shapes, refused };

    if (front !== undefined) {
      // The server's request listener answers hits once every plugin is in place (metrics), and
      // leaves every request to Fastify once the app is closing (Fastify answers them 503).
      app.addHook('onReady', (done) => {
        const onFinish = function (this: WithAnswered) {
          sent.call(this, app);
        };
        // Registered after this plugin; null without render threads (nothing is rendered ahead).
        const pool = options.ahead === true ? ((app as FastifyInstance & { renderPool?: RenderPool | null }).renderPool ?? null) : null;
        /** Asks the page thread for a batch of the shape's pages when a request has just taken one and few are left (see {@link PAGE_AHEAD}). */
        const refill = (shape: Shape) => {
          if (pool === null || shape.template.plan === undefined || shape.stopped || shape.dead) return;
          if (shape.served < PAGE_AHEAD.after || shape.ahead.length + (shape.asking + 1) * PAGE_AHEAD.batch > PAGE_AHEAD.depth || ahead.bytes >= PAGE_AHEAD.bytes) return;
          shape.asking++;
          ahead.asked++;
          ahead.rendering++;
          pool.renderPages(shape.template.plan, shape.coding, PAGE_AHEAD.batch, (pages) => {
            shape.asking--;
            ahead.rendering--;
            if (pages instanceof Error) {
              shape.stopped = true;
              return;
            }
            if (pages === undefined) {
              // The plan cannot render a seed: the route answers the URL, its answers are dropped.
              shape.dead = true;
              stopAhead(shape);
            }
            if (pages === undefined || shape.stopped || shape.dead) {
              for (const page of pages ?? []) releasePage(page);
              return;
            }
            for (const page of pages) {
              shape.ahead.push(page);
              ahead.ready++;
              ahead.bytes += page.body.length;
            }
          });
        };
        front.answer = (req, res) => {
          const headers = req.headers;
          if (!answerable(req.method, headers)) return false;
          const key = keyOf(req.url, headers);
          const kept = cache.get(key);
          if (kept === undefined) {
            const shape = shapes?.get(key);
            if (shape !== undefined && !shape.dead) {
              const start = performance.now();
              const id = genReqId(req);
              const page = shape.ahead.shift();
              let bytes;
              if (page !== undefined) {
                ahead.ready--;
                ahead.bytes -= page.body.length;
                bytes = writeAhead(res, shape, page, id);
                if (bytes === undefined) releasePage(page);
                else {
                  ahead.served++;
                  // Its body is read until the response closes (sent, or the connection gone).
                  if (page.batch !== undefined) {
                    (res as WithAhead)[AHEAD] = page;
                    res.on('close', closedAhead);
                  }
                }
              } else bytes = writeShaped(res, shape, id);
              if (bytes !== undefined) shape.served++;
              refill(shape);
              if (bytes !== undefined) {
                (res as WithAnswered)[ANSWERED] = { req, route: shape.route, rows: shape.rows, bytes, id, start };
                res.on('finish', onFinish);
                return true;
              }
            }
            (req as LookedUp)[LOOKED_UP] = key;
            return false;
          }
          const start = performance.now();
          const id = genReqId(req);
          writeKept(res, kept, id);
          (res as WithAnswered)[ANSWERED] = { req, route: kept.route, rows: kept.rows, bytes: kept.body.length, id, start };
          res.on('finish', onFinish);
          return true;
        };
        done();
      });
      app.addHook('preClose', (done) => {
        front.answer = undefined;
        for (const shape of shapes?.values() ?? []) stopAhead(shape);
        // Fastify closes the server it was given; the ones on the other addresses close here.
        for (const server of front.others.splice(0)) {
          server.close();
          server.closeIdleConnections();
        }
        done();
      });
    }

    // A callback hook, not an async one: no promise per request. It answers what the front did
    // not see (app.inject, an app built without the front) and notes the key of a miss.
    app.addHook('onRequest', (request, reply, done) => {
      const looked = (request.raw as LookedUp)[LOOKED_UP];
      if (looked !== undefined) {
        (reply as WithState)[STATE] = looked;
        return done();
      }
      const headers = request.headers;
      if (!answerable(request.method, headers)) return done();
      // Every GET is looked up (a route's config is not read here: request.routeOptions builds an
      // object per call); only the routes that opt in keep answers, so other URLs miss.
      const key = keyOf(request.url, headers);
      const kept = cache.get(key);
      if (kept === undefined) {
        (reply as WithState)[STATE] = key;
        return done();
      }
      // What reads the request after the response (metrics, logs): the validated query, the population.
      request.query = kept.query;
      if (kept.total !== undefined) reply.header('x-total-count', kept.total);
      reply.hijack();
      writeKept(reply.raw, kept, request.id);
    });
  },
  { name: 'page-cache' },
);

/**
 * The shape of an unseeded page's answer, for the front to answer the same URL again with
 * another seed: kept only when the page is sent as it was rendered (status 200, no content
 * coding), small, and its template renders this answer's seed to the same body and the same
 * values of the seed's headers, each of them among the headers sent. A URL is answered by the
 * route the first time, by the front after (answered there, an unseeded `users?limit=10` skips
 * Fastify's routing, validation and hooks: docs/performance.md, "Eighth round").
 */
function shapeOf(request: FastifyRequest, reply: FastifyReply, template: PageTemplate, payload: string | Buffer): Shape | undefined {
  const coding = reply.getHeader('content-encoding');
  if (reply.statusCode !== 200 || (coding !== undefined && typeof coding !== 'string') || payload.length > PAGE_CACHE_MAX_BODY) return undefined;
  const seed = Number(reply.getHeader('x-seed'));
  if (!Number.isInteger(seed)) return undefined;
  const page = template.render(seed);
  if (page === undefined) return undefined;
  const raw = Buffer.from(page.body);
  const sent = coding === undefined ? raw : template.encode?.(coding, raw);
  if (sent === undefined || !sent.equals(Buffer.from(payload))) return undefined;
  const head: FlatHead = [];
  const slots: Shape['slots'] = [];
  let requestIdAt = -1;
  let lengthAt = -1;
  for (const [name, value] of Object.entries(reply.getHeaders())) {
    if (value === undefined) continue;
    if (name === 'x-request-id') requestIdAt = head.length + 1;
    else if (name === 'content-length') lengthAt = head.length + 1;
    else if (name in page.headers) {
      if (String(page.headers[name]) !== String(value)) return undefined;
      slots.push([head.length + 1, name]);
    }
    head.push(name, value);
  }
  if (slots.length !== Object.keys(page.headers).length) return undefined;
  // Fastify adds Content-Length after the onSend hooks, last, unless already set.
  if (lengthAt < 0) {
    lengthAt = head.length + 1;
    head.push('content-length', 0);
  }
  const sizes: Shape['sizes'] = request.headers['accept-encoding'] === undefined ? undefined : [raw.length, raw.length];
  const text = headText(head, [lengthAt, ...(requestIdAt >= 0 ? [requestIdAt] : []), ...slots.map(([at]) => at)]);
  return { head, requestIdAt, lengthAt, slots, text, template, route: request.routeOptions.url ?? 'unmatched', rows: rowsOf(request, reply), coding, sizes, dead: false, ahead: [], asking: 0, served: 0, stopped: false };
}

/** Whether two shapes write the same headers in the same order (the slots' values aside). */
function sameHead(a: Shape, b: Shape): boolean {
  if (a.head.length !== b.head.length || a.lengthAt !== b.lengthAt || a.requestIdAt !== b.requestIdAt) return false;
  const slots = new Set([a.lengthAt, a.requestIdAt, ...a.slots.map(([at]) => at)]);
  return a.head.every((value, k) => slots.has(k) || String(value) === String(b.head[k]));
}

/**
 * Keeps the small seeded responses `page-cache` answers: the last onSend hook of each route that
 * opts in, so the kept headers are the ones sent (ETag with its content coding, Content-Encoding).
 */
export const keepPages = fp(
  async (app: FastifyInstance) => {
    const store = (app as WithStore)[STORE];
    if (store === undefined) return;
    const { cache, shapes, refused } = store;
    const keep = (request: FastifyRequest, reply: FastifyReply, payload: unknown, done: (err: null, payload: unknown) => void): void => {
      const key = (reply as WithState)[STATE];
      if (key !== undefined && shapes !== undefined && reply.pageTemplate !== null && (typeof payload === 'string' || Buffer.isBuffer(payload)) && refused?.has(key) !== true) {
        const known = shapes.get(key);
        // A new URL, or one the front left to the route for its page's size: the range widens
        // when the route answered with the same headers and coding.
        if (known === undefined || (known.sizes !== undefined && !known.dead)) {
          const shape = shapeOf(request, reply, reply.pageTemplate, payload);
          if (known === undefined) {
            if (shape !== undefined) shapes.set(key, shape);
            else refused?.set(key, true);
          } else if (known.sizes !== undefined && shape?.sizes !== undefined && shape.coding === known.coding && sameHead(shape, known)) {
            known.sizes = [Math.min(known.sizes[0], shape.sizes[0]), Math.max(known.sizes[1], shape.sizes[1])];
          }
        }
      }
      if (key !== undefined && reply.pageCacheable && reply.statusCode === 200 && (typeof payload === 'string' || Buffer.isBuffer(payload))) {
        const body = typeof payload === 'string' ? Buffer.from(payload) : payload;
        if (body.length <= PAGE_CACHE_MAX_BODY) {
          const head: FlatHead = [];
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
          const route = request.routeOptions.url ?? 'unmatched';
          const text = headText(head, requestIdAt >= 0 ? [requestIdAt] : []);
          cache.set(key, { head, requestIdAt, text, total: reply.getHeader('x-total-count'), query: request.query, body, route, rows: rowsOf(request, reply) });
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
