/**
 * `GET /…/{id}` (with `?wait=true`) and `DELETE /…/{id}` of something that runs in the
 * background: sink jobs (`/api/v1/jobs`) and streams (`/api/v1/streams`) share them.
 */
import { Type, type TSchema } from '@sinclair/typebox';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { ErrorSchema, NO_QUERY } from '../schemas/query.js';

/** What the routes need of one job or stream. */
export interface Runnable {
  readonly ended: boolean;
  readonly finished: Promise<unknown>;
  toJSON(): object;
}

export interface RunnableRoutes<T extends Runnable> {
  /** e.g. '/api/v1/jobs' (the routes are `<base>/:id`). */
  readonly base: string;
  readonly tags: string[];
  /** 'job', 'stream'. */
  readonly noun: string;
  readonly getSummary: string;
  readonly deleteSummary: string;
  readonly deleteDescription: string;
  /** The response schema of one item (a $ref or a union of them). */
  readonly item: TSchema;
  readonly security: { [label: string]: string[] }[];
  /** The item of this id; throws a 404 ApiError naming `id` when there is none. */
  find(id: string): T;
  /** Stops it gracefully, waiting at most `waitMs`. */
  cancel(item: T, waitMs: number): Promise<unknown>;
  readonly cancelWaitMs: number;
}

/** Registers `GET <base>/:id` and `DELETE <base>/:id`. */
export function addRunnableRoutes<T extends Runnable>(app: FastifyInstance, routes: RunnableRoutes<T>): void {
  const errorRef = Type.Ref(ErrorSchema);
  const idParams = Type.Object({ id: Type.String({ format: 'uuid', description: `${routes.noun[0]?.toUpperCase()}${routes.noun.slice(1)} id` }) });
  const notFound = { description: `No such ${routes.noun}`, ...errorRef };

  app.get(
    `${routes.base}/:id`,
    {
      schema: {
        tags: routes.tags,
        summary: routes.getSummary,
        params: idParams,
        querystring: Type.Object({ wait: Type.Optional(Type.Boolean({ default: false, description: `Answer when the ${routes.noun} has ended` })) }, { additionalProperties: false }),
        response: { 200: routes.item, 404: notFound },
      },
    },
    async (request: FastifyRequest<{ Params: { id: string }; Querystring: { wait?: boolean } }>) => {
      const item = routes.find(request.params.id);
      if (request.query.wait) await item.finished;
      return item.toJSON();
    },
  );

  app.delete(
    `${routes.base}/:id`,
    {
      schema: {
        tags: routes.tags,
        summary: routes.deleteSummary,
        description: routes.deleteDescription,
        security: routes.security,
        params: idParams,
        querystring: NO_QUERY,
        response: { 200: routes.item, 202: routes.item, 401: errorRef, 404: notFound },
      },
    },
    async (request: FastifyRequest<{ Params: { id: string } }>, reply: FastifyReply) => {
      const item = routes.find(request.params.id);
      await routes.cancel(item, routes.cancelWaitMs);
      return reply.status(item.ended ? 200 : 202).send(item.toJSON());
    },
  );
}
