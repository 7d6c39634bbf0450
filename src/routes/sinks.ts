import { timingSafeEqual, createHash } from 'node:crypto';
import { Type, type TSchema } from '@sinclair/typebox';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { SinkConfig } from '../config.js';
import { ENTITIES, ENTITY_NAMES, type EntityName } from '../generators/registry.js';
import { parsePartition, partitionRange } from '../generators/partition.js';
import { MAX_POPULATION, World } from '../generators/world.js';
import { ApiError, badParameter } from '../plugins/errors.js';
import { recordsOf } from '../render/batch.js';
import { OneOf } from '../schemas/common.js';
import { ErrorSchema, NO_QUERY, WorldQueryFields } from '../schemas/query.js';
import { SINKS, type AnySink } from '../sinks/index.js';
import { DEFAULT_MAX_QUEUED_JOBS, FINISHED_JOBS_KEPT, JobManager, type Job } from '../sinks/jobs.js';
import type { EntitySlice, SinkDefinition, SinkName } from '../sinks/types.js';
import jobEventRoutes from './job-events.js';
import { addRunnableRoutes } from './job-routes.js';
import type { StreamManager, StreamJob } from '../streams/jobs.js';
import { StreamSchema } from '../streams/schema.js';
import { resolveRelativeDates, worldSpecFrom, type WorldParams } from './world-query.js';
import { precomputeCost } from '../generators/cost.js';
import { assertWithinBudget, DEFAULT_COST_BUDGET, retainPrecompute, whenPrepared, type CostBudget } from './cost.js';

declare module 'fastify' {
  interface FastifyInstance {
    jobs: JobManager;
  }
}

export interface SinkRoutesOptions {
  config: SinkConfig;
  /** How long `DELETE /jobs/{id}` waits for a job to stop before answering 202 (default 30 s). */
  cancelWaitMs?: number;
  /** Jobs running at once; the rest wait as `queued` (default DEFAULT_MAX_RUNNING_JOBS). */
  maxRunningJobs?: number;
  /** Jobs that may wait as `queued`; a job beyond is refused, 429 (default DEFAULT_MAX_QUEUED_JOBS). */
  maxQueuedJobs?: number;
  /** The most a request's precomputation may cost (see routes/cost.ts). */
  budget?: CostBudget;
  /** The streams (POST /api/v1/streams), listed and addressed among the jobs. */
  streams?: StreamManager;
}

/** Every entity parameter (e.g. performance-events' `days`), without defaults: they apply per entity. */
const ENTITY_PARAMS: Record<string, { schema: TSchema; entities: EntityName[] }> = {};
for (const entity of ENTITY_NAMES) {
  for (const [name, schema] of Object.entries(ENTITIES[entity].params ?? {})) {
    const known = ENTITY_PARAMS[name];
    if (known) known.entities.push(entity);
    else {
      const { default: _default, ...rest } = schema as TSchema & { default?: unknown };
      ENTITY_PARAMS[name] = { schema: { ...rest, description: `${entity}: ${String(rest.description ?? '')}` } as TSchema, entities: [entity] };
    }
  }
}

const EntityNameSchema = OneOf(ENTITY_NAMES, 'An entity, as in GET /api/v1/<entity>.');

/** The body of `POST /sinks/<name>`: the world, what to send, and the sink's own options. */
export function bodySchema(sink: SinkDefinition) {
  const properties: Record<string, TSchema> = {
    ...WorldQueryFields,
    entities: Type.Array(EntityNameSchema, {
      minItems: 1,
      uniqueItems: true,
      description: `Entities to send, each whole, delivered in dependency order whatever the order given. Default: ${sink.defaultEntities.length === 1 ? sink.defaultEntities[0] : 'every entity except performance-events'}. Not with \`entity\`.`,
    }),
    entity: OneOf(ENTITY_NAMES, 'One entity to send, with `limit`/`offset` and its own parameters as on its GET endpoint. Not with `entities`.'),
    limit: Type.Integer({ minimum: 1, maximum: MAX_POPULATION, description: 'Records of `entity` to send (default: all from `offset`).' }),
    offset: Type.Integer({ minimum: 0, maximum: MAX_POPULATION, description: 'Index of the first record of `entity` to send (default 0).' }),
    // `k/n` in one field: a body's `partitions` is already the Kafka sink's topic partitions.
    partition: Type.String({
      pattern: '^[0-9]+/[0-9]+$',
      description: 'Worker k of n (0-based), e.g. `1/4`: this job sends only its contiguous slice of each entity\'s records; the n jobs together send exactly what one job would. See docs/scaling.md.',
      examples: ['0/4'],
    }),
    ...Object.fromEntries(Object.entries(ENTITY_PARAMS).map(([name, p]) => [name, p.schema])),
    ...sink.options,
  };
  return Type.Object(
    Object.fromEntries(Object.entries(properties).map(([k, v]) => [k, Type.Optional(v)])),
    { additionalProperties: false },
  );
}

