import { mkdtempSync, rmSync, writeSync } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { Type } from '@sinclair/typebox';
import pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import type { PostgresConfig } from '../config.js';
import type { OrderItemGenerator } from '../generators/order-items.js';
import type { Order } from '../schemas/order.js';
import { csvFormat } from '../formats/csv.js';
import { turnTakingStream } from '../formats/index.js';
import { ENTITIES, ENTITY_NAMES, WORLD_ENTITIES, isEntityName, type EntityName } from '../generators/registry.js';
import { servedLocations } from '../generators/served-order.js';
import { formatContext, type BatchTask } from '../render/batch.js';
import type { RenderPool } from '../render/pool.js';
import { columnsOf, createTablesSql, quoteIdentifier, tableName } from '../schemas/columns.js';
import { messageOf, type EntityProgress } from './progress.js';
import type { EntitySlice, SinkDefinition, SinkRun } from './types.js';

export interface PostgresOptions {
  schema?: string;
  table_prefix?: string;
  /** Table names per entity (`{"users": "customers"}`); the prefix still applies. */
  tables?: Record<string, string>;
  foreign_keys?: boolean;
}

/** Unquoted-safe identifiers only: what a request may name stays a plain name in SQL. */
const IDENTIFIER = '^[a-z_][a-z0-9_]*$';
/** PostgreSQL truncates identifiers at 63 bytes; the longest table name is 19 (`inventory_movements`... plus prefix). */
const MAX_PREFIX = 40;

/** Records rendered per CSV chunk written to COPY (small: see SUB_BATCH in render/batch.ts). */
const CSV_BATCH = 256;
/**
 * CSV bytes generated ahead of COPY: enough that PostgreSQL (its own process, the other core)
 * always has the next chunk while this thread generates, and bounded so one pull from the
 * stream does not generate thousands of records in one turn of the event loop (an object-mode
 * stream reads 16 batches ahead).
 */
const AHEAD_BYTES = 256 * 1024;

/** Records per batch rendered on a render thread: as the entity route's large downloads (a few hundred KB of CSV). */
const POOL_BATCH = 2048;

/**
 * The batches of a slice as the entity route builds them for a CSV download: all columns, in
 * schema order, and for an entity served in time order the locations of its records. COPY gets
 * no header: a CSV batch is rows only (the header is the format's `open`, and `first` changes
 * nothing for CSV), the same bytes as `csvFormat.batch` over the same records.
 */
export function* csvTasks(slice: EntitySlice, batch = POOL_BATCH): Generator<BatchTask> {
  const spec = slice.world.spec;
  const columns = columnsOf(ENTITIES[slice.entity].schema).map((c) => c.name);
  for (let start = slice.start; start < slice.end; start += batch) {
    const end = Math.min(slice.end, start + batch);
    const locations = servedLocations(slice.world, slice.entity, start, end);
    yield { spec, entity: slice.entity, format: 'csv', columns, projected: false, start, end, first: start === slice.start, ...(locations && { locations }) };
  }
}

/**
 * A slice's CSV rendered on the render threads, handed back in order with each batch's row
 * count. At most `ahead` batches are asked of the pool beyond the one being consumed, and the
 * next only when the consumer takes one, so COPY's backpressure reaches the pool. `stop` asks
 * nothing more; `settled` waits for the batches already asked, so a cancelled or failed load
 * leaves none of its batches in the pool.
 */
export class PooledCsv {
  private readonly asked = new Set<Promise<Uint8Array>>();
  private stopped = false;

  constructor(
    private readonly pool: RenderPool,
    private readonly tasks: Iterator<BatchTask>,
    private readonly ahead = 2 * pool.size + 1,
  ) {}

