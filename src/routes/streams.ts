/**
 * `POST /api/v1/streams` (start), `GET /api/v1/streams` (list), `GET|DELETE
 * /api/v1/streams/{id}` (inspect, stop): the change feed played live or as a replay into a
 * sink, at a rate. Destinations come from the server configuration, as for the sinks.
 */
import { Type, type TSchema } from '@sinclair/typebox';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { SinkConfig } from '../config.js';
import { ApiError, badParameter } from '../plugins/errors.js';
import { MAX_LIVE_EVENTS_PER_SECOND } from '../events/live.js';
import { OneOf } from '../schemas/common.js';
import { ErrorSchema, NO_QUERY, WorldQueryFields } from '../schemas/query.js';
import { AvroEncoder } from '../sinks/avro-stream.js';
import { KafkaStreamWriter, jsonEncoder } from '../sinks/kafka-stream.js';
import { postgresSink } from '../sinks/postgres.js';
import { PostgresStreamWriter } from '../sinks/postgres-stream.js';
import { DEFAULT_STREAM_INDEX_PREFIX, OpenSearchStreamWriter } from '../sinks/opensearch-stream.js';
import { INDEX_NAME_PATTERN } from '../formats/bulk.js';
import { InventoryCanonicalWriter, InventoryStore } from '../sinks/inventory-stream.js';
import { WebhookStreamWriter } from '../sinks/webhook-stream.js';
import { DEFAULT_BATCH_SIZE, type EngineOptions } from '../streams/engine.js';
import { DEFAULT_MAX_STREAMS, FINISHED_STREAMS_KEPT, StreamManager, type StreamJob } from '../streams/jobs.js';
import { DEFAULT_TIME_ZONE } from '../streams/rate.js';
import { StreamSchema } from '../streams/schema.js';
import { addRunnableRoutes } from './job-routes.js';
import { FeedUnavailableError, changeFeed, type FeedProvider } from '../streams/source.js';
import type { StreamWriter } from '../streams/writer.js';
import { requireApiKey } from './sinks.js';
import { resolveRelativeDates, worldSpecFrom, type WorldParams } from './world-query.js';
import { assertWithinBudget, DEFAULT_COST_BUDGET, type CostBudget } from './cost.js';
import { feedCost } from '../generators/cost.js';
import { MAX_POPULATION, World } from '../generators/world.js';
import { unknownTypesReason } from '../events/catalogue.js';

declare module 'fastify' {
  interface FastifyInstance {
    streams: StreamManager;
  }
}

export interface StreamRoutesOptions {
  config: SinkConfig;
  /** The change feed (default: the service's own). */
  feed?: FeedProvider;
  /** How long `DELETE /streams/{id}` waits for the stream to stop before answering 202 (default 30 s). */
  cancelWaitMs?: number;
  /** The streams, shared with the jobs routes (GET /api/v1/jobs lists them); default: this plugin's own. */
  streams?: StreamManager;
  /** What preparing a replay's world may cost (docs/limits.md); default 30 s and 256 MB. */
  budget?: CostBudget;
  /** Streams running at once; a new one beyond is a 429 (MAX_STREAMS, default {@link DEFAULT_MAX_STREAMS}). */
  maxStreams?: number;
}

export const STREAM_SINKS = ['kafka', 'webhook', 'postgres', 'opensearch'] as const;
type StreamSink = (typeof STREAM_SINKS)[number];

const DEFAULT_EVENTS_PER_SECOND = 10;
const MAX_EVENTS_PER_SECOND = 100_000;
const Ratio = (what: string) => Type.Number({ minimum: 0, maximum: 1, description: `Share of events ${what} (chaos, labelled in the \`defect\` header and field; default 0).` });
const Weight = (what: string) => Type.Number({ minimum: 0, maximum: 1000, description: `Relative weight of ${what} in the live mix.` });

