import type { TObject } from '@sinclair/typebox';
import { parse as parseCsv } from 'csv-parse/sync';
import { XMLParser } from 'fast-xml-parser';
import type { FeedEvent } from '../../src/events/types.js';
import type { FormatName } from '../../src/formats/index.js';
import { singular, xmlName } from '../../src/formats/xml.js';

interface Node {
  type?: string;
  anyOf?: Node[];
  items?: Node;
  properties?: Record<string, Node>;
}

function kindOf(node: Node): { type: string; nullable: boolean; node: Node } {
  const variants = node.anyOf ?? [node];
  const nonNull = variants.filter((v) => v.type !== 'null');
  const main = nonNull[0] ?? node;
  return { type: main.type ?? 'string', nullable: nonNull.length !== variants.length, node: main };
}

/** Text from CSV back to the typed value the schema describes. */
function fromCsvCell(text: string, node: Node): unknown {
  const { type, nullable } = kindOf(node);
  if (text === '' && nullable) return null;
  if (type === 'integer' || type === 'number') return Number(text);
  if (type === 'boolean') return text === 'true';
  if (type === 'array' || type === 'object') return JSON.parse(text);
  return text;
}

/** A parsed XML element back to the typed value the schema describes. */
function fromXmlValue(value: unknown, node: Node, key: string): unknown {
  const { type, node: main } = kindOf(node);
  if (value !== null && typeof value === 'object' && (value as Record<string, unknown>)['@_xsi:nil'] === 'true') return null;
  if (type === 'array') {
    const wrapper = (value ?? {}) as Record<string, unknown>;
    const members = wrapper[xmlName(singular(key))];
    const list = members === undefined ? [] : Array.isArray(members) ? members : [members];
    return list.map((m) => fromXmlRecord(m as Record<string, unknown>, main.items as Node));
  }
  if (type === 'object') return fromXmlRecord(value as Record<string, unknown>, main);
  const text = value === undefined || value === null ? '' : String(value);
  if (type === 'integer' || type === 'number') return Number(text);
  if (type === 'boolean') return text === 'true';
  return text;
}

function fromXmlRecord(raw: Record<string, unknown>, schema: Node): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, node] of Object.entries(schema.properties ?? {})) {
    const name = xmlName(key);
    if (name in raw) out[key] = fromXmlValue(raw[name], node, key);
  }
  return out;
}

/**
 * Parses a response body in any format back into typed records, using the entity schema for
 * the types CSV and XML do not carry, so the result compares equal to the JSON records.
 */
export function parseRecords(format: FormatName, body: string, schema: TObject, item: string): Record<string, unknown>[] {
  const properties = schema.properties as Record<string, Node>;
  switch (format) {
    case 'json':
      return JSON.parse(body) as Record<string, unknown>[];
    case 'bulk':
      // Action and document lines alternate: the documents are the even-numbered lines.
      return body
        .split('\n')
        .filter((line, k) => line.length > 0 && k % 2 === 1)
        .map((line) => JSON.parse(line) as Record<string, unknown>);
    case 'ndjson':
      return body
        .split('\n')
        .filter((line) => line.length > 0)
        .map((line) => JSON.parse(line) as Record<string, unknown>);
    case 'csv': {
      const rows = parseCsv(body, { columns: true, relax_quotes: false }) as Record<string, string>[];
      return rows.map((row) => {
        const out: Record<string, unknown> = {};
        for (const [key, text] of Object.entries(row)) out[key] = fromCsvCell(text, properties[key] ?? {});
        return out;
      });
    }
    case 'xml': {
      const parser = new XMLParser({
        ignoreAttributes: false,
        attributeNamePrefix: '@_',
        parseTagValue: false,
        trimValues: false,
        isArray: (name, jpath) => String(jpath).split('.').length === 2 && name === item,
      });
      const doc = parser.parse(body) as Record<string, Record<string, unknown>>;
      const root = Object.keys(doc).find((k) => k !== '?xml') as string;
      const list = ((doc[root] ?? {}) as Record<string, unknown>)[item] as Record<string, unknown>[] | undefined;
      return (list ?? []).map((raw) => fromXmlRecord(raw, schema as unknown as Node));
    }
  }
}

/** A delivered event of a chaos feed; a line that is not JSON (a truncated-line defect) is `{ defect: 'bad', truncated: true }`. */
export type DeliveredEvent = FeedEvent & { truncated?: boolean };

/**
 * The lines of a chaos feed's NDJSON (`late_ratio`, `duplicate_ratio`, `bad_ratio`) as events,
 * one per line in order: a truncated-line defect, which does not parse, stands as
 * `{ defect: 'bad', truncated: true }`, so positions match GET /api/v1/events/defects.
 */
export function chaosEvents(lines: readonly string[]): DeliveredEvent[] {
  return lines.map((line) => {
    try {
      return JSON.parse(line) as DeliveredEvent;
    } catch {
      return { defect: 'bad', truncated: true } as DeliveredEvent;
    }
  });
}