const EntityProgressSchema = Type.Object(
  {
    entity: Type.String(),
    state: OneOf(['pending', 'running', 'done', 'failed', 'cancelled'] as const, 'Where this entity stands'),
    destination: Type.Union([Type.String(), Type.Null()], { description: 'Table, topic, object URI, index or endpoint' }),
    planned: Type.Integer({ description: 'Records the job means to deliver' }),
    records: Type.Integer({ description: 'Records delivered (acknowledged by the destination)' }),
    bytes: Type.Integer({ description: 'Bytes of those records as sent' }),
    failed: Type.Integer({ description: 'Records given up on' }),
    inserted: Type.Optional(Type.Integer({ description: 'postgres: rows new to the table' })),
    skipped: Type.Optional(Type.Integer({ description: 'postgres: rows already there (ON CONFLICT DO NOTHING)' })),
    error: Type.Union([Type.String(), Type.Null()]),
  },
  { additionalProperties: true, description: 'Live counters of one entity; sinks add their own facts (uri, crc32c, index, topic).' },
);

const JobSchema = Type.Object(
  {
    id: Type.String({ format: 'uuid' }),
    kind: Type.Literal('sink', { description: 'A sink job (GET /api/v1/jobs also lists streams, kind stream)' }),
    sink: OneOf(Object.keys(SINKS) as SinkName[], 'The sink'),
    state: OneOf(['queued', 'running', 'succeeded', 'partial', 'failed', 'cancelled'] as const, 'succeeded: everything delivered; partial: ended with failed records; failed: the job stopped on an error; cancelled: stopped by DELETE'),
    seed: Type.Integer(),
    created_at: Type.String({ format: 'date-time' }),
    started_at: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
    finished_at: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
    records: Type.Integer({ description: 'Records delivered, all entities' }),
    bytes: Type.Integer(),
    failed: Type.Integer({ description: 'Records given up on, all entities' }),
    entities: Type.Array(EntityProgressSchema),
    errors: Type.Array(Type.String(), { description: 'Error messages (the first 50)' }),
    error_count: Type.Integer(),
    result: Type.Object({}, { additionalProperties: true, description: 'Sink-level facts, e.g. gcs: the gs:// URIs' }),
    request: Type.Object({}, { additionalProperties: true, description: 'The request as validated, defaults applied' }),
  },
  { $id: 'Job', additionalProperties: false },
);

const SinkStatsSchema = Type.Object({
  records: Type.Integer(),
  bytes: Type.Integer(),
  failed: Type.Integer(),
  jobs: Type.Object({
    total: Type.Integer(),
    running: Type.Integer(),
    succeeded: Type.Integer(),
    partial: Type.Integer(),
    failed: Type.Integer(),
    cancelled: Type.Integer(),
  }),
  last_activity: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
});
const StatsSchema = Type.Object({
  since: Type.String({ format: 'date-time' }),
  sinks: Type.Object(Object.fromEntries(Object.keys(SINKS).map((name) => [name, SinkStatsSchema]))),
});

type Body = Record<string, unknown> &
  WorldParams & { entities?: EntityName[]; entity?: EntityName; limit?: number; offset?: number; partition?: string };

