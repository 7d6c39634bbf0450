import type { TSchema } from '@sinclair/typebox';
import type { FastifyBaseLogger } from 'fastify';
import type { SinkConfig } from '../config.js';
import type { EntityName } from '../generators/registry.js';
import type { World } from '../generators/world.js';
import type { RenderPool } from '../render/pool.js';
import type { EntityProgress } from './progress.js';

export const SINK_NAMES = ['postgres', 'kafka', 'gcs', 'webhook', 'opensearch'] as const;
export type SinkName = (typeof SINK_NAMES)[number];

/**
 * Records start..end-1 of one entity, in the world its GET endpoint serves for the same
 * request (its own default locale and parameters included), so a sink receives exactly the
 * bytes a client would download.
 */
export interface EntitySlice {
  readonly entity: EntityName;
  readonly world: World;
  readonly start: number;
  readonly end: number;
  /** The records, in order, generated lazily (memory stays flat however many there are). */
  records(): Generator<object>;
}

/** Everything a sink needs for one job. */
export interface SinkRun<Config, Options> {
  readonly jobId: string;
  /** This sink's section of the server configuration (present: the route checks it). */
  readonly config: Config;
  /** The sink's own options from the request body, validated by `SinkDefinition.options`. */
  readonly options: Options;
  /** The world's seed (also in each slice's world). */
  readonly seed: number;
  /** What to deliver, entities in dependency order. */
  readonly slices: readonly EntitySlice[];
  /**
   * Aborted when the job is cancelled. Sinks check it between batches, stop sending, and
   * return (or throw): what was delivered so far stays counted.
   */
  readonly signal: AbortSignal;
  /** The live counters of one entity: create, count, finish (see EntityProgress). */
  progress(entity: EntityName): EntityProgress;
  /** Sink-level facts for the job result (e.g. the gs:// URIs written). */
  readonly result: Record<string, unknown>;
  readonly log: FastifyBaseLogger;
  /** The app's render threads, when it has them: a sink may have its batches written there. */
  readonly renderPool?: RenderPool | null;
}

/**
 * One sink: its request options, what it needs from the environment, and how it delivers.
 * `run` resolves when everything was attempted (failures counted in progress) and rejects
 * when the job as a whole failed (unreachable destination, bad credentials, ...).
 */
export interface SinkDefinition<K extends keyof SinkConfig = keyof SinkConfig, Options = Record<string, unknown>> {
  readonly name: SinkName;
  /** The config section this sink reads. */
  readonly configKey: K;
  /** The environment variable(s) to name when the sink is not configured. */
  readonly requires: string;
  readonly summary: string;
  /** Markdown for the OpenAPI operation: what is written where, options, result. */
  readonly description: string;
  /** The sink's own body properties (TypeBox, all optional; defaults applied by the route). */
  readonly options: Readonly<Record<string, TSchema>>;
  /** Entities when the body names none. */
  readonly defaultEntities: readonly EntityName[];
  /**
   * Checks the schema cannot express (an option against the chosen entities, the configured
   * maximum of a count, ...): the offending body field and why, or undefined. `slice` is the
   * body's own `limit`, for sinks that bound how many records one request may send.
   */
  readonly optionsProblem?: (
    options: Options,
    entities: readonly EntityName[],
    config: NonNullable<SinkConfig[K]>,
    slice: { readonly limit?: number },
  ) => { readonly parameter: string; readonly reason: string } | undefined;
  /**
   * Records to deliver when the body gives no `limit` (default: the whole population from the
   * offset). The webhook streams `count` records.
   */
  readonly limitOf?: (options: Options) => number | undefined;
  run(run: SinkRun<NonNullable<SinkConfig[K]>, Options>): Promise<void>;
}
