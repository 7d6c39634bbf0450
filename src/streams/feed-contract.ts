/**
 * The change feed as the streams see it: the types of src/events/, re-exported in one place so
 * that nothing else in src/streams/ (or the stream writers) reaches into the feed's internals.
 */
import type { FeedEvent, LiveWorldSpec } from '../events/types.js';

export type { DefectKind, EventOp, FeedEvent, FeedOptions, LiveWorldSpec } from '../events/types.js';

/** The event-mix groups a live world's `weights` name. */
export type WeightGroup = keyof NonNullable<LiveWorldSpec['weights']>;

/**
 * Yielded by a replay source in place of an event after a long walk without one (a rare `types=`
 * subset): the engine gives the event loop a turn there. It is no event and is never sent.
 */
export const REPLAY_PAUSE: FeedEvent = Object.freeze({}) as FeedEvent;
