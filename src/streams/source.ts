/**
 * Where streams get their events: the change feed (src/events/). This is the one module that
 * connects the two; the engine only sees a FeedSource.
 */
import { EVENT_TYPE_NAMES } from '../events/catalogue.js';
import { feedEvents, prepareFeed } from '../events/feed.js';
import { liveMinuteEventsAsync, type LiveEvents } from '../events/live.js';
import { World, type WorldSpec } from '../generators/world.js';
import type { FeedEvent, FeedOptions, LiveWorldSpec } from './feed-contract.js';
/** The events a stream plays, from a position of a bounded world or minute by minute of a live one. */
export interface FeedSource {
  /** A bounded world's feed in time order, from `fromSequence` on, generated lazily. */
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
    await prepareFeed(World.of(request.world));
  },
  open(request) {
    const world = World.of(request.world);
    return {
      replay: (fromSequence: number): Iterable<FeedEvent> => feedEvents(world, request.feed, fromSequence - 1),
      // Planned in slices that yield to the event loop; rows are built as the events fall due.
      liveMinute: (minuteStartMs: number): Promise<LiveEvents> => liveMinuteEventsAsync(request.live, minuteStartMs),
    };
  },
};
