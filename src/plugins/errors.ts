import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest, FastifyServerOptions } from 'fastify';
import fp from 'fastify-plugin';
import { STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
import { LIST_ITEMS } from '../schemas/lists.js';

/** An error meant for the client: status, stable code, and a message naming what is wrong. */
export class ApiError extends Error {
  constructor(
    readonly statusCode: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

export const badParameter = (name: string, reason: string) =>
  new ApiError(400, 'INVALID_PARAMETER', `${name}: ${reason}`);

/** How much of a client's value an error message repeats. */
export const MAX_ECHO = 100;
/** The longest error message: a reason never needs more (the longest, a refused `types` list with the 31 known event types, ~650). */
export const MAX_MESSAGE = 1000;

/** A client's value as an error message repeats it: the first {@link MAX_ECHO} characters, then '…'. */
export const clip = (value: string, max = MAX_ECHO): string => (value.length > max ? `${value.slice(0, max)}…` : value);

/** Shortens each quoted value in a message, then the message itself, so a 100 KB value is not echoed whole. */
export function tidyMessage(message: string): string {
  const short = message.replace(/'([^']{101,})'/g, (_m, value: string) => `'${clip(value)}'`);
  return clip(short, MAX_MESSAGE);
}

/** The stable `code` of a status when nothing more precise is known: 413 → PAYLOAD_TOO_LARGE. */
export const codeOfStatus = (statusCode: number): string =>
  (STATUS_CODES[statusCode] ?? 'Error').toUpperCase().replace(/[^A-Z0-9]+/g, '_');

export interface ErrorBody {
  statusCode: number;
  error: string;
  message: string;
  code: string;
  request_id?: string;
}

export const errorBody = (statusCode: number, code: string, message: string): ErrorBody => ({
  statusCode,
  error: STATUS_CODES[statusCode] ?? 'Error',
  message: tidyMessage(message),
  code,
});

interface ValidationIssue {
  keyword: string;
  instancePath: string;
  message?: string;
  params: Record<string, unknown>;
}

/** What a value refused by a pattern must look like, for the parameters whose pattern a person would not read. */
const PATTERN_REASONS: Readonly<Record<string, string>> = {
  fields: 'must be a comma-separated list of field names',
  entities: 'must be a comma-separated list of entity names (e.g. users,orders,order-items)',
  types: 'must be a comma-separated list of event types (e.g. order.placed,payment.captured; see the event types in docs/events.md)',
  weights: 'must be a comma-separated list of name:weight, the names orders, interactions and inventory, each weight a number (e.g. orders:0.6,interactions:0.3,inventory:0.1)',
};

/**
 * Fastify's body parsing errors, in the service's words: the message starts with what is wrong
 * (`body`, `Content-Type`, `Content-Length`) and says what to send instead.
 */
function bodyProblem(err: FastifyError, request: FastifyRequest): string | undefined {
  switch (err.code) {
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
      return 'body: not valid JSON (send one JSON object; keys named __proto__ or constructor.prototype are refused)';
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return 'body: empty; send a JSON object, or no Content-Type header';
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return unsupportedType(request);
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return `body: larger than this server accepts (${request.routeOptions.bodyLimit ?? 'its limit'} bytes)`;
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
      return 'Content-Length: does not match the body sent';
    // @fastify/compress, decompressing a body: its own words named neither the header nor the coding.
    case 'FST_CP_ERR_INVALID_CONTENT':
      return `Content-Encoding: the body is not valid ${clip(String(request.headers['content-encoding'] ?? ''))} data; send it compressed as named, or uncompressed without Content-Encoding`;
    case 'FST_CP_ERR_INVALID_CONTENT_ENCODING':
      return `Content-Encoding: '${clip(String(request.headers['content-encoding'] ?? ''))}' is not accepted here; send br, gzip or deflate, or an uncompressed body`;
    default:
      return undefined;
  }
}

/** Whether the request said its body is JSON (`application/json`, with or without parameters). */
const isJson = (request: FastifyRequest): boolean => /^application\/json\s*(;|$)/i.test(String(request.headers['content-type'] ?? ''));

const unsupportedType = (request: FastifyRequest): string =>
  `Content-Type: '${clip(String(request.headers['content-type'] ?? ''))}' is not accepted here; send application/json`;

/**
 * One item of the comma lists whose pattern is checked whole, and what an item must be: a
 * refused list names its first bad item (`fields: 'items.sku' is not a field name; …`), which
 * in a list of twenty a person would not find by the list's rule alone.
 */
const ITEM_RULES: Readonly<Record<string, readonly [RegExp, string]>> = Object.fromEntries(
  Object.entries(LIST_ITEMS).map(([name, { pattern, what }]) => [name, [new RegExp(`^${pattern}$`), what] as const]),
);

/** The first item of a refused comma list that is not one, as `'item' is not …; ` (empty when none is found). */
function badItem(name: string, value: unknown): string {
  const rule = ITEM_RULES[name];
  if (!rule || typeof value !== 'string') return '';
  const [item, what] = rule;
  const bad = value.split(',').find((part) => !item.test(part));
  if (bad === undefined) return '';
  return bad === '' ? 'an empty item; ' : `'${clip(bad)}' is not ${what}; `;
}

/** Turns Ajv's first complaint into `name: reason`, naming the parameter the client sent (and, for a list, its bad item). */
function describe(issue: ValidationIssue, context: string | undefined, query?: unknown): { code: string; message: string } {
  const where = context === 'body' ? 'body field' : context === 'params' ? 'path parameter' : 'query parameter';
  const path = issue.instancePath.replace(/^\//, '').replace(/\//g, '.');
  if (issue.keyword === 'additionalProperties') {
    // Inside a nested object (a stream's `weights`), the field is named by its path.
    const name = clip(`${path ? `${path}.` : ''}${String(issue.params.additionalProperty)}`);
    return { code: 'UNKNOWN_PARAMETER', message: `${name}: unknown ${where}` };
  }
  const name = clip(path || String(issue.params.missingProperty ?? context));
  let reason = issue.message ?? 'is invalid';
  if (issue.keyword === 'enum') reason = `must be one of ${(issue.params.allowedValues as unknown[]).join(', ')}`;
  if (issue.keyword === 'pattern') {
    const item = context === 'querystring' ? badItem(name, (query as Record<string, unknown> | undefined)?.[name]) : '';
    reason = `${item}${PATTERN_REASONS[name] ?? reason}`;
  }
  if (issue.keyword === 'type' && context === 'body') reason = `${reason} (JSON types are not converted)`;
  return { code: 'INVALID_PARAMETER', message: `${name}: ${reason}` };
}

/**
 * Errors Node's HTTP parser raises before Fastify sees a request (a header block over the
 * limit, a method Node does not know, a malformed request line): answered in the same JSON
 * shape, with a `code`, then the connection is closed as Node would.
 */
function clientErrorHandler(err: NodeJS.ErrnoException, socket: Socket): void {
  if (err.code === 'ECONNRESET' || socket.destroyed) return;
  let body: ErrorBody;
  if (err.code === 'HPE_HEADER_OVERFLOW') {
    body = errorBody(431, 'HEADERS_TOO_LARGE', 'the request line and headers exceed the server limit; send a shorter query string or fewer headers');
  } else if (err.code === 'ERR_HTTP_REQUEST_TIMEOUT') {
    body = errorBody(408, 'REQUEST_TIMEOUT', 'the request did not arrive in time');
  } else if (err.code === 'HPE_INVALID_METHOD') {
    body = errorBody(400, 'UNKNOWN_METHOD', 'the HTTP method is not one this server knows');
  } else {
    body = errorBody(400, 'BAD_REQUEST', 'the request is not well-formed HTTP/1.1');
  }
  if (socket.writable) {
    const text = JSON.stringify(body);
    socket.write(
      `HTTP/1.1 ${body.statusCode} ${body.error}\r\nContent-Length: ${Buffer.byteLength(text)}\r\nContent-Type: application/json; charset=utf-8\r\nCache-Control: no-store\r\nConnection: close\r\n\r\n${text}`,
    );
  }
  socket.destroy();
}

/** Fastify's own routing errors (a bad percent-encoding, a path segment over the limit) in the same shape. */
function frameworkErrors(err: FastifyError, request: FastifyRequest, reply: FastifyReply): void {
  const path = clip(request.raw.url?.split('?')[0] ?? '');
  const body =
    err.code === 'FST_ERR_MAX_PARAM_LENGTH'
      ? errorBody(414, 'URI_TOO_LONG', `${path}: a path segment is longer than the server accepts`)
      : err.code === 'FST_ERR_BAD_URL'
        ? errorBody(400, 'BAD_URL', `${path}: not a valid URL (bad percent-encoding?)`)
        : errorBody(err.statusCode ?? 400, codeOfStatus(err.statusCode ?? 400), err.message);
  reply.status(body.statusCode).header('Cache-Control', 'no-store').type('application/json; charset=utf-8').send(body);
}

/** The server options behind the error shape for what never reaches a route. */
export const errorServerOptions: Pick<FastifyServerOptions, 'clientErrorHandler' | 'frameworkErrors'> = {
  clientErrorHandler,
  frameworkErrors,
};

/** Turns a route pattern (`/api/v1/jobs/:id`, `/docs/*`) into a matcher of concrete paths. */
function patternOf(url: string): RegExp {
  const source = url
    .split('/')
    .map((segment) => (segment.startsWith(':') ? '[^/]+' : segment === '*' ? '.*' : segment.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')))
    .join('/');
  return new RegExp(`^${source}/?$`);
}

/**
 * The one error handler: every error body is `{ statusCode, error, message, code }`; 4xx
 * messages say which parameter is wrong and why; 5xx messages never leak internals and carry
 * the request id. A known path asked with another method is a 405 with `Allow`.
 */
export default fp(
  async (app: FastifyInstance) => {
    app.setErrorHandler((err: FastifyError | ApiError, request, reply) => {
      // An error can end a response that was set up as a download (a stream failing before its
      // first byte): its body is plain JSON, neither encoded nor an attachment.
      reply.removeHeader('content-encoding').removeHeader('content-disposition');
      // An error is never the seeded representation (docs/api.md, Caching): nothing to cache,
      // whichever stage refused the request (validation runs before the caching hook).
      reply.removeHeader('etag').header('Cache-Control', 'no-store');
      let statusCode = err.statusCode ?? 500;
      if (statusCode < 400 || statusCode > 599) statusCode = 500;
      let code: string = err.code ?? codeOfStatus(statusCode);
      let message = err.message;
      const validation = (err as FastifyError).validation as ValidationIssue[] | undefined;
      if (validation && validation.length > 0 && (err as FastifyError).validationContext === 'body' && typeof request.body === 'string' && !isJson(request)) {
        // A text/plain body reaches a JSON route as a string (Fastify parses text/plain by default);
        // a JSON string sent as JSON (`"x"`) is a body of the wrong type, said below like `123`.
        statusCode = 415;
        code = 'UNSUPPORTED_MEDIA_TYPE';
        message = unsupportedType(request);
      } else if (validation && validation.length > 0 && (err as FastifyError).validationContext === 'body' && request.body === undefined) {
        statusCode = 400;
        code = 'INVALID_PARAMETER';
        message = 'body: missing; send a JSON object with Content-Type: application/json';
      } else if (validation && validation.length > 0) {
        statusCode = 400;
        ({ code, message } = describe(validation[0] as ValidationIssue, (err as FastifyError).validationContext, request.query));
      } else if (statusCode >= 500) {
        request.log.error({ err }, 'request failed');
        // An ApiError's message is written for the client (PRECOMPUTE_FAILED, RENDER_FAILED); any other 5xx hides its internals.
        const body =
          err instanceof ApiError
            ? { ...errorBody(statusCode, err.code, `${err.message} (request ${request.id})`), request_id: request.id }
            : { ...errorBody(statusCode, 'INTERNAL_ERROR', `Internal error; the request was logged as ${request.id}.`), request_id: request.id };
        return reply.status(statusCode).type('application/json; charset=utf-8').send(body);
      } else if (!(err instanceof ApiError)) {
        // Fastify's and Node's codes (FST_ERR_CTP_BODY_TOO_LARGE, ...) are not part of the contract.
        code = err.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE' ? 'UNSUPPORTED_MEDIA_TYPE' : codeOfStatus(statusCode);
        message = bodyProblem(err, request) ?? message;
      }
      reply.status(statusCode).type('application/json; charset=utf-8').send(errorBody(statusCode, code, message));
    });

    // Every route's pattern and methods, for the 405 of a known path asked with another method.
    const routes = new Map<string, { pattern: RegExp; methods: Set<string> }>();
    app.addHook('onRoute', (route) => {
      // Catch-all routes (CORS preflight's `OPTIONS *`) say nothing about which paths exist.
      if (route.url === '*' || route.url === '/*') return;
      const entry = routes.get(route.url) ?? { pattern: patternOf(route.url), methods: new Set<string>() };
      for (const method of [route.method].flat()) entry.methods.add(method);
      routes.set(route.url, entry);
    });

    app.setNotFoundHandler((request, reply) => {
      reply.header('Cache-Control', 'no-store');
      const path = request.url.split('?')[0] ?? '';
      const allowed = new Set<string>();
      for (const { pattern, methods } of routes.values()) {
        if (pattern.test(path)) for (const m of methods) allowed.add(m);
      }
      if (allowed.size > 0 && !allowed.has(request.method)) {
        const allow = [...allowed].sort().join(', ');
        reply.header('Allow', allow);
        return reply.status(405).send(errorBody(405, 'METHOD_NOT_ALLOWED', `${request.method} ${clip(path)}: not allowed; this path answers ${allow}`));
      }
      const message = path.startsWith('/api/v1/')
        ? `${clip(path)}: no such endpoint; see /docs for the entities and their endpoints`
        : `${request.method} ${clip(path)}: not found`;
      return reply.status(404).send(errorBody(404, 'NOT_FOUND', message));
    });
  },
  { name: 'errors' },
);
