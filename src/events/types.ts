import type { LocaleCode } from '../generators/locale.js';

/** What an event does to its row: a new row, a changed row, or a row gone. */
export type EventOp = 'insert' | 'update' | 'delete';

/** A chaos label: delivered late, delivered twice, or malformed. */
export type DefectKind = 'late' | 'duplicate' | 'bad';

/**
 * One event of a world's change feed.
 *
 * @example
 * { "event_id": "ev-1f0c2a9e-000000000042", "event_type": "order.placed", "event_time": "2025-01-03T12:04:11Z",
 *   "entity": "orders", "key": "…", "op": "insert", "sequence": 42, "data": { "order_id": "…", "status": "pending", … } }
 */
export interface FeedEvent {
  /** Deterministic: the world's fingerprint and the sequence. A redelivered duplicate repeats it. */
  event_id: string;
  /** e.g. 'order.placed', 'payment.captured', 'inventory.changed', 'interaction.page_view' */
  event_type: string;
  /** ISO 8601 UTC, second precision, like every timestamp of the entities. */
  event_time: string;
  /** The entity whose row changes (its GET segment), e.g. 'orders'. */
  entity: string;
  /** That row's primary key. */
  key: string;
  op: EventOp;
  /** Position in the world's whole feed (0-based); filters and windows keep it. */
  sequence: number;
  /** The whole row after the change, as the entity's GET serves it at that moment. */
  data: Record<string, unknown>;
  /** Chaos label, only on chaos events. */
  defect?: DefectKind;
  /**
   * Only on a 'bad' event of the truncated-JSON-line variety: the raw (broken) text that a
   * serialiser writes verbatim instead of encoding the event.
   */
  raw?: string;
}

/** A bounded world's feed, narrowed and with optional chaos (all ratios default to 0). */
export interface FeedOptions {
  /** Only these event types (the sequence still counts every event). */
  types?: readonly string[];
  /** Window on event_time: start inclusive, end exclusive, epoch ms. */
  start?: number;
  end?: number;
  /** Delivered events to skip first (after filtering, chaos included). */
  offset?: number;
  late_ratio?: number;
  duplicate_ratio?: number;
  bad_ratio?: number;
  /** The most a late event is held back, in event time (default 5 minutes). */
  max_lateness_ms?: number;
}

/** An open-ended (live) world: populations come from rates, not sizes. */
export interface LiveWorldSpec {
  seed: number;
  locale: LocaleCode;
  /** Mean events per second over a day (the daily curve shapes it when daily_curve is on). */
  events_per_second: number;
  daily_curve: boolean;
  /** Event mix weights; default orders 0.6, interactions 0.3, inventory 0.1. */
  weights?: Partial<Record<'orders' | 'interactions' | 'inventory', number>>;
  late_ratio?: number;
  duplicate_ratio?: number;
  bad_ratio?: number;
}

/**
 * A time-ordered source of records: what the feed needs from a generator whose records are
 * numbered in time order (users by sign-up, orders by placement). createdAt(i) must be
 * non-decreasing in i.
 */
export interface TimedSource {
  readonly population: number;
  /** When record i came to be (epoch ms). */
  createdAt(i: number): number;
  /** Optional: the first index whose createdAt is >= t (binary search over createdAt otherwise). */
  indexAt?(t: number): number;
}

/** The first index of a source whose createdAt is >= t. */
export function firstIndexAt(source: TimedSource, t: number): number {
  if (source.indexAt) return source.indexAt(t);
  let lo = 0;
  let hi = source.population;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (source.createdAt(mid) < t) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