/** A sink option's schema for a body shared by every sink: its default would apply to all of them. */
function withoutDefault(schema: TSchema): TSchema {
  const { default: _default, ...rest } = schema as TSchema & { default?: unknown };
  return { ...rest, description: `postgres: ${String(rest.description ?? '')}` } as TSchema;
}

/** The world's fields a live world does not have (sizes, date window, knobs): refused on a live stream. */
const LIVE_IGNORES = (Object.keys(WorldQueryFields) as (keyof typeof WorldQueryFields)[]).filter((name) => name !== 'seed' && name !== 'locale');

/** Body fields and the sinks they apply to (undefined: every sink). `ecomgen stream` makes a flag of each. */
const FIELDS: Record<string, { schema: TSchema; sinks?: readonly StreamSink[]; modes?: readonly ('live' | 'replay')[] }> = {
  sink: { schema: OneOf(STREAM_SINKS, 'Where the events go (its destination from the server configuration): kafka, webhook, postgres (apply mode: tables kept current) or opensearch (daily indices).') },
  mode: { schema: OneOf(['live', 'replay'] as const, 'live (default): an open-ended world, event times are now, runs until stopped, `duration_s` or `max_events`. replay: a bounded world\'s feed from its start, at `speed`.') },
  ...Object.fromEntries(Object.entries(WorldQueryFields).map(([k, schema]) => [k, { schema }])),
  events_per_second: {
    schema: Type.Number({ exclusiveMinimum: 0, maximum: MAX_EVENTS_PER_SECOND, description: `live: the base rate (default ${DEFAULT_EVENTS_PER_SECOND}, at most ${MAX_LIVE_EVENTS_PER_SECOND.toLocaleString('en-US')}), times the daily curve. replay: an upper bound on the rate (default none).`, examples: [100] }),
  },
  daily_curve: { schema: Type.Boolean({ description: "live: follow the day, 0.4x the base rate at 03:00 to 1.4x at 15:00 in the shop's time zone (the locale's: America/New_York for en_US, Europe/London for en_GB). Default true." }), modes: ['live'] },
  burst: { schema: Type.Integer({ minimum: 1, maximum: 1_000_000, description: 'Token bucket capacity: events that may go at once above the rate after a pause (default: one second at the base rate).' }) },
  weights: {
    schema: Type.Object(
      { orders: Type.Optional(Weight('order, payment and shipment events')), interactions: Type.Optional(Weight('customer interactions')), inventory: Type.Optional(Weight('inventory changes')) },
      { additionalProperties: false, description: 'live: the event mix (default as the reference: orders 0.6, interactions 0.3, inventory 0.1).', examples: [{ orders: 0.6, interactions: 0.3, inventory: 0.1 }] },
    ),
    modes: ['live'],
  },
  types: { schema: Type.Array(Type.String({ minLength: 1, maxLength: 100 }), { minItems: 1, maxItems: 100, uniqueItems: true, description: 'Only these event types (default: all).', examples: [['order.placed', 'payment.captured']] }) },
  speed: {
    schema: Type.Union([Type.Number({ exclusiveMinimum: 0, maximum: 1_000_000 }), Type.Literal('max')], { description: "replay: world seconds per real second (e.g. 3600: an hour a second), or 'max' (default): as fast as the sink takes events." }),
    modes: ['replay'],
  },
  from_sequence: { schema: Type.Integer({ minimum: 0, maximum: MAX_POPULATION, description: 'replay: the feed position to start from (0-1,000,000,000; default 0).' }), modes: ['replay'] },
  duration_s: { schema: Type.Number({ exclusiveMinimum: 0, maximum: 31 * 86_400, description: 'Stop after this many seconds.' }) },
  max_events: { schema: Type.Integer({ minimum: 1, maximum: 1_000_000_000, description: 'Stop after this many events.' }) },
  late_ratio: { schema: Ratio('sent late (out of time order)') },
  duplicate_ratio: { schema: Ratio('sent twice') },
  bad_ratio: { schema: Ratio('malformed (dead-letter tests)') },
  max_lateness_ms: { schema: Type.Integer({ minimum: 0, maximum: 86_400_000, description: 'How late a late event may be (replay).' }), modes: ['replay'] },
  batch_size: { schema: Type.Integer({ minimum: 1, maximum: 10_000, description: `Largest batch handed to the sink (default ${DEFAULT_BATCH_SIZE}).` }) },
  topic_prefix: { schema: Type.String({ minLength: 1, maxLength: 200, pattern: '^[a-zA-Z0-9._-]+$', description: 'kafka: prepended to every topic name, e.g. `dev.` gives `dev.orders.v1`.' }), sinks: ['kafka'] },
  partitions: { schema: Type.Integer({ minimum: 1, maximum: 1000, description: 'kafka: partitions of topics the stream creates (default 3).' }), sinks: ['kafka'] },
  replication_factor: { schema: Type.Integer({ minimum: 1, maximum: 32, description: 'kafka: replicas of topics the stream creates.' }), sinks: ['kafka'] },
  value_format: { schema: OneOf(['json', 'avro'] as const, 'kafka: message values as JSON (default) or Avro in the Confluent wire format (needs SCHEMA_REGISTRY_URL).'), sinks: ['kafka'] },
  schema: { schema: withoutDefault(postgresSink.options.schema as TSchema), sinks: ['postgres', 'kafka'] },
  table_prefix: { schema: withoutDefault(postgresSink.options.table_prefix as TSchema), sinks: ['postgres'] },
  inventory_canonical: {
    schema: OneOf(['kafka', 'postgres'] as const, "kafka: where inventory's truth lives, as the reference's CANON_INVENTORY. postgres: each inventory event is applied read-modify-write to warehouse_inventory (DATABASE_URL) and published once committed. kafka (default): event-sourced, published only (see mirror_to_db)."),
    sinks: ['kafka'],
  },
  mirror_to_db: { schema: Type.Boolean({ description: 'kafka with inventory_canonical=kafka: also apply inventory events to warehouse_inventory after publishing them (DATABASE_URL).' }), sinks: ['kafka'] },
  index_prefix: {
    schema: Type.String({ pattern: INDEX_NAME_PATTERN, maxLength: 100, description: `opensearch: daily indices are \`<index_prefix>-<entity>-YYYY.MM.DD\` by event time (default ${DEFAULT_STREAM_INDEX_PREFIX}).` }),
    sinks: ['opensearch'],
  },
  delay_ms: { schema: Type.Integer({ minimum: 0, maximum: 60_000, description: 'webhook: a pause between two requests, on top of the rate.' }), sinks: ['webhook'] },
};

