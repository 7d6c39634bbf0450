/**
 * Stream jobs: each stream runs in the background of the server process with live progress,
 * can be stopped (gracefully: the batch in flight is finished and counted), and is kept for
 * inspection after it ends. Several run at once. Streams live in memory, like sink jobs.
 */
import { randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';
import type { FastifyBaseLogger } from 'fastify';
import { messageOf } from '../sinks/progress.js';
import { pause } from '../sinks/retry.js';
import type { SinkName } from '../sinks/types.js';
import { StreamProgress, runStream, type Clock, type EngineOptions, type StopReason } from './engine.js';
import type { FeedSource } from './source.js';
import type { StreamWriter } from './writer.js';

export type StreamState = 'running' | 'stopping' | 'succeeded' | 'partial' | 'failed' | 'cancelled';

/** Ended streams kept for `GET /streams` (the oldest are forgotten). */
export const FINISHED_STREAMS_KEPT = 200;

/** The wall clock: streams are explicitly real-time. */
export const systemClock: Clock = {
  now: () => new Date().getTime(),
  sleep: pause,
};

const iso = (ms: number) => new Date(ms).toISOString();

export class StreamJob {
  readonly id = randomUUID();
  state: StreamState = 'running';
  readonly createdAt: number;
  finishedAt: number | null = null;
  readonly progress = new StreamProgress();
  /** Graceful stop: the batch in flight finishes and is counted. */
  readonly stop = new AbortController();
  /** Hard stop: the write in flight is aborted too (shutdown after the grace period). */
  readonly hardStop = new AbortController();
  error: string | null = null;
  finished: Promise<void> = Promise.resolve();

  constructor(
    readonly sink: SinkName,
    readonly mode: EngineOptions['mode'],
    readonly seed: number,
    readonly destination: string,
    readonly request: Readonly<Record<string, unknown>>,
    private readonly clock: Clock,
    private readonly writer: StreamWriter,
  ) {
    this.createdAt = clock.now();
  }

  get ended(): boolean {
    return this.finishedAt !== null;
  }

  toJSON() {
    const now = this.finishedAt ?? this.clock.now();
    return {
      id: this.id,
      kind: 'stream' as const,
      sink: this.sink,
      mode: this.mode,
      state: this.state,
      seed: this.seed,
      destination: this.destination,
      created_at: iso(this.createdAt),
      finished_at: this.finishedAt === null ? null : iso(this.finishedAt),
      running_seconds: Math.round(now - this.createdAt) / 1000,
      ...this.progress.toJSON(now),
      error: this.error,
      details: this.writer.details?.() ?? {},
      request: this.request,
    };
  }
}

/** Totals per sink since the server started. */
interface StreamStats {
  streams: number;
  running: number;
  delivered: number;
  failed: number;
}

/** What `StreamManager.events` emits: `stream` when a stream starts, is asked to stop, and ends. */
export interface StreamEvents {
  stream: [StreamJob];
}

/**
 * Streams running at once when the server sets no MAX_STREAMS: beyond, a new stream is refused
 * (429). Each running stream plans and sends on the event loop; forty live streams at 10,000
 * events/s held /health for up to 270 ms, and nothing bounded how many one client could start.
 */
export const DEFAULT_MAX_STREAMS = 32;

export class StreamManager {
  private readonly streams = new Map<string, StreamJob>();
  private readonly totals = new Map<SinkName, StreamStats>();
  /**
   * Changes of state, for the jobs' event stream (GET /api/v1/jobs/events), so that a page
   * watching it sees streams started elsewhere (curl, another tab); their progress is read from
   * GET /api/v1/streams/{id}.
   */
  readonly events = new EventEmitter<StreamEvents>();

  constructor(
    private readonly log: FastifyBaseLogger,
    private readonly clock: Clock = systemClock,
  ) {
    // One listener per open event stream.
    this.events.setMaxListeners(0);
  }

  /** Starts a stream; returns at once (it runs on until it ends or is stopped). */
  start(sink: SinkName, writer: StreamWriter, source: FeedSource, options: EngineOptions, seed: number, request: Readonly<Record<string, unknown>>): StreamJob {
    const job = new StreamJob(sink, options.mode, seed, writer.destination, request, this.clock, writer);
    this.streams.set(job.id, job);
    this.forgetOld();
    const totals = this.totalsOf(sink);
    totals.streams++;
    totals.running++;
    const log = this.log.child({ stream: job.id, sink });
    job.finished = (async () => {
      // Let the request that created the stream answer first.
      await new Promise((resolve) => setImmediate(resolve));
      let reason: StopReason = 'failed';
      try {
        reason = await runStream(source, writer, options, this.clock, job.progress, job.stop.signal, job.hardStop.signal);
      } catch (error) {
        job.error = messageOf(error);
        log.warn({ err: error }, 'stream failed');
      } finally {
        await writer.close().catch((error: unknown) => log.warn({ err: error }, 'closing the stream writer failed'));
      }
      job.progress.stopReason = reason;
      job.progress.lagSeconds = 0;
      job.state = reason === 'failed' ? 'failed' : reason === 'cancelled' ? 'cancelled' : job.progress.failed > 0 ? 'partial' : 'succeeded';
      job.finishedAt = this.clock.now();
      totals.running = Math.max(0, totals.running - 1);
      totals.delivered += job.progress.delivered;
      totals.failed += job.progress.failed;
      log.info({ state: job.state, delivered: job.progress.delivered, failed: job.progress.failed, reason }, 'stream ended');
      this.events.emit('stream', job);
    })();
    this.events.emit('stream', job);
    return job;
  }

  get(id: string): StreamJob | undefined {
    return this.streams.get(id);
  }

  /** Streams that have not ended (running or stopping). */
  get running(): number {
    let count = 0;
    for (const job of this.streams.values()) if (!job.ended) count++;
    return count;
  }

  /** Newest first. */
  list(): StreamJob[] {
    return [...this.streams.values()].reverse();
  }

  /** Asks a stream to stop gracefully; resolves when it has, or after `waitMs`. */
  async cancel(job: StreamJob, waitMs: number): Promise<void> {
    if (job.ended) return;
    if (job.state !== 'stopping') {
      job.state = 'stopping';
      this.events.emit('stream', job);
    }
    job.stop.abort(new Error('stopped by request'));
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([job.finished, new Promise((resolve) => (timer = setTimeout(resolve, waitMs)))]);
    clearTimeout(timer);
  }

  statsJson() {
    return Object.fromEntries([...this.totals.entries()].map(([sink, s]) => [sink, { ...s }]));
  }

  /** Server shutdown: stops every stream gracefully, then hard after `graceMs`. */
  async close(graceMs = 10_000): Promise<void> {
    const running = [...this.streams.values()].filter((j) => !j.ended);
    for (const job of running) job.stop.abort(new Error('server shutting down'));
    let timer: NodeJS.Timeout | undefined;
    const all = Promise.allSettled(running.map((j) => j.finished));
    await Promise.race([all, new Promise((resolve) => (timer = setTimeout(resolve, graceMs)))]);
    clearTimeout(timer);
    for (const job of running) job.hardStop.abort(new Error('server shutting down'));
    await all;
  }

  private totalsOf(sink: SinkName): StreamStats {
    let totals = this.totals.get(sink);
    if (totals === undefined) {
      totals = { streams: 0, running: 0, delivered: 0, failed: 0 };
      this.totals.set(sink, totals);
    }
    return totals;
  }

  private forgetOld(): void {
    const ended = [...this.streams.values()].filter((j) => j.ended);
    for (const job of ended.slice(0, Math.max(0, ended.length - FINISHED_STREAMS_KEPT))) this.streams.delete(job.id);
  }
}
