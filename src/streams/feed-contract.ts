/**
 * The change feed as the streams see it: a type-only copy of the contract agreed with the
 * change-feed module (src/events/, issue 8), so the stream engine can be built and tested
 * before that module lands. At merge these declarations are replaced by re-exports from
 * src/events/; nothing else in src/streams/ names src/events/ directly.
 */
import type { LocaleCode } from '../generators/locale.js';

export type EventOp = 'insert' | 'update' | 'delete';
export type DefectKind = 'late' | 'duplicate' | 'bad';

/** One change of one row, at one moment of the world's time. */
export interface FeedEvent {
  /** Deterministic: the same world gives the same id. */
  readonly event_id: string;
  /** e.g. 'order.placed', 'payment.captured', 'inventory.changed', 'interaction.page_view'. */
  readonly event_type: string;
  /** ISO 8601 UTC. */
  readonly event_time: string;
  /** The entity whose row changes, e.g. 'orders'. */
  readonly entity: string;
  /** That row's primary key. */
  readonly key: string;
  readonly op: EventOp;
  /** Position in the feed (0-based). */
  readonly sequence: number;
  /** The whole row after the change. */
  readonly data: Record<string, unknown>;
  /** Chaos label, only on chaos events. */
  readonly defect?: DefectKind;
  /** A malformed event's text as it should go on the wire (e.g. a truncated JSON line): written verbatim. */
  readonly raw?: string;
}

/** A bounded world's feed in time order (src/events/feed.ts). */
export interface FeedOptions {
  readonly types?: readonly string[];
  /** ms since the epoch */
  readonly start?: number;
  readonly end?: number;
  readonly offset?: number;
  readonly late_ratio?: number;
  readonly duplicate_ratio?: number;
  readonly bad_ratio?: number;
  readonly max_lateness_ms?: number;
}

/** An open-ended (live) world: the events of a minute are a pure function of (spec, minute) (src/events/live.ts). */
export interface LiveWorldSpec {
  readonly seed: number;
  readonly locale: LocaleCode;
  readonly events_per_second: number;
  readonly daily_curve: boolean;
  readonly weights?: Partial<Record<'orders' | 'interactions' | 'inventory', number>>;
  readonly late_ratio?: number;
  readonly duplicate_ratio?: number;
  readonly bad_ratio?: number;
}

/** The event-mix groups a live world's `weights` name. */
export type WeightGroup = keyof NonNullable<LiveWorldSpec['weights']>;
