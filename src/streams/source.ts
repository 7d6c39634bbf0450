/**
 * Where streams get their events: the change feed (src/events/). This is the one module that
 * connects the two; the engine only sees a FeedSource.
 */
import { EVENT_TYPE_NAMES } from '../events/catalogue.js';
import { IDLE, IDLE_EVERY } from '../events/chaos.js';
import { feedDeliveries, materialise, prepareFeed, seekFeed, type FeedMerge } from '../events/feed.js';
import { liveMinuteEventsAsync, type LiveEvents } from '../events/live.js';
import { World, type WorldSpec } from '../generators/world.js';
import { REPLAY_PAUSE, type FeedEvent, type FeedOptions, type LiveWorldSpec } from './feed-contract.js';
/** The events a stream plays, from a position of a bounded world or minute by minute of a live one. */
export interface FeedSource {
  /** A bounded world's feed in time order, from `fromSequence` on, generated lazily; {@link REPLAY_PAUSE} among the events every IDLE_EVERY (1,024) steps walked. */
  replay(fromSequence: number): Iterable<FeedEvent>;
  /**
   * The events of the minute starting at `minuteStartMs` of a live world (sorted by time except
   * labelled late events): a list, or a planned minute whose events are built when asked for,
   * possibly planned asynchronously (the engine asks for the next minute while one plays).
   */
  liveMinute(minuteStartMs: number): LiveMinute | Promise<LiveMinute>;
}

/** A live minute's events: built, or planned and built on demand. */
export type LiveMinute = readonly FeedEvent[] | LiveEvents;
export type { LiveEvents };

/** What a stream asks of the feed. */
export interface FeedRequest {
  /** For replays: the bounded world and the feed's options (types, chaos ratios). */
  readonly world: WorldSpec;
  readonly feed: FeedOptions;
  /** For live streams: the open-ended world. */
  readonly live: LiveWorldSpec;
  /** For replays: the feed position they start at (default 0), sought while preparing. */
  readonly fromSequence?: number;
}

/** The change feed as the stream routes use it. */
export interface FeedProvider {
  /** Every event type the feed can produce (requests naming another are refused). */
  eventTypes(): readonly string[];
  /**
   * Builds, without blocking the event loop, what a replay of this world needs before its first
   * event (the feed's per-world schedules); optional, a source prepares lazily otherwise.
   */
  prepare?(request: FeedRequest): Promise<void>;
  open(request: FeedRequest): FeedSource;
}

/** The change feed is not part of this build (a provider that has none throws this). */
export class FeedUnavailableError extends Error {
  readonly code = 'FEED_UNAVAILABLE';
  constructor() {
    super('the change feed (GET /api/v1/events) is not available in this build, so streams cannot start');
  }
}

/**
 * The service's change feed: a replay plays `feedEvents` of the bounded world from a sequence on
 * (the same events, ids and rows as GET /api/v1/events), a live stream plays `liveMinute` of the
 * open-ended world minute by minute
 * (`liveMinuteEventsAsync`: planned without blocking, rows built as they fall due).
 */
export const changeFeed: FeedProvider = {
  eventTypes() {
    return EVENT_TYPE_NAMES;
  },
  async prepare(request) {
    const world = World.of(request.world);
    await prepareFeed(world);
    // A replay from deep in the feed starts from a merge sought in slices (and from the
    // feed's checkpoints): walked in the stream's first pull, the steps before it held the
    // event loop (~1.3 µs each: seconds at scale 10).
    const from = request.fromSequence ?? 0;
    if (from > 0) sought.set(request, { from, merge: await seekFeed(world, request.feed, from - 1) });
  },
  open(request) {
    const world = World.of(request.world);
    return {
      replay: (fromSequence: number): Iterable<FeedEvent> => {
        const ready = sought.get(request);
        sought.delete(request);
        return replayFrom(world, request.feed, fromSequence - 1, ready?.from === fromSequence ? ready.merge : undefined);
      },
      // Planned in slices that yield to the event loop; rows are built as the events fall due.
      liveMinute: (minuteStartMs: number): Promise<LiveEvents> => liveMinuteEventsAsync(request.live, minuteStartMs),
    };
  },
};

/** Merges sought by `prepare`, for the replay of the same request. */
const sought = new WeakMap<FeedRequest, { from: number; merge: FeedMerge }>();

/** The events of a bounded world's feed after `afterSequence` (those of feedEvents), from `merge` when it was sought there. */
function* replayFrom(world: World, options: FeedOptions, afterSequence: number, merge?: FeedMerge): Generator<FeedEvent> {
  const { merge: walked, deliveries } = feedDeliveries(world, options, afterSequence, merge, IDLE_EVERY);
  let skip = options.offset ?? 0;
  for (const delivery of deliveries) {
    if (delivery === IDLE) yield REPLAY_PAUSE;
    else if (skip > 0) skip--;
    else yield materialise(walked, delivery, world.seed);
  }
}
