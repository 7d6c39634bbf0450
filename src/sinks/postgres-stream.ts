/**
 * The PostgreSQL writer of streams ("apply mode"): keeps one table per entity current. Each
 * batch is applied in one transaction: per row key, the newest change wins (the highest feed
 * sequence, which is the order the changes happened in, whatever order they were delivered
 * in); inserts and updates become `INSERT ... ON CONFLICT (pk) DO UPDATE`, deletes `DELETE`.
 * The sequence applied per row is kept in a side table (`<prefix>stream_applied`), so a late
 * event, or a duplicate delivered after a newer change, never rolls a row back, and
 * re-delivering a batch changes nothing. Tables come from the same DDL code as the PostgreSQL sink.
 */
import pg from 'pg';
import type { FastifyBaseLogger } from 'fastify';
import type { PostgresConfig } from '../config.js';
import { ENTITIES, ENTITY_NAMES, type EntityName } from '../generators/registry.js';
import { columnsOf, createTablesSql, quoteIdentifier, tableName } from '../schemas/columns.js';
import type { FeedEvent } from '../streams/feed-contract.js';
import { DeliveryError, type StreamWriter, type WriteOutcome } from '../streams/writer.js';
import { DDL_LOCK, postgresClient } from './postgres.js';
import { messageOf } from './progress.js';

export interface PostgresStreamOptions {
  readonly schema?: string;
  readonly table_prefix?: string;
}

const isEntity = (name: string): name is EntityName => (ENTITY_NAMES as readonly string[]).includes(name);

/** SQLSTATE classes that a retry cannot fix: data (22) and integrity (23) errors. */
const isDataError = (error: unknown) => /^2[23]/.test(String((error as { code?: unknown }).code ?? ''));

/**
 * A stream writer's connection: the sink's client (configured timeouts), its errors logged and
 * reported through `lost` so the writer reconnects, a refused connection a DeliveryError (retried).
 */
export async function connectForStream(config: PostgresConfig, applicationName: string, log: FastifyBaseLogger, lost: (client: pg.Client) => void): Promise<pg.Client> {
  const client = postgresClient(config, applicationName);
  client.on('error', (error) => {
    log.warn({ err: error }, 'PostgreSQL connection error');
    lost(client);
  });
  try {
    await client.connect();
  } catch (error) {
    throw new DeliveryError(`cannot connect to PostgreSQL (DATABASE_URL): ${messageOf(error)}`);
  }
  return client;
}

/**
 * Creates a stream writer's schema and side tables, once per writer: in one transaction under
 * the sinks' DDL lock (streams and sink jobs may create the same tables at once), the schema
 * first, then `statements` (idempotent: CREATE ... IF NOT EXISTS, ADD COLUMN IF NOT EXISTS).
 */
export async function prepareStreamSchema(client: pg.Client, schema: string, statements: readonly string[]): Promise<void> {
  try {
    await client.query('BEGIN');
    await client.query('SELECT pg_advisory_xact_lock($1)', [DDL_LOCK]);
    await client.query(`CREATE SCHEMA IF NOT EXISTS ${quoteIdentifier(schema)}`);
    for (const sql of statements) await client.query(sql);
    await client.query('COMMIT');
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw new Error(`PostgreSQL: cannot prepare schema ${schema}: ${messageOf(error)}`);
  }
}

export class PostgresStreamWriter implements StreamWriter {
  readonly destination: string;
  private client: pg.Client | undefined;
  private readonly created = new Set<EntityName>();
  private readonly applied = new Map<string, { upserted: number; deleted: number; stale: number }>();
  private readonly schema: string;
  private readonly prefix: string;

  constructor(
    private readonly config: PostgresConfig,
    options: PostgresStreamOptions,
    private readonly log: FastifyBaseLogger,
  ) {
    this.schema = options.schema ?? 'public';
    this.prefix = options.table_prefix ?? '';
    this.destination = `schema ${this.schema}`;
  }

  /** The side table of the sequence applied per row (entity, key). */
  private get versions(): string {
    return `${quoteIdentifier(this.schema)}.${quoteIdentifier(`${this.prefix}stream_applied`)}`;
  }

  private table(entity: EntityName): string {
    return `${quoteIdentifier(this.schema)}.${quoteIdentifier(tableName(entity, this.prefix))}`;
  }

  private async connect(): Promise<pg.Client> {
    if (this.client) return this.client;
    const client = await connectForStream(this.config, 'ecomgen-stream', this.log, (lost) => {
      if (this.client === lost) this.client = undefined;
    });
    this.client = client;
    return client;
  }

  async open(): Promise<void> {
    const client = await this.connect().catch((error: unknown) => {
      throw new Error(messageOf(error));
    });
    await prepareStreamSchema(client, this.schema, [`CREATE TABLE IF NOT EXISTS ${this.versions} (entity text NOT NULL, key text NOT NULL, sequence bigint NOT NULL, PRIMARY KEY (entity, key))`]);
  }

