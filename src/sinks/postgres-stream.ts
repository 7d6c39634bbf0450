/**
 * The PostgreSQL writer of streams ("apply mode"): keeps one table per entity current. Each
 * batch is applied by one statement (so in one transaction): per row key, the newest change wins
 * (the highest feed sequence, which is the order the changes happened in, whatever order they
 * were delivered in); a row's first change (insert) becomes `INSERT ... ON CONFLICT (pk) DO
 * NOTHING`, updates `INSERT ... ON CONFLICT (pk) DO UPDATE`, deletes `DELETE`. The sequence of
 * the last update or delete applied per row is kept in a side table (`<prefix>stream_applied`);
 * a first change needs none, the row records it. So a late event, or a duplicate delivered after
 * a newer change, never rolls a row back, and re-delivering a batch changes nothing. Tables come
 * from the same DDL code as the PostgreSQL sink.
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

/** One entity's share of a batch: the newest change per row, and what applying it came to. */
interface EntityBatch {
  readonly inserts: FeedEvent[];
  readonly updates: FeedEvent[];
  readonly deletes: FeedEvent[];
  /** Events of the batch older than another change of their row in the same batch. */
  readonly stale: number;
}

/** A batch worked out: what is refused, the rows per entity, the statement. */
interface BatchPlan {
  readonly refused: ReadonlyMap<number, string>;
  readonly byEntity: ReadonlyMap<EntityName, EntityBatch>;
  readonly statement: { readonly text: string; readonly values: unknown[]; readonly bytes: number };
}

/** A value as the text PostgreSQL reads for its column: nested arrays and objects as JSON (jsonb columns), NULL for none. */
function cellText(value: unknown): string | null {
  if (value === null || value === undefined) return null;
  if (typeof value === 'string') return value;
  if (typeof value === 'object') return JSON.stringify(value);
  return String(value);
}

/**
 * An array literal (`{"a","b\\"c",NULL}`): built here, once, while the batch before is in the
 * database, rather than by the driver when the statement goes.
 */
function arrayLiteral(elements: readonly (string | null)[]): string {
  let text = '{';
  for (let i = 0; i < elements.length; i++) {
    const element = elements[i] as string | null;
    if (i > 0) text += ',';
    text += element === null ? 'NULL' : `"${escapeElement(element)}"`;
  }
  return `${text}}`;
}

