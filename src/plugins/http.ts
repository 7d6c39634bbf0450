import cors from '@fastify/cors';
import type { FastifyInstance, FastifyServerOptions } from 'fastify';
import fp from 'fastify-plugin';
import helmet from 'helmet';
import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';

export interface HttpOptions {
  /**
   * Origins allowed to call the API from a browser (CORS). Default `['*']`: any origin, which
   * suits a public generator of fake data read by notebooks and browser tools; credentials are
   * never allowed (the API key is a bearer header, not a cookie).
   */
  corsOrigins?: readonly string[];
}

/** An incoming `X-Request-Id` is kept when it looks like an id (no spaces, no control characters, ≤ 128 characters). */
const SANE_REQUEST_ID = /^[A-Za-z0-9._:@/+=-]{1,128}$/;

/** The request id: the client's `X-Request-Id` when sane, otherwise a new UUID. */
function genReqId(request: IncomingMessage): string {
  const given = request.headers['x-request-id'];
  return typeof given === 'string' && SANE_REQUEST_ID.test(given) ? given : randomUUID();
}

/** Server options for request ids (Fastify reads the header itself only without checking it). */
export const requestIdServerOptions: Pick<FastifyServerOptions, 'genReqId' | 'requestIdHeader'> = {
  genReqId,
  requestIdHeader: false,
};

/** Headers a browser script may read from a cross-origin response. */
export const EXPOSED_HEADERS = ['X-Total-Count', 'X-Seed', 'Link', 'ETag', 'Content-Disposition', 'X-Request-Id', 'Location'];

/**
 * The HTTP conventions of every response: security headers (helmet), CORS, and the request id
 * echoed in `X-Request-Id`.
 */
export default fp(
  async (app: FastifyInstance, options: HttpOptions) => {
    // helmet itself, its middleware built once: @fastify/helmet builds a new one (parsing the
    // CSP directives again) on every request, ~4% of a small page's CPU under load.
    const securityHeaders = helmet({
      // Helmet's default policy, which Swagger UI at /docs works under (its scripts are files, its
      // inline styles are allowed), minus upgrade-insecure-requests: on plain http (localhost,
      // a cluster-internal service) it would send "Try it out" to https and fail.
      contentSecurityPolicy: { directives: { 'upgrade-insecure-requests': null } },
      // The data is public and meant to be fetched cross-origin (see CORS below).
      crossOriginResourcePolicy: { policy: 'cross-origin' },
    });
    app.addHook('onRequest', (request, reply, done) => {
      securityHeaders(request.raw, reply.raw, (err?: unknown) => done(err as Error | undefined));
    });
    const origins = options.corsOrigins ?? ['*'];
    await app.register(cors, {
      origin: origins.includes('*') ? '*' : [...origins],
      methods: ['GET', 'HEAD', 'POST', 'DELETE'],
      allowedHeaders: ['Authorization', 'Content-Type', 'Accept', 'If-None-Match', 'X-Request-Id'],
      exposedHeaders: EXPOSED_HEADERS,
      credentials: false,
      maxAge: 600,
    });
    app.addHook('onRequest', async (request, reply) => {
      reply.header('X-Request-Id', request.id);
    });
  },
  { name: 'http' },
);
