import type { EntityName } from '../generators/registry.js';

export type EntityState = 'pending' | 'running' | 'done' | 'failed' | 'cancelled';

/** Where counts go besides the entity itself: the job's totals and the sink's statistics. */
export interface ProgressListener {
  delivered(records: number, bytes: number): void;
  failed(records: number, reason: string): void;
}

/**
 * Live counters of one entity in one job. A sink calls `begin` when it starts on the entity,
 * `delivered` after each confirmed batch (only what the destination acknowledged), `failed`
 * for records it gave up on, and `done` or `fail` at the end. Reads of a running job see the
 * counts as they move.
 */
export class EntityProgress {
  state: EntityState = 'pending';
  destination: string | undefined;
  records = 0;
  bytes = 0;
  failed = 0;
  /** PostgreSQL: rows new to the table, and rows already there (skipped by ON CONFLICT). */
  inserted: number | undefined;
  skipped: number | undefined;
  error: string | undefined;
  /** Sink-specific facts (gs:// URI, crc32c, index, topic partitions, ...). */
  readonly details: Record<string, unknown> = {};

  constructor(
    readonly entity: EntityName,
    /** Records the job means to deliver for this entity. */
    readonly planned: number,
    private readonly listener: ProgressListener,
  ) {}

  begin(destination: string): void {
    this.state = 'running';
    this.destination = destination;
  }

  delivered(records: number, bytes: number): void {
    this.records += records;
    this.bytes += bytes;
    this.listener.delivered(records, bytes);
  }

  /** Records that were not delivered and will not be retried; the reason goes to the job's errors. */
  failedRecords(records: number, reason: string): void {
    this.failed += records;
    this.listener.failed(records, `${this.entity}: ${reason}`);
  }

  done(): void {
    if (this.state === 'running' || this.state === 'pending') this.state = 'done';
  }

  /** The entity as a whole failed (and, for transactional sinks, was rolled back). */
  fail(error: unknown): void {
    this.state = 'failed';
    this.error = messageOf(error);
  }

  toJSON() {
    return {
      entity: this.entity,
      state: this.state,
      destination: this.destination ?? null,
      planned: this.planned,
      records: this.records,
      bytes: this.bytes,
      failed: this.failed,
      ...(this.inserted !== undefined ? { inserted: this.inserted } : {}),
      ...(this.skipped !== undefined ? { skipped: this.skipped } : {}),
      ...this.details,
      error: this.error ?? null,
    };
  }
}

/** A readable message of anything thrown, including AggregateErrors of failed connections and PostgreSQL's detail. */
export function messageOf(error: unknown): string {
  if (error instanceof AggregateError && error.errors.length > 0) {
    const inner = [...new Set(error.errors.map((e) => messageOf(e)))].join('; ');
    return error.message ? `${error.message}: ${inner}` : inner;
  }
  if (error instanceof Error) {
    // PostgreSQL errors carry their detail (e.g. the violating key) apart from the message.
    const { code, detail } = error as { code?: unknown; detail?: unknown };
    let message = error.message || error.name;
    if (typeof detail === 'string' && detail !== '' && !message.includes(detail)) message = `${message} ${detail}`;
    return typeof code === 'string' && !message.includes(code) ? `${message} (${code})` : message;
  }
  return String(error);
}
