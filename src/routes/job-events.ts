import { fastifySSE } from '@fastify/sse';
import accepts from 'accepts';
import { Type } from '@sinclair/typebox';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { ApiError } from '../plugins/errors.js';
import { ErrorSchema } from '../schemas/query.js';
import type { Job, JobManager } from '../sinks/jobs.js';
import type { StreamJob, StreamManager } from '../streams/jobs.js';

export interface JobEventRoutesOptions {
  jobs: JobManager;
  /** What `GET /jobs/{id}` answers for an unknown id (the same 404). */
  findJob: (id: string) => Job;
  /** Streams, whose starts, stops and ends the all-jobs stream also carries. */
  streams?: StreamManager;
}

/** One server-sent event: its name and its JSON payload, serialized when it happened. */
interface Message {
  event: 'job' | 'stats';
  data: string;
}

/**
 * A queue of messages read by one event stream: `push` from the job events, `close` when the
 * stream has said all it will say or the client went away. Backpressure is the socket's:
 * @fastify/sse awaits each write, and the producers are throttled.
 */
class Outbox {
  private readonly items: Message[] = [];
  private wake: (() => void) | undefined;
  private closed = false;

  push(message: Message): void {
    if (this.closed) return;
    this.items.push(message);
    this.wake?.();
  }

  close(): void {
    this.closed = true;
    this.wake?.();
  }

  async *messages(): AsyncGenerator<{ id: string; event: string; data: string }> {
    let id = 0;
    for (;;) {
      const next = this.items.shift();
      if (next) {
        yield { id: String(++id), event: next.event, data: next.data };
        continue;
      }
      if (this.closed) return;
      await new Promise<void>((resolve) => (this.wake = resolve));
      this.wake = undefined;
    }
  }
}

const jobMessage = (job: Job | StreamJob): Message => ({ event: 'job', data: JSON.stringify(job.toJSON()) });
/** Stats go out at most this often on the all-jobs stream (they move with every batch). */
const STATS_INTERVAL_MS = 500;

const streamDescription = [
  'A `text/event-stream` (server-sent events; `curl -N`, or `new EventSource(url)` in a browser).',
  'Each `job` event carries the job exactly as `GET /api/v1/jobs/{id}` shows it at that moment: at once when its state changes (queued, running, ended), and while it runs at most every 200 ms as its counts move.',
].join(' ');

/**
 * `GET /api/v1/jobs/{id}/events` and `GET /api/v1/jobs/events`: job progress pushed as
 * server-sent events, so a page or `curl -N` watches jobs without polling.
 */
