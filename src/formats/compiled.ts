import type { FormatContext } from './types.js';

/** A JSON Schema property node as TypeBox builds it (the keys the writers read). */
export interface PropertyNode {
  type?: string;
  format?: string;
  enum?: unknown[];
  anyOf?: PropertyNode[];
}

const SAFE_FORMATS = new Set(['uuid', 'date', 'date-time']);
const SAFE_ENUM_VALUE = /^[A-Za-z0-9_.:+-]*$/;

/**
 * What a property's schema promises about its values, for compiled writers:
 * `safe-string` never needs escaping in CSV or JSON (uuids, dates, enums of plain words),
 * `string` may, `number` and `boolean` are what they say, `other` is anything else (nested
 * values, unions of types, unknown properties). `nullable` when null is allowed too.
 */
export function shapeOf(node: PropertyNode | undefined): {
  kind: 'safe-string' | 'string' | 'number' | 'boolean' | 'other';
  nullable: boolean;
} {
  if (!node) return { kind: 'other', nullable: true };
  const variants = node.anyOf ?? [node];
  const values = variants.filter((v) => v.type !== 'null');
  const nullable = values.length !== variants.length;
  const v = values[0];
  if (values.length !== 1 || !v) return { kind: 'other', nullable };
  if (v.type === 'string') {
    const safe =
      (v.format !== undefined && SAFE_FORMATS.has(v.format)) ||
      v.enum?.every((e) => typeof e === 'string' && SAFE_ENUM_VALUE.test(e)) === true;
    return { kind: safe ? 'safe-string' : 'string', nullable };
  }
  if (v.type === 'integer' || v.type === 'number') return { kind: 'number', nullable };
  if (v.type === 'boolean') return { kind: 'boolean', nullable };
  return { kind: 'other', nullable };
}

/**
 * A compiled writer per (schema, columns), built once by `build` and kept in `cache`: each
 * format compiles its own kind of writer and keeps its own cache.
 */
export function compiledFor<W>(cache: Map<string, W>, context: FormatContext, build: (properties: Record<string, PropertyNode>) => W): W {
  const key = `${context.schema?.$id ?? ''}|${context.columns.join(',')}`;
  let writer = cache.get(key);
  if (!writer) {
    writer = build((context.schema?.properties ?? {}) as Record<string, PropertyNode>);
    cache.set(key, writer);
  }
  return writer;
}