  async *chunks(): AsyncGenerator<[Buffer, number]> {
    const queue: { bytes: Promise<Uint8Array>; rows: number }[] = [];
    const fill = () => {
      while (!this.stopped && queue.length < this.ahead) {
        const next = this.tasks.next();
        if (next.done) {
          this.stopped = true;
          return;
        }
        const bytes = this.pool.run(next.value);
        this.asked.add(bytes);
        // Awaited in order below; one further on may fail first, and is not unhandled meanwhile.
        bytes.then(
          () => this.asked.delete(bytes),
          () => this.asked.delete(bytes),
        );
        queue.push({ bytes, rows: next.value.end - next.value.start });
      }
    };
    fill();
    for (let head = queue.shift(); head; head = queue.shift()) {
      fill();
      const bytes = await head.bytes;
      yield [Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength), head.rows];
    }
  }

  stop(): void {
    this.stopped = true;
  }

  async settled(): Promise<void> {
    await Promise.allSettled([...this.asked]);
  }
}

/** The table an entity loads into: the prefix, then its name from `tables` or the entity name (`-`, `/` as `_`). */
const tableNameOf = (options: PostgresOptions) => (entity: EntityName) =>
  `${options.table_prefix ?? ''}${options.tables?.[entity] ?? tableName(entity)}`;

const MAX_IDENTIFIER = 63;
const IDENTIFIER_RE = new RegExp(IDENTIFIER);

/** `tables`: known entities, valid names that fit with the prefix, no two entities in one table. */
function tablesProblem(options: PostgresOptions, entities: readonly EntityName[]): { parameter: string; reason: string } | undefined {
  const tables = options.tables ?? {};
  const prefix = options.table_prefix ?? '';
  for (const [entity, name] of Object.entries(tables)) {
    if (!isEntityName(entity)) return { parameter: `tables.${entity}`, reason: `no entity '${entity}'; known: ${ENTITY_NAMES.join(', ')}` };
    if (typeof name !== 'string' || !IDENTIFIER_RE.test(name)) {
      return { parameter: `tables.${entity}`, reason: `'${String(name)}' is not a table name: lowercase letters, digits and _, not starting with a digit` };
    }
    if (prefix.length + name.length > MAX_IDENTIFIER) {
      return { parameter: `tables.${entity}`, reason: `'${prefix}${name}' is longer than PostgreSQL's ${MAX_IDENTIFIER} characters` };
    }
  }
  const nameOf = tableNameOf(options);
  const owner = new Map<string, EntityName>();
  for (const entity of [...new Set([...entities, ...(Object.keys(tables) as EntityName[])])]) {
    const other = owner.get(nameOf(entity));
    if (other) {
      const key = Object.hasOwn(tables, entity) ? entity : other;
      return { parameter: `tables.${key}`, reason: `${entity} and ${other} would both load into table ${nameOf(entity)}` };
    }
    owner.set(nameOf(entity), entity);
  }
  return undefined;
}

/** Serialises table creation across concurrent jobs (CREATE ... IF NOT EXISTS can race in the catalog). */
export const DDL_LOCK = 0x65636f6d; // 'ecom'

/**
 * The order-items CSV of the orders being loaded, written to a temporary file as each order is
 * generated for the orders COPY, then read back for the order-items COPY: a job with both
 * entities generates each order once (order lines are built from the whole order, so loading
 * order-items on its own generates every order again). The entities keep their own
 * transactions, one after the other, so foreign keys and the all-or-nothing rule are as before;
 * memory stays flat (one batch in memory, the rest on disk).
 */
class LineSpool {
  private readonly dir: string;
  private handle?: FileHandle;
  private batch: object[] = [];
  /** [bytes, rows] of each chunk written, in order. */
  private readonly chunks: [number, number][] = [];
  private written = 0;

  private constructor(
    private readonly items: OrderItemGenerator,
    private readonly context: ReturnType<typeof formatContext>,
  ) {
    this.dir = mkdtempSync(join(tmpdir(), 'ecomgen-order-items-'));
  }

  static async open(items: OrderItemGenerator): Promise<LineSpool> {
    const spool = new LineSpool(items, formatContext('order-items', columnsOf(ENTITIES['order-items'].schema).map((c) => c.name)));
    try {
      spool.handle = await open(join(spool.dir, 'order-items.csv'), 'w+');
    } catch (error) {
      spool.remove();
      throw error;
    }
    return spool;
  }

