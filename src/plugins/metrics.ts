import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import type { Socket } from 'node:net';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** Bytes a socket had written when its last response was counted (for bytes served). */
const COUNTED = Symbol('metricsBytesCounted');
type CountedSocket = Socket & { [COUNTED]?: number };

/**
 * Counts one answered request in /metrics: its method, route pattern, status, seconds from
 * request to response, records served, the socket (bytes written since its previous answer) and
 * Content-Length (used where there is no socket).
 */
export type CountAnswer = (method: string, route: string, statusCode: number, seconds: number, rows: number, socket: Socket | null, contentLength: unknown) => void;

declare module 'fastify' {
  interface FastifyInstance {
    /** See {@link CountAnswer}; decorated by the metrics plugin. */
    countAnswer?: CountAnswer;
    /** Forgets the answers counted so far and the event loop's delay (after the start's warm-up, src/plugins/warm-up.ts). */
    resetMetrics?: () => Promise<void>;
  }
}

const JOB_STATES = ['queued', 'running', 'succeeded', 'partial', 'failed', 'cancelled'] as const;

/** Rows in a response of an entity route: min(limit, population - offset), from what the route answered. */
export function rowsOf(request: FastifyRequest, reply: FastifyReply): number {
  const total = Number(reply.getHeader('x-total-count'));
  if (!Number.isFinite(total) || reply.statusCode !== 200) return 0;
  const query = request.query as { limit?: number; offset?: number; page?: number };
  const limit = query.limit ?? 0;
  const offset = query.page !== undefined ? (query.page - 1) * limit : (query.offset ?? 0);
  return Math.max(0, Math.min(limit, total - offset));
}

/**
 * `GET /metrics` in the Prometheus text format (prom-client): requests by route and status,
 * their latency, rows and bytes served by route, sink jobs by state, and the process's default
 * metrics, among them event-loop lag (`nodejs_eventloop_lag_seconds`,
 * `nodejs_eventloop_lag_p99_seconds`). One registry per app, so tests can build many.
 */
