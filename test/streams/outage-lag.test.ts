/**
 * A destination outage shows as lag while it lasts: `lag_seconds` is how long ago the oldest
 * event not yet delivered was due, growing with the clock as the batch waits to be sent again
 * (it stayed 0 for the whole outage, and only a stop said how far behind the stream had been).
 */
import t from 'tap';
import { StreamProgress, runStream, type EngineOptions } from '../../src/streams/engine.js';
import type { FeedEvent } from '../../src/streams/feed-contract.js';
import { DeliveryError, type StreamWriter, type WriteOutcome } from '../../src/streams/writer.js';
import { FakeClock } from '../support/fake-clock.js';
import { boundedFeed } from '../support/feed-source.js';

/** Fails every write in [downFrom, downTo) of the fake clock; the first failed one delivers `partial` events of its batch. */
class FlakyWriter implements StreamWriter {
  readonly destination = 'memory';
  readonly received: FeedEvent[] = [];
  /** What GET /streams/{id} would have shown at each failed attempt. */
  readonly seen: { at: number; lag: number; outage: boolean }[] = [];
  progress: StreamProgress | undefined;
  /** Called after each failed attempt is recorded (a test stops the stream from here). */
  onFailure: () => void = () => undefined;
  /** Fake time the first write takes (so that the events due meanwhile go in one batch). */
  firstWriteMs = 0;
  constructor(
    private readonly clock: FakeClock,
    private readonly downFrom: number,
    private readonly downTo: number,
    private partial = 0,
  ) {}
  async open(): Promise<void> {}
  async close(): Promise<void> {}
  async write(batch: readonly FeedEvent[]): Promise<WriteOutcome> {
    const first = this.firstWriteMs > 0;
    this.clock.advance(this.firstWriteMs);
    this.firstWriteMs = 0;
    const at = this.clock.now();
    if (!first && at >= this.downFrom && at < this.downTo) {
      const view = this.progress?.toJSON(at);
      if (view) this.seen.push({ at, lag: view.lag_seconds, outage: view.outage });
      this.onFailure();
      const delivered = Math.min(this.partial, batch.length - 1);
      this.partial = 0; // once: the first failed write took part of its batch
      this.received.push(...batch.slice(0, delivered));
      throw new DeliveryError('HTTP 503 Service Unavailable', delivered, delivered * 10);
    }
    this.received.push(...batch);
    return { bytes: batch.length * 10 };
  }
}

/** What lag_seconds says `ms` after an event was due (below 250 ms is scheduling noise: 0). */
const lagOf = (ms: number) => (ms > 250 ? Math.round(ms) / 1000 : 0);

const options: EngineOptions = { mode: 'replay', rate: { eventsPerSecond: 1, dailyCurve: false, timeZone: 'UTC' }, speed: 1, backoffMs: 250 };

t.test('lag grows during an outage, from the due time of the oldest undelivered event, and falls back after it', async (t) => {
  const start = Date.UTC(2026, 0, 1);
  const clock = new FakeClock(start);
  // One event a second; the destination is down from 5 s to 25 s of the stream.
  const writer = new FlakyWriter(clock, start + 5000, start + 25_000);
  const progress = new StreamProgress();
  writer.progress = progress;
  await runStream(boundedFeed(40, start, 1000), writer, { ...options, retries: 20 }, clock, progress, new AbortController().signal);
  t.equal(progress.delivered, 40, 'every event delivered in the end');
  t.same(writer.received.map((e) => e.sequence), Array.from({ length: 40 }, (_, k) => k));
  const retried = writer.seen.slice(1);
  t.ok(retried.length >= 3, `${retried.length} retries seen`);
  t.ok(retried.every((s) => s.outage), 'outage: true while retrying');
  // Event 5 was due at 5 s: at each retry the lag is the time since then.
  for (const s of retried) t.equal(s.lag, lagOf(s.at - (start + 5000)), `lag at ${(s.at - start) / 1000} s`);
  t.ok((retried.at(-1) as { lag: number }).lag >= 10, `the lag reached ${(retried.at(-1) as { lag: number }).lag} s`);
  t.ok(progress.maxLagSeconds >= (retried.at(-1) as { lag: number }).lag, 'max_lag_seconds keeps the worst');
  const after = progress.toJSON(clock.now());
  t.equal(after.outage, false);
  t.ok(after.lag_seconds < (retried.at(-1) as { lag: number }).lag, `after the outage the lag is the queue's (${after.lag_seconds} s)`);
});

t.test('a batch partly delivered before the outage: the lag counts from the first event not delivered', async (t) => {
  const start = Date.UTC(2026, 0, 1);
  const clock = new FakeClock(start);
  // An event every 100 ms. The first write takes a second, so events 1-9 (due at 0.1-0.9 s) go
  // in the next batch; the destination takes 4 of them (1-4), then is down until 8 s.
  const writer = new FlakyWriter(clock, start + 1000, start + 8000, 4);
  writer.firstWriteMs = 1000;
  const progress = new StreamProgress();
  writer.progress = progress;
  await runStream(boundedFeed(10, start, 100), writer, { ...options, retries: 20 }, clock, progress, new AbortController().signal);
  t.equal(progress.delivered, 10);
  t.same(writer.received.map((e) => e.sequence), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9], 'each once, in order');
  const retried = writer.seen.slice(1);
  t.ok(retried.length >= 2);
  for (const s of retried) t.equal(s.lag, lagOf(s.at - (start + 500)), `lag at ${(s.at - start) / 1000} s: since event 5 was due`);
});

t.test('a stop during an outage: the stream ends with no outage and no lag left growing', async (t) => {
  const start = Date.UTC(2026, 0, 1);
  const clock = new FakeClock(start);
  const writer = new FlakyWriter(clock, start + 3000, Infinity);
  const progress = new StreamProgress();
  writer.progress = progress;
  const stop = new AbortController();
  writer.onFailure = () => {
    if (writer.seen.length === 5) stop.abort();
  };
  t.equal(await runStream(boundedFeed(100, start, 1000), writer, { ...options, retries: 50 }, clock, progress, stop.signal), 'cancelled');
  t.equal(writer.seen.at(-1)?.lag, lagOf((writer.seen.at(-1)?.at ?? 0) - (start + 3000)), 'lag while down');
  t.ok((writer.seen.at(-1)?.lag ?? 0) > 3);
  const ended = progress.toJSON(clock.now() + 60_000);
  t.equal(ended.outage, false);
  t.equal(ended.failed, 1, 'the event in the outage counted failed');
});
