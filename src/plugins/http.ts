import cors from '@fastify/cors';
import { LogController, type FastifyInstance, type FastifyReply, type FastifyRequest, type FastifyServerOptions } from 'fastify';
import fp from 'fastify-plugin';
import helmet from 'helmet';
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { Readable } from 'node:stream';

export interface HttpOptions {
  /**
   * Origins allowed to call the API from a browser (CORS). Default `['*']`: any origin, which
   * suits a public generator of fake data read by notebooks and browser tools; credentials are
   * never allowed (the API key is a bearer header, not a cookie).
   */
  corsOrigins?: readonly string[];
  /** Further headers every response carries, written before the security headers (e.g. X-Data-Version). */
  headers?: Readonly<Record<string, string>>;
}

/** An incoming `X-Request-Id` is kept when it looks like an id (no spaces, no control characters, ≤ 128 characters). */
const SANE_REQUEST_ID = /^[A-Za-z0-9._:@/+=-]{1,128}$/;

/** The request id: the client's `X-Request-Id` when sane, otherwise a new UUID. */
export function genReqId(request: IncomingMessage): string {
  const given = request.headers['x-request-id'];
  return typeof given === 'string' && SANE_REQUEST_ID.test(given) ? given : randomUUID();
}

/**
 * Request logging: one line per request, when it is answered (`request completed` at info,
 * `request errored` at error), carrying the request id, the request and the status, instead of
 * Fastify's two lines per request ('incoming request' first), each a synchronous write.
 */
class OneLineRequestLog extends LogController {
  override incomingRequest(): void {}

  override requestCompleted(error: Error | null, request: FastifyRequest, reply: FastifyReply): void {
    if (this.isLogDisabled(request)) return;
    if (error) reply.log.error({ req: request, res: reply, err: error, responseTime: reply.elapsedTime }, 'request errored');
    else reply.log.info({ req: request, res: reply, responseTime: reply.elapsedTime }, 'request completed');
  }
}

/**
 * The request log of every app: Fastify's requests, and kept pages answered before Fastify
 * (src/plugins/page-cache.ts), which call `requestCompleted` with a request and reply of their own.
 */
export const requestLog = new OneLineRequestLog();

/** Server options for request ids (Fastify reads the header itself only without checking it) and request logging. */
export const requestIdServerOptions: Pick<FastifyServerOptions, 'genReqId' | 'requestIdHeader' | 'logController'> = {
  genReqId,
  requestIdHeader: false,
  logController: requestLog,
};

type Middleware = (req: IncomingMessage, res: ServerResponse, next: (err?: unknown) => void) => void;

/**
 * The headers a middleware sets on a response that depends on nothing in the request (helmet's
 * without nonces), recorded once by running it against a stand-in request and response.
 */
function staticHeadersOf(middleware: Middleware): Record<string, string> {
  const headers: Record<string, string> = {};
  const res = {
    setHeader(name: string, value: string | number | readonly string[]) {
      headers[name] = String(value);
      return res;
    },
    removeHeader(name: string) {
      delete headers[name];
    },
    getHeader: (name: string) => headers[name],
  };
  let failed: unknown;
  middleware({ headers: {}, method: 'GET', url: '/' } as IncomingMessage, res as unknown as ServerResponse, (err) => (failed = err));
  if (failed !== undefined) throw failed;
  return headers;
}

/**
 * Headers a browser script may read from a cross-origin response: every header of ours a response
 * carries (test/plugins/http.test.ts checks each X- header the routes set is listed).
 */
export const EXPOSED_HEADERS = [
  'X-Total-Count',
  'X-Seed',
  'X-Data-Version',
  'X-Date-Window',
  'X-Partition-Range',
  'X-Events-Count',
  'X-Request-Id',
  'Link',
  'ETag',
  'Content-Disposition',
  'Location',
];

/**
 * The HTTP conventions of every response: security headers (helmet), CORS, and the request id
 * echoed in `X-Request-Id`.
 */
export default fp(
  async (app: FastifyInstance, options: HttpOptions) => {
    // helmet decides the security headers; with no per-request directive (no nonce) they are
    // the same on every response, so its middleware runs once here, on a recording response, and
    // each request gets the recorded headers (running its twelve middlewares per request was
    // ~5% of a small page's CPU).
    const securityHeaders = staticHeadersOf(
      helmet({
        // Helmet's default policy, which Swagger UI at /docs works under (its scripts are files, its
        // inline styles are allowed), minus upgrade-insecure-requests: on plain http (localhost,
        // a cluster-internal service) it would send "Try it out" to https and fail.
        contentSecurityPolicy: { directives: { 'upgrade-insecure-requests': null } },
        // The data is public and meant to be fetched cross-origin (see CORS below).
        crossOriginResourcePolicy: { policy: 'cross-origin' },
      }),
    );
    const everyResponse = { ...options.headers, ...securityHeaders };
    // One synchronous hook for the headers every response carries (a callback hook, not an
    // async one: no promise per request).
    app.addHook('onRequest', (request, reply, done) => {
      reply.headers(everyResponse);
      reply.header('X-Request-Id', request.id);
      done();
    });
    // A HEAD answer has no body. Fastify's HEAD routes drain a streamed body (`resume()`), so
    // the whole body was generated for nobody: a HEAD of a million-order CSV kept both cores
    // busy ~20 s after its answer. The stream is ended here, before the route's own hooks, and
    // an empty one takes its place (no Content-Length, as the GET's chunked answer has none).
    app.addHook('onSend', (request, _reply, payload, done) => {
      if (request.method !== 'HEAD' || !(payload instanceof Readable)) return done(null, payload);
      payload.on('error', () => {});
      payload.destroy();
      done(null, Readable.from([]));
    });
    const origins = options.corsOrigins ?? ['*'];
    await app.register(cors, {
      origin: origins.includes('*') ? '*' : [...origins],
      methods: ['GET', 'HEAD', 'POST', 'DELETE'],
      allowedHeaders: ['Authorization', 'Content-Type', 'Accept', 'If-None-Match', 'X-Request-Id'],
      exposedHeaders: EXPOSED_HEADERS,
      credentials: false,
      maxAge: 600,
      // An OPTIONS without Origin or Access-Control-Request-Method (`curl -X OPTIONS`, a client
      // asking what a path allows) is answered like a preflight, 204: the strict default
      // answered a text/plain 400, outside the JSON error contract.
      strictPreflight: false,
    });
  },
  { name: 'http' },
);
