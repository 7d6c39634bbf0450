import { setTimeout as sleep } from 'node:timers/promises';
import type { Command } from 'commander';
import type { FastifyBaseLogger } from 'fastify';
import { ConfigError, loadConfig, type SinkConfig } from '../../config.js';
import { ENTITY_NAMES, isEntityName } from '../../generators/registry.js';
import { bodySchema, plan } from '../../routes/sinks.js';
import { SINKS, type AnySink } from '../../sinks/index.js';
import { JobManager, type Job } from '../../sinks/jobs.js';
import type { EntitySlice } from '../../sinks/types.js';
import { retainPrecompute } from '../../precompute/prepare.js';
import { budgetFromEnv } from '../budget.js';
import type { Output } from '../output.js';
import { loadPartitionedPostgres } from '../postgres-partitions.js';
import { progressReporter, type Progress, type Task } from '../progress.js';
import { UsageError, addSchemaOption, validateAgainst } from '../validate.js';
import { addWorldOptions, worldParams, type WorldFlags } from '../world-options.js';

/** A load that ran and failed (destination unreachable, records refused): exit code 1. */
export class LoadFailed extends Error {}

/** Jobs log nothing on the command line: progress and the result say what happened. */
const silent = {
  level: 'silent',
  fatal: () => undefined,
  error: () => undefined,
  warn: () => undefined,
  info: () => undefined,
  debug: () => undefined,
  trace: () => undefined,
  silent: () => undefined,
  child: () => silent,
} as unknown as FastifyBaseLogger;

/** Runs one job to its end, showing each entity's progress; returns the ended job. */
export async function runJob(sink: AnySink, section: unknown, options: Record<string, unknown>, seed: number, slices: readonly EntitySlice[], progress: Progress): Promise<Job> {
  const jobs = new JobManager(silent);
  const job = jobs.start(sink, section as never, options, seed, slices, {});
  const tasks = new Map<string, Task>();
  const finished = new Set<string>();
  const show = () => {
    for (const entity of job.entities.values()) {
      if (entity.state === 'pending' || finished.has(entity.entity)) continue;
      let task = tasks.get(entity.entity);
      if (!task) tasks.set(entity.entity, (task = progress.task(entity.entity, entity.planned)));
      if (entity.state === 'running') {
        // PostgreSQL counts on commit; until then its `staged` detail says how far COPY got.
        const staged = typeof entity.details.staged === 'number' ? entity.details.staged : 0;
        task.update(Math.max(entity.records, staged), entity.bytes);
      } else {
        finished.add(entity.entity);
        const note = [entity.destination, entity.state !== 'done' ? entity.state : undefined, entity.error].filter(Boolean).join(', ');
        task.finish(entity.records, entity.bytes, note);
      }
    }
  };
  let ended = false;
  void job.finished.then(() => (ended = true));
  while (!ended) {
    show();
    await Promise.race([job.finished, sleep(200)]);
  }
  show();
  return job;
}

/** The exit of a load: 0 when everything was delivered, otherwise the job's own messages. */
export function assertSucceeded(job: Job): void {
  if (job.state === 'succeeded') return;
  const errors = job.errors.length > 0 ? job.errors : ['no records were delivered'];
  throw new LoadFailed(`${job.sink} load ${job.state}: ${errors.join('; ')}${job.errorCount > job.errors.length ? ` (and ${job.errorCount - job.errors.length} more)` : ''}`);
}

type SinkFlags = WorldFlags & Record<string, unknown> & { quiet?: boolean; waitTimeout?: string };

/** commander's name of a sink option's flag: `table_prefix` -> `tablePrefix`. */
const attributeOf = (name: string) => name.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase());

