import { compiledFor, numberText, shapeOf, type PropertyNode } from './compiled.js';
import type { FormatContext } from './types.js';

/** Writes one record as JSON text. */
export type JsonWriter = (record: object) => string;


/**
 * A piece of a compiled writer: constant text, or an expression of the record `r`; `plain`
 * when the expression's text never holds a double quote (numbers, uuids, dates, plain enums).
 */
type Piece = { readonly text: string } | { readonly code: string; readonly plain?: boolean };

/**
 * The pieces that write one property (its key included): by concatenation when its schema
 * says that is safe, through JSON.stringify otherwise.
 */
function propertyPieces(node: PropertyNode | undefined, access: string, key: string, arrays?: JsonWriter[]): Piece[] {
  const stringified: Piece[] = [{ text: key }, { code: `JSON.stringify(${access})` }];
  const { kind, nullable } = shapeOf(node);
  const members = arrays ? objectMembers(node) : undefined;
  if (arrays && members) {
    // An array of objects (an order's items): its own compiled writer, not JSON.stringify.
    arrays.push(jsonArrayOfObjects(members));
    return [{ text: key }, { code: `arrays[${arrays.length - 1}](${access})` }];
  }
  if (kind === 'safe-string') {
    // The quotes join the constant text around the value: fewer pieces to concatenate.
    if (!nullable) return [{ text: `${key}"` }, { code: access, plain: true }, { text: '"' }];
    return [{ text: key }, { code: `(${access} === null ? 'null' : '"' + ${access} + '"')` }];
  }
  if (kind === 'number') {
    // x - x === 0 only for finite numbers; JSON writes anything else as null. `num` is
    // numberText: the same text as '' + x, from digit tables (no number-to-string cache).
    const number = `(${access} - ${access} === 0 ? num(${access}) : 'null')`;
    return [{ text: key }, { code: nullable ? `(${access} === null ? 'null' : ${number})` : number, plain: true }];
  }
  return stringified;
}

/**
 * One concatenation expression, adjacent constant texts merged into one literal. With
 * `doubleQuotes`, every `"` of the output is doubled (the text of a quoted CSV cell): in the
 * constant text at compile time, in values only where they may hold one.
 */
