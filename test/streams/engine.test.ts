import t from 'tap';
import { StreamProgress, runStream, type EngineOptions } from '../../src/streams/engine.js';
import { REPLAY_PAUSE, type FeedEvent } from '../../src/streams/feed-contract.js';
import { expectedEvents, type RateSpec } from '../../src/streams/rate.js';
import { DeliveryError, type StreamWriter, type WriteOutcome } from '../../src/streams/writer.js';
import { liveEventsBuilt, liveMinute, liveMinuteEventsAsync } from '../../src/events/live.js';
import { FakeClock } from '../support/fake-clock.js';
import { boundedFeed, liveFeed, testEvent } from '../support/feed-source.js';

/** A writer that keeps what it gets with the fake time it got it, and can be told to fail or be slow. */
class RecordingWriter implements StreamWriter {
  readonly destination = 'memory';
  readonly received: { event: FeedEvent; at: number }[] = [];
  /** Milliseconds of fake time each write takes. */
  writeMs = 0;
  /** Fails writes while this returns a message. */
  failWhen: (at: number, batch: readonly FeedEvent[]) => string | undefined = () => undefined;
  attempts = 0;
  opened = false;
  closed = false;

  constructor(private readonly clock: FakeClock) {}

  async open(): Promise<void> {
    this.opened = true;
  }

  async write(batch: readonly FeedEvent[]): Promise<WriteOutcome> {
    this.attempts++;
    this.clock.advance(this.writeMs);
    const failure = this.failWhen(this.clock.now(), batch);
    if (failure !== undefined) throw new DeliveryError(failure);
    for (const event of batch) this.received.push({ event, at: this.clock.now() });
    return { bytes: batch.length * 10 };
  }

  async close(): Promise<void> {
    this.closed = true;
  }
}

const live = (rate: RateSpec, extra: Partial<EngineOptions> = {}): EngineOptions => ({ mode: 'live', rate, ...extra });

/** The ids of a minute's events a live stream sends in [from, to): a position is due at the latest event time up to it. */
function dueIds(events: readonly FeedEvent[], from: number, to = Infinity): string[] {
  let seen = -Infinity;
  const ids: string[] = [];
  for (const event of events) {
    seen = Math.max(seen, Date.parse(event.event_time));
    if (seen >= from && seen < to) ids.push(event.event_id);
  }
  return ids;
}

t.test('live at 1,000 events/s, curve off: every minute within 2% of 60,000, times are the clock', async (t) => {
  const start = Date.UTC(2026, 10, 30, 9, 0, 17);
  const clock = new FakeClock(start);
  const writer = new RecordingWriter(clock);
  const rate = { eventsPerSecond: 1000, dailyCurve: false, timeZone: 'UTC' };
  const progress = new StreamProgress();
  const reason = await runStream(liveFeed(rate), writer, live(rate, { durationMs: 3 * 60_000 }), clock, progress, new AbortController().signal);
  t.equal(reason, 'duration');
  // Any minute: sliding windows starting every 10 s.
  const worst = { low: Infinity, high: 0 };
  for (let from = start; from + 60_000 <= start + 3 * 60_000; from += 10_000) {
    const n = writer.received.filter((r) => r.at >= from && r.at < from + 60_000).length;
    worst.low = Math.min(worst.low, n);
    worst.high = Math.max(worst.high, n);
  }
  t.ok(worst.low >= 58_800 && worst.high <= 61_200, `per-minute counts ${worst.low}..${worst.high} within 60,000 ± 2%`);
  t.equal(progress.delivered, writer.received.length, 'delivered counts what the writer took');
  t.equal(progress.failed, 0);
  t.ok(writer.received.every((r) => Date.parse(r.event.event_time) <= r.at + 1 || r.event.defect === 'late'), 'no event goes before its time');
  const maxEarly = writer.received.filter((r) => r.event.defect !== 'late').reduce((m, r) => Math.max(m, r.at - Date.parse(r.event.event_time)), 0);
  t.ok(maxEarly < 100, `events go within 100 ms of their time (worst ${maxEarly} ms)`);
  t.equal(progress.lagSeconds, 0, 'no lag when the writer keeps up');
  t.ok(writer.received.every((r) => r.at >= start), 'nothing from before the start');
  const sequences = writer.received.map((r) => r.event.sequence);
  t.same(sequences, [...sequences].sort((a, b) => a - b), 'in feed order');
  t.equal(new Set(sequences).size, sequences.length, 'each once');
});

