import type { RecordFormat } from './types.js';

/** A JSON array of records, streamed: `[`, records separated by `,`, `]`. */
export const jsonFormat: RecordFormat = {
  name: 'json',
  contentType: 'application/json; charset=utf-8',
  extension: 'json',
  open: () => '[',
  batch: (records, _context, first) => {
    let out = first ? '' : ',';
    for (let k = 0; k < records.length; k++) out += (k > 0 ? ',' : '') + JSON.stringify(records[k]);
    return out;
  },
  close: () => ']\n',
};

/** Newline-delimited JSON: one record per line. */
export const ndjsonFormat: RecordFormat = {
  name: 'ndjson',
  contentType: 'application/x-ndjson; charset=utf-8',
  extension: 'ndjson',
  open: () => '',
  batch: (records) => {
    let out = '';
    for (const record of records) out += JSON.stringify(record) + '\n';
    return out;
  },
  close: () => '',
};
