import { jsonWriter } from './json-writer.js';
import type { FormatContext, RecordFormat } from './types.js';

/** What bulk output needs besides the records: the target index and the column holding `_id`. */
export interface BulkTarget {
  readonly index: string;
  readonly idColumn: string;
}

/**
 * A valid OpenSearch index name as accepted here: lowercase letters, digits, `_`, `-` and `.`,
 * not starting with `_`, `-` or `.`, at most 255 characters.
 */
export const INDEX_NAME_PATTERN = '^[a-z0-9][a-z0-9._-]{0,254}$';

const prefixes = new WeakMap<BulkTarget, string>();

/** `{"index":{"_index":"<index>","_id":` — the constant start of every action line of a target. */
function actionPrefix(target: BulkTarget): string {
  let prefix = prefixes.get(target);
  if (prefix === undefined) {
    prefix = `{"index":{"_index":${JSON.stringify(target.index)},"_id":`;
    prefixes.set(target, prefix);
  }
  return prefix;
}

function targetOf(context: FormatContext): BulkTarget {
  if (!context.bulk) throw new Error('bulk format: the context names no index and id column');
  return context.bulk;
}

/**
 * OpenSearch `_bulk` NDJSON: for each record an action line
 * `{"index":{"_index":"<index>","_id":"<id>"}}` then the record as one JSON line, ready for
 * `curl -H 'Content-Type: application/x-ndjson' --data-binary @file <host>/_bulk`. Re-posting
 * the same file overwrites the same documents (the `_id` is the record's primary key).
 */
export const bulkFormat: RecordFormat = {
  name: 'bulk',
  contentType: 'application/x-ndjson; charset=utf-8',
  extension: 'bulk.ndjson',
  open: (context) => {
    targetOf(context);
    return '';
  },
  batch: (records, context) => {
    const target = targetOf(context);
    const prefix = actionPrefix(target);
    const write = jsonWriter(context, records[0]);
    const idColumn = target.idColumn;
    let out = '';
    for (let k = 0; k < records.length; k++) {
      const record = records[k] as Record<string, unknown>;
      out += prefix + JSON.stringify(String(record[idColumn])) + '}}\n' + write(record) + '\n';
    }
    return out;
  },
  close: () => '',
};