t.test('live with the daily curve: per-minute counts follow the curve within 2%', async (t) => {
  for (const hour of [3, 9, 15]) {
    const start = Date.UTC(2026, 0, 12, hour, 0);
    const clock = new FakeClock(start);
    const writer = new RecordingWriter(clock);
    const rate = { eventsPerSecond: 1000, dailyCurve: true, timeZone: 'Europe/London' };
    const progress = new StreamProgress();
    await runStream(liveFeed(rate), writer, live(rate, { durationMs: 3 * 60_000 }), clock, progress, new AbortController().signal);
    for (let m = 0; m < 3; m++) {
      const from = start + m * 60_000;
      const n = writer.received.filter((r) => r.at >= from && r.at < from + 60_000).length;
      const expected = expectedEvents(rate, from, from + 60_000);
      t.ok(Math.abs(n - expected) / expected <= 0.02, `${hour}:0${m} London: ${n} events, expected ${Math.round(expected)}`);
    }
  }
});

t.test('the token bucket holds the rate when the feed bunches up', async (t) => {
  // A replay of 10,000 events all due at once, capped at 100/s with a burst of 20.
  const clock = new FakeClock(Date.UTC(2026, 0, 1));
  const writer = new RecordingWriter(clock);
  const progress = new StreamProgress();
  const options: EngineOptions = { mode: 'replay', rate: { eventsPerSecond: 1, dailyCurve: false, timeZone: 'UTC' }, maxRate: 100, burst: 20, maxEvents: 3000 };
  const reason = await runStream(boundedFeed(10_000, 0, 0), writer, options, clock, progress, new AbortController().signal);
  t.equal(reason, 'max_events');
  t.equal(writer.received.length, 3000, 'exactly max_events');
  const span = (writer.received[2999] as { at: number }).at - (writer.received[0] as { at: number }).at;
  t.ok(Math.abs(span - 29_800) <= 300, `3,000 events at 100/s after a burst of 20 take ~29.8 s (took ${span} ms)`);
  for (let from = clock.ms - 25_000; from < clock.ms - 10_000; from += 1000) {
    const n = writer.received.filter((r) => r.at >= from && r.at < from + 10_000).length;
    t.ok(n <= 1000 + 20, `at most rate x 10 s + burst in any 10 s (${n})`);
  }
});

t.test('replay at a speed: world time compressed, order kept, the feed ends the stream', async (t) => {
  const clock = new FakeClock(Date.UTC(2026, 0, 1));
  const writer = new RecordingWriter(clock);
  const progress = new StreamProgress();
  // 600 events one minute apart (10 hours of world time) at 60x: 10 minutes.
  const worldStart = Date.UTC(2025, 0, 1);
  const options: EngineOptions = { mode: 'replay', rate: { eventsPerSecond: 1, dailyCurve: false, timeZone: 'UTC' }, speed: 60 };
  const reason = await runStream(boundedFeed(600, worldStart, 60_000), writer, options, clock, progress, new AbortController().signal);
  t.equal(reason, 'end_of_feed');
  t.equal(writer.received.length, 600);
  t.same(writer.received.map((r) => r.event), Array.from({ length: 600 }, (_, s) => testEvent(s, worldStart + s * 60_000)), 'every event as the source has it, in order');
  for (const { event, at } of writer.received.filter((r) => r.event.defect === undefined)) {
    const due = Date.UTC(2026, 0, 1) + (Date.parse(event.event_time) - worldStart) / 60;
    if (at < due || at > due + 100) t.fail(`event ${event.sequence} went at +${at - due} ms`);
  }
  t.equal(progress.defects.late, writer.received.filter((r) => r.event.defect === 'late').length, 'late events counted');
  t.ok(progress.defects.late > 0 && progress.defects.duplicate > 0, 'the feed had labelled late and duplicate events');
  t.equal(Object.values(progress.toJSON(clock.ms).by_type).reduce((n, c) => n + c.delivered, 0), 600, 'per-type counts add up');
});

t.test('a writer that cannot keep up: lag is reported, nothing is skipped', async (t) => {
  const start = Date.UTC(2026, 0, 1, 12);
  const clock = new FakeClock(start);
  const writer = new RecordingWriter(clock);
  writer.writeMs = 1000; // each batch takes a second, batches of at most 100 at 1,000 events/s
  const rate = { eventsPerSecond: 1000, dailyCurve: false, timeZone: 'UTC' };
  const progress = new StreamProgress();
  await runStream(liveFeed(rate), writer, live(rate, { durationMs: 60_000, batchSize: 100 }), clock, progress, new AbortController().signal);
  t.ok(progress.lagSeconds > 40, `lag reported: ${progress.lagSeconds} s behind after a minute`);
  t.ok(progress.maxLagSeconds >= progress.lagSeconds);
  const sequences = writer.received.map((r) => r.event.sequence);
  t.same(sequences, Array.from({ length: sequences.length }, (_, k) => (sequences[0] as number) + k), 'no event skipped to catch up');
});

