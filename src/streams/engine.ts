/**
 * The stream engine: plays a feed source at its clock (live or replay), holds the rate with a
 * token bucket, hands batches to a sink's writer, retries the destination's outages with
 * backoff, and keeps the live progress: what went out per type, the current rate and how far
 * behind the stream is. It never slows down silently: when the writer cannot keep up, the
 * events keep their due times and the gap shows as lag.
 */
import { backoffMs, unlessAborted } from '../sinks/retry.js';
import { REPLAY_PAUSE, type FeedEvent } from './feed-contract.js';
import type { FeedSource, LiveMinute } from './source.js';
import { TokenBucket, rateAt, type RateSpec } from './rate.js';
import { DeliveryError, type StreamWriter } from './writer.js';

/** Time as the engine sees it: the wall clock in production, a fake one in tests. */
export interface Clock {
  /** Milliseconds since the epoch. */
  now(): number;
  /** Waits `ms`; false if `signal` aborted meanwhile (the wait ends at once then). */
  sleep(ms: number, signal: AbortSignal): Promise<boolean>;
}

export type StreamMode = 'live' | 'replay';

export interface EngineOptions {
  readonly mode: StreamMode;
  /** live: the base rate and the daily curve the bucket refills at. */
  readonly rate: RateSpec;
  /** replay: world seconds per real second; undefined = as fast as the writer takes events. */
  readonly speed?: number;
  /** replay: an upper bound on the rate (events per second), undefined = none. */
  readonly maxRate?: number;
  /** Token bucket capacity: events that may go at once above the rate (default: one second's worth). */
  readonly burst?: number;
  /** Only these event types (undefined = all). */
  readonly types?: ReadonlySet<string>;
  /** Stop after this many events sent (delivered or failed). */
  readonly maxEvents?: number;
  /** Stop after this long (ms of real time). */
  readonly durationMs?: number;
  /** replay: the first feed position. */
  readonly fromSequence?: number;
  /** Largest batch handed to the writer. */
  readonly batchSize?: number;
  /** Retries of one batch during an outage before its events count as failed. */
  readonly retries?: number;
  /** First retry wait, doubled per retry (at most 30 s). */
  readonly backoffMs?: number;
}

export const DEFAULT_BATCH_SIZE = 500;
export const DEFAULT_RETRIES = 10;
export const DEFAULT_BACKOFF_MS = 250;
/** The shortest pause between batches: events due within it go together. */
export const TICK_MS = 20;
/** Lag below this is scheduling noise, not lag. */
const LAG_NOISE_MS = 250;
/** The window of the reported current rate. */
const RATE_WINDOW_MS = 10_000;
/** Error messages kept (counts stay exact). */
const ERRORS_KEPT = 50;

export type StopReason = 'duration' | 'max_events' | 'end_of_feed' | 'cancelled' | 'failed';

/** Live counters of one stream. */
export class StreamProgress {
  delivered = 0;
  failed = 0;
  bytes = 0;
  batches = 0;
  retries = 0;
  readonly byType = new Map<string, { delivered: number; failed: number }>();
  readonly defects = { late: 0, duplicate: 0, bad: 0 };
  lastEventTime: string | null = null;
  lastSequence: number | null = null;
  /** Seconds the oldest event not yet delivered is behind its due time (0 when keeping up). */
  lagSeconds = 0;
  maxLagSeconds = 0;
  /** True while retrying a destination outage. */
  outage = false;
  /**
   * During an outage, when the oldest event not yet delivered was due: the lag grows with the
   * clock while the batch waits to be sent again (it stayed 0 however long the outage lasted).
   */
  outageDue: number | undefined;
  /**
   * A replay at full speed (`speed: max`) has no clock to be behind: every event is due at once,
   * so "lag" would only be the time since the start (a 4.6 s replay said "max lag 4.4 s"). Its lag
   * stays 0; an outage shows as `outage`.
   */
  clockless = false;
  stopReason: StopReason | null = null;
  readonly errors: string[] = [];
  errorCount = 0;
  private readonly recent: { at: number; n: number }[] = [];
  private startedAt: number | undefined;
  private lastAt: number | undefined;

