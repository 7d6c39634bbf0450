/**
 * Apache Parquet, for data lakes and warehouses: one typed column per schema property, row
 * groups written as records stream, so memory holds one row group at a time however many
 * records there are.
 *
 * Written with hyparquet-writer: pure JavaScript with a single dependency (its reader's type
 * definitions), an incremental writer (`ParquetWriter.write` per row group, `finish` for the
 * footer), DECIMAL, TIMESTAMP, DATE, UUID and JSON logical types, and snappy built in. The
 * alternatives were heavier for what they add: @dsnp/parquetjs needs Node 24 and pulls in the
 * AWS SDK; parquet-wasm writes Arrow tables, so every batch would first be built as an Arrow
 * table with apache-arrow.
 *
 * Parquet is not a text format: it is not a RecordFormat (whose pieces concatenate), so a
 * partitioned download is one file per partition, not a slice of one file.
 *
 * Column types come from the same column map as the PostgreSQL tables (src/schemas/columns.ts):
 *
 * | SQL (column map) | Parquet                                          |
 * | ---------------- | ------------------------------------------------ |
 * | uuid             | FIXED_LEN_BYTE_ARRAY(16), UUID                    |
 * | timestamptz      | INT64, TIMESTAMP(MILLIS, adjusted to UTC)         |
 * | date             | INT32, DATE                                       |
 * | numeric(12,2)    | INT64, DECIMAL(12,2) (exact cents)                |
 * | integer / bigint | INT32 / INT64                                     |
 * | double precision | DOUBLE                                            |
 * | boolean          | BOOLEAN                                           |
 * | text             | BYTE_ARRAY, STRING                                |
 * | jsonb            | BYTE_ARRAY, JSON (the value as in the JSON format) |
 *
 * Nullable properties are OPTIONAL columns, the others REQUIRED.
 */
import type { Readable } from 'node:stream';
import { turnTakingStream } from './index.js';
import { setImmediate as yieldToLoop } from 'node:timers/promises';
import { ByteWriter, ParquetWriter } from 'hyparquet-writer';
import type { TObject } from '@sinclair/typebox';
import { columnsOf, type Column } from '../schemas/columns.js';

/** A column of the Parquet schema, as the writer takes it. */
type SchemaElement = ConstructorParameters<typeof ParquetWriter>[0]['schema'][number];

export const PARQUET_CONTENT_TYPE = 'application/vnd.apache.parquet';
export const PARQUET_EXTENSION = 'parquet';
/** Rows per row group: a few MB of column data for the widest entities. */
export const PARQUET_ROW_GROUP = 50_000;
/** Records generated between two turns of the event loop (a few ms of work). */
const TURN = 512;

interface ParquetColumn {
  readonly name: string;
  readonly element: SchemaElement;
  /** Turns a record's value into what the writer expects for this column. */
  readonly convert: (value: unknown) => unknown;
}

const same = (value: unknown) => value;
const timestamp = (value: unknown) => (typeof value === 'string' ? new Date(value) : value);
const date = (value: unknown) => (typeof value === 'string' ? new Date(`${value}T00:00:00Z`) : value);
const int64 = (value: unknown) => (typeof value === 'number' ? BigInt(value) : value);

function parquetColumn(column: Column): ParquetColumn {
  const repetition_type = column.nullable ? 'OPTIONAL' : 'REQUIRED';
  const name = column.name;
  const money = /^numeric\((\d+),(\d+)\)$/.exec(column.sqlType);
  if (money) {
    const precision = Number(money[1]);
    const scale = Number(money[2]);
    return {
      name,
      element: { name, repetition_type, type: 'INT64', converted_type: 'DECIMAL', precision, scale, logical_type: { type: 'DECIMAL', precision, scale } },
      convert: same,
    };
  }
  switch (column.sqlType) {
    case 'uuid':
      return { name, element: { name, repetition_type, type: 'FIXED_LEN_BYTE_ARRAY', type_length: 16, logical_type: { type: 'UUID' } }, convert: same };
    case 'timestamptz':
      return {
        name,
        element: { name, repetition_type, type: 'INT64', converted_type: 'TIMESTAMP_MILLIS', logical_type: { type: 'TIMESTAMP', isAdjustedToUTC: true, unit: 'MILLIS' } },
        convert: timestamp,
      };
    case 'date':
      return { name, element: { name, repetition_type, type: 'INT32', converted_type: 'DATE' }, convert: date };
    case 'integer':
      return { name, element: { name, repetition_type, type: 'INT32' }, convert: same };
    case 'bigint':
      return { name, element: { name, repetition_type, type: 'INT64' }, convert: int64 };
    case 'double precision':
      return { name, element: { name, repetition_type, type: 'DOUBLE' }, convert: same };
    case 'boolean':
      return { name, element: { name, repetition_type, type: 'BOOLEAN' }, convert: same };
    case 'jsonb':
      return { name, element: { name, repetition_type, type: 'BYTE_ARRAY', converted_type: 'JSON' }, convert: same };
    default:
      return { name, element: { name, repetition_type, type: 'BYTE_ARRAY', converted_type: 'UTF8' }, convert: same };
  }
}

