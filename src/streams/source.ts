/**
 * Where streams get their events: the change feed (src/events/). This is the one module that
 * connects the two; the engine only sees a FeedSource.
 *
 * Until the change feed is part of the service, `changeFeed` says so: the stream routes answer
 * 503 FEED_UNAVAILABLE and nothing is sent. There is no other data path in production code.
 */
import type { WorldSpec } from '../generators/world.js';
import type { FeedEvent, FeedOptions, LiveWorldSpec } from './feed-contract.js';

/** The events a stream plays, from a position of a bounded world or minute by minute of a live one. */
export interface FeedSource {
  /** A bounded world's feed in time order, from `fromSequence` on, generated lazily. */
  replay(fromSequence: number): Iterable<FeedEvent>;
  /** The events of the minute starting at `minuteStartMs` of a live world (sorted by time except labelled late events). */
  liveMinute(minuteStartMs: number): FeedEvent[];
}

/** What a stream asks of the feed. */
export interface FeedRequest {
  /** For replays: the bounded world and the feed's options (types, chaos ratios). */
  readonly world: WorldSpec;
  readonly feed: FeedOptions;
  /** For live streams: the open-ended world. */
  readonly live: LiveWorldSpec;
}

/** The change feed as the stream routes use it. */
export interface FeedProvider {
  /** Every event type the feed can produce (requests naming another are refused). */
  eventTypes(): readonly string[];
  open(request: FeedRequest): FeedSource;
}

/** The change feed is not part of this build. */
export class FeedUnavailableError extends Error {
  readonly code = 'FEED_UNAVAILABLE';
  constructor() {
    super('the change feed (GET /api/v1/events) is not available in this build, so streams cannot start');
  }
}

/**
 * The service's change feed. Wired at merge to `feedEvents(World.of(world), feed)` for
 * `replay` (with `offset: fromSequence`) and `liveMinute(live, minute)` for `liveMinute`.
 */
export const changeFeed: FeedProvider = {
  eventTypes() {
    throw new FeedUnavailableError();
  },
  open() {
    throw new FeedUnavailableError();
  },
};