  start(now: number): void {
    this.startedAt = now;
  }

  error(message: string): void {
    this.errorCount++;
    if (this.errors.length < ERRORS_KEPT) this.errors.push(message);
  }

  private type(event: FeedEvent) {
    let counts = this.byType.get(event.event_type);
    if (counts === undefined) {
      counts = { delivered: 0, failed: 0 };
      this.byType.set(event.event_type, counts);
    }
    return counts;
  }

  recordDelivered(events: readonly FeedEvent[], bytes: number, now: number): void {
    for (const event of events) {
      this.type(event).delivered++;
      if (event.defect !== undefined) this.defects[event.defect]++;
    }
    // The position comes from well-formed fields: a malformed (`bad`) copy may carry its
    // event_time as a number or a negative sequence (a stream that ended on one answered 500 on
    // GET /streams/{id} and GET /streams). A copy goes right before its event, so its sequence,
    // when well-formed, is its event's; its time is then no later than the event before it.
    let sequence: number | undefined;
    let time: string | undefined;
    for (let k = events.length - 1; k >= 0 && (sequence === undefined || time === undefined); k--) {
      const event = events[k] as FeedEvent;
      if (sequence === undefined && Number.isSafeInteger(event.sequence) && event.sequence >= 0) sequence = event.sequence;
      if (time === undefined && typeof event.event_time === 'string') time = event.event_time;
    }
    // Batches in flight at once (a writer's concurrency) may be acknowledged out of order: the position only moves forward.
    // (>=: a copy's event, with the same sequence and a well-formed time, may come in the next batch.)
    if (sequence !== undefined && (this.lastSequence === null || sequence >= this.lastSequence)) {
      this.lastSequence = sequence;
      if (time !== undefined) this.lastEventTime = time;
    }
    this.delivered += events.length;
    this.bytes += bytes;
    this.recent.push({ at: now, n: events.length });
    // Trimmed here too, not only when progress is read: a stream nobody watches keeps ten seconds of it.
    while (this.recent.length > 0 && (this.recent[0] as { at: number }).at <= now - RATE_WINDOW_MS) this.recent.shift();
    this.lastAt = now;
  }

  recordFailed(events: readonly FeedEvent[], reason: string): void {
    for (const event of events) this.type(event).failed++;
    this.failed += events.length;
    if (events.length > 0) this.error(`${events.length} event${events.length === 1 ? '' : 's'} from sequence ${events[0]?.sequence}: ${reason}`);
  }

  setLag(ms: number): void {
    if (this.clockless) return;
    this.lagSeconds = ms > LAG_NOISE_MS ? Math.round(ms) / 1000 : 0;
    this.maxLagSeconds = Math.max(this.maxLagSeconds, this.lagSeconds);
  }

  /** An outage is over (delivered, given up or stopped). */
  endOutage(): void {
    this.outage = false;
    this.outageDue = undefined;
  }

  /** The lag as of `now`: during an outage, how long ago the oldest undelivered event was due. */
  private lagAt(now: number): number {
    if (this.clockless || !this.outage || this.outageDue === undefined) return this.lagSeconds;
    const ms = now - this.outageDue;
    const lag = ms > LAG_NOISE_MS ? Math.round(ms) / 1000 : 0;
    this.maxLagSeconds = Math.max(this.maxLagSeconds, lag);
    return lag;
  }

  /** Events per second delivered over the last ten seconds (or since the start, if shorter). */
  rate(now: number): number {
    while (this.recent.length > 0 && (this.recent[0] as { at: number }).at <= now - RATE_WINDOW_MS) this.recent.shift();
    if (this.startedAt === undefined) return 0;
    const window = Math.min(RATE_WINDOW_MS, now - this.startedAt);
    if (window <= 0) return 0;
    const n = this.recent.reduce((sum, r) => sum + r.n, 0);
    return Math.round((n / window) * 1000 * 10) / 10;
  }