t.test('an outage: the batch is retried with backoff and delivered; beyond the retries it counts failed', async (t) => {
  const start = Date.UTC(2026, 0, 1);
  const clock = new FakeClock(start);
  const writer = new RecordingWriter(clock);
  // Down for 5 seconds of the stream's 20.
  writer.failWhen = (at) => (at >= start + 5000 && at < start + 10_000 ? 'HTTP 503 Service Unavailable' : undefined);
  const progress = new StreamProgress();
  const options: EngineOptions = { mode: 'replay', rate: { eventsPerSecond: 1, dailyCurve: false, timeZone: 'UTC' }, speed: 1 };
  await runStream(boundedFeed(20, start, 1000), writer, options, clock, progress, new AbortController().signal);
  t.equal(progress.delivered, 20, 'every event delivered in the end');
  t.equal(progress.failed, 0);
  t.ok(progress.retries >= 3, `retried ${progress.retries} times`);
  t.same(writer.received.map((r) => r.event.sequence), Array.from({ length: 20 }, (_, k) => k), 'each once, in order');
  t.match(progress.errors[0], /outage, retrying: HTTP 503/);
  t.ok(progress.maxLagSeconds >= 3, `the outage showed as lag (${progress.maxLagSeconds} s)`);

  const down = new RecordingWriter(clock);
  down.failWhen = () => 'connection refused';
  const failed = new StreamProgress();
  await runStream(boundedFeed(5, 0, 0), down, { ...options, speed: undefined, retries: 2, batchSize: 2 }, clock, failed, new AbortController().signal);
  t.equal(failed.failed, 5, 'every event counted failed');
  t.equal(failed.delivered, 0);
  t.equal(down.attempts, 3 * 3, 'three batches, three attempts each');
  t.match(failed.errors.join('\n'), /gave up after 3 attempts/);
  t.same(failed.toJSON(clock.ms).by_type['order.placed'], { delivered: 0, failed: 1 });
});

t.test('a graceful stop during an outage counts what was not delivered', async (t) => {
  const clock = new FakeClock(0);
  const writer = new RecordingWriter(clock);
  const stop = new AbortController();
  writer.failWhen = (_at, batch) => {
    if ((batch[0] as FeedEvent).sequence >= 3) {
      stop.abort();
      return 'down';
    }
    return undefined;
  };
  const progress = new StreamProgress();
  const reason = await runStream(boundedFeed(10, 0, 0), writer, { mode: 'replay', rate: { eventsPerSecond: 1, dailyCurve: false, timeZone: 'UTC' }, batchSize: 3 }, clock, progress, stop.signal);
  t.equal(reason, 'cancelled');
  t.equal(progress.delivered, 3);
  t.equal(progress.failed, 3, 'the batch in the outage counted failed');
  t.equal(progress.delivered + progress.failed, 6, 'the rest never left');
});

t.test('live with nothing to send: the clock still runs and the stream ends on time', async (t) => {
  const start = Date.UTC(2026, 0, 1, 12);
  const clock = new FakeClock(start);
  const writer = new RecordingWriter(clock);
  const rate = { eventsPerSecond: 50, dailyCurve: false, timeZone: 'UTC' };
  const progress = new StreamProgress();
  const reason = await runStream(liveFeed(rate), writer, live(rate, { durationMs: 10 * 60_000, types: new Set(['no.such_type']) }), clock, progress, new AbortController().signal);
  t.equal(reason, 'duration');
  t.equal(progress.delivered, 0);
  t.equal(clock.ms, start + 10 * 60_000, 'ended at the duration');
  t.equal(progress.lagSeconds, 0);
});

/** A writer that takes two batches at once and acknowledges each pair newest first. */
class PairWriter implements StreamWriter {
  readonly destination = 'memory';
  readonly concurrency = 2;
  /** Sequences in the order acknowledged. */
  readonly acknowledged: number[] = [];
  maxInFlight = 0;
  onWrite: (batch: readonly FeedEvent[]) => void = () => undefined;
  private pending: { batch: readonly FeedEvent[]; done: () => void }[] = [];