  /** Takes the lines of one order, in line order. */
  add(order: Order): void {
    for (let k = 0; k < order.items.length; k++) {
      this.batch.push(this.items.lineOf(order, k));
      if (this.batch.length === CSV_BATCH) this.flush();
    }
  }

  private flush(): void {
    if (this.batch.length === 0 || !this.handle) return;
    const bytes = Buffer.from(csvFormat.batch(this.batch, this.context, false));
    // A ~30 KB write to the page cache: synchronous keeps the orders COPY's generator simple.
    writeSync(this.handle.fd, bytes, 0, bytes.length, this.written);
    this.chunks.push([bytes.length, this.batch.length]);
    this.written += bytes.length;
    this.batch = [];
  }

  /** The CSV chunks written, with their row counts, read back in order. */
  async *read(): AsyncGenerator<[Buffer, number]> {
    this.flush();
    let at = 0;
    for (const [bytes, rows] of this.chunks) {
      const buffer = Buffer.allocUnsafe(bytes);
      const { bytesRead } = await (this.handle as FileHandle).read(buffer, 0, bytes, at);
      if (bytesRead !== bytes) throw new Error(`order-items spool: read ${bytesRead} of ${bytes} bytes`);
      at += bytes;
      yield [buffer, rows];
    }
  }

  async close(): Promise<void> {
    await this.handle?.close().catch(() => undefined);
    this.remove();
  }

