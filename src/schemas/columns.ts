import type { TObject, TSchema } from '@sinclair/typebox';
import { ENTITIES, ENTITY_NAMES, type EntityName } from '../generators/registry.js';
import { MONEY_NOTE } from './common.js';

/** One SQL column of an entity's table, keyed by the schema property of the same name. */
export interface Column {
  readonly name: string;
  readonly sqlType: string;
  readonly nullable: boolean;
}

/** A JSON Schema node as TypeBox builds it (the keys this module reads). */
interface SchemaNode {
  type?: string;
  format?: string;
  anyOf?: SchemaNode[];
  enum?: unknown[];
  description?: string;
}

/**
 * The SQL type of a schema property: uuid, timestamptz, date, numeric(12,2) for money (any
 * number whose description says "2 decimals"), double precision, integer/bigint, boolean,
 * text, and jsonb for nested arrays and objects.
 */
function sqlTypeOf(node: SchemaNode, name: string): string {
  const type = node.type;
  if (type === 'string') {
    if (node.format === 'uuid') return 'uuid';
    if (node.format === 'date-time') return 'timestamptz';
    if (node.format === 'date') return 'date';
    return 'text';
  }
  if (type === 'integer') return name.endsWith('_units') || name === 'loyalty_points' ? 'bigint' : 'integer';
  if (type === 'number') return node.description?.includes(MONEY_NOTE) ? 'numeric(12,2)' : 'double precision';
  if (type === 'boolean') return 'boolean';
  if (type === 'array' || type === 'object') return 'jsonb';
  throw new Error(`no SQL type for property ${name} (${JSON.stringify(node)})`);
}

/** The column map of an entity, derived from its TypeBox schema, in schema order. */
export function columnsOf(schema: TObject): Column[] {
  return Object.entries(schema.properties as Record<string, TSchema>).map(([name, raw]) => {
    const node = raw as SchemaNode;
    const variants = node.anyOf ?? [node];
    const nonNull = variants.filter((v) => v.type !== 'null');
    const nullable = nonNull.length !== variants.length;
    return { name, sqlType: sqlTypeOf(nonNull[0] ?? node, name), nullable };
  });
}

/** Table name of an entity: `order-items` -> `order_items`, with an optional prefix. */
export function tableName(entity: EntityName, prefix = ''): string {
  return `${prefix}${entity.replace(/[-/]/g, '_')}`;
}

/** A quoted SQL identifier. */
export const quoteIdentifier = (identifier: string) => `"${identifier.replace(/"/g, '""')}"`;

/**
 * CREATE TABLE statements for the given entities (dependency order), with primary keys and,
 * when asked, foreign keys to the referenced entities' primary keys.
 *
 * @example
 * createTablesSql(ENTITY_NAMES, { schema: 'bronze', prefix: 'raw_', foreignKeys: true });
 */
export function createTablesSql(
  entities: readonly EntityName[] = ENTITY_NAMES,
  /** `foreignKeys`: all of them, or those whose referenced entity passes the predicate. */
  options: {
    schema?: string;
    prefix?: string;
    foreignKeys?: boolean | ((parent: EntityName) => boolean);
    /** The table of an entity, when not `tableName(entity, prefix)` (e.g. a per-entity name map). */
    tableOf?: (entity: EntityName) => string;
  } = {},
): string[] {
  const nameOf = options.tableOf ?? ((entity: EntityName) => tableName(entity, options.prefix));
  const qualify = (entity: EntityName) => (options.schema ? `${quoteIdentifier(options.schema)}.` : '') + quoteIdentifier(nameOf(entity));
  return entities.map((entity) => {
    const definition = ENTITIES[entity];
    const lines = columnsOf(definition.schema).map(
      (c) => `  ${quoteIdentifier(c.name)} ${c.sqlType}${c.nullable ? '' : ' NOT NULL'}`,
    );
    lines.push(`  PRIMARY KEY (${quoteIdentifier(definition.primaryKey)})`);
    if (options.foreignKeys) {
      for (const [column, parent] of Object.entries(definition.foreignKeys)) {
        if (typeof options.foreignKeys === 'function' && !options.foreignKeys(parent as EntityName)) continue;
        const target = ENTITIES[parent as EntityName];
        lines.push(`  FOREIGN KEY (${quoteIdentifier(column)}) REFERENCES ${qualify(parent as EntityName)} (${quoteIdentifier(target.primaryKey)})`);
      }
    }
    return `CREATE TABLE IF NOT EXISTS ${qualify(entity)} (\n${lines.join(',\n')}\n)`;
  });
}
