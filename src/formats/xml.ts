import { XMLBuilder } from 'fast-xml-parser';
import type { RecordFormat } from './types.js';

const NIL = { '@_xsi:nil': 'true' };

/** Element name for the members of an array-valued field: `items` -> `item`, `categories` -> `category`. */
export function singular(name: string): string {
  if (name.endsWith('ies')) return name.slice(0, -3) + 'y';
  if (name.endsWith('s')) return name.slice(0, -1);
  return `${name}_item`;
}

const NAME = /^[A-Za-z_][A-Za-z0-9._-]*$/;
const names = new Map<string, string>();

/**
 * The element name of a field: the field name itself when it is a valid XML name, else with
 * each character an XML name cannot hold replaced by `_` (`@timestamp` -> `_timestamp`), and
 * `_` in front when it would start with a digit, `-` or `.`.
 */
export function xmlName(field: string): string {
  if (NAME.test(field)) return field;
  let name = names.get(field);
  if (name === undefined) {
    name = field.replace(/[^A-Za-z0-9._-]/g, '_');
    if (!/^[A-Za-z_]/.test(name)) name = `_${name}`;
    names.set(field, name);
  }
  return name;
}

/** Shapes a record for the builder: arrays get a wrapper with singular children, nulls xsi:nil. */
function shape(value: unknown): unknown {
  if (value === null) return NIL;
  if (Array.isArray(value)) return value.map(shape);
  if (typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [key, v] of Object.entries(value as Record<string, unknown>)) {
      out[xmlName(key)] = Array.isArray(v) ? { [xmlName(singular(key))]: v.map(shape) } : shape(v);
    }
    return out;
  }
  return value;
}

const builder = new XMLBuilder({
  ignoreAttributes: false,
  attributeNamePrefix: '@_',
  suppressBooleanAttributes: false,
});

/**
 * XML: `<orders><order>…</order></orders>`, fields as child elements in record order, nested
 * arrays wrapped (`<items><item>…</item></items>`), null as `xsi:nil="true"`, text escaped;
 * a field name that is not a valid XML name is written as {@link xmlName} derives it.
 */
export const xmlFormat: RecordFormat = {
  name: 'xml',
  contentType: 'application/xml; charset=utf-8',
  extension: 'xml',
  open: ({ root }) =>
    `<?xml version="1.0" encoding="UTF-8"?>\n<${root} xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">`,
  batch: (records, { item }) => builder.build({ [item]: records.map(shape) }) as string,
  close: ({ root }) => `</${root}>\n`,
};
