/**
 * Inventory canonical modes of Kafka streams, as the reference generator has them:
 *
 * - `postgres`: PostgreSQL is the source of truth. Each inventory event is applied to
 *   `warehouse_inventory` read-modify-write (the row locked, the movement added to what the
 *   table holds) and committed, and only then published to Kafka.
 * - `kafka`: Kafka is the source of truth (event-sourced): events are published; with
 *   `mirror_to_db` they are then applied to `warehouse_inventory` too.
 *
 * Applying is idempotent: each applied event id is recorded in the same transaction, so a
 * batch sent again after an outage never moves stock twice. It is also order-proof: a stock row
 * (an absolute quantity at a feed sequence) is applied only if it is newer than the row's last
 * one, plus the movements already applied that happened after it; a movement older than the
 * row's last stock row is already in it. So late and duplicate deliveries give the same stock.
 */
import pg from 'pg';
import type { FastifyBaseLogger } from 'fastify';
import type { PostgresConfig } from '../config.js';
import { quoteIdentifier } from '../schemas/columns.js';
import type { FeedEvent } from '../streams/feed-contract.js';
import { connectForStream, prepareStreamSchema } from './postgres-stream.js';
import { DeliveryError, type StreamWriter, type WriteOutcome } from '../streams/writer.js';
import { messageOf } from './progress.js';

export type InventoryCanonical = 'postgres' | 'kafka';

/** Whether an event moves stock: a movement (signed `quantity`) or a stock row (`quantity_on_hand`). */
export function isInventoryEvent(event: FeedEvent): boolean {
  return (event.entity === 'inventory-movements' || event.entity === 'inventory') && event.defect !== 'bad';
}

/** warehouse_inventory and the ledger of applied events, kept by read-modify-write. */
export class InventoryStore {
  private client: pg.Client | undefined;
  private readonly table: string;
  private readonly applied: string;
  movements = 0;
  skipped = 0;

  constructor(
    private readonly config: PostgresConfig,
    private readonly schema: string,
    private readonly log: FastifyBaseLogger,
  ) {
    this.table = `${quoteIdentifier(schema)}.warehouse_inventory`;
    this.applied = `${quoteIdentifier(schema)}.warehouse_inventory_events`;
  }

  async open(): Promise<void> {
    const client = await this.connect();
    await prepareStreamSchema(client, this.schema, [
      `CREATE TABLE IF NOT EXISTS ${this.table} (warehouse_id uuid NOT NULL, product_id uuid NOT NULL, quantity_on_hand bigint NOT NULL, updated_at timestamptz NOT NULL, last_event_id text NOT NULL, PRIMARY KEY (warehouse_id, product_id))`,
      `CREATE TABLE IF NOT EXISTS ${this.applied} (event_id text PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())`,
      // The feed position of the row's last stock row, and each applied movement's row, position and quantity (order-proofing).
      `ALTER TABLE ${this.table} ADD COLUMN IF NOT EXISTS stock_sequence bigint`,
      `ALTER TABLE ${this.applied} ADD COLUMN IF NOT EXISTS warehouse_id uuid, ADD COLUMN IF NOT EXISTS product_id uuid, ADD COLUMN IF NOT EXISTS sequence bigint, ADD COLUMN IF NOT EXISTS quantity bigint`,
    ]);
  }

  private async connect(): Promise<pg.Client> {
    if (this.client) return this.client;
    const client = await connectForStream(this.config, 'ecomgen-inventory', this.log, (lost) => {
      if (this.client === lost) this.client = undefined;
    });
    this.client = client;
    return client;
  }