async function load(output: Output, sink: AnySink, entityArgs: string[], flags: SinkFlags): Promise<void> {
  const unknown = entityArgs.filter((e) => !isEntityName(e));
  if (unknown.length > 0) throw new UsageError(`unknown entit${unknown.length === 1 ? 'y' : 'ies'} ${unknown.map((e) => `'${e}'`).join(', ')}; known: ${ENTITY_NAMES.join(', ')}`);

  const { partition, partitions, ...world } = worldParams(flags) as Record<string, unknown> & { partition?: number; partitions?: number };
  const body: Record<string, unknown> = { ...world };
  if (entityArgs.length > 0) body.entities = [...new Set(entityArgs)];
  if (partition !== undefined) body.partition = `${partition}/${partitions}`;
  for (const name of Object.keys(sink.options)) {
    const value = flags[attributeOf(name)];
    if (value !== undefined) body[name] = value;
  }
  validateAgainst(bodySchema(sink), body);
  let config: SinkConfig;
  try {
    config = loadConfig(process.env);
  } catch (error) {
    if (error instanceof ConfigError) throw new LoadFailed(`invalid configuration: ${error.message}`);
    throw error;
  }
  const section = config[sink.configKey as keyof SinkConfig];
  if (!section) throw new LoadFailed(`${sink.name} sink is not configured: set ${sink.requires} in the environment`);
  // Planning may build large worlds' indexes on the precompute thread: stopped when the load ends,
  // so the command also ends when it runs inside another process (tests) rather than the bin.
  const release = retainPrecompute();
  try {
    await loadPlanned(output, sink, body, section, flags, partition, partitions);
  } finally {
    await release();
  }
}

async function loadPlanned(output: Output, sink: AnySink, body: Record<string, unknown>, section: unknown, flags: SinkFlags, partition: number | undefined, partitions: number | undefined): Promise<void> {
  const { seed, slices, options } = await plan(sink, body, section as never, budgetFromEnv());
  output.stderr.write(`${sink.name}: seed ${seed}${partition !== undefined ? `, partition ${partition}/${partitions}` : ''}, ${slices.length} entit${slices.length === 1 ? 'y' : 'ies'}\n`);
  const progress = progressReporter(output.stderr, flags.quiet === true);
  try {
    if (sink.name === 'postgres' && partitions !== undefined && partitions > 1 && options.foreign_keys === true) {
      const waitMs = Number(flags.waitTimeout ?? 3600) * 1000;
      await loadPartitionedPostgres({ sink, section: section as never, options, seed, slices, progress, partition: partition as number, partitions, waitMs });
    } else {
      assertSucceeded(await runJob(sink, section, options, seed, slices, progress));
    }
  } finally {
    progress.stop();
  }
}

export function registerLoad(program: Command, output: Output): void {
  const load_ = program
    .command('load')
    .summary('push a world into postgres, kafka, gcs, webhook or opensearch')
    .description(
      'Pushes records of a world into a sink, exactly as POST /api/v1/sinks/<sink> does: the same options, validation and messages. Destinations come from the environment (DATABASE_URL, KAFKA_BROKERS, GCS_BUCKET, STREAM_ENDPOINT/STREAM_SECRET, OPENSEARCH_URL; see docs/cli.md). Exit code 0 when everything was delivered, 1 when the load failed, 2 for a bad command line.',
    );
  for (const sink of Object.values(SINKS) as AnySink[]) {
    const command = load_
      .command(sink.name)
      .summary(sink.summary)
      .description(`${sink.summary}. Needs ${sink.requires} in the environment.`)
      .argument('[entities...]', `entities to send, each whole, in dependency order (default: ${sink.defaultEntities.length === 1 ? sink.defaultEntities[0] : 'every entity but performance-events'})`);
    addWorldOptions(command);
    for (const [name, schema] of Object.entries(sink.options)) addSchemaOption(command, name, schema);
    command.option('-q, --quiet', 'no progress output');
    if (sink.name === 'postgres') {
      command
        .option('--wait-timeout <seconds>', 'with --partition and --foreign-keys: how long to wait for other workers to load the tables this one references (default 3600)')
        .addHelpText('after', '\nExample (4 workers, e.g. an Indexed Job):\n  DATABASE_URL=postgres://... ecomgen load postgres --seed 42 --scale 5 --foreign-keys --partition $JOB_COMPLETION_INDEX/4');
    }
    command.action((entities: string[], flags: SinkFlags) => load(output, sink, entities, flags));
  }
}