function concatenation(pieces: readonly Piece[], doubleQuotes = false): string {
  const terms: string[] = [];
  let text = '';
  for (const piece of pieces) {
    if ('text' in piece) {
      text += doubleQuotes ? piece.text.replace(/"/g, '""') : piece.text;
    } else {
      if (text) terms.push(JSON.stringify(text));
      text = '';
      terms.push(doubleQuotes && !piece.plain ? `dq(${piece.code})` : piece.code);
    }
  }
  if (text) terms.push(JSON.stringify(text));
  return terms.join(' + ');
}

const writers = new Map<string, JsonWriter>();

/**
 * A JSON writer compiled for records with exactly `columns` as keys, in that order: one
 * concatenation of constant text (keys, punctuation and quotes merged) and values, uuids,
 * dates, plain enum values and numbers written as they are, everything else through
 * JSON.stringify. Its output is byte for byte what
 * JSON.stringify gives for such a record (a test holds the two together over the registry).
 *
 * Generated code, as fast-json-stringify does and as the CSV writer here does, because speed
 * demands it: JSON.stringify was the largest cost of streaming telemetry events as NDJSON;
 * with this writer, writing and UTF-8 encoding a batch is about 30% faster (~600k against
 * ~450k events/s). Fewer, longer pieces matter: the socket's UTF-8 encoding flattens the
 * concatenation, and its cost grows with the number of pieces. Keys are JSON-quoted into the
 * source, so no input can inject code.
 */
function compiled(context: FormatContext): JsonWriter {
  const { columns } = context;
  return compiledFor(writers, context, (properties) => {
    // Free-text strings (names, e-mails, addresses) are read once into locals; one regex test
    // over all of them picks the row's writer: quoted as they are when none holds a character
    // JSON escapes (then JSON.stringify would give exactly '"' + s + '"'), else JSON.stringify.
    const locals: string[] = [];
    const probe: string[] = [];
    const fast: Piece[] = [];
    const slow: Piece[] = [];
    const arrays: JsonWriter[] = [];
    columns.forEach((column, k) => {
      const key = `${k === 0 ? '{' : ','}${JSON.stringify(column)}:`;
      const { kind, nullable } = shapeOf(properties[column]);
      if (kind !== 'string') {
        const pieces = propertyPieces(properties[column], `r[${JSON.stringify(column)}]`, key, arrays);
        fast.push(...pieces);
        slow.push(...pieces);
        return;
      }
      locals.push(`const s${k} = r[${JSON.stringify(column)}];`);
      probe.push(`s${k}`);
      fast.push(...(nullable ? [{ text: key }, { code: `(s${k} === null ? 'null' : '"' + s${k} + '"')` }] : [{ text: `${key}"` }, { code: `s${k}` }, { text: '"' }]));
      slow.push({ text: key }, { code: `JSON.stringify(s${k})` });
    });
    if (columns.length === 0) return new Function(`return function json() { return '{}'; };`)() as JsonWriter;
    const written = (pieces: Piece[]) => concatenation([...pieces, { text: '}' }]);
    const body =
      probe.length === 0
        ? `return function json(r) { return ${written(fast)}; };`
        : `return function json(r) {
          ${locals.join('\n')}
          if (escaped.test(${probe.join(' + ')})) return ${written(slow)};
          return ${written(fast)};
        };`;
    return new Function('escaped', 'num', 'arrays', body)(NEEDS_ESCAPE, numberText, arrays) as JsonWriter;
  });
}

/**
 * Characters JSON.stringify writes otherwise than as themselves: the quote, the backslash,
 * control characters and (any) surrogate, since a lone one is escaped. A `null` among the
 * probed values reads as the text "null": harmless.
 */
// eslint-disable-next-line no-control-regex -- control characters are exactly what JSON escapes
const NEEDS_ESCAPE = /["\\\u0000-\u001f\ud800-\udfff]/;

const stringify: JsonWriter = (record) => JSON.stringify(record);

const doubleQuote = (s: string) => s.replace(/"/g, '""');

/**
 * A quoted CSV cell holding the JSON array of `members` (an order's items): the JSON written
 * by a compiled member writer with its quotes already doubled, so the cell is not first built
 * as JSON and then escaped by a regex over all of it. Byte for byte what `generic` (the CSV
 * writer's JSON cell) gives, which also writes anything else: an empty array, a value that
 * is not an array, a member whose keys are not the schema's properties in order.
 */
export function csvJsonArrayCell(members: Members, generic: (value: unknown) => string): (value: unknown) => string {
  const compiled = memberWriter(members, true);
  if (!compiled) return generic;
  const { member, fits } = compiled;
  return (value) => {
    if (!Array.isArray(value) || value.length === 0) return generic(value);
    let out = '"[';
    for (let k = 0; k < value.length; k++) {
      const m: unknown = value[k];
      if (!fits(m)) return generic(value);
      out += (k > 0 ? ',' : '') + member(m as object);
    }
    return out + ']"';
  };
}

/** The member schema of an array-of-objects property (an order's items). */
type Members = { required?: readonly string[]; properties?: Readonly<Record<string, PropertyNode>> };

/** The member schema of a property that is an array of objects, else undefined. */
function objectMembers(node: PropertyNode | undefined): Members | undefined {
  const array = node as { type?: string; items?: Members & { type?: string } } | undefined;
  return array?.type === 'array' && array.items?.type === 'object' && array.items.properties ? array.items : undefined;
}

/**
 * A compiled writer of one member of an array of objects (JSON, its quotes doubled for a CSV
 * cell with `doubleQuotes`), and the test a member must pass to be written by it: its keys are
 * the schema's properties, in order. Undefined unless every property is required (JSON.stringify
 * leaves a missing optional value out).
 */
function memberWriter(members: Members, doubleQuotes: boolean): { member: (m: object) => string; fits: (m: unknown) => boolean } | undefined {
  const properties = members.properties ?? {};
  const columns = Object.keys(properties);
  if (columns.length === 0 || (members.required ?? []).length !== columns.length) return undefined;
  const pieces = columns.flatMap((column, k) =>
    propertyPieces(properties[column], `m[${JSON.stringify(column)}]`, `${k === 0 ? '{' : ','}${JSON.stringify(column)}:`),
  );
  const member = new Function('dq', 'num', `return function member(m) { return ${concatenation([...pieces, { text: '}' }], doubleQuotes)}; };`)(
    doubleQuote,
    numberText,
  ) as (m: object) => string;
  const fits = (m: unknown): boolean => {
    if (m === null || typeof m !== 'object' || Array.isArray(m)) return false;
    let k = 0;
    for (const key in m) if (key !== columns[k++]) return false;
    return k === columns.length;
  };
  return { member, fits };
}

/**
 * The JSON of an array of objects (an order's items), byte for byte JSON.stringify's: each
 * member by a compiled writer when its keys are the schema's in order, anything else (not an
 * array, a member of another shape) through JSON.stringify. Compiled because JSON.stringify of
 * the items was ~60% of an order row's JSON (in process, 5,000 orders: 1.5 of 2.5 µs a row).
 */
function jsonArrayOfObjects(members: Members): JsonWriter {
  const compiled = memberWriter(members, false);
  if (!compiled) return stringify;
  const { member, fits } = compiled;
  return (value) => {
    if (!Array.isArray(value)) return JSON.stringify(value);
    let out = '[';
    for (let k = 0; k < value.length; k++) {
      const m: unknown = value[k];
      if (!fits(m)) return JSON.stringify(value);
      out += (k > 0 ? ',' : '') + member(m as object);
    }
    return out + ']';
  };
}

/**
 * The writer for a batch whose first record is `sample`: the compiled one when the record's
 * keys are the context's columns in order (what every generator returns, projected or not),
 * JSON.stringify otherwise.
 */
export function jsonWriter(context: FormatContext, sample: object | undefined): JsonWriter {
  if (!context.schema || sample === undefined) return stringify;
  // A missing optional value is left out by JSON.stringify: only all-required records compile.
  const required = (context.schema as { required?: readonly string[] }).required ?? [];
  if (required.length !== Object.keys(context.schema.properties ?? {}).length) return stringify;
  const keys = Object.keys(sample);
  const { columns } = context;
  if (keys.length !== columns.length) return stringify;
  for (let k = 0; k < keys.length; k++) if (keys[k] !== columns[k]) return stringify;
  return compiled(context);
}