/** An array element's text with `"` and `\` escaped: most (uuids, numbers, times) have neither, and a search is cheaper than a replace. */
const escapeElement = (text: string) => (text.includes('"') || text.includes('\\') ? text.replace(/[\\"]/g, '\\$&') : text);

/** One column of rows as an array literal (the same text as `arrayLiteral` of its cells), without the array of cells between. */
function columnLiteral(rows: readonly Record<string, unknown>[], column: string): string {
  let text = '{';
  for (let i = 0; i < rows.length; i++) {
    const cell = cellText((rows[i] as Record<string, unknown>)[column]);
    if (i > 0) text += ',';
    text += cell === null ? 'NULL' : `"${escapeElement(cell)}"`;
  }
  return `${text}}`;
}

/** A uuid as PostgreSQL writes one (`uuid::text`): lower case, hyphenated. */
const CANONICAL_UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/**
 * Whether every event's key is its row's primary key as PostgreSQL writes it back (`pk::text`):
 * then the statement takes the key from that column instead of an array of its own (one array
 * fewer for Node to build and for PostgreSQL to parse). Events keyed otherwise keep the array.
 */
function keyedByPrimaryKey(events: readonly FeedEvent[], primaryKey: string, sqlType: string | undefined): boolean {
  if (sqlType !== 'uuid' && sqlType !== 'text') return false;
  for (const event of events) {
    if (event.key !== (event.data as Record<string, unknown>)[primaryKey]) return false;
    if (sqlType === 'uuid' && !CANONICAL_UUID.test(event.key)) return false;
  }
  return true;
}

/** A string as an SQL literal. */
const literal = (text: string) => `'${text.replace(/'/g, "''")}'`;

/** The side table's mark of an entity some of whose rows were deleted (no entity's name has a `#`). */
const deletedMark = (entity: EntityName) => `${entity}#deleted`;

const isEntity = (name: string): name is EntityName => (ENTITY_NAMES as readonly string[]).includes(name);

/** SQLSTATE classes that a retry cannot fix: data (22) and integrity (23) errors. */
const isDataError = (error: unknown) => /^2[23]/.test(String((error as { code?: unknown }).code ?? ''));

/**
 * A deadlock (40P01) or serialization failure (40001): two batches applied at once met on the
 * same rows and PostgreSQL rolled one back. The other has committed (or is about to), so the
 * same statement again on the same connection succeeds: retried at once, not as an outage.
 */
const isConflict = (error: unknown) => {
  const code = (error as { code?: unknown }).code;
  return code === '40P01' || code === '40001';
};
/** Immediate retries of a batch rolled back by a conflict with the other batch in flight. */
const CONFLICT_RETRIES = 5;

/**
 * Batches applied at once, each in its own transaction on its own connection, so that two
 * PostgreSQL backends work on two cores while Node prepares the next batch. Apply mode does not
 * depend on the order batches commit in (the newest sequence of a row wins, see below) except
 * around deletes: a batch with deletes waits for the batches before it and runs alone.
 */
const CONNECTIONS = 2;


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
  readonly concurrency = CONNECTIONS;
  /** One connection per batch in flight (undefined: not connected, or lost). */
  private readonly clients: (pg.Client | undefined)[] = Array.from({ length: CONNECTIONS }, () => undefined);
  /** Connections not applying a batch now, and batches waiting for one. */
  private readonly idle: number[] = Array.from({ length: CONNECTIONS }, (_, k) => k);
  private readonly waiting: ((slot: number) => void)[] = [];
  /** Settles when the next batch may start: once the batch before has a connection, or has finished if it had deletes. */
  private turn: Promise<void> = Promise.resolve();
  /** Batches being applied (to wait for before a batch with deletes). */
  private readonly running = new Set<Promise<unknown>>();
  /** Batches rolled back by a conflict with the other batch in flight and applied again. */
  private conflicts = 0;
  private readonly created = new Set<EntityName>();
  private readonly applied = new Map<string, { upserted: number; deleted: number; stale: number }>();
  private readonly schema: string;
  private readonly prefix: string;
  /** Batches worked out ahead (prepare), until written. */
  private readonly plans = new WeakMap<readonly FeedEvent[], BatchPlan>();

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

  private async connect(slot: number): Promise<pg.Client> {
    const open = this.clients[slot];
    if (open) return open;
    const client = await connectForStream(this.config, 'ecomgen-stream', this.log, (lost) => {
      if (this.clients[slot] === lost) this.clients[slot] = undefined;
    });
    this.clients[slot] = client;
    return client;
  }

  /** A connection of its own for one batch (waits while every one is applying a batch). */
  private slot(): Promise<number> {
    const free = this.idle.pop();
    return free !== undefined ? Promise.resolve(free) : new Promise((resolve) => this.waiting.push(resolve));
  }

  private release(slot: number): void {
    const next = this.waiting.shift();
    if (next !== undefined) next(slot);
    else this.idle.push(slot);
  }

  async open(): Promise<void> {
    // Every connection now: a failure here fails the stream before anything is sent.
    const [client] = await Promise.all(this.clients.map((_, slot) => this.connect(slot))).catch((error: unknown) => {
      throw new Error(messageOf(error));
    });
    await prepareStreamSchema(client as pg.Client, this.schema, [`CREATE TABLE IF NOT EXISTS ${this.versions} (entity text NOT NULL, key text NOT NULL, sequence bigint NOT NULL, PRIMARY KEY (entity, key))`]);
  }

  /**
   * One statement that applies a batch (data-modifying CTEs): the side table first (only changes
   * newer than what their row holds go on), then per entity the first-time rows, the updates and
   * the deletes; it answers, per entity, how many of each were applied (the rest were stale).
   * One statement instead of one per entity and kind: a batch touches a dozen tables, and each
   * round trip costs both processes more than the rows do.
   */
  private applyStatement(byEntity: ReadonlyMap<EntityName, EntityBatch>): { text: string; values: unknown[]; bytes: number } {
    const values: unknown[] = [];
    const param = (value: unknown) => `$${values.push(value)}`;
    let bytes = 0;
    const array = (elements: readonly (string | null)[], type: string) => {
      const text = arrayLiteral(elements);
      bytes += text.length;
      return `${param(text)}::${type}[]`;
    };
    const ctes: string[] = [];
    const counts: string[] = [];
    const changes = [...byEntity.entries()].flatMap(([entity, group]) => [...group.updates, ...group.deletes].map((event) => ({ entity: entity as string, key: event.key, sequence: event.sequence })));
    // An entity some of whose rows were ever deleted is marked (its own entry, sequence 0, never
    // a row's): only then can a first change meet a row that is gone (see the inserts below).
    for (const [entity, group] of byEntity) if (group.deletes.length > 0) changes.push({ entity: deletedMark(entity), key: '', sequence: 0 });
    // In one order (entity, key), so that two batches in flight take the locks of the entries they
    // share in the same order.
    changes.sort((a, b) => (a.entity < b.entity ? -1 : a.entity > b.entity ? 1 : a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
    // Changes go on only when newer than what their row holds (a late or repeated change is stale).
    ctes.push(
      `fresh AS (INSERT INTO ${this.versions} AS v (entity, key, sequence) SELECT * FROM unnest(${param(arrayLiteral(changes.map((c) => c.entity)))}::text[], ${param(arrayLiteral(changes.map((c) => c.key)))}::text[], ${param(arrayLiteral(changes.map((c) => String(c.sequence))))}::bigint[])
       ON CONFLICT (entity, key) DO UPDATE SET sequence = EXCLUDED.sequence WHERE v.sequence < EXCLUDED.sequence RETURNING entity, key)`,
    );
    let n = 0;
    for (const [entity, { inserts, updates, deletes }] of byEntity) {
      const table = this.table(entity);
      const name = literal(entity);
      const primaryKey = quoteIdentifier(ENTITIES[entity].primaryKey);
      const typed = columnsOf(ENTITIES[entity].schema);
      const columns = typed.map((c) => quoteIdentifier(c.name));
      // The rows as one array per column (PostgreSQL reads each with the column type's input
      // function, as COPY does: cheaper for it than JSON objects), the event's sequence beside, and
      // its key unless that is the primary key's text (it always is, for the feed's events).
      const pkType = typed.find((c) => c.name === ENTITIES[entity].primaryKey)?.sqlType;
      const rows = (events: readonly FeedEvent[]) => {
        const data = events.map((e) => e.data as Record<string, unknown>);
        const arrays = typed.map((c) => {
          const text = columnLiteral(data, c.name);
          bytes += text.length;
          return `${param(text)}::${c.sqlType}[]`;
        });
        const sequences = array(events.map((e) => String(e.sequence)), 'bigint');
        if (keyedByPrimaryKey(events, ENTITIES[entity].primaryKey, pkType)) {
          return { from: `unnest(${arrays.join(', ')}, ${sequences}) AS r(${columns.join(', ')}, ecomgen_sequence)`, key: `r.${primaryKey}::text` };
        }
        return { from: `unnest(${arrays.join(', ')}, ${array(events.map((e) => e.key), 'text')}, ${sequences}) AS r(${columns.join(', ')}, ecomgen_key, ecomgen_sequence)`, key: 'r.ecomgen_key' };
      };
      if (inserts.length > 0) {
        // A row's first change needs no side-table entry: the row itself records it. It is stale
        // when the row is already there (the same insert again: ON CONFLICT) or a newer change of
        // the row was applied before it arrived: an update (which wrote the row, so ON CONFLICT
        // again) or a delete (the row is gone: its side-table entry tells). The side table is
        // looked up only for an entity marked as having had deletes; for the others (the feed
        // deletes nothing) the check is one lookup per statement instead of a join per row (which
        // the planner, without statistics, made a scan of all the entity's entries per batch:
        // work growing with the stream).
        const cte = `c${n++}`;
        const { from, key } = rows(inserts);
        ctes.push(
          `${cte} AS (INSERT INTO ${table} (${columns.join(', ')}) SELECT ${columns.map((c) => `r.${c}`).join(', ')} FROM ${from}
           WHERE NOT EXISTS (SELECT 1 FROM ${this.versions} m WHERE m.entity = ${literal(deletedMark(entity))} AND m.key = '')
              OR NOT EXISTS (SELECT 1 FROM ${this.versions} v WHERE v.entity = ${name} AND v.key = ${key} AND v.sequence >= r.ecomgen_sequence)
           ON CONFLICT (${primaryKey}) DO NOTHING RETURNING 1)`,
        );
        counts.push(`SELECT 'inserted' AS kind, ${name} AS entity, count(*) AS n FROM ${cte}`);
      }
      if (updates.length > 0) {
        const cte = `c${n++}`;
        const set = columns.filter((c) => c !== primaryKey).map((c) => `${c} = EXCLUDED.${c}`);
        const { from, key } = rows(updates);
        ctes.push(
          `${cte} AS (INSERT INTO ${table} (${columns.join(', ')}) SELECT ${columns.map((c) => `r.${c}`).join(', ')} FROM ${from}
           WHERE ${key} IN (SELECT key FROM fresh WHERE entity = ${name})
           ON CONFLICT (${primaryKey}) DO ${set.length > 0 ? `UPDATE SET ${set.join(', ')}` : 'NOTHING'} RETURNING 1)`,
        );
        counts.push(`SELECT 'updated' AS kind, ${name} AS entity, count(*) AS n FROM ${cte}`);
      }
      if (deletes.length > 0) {
        const cte = `c${n++}`;
        ctes.push(`${cte} AS (SELECT key FROM fresh WHERE entity = ${name} AND key = ANY(${param(arrayLiteral(deletes.map((e) => e.key)))}::text[]))`);
        ctes.push(`c${n++} AS (DELETE FROM ${table} WHERE ${primaryKey}::text IN (SELECT key FROM ${cte}))`);
        counts.push(`SELECT 'deleted' AS kind, ${name} AS entity, count(*) AS n FROM ${cte}`);
      }
    }
    // The side table first (its count is read first, which runs it): a batch locks the entries of
    // its changes before any row of a table, so two batches in flight that change the same rows
    // wait for each other at the side table instead of deadlocking between it and a table.
    counts.unshift(`SELECT 'changes' AS kind, '' AS entity, count(*) AS n FROM fresh`);
    return { text: `WITH ${ctes.join(',\n')}\n${counts.join('\nUNION ALL ')}`, values, bytes };
  }

  /** What applying `batch` takes, worked out before the database is asked (pure: the same batch, the same plan). */
  private plan(batch: readonly FeedEvent[]): BatchPlan {
    const refused = new Map<number, string>();
    // The newest change per row (highest sequence) wins; a malformed event is refused (the dead-letter case), never applied.
    const last = new Map<string, { entity: EntityName; event: FeedEvent }>();
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
      // Whichever of the two is older is stale (counted whether it came first or second).
      if (seen !== undefined) staleInBatch.set(event.entity, (staleInBatch.get(event.entity) ?? 0) + 1);
    }
    // Per entity: first-time rows (inserts) and changes of rows (updates, deletes).
    const byEntity = new Map<EntityName, EntityBatch>();
    for (const { entity, event } of last.values()) {
      let group = byEntity.get(entity);
      if (group === undefined) byEntity.set(entity, (group = { inserts: [], updates: [], deletes: [], stale: staleInBatch.get(entity) ?? 0 }));
      (event.op === 'insert' ? group.inserts : event.op === 'delete' ? group.deletes : group.updates).push(event);
    }
    // Tables in one order. Their rows are not sorted (a fifth of this function's time): two batches
    // in flight lock a row of a table both change only in ways the side table already orders (an
    // update and an update, both holding the row's entry first) or one way round (an insert, then
    // its later update); only late or duplicate first changes can still meet in opposite orders,
    // which PostgreSQL resolves as a deadlock, retried.
    const sorted = new Map([...byEntity.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
    return { refused, byEntity: sorted, statement: this.applyStatement(sorted) };
  }

  /** Works out the next batch's statement while the one before is in the database (the engine calls this ahead). */
  prepare(batch: readonly FeedEvent[]): void {
    this.plans.set(batch, this.plan(batch));
  }

  async write(batch: readonly FeedEvent[]): Promise<WriteOutcome> {
    const plan = this.plans.get(batch) ?? this.plan(batch);
    this.plans.delete(batch);
    // A batch begins after the batch before it got its connection; one with deletes only once every
    // batch before it has finished, and the next waits for it to finish: a delete and a late
    // insert of its row in two transactions at once would not see each other (a deleted row holds
    // no lock, and the side-table entry that makes the insert stale is not yet committed).
    const alone = [...plan.byEntity.values()].some((group) => group.deletes.length > 0);
    const before = [...this.running];
    const turn = this.turn;
    let begun: () => void = () => undefined;
    const started = new Promise<void>((resolve) => (begun = resolve));
    const applying = (async () => {
      await turn;
      if (alone) await Promise.allSettled(before);
      const slot = await this.slot();
      begun();
      try {
        return await this.apply(slot, plan);
      } finally {
        this.release(slot);
      }
    })();
    const settled = applying.then(
      () => undefined,
      () => undefined,
    );
    this.running.add(settled);
    void settled.then(() => this.running.delete(settled));
    this.turn = alone ? settled : started;
    return applying;
  }

  /** Applies one planned batch on connection `slot`: one statement, so one transaction. */
  private async apply(slot: number, { refused, byEntity, statement }: BatchPlan): Promise<WriteOutcome> {
    const applied = new Map<EntityName, { upserted: number; deleted: number; stale: number }>();
    for (const [entity, group] of byEntity) applied.set(entity, { upserted: 0, deleted: 0, stale: group.stale });
    for (let attempt = 0; ; attempt++) {
      // Without a pause when connected: the statement goes out before the engine prepares the next batch.
      const client = this.clients[slot] ?? (await this.connect(slot));
      const missing = [...byEntity.keys()].filter((e) => !this.created.has(e));
      try {
        if (missing.length > 0) {
          await client.query('BEGIN');
          await client.query('SELECT pg_advisory_xact_lock($1)', [DDL_LOCK]);
          for (const sql of createTablesSql(missing, { schema: this.schema, prefix: this.prefix })) await client.query(sql);
        }
        // The whole batch is one statement (so one transaction even without BEGIN) and one round trip.
        const counts = await client.query<{ kind: string; entity: EntityName; n: string }>(statement.text, statement.values);
        if (missing.length > 0) await client.query('COMMIT');
        for (const { kind, entity, n } of counts.rows) {
          const group = byEntity.get(entity);
          const count = applied.get(entity);
          if (group === undefined || count === undefined) continue;
          if (kind === 'inserted') {
            count.upserted += Number(n);
            count.stale += group.inserts.length - Number(n);
          } else if (kind === 'updated') {
            count.upserted += Number(n);
            count.stale += group.updates.length - Number(n);
          } else {
            count.deleted += Number(n);
            count.stale += group.deletes.length - Number(n);
          }
        }
        break;
      } catch (error) {
        if (missing.length > 0) await client.query('ROLLBACK').catch(() => undefined);
        // Rolled back for meeting the other batch in flight: at once again, on the same connection.
        if (isConflict(error) && attempt < CONFLICT_RETRIES) {
          this.conflicts++;
          continue;
        }
        if (!isDataError(error) && !isConflict(error)) {
          // The connection may be gone: the next attempt opens a new one.
          if (this.clients[slot] === client) this.clients[slot] = undefined;
          await client.end().catch(() => undefined);
        }
        // Nothing of the batch is applied; a data error would fail again, an outage may not.
        throw new DeliveryError(`PostgreSQL: batch rolled back: ${messageOf(error)}`, 0, 0, !isDataError(error));
      }
    }
    for (const [entity, { upserted, deleted, stale }] of applied) {
      this.created.add(entity);
      const counts = this.applied.get(entity) ?? { upserted: 0, deleted: 0, stale: 0 };
      counts.upserted += upserted;
      counts.deleted += deleted;
      counts.stale += stale;
      this.applied.set(entity, counts);
    }
    return { bytes: statement.bytes, refused };
  }

  async close(): Promise<void> {
    await Promise.all(this.clients.map((client) => client?.end().catch(() => undefined)));
  }

  details(): Record<string, unknown> {
    return { schema: this.schema, conflicts: this.conflicts, tables: Object.fromEntries([...this.applied.entries()].map(([entity, c]) => [tableName(entity as EntityName, this.prefix), { ...c }])) };
  }
}
