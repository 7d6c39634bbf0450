import { Ajv, type ErrorObject } from 'ajv';
import addFormatsModule from 'ajv-formats';
import type { TSchema } from '@sinclair/typebox';
import { Option, type Command } from 'commander';

/** A command line that cannot run: printed as `error: <message>`, exit code 2. */
export class UsageError extends Error {}

/** The flag a body or query parameter comes from: `start_date` -> `--start-date`. */
export const flagOf = (parameter: string) => `--${parameter.replace(/_/g, '-')}`;

// ajv-formats is CommonJS; its default export arrives as the module object under ESM.
const addFormats = ((addFormatsModule as unknown as { default?: typeof addFormatsModule }).default ?? addFormatsModule) as unknown as (ajv: Ajv) => Ajv;

/** The same Ajv settings as the HTTP server's (src/app.ts): coerce strings, apply defaults, no unknown keys. */
const ajv = addFormats(new Ajv({ coerceTypes: 'array', useDefaults: true, removeAdditional: false, allErrors: false, strict: false }));

/** Ajv's type names in words (`must be number` reads as a typo on a command line). */
const TYPE_WORDS: Readonly<Record<string, string>> = { number: 'a number', integer: 'a whole number', boolean: 'true or false', string: 'text', array: 'a list', object: 'an object' };

function describe(error: ErrorObject): string {
  // A path inside a flag's value (`--weights foo:1` is /weights/foo) names the flag, then the part.
  const [name = '', ...inside] = error.instancePath.replace(/^\//, '').split('/');
  if (error.keyword === 'additionalProperties') {
    const key = String(error.params.additionalProperty);
    return name ? `${flagOf(name)}: unknown name '${key}'${inside.length > 0 ? ` in ${inside.join('.')}` : ''}` : `${flagOf(key)}: unknown option`;
  }
  const reason =
    error.keyword === 'enum'
      ? `must be one of ${(error.params.allowedValues as unknown[]).join(', ')}`
      : error.keyword === 'type'
        ? `must be ${TYPE_WORDS[String(error.params.type)] ?? `of type ${String(error.params.type)}`}`
        : (error.message ?? 'is invalid');
  return `${flagOf(name)}: ${inside.length > 0 ? `${inside.join('.')} ` : ''}${reason}`;
}

/**
 * Validates (and coerces, and fills defaults into) the parameters a command builds from its
 * flags, against the very schema the HTTP route validates the same request with.
 */
export function validateAgainst(schema: TSchema, value: Record<string, unknown>): Record<string, unknown> {
  const check = ajv.compile(schema);
  if (!check(value)) throw new UsageError(describe((check.errors ?? [])[0] as ErrorObject));
  return value;
}

/** A flag per request field (a sink option, a stream body field), described and typed by the field's schema. */
export function addSchemaOption(command: Command, name: string, schema: TSchema): void {
  const flag = flagOf(name);
  const node = schema as TSchema & { type?: string | string[]; enum?: string[]; default?: unknown; description?: string; anyOf?: { type?: string }[] };
  const description = String(node.description ?? '');
  const types = node.anyOf ? node.anyOf.map((v) => v.type) : [node.type];
  let option: Option;
  if (types.length === 1 && types[0] === 'boolean') option = new Option(flag, description);
  else option = new Option(`${flag} <value>`, description);
  if (node.enum) option = option.choices(node.enum);
  command.addOption(option);
}
