import { JsonRows } from './fields.js';
import { jsonWriter } from './json-writer.js';
import type { RecordFormat } from './types.js';

/** A JSON array of records, streamed: `[`, records separated by `,`, `]`. */
export const jsonFormat: RecordFormat = {
  name: 'json',
  contentType: 'application/json; charset=utf-8',
  extension: 'json',
  open: () => '[',
  batch: (records, context, first) => {
    const write = jsonWriter(context, records[0]);
    let out = first ? '' : ',';
    for (let k = 0; k < records.length; k++) out += (k > 0 ? ',' : '') + write(records[k] as object);
    return out;
  },
  close: () => ']\n',
  fieldRows: ({ columns }, first) => new JsonRows(columns, false, first),
};

/** Newline-delimited JSON: one record per line. */
export const ndjsonFormat: RecordFormat = {
  name: 'ndjson',
  contentType: 'application/x-ndjson; charset=utf-8',
  extension: 'ndjson',
  open: () => '',
  batch: (records, context) => {
    const write = jsonWriter(context, records[0]);
    let out = '';
    for (let k = 0; k < records.length; k++) out += write(records[k] as object) + '\n';
    return out;
  },
  close: () => '',
  fieldRows: ({ columns }) => new JsonRows(columns, true, true),
};