  async open(): Promise<void> {}

  write(batch: readonly FeedEvent[]): Promise<WriteOutcome> {
    return new Promise((resolve) => {
      this.pending.push({ batch, done: () => resolve({ bytes: batch.length }) });
      this.maxInFlight = Math.max(this.maxInFlight, this.pending.length);
      this.onWrite(batch);
      // The engine hands the second batch over in the same turn: both are in flight by then.
      setImmediate(() => {
        for (const { batch: b, done } of this.pending.splice(0).reverse()) {
          this.acknowledged.push(...b.map((e) => e.sequence));
          done();
        }
      });
    });
  }

  get inFlight(): number {
    return this.pending.length;
  }

  async close(): Promise<void> {}
}

t.test('a writer that takes two batches at once: acknowledged out of order, counted exactly; a stop waits for both', async (t) => {
  const replay: EngineOptions = { mode: 'replay', rate: { eventsPerSecond: 1, dailyCurve: false, timeZone: 'UTC' }, batchSize: 2 };
  const writer = new PairWriter();
  const progress = new StreamProgress();
  const reason = await runStream(boundedFeed(11, 0, 0), writer, replay, new FakeClock(0), progress, new AbortController().signal);
  t.equal(reason, 'end_of_feed');
  t.equal(writer.maxInFlight, 2, 'two batches in flight at once');
  t.not(writer.acknowledged.join(), [...writer.acknowledged].sort((a, b) => a - b).join(), 'acknowledged out of order');
  t.same([...writer.acknowledged].sort((a, b) => a - b), Array.from({ length: 11 }, (_, k) => k), 'each event once');
  t.equal(progress.delivered, 11);
  t.equal(progress.batches, 6);
  t.equal(progress.lastSequence, 10, 'the last position is the newest acknowledged, not the last to answer');

  // Stopped while two batches are with the writer: both finish and count, nothing after them goes.
  const stop = new AbortController();
  const stopped = new PairWriter();
  stopped.onWrite = (batch) => {
    if ((batch[0] as FeedEvent).sequence === 4) stop.abort();
  };
  const counted = new StreamProgress();
  t.equal(await runStream(boundedFeed(11, 0, 0), stopped, replay, new FakeClock(0), counted, stop.signal), 'cancelled');
  t.equal(stopped.inFlight, 0, 'nothing in flight when the stream has stopped');
  t.same([...stopped.acknowledged].sort((a, b) => a - b), [0, 1, 2, 3, 4, 5], 'the batches handed over, and only they');
  t.equal(counted.delivered, 6, 'delivered is exactly what was acknowledged');
  t.equal(counted.lastSequence, 5);

  // A live stream (or a replay at a rate) keeps one batch at a time whatever the writer takes.
  const paced = new PairWriter();
  await runStream(boundedFeed(6, 0, 1000), paced, { ...replay, speed: 100 }, new FakeClock(0), new StreamProgress(), new AbortController().signal);
  t.equal(paced.maxInFlight, 1, 'one at a time when paced');
});

t.test('a replay pause (a long walk of a rare types= subset) is a turn of the event loop, never an event', async (t) => {
  const clock = new FakeClock(Date.UTC(2026, 0, 1));
  const writer = new RecordingWriter(clock);
  const progress = new StreamProgress();
  const events = Array.from({ length: 300 }, (_, k) => testEvent(k, Date.UTC(2025, 0, 1) + k * 1000));
  // A pause before, between and after the events, and runs of them.
  const replayed: FeedEvent[] = [REPLAY_PAUSE, REPLAY_PAUSE];
  for (const [k, event] of events.entries()) replayed.push(event, ...(k % 7 === 0 ? [REPLAY_PAUSE] : []), ...(k % 50 === 0 ? [REPLAY_PAUSE, REPLAY_PAUSE] : []));
  replayed.push(REPLAY_PAUSE);
  let turns = 0;
  const source = {
    replay: function* () {
      for (const event of replayed) {
        if (event === REPLAY_PAUSE) turns++;
        yield event;
      }
    },
    liveMinute: () => Promise.reject(new Error('replay only')),
  };
  // A setImmediate callback counts the event loop's turns while the stream plays.
  let immediates = 0;
  const tick = (): void => {
    immediates++;
    if (!done) setImmediate(tick);
  };
  let done = false;
  setImmediate(tick);
  const reason = await runStream(source, writer, { mode: 'replay', rate: { eventsPerSecond: 1, dailyCurve: false, timeZone: 'UTC' }, batchSize: 1000 }, clock, progress, new AbortController().signal);
  done = true;
  t.equal(reason, 'end_of_feed');
  t.same(writer.received.map((r) => r.event), events, 'every event once, in order; no pause sent');
  t.equal(turns, replayed.length - events.length, 'every pause was read');
  t.ok(immediates >= 5, `the event loop turned while the replay played (${immediates} turns)`);
  t.equal(progress.toJSON(clock.now()).delivered, 300);
});

