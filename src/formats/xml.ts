import { isMoney } from '../schemas/common.js';
import { compiledFor, moneyText, numberText, shapeOf, type PropertyNode } from './compiled.js';
import { XmlRows } from './fields.js';
import type { FormatContext, RecordFormat } from './types.js';

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

/** Element names as {@link element} gives them, for the field writer (src/formats/fields.ts). */
export const XML_NAMES = { element: xmlName, member: (field: string) => xmlName(singular(field)) };

const SPECIAL = /[&<>'"]/;

/** Text content with the five XML entities escaped (one regex test; replaces only when needed). */
function escapeText(s: string): string {
  if (!SPECIAL.test(s)) return s;
  return s.replace(/&/g, '&amp;').replace(/>/g, '&gt;').replace(/</g, '&lt;').replace(/'/g, '&apos;').replace(/"/g, '&quot;');
}

/** A property's JSON Schema as far as the XML writer reads it. */
interface SchemaNode extends PropertyNode {
  anyOf?: SchemaNode[];
  items?: SchemaNode;
  properties?: Record<string, SchemaNode>;
}

/** The JSON Schema of an array's members, or of an object's properties, when the node has one. */
function membersOf(node: SchemaNode | undefined): SchemaNode | undefined {
  const main = node?.anyOf?.find((v) => v.type !== 'null') ?? node;
  return main?.items;
}
function propertiesOf(node: SchemaNode | undefined): Readonly<Record<string, SchemaNode>> | undefined {
  const main = node?.anyOf?.find((v) => v.type !== 'null') ?? node;
  return main?.properties;
}


/**
 * One element for any value: null as `xsi:nil="true"`, arrays wrapped with singular members,
 * objects as child elements in their own key order, money (by the schema `node`) with two
 * decimals, other scalars as escaped text, undefined as nothing.
 */
function element(name: string, key: string, value: unknown, node: SchemaNode | undefined): string {
  if (value === undefined) return '';
  if (value === null) return `<${name} xsi:nil="true"></${name}>`;
  if (Array.isArray(value)) {
    const member = xmlName(singular(key));
    const memberNode = membersOf(node);
    let inner = '';
    for (const v of value as unknown[]) inner += element(member, member, v, memberNode);
    return `<${name}>${inner}</${name}>`;
  }
  if (typeof value === 'object') return `<${name}>${children(value as Record<string, unknown>, propertiesOf(node))}</${name}>`;
  return `<${name}>${scalar(value, node)}</${name}>`;
}

/** The child elements of an object, in its own key order. */
function children(record: Record<string, unknown>, properties: Readonly<Record<string, SchemaNode>> | undefined): string {
  let out = '';
  for (const key in record) out += element(xmlName(key), key, record[key], properties?.[key]);
  return out;
}

function scalar(value: unknown, node: SchemaNode | undefined): string {
  if (typeof value === 'string') return escapeText(value);
  if (typeof value === 'number') {
    if (isMoney(node)) return moneyText(value);
    return Object.is(value, -0) ? '-0' : '' + value;
  }
  return escapeText(String(value));
}

type RecordWriter = (record: object) => string;
const writers = new Map<string, RecordWriter>();

/**
 * A record writer compiled for records whose keys are the context's columns in that order:
 * one concatenation of constant tags and values, uuids, dates and plain enum values written as
 * they are, numbers and money by type, free text escaped, nested values through
 * {@link element}. Generated code, as the CSV and JSON writers are, because speed demands it:
 * the general-purpose XML builder this replaces made XML about 4x slower than CSV.
 * Element names come from {@link xmlName} (never quotes or backslashes) and are JSON-quoted
 * into the source, so no input can inject code.
 */
function compiled(context: FormatContext): RecordWriter {
  const { columns, item } = context;
  return compiledFor(writers, context, (properties) => {
    const terms: string[] = [JSON.stringify(`<${item}>`)];
    columns.forEach((column, k) => {
      const name = xmlName(column);
      const access = `r[${JSON.stringify(column)}]`;
      const open = JSON.stringify(`<${name}>`);
      const close = JSON.stringify(`</${name}>`);
      const { kind, nullable, money } = shapeOf(properties[column]);
      const general = `element(${JSON.stringify(name)}, ${JSON.stringify(column)}, ${access}, nodes[${k}])`;
      let value: string;
      if (kind === 'safe-string') value = access;
      else if (money) value = `money(${access})`;
      else if (kind === 'number') value = `(Object.is(${access}, -0) ? '-0' : num(${access}))`;
      else if (kind === 'boolean') value = `('' + ${access})`;
      else if (kind === 'string') value = `escape(${access})`;
      else {
        terms.push(general);
        return;
      }
      // A value the schema does not promise (null, undefined) goes the general way.
      const guard = nullable || kind === 'string' ? `typeof ${access} !== ${JSON.stringify(kind === 'safe-string' ? 'string' : kind)}` : `${access} === undefined`;
      terms.push(`(${guard} ? ${general} : ${open} + ${value} + ${close})`);
    });
    terms.push(JSON.stringify(`</${item}>`));
    const body = `return function xml(r) { return ${terms.join(' + ')}; };`;
    const nodes = columns.map((column) => properties[column]);
    return new Function('element', 'escape', 'money', 'num', 'nodes', body)(element, escapeText, moneyText, numberText, nodes) as RecordWriter;
  });
}

/** The writer for a batch whose first record is `sample`: compiled when its keys are the columns in order. */
function xmlWriter(context: FormatContext, sample: object | undefined): RecordWriter {
  if (context.schema && sample !== undefined) {
    const keys = Object.keys(sample);
    const { columns } = context;
    if (keys.length === columns.length && keys.every((key, k) => key === columns[k])) return compiled(context);
  }
  const properties = context.schema?.properties as Readonly<Record<string, SchemaNode>> | undefined;
  const open = `<${context.item}>`;
  const close = `</${context.item}>`;
  return (record) => open + children(record as Record<string, unknown>, properties) + close;
}

/**
 * XML: `<orders><order>…</order></orders>`, fields as child elements in record order, nested
 * arrays wrapped (`<items><item>…</item></items>`), null as `xsi:nil="true"`, text escaped,
 * money with two decimals (`59.60`); a field name that is not a valid XML name is written as
 * {@link xmlName} derives it.
 */
export const xmlFormat: RecordFormat = {
  name: 'xml',
  contentType: 'application/xml; charset=utf-8',
  extension: 'xml',
  open: ({ root }) =>
    `<?xml version="1.0" encoding="UTF-8"?>\n<${root} xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">`,
  batch: (records, context) => {
    const write = xmlWriter(context, records[0]);
    let out = '';
    for (let k = 0; k < records.length; k++) out += write(records[k] as object);
    return out;
  },
  close: ({ root }) => `</${root}>\n`,
  fieldRows: ({ columns, item }) => new XmlRows(columns, item, XML_NAMES),
};