  toJSON(now: number) {
    const lag = this.lagAt(now);
    return {
      delivered: this.delivered,
      failed: this.failed,
      bytes: this.bytes,
      batches: this.batches,
      retries: this.retries,
      events_per_second: this.rate(now),
      average_events_per_second:
        this.startedAt !== undefined && this.lastAt !== undefined && this.lastAt > this.startedAt ? Math.round((this.delivered / (this.lastAt - this.startedAt)) * 10_000) / 10 : 0,
      lag_seconds: lag,
      max_lag_seconds: this.maxLagSeconds,
      outage: this.outage,
      last_event_time: this.lastEventTime,
      last_sequence: this.lastSequence,
      by_type: Object.fromEntries([...this.byType.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([type, c]) => [type, { ...c }])),
      defects: { ...this.defects },
      stop_reason: this.stopReason,
      errors: this.errors,
      error_count: this.errorCount,
    };
  }
}

/**
 * An event and the moment (ms since the epoch, real time) it is due to go; or, with no event,
 * the end of a live minute, so that a minute with nothing to send still lets the clock run
 * (and the stream stop) instead of looping through empty minutes.
 */
interface Due {
  readonly event: FeedEvent | undefined;
  readonly due: number;
  /**
   * The next live minute is still being planned: wait for this, then look again. `due` is then
   * when the minute's first event could be due (its start, or the stream's), so waiting past it
   * is lag; -Infinity for a replay's pause.
   */
  readonly pending?: Promise<unknown>;
}

/** While a live minute is being planned, the stream looks at its stop, its end and its lag this often. */
const PLANNING_CHECK_MS = 250;

/** A live minute being loaded: its events once there, or why they could not be. */
interface MinuteLoad {
  events?: LiveMinute;
  error?: unknown;
  readonly ready: Promise<unknown>;
}

function loadMinute(source: FeedSource, minute: number): MinuteLoad {
  const load: { events?: LiveMinute; error?: unknown; ready: Promise<unknown> } = { ready: Promise.resolve() };
  // Errors are kept, never left as an unhandled rejection, and thrown where the minute is read.
  load.ready = Promise.resolve()
    .then(() => source.liveMinute(minute))
    .then(
      (events) => (load.events = events),
      (error: unknown) => (load.error = error ?? new Error('the live minute could not be built')),
    );
  return load;
}

const minuteOf = (ms: number): number => Math.floor(ms / 60_000) * 60_000;

/** A live minute planned (or being planned) for the stream's start. */
interface PlannedMinute {
  readonly minute: number;
  readonly load: MinuteLoad;
}

/**
 * Plans the live minute of the clock's time before a stream's clock starts, and again if the
 * planning took the clock into the next minute; undefined if `stop` aborted first. At a high
 * rate a minute's planning takes a second or more (~1.3 s at 10,000 events/s on this 2-core
 * machine), and a stream whose clock started first began that far behind, with no CPU to spare
 * to catch up. A minute that cannot be planned is left to fail where the stream reads it.
 */
async function planFirstMinute(source: FeedSource, clock: Clock, stop: AbortSignal): Promise<PlannedMinute | undefined> {
  let planned: PlannedMinute | undefined;
  for (let minute = minuteOf(clock.now()); planned?.minute !== minute; minute = minuteOf(clock.now())) {
    const load = loadMinute(source, minute);
    if ((await unlessAborted(load.ready.then(() => true), stop)) === undefined) return undefined;
    planned = { minute, load };
  }
  return planned;
}

const timeAtOf = (events: LiveMinute, i: number): number => ('timeAt' in events ? events.timeAt(i) : timeOf(events[i] as FeedEvent));
const eventAtOf = (events: LiveMinute, i: number): FeedEvent => ('timeAt' in events ? events.at(i) : (events[i] as FeedEvent));

const timeOf = (event: FeedEvent): number => {
  const ms = Date.parse(event.event_time);
  return Number.isNaN(ms) ? -Infinity : ms;
};

/**
 * The events in the order they go, each with its due time. Late events go at their position
 * (after events with later times): a position is due at the latest time seen so far.
 */
