/**
 * A replay at full speed (`speed: max`, with or without an `events_per_second` bound) has no
 * clock to be behind: its lag stays 0 however long it takes, where it used to be the time since
 * the start (the command line's summary of a 4.6 s replay said "max lag 4.4 s", the panel a lag
 * growing with the replay). A replay at a `speed` keeps its lag.
 */
import t from 'tap';
import { StreamProgress, runStream, type EngineOptions } from '../../src/streams/engine.js';
import type { FeedEvent } from '../../src/streams/feed-contract.js';
import type { StreamWriter, WriteOutcome } from '../../src/streams/writer.js';
import { FakeClock } from '../support/fake-clock.js';
import { boundedFeed } from '../support/feed-source.js';

/** Takes `writeMs` of fake time per batch, and notes the lag GET /streams/{id} would show then. */
class SlowWriter implements StreamWriter {
  readonly destination = 'memory';
  readonly lags: number[] = [];
  received = 0;
  constructor(
    private readonly clock: FakeClock,
    private readonly progress: StreamProgress,
    private readonly writeMs: number,
  ) {}
  async open(): Promise<void> {}
  async close(): Promise<void> {}
  async write(batch: readonly FeedEvent[]): Promise<WriteOutcome> {
    this.clock.advance(this.writeMs);
    this.lags.push(this.progress.toJSON(this.clock.now()).lag_seconds);
    this.received += batch.length;
    return { bytes: batch.length };
  }
}

const rate = { eventsPerSecond: 1, dailyCurve: false, timeZone: 'UTC' };

for (const [name, extra] of [
  ['speed max', {}],
  ['speed max, at most 500 events/s', { maxRate: 500 }],
] as const) {
  t.test(`a replay at ${name}: no lag however long it takes`, async (t) => {
    const start = Date.UTC(2026, 0, 1);
    const clock = new FakeClock(start);
    const progress = new StreamProgress();
    // 2,000 events in batches of 100, each taking a second: a 20 s replay.
    const writer = new SlowWriter(clock, progress, 1000);
    const options: EngineOptions = { mode: 'replay', rate, batchSize: 100, ...extra };
    t.equal(await runStream(boundedFeed(2000, start, 1000), writer, options, clock, progress, new AbortController().signal), 'end_of_feed');
    t.equal(writer.received, 2000);
    t.ok(clock.now() - start >= 20_000, `it took ${(clock.now() - start) / 1000} s`);
    t.same([...new Set(writer.lags)], [0], 'lag 0 while it ran');
    t.equal(progress.maxLagSeconds, 0);
    t.equal(progress.toJSON(clock.now()).max_lag_seconds, 0);
  });
}

t.test('a replay at a speed the writer cannot keep up with: the lag is reported', async (t) => {
  const start = Date.UTC(2026, 0, 1);
  const clock = new FakeClock(start);
  const progress = new StreamProgress();
  // An event every 100 ms of world time at speed 1, a writer taking a second per batch of at most 5.
  const writer = new SlowWriter(clock, progress, 1000);
  await runStream(boundedFeed(50, start, 100), writer, { mode: 'replay', rate, speed: 1, batchSize: 5 }, clock, progress, new AbortController().signal);
  t.equal(writer.received, 50);
  t.ok(progress.maxLagSeconds >= 4, `max lag ${progress.maxLagSeconds} s`);
});