  /** Applies the inventory events of `batch` in one transaction (all or none). */
  async apply(batch: readonly FeedEvent[]): Promise<void> {
    const events = batch.filter(isInventoryEvent);
    if (events.length === 0) return;
    const client = await this.connect();
    try {
      await client.query('BEGIN');
      for (const event of events) {
        const data = event.data;
        const warehouse = String(data.warehouse_id);
        const product = String(data.product_id);
        const stock = event.entity === 'inventory';
        const fresh = await client.query(
          `INSERT INTO ${this.applied} (event_id, warehouse_id, product_id, sequence, quantity) VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING`,
          [event.event_id, warehouse, product, event.sequence, stock ? null : Number(data.quantity)],
        );
        if (fresh.rowCount === 0) {
          this.skipped++;
          continue;
        }
        // Read-modify-write: the row is locked, so concurrent streams serialise on it.
        const current = await client.query<{ quantity_on_hand: string; stock_sequence: string | null }>(
          `SELECT quantity_on_hand, stock_sequence FROM ${this.table} WHERE warehouse_id = $1 AND product_id = $2 FOR UPDATE`,
          [warehouse, product],
        );
        const row = current.rows[0];
        const stockSequence = row?.stock_sequence == null ? undefined : Number(row.stock_sequence);
        let after: number;
        if (stock) {
          // An older stock row than the one applied is stale; a newer one counts the movements applied since it.
          if (stockSequence !== undefined && stockSequence >= event.sequence) {
            this.skipped++;
            continue;
          }
          const since = await client.query<{ sum: string | null }>(
            `SELECT sum(quantity) AS sum FROM ${this.applied} WHERE warehouse_id = $1 AND product_id = $2 AND quantity IS NOT NULL AND sequence > $3`,
            [warehouse, product, event.sequence],
          );
          after = Number(data.quantity_on_hand) + Number(since.rows[0]?.sum ?? 0);
        } else {
          // A movement from before the row's last stock row is already counted in it.
          if (stockSequence !== undefined && event.sequence < stockSequence) {
            this.skipped++;
            continue;
          }
          after = (row === undefined ? 0 : Number(row.quantity_on_hand)) + Number(data.quantity);
        }
        await client.query(
          `INSERT INTO ${this.table} (warehouse_id, product_id, quantity_on_hand, updated_at, last_event_id, stock_sequence) VALUES ($1, $2, $3, $4, $5, $6)
           ON CONFLICT (warehouse_id, product_id) DO UPDATE SET quantity_on_hand = EXCLUDED.quantity_on_hand, updated_at = EXCLUDED.updated_at, last_event_id = EXCLUDED.last_event_id,
             stock_sequence = coalesce(EXCLUDED.stock_sequence, ${this.table}.stock_sequence)`,
          [warehouse, product, after, event.event_time, event.event_id, stock ? event.sequence : null],
        );
        this.movements++;
      }
      await client.query('COMMIT');
    } catch (error) {
      await client.query('ROLLBACK').catch(() => undefined);
      this.client = undefined;
      await client.end().catch(() => undefined);
      throw new DeliveryError(`PostgreSQL inventory: batch rolled back: ${messageOf(error)}`);
    }
  }

  async close(): Promise<void> {
    await this.client?.end().catch(() => undefined);
  }
}

/** A Kafka stream with inventory kept canonical in PostgreSQL, or mirrored there. */
export class InventoryCanonicalWriter implements StreamWriter {
  readonly destination: string;

  constructor(
    private readonly kafka: StreamWriter,
    private readonly store: InventoryStore,
    private readonly canonical: InventoryCanonical,
  ) {
    this.destination = `${kafka.destination}; inventory in PostgreSQL (${canonical === 'postgres' ? 'canonical' : 'mirror'})`;
  }

  async open(signal: AbortSignal): Promise<void> {
    await this.store.open();
    await this.kafka.open(signal);
  }

  async write(batch: readonly FeedEvent[], signal: AbortSignal): Promise<WriteOutcome> {
    if (this.canonical === 'postgres') {
      // The database first: an event is published only once its stock change is committed.
      await this.store.apply(batch);
      return this.kafka.write(batch, signal);
    }
    const outcome = await this.kafka.write(batch, signal);
    await this.store.apply(batch);
    return outcome;
  }

  async close(): Promise<void> {
    await Promise.allSettled([this.kafka.close(), this.store.close()]);
  }

  details(): Record<string, unknown> {
    return { ...this.kafka.details?.(), inventory: { canonical: this.canonical, applied: this.store.movements, already_applied: this.store.skipped } };
  }
}
