import AjvCompiler from '@fastify/ajv-compiler';
import type { FastifySchema, FastifyServerOptions } from 'fastify';

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
function finiteOnly(validate: ValidateFunction): ValidateFunction {
  const checked: ValidateFunction = (data, context) => {
    if (!validate(data, context)) {
      checked.errors = validate.errors ?? null;
      return false;
    }
    if (data !== null && typeof data === 'object') {
      for (const [name, value] of Object.entries(data)) {
        const values: unknown[] = Array.isArray(value) ? value : [value];
        if (values.some((v) => typeof v === 'number' && !Number.isFinite(v))) {
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
  return (route) => (route.httpPart === 'body' ? body(route) : finiteOnly(query(route)));
}

/** The Fastify server options that install {@link buildValidator}. */
export const validationOptions: Pick<FastifyServerOptions, 'schemaController'> = {
  schemaController: { compilersFactory: { buildValidator: buildValidator as never } },
};