function* scheduled(source: FeedSource, options: EngineOptions, startMs: number, planned?: PlannedMinute): Generator<Due> {
  const types = options.types;
  const wanted = (e: FeedEvent) => types === undefined || types.has(e.event_type);
  if (options.mode === 'live') {
    // The first minute from `startMs` on (planned already when `planned` is that minute); nothing
    // earlier is due (nor built). The next minute is planned while one plays, and an event's
    // row is built only when it is about to go.
    let seen = -Infinity;
    const startMinute = minuteOf(startMs);
    let load = planned?.minute === startMinute ? planned.load : loadMinute(source, startMinute);
    for (let minute = startMinute; ; minute += 60_000) {
      if (load.events === undefined && load.error === undefined) yield { event: undefined, due: Math.max(minute, startMs), pending: load.ready };
      if (load.error !== undefined) throw load.error;
      const events = load.events as LiveMinute;
      load = loadMinute(source, minute + 60_000);
      for (let i = 0; i < events.length; i++) {
        seen = Math.max(seen, timeAtOf(events, i));
        if (seen < startMs) continue;
        // A planned minute knows an event's type without building it: skip what types= leaves out.
        if (types !== undefined && 'typeAt' in events && !types.has(events.typeAt(i))) continue;
        const event = eventAtOf(events, i);
        if (wanted(event)) yield { event, due: seen };
      }
      yield { event: undefined, due: minute + 60_000 };
    }
  }
  const speed = options.speed;
  let first: number | undefined;
  let seen = -Infinity;
  for (const event of source.replay(options.fromSequence ?? 0)) {
    // A long walk without an event (a rare types= subset): a turn for the event loop, then on.
    if (event === REPLAY_PAUSE) {
      yield { event: undefined, due: -Infinity, pending: new Promise((resolve) => setImmediate(resolve)) };
      continue;
    }
    if (!wanted(event)) continue;
    if (speed === undefined) {
      yield { event, due: startMs };
      continue;
    }
    seen = Math.max(seen, timeOf(event));
    first ??= seen;
    yield { event, due: startMs + (seen - first) / speed };
  }
}

/**
 * Plays `source` into `writer` until the feed ends, `durationMs` or `maxEvents` is reached, or
 * `stop` aborts (a graceful stop: the batches in flight are finished and counted). `hardStop`
 * additionally aborts the writes in flight. Resolves with why it stopped, once nothing is in
 * flight; progress holds the exact counts. Throws only when the writer cannot open.
 */
