import type { ByteRows } from './fields.js';

/** What a format needs to know about the records it writes; nothing about the entity. */
export interface FormatContext {
  /** Keys to write, in order (CSV columns, the order of JSON keys is the record's own). */
  readonly columns: readonly string[];
  /** XML root element (plural) and record element (singular). */
  readonly root: string;
  readonly item: string;
  /**
   * The JSON Schema of a record, when known: writers may use property types to skip work
   * (CSV does not escape uuids, dates or numbers). Never required for correctness.
   */
  readonly schema?: { readonly $id?: string; readonly properties?: Readonly<Record<string, unknown>> };
  /** For the bulk format only: the index to write to and the column that gives each `_id`. */
  readonly bulk?: { readonly index: string; readonly idColumn: string };
}

/**
 * A streaming writer: `open` once, `batch` for each batch of records (never called with an
 * empty batch), `close` once. Each returns the text to send.
 */
export interface RecordFormat {
  readonly name: 'json' | 'ndjson' | 'csv' | 'xml' | 'bulk';
  readonly contentType: string;
  readonly extension: string;
  open(context: FormatContext): string;
  batch(records: readonly object[], context: FormatContext, first: boolean): string;
  close(context: FormatContext, empty: boolean): string;
  /**
   * A writer of records field by field into bytes (see fields.ts), giving the bytes `batch`
   * gives; `first` as for `batch`. Formats without one always go through `batch`.
   */
  fieldRows?(context: FormatContext, first: boolean): ByteRows;
}