export default fp(
  async (app: FastifyInstance) => {
    const registry = new Registry();
    collectDefaultMetrics({ register: registry, eventLoopMonitoringPrecision: 20 });
    const labelNames = ['method', 'route', 'status_code'] as const;
    // The three counters are added to at each scrape (`collect`) from plain numbers kept by label
    // values below: a prom-client counter's `inc`, a labelled child's too, hashes and checks its
    // labels on every call, three times per answer: counting an answer took 1.6-1.8 µs, 0.8 µs
    // so (a kept page costs ~25 µs in all; docs/performance.md, "Fifteenth round"). The histogram
    // is observed per answer.
    const requests = new Counter({
      name: 'http_requests_total',
      help: 'HTTP requests answered',
      labelNames,
      registers: [registry],
      collect() {
        for (const child of children.values()) {
          if (child.requests > 0) this.inc(child.labels, child.requests);
          child.requests = 0;
        }
      },
    });
    const duration = new Histogram({
      name: 'http_request_duration_seconds',
      help: 'Time from request to the last byte of the response',
      labelNames,
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers: [registry],
    });
    /** A counter by route that takes, at each scrape, what `field` of each route holds, and empties it. */
    const perRouteCounter = (name: string, help: string, field: 'rows' | 'bytes') =>
      new Counter({
        name,
        help,
        labelNames: ['route'],
        registers: [registry],
        collect() {
          for (const perRoute of routeChildren.values()) {
            if (perRoute[field] > 0) this.inc({ route: perRoute.route }, perRoute[field]);
            perRoute[field] = 0;
          }
        },
      });
    const rows = perRouteCounter('ecomgen_rows_served_total', 'Records served by GET endpoints', 'rows');
    const bytes = perRouteCounter('ecomgen_bytes_served_total', 'Response bytes written (after compression)', 'bytes');
    new Gauge({
      name: 'ecomgen_jobs',
      help: 'Sink jobs kept in memory, by state',
      labelNames: ['state'],
      registers: [registry],
      collect() {
        const counts = new Map<string, number>(JOB_STATES.map((s) => [s, 0]));
        const jobs = (app as { jobs?: { list(): { state: string }[] } }).jobs;
        for (const job of jobs?.list() ?? []) counts.set(job.state, (counts.get(job.state) ?? 0) + 1);
        for (const [state, n] of counts) this.set({ state }, n);
      },
    });

    // Callback hooks (no promise per request); by label values, the requests and rows and bytes
    // not yet added to the counters (see above) and the histogram's child.
    type Children = { labels: { method: string; route: string; status_code: string }; requests: number; duration: Histogram.Internal<string> };
    const children = new Map<string, Children>();
    const routeChildren = new Map<string, { route: string; rows: number; bytes: number }>();
    /**
     * Counts one answered request: requests and latency by method, route and status; rows and
     * bytes by route. The one place answers are counted: the onResponse hook below for every
     * request Fastify answers, and src/plugins/page-cache.ts for a kept page answered before
     * Fastify (`app.countAnswer`).
     */
    const countAnswer: CountAnswer = (method, route, statusCode, seconds, served, socket, contentLength) => {
      const key = `${method} ${statusCode} ${route}`;
      let child = children.get(key);
      if (!child) {
        const labels = { method, route, status_code: String(statusCode) };
        children.set(key, (child = { labels, requests: 0, duration: duration.labels(labels) }));
      }
      child.requests++;
      child.duration.observe(seconds);
      let perRoute = routeChildren.get(route);
      if (!perRoute) routeChildren.set(route, (perRoute = { route, rows: 0, bytes: 0 }));
      if (served > 0) perRoute.rows += served;
      // The socket's count of bytes written since its previous response, headers included
      // (HTTP/1.1 answers one request at a time per connection; no onRequest hook needed, so a
      // response answered before Fastify, src/plugins/page-cache.ts, is counted too);
      // Content-Length where there is no socket count.
      const length = Number(contentLength);
      const counted = socket as CountedSocket | null;
      const total = counted?.bytesWritten ?? 0;
      const viaSocket = total - (counted?.[COUNTED] ?? 0);
      if (counted) counted[COUNTED] = total;
      const written = viaSocket > 0 ? viaSocket : Number.isFinite(length) ? length : 0;
      if (written > 0) perRoute.bytes += written;
    };
    app.decorate('countAnswer', countAnswer);
    app.decorate('resetMetrics', async () => {
      // A scrape: the event-loop delay is read from a perf_hooks histogram that only a scrape
      // (collect) resets. The process's own totals (CPU, memory, GC) stay true.
      await registry.metrics();
      for (const metric of [requests, duration, rows, bytes]) metric.reset();
      children.clear();
      routeChildren.clear();
    });
    app.addHook('onResponse', (request, reply, done) => {
      // Route patterns, not URLs, so the label set stays small; unmatched paths share one label.
      const route = request.routeOptions.url ?? 'unmatched';
      countAnswer(request.method, route, reply.statusCode, reply.elapsedTime / 1000, rowsOf(request, reply), request.raw.socket, reply.getHeader('content-length'));
      done();
    });

    app.get(
      '/metrics',
      {
        schema: {
          tags: ['Service'],
          summary: 'Prometheus metrics',
          description: 'Request rate and latency by route, rows and bytes served, sink jobs by state, event-loop lag and the process metrics, in the Prometheus text format.',
          response: { 200: { description: 'Prometheus text exposition format 0.0.4', content: { 'text/plain': { schema: { type: 'string' } } } } },
        },
      },
      async (_request, reply) => {
        reply.header('Cache-Control', 'no-store').type(registry.contentType);
        return registry.metrics();
      },
    );
  },
  { name: 'metrics' },
);