  /** Creates the tables of entities seen for the first time, inside the batch's transaction. */
  private async ensureTables(client: pg.Client, entities: readonly EntityName[]): Promise<void> {
    const missing = entities.filter((e) => !this.created.has(e));
    if (missing.length === 0) return;
    await client.query('SELECT pg_advisory_xact_lock($1)', [DDL_LOCK]);
    for (const sql of createTablesSql(missing, { schema: this.schema, prefix: this.prefix })) await client.query(sql);
  }

  async write(batch: readonly FeedEvent[]): Promise<WriteOutcome> {
    const refused = new Map<number, string>();
    // The newest change per row (highest sequence) wins; a malformed event is refused (the dead-letter case), never applied.
    const last = new Map<string, { entity: EntityName; event: FeedEvent }>();
    let bytes = 0;
    // Events arriving after a newer change of their row (or again) in the same batch.
    const staleInBatch = new Map<EntityName, number>();
    for (const [k, event] of batch.entries()) {
      if (!isEntity(event.entity)) {
        refused.set(k, `event ${event.event_id}: entity '${event.entity}' has no table`);
        continue;
      }
      if (event.defect === 'bad' || event.data === null || typeof event.data !== 'object') {
        refused.set(k, `event ${event.event_id}: malformed, not applied`);
        continue;
      }
      const id = `${event.entity}\u0000${event.key}`;
      const seen = last.get(id);
      if (seen === undefined || seen.event.sequence < event.sequence) last.set(id, { entity: event.entity, event });
      else staleInBatch.set(event.entity, (staleInBatch.get(event.entity) ?? 0) + 1);
    }
    const byEntity = new Map<EntityName, { upserts: Record<string, unknown>[]; deletes: string[]; stale: number }>();
    const client = await this.connect();
    try {
      await client.query('BEGIN');
      // Only changes newer than what each row holds go on (a late or repeated event is stale).
      const candidates = [...last.values()];
      const newer = await client.query<{ entity: string; key: string }>(
        `INSERT INTO ${this.versions} AS v (entity, key, sequence) SELECT * FROM unnest($1::text[], $2::text[], $3::bigint[])
         ON CONFLICT (entity, key) DO UPDATE SET sequence = EXCLUDED.sequence WHERE v.sequence < EXCLUDED.sequence
         RETURNING entity, key`,
        [candidates.map((c) => c.entity), candidates.map((c) => c.event.key), candidates.map((c) => c.event.sequence)],
      );
      const fresh = new Set(newer.rows.map((r) => `${r.entity}\u0000${r.key}`));
      for (const { entity, event } of candidates) {
        let group = byEntity.get(entity);
        if (group === undefined) byEntity.set(entity, (group = { upserts: [], deletes: [], stale: staleInBatch.get(entity) ?? 0 }));
        if (!fresh.has(`${entity}\u0000${event.key}`)) group.stale++;
        else if (event.op === 'delete') group.deletes.push(event.key);
        else group.upserts.push(event.data);
      }
      await this.ensureTables(client, [...byEntity.keys()]);
      for (const [entity, { upserts, deletes }] of byEntity) {
        const table = this.table(entity);
        const primaryKey = quoteIdentifier(ENTITIES[entity].primaryKey);
        if (upserts.length > 0) {
          const columns = columnsOf(ENTITIES[entity].schema).map((c) => quoteIdentifier(c.name));
          const updates = columns.filter((c) => c !== primaryKey).map((c) => `${c} = EXCLUDED.${c}`);
          const json = JSON.stringify(upserts);
          bytes += Buffer.byteLength(json);
          // PostgreSQL turns the JSON rows into rows of the table's type, as the sink's tests compare them.
          await client.query(
            `INSERT INTO ${table} (${columns.join(', ')}) SELECT ${columns.join(', ')} FROM jsonb_populate_recordset(NULL::${table}, $1::jsonb)
             ON CONFLICT (${primaryKey}) DO ${updates.length > 0 ? `UPDATE SET ${updates.join(', ')}` : 'NOTHING'}`,
            [json],
          );
        }
        if (deletes.length > 0) {
          await client.query(`DELETE FROM ${table} WHERE ${primaryKey}::text = ANY($1::text[])`, [deletes]);
        }
      }
      await client.query('COMMIT');
    } catch (error) {
      await client.query('ROLLBACK').catch(() => undefined);
      if (!isDataError(error)) {
        // The connection may be gone: the next attempt opens a new one.
        this.client = undefined;
        await client.end().catch(() => undefined);
      }
      // Nothing of the batch is applied; a data error would fail again, an outage may not.
      throw new DeliveryError(`PostgreSQL: batch rolled back: ${messageOf(error)}`, 0, 0, !isDataError(error));
    }
    for (const [entity, { upserts, deletes, stale }] of byEntity) {
      this.created.add(entity);
      const counts = this.applied.get(entity) ?? { upserted: 0, deleted: 0, stale: 0 };
      counts.upserted += upserts.length;
      counts.deleted += deletes.length;
      counts.stale += stale;
      this.applied.set(entity, counts);
    }
    return { bytes, refused };
  }

  async close(): Promise<void> {
    await this.client?.end().catch(() => undefined);
  }

  details(): Record<string, unknown> {
    return { schema: this.schema, tables: Object.fromEntries([...this.applied.entries()].map(([entity, c]) => [tableName(entity as EntityName, this.prefix), { ...c }])) };
  }
}