export async function runStream(
  source: FeedSource,
  writer: StreamWriter,
  options: EngineOptions,
  clock: Clock,
  progress: StreamProgress,
  stop: AbortSignal,
  hardStop: AbortSignal = stop,
): Promise<StopReason> {
  await writer.open(hardStop);
  const first = options.mode === 'live' ? await planFirstMinute(source, clock, stop) : undefined;
  if (options.mode === 'live' && first === undefined) return 'cancelled';
  const startMs = clock.now();
  progress.start(startMs);
  progress.clockless = options.mode === 'replay' && options.speed === undefined;
  const endMs = options.durationMs === undefined ? Infinity : startMs + options.durationMs;
  const maxEvents = options.maxEvents ?? Infinity;
  const batchSize = options.batchSize ?? DEFAULT_BATCH_SIZE;
  const bucketRate =
    options.mode === 'live' ? (ms: number) => rateAt(options.rate, ms) : options.maxRate !== undefined ? () => options.maxRate as number : undefined;
  const burst = options.burst ?? Math.max(1, Math.ceil(options.mode === 'live' ? options.rate.eventsPerSecond : (options.maxRate ?? 1)));
  const bucket = bucketRate === undefined ? undefined : new TokenBucket(bucketRate, burst, startMs);
  const events = scheduled(source, options, startMs, first)[Symbol.iterator]();
  let next: Due | undefined;
  let ended = false;
  const peek = (): Due | undefined => {
    if (next === undefined && !ended) {
      const step = events.next();
      if (step.done) ended = true;
      else next = step.value;
    }
    return next;
  };
  let sent = 0;
  // A replay at full speed with no rate bound knows its next batch before the current one is
  // delivered: it is collected and handed to the writer to prepare while the current one is in
  // flight, and sent at once when the writer takes more than one batch at a time (its
  // `concurrency`). Events collected ahead and never sent (a stop) were never counted.
  const ahead = options.mode === 'replay' && options.speed === undefined && bucket === undefined;
  const concurrency = ahead ? Math.max(1, Math.floor(writer.concurrency ?? 1)) : 1;
  /** Deliveries not yet awaited, oldest first (at most `concurrency`); every return waits for them. */
  const inFlight: Promise<void>[] = [];
  let collected: Batch | undefined;
  const collect = (now: number, room: number): Batch => {
    const batch: Batch = { events: [], dues: [] };
    for (let due = peek(); due !== undefined && due.pending === undefined && due.due <= now && batch.events.length < room; due = peek()) {
      if (due.event !== undefined) {
        batch.events.push(due.event);
        batch.dues.push(due.due);
      }
      next = undefined;
    }
    return batch;
  };

  /**
   * A live stream stopped behind its clock says so: the events due by the stop but not yet sent
   * are neither delivered nor failed, and a re-fetch of its window has them (a 12 s stream whose
   * webhook answered 500 for 8 s ended `succeeded` with 106 of the 243 events due, silently).
   */
  const noteBehind = (at: number): void => {
    if (options.mode !== 'live') return;
    const head = peek();
    if (head === undefined || (head.event === undefined && head.pending === undefined) || !Number.isFinite(head.due)) return;
    const behind = at - head.due;
    if (behind <= LAG_NOISE_MS) return;
    progress.setLag(behind);
    progress.error(
      `stopped ${(behind / 1000).toFixed(1)} s behind its clock: the events due from ${new Date(head.due).toISOString()} were not sent (nor counted as failed); GET /api/v1/events/live has them`,
    );
  };

  const play = async (): Promise<StopReason> => {
    for (;;) {
      if (stop.aborted) {
        noteBehind(clock.now());
        return 'cancelled';
      }
      if (sent >= maxEvents) return 'max_events';
      let now = clock.now();
      if (now >= endMs) {
        noteBehind(endMs);
        return 'duration';
      }
      let batch: Batch;
      if (collected !== undefined) {
        batch = collected;
        collected = undefined;
      } else {
        const head = peek();
        if (head === undefined) return 'end_of_feed';
        if (head.pending !== undefined) {
          if (!Number.isFinite(head.due)) {
            await head.pending;
            next = undefined;
            continue;
          }
          // A live minute still being planned (at a high rate, planning can take longer than the
          // minute): the wait is lag once the minute is due, and a stop or the end of the duration
          // does not wait for the planning (a 20 s stream at 100,000 events/s ran 33 s, then
          // reported nothing sent and no lag).
          const ready = head.pending.then(() => true);
          // A plan ready within a turn of the event loop is taken at once, with no timer.
          if (await Promise.race([ready, new Promise<false>((resolve) => setImmediate(() => resolve(false)))])) {
            next = undefined;
            continue;
          }
          progress.setLag(clock.now() - head.due);
          const planned = await Promise.race([ready, clock.sleep(Math.min(PLANNING_CHECK_MS, endMs - clock.now()), stop).then(() => false)]);
          if (planned) next = undefined;
          else progress.setLag(clock.now() - head.due);
          continue;
        }
        if (head.event === undefined && head.due <= now) {
          next = undefined;
          continue;
        }
        progress.setLag(head.event === undefined ? 0 : now - head.due);
        if (head.due > now) {
          // Nothing due yet: wait for the next event (at least a tick, so events go in small batches), never past the end.
          if (!(await clock.sleep(Math.min(Math.max(TICK_MS, head.due - now), endMs - now), stop))) return 'cancelled';
          continue;
        }
        // Everything due by now, up to the batch size, the events left and the tokens in the bucket.
        let room = Math.min(batchSize, maxEvents - sent);
        if (bucket !== undefined) {
          const tokens = bucket.available(now);
          if (tokens < 1) {
            const wait = bucket.waitFor(1, now);
            if (!(await clock.sleep(Math.min(Math.max(1, wait), Math.max(1, endMs - now)), stop))) return 'cancelled';
            continue;
          }
          room = Math.min(room, tokens);
        }
        batch = collect(now, room);
      }
      if (batch.events.length === 0) continue;
      bucket?.take(batch.events.length, now);
      sent += batch.events.length;
      const delivery = deliver(batch, writer, options, clock, progress, stop, hardStop);
      if (ahead && writer.prepare !== undefined && sent < maxEvents) {
        // The batch leaves first: kafkajs puts a request on the wire only after a few promise turns,
        // and building the next batch here, synchronously, held it back until that was done (no
        // overlap with the broker). One macrotask runs after those turns. (pg sends at once.)
        await new Promise<void>((resolve) => setImmediate(resolve));
        const following = collect(now, Math.min(batchSize, maxEvents - sent));
        if (following.events.length > 0) {
          writer.prepare(following.events);
          collected = following;
        }
      }
      inFlight.push(delivery);
      // With one batch at a time, this one; otherwise the oldest, while the newer ones are applied.
      while (inFlight.length >= concurrency) await inFlight.shift();
      now = clock.now();
      const after = peek();
      progress.setLag(after === undefined || after.event === undefined ? 0 : now - after.due);
    }
  };
  try {
    return await play();
  } finally {
    // A stop (or the end) lets every batch in flight finish and be counted.
    await Promise.all(inFlight);
  }
}