/** The Parquet columns of an entity schema, restricted to `columns` (in that order) when given. */
export function parquetColumns(schema: TObject, columns?: readonly string[]): ParquetColumn[] {
  const all = columnsOf(schema).map(parquetColumn);
  if (!columns) return all;
  return columns.map((name) => {
    const found = all.find((c) => c.name === name);
    if (!found) throw new Error(`no column ${name}`);
    return found;
  });
}

/**
 * A ByteWriter that hands out what was written so far: `offset` keeps counting the whole file
 * (the footer records row group positions by it), while the buffer is emptied after each take.
 */
class DrainingWriter extends ByteWriter {
  /** The bytes written since the last take, in an ArrayBuffer of their own (a worker can transfer it). */
  take(): Buffer {
    const bytes = Buffer.from(this.buffer.slice(0, this.index));
    this.index = 0;
    return bytes;
  }
}

/**
 * One Parquet file written a row group at a time: {@link add} records until it says the row
 * group is full, {@link flush} it, and {@link finish} with the footer. The same bytes whether
 * driven on the main thread ({@link parquetStream}) or on a render worker (src/render/parquet.ts).
 */
export class ParquetEncoder {
  private readonly columns: ParquetColumn[];
  private readonly writer = new DrainingWriter(1 << 16);
  private readonly parquet: ParquetWriter;
  private readonly rowGroup: number;
  private data: unknown[][];
  /** Records gathered for the current row group. */
  rows = 0;

  constructor(schema: TObject, options: { columns?: readonly string[] | undefined; rowGroup?: number | undefined } = {}) {
    this.rowGroup = options.rowGroup ?? PARQUET_ROW_GROUP;
    this.columns = parquetColumns(schema, options.columns);
    this.parquet = new ParquetWriter({
      writer: this.writer,
      schema: [{ name: 'root', num_children: this.columns.length }, ...this.columns.map((c) => c.element)],
      createdBy: 'ecomgen',
    });
    this.data = this.columns.map(() => []);
  }

  /** Gathers a record; true when the row group is full (then {@link flush}). */
  add(record: object): boolean {
    const row = record as Record<string, unknown>;
    const columns = this.columns;
    for (let k = 0; k < columns.length; k++) {
      const column = columns[k] as ParquetColumn;
      (this.data[k] as unknown[]).push(column.convert(row[column.name] ?? null));
    }
    return ++this.rows === this.rowGroup;
  }

  /** Writes the gathered records as a row group; its bytes (the file's magic before the first). */
  flush(): Buffer {
    this.parquet.write({ columnData: this.columns.map((c, k) => ({ name: c.name, data: this.data[k] as unknown[] })), rowGroupSize: this.rows });
    this.data = this.columns.map(() => []);
    this.rows = 0;
    return this.writer.take();
  }

  /** The footer (and anything not yet taken). */
  finish(): Buffer {
    this.parquet.finish();
    return this.writer.take();
  }
}

/**
 * Streams records as one Parquet file: a row group per `rowGroup` records, produced only when
 * the consumer reads, so memory stays at one row group. Encoding a row group holds the event
 * loop (~30 µs a row for orders): large downloads of a server with render threads are encoded
 * on a worker instead (src/render/parquet.ts).
 *
 * @example
 * parquetStream(UserSchema, world.generator('users').range(0, 1000)).pipe(createWriteStream('users.parquet'));
 */
export function parquetStream(schema: TObject, records: Iterable<object>, options: { columns?: readonly string[]; rowGroup?: number } = {}): Readable {
  const encoder = new ParquetEncoder(schema, options);
  async function* chunks(): AsyncGenerator<Buffer> {
    for (const record of records) {
      if (encoder.add(record)) yield encoder.flush();
      else if (encoder.rows % TURN === 0) await yieldToLoop();
    }
    if (encoder.rows > 0) yield encoder.flush();
    yield encoder.finish();
  }
  return turnTakingStream(chunks());
}
