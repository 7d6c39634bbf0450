/**
 * The change feed as the streams see it: the types of src/events/, re-exported in one place so
 * that nothing else in src/streams/ (or the stream writers) reaches into the feed's internals.
 */
import type { LiveWorldSpec } from '../events/types.js';

export type { DefectKind, EventOp, FeedEvent, FeedOptions, LiveWorldSpec } from '../events/types.js';

/** The event-mix groups a live world's `weights` name. */
export type WeightGroup = keyof NonNullable<LiveWorldSpec['weights']>;
