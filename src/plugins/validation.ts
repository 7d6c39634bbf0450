import AjvCompiler from '@fastify/ajv-compiler';
import type { FastifySchema, FastifyServerOptions } from 'fastify';
import { buildSerializer } from './serializers.js';

type Options = Record<string, unknown>;
interface RouteSchema {
  schema: FastifySchema;
  method: string;
  url: string;
  httpPart: string;
}
interface ValidateFunction {
  (data: unknown, context?: { parentData?: unknown; parentDataProperty?: string }): boolean;
  errors?: unknown[] | null;
  schemaEnv?: unknown;
}
type Compile = (route: RouteSchema) => ValidateFunction;

/**
 * The Ajv options of this service, per HTTP part. A query string is text, so its numbers and
 * booleans are coerced (`limit=10` → 10, `wait=true` → true); a JSON body already has types, so
 * nothing in it is coerced: `{"seed": null}`, `{"limit": true}`, `{"topic": ["x"]}` are errors,
 * not 0, 1 and "x".
 */
const QUERY_OPTIONS = { removeAdditional: false, coerceTypes: 'array', useDefaults: true } as const;
const BODY_OPTIONS = { removeAdditional: false, coerceTypes: false, useDefaults: true } as const;

/**
 * Ajv coerces the strings `Infinity`, `-Infinity` (and `1e999`) to non-finite numbers and then
 * skips `minimum`/`maximum` for them, which only apply to finite numbers. So after a query
 * string passes, any non-finite number left in it is refused, naming the parameter. (No Ajv
 * option closes this gap; a query string is flat, so one pass over it and its arrays suffices.)
 */
function finiteOnly(validate: ValidateFunction, numeric: ReadonlySet<string>, single: ReadonlySet<string>): ValidateFunction {
  const checked: ValidateFunction = (data, context) => {
    const repeated = single.size > 0 && data !== null && typeof data === 'object' ? givenTwice(data as Record<string, unknown>, single) : undefined;
    if (repeated !== undefined) {
      checked.errors = [{ keyword: 'repeated', instancePath: `/${repeated.name}`, schemaPath: '', params: {}, message: `given ${repeated.times} times; give it once` }];
      return false;
    }
    const written = numeric.size > 0 && data !== null && typeof data === 'object' ? notDecimal(data as Record<string, unknown>, numeric) : undefined;
    if (written !== undefined) {
      checked.errors = [{ keyword: 'decimal', instancePath: `/${written}`, schemaPath: '', params: {}, message: 'must be a decimal number' }];
      return false;
    }
    if (!validate(data, context)) {
      checked.errors = validate.errors ?? null;
      return false;
    }
    if (data !== null && typeof data === 'object') {
      for (const name in data) {
        const value = (data as Record<string, unknown>)[name];
        if (Array.isArray(value) ? value.some((v) => typeof v === 'number' && !Number.isFinite(v)) : typeof value === 'number' && !Number.isFinite(value)) {
          checked.errors = [{ keyword: 'finite', instancePath: `/${name}`, schemaPath: '', params: {}, message: 'must be a finite number' }];
          return false;
        }
      }
    }
    checked.errors = null;
    return true;
  };
  if (validate.schemaEnv !== undefined) checked.schemaEnv = validate.schemaEnv;
  return checked;
}

/**
 * A query string may repeat a name (`limit=1&limit=2`), which the parser turns into an array.
 * For a parameter that takes one value, Ajv's complaint about the array (`must be integer`)
 * names the wrong reason; the first such parameter is named with the right one instead.
 */
function givenTwice(data: Record<string, unknown>, single: ReadonlySet<string>): { name: string; times: number } | undefined {
  for (const name in data) {
    const value = data[name];
    if (Array.isArray(value) && single.has(name)) return { name, times: value.length };
  }
  return undefined;
}

/** A number as a person writes it in a URL: digits, an optional fraction and exponent. */
const DECIMAL = /^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$/;

/**
 * Ajv coerces query strings with `Number()`, which also reads `0x10` as 16, `0b11` as 3 and
 * `" 10"` as 10. A query value for a number must be written in decimal: the first numeric
 * parameter (or array item) that is not is named, before Ajv coerces it away.
 */
