import { Readable } from 'node:stream';
import { bulkFormat } from './bulk.js';
import { csvFormat } from './csv.js';
import { jsonFormat, ndjsonFormat } from './json.js';
import type { FormatContext, RecordFormat } from './types.js';
import { xmlFormat } from './xml.js';

export type { FormatContext, RecordFormat } from './types.js';

export const FORMATS = { json: jsonFormat, ndjson: ndjsonFormat, csv: csvFormat, xml: xmlFormat, bulk: bulkFormat } as const;
export type FormatName = keyof typeof FORMATS;
/** The formats of every entity; `bulk` only for entities whose registry definition has a `bulkIndex`. */
export const FORMAT_NAMES: readonly FormatName[] = ['json', 'ndjson', 'csv', 'xml'];

/** Media types a client may ask for in `Accept`, and the format each selects. */
export const MEDIA_TYPES: Readonly<Record<string, FormatName>> = {
  'application/json': 'json',
  'application/x-ndjson': 'ndjson',
  'application/ndjson': 'ndjson',
  'application/jsonl': 'ndjson',
  'text/csv': 'csv',
  'application/xml': 'xml',
  'text/xml': 'xml',
};

/**
 * Serialises records lazily into a byte stream: a batch is generated and written only when the
 * consumer asks for more, so memory stays flat however many records stream.
 */
export function formatStream(
  format: RecordFormat,
  context: FormatContext,
  records: Iterable<object>,
  batchSize = 512,
): Readable {
  function* chunks(): Generator<string> {
    const head = format.open(context);
    let first = true;
    let batch: object[] = [];
    for (const record of records) {
      batch.push(record);
      if (batch.length === batchSize) {
        yield (first ? head : '') + format.batch(batch, context, first);
        first = false;
        batch = [];
      }
    }
    let tail = '';
    if (batch.length > 0) tail = format.batch(batch, context, first);
    else if (first) tail = head;
    if (batch.length > 0 && first) tail = head + tail;
    const empty = first && batch.length === 0;
    yield tail + format.close(context, empty);
  }
  return Readable.from(chunks(), { objectMode: false });
}