export default async function jobEventRoutes(app: FastifyInstance, options: JobEventRoutesOptions): Promise<void> {
  const { jobs, findJob, streams } = options;
  // Heartbeat comments keep proxies from closing a quiet stream.
  await app.register(fastifySSE, { heartbeatInterval: 15_000, serializer: (data: unknown) => (typeof data === 'string' ? data : JSON.stringify(data)) });
  const errorRef = Type.Ref(ErrorSchema);
  const open = new Set<Outbox>();

  /**
   * `manual` routes: the Accept check is ours, so a refusal is a 406 in the service's error shape
   * (no Accept header, or a wildcard, as curl sends, is fine).
   */
  const checkAccept = (request: FastifyRequest) => {
    if (accepts(request.raw).type(['text/event-stream']) === false) {
      throw new ApiError(406, 'NOT_ACCEPTABLE', `Accept: this endpoint answers text/event-stream only, got '${String(request.headers.accept).slice(0, 100)}'`);
    }
  };

  /** Streams the outbox until it closes, and stops feeding it when the client leaves. */
  const stream = async (request: FastifyRequest, reply: FastifyReply, outbox: Outbox, stop: () => void) => {
    if (request.method === 'HEAD') {
      // The GET's headers and no stream: Node sends a HEAD's headers only when it ends, so an
      // open event stream kept a HEAD unanswered for as long as the client waited.
      stop();
      outbox.close();
      await reply.type('text/event-stream').header('Cache-Control', 'no-cache').header('X-Accel-Buffering', 'no').send();
      return;
    }
    open.add(outbox);
    reply.sse.onClose(() => {
      stop();
      outbox.close();
    });
    reply.header('Cache-Control', 'no-cache');
    reply.header('X-Accel-Buffering', 'no');
    try {
      await reply.sse.send(outbox.messages());
    } finally {
      open.delete(outbox);
      stop();
    }
  };

  app.get(
    '/api/v1/jobs/:id/events',
    {
      sse: { kind: 'manual' },
      schema: {
        tags: ['Sinks'],
        operationId: 'followJob',
        summary: 'Follow one job as server-sent events',
        description: `${streamDescription} The first event is the job as it is now; the stream ends after the event with its final state (succeeded, partial, failed or cancelled), which equals what \`GET /api/v1/jobs/{id}\` answers from then on.\n\n\`curl -N localhost:8000/api/v1/jobs/<id>/events\``,
        params: Type.Object({ id: Type.String({ format: 'uuid', description: 'Job id' }) }),
        querystring: Type.Object({}, { additionalProperties: false }),
        response: {
          200: { description: 'text/event-stream of `job` events', content: { 'text/event-stream': { schema: Type.String() } } },
          404: { description: 'No such job', ...errorRef },
          406: { description: 'The Accept header refuses text/event-stream', ...errorRef },
        },
      },
    },
    async (request: FastifyRequest<{ Params: { id: string } }>, reply) => {
      checkAccept(request);
      const job = findJob(request.params.id);
      const outbox = new Outbox();
      const onJob = (changed: Job) => {
        if (changed !== job) return;
        outbox.push(jobMessage(job));
        if (job.ended) outbox.close();
      };
      outbox.push(jobMessage(job));
      if (job.ended) outbox.close();
      else jobs.events.on('job', onJob);
      await stream(request, reply, outbox, () => jobs.events.off('job', onJob));
    },
  );

  app.get(
    '/api/v1/jobs/events',
    {
      sse: { kind: 'manual' },
      schema: {
        tags: ['Sinks'],
        operationId: 'followJobs',
        summary: 'Follow every job and the sink statistics as server-sent events',
        querystring: Type.Object({}, { additionalProperties: false }),
        description: `${streamDescription} On connecting: a \`stats\` event (as \`GET /api/v1/stats\`) and a \`job\` event for each job that has not ended; then every job change as it happens, and \`stats\` at most every ${STATS_INTERVAL_MS} ms while jobs move and at once after a reset. Streams (\`kind: "stream"\`, as \`GET /api/v1/streams/{id}\` shows them) come as \`job\` events too, when they start, are asked to stop and end, wherever they were started; their progress in between is \`GET /api/v1/streams/{id}\`. The stream stays open until the client closes it.\n\n\`curl -N localhost:8000/api/v1/jobs/events\``,
        response: {
          200: { description: 'text/event-stream of `job` and `stats` events', content: { 'text/event-stream': { schema: Type.String() } } },
          406: { description: 'The Accept header refuses text/event-stream', ...errorRef },
        },
      },
    },
    async (request, reply) => {
      checkAccept(request);
      const outbox = new Outbox();
      let statsTimer: NodeJS.Timeout | undefined;
      const sendStats = () => {
        clearTimeout(statsTimer);
        statsTimer = undefined;
        outbox.push({ event: 'stats', data: JSON.stringify(jobs.statsJson()) });
      };
      const onJob = (job: Job) => {
        outbox.push(jobMessage(job));
        if (job.ended) sendStats();
        else statsTimer ??= setTimeout(sendStats, STATS_INTERVAL_MS).unref();
      };
      const onStream = (job: StreamJob) => outbox.push(jobMessage(job));
      sendStats();
      for (const job of jobs.list().reverse()) if (!job.ended) outbox.push(jobMessage(job));
      for (const job of streams?.list().reverse() ?? []) if (!job.ended) outbox.push(jobMessage(job));
      jobs.events.on('job', onJob);
      jobs.events.on('stats', sendStats);
      streams?.events.on('stream', onStream);
      await stream(request, reply, outbox, () => {
        clearTimeout(statsTimer);
        jobs.events.off('job', onJob);
        jobs.events.off('stats', sendStats);
        streams?.events.off('stream', onStream);
      });
    },
  );

  // A closing server ends the open streams rather than waiting for their clients to leave.
  app.addHook('preClose', async () => {
    for (const outbox of open) outbox.close();
  });
}