export const BodySchema = Type.Object(
  Object.fromEntries(Object.entries(FIELDS).map(([k, f]) => [k, k === 'sink' ? f.schema : Type.Optional(f.schema)])),
  {
    additionalProperties: false,
    examples: [{ sink: 'kafka', mode: 'live', seed: 42, events_per_second: 100, weights: { orders: 0.6, interactions: 0.3, inventory: 0.1 }, late_ratio: 0.05, bad_ratio: 0.001, duration_s: 600 }],
  },
);

type Body = WorldParams & {
  sink: StreamSink;
  mode?: 'live' | 'replay';
  events_per_second?: number;
  daily_curve?: boolean;
  burst?: number;
  weights?: { orders?: number; interactions?: number; inventory?: number };
  types?: string[];
  speed?: number | 'max';
  from_sequence?: number;
  duration_s?: number;
  max_events?: number;
  late_ratio?: number;
  duplicate_ratio?: number;
  bad_ratio?: number;
  max_lateness_ms?: number;
  batch_size?: number;
  topic_prefix?: string;
  partitions?: number;
  replication_factor?: number;
  value_format?: 'json' | 'avro';
  delay_ms?: number;
  schema?: string;
  table_prefix?: string;
  inventory_canonical?: 'kafka' | 'postgres';
  index_prefix?: string;
  mirror_to_db?: boolean;
};

