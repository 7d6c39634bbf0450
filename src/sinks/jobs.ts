import { randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';
import type { FastifyBaseLogger } from 'fastify';
import type { SinkConfig } from '../config.js';
import type { EntityName } from '../generators/registry.js';
import type { RenderPool } from '../render/pool.js';
import { EntityProgress, messageOf, type ProgressListener } from './progress.js';
import { SINK_NAMES, type EntitySlice, type SinkDefinition, type SinkName } from './types.js';

export type JobState = 'queued' | 'running' | 'succeeded' | 'partial' | 'failed' | 'cancelled';

/** Jobs kept for `GET /jobs` once they have ended (the oldest finished ones are forgotten). */
export const FINISHED_JOBS_KEPT = 500;
/** Error messages kept per job (counts stay exact; only the list of messages is bounded). */
const ERRORS_KEPT = 50;
/** Jobs running at once when the server sets no MAX_RUNNING_JOBS; the rest wait as `queued`. */
export const DEFAULT_MAX_RUNNING_JOBS = 4;

/** Jobs that may wait as `queued` when the server sets no MAX_QUEUED_JOBS; beyond, a new job is refused (429). */
export const DEFAULT_MAX_QUEUED_JOBS = 100;
/** Progress events of one job are sent at most this often (state changes go out at once). */
export const PROGRESS_EVENT_INTERVAL_MS = 200;

const now = () => new Date().toISOString();

/** What each sink has sent since the server started or the statistics were reset. */
class SinkStats {
  records = 0;
  bytes = 0;
  failed = 0;
  readonly jobs = { total: 0, running: 0, succeeded: 0, partial: 0, failed: 0, cancelled: 0 };
  lastActivity: string | null = null;

  touch(): void {
    this.lastActivity = now();
  }

  toJSON() {
    return { records: this.records, bytes: this.bytes, failed: this.failed, jobs: { ...this.jobs }, last_activity: this.lastActivity };
  }
}

/** One push of records to a sink: state, live per-entity progress, errors and result. */
export class Job {
  readonly id = randomUUID();
  state: JobState = 'queued';
  readonly createdAt = now();
  startedAt: string | null = null;
  finishedAt: string | null = null;
  records = 0;
  bytes = 0;
  failed = 0;
  readonly errors: string[] = [];
  errorCount = 0;
  readonly result: Record<string, unknown> = {};
  readonly entities = new Map<EntityName, EntityProgress>();
  readonly controller = new AbortController();
  /** Settles when the job has ended, whatever the outcome. */
  finished: Promise<void> = Promise.resolve();
  /** Called when the counts move (the manager throttles what it makes of it). */
  onChange: () => void = () => {};

  constructor(
    readonly sink: SinkName,
    readonly seed: number,
    /** The request as validated (defaults applied), for the record. */
    readonly request: Readonly<Record<string, unknown>>,
    /** The sink's current statistics (a reset replaces them while jobs run). */
    private readonly stats: () => SinkStats,
  ) {}

  get ended(): boolean {
    return this.finishedAt !== null;
  }

  /** Where the entities' counts add up: this job's totals and the sink's statistics. */
  readonly listener: ProgressListener = {
    delivered: (records, bytes) => {
      this.records += records;
      this.bytes += bytes;
      const stats = this.stats();
      stats.records += records;
      stats.bytes += bytes;
      stats.touch();
      this.onChange();
    },
    failed: (records, reason) => {
      this.failed += records;
      const stats = this.stats();
      stats.failed += records;
      stats.touch();
      this.error(reason);
      this.onChange();
    },
  };

  error(message: string): void {
    this.errorCount++;
    if (this.errors.length < ERRORS_KEPT) this.errors.push(message);
  }

  toJSON() {
    return {
      id: this.id,
      kind: 'sink' as const,
      sink: this.sink,
      state: this.state,
      seed: this.seed,
      created_at: this.createdAt,
      started_at: this.startedAt,
      finished_at: this.finishedAt,
      records: this.records,
      bytes: this.bytes,
      failed: this.failed,
      entities: [...this.entities.values()].map((p) => p.toJSON()),
      errors: this.errors,
      error_count: this.errorCount,
      result: this.result,
      request: this.request,
    };
  }
}

/** What `JobManager.events` emits: `job` with a job whose state or counts changed, `stats` after a reset. */
export interface JobEvents {
  job: [Job];
  stats: [];
}

/**
 * Runs sink jobs in the background of the server process, keeps them for inspection, and
 * accumulates per-sink statistics. Jobs live in memory: a restart forgets them (the data they
 * delivered stays delivered, and re-running a world is safe). At most `maxRunning` jobs run at
 * once; the others wait as `queued` and start in the order they were created.
 *
 * `events` tells listeners (the server-sent-events routes) when a job changes: at once for a
 * change of state, at most every PROGRESS_EVENT_INTERVAL_MS for moving counts.
 */
export class JobManager {
  private readonly jobs = new Map<string, Job>();
  private stats = new Map<SinkName, SinkStats>(SINK_NAMES.map((name) => [name, new SinkStats()]));
  private statsSince = now();
  private running = 0;
  /** Jobs waiting for a slot, oldest first, with what admits them (true) or drops them (false). */
  private readonly waiting: { job: Job; admit: (admitted: boolean) => void }[] = [];
  readonly events = new EventEmitter<JobEvents>();

  constructor(
    private readonly log: FastifyBaseLogger,
    readonly maxRunning = DEFAULT_MAX_RUNNING_JOBS,
    /** The app's render threads, handed to each job (the PostgreSQL sink renders its COPY rows there). */
    private readonly renderPool: RenderPool | null = null,
  ) {
    // One listener per open event stream: as many as there are clients watching.
    this.events.setMaxListeners(0);
  }

  /** Jobs waiting for a slot: created, not yet running, not ended. */
  get queued(): number {
    let count = 0;
    for (const job of this.jobs.values()) if (job.state === 'queued') count++;
    return count;
  }

  /** Whether a job started now would run at once (a slot is free and none waits for one). */
  get slotFree(): boolean {
    return this.running < this.maxRunning && this.waiting.length === 0;
  }

  /** Creates and starts a job, or queues it when `maxRunning` jobs run; returns at once (the job runs on). */
  start<K extends keyof SinkConfig, O>(
    sink: SinkDefinition<K, O>,
    config: NonNullable<SinkConfig[K]>,
    options: O,
    seed: number,
    slices: readonly EntitySlice[],
    request: Readonly<Record<string, unknown>>,
  ): Job {
    const stats = () => this.statsOf(sink.name);
    const job = new Job(sink.name, seed, request, stats);
    for (const slice of slices) job.entities.set(slice.entity, new EntityProgress(slice.entity, slice.end - slice.start, job.listener));
    this.jobs.set(job.id, job);
    this.forgetOldJobs();
    job.onChange = this.throttled(job);
    stats().jobs.total++;
    stats().touch();
    const log = this.log.child({ job: job.id, sink: sink.name });
    // A free slot is taken at once, so the 202 answer says `running`: it said `queued` for every
    // job, a free slot or not, since the slot was only taken after the answer had gone.
    const immediate = this.slotFree;
    if (immediate) {
      this.running++;
      job.state = 'running';
      job.startedAt = now();
    }
    this.events.emit('job', job);

    job.finished = (async () => {
      // Let the request that created the job answer before any generation starts.
      await new Promise((resolve) => setImmediate(resolve));
      const admitted = immediate || (await this.slot(job));
      let failure: unknown;
      if (admitted) {
        if (!immediate) {
          job.state = 'running';
          job.startedAt = now();
        }
        stats().jobs.running++;
        this.events.emit('job', job);
        try {
          if (job.controller.signal.aborted) throw job.controller.signal.reason;
          await sink.run({
            jobId: job.id,
            config,
            options,
            seed,
            slices,
            signal: job.controller.signal,
            progress: (entity) => {
              const progress = job.entities.get(entity);
              if (!progress) throw new Error(`entity ${entity} is not part of job ${job.id}`);
              return progress;
            },
            result: job.result,
            log,
            renderPool: this.renderPool,
          });
        } catch (error) {
          failure = error;
        } finally {
          this.release();
        }
      }
      const cancelled = job.controller.signal.aborted;
      for (const progress of job.entities.values()) {
        if (progress.state !== 'running' && progress.state !== 'pending') continue;
        if (failure !== undefined && !cancelled && progress.error === undefined) {
          progress.error = progress.state === 'pending' ? 'not sent: the job failed before this entity' : messageOf(failure);
        }
        progress.state = cancelled ? 'cancelled' : failure !== undefined ? 'failed' : 'done';
      }
      if (cancelled) {
        job.state = 'cancelled';
      } else if (failure !== undefined) {
        job.state = 'failed';
        job.error(messageOf(failure));
        log.warn({ err: failure }, 'sink job failed');
      } else {
        const anyFailed = job.failed > 0 || [...job.entities.values()].some((p) => p.state === 'failed');
        job.state = anyFailed ? 'partial' : 'succeeded';
      }
      job.finishedAt = now();
      const ended = stats();
      if (admitted) ended.jobs.running = Math.max(0, ended.jobs.running - 1);
      ended.jobs[job.state as 'succeeded' | 'partial' | 'failed' | 'cancelled']++;
      ended.touch();
      job.onChange = () => {};
      this.events.emit('job', job);
      log.info({ state: job.state, records: job.records, failed: job.failed }, 'sink job ended');
    })();
    return job;
  }

  get(id: string): Job | undefined {
    return this.jobs.get(id);
  }

  /** Newest first. */
  list(): Job[] {
    return [...this.jobs.values()].reverse();
  }

  /** Asks a job to stop (a queued job never starts); resolves when it has (or at once if it already ended). */
  async cancel(job: Job, timeoutMs: number): Promise<void> {
    if (job.ended) return;
    job.controller.abort(new Error('cancelled by request'));
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([job.finished, new Promise((resolve) => (timer = setTimeout(resolve, timeoutMs)))]);
    clearTimeout(timer);
  }

  statsJson() {
    return {
      since: this.statsSince,
      sinks: Object.fromEntries([...this.stats.entries()].map(([name, s]) => [name, s.toJSON()])),
    };
  }

  /** Starts the statistics afresh (jobs still running count into the new ones). */
  resetStats(): void {
    const running = new Map([...this.stats.entries()].map(([name, s]) => [name, s.jobs.running]));
    for (const name of SINK_NAMES) {
      const fresh = new SinkStats();
      fresh.jobs.running = running.get(name) ?? 0;
      this.stats.set(name, fresh);
    }
    this.statsSince = now();
    this.events.emit('stats');
  }

  /** Cancels every running and queued job and waits for them (server shutdown). */
  async close(): Promise<void> {
    const running = [...this.jobs.values()].filter((j) => !j.ended);
    for (const job of running) job.controller.abort(new Error('server shutting down'));
    await Promise.allSettled(running.map((j) => j.finished));
    this.events.removeAllListeners();
  }

  private statsOf(name: SinkName): SinkStats {
    return this.stats.get(name) as SinkStats;
  }

  /** Resolves true when the job may run, false when it was cancelled while it waited. */
  private slot(job: Job): Promise<boolean> {
    if (job.controller.signal.aborted) return Promise.resolve(false);
    if (this.running < this.maxRunning && this.waiting.length === 0) {
      this.running++;
      return Promise.resolve(true);
    }
    return new Promise((resolve) => {
      const entry = {
        job,
        admit: (admitted: boolean) => {
          job.controller.signal.removeEventListener('abort', drop);
          resolve(admitted);
        },
      };
      const drop = () => {
        const at = this.waiting.indexOf(entry);
        if (at >= 0) this.waiting.splice(at, 1);
        entry.admit(false);
      };
      job.controller.signal.addEventListener('abort', drop, { once: true });
      this.waiting.push(entry);
    });
  }

  /** A running job ended: the oldest queued job takes its slot. */
  private release(): void {
    this.running--;
    while (this.running < this.maxRunning && this.waiting.length > 0) {
      this.running++;
      (this.waiting.shift() as (typeof this.waiting)[number]).admit(true);
    }
  }

  /** Emits the job's change at most every PROGRESS_EVENT_INTERVAL_MS, the last change always included. */
  private throttled(job: Job): () => void {
    let last = -Infinity;
    let timer: NodeJS.Timeout | undefined;
    const emit = () => {
      timer = undefined;
      last = performance.now();
      if (!job.ended) this.events.emit('job', job);
    };
    return () => {
      if (timer !== undefined) return;
      const wait = last + PROGRESS_EVENT_INTERVAL_MS - performance.now();
      if (wait <= 0) emit();
      else timer = setTimeout(emit, wait).unref();
    };
  }

  private forgetOldJobs(): void {
    const finished = [...this.jobs.values()].filter((j) => j.ended);
    for (const job of finished.slice(0, Math.max(0, finished.length - FINISHED_JOBS_KEPT))) this.jobs.delete(job.id);
  }
}
