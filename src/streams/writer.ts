/**
 * What a sink provides to carry a stream: a writer that delivers batches of feed events in
 * order. Writers live with their sinks (src/sinks/*-stream.ts); the engine never talks to a
 * destination itself.
 */
import type { FeedEvent } from './feed-contract.js';

/** What one batch came to when the destination answered. */
export interface WriteOutcome {
  /** Bytes of the delivered events as sent. */
  readonly bytes: number;
  /** Events the destination refused for good (not retried), by position in the batch, with the reason. */
  readonly refused?: ReadonlyMap<number, string>;
}

/**
 * The destination could not take the batch (unreachable, 5xx, a broker error after the
 * client's own retries). The engine waits and sends again from the first event not
 * delivered; `delivered` leading events of the batch did get through.
 */
export class DeliveryError extends Error {
  constructor(
    message: string,
    /** Leading events of the batch that were delivered before the failure. */
    readonly delivered = 0,
    /** Bytes of those. */
    readonly bytes = 0,
    /** False when sending again cannot help (the events are counted failed at once). */
    readonly retriable = true,
  ) {
    super(message);
  }
}

export interface StreamWriter {
  /** Where events go, as shown in progress (topic prefix, table schema, endpoint without credentials, index). */
  readonly destination: string;
  /** Connects and prepares (topics, tables); a failure here fails the stream before anything is sent. */
  open(signal: AbortSignal): Promise<void>;
  /**
   * Delivers `batch` in order and resolves when the destination acknowledged it, or throws a
   * DeliveryError. `signal` aborts only on a hard stop; a graceful stop lets the write finish.
   */
  write(batch: readonly FeedEvent[], signal: AbortSignal): Promise<WriteOutcome>;
  /**
   * Optional: does the CPU work of writing `batch` (encoding, building statements) ahead, while
   * the batch before it is still with the destination; `write(batch)` then uses it. The engine
   * calls it when it already knows the next batch (a replay at full speed), so the two
   * processes work at once instead of taking turns.
   */
  prepare?(batch: readonly FeedEvent[]): void;
  /**
   * Optional: how many batches may be with the destination at once (default 1). A writer that
   * takes more applies each batch whole whatever order they end in (the newest change of a row
   * wins however the batches overlap), so the engine may hand it batch n+1 while batch n is still
   * being applied. The engine uses it only when it knows the next batch (a replay at full speed).
   */
  readonly concurrency?: number;
  /** Releases connections (called once, whatever happened). */
  close(): Promise<void>;
  /** Destination facts for the job (topics used, tables, ...). */
  details?(): Record<string, unknown>;
}