/** Events handed to the writer together, with the time each was due. */
interface Batch {
  readonly events: FeedEvent[];
  readonly dues: number[];
}

/** Sends one batch, retrying outages with backoff; every event ends counted delivered or failed. */
async function deliver(
  { events: batch, dues }: Batch,
  writer: StreamWriter,
  options: EngineOptions,
  clock: Clock,
  progress: StreamProgress,
  stop: AbortSignal,
  hardStop: AbortSignal,
): Promise<void> {
  const retries = options.retries ?? DEFAULT_RETRIES;
  let rest = batch;
  progress.batches++;
  for (let attempt = 0; ; attempt++) {
    try {
      const outcome = await writer.write(rest, hardStop);
      const refused = outcome.refused ?? new Map<number, string>();
      progress.recordDelivered(
        rest.filter((_, k) => !refused.has(k)),
        outcome.bytes,
        clock.now(),
      );
      for (const [k, reason] of refused) progress.recordFailed([rest[k] as FeedEvent], reason);
      progress.endOutage();
      return;
    } catch (error) {
      const failure = error instanceof DeliveryError ? error : new DeliveryError(error instanceof Error ? error.message : String(error));
      if (failure.delivered > 0) {
        progress.recordDelivered(rest.slice(0, failure.delivered), failure.bytes, clock.now());
        rest = rest.slice(failure.delivered);
      }
      if (hardStop.aborted) {
        progress.endOutage();
        progress.recordFailed(rest, `not delivered: the stream was stopped while sending (${failure.message})`);
        return;
      }
      if (!failure.retriable || attempt >= retries) {
        progress.endOutage();
        progress.recordFailed(rest, failure.retriable ? `${failure.message} (gave up after ${attempt + 1} attempts)` : failure.message);
        return;
      }
      progress.outage = true;
      // The oldest event still to send (batches go in feed order, one at a time while retrying).
      progress.outageDue = dues[batch.length - rest.length];
      progress.retries++;
      if (attempt === 0) progress.error(`destination outage, retrying: ${failure.message}`);
      // A graceful stop ends the wait too: the events still undelivered are counted failed, not left in limbo.
      if (!(await clock.sleep(backoffMs(options.backoffMs ?? DEFAULT_BACKOFF_MS, attempt), stop))) {
        progress.endOutage();
        progress.recordFailed(rest, `not delivered: the stream was stopped during a destination outage (${failure.message})`);
        return;
      }
    }
  }
}