t.test('a live minute still being planned at the end of the duration: the stream stops on time and shows the wait as lag', async (t) => {
  // At a high rate planning a minute can take longer than the minute (100,000 events/s on a
  // loaded 2-core machine: a 20 s stream ran 33 s, sent nothing, and said lag 0). Here the
  // stream starts 3 s before a minute ends, and the next minute's plan arrives only after 300 ms
  // of real time, long after the fake clock has passed the stream's 5 s.
  const start = Date.UTC(2026, 11, 1, 12, 0, 57);
  const clock = new FakeClock(start);
  const writer = new RecordingWriter(clock);
  const rate = { eventsPerSecond: 100, dailyCurve: false, timeZone: 'UTC' };
  const feed = liveFeed(rate);
  const firstMinute = Math.floor(start / 60_000) * 60_000;
  const delay = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
  const slowNext = { replay: feed.replay, liveMinute: async (minute: number) => { if (minute !== firstMinute) await delay(300); return feed.liveMinute(minute); } };
  const progress = new StreamProgress();
  const reason = await runStream(slowNext, writer, live(rate, { durationMs: 5_000 }), clock, progress, new AbortController().signal);
  t.equal(reason, 'duration', 'stopped by its duration');
  t.equal(clock.now() - start, 5_000, 'at its end, not when the plan arrived');
  const due = dueIds(feed.liveMinute(firstMinute), start);
  t.ok(due.length > 200, `${due.length} events due in the first minute's last 3 s`);
  t.same(writer.received.map((r) => r.event.event_id), due, 'the first minute played in full, nothing of the next');
  t.equal(progress.maxLagSeconds, 2, 'the wait for the next minute (2 s) shows as lag');
  // And a stop while the first minute is planned ends the stream at once.
  const slow = { replay: feed.replay, liveMinute: async (minute: number) => { await delay(300); return feed.liveMinute(minute); } };
  const stopper = new AbortController();
  const progress2 = new StreamProgress();
  const stopped = runStream(slow, new RecordingWriter(new FakeClock(start)), live(rate), new FakeClock(start), progress2, stopper.signal);
  stopper.abort();
  t.equal(await stopped, 'cancelled');
  t.equal(progress2.delivered, 0);
});

t.test("a live stream's first minute is planned before its clock starts: a slow plan is not lag", async (t) => {
  // At 10,000 events/s a minute's plan takes ~1.3 s: a stream whose clock started first began
  // that far behind, and on a busy machine never caught up. Here every plan takes 300 ms of real
  // time, and the clock moves on its own while it is planned (as the wall clock does): the first
  // minute is planned before the stream starts, so its first events are sent on time.
  const start = Date.UTC(2026, 11, 1, 12, 0, 20);
  const clock = new FakeClock(start);
  const rate = { eventsPerSecond: 100, dailyCurve: false, timeZone: 'UTC' };
  const feed = liveFeed(rate);
  const plannedAt: number[] = [];
  const slow = {
    replay: feed.replay,
    liveMinute: async (minute: number) => {
      plannedAt.push(clock.now());
      await new Promise((resolve) => setTimeout(resolve, 300));
      clock.advance(1_300);
      return feed.liveMinute(minute);
    },
  };
  const writer = new RecordingWriter(clock);
  const progress = new StreamProgress();
  const reason = await runStream(slow, writer, live(rate, { durationMs: 10_000 }), clock, progress, new AbortController().signal);
  t.equal(reason, 'duration');
  const startedAt = start + 1_300;
  t.equal(plannedAt[0], start, 'the first minute was planned first');
  const due = dueIds(feed.liveMinute(Math.floor(start / 60_000) * 60_000), startedAt, startedAt + 10_000);
  t.ok(due.length > 900, `${due.length} events due`);
  const sent = writer.received.map((r) => r.event.event_id);
  // The last tick before the end may stay unsent (the stream stops at its end).
  t.ok(sent.length >= due.length - 5, `${sent.length} sent of the ${due.length} due`);
  t.same(sent, due.slice(0, sent.length), 'the events of its 10 s, from when it started, in order');
  t.equal(progress.maxLagSeconds, 0, 'never behind');
  t.same(progress.errors, [], 'no note of being behind');

  // Planning that takes the clock into the next minute plans that one too.
  const late = Date.UTC(2026, 11, 1, 12, 0, 59, 500);
  clock.ms = late;
  plannedAt.length = 0;
  const writer2 = new RecordingWriter(clock);
  const progress2 = new StreamProgress();
  await runStream(slow, writer2, live(rate, { durationMs: 5_000 }), clock, progress2, new AbortController().signal);
  const nextMinute = Math.floor(late / 60_000) * 60_000 + 60_000;
  t.equal(plannedAt.length >= 2 && plannedAt[1]! >= nextMinute, true, 'the minute the clock had reached was planned before the start');
  t.equal(progress2.maxLagSeconds, 0, 'never behind');
  t.equal(writer2.received[0]?.event.event_id, dueIds(feed.liveMinute(nextMinute), clock.now() - 5_000)[0], 'the first event is the first due at the start');
});

