import { isMoney } from '../schemas/common.js';
import type { FormatContext } from './types.js';

/** A JSON Schema property node as TypeBox builds it (the keys the writers read). */
export interface PropertyNode {
  type?: string;
  format?: string;
  description?: string;
  enum?: unknown[];
  anyOf?: PropertyNode[];
}

const SAFE_FORMATS = new Set(['uuid', 'date', 'date-time']);
const SAFE_ENUM_VALUE = /^[A-Za-z0-9_.:+-]*$/;

/**
 * What a property's schema promises about its values, for compiled writers:
 * `safe-string` never needs escaping in CSV or JSON (uuids, dates, enums of plain words),
 * `string` may, `number` and `boolean` are what they say, `other` is anything else (nested
 * values, unions of types, unknown properties). `nullable` when null is allowed too; `money`
 * when the number was declared as money (text formats write it with two decimals).
 */
export function shapeOf(node: PropertyNode | undefined): {
  kind: 'safe-string' | 'string' | 'number' | 'boolean' | 'other';
  nullable: boolean;
  money?: boolean;
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
  if (v.type === 'integer' || v.type === 'number') return { kind: 'number', nullable, money: isMoney(v) };
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

const WHOLE_TEXT = Array.from({ length: 10_000 }, (_, k) => String(k));
const CENTS_TEXT = Array.from({ length: 100 }, (_, k) => String(k).padStart(2, '0'));
const MONEY_TABLE_CENTS = WHOLE_TEXT.length * 100;
const PAD4_TEXT = Array.from({ length: 10_000 }, (_, k) => String(k).padStart(4, '0'));
/** The shortest decimals of k cents: '' for 0, '.5' for 50, '.05' for 5, '.25' for 25. */
const SHORT_CENTS_TEXT = CENTS_TEXT.map((c, k) => (k === 0 ? '' : '.' + c.replace(/0$/, '')));

/** The text of a whole number 0 <= n < 100,000,000 from the digit tables. */
function wholeText(n: number): string {
  if (n < 10_000) return WHOLE_TEXT[n] as string;
  const high = Math.floor(n / 10_000);
  return (WHOLE_TEXT[high] as string) + (PAD4_TEXT[n - high * 10_000] as string);
}

/**
 * A value as `'' + value` writes it (JSON's shortest form for a finite number), from digit
 * tables for integers of magnitude under 100,000,000 and for whole cents under 10,000.00 (line
 * quantities, prices and totals of an order's items): no number becomes a string. See
 * {@link moneyText} for why: V8 keeps every number it converts in a cache in the old
 * generation, so streaming orders grew the old space by each order's amounts. Anything else
 * (other decimals, large values, NaN, non-numbers) is `'' + value`.
 *
 * The table text is exactly the shortest form: c / 100 === value means the double is the one
 * nearest the decimal W.CC, and a decimal of at most 8 significant digits is the shortest that
 * reads back as it (two shorter decimals cannot round to the same double below 15 digits).
 */
export function numberText(value: unknown): string {
  if (typeof value !== 'number') return '' + (value as string);
  if (Number.isInteger(value)) {
    // -0 is written "0", as String(-0) is.
    if (value >= 0 && value < 100_000_000) return wholeText(value);
    if (value < 0 && value > -100_000_000) return '-' + wholeText(-value);
    return '' + value;
  }
  const c = Math.round(value * 100);
  if (c / 100 === value && c > -MONEY_TABLE_CENTS && c < MONEY_TABLE_CENTS) {
    const a = c < 0 ? -c : c;
    const whole = Math.floor(a / 100);
    const text = (WHOLE_TEXT[whole] as string) + (SHORT_CENTS_TEXT[a - whole * 100] as string);
    return c < 0 ? '-' + text : text;
  }
  return '' + value;
}

/**
 * A money amount as text with exactly two decimals (`59.6` -> `59.60`, `0` -> `0.00`). Amounts
 * are generated rounded to cents, so the shortest number text is reused when it already has
 * at most two decimals (cheaper than toFixed for every value); anything else goes through
 * toFixed(2). A value that is not a number is written as its text.
 */
export function moneyText(value: unknown): string {
  if (typeof value !== 'number') return value === null || value === undefined ? '' : String(value);
  // Whole cents under 10,000.00 from two string tables: no number becomes a string. V8 keeps
  // every number it turns into a string in a cache that lives in the old generation, so each
  // amount's text outlived the scavenges and piled up until a full GC (most of the RSS growth
  // of a long orders download); the tables are also ~4x faster. The same text as below.
  const c = Math.round(value * 100);
  if (c >= 0 && c < MONEY_TABLE_CENTS && c / 100 === value) {
    const whole = Math.floor(c / 100);
    return (WHOLE_TEXT[whole] as string) + '.' + (CENTS_TEXT[c - whole * 100] as string);
  }
  const s = '' + value;
  const dot = s.indexOf('.');
  if (dot === -1) return s.includes('e') || !Number.isFinite(value) ? value.toFixed(2) : s + '.00';
  const decimals = s.length - dot - 1;
  if (decimals === 2) return s;
  if (decimals === 1) return s + '0';
  return value.toFixed(2);
}