const REQUIRES: Record<StreamSink, string> = { kafka: 'KAFKA_BROKERS', webhook: 'STREAM_ENDPOINT and STREAM_SECRET', postgres: 'DATABASE_URL', opensearch: 'OPENSEARCH_URL' };



/** The feed's answer when it is not available: a 503 with its code (the error handler hides 5xx messages). */
function unavailable(reply: FastifyReply, error: FeedUnavailableError) {
  return reply.status(503).send({ statusCode: 503, error: 'Service Unavailable', message: error.message, code: error.code });
}

export default async function streamRoutes(app: FastifyInstance, options: StreamRoutesOptions): Promise<void> {
  const { config } = options;
  const feed = options.feed ?? changeFeed;
  const streams = options.streams ?? new StreamManager(app.log);
  const maxStreams = options.maxStreams ?? DEFAULT_MAX_STREAMS;
  /** Refuses a new stream when MAX_STREAMS are running (a 429 before anything is opened). */
  const assertRoom = () => {
    if (streams.running >= maxStreams) {
      throw new ApiError(429, 'TOO_MANY_STREAMS', `sink: ${maxStreams} streams are already running (MAX_STREAMS); stop one (DELETE /api/v1/streams/{id}) or wait for one to end`);
    }
  };
  app.decorate('streams', streams);
  app.addHook('onClose', async () => streams.close());
  app.addSchema(StreamSchema);
  const streamRef = Type.Ref(StreamSchema);
  const errorRef = Type.Ref(ErrorSchema);
  const security = [{ bearerAuth: [] }];

  if (config.apiKey) requireApiKey(app, config.apiKey);

  /** Checks what the schema cannot; returns the engine options. */
  function plan(body: Body, knownTypes: readonly string[]): EngineOptions {
    const mode = body.mode ?? 'live';
    for (const [name, field] of Object.entries(FIELDS)) {
      if ((body as unknown as Record<string, unknown>)[name] === undefined) continue;
      if (field.sinks && !field.sinks.includes(body.sink)) throw badParameter(name, `applies to sink ${field.sinks.join(', ')}, not ${body.sink}`);
      if (field.modes && !field.modes.includes(mode)) throw badParameter(name, `applies to mode=${field.modes.join(', ')}, not ${mode}`);
    }
    if (mode === 'live') {
      if ((body.events_per_second ?? 0) > MAX_LIVE_EVENTS_PER_SECOND) {
        throw badParameter('events_per_second', `a live stream's base rate is at most ${MAX_LIVE_EVENTS_PER_SECOND.toLocaleString('en-US')} events/s (${body.events_per_second} asked; up to ${MAX_EVENTS_PER_SECOND.toLocaleString('en-US')} bounds a replay)`);
      }
      // A live world is its seed, locale, rate, weights and chaos (GET /api/v1/events/live takes
      // nothing else): a size, date window or knob would be silently ignored, so it is refused
      // unless it is the default (the command line and the panel send those).
      for (const name of LIVE_IGNORES) {
        const value = (body as unknown as Record<string, unknown>)[name];
        const fallback = (WorldQueryFields[name] as TSchema & { default?: unknown }).default;
        if (value !== undefined && value !== fallback) {
          throw badParameter(name, 'applies to mode=replay, not live: a live world is its seed, locale, rate, weights and chaos (as GET /api/v1/events/live)');
        }
      }
    }
    const reason = unknownTypesReason(body.types ?? [], knownTypes);
    if (reason !== undefined) throw badParameter('types', reason);
    if (body.weights !== undefined && Object.values(body.weights).every((w) => w === 0)) throw badParameter('weights', 'at least one weight must be above 0');
    if ((body.late_ratio ?? 0) + (body.duplicate_ratio ?? 0) + (body.bad_ratio ?? 0) > 1) throw badParameter('late_ratio', 'late_ratio + duplicate_ratio + bad_ratio may not exceed 1');
    if (body.value_format === 'avro' && !config.schemaRegistry) throw new ApiError(409, 'REGISTRY_NOT_CONFIGURED', 'value_format: avro needs a Schema Registry: set SCHEMA_REGISTRY_URL in the server\'s environment');
    if (body.mirror_to_db && body.inventory_canonical === 'postgres') throw badParameter('mirror_to_db', 'applies to inventory_canonical=kafka (with postgres the database is written first anyway)');
    if ((body.inventory_canonical === 'postgres' || body.mirror_to_db) && !config.postgres) {
      throw new ApiError(409, 'SINK_NOT_CONFIGURED', `${body.mirror_to_db ? 'mirror_to_db' : 'inventory_canonical'}: keeping inventory in PostgreSQL needs DATABASE_URL in the server's environment`);
    }
    const locale = body.locale ?? 'en_US';
    return {
      mode,
      rate: { eventsPerSecond: body.events_per_second ?? DEFAULT_EVENTS_PER_SECOND, dailyCurve: body.daily_curve ?? true, timeZone: DEFAULT_TIME_ZONE[locale] },
      ...(mode === 'replay' && body.speed !== undefined && body.speed !== 'max' ? { speed: body.speed } : {}),
      ...(mode === 'replay' && body.events_per_second !== undefined ? { maxRate: body.events_per_second } : {}),
      ...(body.burst !== undefined ? { burst: body.burst } : {}),
      ...(body.types !== undefined ? { types: new Set(body.types) } : {}),
      ...(body.max_events !== undefined ? { maxEvents: body.max_events } : {}),
      ...(body.duration_s !== undefined ? { durationMs: body.duration_s * 1000 } : {}),
      ...(body.from_sequence !== undefined ? { fromSequence: body.from_sequence } : {}),
      ...(body.batch_size !== undefined ? { batchSize: body.batch_size } : {}),
    };
  }

  app.post(
    '/api/v1/streams',
    {
      schema: {
        tags: ['Streams'],
        summary: 'Start a stream of the change feed into a sink',
        description: [
          "Plays the world's change feed (the events of `GET /api/v1/events`) into one sink, live or as a replay, and answers 202 at once with the stream; follow `Location` for live progress (events per type, current rate, lag, last event time) and `DELETE` it to stop. Several streams run at once.",
          '',
          '- **live** (default): an open-ended world; event times are now. Runs until stopped, `duration_s` or `max_events`, at `events_per_second` times the daily curve (0.4x at 03:00 to 1.4x at 15:00 in the shop\'s time zone), with the event mix `weights`, through a token bucket of `burst`. A live world is its `seed` and `locale` (the parameters of `GET /api/v1/events/live`): a size, date window or knob other than the default is refused.',
          "- **replay**: a bounded world's feed from its start (or `from_sequence`), at `speed` world seconds per real second or as fast as the sink takes it; `events_per_second` caps the rate.",
          '',
          'When the sink cannot keep up the stream does not slow down silently: `lag_seconds` says how far behind it is. A destination outage is retried with backoff (the batch is sent again, `retries` counts it); events still undelivered are counted in `failed`. Chaos (`late_ratio`, `duplicate_ratio`, `bad_ratio`) comes labelled from the feed: a `defect` header (Kafka) or `X-Ecomgen-Defect` (webhook).',
          '',
          '**kafka**: the reference topics `orders.v1`, `payments.v1`, `shipments.v1`, `inventory-changes.v1`, `customer-interactions.v1` by the event type\'s first word, `<word>-events.v1` for other types; keyed by the order id when the event has one (an order\'s events share a partition), else the row key; headers `event-id`, `event-type`, `entity`, `op`, `sequence`, `seed`, `schema-version`, `content-type`, `defect`. **webhook**: one signed POST per event (`X-Signature` HMAC-SHA512, `Idempotency-Key: <event_id>`), retried as the webhook sink retries, no count cap.',
          '',
          'See docs/streams.md.',
        ].join('\n'),
        security,
        // No query parameters: `?wait=true` (as on a sink job) was ignored and the stream answered 202 at once.
        querystring: NO_QUERY,
        body: BodySchema,
        response: {
          202: { description: 'The stream, started; follow Location for progress', ...streamRef },
          400: { description: 'A body field is invalid; the message names it', ...errorRef },
          401: { description: 'API_KEY is set and the bearer token is missing or wrong', ...errorRef },
          409: { description: 'The sink (or the Schema Registry for Avro) is not configured; the message names the variable', ...errorRef },
          422: { description: "COST_BUDGET_EXCEEDED (replay): preparing this world's feed would cost more than this server allows (see docs/limits.md); the message names the parameter to lower", ...errorRef },
          429: { description: 'TOO_MANY_STREAMS: MAX_STREAMS streams are already running; stop one (DELETE /api/v1/streams/{id}) or wait for one to end', ...errorRef },
          503: { description: 'The change feed is not available in this build (code FEED_UNAVAILABLE)', ...errorRef },
        },
      },
    },
    async (request: FastifyRequest<{ Body: Body }>, reply) => {
      // Relative dates (end_date: today) resolved once, for the world and for the stream's record of
      // its request, which names them as it names a drawn seed.
      const body = resolveRelativeDates(request.body);
      let knownTypes: readonly string[];
      try {
        knownTypes = feed.eventTypes();
      } catch (error) {
        if (error instanceof FeedUnavailableError) return unavailable(reply, error);
        throw error;
      }
      const engine = plan(body, knownTypes);
      const world = worldSpecFrom(body);
      const section = config[body.sink];
      if (!section) throw new ApiError(409, 'SINK_NOT_CONFIGURED', `sink: ${body.sink} is not configured: set ${REQUIRES[body.sink]} in the server's environment`);
      // Before a replay's preparation (seconds of work for a large world), and again when it starts.
      assertRoom();
      // A replay prepares its bounded world's feed first: refused at creation when that is over budget.
      if (engine.mode === 'replay') {
        const chaos = { late_ratio: body.late_ratio, duplicate_ratio: body.duplicate_ratio, bad_ratio: body.bad_ratio, max_lateness_ms: body.max_lateness_ms };
        // The world first (naming its size), then what the chaos adds (naming the ratio).
        const budget = options.budget ?? DEFAULT_COST_BUDGET;
        assertWithinBudget(feedCost(World.of(world)), budget, body as unknown as Record<string, unknown>, "the replay's change feed");
        assertWithinBudget(feedCost(World.of(world), chaos), budget, body as unknown as Record<string, unknown>, "the replay's change feed");
      }
      const ratios = {
        ...(body.late_ratio !== undefined ? { late_ratio: body.late_ratio } : {}),
        ...(body.duplicate_ratio !== undefined ? { duplicate_ratio: body.duplicate_ratio } : {}),
        ...(body.bad_ratio !== undefined ? { bad_ratio: body.bad_ratio } : {}),
      };
      let source;
      try {
        const feedRequest = {
          world,
          feed: { ...ratios, ...(body.types ? { types: body.types } : {}), ...(body.max_lateness_ms !== undefined ? { max_lateness_ms: body.max_lateness_ms } : {}) },
          live: { seed: world.seed, locale: world.locale, events_per_second: engine.rate.eventsPerSecond, daily_curve: engine.rate.dailyCurve, ...(body.weights ? { weights: body.weights } : {}), ...ratios },
          ...(body.from_sequence !== undefined ? { fromSequence: body.from_sequence } : {}),
        };
        // A replay's world schedules are built in slices before the stream starts, off the hot path.
        if ((body.mode ?? 'live') === 'replay' && feed.prepare) await feed.prepare(feedRequest);
        // Requests prepared side by side may all have passed the first check; from here to the
        // start nothing waits, so this one holds.
        assertRoom();
        source = feed.open(feedRequest);
      } catch (error) {
        if (error instanceof FeedUnavailableError) return unavailable(reply, error);
        throw error;
      }
      const types = body.types ?? knownTypes;
      const log = request.log.child({ stream: body.sink });
      const writer: StreamWriter =
        body.sink === 'opensearch'
          ? new OpenSearchStreamWriter(config.opensearch as NonNullable<SinkConfig['opensearch']>, body.index_prefix)
          : body.sink === 'postgres'
          ? new PostgresStreamWriter(config.postgres as NonNullable<SinkConfig['postgres']>, body, log)
          : body.sink === 'kafka'
          ? new KafkaStreamWriter(
              config.kafka as NonNullable<SinkConfig['kafka']>,
              body,
              types,
              world.seed,
              body.value_format === 'avro' && config.schemaRegistry ? new AvroEncoder(config.schemaRegistry) : jsonEncoder,
              log,
            )
          : new WebhookStreamWriter(config.webhook as NonNullable<SinkConfig['webhook']>, world.seed, body.delay_ms ?? 0);
      const inventoryInDb = body.sink === 'kafka' && config.postgres && (body.inventory_canonical === 'postgres' || body.mirror_to_db === true);
      const stream = inventoryInDb
        ? new InventoryCanonicalWriter(writer, new InventoryStore(config.postgres as NonNullable<SinkConfig['postgres']>, body.schema ?? 'public', log), body.inventory_canonical ?? 'kafka')
        : writer;
      const job = streams.start(body.sink, stream, source, engine, world.seed, { ...body, mode: engine.mode, seed: world.seed });
      reply.header('Location', `/api/v1/streams/${job.id}`);
      return reply.status(202).send(job.toJSON());
    },
  );

  app.get(
    '/api/v1/streams',
    {
      schema: {
        tags: ['Streams'],
        summary: 'Streams, newest first',
        description: `Running streams and the last ${FINISHED_STREAMS_KEPT} ended ones, with live progress.`,
        querystring: Type.Object(
          {
            state: Type.Optional(OneOf(['running', 'stopping', 'succeeded', 'partial', 'failed', 'cancelled'] as const, 'Only streams in this state')),
            sink: Type.Optional(OneOf(STREAM_SINKS, 'Only streams into this sink')),
          },
          { additionalProperties: false },
        ),
        response: { 200: Type.Array(streamRef) },
      },
    },
    async (request: FastifyRequest<{ Querystring: { state?: string; sink?: string } }>) => {
      const { state, sink } = request.query;
      return streams
        .list()
        .filter((s) => (state === undefined || s.state === state) && (sink === undefined || s.sink === sink))
        .map((s) => s.toJSON());
    },
  );

  app.get(
    '/api/v1/streams/stats',
    {
      schema: {
        tags: ['Streams'],
        summary: 'What streams have sent, per sink',
        description: 'Since the server started: streams started and running, events delivered and failed by ended streams, per sink (running streams show their own counts).',
        querystring: NO_QUERY,
        response: {
          200: Type.Record(Type.String(), Type.Object({ streams: Type.Integer(), running: Type.Integer(), delivered: Type.Integer(), failed: Type.Integer() })),
        },
      },
    },
    async () => streams.statsJson(),
  );

  addRunnableRoutes(app, {
    base: '/api/v1/streams',
    tags: ['Streams'],
    noun: 'stream',
    getSummary: 'One stream: state, rate, lag, events per type, errors',
    deleteSummary: 'Stop a stream',
    deleteDescription: 'Stops gracefully: the batch in flight is finished and counted, nothing more is sent. Answers 200 with the stopped stream and its exact counts, or 202 if it has not stopped within 30 s. Stopping an ended stream changes nothing.',
    item: streamRef,
    security,
    find: (id: string): StreamJob => {
      const job = streams.get(id);
      if (!job) throw new ApiError(404, 'NOT_FOUND', `id: no stream ${id} (streams live in memory; the last ${FINISHED_STREAMS_KEPT} ended are kept)`);
      return job;
    },
    cancel: (job, waitMs) => streams.cancel(job, waitMs),
    cancelWaitMs: options.cancelWaitMs ?? 30_000,
  });
}