t.test('a live stream stopped behind its clock says so; one that kept up does not', async (t) => {
  const start = Date.UTC(2026, 0, 1, 12);
  const rate = { eventsPerSecond: 100, dailyCurve: false, timeZone: 'UTC' };
  const slowClock = new FakeClock(start);
  const slow = new RecordingWriter(slowClock);
  slow.writeMs = 2000; // each batch of at most 50 takes 2 s: half the rate gets through
  const behind = new StreamProgress();
  t.equal(await runStream(liveFeed(rate), slow, live(rate, { durationMs: 20_000, batchSize: 50 }), slowClock, behind, new AbortController().signal), 'duration');
  const due = liveFeed(rate).liveMinute(start).filter((e) => Date.parse(e.event_time) < start + 20_000).length;
  t.ok(behind.delivered < due, `${behind.delivered} delivered of the ${due} due in the 20 s`);
  t.equal(behind.failed, 0, 'the rest is not counted failed');
  const notSent = slow.received.length === 0 ? undefined : liveFeed(rate).liveMinute(start)[slow.received.length];
  t.equal(behind.errors.length, 1);
  t.match(behind.errors[0], new RegExp(`^stopped \\d+\\.\\d s behind its clock: the events due from ${notSent?.event_time.replace('Z', '')}.*Z were not sent \\(nor counted as failed\\); GET /api/v1/events/live has them$`));
  t.ok(behind.lagSeconds >= 5, `lag at the stop: ${behind.lagSeconds} s`);

  const clock = new FakeClock(start);
  const kept = new StreamProgress();
  await runStream(liveFeed(rate), new RecordingWriter(clock), live(rate, { durationMs: 20_000 }), clock, kept, new AbortController().signal);
  t.same(kept.errors, [], 'a stream that kept up has no such message');
});

t.test('a live stream with types= builds only the events it sends: the others are skipped by their planned type', async (t) => {
  const start = Date.UTC(2026, 11, 1, 12, 0, 0);
  const clock = new FakeClock(start);
  const writer = new RecordingWriter(clock);
  const spec = { seed: 5, locale: 'en_US' as const, events_per_second: 200, daily_curve: false };
  const rate = { eventsPerSecond: 200, dailyCurve: false, timeZone: 'UTC' };
  const source = { replay: () => [], liveMinute: (minute: number) => liveMinuteEventsAsync(spec, minute) };
  const wanted = new Set(['order.placed', 'interaction.cart_add']);
  const before = liveEventsBuilt();
  const progress = new StreamProgress();
  t.equal(await runStream(source, writer, live(rate, { durationMs: 30_000, types: wanted }), clock, progress, new AbortController().signal), 'duration');
  const built = liveEventsBuilt() - before;
  const sent = writer.received.map((r) => r.event);
  t.ok(sent.length > 100, `${sent.length} events sent`);
  t.ok(sent.every((e) => wanted.has(e.event_type)), 'only the wanted types');
  const due = liveMinute(spec, start).filter((e) => wanted.has(e.event_type) && Date.parse(e.event_time) < start + 30_000);
  t.same(sent.map((e) => e.event_id), due.map((e) => e.event_id), "exactly the minute's events of those types in the 30 s");
  // The engine looks one event ahead: the first one due after the end is built, not sent.
  t.ok(built >= sent.length && built <= sent.length + 1, `built ${built} for ${sent.length} sent, none of the other types (before, every event due was built)`);
});