  private remove(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/**
 * When a job loads orders and exactly their lines as order-items (same world, the order-items
 * slice is the lines of the orders slice), the lines can be taken from the orders pass.
 */
function linesOfOrders(slices: readonly EntitySlice[]): { orders: EntitySlice; items: EntitySlice } | undefined {
  const orders = slices.find((s) => s.entity === 'orders');
  const items = slices.find((s) => s.entity === 'order-items');
  if (!orders || !items || orders.world !== items.world || slices.indexOf(orders) > slices.indexOf(items)) return undefined;
  if (orders.start >= orders.end) return undefined;
  const generator = items.world.generator('order-items');
  if (generator.firstOf(orders.start) !== items.start || generator.firstOf(orders.end) !== items.end) return undefined;
  return { orders, items };
}

/**
 * Where an entity's CSV comes from: its slice's records written on this thread (each also
 * handed to `tee`), a spool, or the render threads of `pool`.
 */
interface CsvSource {
  tee?: (record: object) => void;
  spool?: LineSpool;
  pool?: RenderPool;
}

/**
 * Loads one entity in its own transaction: COPY the CSV into a temporary staging table, then
 * `INSERT ... SELECT ... ON CONFLICT (pk) DO NOTHING` into the target, so a re-run inserts
 * nothing twice and a failure (or a cancel) rolls the whole entity back.
 *
 * When the table is empty, nothing can conflict, so COPY goes straight into it: measured on
 * 300k users, staging + INSERT took 3.4 s against 2.2 s for a direct COPY, which kept the sink
 * under 0.7x of a raw COPY. The table is locked against concurrent loads (SHARE ROW EXCLUSIVE
 * conflicts with itself and with writers) before it is checked, so "empty" stays true until
 * commit; the outcome (inserted, skipped, all or nothing) is the same either way.
 */
async function loadEntity(
  client: pg.Client,
  slice: EntitySlice,
  target: string,
  progress: EntityProgress,
  signal: AbortSignal,
  source: CsvSource = {},
): Promise<void> {
  const definition = ENTITIES[slice.entity];
  const columns = columnsOf(definition.schema);
  const names = columns.map((c) => quoteIdentifier(c.name)).join(', ');
  // The CSV writer leaves nulls and empty strings both as empty cells; a NOT NULL text column is never null.
  const notNullText = columns.filter((c) => !c.nullable && c.sqlType === 'text').map((c) => quoteIdentifier(c.name));
  const copyOptions = ['FORMAT csv', ...(notNullText.length > 0 ? [`FORCE_NOT_NULL (${notNullText.join(', ')})`] : [])].join(', ');
  const context = formatContext(slice.entity, columns.map((c) => c.name));
  let staged = 0;
  let bytes = 0;
  progress.details.staged = 0;

  function* csv(): Generator<Buffer> {
    let batch: object[] = [];
    // Encoded here, once: Buffer.byteLength of the batch's text flattened and walked it a
    // second time (17% of the sink's CPU for users), and COPY encoded it again.
    const flush = () => {
      const chunk = Buffer.from(csvFormat.batch(batch, context, false));
      staged += batch.length;
      bytes += chunk.length;
      progress.details.staged = staged;
      batch = [];
      return chunk;
    };
    const { tee } = source;
    for (const record of slice.records()) {
      tee?.(record);
      batch.push(record);
      if (batch.length === CSV_BATCH) {
        if (signal.aborted) throw signal.reason;
        yield flush();
      }
    }
    if (batch.length > 0) yield flush();
  }

  async function* counted(chunks: AsyncIterable<[Buffer, number]>): AsyncGenerator<Buffer> {
    for await (const [chunk, rows] of chunks) {
      if (signal.aborted) throw signal.reason;
      staged += rows;
      bytes += chunk.length;
      progress.details.staged = staged;
      yield chunk;
    }
  }
  const pooled = source.pool ? new PooledCsv(source.pool, csvTasks(slice)) : undefined;
  const rows = () => {
    // Streams that take a turn of the event loop per chunk: COPY reads as fast as it is fed.
    if (source.spool) return turnTakingStream(counted(source.spool.read()), 1);
    // One chunk buffered by the stream: how far ahead the pool renders is PooledCsv's bound.
    if (pooled) return turnTakingStream(counted(pooled.chunks()), 1);
    return turnTakingStream(csv(), AHEAD_BYTES);
  };

  await client.query('BEGIN');
  try {
    await client.query(`LOCK TABLE ${target} IN SHARE ROW EXCLUSIVE MODE`);
    const empty = (await client.query(`SELECT NOT EXISTS (SELECT 1 FROM ${target}) AS empty`)).rows[0].empty === true;
    progress.details.staging = !empty;
    let inserted: number;
    if (empty) {
      await pipeline(rows(), client.query(copyFrom(`COPY ${target} (${names}) FROM STDIN WITH (${copyOptions})`)));
      inserted = staged;
    } else {
      await client.query(`CREATE TEMPORARY TABLE ecomgen_staging (LIKE ${target} INCLUDING DEFAULTS) ON COMMIT DROP`);
      await pipeline(rows(), client.query(copyFrom(`COPY ecomgen_staging (${names}) FROM STDIN WITH (${copyOptions})`)));
      if (signal.aborted) throw signal.reason;
      const insert = await client.query(
        `INSERT INTO ${target} (${names}) SELECT ${names} FROM ecomgen_staging ON CONFLICT (${quoteIdentifier(definition.primaryKey)}) DO NOTHING`,
      );
      inserted = insert.rowCount ?? 0;
    }
    if (signal.aborted) throw signal.reason;
    await client.query('COMMIT');
    progress.inserted = inserted;
    progress.skipped = staged - inserted;
    progress.delivered(staged, bytes);
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw error;
  } finally {
    pooled?.stop();
    await pooled?.settled();
  }
}

/** Bounds on every wait (see PostgresConfig): a hung database fails the job instead of hanging it. */
const DEFAULT_STATEMENT_TIMEOUT_MS = 600_000;
const DEFAULT_LOCK_TIMEOUT_MS = 60_000;
const DEFAULT_CONNECT_TIMEOUT_MS = 10_000;

/**
 * A client of the configured database with the configured timeouts (statement, lock, connect,
 * and a client-side bound for a server that stops answering): the sink, the stream writers and
 * partitioned CLI loads all open their connections here.
 */
export function postgresClient(config: PostgresConfig, applicationName: string): pg.Client {
  const statementTimeout = config.statementTimeoutMs ?? DEFAULT_STATEMENT_TIMEOUT_MS;
  return new pg.Client({
    connectionString: config.connectionString,
    connectionTimeoutMillis: config.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS,
    statement_timeout: statementTimeout,
    lock_timeout: config.lockTimeoutMs ?? DEFAULT_LOCK_TIMEOUT_MS,
    // The server's own timeout comes first; this one ends a wait on a server that went silent.
    query_timeout: statementTimeout + 10_000,
    application_name: applicationName,
  });
}
/** After a cancel, how long the backend gets to give up its statement before the socket is cut. */
const CANCEL_GRACE_MS = 3_000;

/**
 * Stops whatever `client` is running: `pg_cancel_backend` from a second connection (the
 * statement fails, the transaction rolls back), and if the job has still not let go after
 * CANCEL_GRACE_MS (a dead network, a frozen server), the socket is destroyed. pg has no public
 * way to abort a connection with a query in flight, hence the reach into `connection.stream`.
 */
function cancelOnAbort(client: pg.Client, config: PostgresConfig, signal: AbortSignal, log: SinkRun<PostgresConfig, PostgresOptions>['log']): () => void {
  let timer: NodeJS.Timeout | undefined;
  const onAbort = () => {
    const pid = (client as unknown as { processID?: number }).processID;
    if (pid !== undefined) {
      const canceller = new pg.Client({ connectionString: config.connectionString, connectionTimeoutMillis: CANCEL_GRACE_MS, application_name: 'ecomgen-cancel' });
      canceller.on('error', () => undefined);
      canceller
        .connect()
        .then(() => canceller.query('SELECT pg_cancel_backend($1)', [pid]))
        .catch((error: unknown) => log.warn({ err: error }, 'PostgreSQL cancel request failed'))
        .finally(() => canceller.end().catch(() => undefined));
    }
    timer = setTimeout(() => {
      (client as unknown as { connection?: { stream?: { destroy(): void } } }).connection?.stream?.destroy();
    }, CANCEL_GRACE_MS);
    timer.unref();
  };
  signal.addEventListener('abort', onAbort, { once: true });
  return () => {
    signal.removeEventListener('abort', onAbort);
    clearTimeout(timer);
  };
}

/**
 * PostgreSQL: schema and tables from the entity schemas, then each entity loaded in its own
 * transaction, in dependency order. A failed entity is rolled back and stops the job (the
 * entities after it may reference it); the ones before it stay committed.
 */
export const postgresSink: SinkDefinition<'postgres', PostgresOptions> = {
  name: 'postgres',
  configKey: 'postgres',
  requires: 'DATABASE_URL',
  summary: 'Load entities into PostgreSQL tables',
  description: [
    'Creates the schema and one table per entity (columns, types and primary key from the entity schema; foreign keys on request), then loads each entity with `COPY FROM STDIN` into a staging table and `INSERT ... ON CONFLICT DO NOTHING` into the table, one transaction per entity, in dependency order.',
    'Re-running the same world inserts nothing new: each entity reports `inserted` and `skipped`. A failure rolls that entity back, stops the job and is reported; entities before it stay loaded.',
    'Tables are named `<schema>.<table_prefix><entity>` with `-` and `/` as `_` (e.g. `bronze.raw_order_items`); `tables` renames an entity\'s table, and the prefix still applies: `{"schema": "bronze", "table_prefix": "raw_", "tables": {"users": "customers"}}` loads users into `bronze.raw_customers`.',
  ].join('\n\n'),
  options: {
    schema: Type.String({ pattern: IDENTIFIER, maxLength: 63, default: 'public', description: 'Schema to create and load (lowercase letters, digits, _). Default public.', examples: ['bronze'] }),
    table_prefix: Type.String({ pattern: `^$|${IDENTIFIER}`, maxLength: MAX_PREFIX, default: '', description: 'Prefix of every table name (e.g. raw_ gives raw_users).', examples: ['raw_'] }),
    tables: Type.Record(Type.String(), Type.String(), {
      maxProperties: ENTITY_NAMES.length,
      description:
        "Table name per entity, e.g. {\"users\": \"customers\"}; the table_prefix still applies and other entities keep their own name. Keys are entity names; names are lowercase letters, digits and _. An unknown entity, an invalid name or two entities in one table is a 400 naming tables.<entity>.",
      examples: [{ users: 'customers' }],
    }),
    foreign_keys: Type.Boolean({
      default: false,
      description: 'Create tables with foreign keys to the tables of the entities they reference (those sent in this job or already present in the schema).',
    }),
  },
  defaultEntities: WORLD_ENTITIES,
  optionsProblem: (options, entities) => tablesProblem(options, entities),
  async run(run: SinkRun<PostgresConfig, PostgresOptions>): Promise<void> {
    const schema = run.options.schema ?? 'public';
    const nameOf = tableNameOf(run.options);
    const client = postgresClient(run.config, 'ecomgen');
    client.on('error', (error) => run.log.warn({ err: error }, 'PostgreSQL connection error'));
    try {
      await client.connect();
    } catch (error) {
      throw new Error(`cannot connect to PostgreSQL (DATABASE_URL): ${messageOf(error)}`);
    }
    const stopCancelling = cancelOnAbort(client, run.config, run.signal, run.log);
    let spool: LineSpool | undefined;
    try {
      // Temporary tables past temp_buffers spill to disk; staging a large entity fits in memory instead.
      await client.query(`SET temp_buffers = '256MB'`);
      const entities = run.slices.map((s) => s.entity);
      await client.query('BEGIN');
      try {
        await client.query('SELECT pg_advisory_xact_lock($1)', [DDL_LOCK]);
        await client.query(`CREATE SCHEMA IF NOT EXISTS ${quoteIdentifier(schema)}`);
        let foreignKeys: boolean | ((parent: EntityName) => boolean) = false;
        if (run.options.foreign_keys) {
          const existing = await client.query<{ name: string }>(
            `SELECT table_name AS name FROM information_schema.tables WHERE table_schema = $1`,
            [schema],
          );
          const present = new Set(existing.rows.map((r) => r.name));
          foreignKeys = (parent) => entities.includes(parent) || present.has(nameOf(parent));
        }
        for (const sql of createTablesSql(entities, { schema, tableOf: nameOf, foreignKeys })) await client.query(sql);
        await client.query('COMMIT');
      } catch (error) {
        await client.query('ROLLBACK').catch(() => undefined);
        throw new Error(`creating schema ${schema} and its tables failed: ${messageOf(error)}`);
      }
      run.result.schema = schema;
      const pair = linesOfOrders(run.slices);
      // The spool only saves generating the orders twice: where the temporary directory cannot be
      // written (a read-only root filesystem), order-items is generated on its own instead.
      spool = pair ? await LineSpool.open(pair.items.world.generator('order-items')).catch((error: unknown) => {
        run.log.warn({ err: error }, 'order-items spool unavailable: generating the lines again');
        return undefined;
      }) : undefined;
      for (const slice of run.slices) {
        if (run.signal.aborted) return;
        const target = `${quoteIdentifier(schema)}.${quoteIdentifier(nameOf(slice.entity))}`;
        const progress = run.progress(slice.entity);
        progress.begin(`${schema}.${nameOf(slice.entity)}`);
        try {
          let source: CsvSource = {};
          if (spool && slice === pair?.orders) {
            const lines = spool;
            source = { tee: (record) => lines.add(record as Order) };
          } else if (spool && slice === pair?.items) {
            source = { spool };
          } else if (run.renderPool && slice.end - slice.start > 2 * POOL_BATCH) {
            // Large slices as the entity route's large downloads: rendered on the render threads.
            source = { pool: run.renderPool };
          }
          await loadEntity(client, slice, target, progress, run.signal, source);
          progress.done();
        } catch (error) {
          if (run.signal.aborted) {
            progress.state = 'cancelled';
            return;
          }
          progress.fail(`rolled back: ${messageOf(error)}`);
          throw new Error(`${slice.entity}: loading ${schema}.${nameOf(slice.entity)} failed and was rolled back: ${messageOf(error)}`);
        }
      }
    } finally {
      await spool?.close();
      stopCancelling();
      // Ending a connection whose socket was cut may never settle: wait for it only so long.
      await Promise.race([client.end().catch(() => undefined), sleep(CANCEL_GRACE_MS)]);
    }
  },
};

