import type { FastifyError, FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import { STATUS_CODES } from 'node:http';

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

interface ValidationIssue {
  keyword: string;
  instancePath: string;
  message?: string;
  params: Record<string, unknown>;
}

/** Turns Ajv's first complaint into `name: reason`, naming the parameter the client sent. */
function describe(issue: ValidationIssue, context: string | undefined): { code: string; message: string } {
  const where = context === 'body' ? 'body field' : 'query parameter';
  if (issue.keyword === 'additionalProperties') {
    const name = String(issue.params.additionalProperty);
    return { code: 'UNKNOWN_PARAMETER', message: `${name}: unknown ${where}` };
  }
  const name = issue.instancePath.replace(/^\//, '').replace(/\//g, '.') || String(issue.params.missingProperty ?? context);
  let reason = issue.message ?? 'is invalid';
  if (issue.keyword === 'enum') reason = `must be one of ${(issue.params.allowedValues as unknown[]).join(', ')}`;
  if (issue.keyword === 'pattern' && name === 'fields') reason = 'must be a comma-separated list of field names';
  return { code: 'INVALID_PARAMETER', message: `${name}: ${reason}` };
}

/**
 * The one error handler: every error body is `{ statusCode, error, message, code }`; 4xx
 * messages say which parameter is wrong and why; 5xx messages never leak internals.
 */
export default fp(
  async (app: FastifyInstance) => {
    app.setErrorHandler((err: FastifyError | ApiError, request, reply) => {
      let statusCode = err.statusCode ?? 500;
      let code = err.code ?? 'INTERNAL_ERROR';
      let message = err.message;
      const validation = (err as FastifyError).validation as ValidationIssue[] | undefined;
      if (validation && validation.length > 0) {
        statusCode = 400;
        ({ code, message } = describe(validation[0] as ValidationIssue, (err as FastifyError).validationContext));
      } else if (statusCode >= 500) {
        request.log.error({ err }, 'request failed');
        code = 'INTERNAL_ERROR';
        message = 'Internal error; the request was logged.';
      } else if (code.startsWith('FST_')) {
        code = code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE' ? 'UNSUPPORTED_MEDIA_TYPE' : 'BAD_REQUEST';
      }
      reply
        .status(statusCode)
        .type('application/json; charset=utf-8')
        .send({ statusCode, error: STATUS_CODES[statusCode] ?? 'Error', message, code });
    });

    app.setNotFoundHandler((request, reply) => {
      const path = request.url.split('?')[0] ?? '';
      const message = path.startsWith('/api/v1/')
        ? `${path}: no such endpoint; see /docs for the entities and their endpoints`
        : `${request.method} ${path}: not found`;
      reply.status(404).send({ statusCode: 404, error: 'Not Found', message, code: 'NOT_FOUND' });
    });
  },
  { name: 'errors' },
);