/** Validates what the schema cannot and cuts the request into per-entity slices. */
export async function plan(
  sink: SinkDefinition,
  body: Body,
  config: NonNullable<SinkConfig[keyof SinkConfig]>,
  budget: CostBudget = DEFAULT_COST_BUDGET,
): Promise<{ seed: number; slices: EntitySlice[]; options: Record<string, unknown> }> {
  if (body.entity !== undefined && body.entities !== undefined) throw badParameter('entities', 'use either entity or entities, not both');
  for (const name of ['limit', 'offset'] as const) {
    if (body[name] !== undefined && body.entity === undefined) throw badParameter(name, 'applies to one `entity` (with `entities`, each is sent whole)');
  }
  const chosen = body.entity !== undefined ? [body.entity] : body.entities ?? sink.defaultEntities;
  const entities = ENTITY_NAMES.filter((e) => chosen.includes(e));
  for (const [name, param] of Object.entries(ENTITY_PARAMS)) {
    if (body[name] !== undefined && !param.entities.some((e) => entities.includes(e))) {
      throw badParameter(name, `is a parameter of ${param.entities.join(', ')}, which this request does not send`);
    }
  }
  const options = Object.fromEntries(Object.keys(sink.options).flatMap((k) => (body[k] === undefined ? [] : [[k, body[k]]])));
  const problem = sink.optionsProblem?.(options, entities, config as never, { limit: body.limit });
  if (problem) throw badParameter(problem.parameter, problem.reason);
  const worker = body.partition === undefined ? undefined : parsePartition(body.partition);
  if (worker && 'problem' in worker) throw badParameter('partition', worker.problem);

  const base = worldSpecFrom(body);
  assertWithinBudget(precomputeCost(entities, base.sizes), budget, body, entities.length > 3 ? `the ${entities.length} entities of this job` : entities.join(', '));
  const limit = body.limit ?? sink.limitOf?.(options);
  const slices: EntitySlice[] = [];
  for (const entity of entities) {
    const definition = ENTITIES[entity];
    // The same world the entity's GET endpoint serves: its default locale, its parameters with their defaults.
    const params = Object.fromEntries(
      Object.entries(definition.params ?? {}).flatMap(([name, schema]) => {
        const v = body[name] ?? (schema as { default?: unknown }).default;
        return v === undefined ? [] : [[name, v as number | string | boolean]];
      }),
    );
    // An entity may read the window its own way (performance-events: end_date = the end of `days` days).
    const given = resolveRelativeDates({ ...body, ...params });
    const problemOf = definition.queryProblem?.(given);
    if (problemOf) throw badParameter(problemOf.parameter, problemOf.reason);
    const own = definition.resolveQuery?.(given);
    const spec = own ? { ...worldSpecFrom(own), seed: base.seed } : base;
    const world = World.of({ ...spec, locale: body.locale ?? definition.defaultLocale ?? base.locale, params });
    await whenPrepared(world, entity);
    const population = world.generator(entity).population;
    const first = Math.min(body.offset ?? 0, population);
    const last = limit === undefined ? population : Math.min(population, first + limit);
    // Worker k of n sends its contiguous part of each entity's records (src/generators/partition.ts).
    const { start, end } = worker ? partitionRange(first, last, worker) : { start: first, end: last };
    slices.push({ entity, world, start, end, records: () => recordsOf(world, entity, start, end, null) });
  }
  return { seed: base.seed, slices, options };
}

const sameSecret = (given: string, expected: string) => {
  // Compare digests so the comparison takes the same time whatever the lengths.
  const a = createHash('sha256').update(given).digest();
  const b = createHash('sha256').update(expected).digest();
  return timingSafeEqual(a, b);
};

/**
 * Requires `Authorization: Bearer <API_KEY>` on the POST and DELETE requests of the plugin
 * scope it is added to (the sink and job routes, the stream routes).
 */
export function requireApiKey(app: FastifyInstance, apiKey: string): void {
  app.addHook('onRequest', async (request, reply) => {
    if (request.method !== 'POST' && request.method !== 'DELETE') return;
    const header = request.headers.authorization ?? '';
    const match = /^Bearer\s+(.+)$/i.exec(header);
    if (!match || !sameSecret(match[1] as string, apiKey)) {
      reply.header('WWW-Authenticate', 'Bearer realm="ecomgen"');
      throw new ApiError(401, 'UNAUTHORIZED', header ? 'Authorization: the bearer token is not the API key' : 'Authorization: this server requires `Authorization: Bearer <API_KEY>` on POST and DELETE');
    }
  });
}

/**
 * `POST /api/v1/sinks/<sink>` (start a job), `/api/v1/jobs` (list, inspect, cancel) and
 * `/api/v1/stats`. With API_KEY set, every POST and DELETE of the service needs it as a bearer
 * token.
 */