function notDecimal(data: Record<string, unknown>, numeric: ReadonlySet<string>): string | undefined {
  // The first numeric parameter in the schema's order, as before; a query usually has a few of them.
  let first: string | undefined;
  for (const name in data) {
    if (numeric.has(name) && !decimalValue(data[name]) && (first === undefined || ORDER_OF(numeric, name) < ORDER_OF(numeric, first))) first = name;
  }
  return first;
}

/** Whether a query value for a number (or each item of an array of them) is written in decimal. */
function decimalValue(value: unknown): boolean {
  const values: unknown[] = Array.isArray(value) ? value : [value];
  return !values.some((v) => typeof v === 'string' && !DECIMAL.test(v));
}

/** A name's position in the schema's numeric properties (only when two parameters are wrong at once). */
const ORDER_OF = (numeric: ReadonlySet<string>, name: string): number => [...numeric].indexOf(name);

const isNumeric = (schema: unknown): boolean => {
  if (schema === null || typeof schema !== 'object') return false;
  const { type, items, anyOf } = schema as { type?: unknown; items?: unknown; anyOf?: unknown[] };
  const types: unknown[] = Array.isArray(type) ? type : [type];
  if (types.includes('number') || types.includes('integer')) return true;
  if (items !== undefined && isNumeric(items)) return true;
  return Array.isArray(anyOf) && anyOf.some(isNumeric);
};

const isArray = (schema: unknown): boolean => {
  if (schema === null || typeof schema !== 'object') return false;
  const { type, anyOf } = schema as { type?: unknown; anyOf?: unknown[] };
  return (Array.isArray(type) ? type : [type]).includes('array') || (Array.isArray(anyOf) && anyOf.some(isArray));
};

/** The names of a query schema's properties that take one value (not an array). */
function singleProperties(schema: unknown): Set<string> {
  const properties = (schema as { properties?: Record<string, unknown> } | undefined)?.properties ?? {};
  return new Set(Object.entries(properties).filter(([, property]) => !isArray(property)).map(([name]) => name));
}

/** The names of a query schema's properties that hold numbers (or arrays of numbers). */
function numericProperties(schema: unknown): Set<string> {
  const properties = (schema as { properties?: Record<string, unknown> } | undefined)?.properties ?? {};
  return new Set(Object.entries(properties).filter(([, property]) => isNumeric(property)).map(([name]) => name));
}

const pool = AjvCompiler();

/**
 * Fastify's validator factory with one Ajv per kind of HTTP part (Fastify's
 * `schemaController.compilersFactory`): query strings, params and headers coerce, bodies don't.
 */
export function buildValidator(externalSchemas: Options, serverOptions: { customOptions?: Options; plugins?: unknown[] } = {}): Compile {
  const make = (customOptions: Options) =>
    pool(externalSchemas as never, { ...serverOptions, customOptions: { ...serverOptions.customOptions, ...customOptions } } as never) as unknown as Compile;
  const query = make(QUERY_OPTIONS);
  const body = make(BODY_OPTIONS);
  return (route) => remembered(route.httpPart === 'body' ? body : query, route, () => (route.httpPart === 'body' ? body(route) : finiteOnly(query(route), numericProperties(route.schema), route.httpPart === 'querystring' ? singleProperties(route.schema) : new Set())));
}

/** Validators compiled in this process, per Ajv (the pool's compile function) and schema JSON. */
const validators = new WeakMap<Compile, Map<string, ValidateFunction>>();

/**
 * The validator of `route` compiled once per process: every app compiles the same route
 * schemas again (fresh objects, so Ajv's own cache misses), ~0.3 s of CPU per app, paid by every
 * test's app. The pool gives one compile function per Ajv options and external schemas; within
 * it a validator is a pure function of the schema, so the same JSON gets the same function.
 */
function remembered(ajv: Compile, route: RouteSchema, compile: () => ValidateFunction): ValidateFunction {
  let cache = validators.get(ajv);
  if (!cache) validators.set(ajv, (cache = new Map()));
  const key = `${route.httpPart}\n${JSON.stringify(route.schema)}`;
  let validate = cache.get(key);
  if (!validate) cache.set(key, (validate = compile()));
  return validate;
}

/** The Fastify server options that install {@link buildValidator}. */
export const validationOptions: Pick<FastifyServerOptions, 'schemaController'> = {
  schemaController: { compilersFactory: { buildValidator: buildValidator as never, buildSerializer: buildSerializer as never } },
};
