import type { TObject, TSchema } from '@sinclair/typebox';
import { MONEY_NOTE } from './common.js';

/** An OpenSearch field mapping (the subset this module writes). */
export interface FieldMapping {
  readonly type: string;
  readonly format?: string;
  readonly scaling_factor?: number;
  readonly ignore_above?: number;
  readonly fields?: Readonly<Record<string, FieldMapping>>;
  readonly properties?: Readonly<Record<string, FieldMapping>>;
}

/** The body of `PUT /<index>`: strict mappings, so a document with an unexpected field is refused. */
export interface IndexMapping {
  readonly mappings: { readonly dynamic: 'strict'; readonly properties: Readonly<Record<string, FieldMapping>> };
}

interface SchemaNode {
  type?: string;
  format?: string;
  enum?: unknown[];
  pattern?: string;
  anyOf?: SchemaNode[];
  items?: SchemaNode;
  properties?: Record<string, SchemaNode>;
  description?: string;
}

/**
 * The OpenSearch type of a schema property, the index counterpart of the SQL column map:
 * date-time and date -> date; uuids, enums and patterned codes -> keyword; free text -> text
 * with a `keyword` sub-field (for terms aggregations); integers -> long; money -> scaled_float
 * (x100, exact cents); other numbers -> float; booleans -> boolean; arrays map as their
 * members; nested objects -> object with their own properties. Nullable fields map as their
 * non-null type (null is simply absent from the index).
 */
export function fieldMappingOf(raw: TSchema, name: string): FieldMapping {
  const node = raw as SchemaNode;
  const variants = (node.anyOf ?? [node]).filter((v) => v.type !== 'null');
  const main = variants[0];
  if (!main || variants.length > 1) throw new Error(`no index mapping for property ${name} (${JSON.stringify(raw)})`);
  switch (main.type) {
    case 'string':
      if (main.format === 'date-time') return { type: 'date', format: 'strict_date_optional_time' };
      if (main.format === 'date') return { type: 'date', format: 'strict_date' };
      if (main.format === 'uuid' || main.enum || main.pattern) return { type: 'keyword' };
      return { type: 'text', fields: { keyword: { type: 'keyword', ignore_above: 256 } } };
    case 'integer':
      return { type: 'long' };
    case 'number':
      return main.description?.includes(MONEY_NOTE) ? { type: 'scaled_float', scaling_factor: 100 } : { type: 'float' };
    case 'boolean':
      return { type: 'boolean' };
    case 'array':
      if (!main.items) throw new Error(`no index mapping for property ${name}: array without items`);
      return fieldMappingOf(main.items as TSchema, name);
    case 'object':
      return { type: 'object', properties: propertiesOf(main.properties ?? {}) };
    default:
      throw new Error(`no index mapping for property ${name} (${JSON.stringify(raw)})`);
  }
}

function propertiesOf(properties: Record<string, SchemaNode>): Record<string, FieldMapping> {
  return Object.fromEntries(Object.entries(properties).map(([name, node]) => [name, fieldMappingOf(node as TSchema, name)]));
}

/**
 * The index mapping of an entity, derived from its TypeBox schema: one field per property, in
 * schema order, with the same names as the JSON documents.
 *
 * @example
 * indexMappingOf(PerformanceEventSchema).mappings.properties['@timestamp']; // { type: 'date', … }
 */
export function indexMappingOf(schema: TObject): IndexMapping {
  return { mappings: { dynamic: 'strict', properties: propertiesOf(schema.properties as Record<string, SchemaNode>) } };
}