export default async function sinkRoutes(app: FastifyInstance, options: SinkRoutesOptions): Promise<void> {
  const { config } = options;
  const jobs = new JobManager(app.log, options.maxRunningJobs, app.renderPool);
  const maxQueued = options.maxQueuedJobs ?? DEFAULT_MAX_QUEUED_JOBS;
  app.decorate('jobs', jobs);
  // preClose, not onClose: jobs are cancelled as shutdown begins, not after the last response.
  app.addHook('preClose', async () => jobs.close());
  app.addHook('onClose', retainPrecompute());
  app.addSchema(JobSchema);
  const jobRef = Type.Ref(JobSchema);
  const errorRef = Type.Ref(ErrorSchema);

  if (config.apiKey) requireApiKey(app, config.apiKey);
  // Declared whether or not API_KEY is set, so the committed OpenAPI document is one document.
  const security = [{ bearerAuth: [] }];

  const respondWithJob = async (job: Job, reply: FastifyReply, wait: boolean) => {
    reply.header('Location', `/api/v1/jobs/${job.id}`);
    if (!wait) return reply.status(202).send(job.toJSON());
    await job.finished;
    return reply.status(200).send(job.toJSON());
  };

  for (const sink of Object.values(SINKS) as AnySink[]) {
    app.post(
      `/api/v1/sinks/${sink.name}`,
      {
        schema: {
          tags: ['Sinks'],
          summary: sink.summary,
          description: `${sink.description}\n\nNeeds ${sink.requires} in the server's environment (409 otherwise). Answers 202 with the job and \`Location: /api/v1/jobs/{id}\`; with \`?wait=true\`, 200 with the ended job (check \`state\`).`,
          security,
          querystring: Type.Object(
            { wait: Type.Optional(Type.Boolean({ default: false, description: 'Answer when the job has ended, with its result' })) },
            { additionalProperties: false },
          ),
          body: bodySchema(sink),
          response: {
            200: { description: 'The ended job (with ?wait=true)', ...jobRef },
            202: { description: 'The job, started; follow Location for progress', ...jobRef },
            400: { description: 'A body field is invalid; the message names it', ...errorRef },
            401: { description: 'API_KEY is set and the bearer token is missing or wrong', ...errorRef },
            409: { description: 'The sink is not configured; the message names the variable', ...errorRef },
            422: { description: 'COST_BUDGET_EXCEEDED: the world is too large for this server (see docs/limits.md); the message names the parameter to lower', ...errorRef },
            429: { description: 'TOO_MANY_JOBS: MAX_QUEUED_JOBS jobs are already waiting for a slot; retry when one has started', ...errorRef },
          },
        },
      },
      async (request: FastifyRequest<{ Body: Body | undefined; Querystring: { wait?: boolean } }>, reply) => {
        const section = config[sink.configKey as keyof SinkConfig];
        if (!section) {
          throw new ApiError(409, 'SINK_NOT_CONFIGURED', `sink: ${sink.name} is not configured: set ${sink.requires} in the server's environment`);
        }
        // Relative dates (end_date=today) resolved once, for the world and for the job's record of
        // its request, which names them as it names a drawn seed: the job can be run again later.
        const body = resolveRelativeDates(request.body ?? {});
        const { seed, slices, options: sinkOptions } = await plan(sink, body, section, options.budget ?? DEFAULT_COST_BUDGET);
        // The queue is bounded: one client queueing thousands of jobs held every later job
        // (anyone's) behind them, and the server's memory grew with each. A job that finds a
        // free slot does not queue, so MAX_QUEUED_JOBS=0 refuses only jobs that would wait.
        if (!jobs.slotFree && jobs.queued >= maxQueued) {
          throw new ApiError(429, 'TOO_MANY_JOBS', `sink: ${maxQueued} jobs are already waiting for a slot (MAX_QUEUED_JOBS; ${jobs.maxRunning} run at once); retry when one has started, or cancel one (DELETE /api/v1/jobs/{id})`);
        }
        const job = jobs.start(sink, section, sinkOptions, seed, slices, { ...body, seed });
        return respondWithJob(job, reply, request.query.wait === true);
      },
    );
  }

  app.get(
    '/api/v1/sinks',
    {
      schema: {
        tags: ['Sinks'],
        summary: 'The sinks and whether this server is configured for them',
        description: 'Each sink with its endpoint, whether its destination is configured (and which variables it needs), its default entities and its body options.',
        querystring: NO_QUERY,
        response: {
          200: Type.Array(
            Type.Object({
              name: Type.String(),
              endpoint: Type.String(),
              configured: Type.Boolean(),
              requires: Type.String({ description: 'Environment variables that configure it' }),
              default_entities: Type.Array(Type.String()),
              options: Type.Array(Type.String(), { description: "The sink's own body fields" }),
            }),
          ),
        },
      },
    },
    async () =>
      (Object.values(SINKS) as AnySink[]).map((sink) => ({
        name: sink.name,
        endpoint: `/api/v1/sinks/${sink.name}`,
        configured: config[sink.configKey as keyof SinkConfig] !== undefined,
        requires: sink.requires,
        default_entities: [...sink.defaultEntities],
        options: Object.keys(sink.options),
      })),
  );

  const findJob = (id: string) => {
    const job = jobs.get(id);
    if (!job) throw new ApiError(404, 'NOT_FOUND', `id: no job ${id} (jobs live in memory; the last ${FINISHED_JOBS_KEPT} finished are kept)`);
    return job;
  };

  // Streams are jobs too: listed here (kind stream) and addressed by id, as at /api/v1/streams.
  app.addSchema(StreamSchema);
  const itemRef = Type.Union([jobRef, Type.Ref(StreamSchema)]);
  const streams = options.streams;
  app.get(
    '/api/v1/jobs',
    {
      schema: {
        tags: ['Sinks'],
        summary: 'Sink jobs and streams, newest first',
        description:
          'Queued and running jobs and the most recent finished ones, with live progress, and the streams of POST /api/v1/streams (`kind`: `sink` or `stream`). At most MAX_RUNNING_JOBS (default 4) sink jobs run at once; the others wait as `queued` and start in the order they were created. `GET /api/v1/jobs/events` pushes the changes of sink jobs.',
        querystring: Type.Object(
          {
            state: Type.Optional(OneOf(['queued', 'running', 'stopping', 'succeeded', 'partial', 'failed', 'cancelled'] as const, 'Only jobs in this state')),
            sink: Type.Optional(OneOf(Object.keys(SINKS) as SinkName[], 'Only jobs of this sink')),
            kind: Type.Optional(OneOf(['sink', 'stream'] as const, 'Only sink jobs, or only streams')),
          },
          { additionalProperties: false },
        ),
        response: { 200: Type.Array(itemRef) },
      },
    },
    async (request: FastifyRequest<{ Querystring: { state?: string; sink?: string; kind?: string } }>) => {
      const { state, sink, kind } = request.query;
      const all: { job: Job | StreamJob; at: number }[] = [
        ...(kind === 'stream' ? [] : jobs.list().map((job) => ({ job, at: Date.parse(job.createdAt) }))),
        ...(kind === 'sink' || !streams ? [] : streams.list().map((job) => ({ job, at: job.createdAt }))),
      ];
      return all
        .filter(({ job }) => (state === undefined || job.state === state) && (sink === undefined || job.sink === sink))
        .sort((a, b) => b.at - a.at)
        .map(({ job }) => job.toJSON());
    },
  );

  addRunnableRoutes<Job | StreamJob>(app, {
    base: '/api/v1/jobs',
    tags: ['Sinks'],
    noun: 'job',
    getSummary: 'One job (or stream): state, progress, errors, result',
    deleteSummary: 'Cancel a job (or stop a stream)',
    deleteDescription:
      'Stops sending at the next batch; what was delivered stays counted (a PostgreSQL entity in progress is rolled back). A queued job is cancelled before it sends anything. A stream id stops the stream as DELETE /api/v1/streams/{id}. Answers 200 with the stopped job, or 202 if it has not stopped within 30 s. Cancelling an ended job changes nothing.',
    item: itemRef,
    security,
    find: (id) => {
      const stream = jobs.get(id) === undefined ? streams?.get(id) : undefined;
      return stream ?? findJob(id);
    },
    cancel: (job, waitMs) => ('mode' in job ? (streams as StreamManager).cancel(job, waitMs) : jobs.cancel(job, waitMs)),
    cancelWaitMs: options.cancelWaitMs ?? 30_000,
  });

  // GET /api/v1/jobs/{id} answers a stream's id too; its event stream is for sink jobs only, so a
  // stream's id is told where its progress is rather than "no job".
  const findSinkJob = (id: string) => {
    if (jobs.get(id) === undefined && streams?.get(id) !== undefined) {
      throw new ApiError(404, 'NOT_FOUND', `id: ${id} is a stream, and streams have no event stream; read GET /api/v1/streams/${id} (with ?wait=true it answers when the stream has ended)`);
    }
    return findJob(id);
  };
  await app.register(jobEventRoutes, { jobs, findJob: findSinkJob, streams });

  app.get(
    '/api/v1/stats',
    {
      schema: {
        tags: ['Sinks'],
        summary: 'What each sink has sent',
        description: 'Per sink: records and bytes delivered, records failed, jobs by outcome, last activity; since the server started or the last reset.',
        querystring: NO_QUERY,
        response: { 200: StatsSchema },
      },
    },
    async () => jobs.statsJson(),
  );

  app.delete(
    '/api/v1/stats',
    {
      schema: {
        tags: ['Sinks'],
        summary: 'Reset the statistics',
        security,
        querystring: NO_QUERY,
        response: { 200: StatsSchema, 401: errorRef },
      },
    },
    async () => {
      jobs.resetStats();
      return jobs.statsJson();
    },
  );
}
