import { createWriteStream } from 'node:fs';
import { mkdir, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { Transform, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGzip } from 'node:zlib';
import { Option, type Command } from 'commander';
import { buildApp } from '../../app.js';
import { FORMATS, FORMAT_NAMES, formatStream } from '../../formats/index.js';
import { PARQUET_EXTENSION, parquetStream } from '../../formats/parquet.js';
import { partSuffix, partitionRange } from '../../generators/partition.js';
import { ENTITIES, WORLD_ENTITIES, isEntityName, type EntityName } from '../../generators/registry.js';
import { World } from '../../generators/world.js';
import { formatContext, recordsOf } from '../../render/batch.js';
import { worldSpecFrom } from '../../routes/world-query.js';
import { WorldQuery } from '../../schemas/query.js';
import { Interrupted, watchSignals, writeWhole, type SignalWatch } from '../interrupt.js';
import type { Output } from '../output.js';
import { progressReporter } from '../progress.js';
import { UsageError, validateAgainst } from '../validate.js';
import { addWorldOptions, worldParams, type WorldFlags } from '../world-options.js';

const FILE_FORMATS = [...FORMAT_NAMES, 'parquet'] as const;
type FileFormat = (typeof FILE_FORMATS)[number];

interface GenerateFlags extends WorldFlags {
  format: FileFormat;
  out?: string;
  outputDir?: string;
  gzip?: boolean;
  manifest: boolean;
  quiet?: boolean;
}

/** The file an entity is written to: `orders.csv`, `analytics_users.csv.gz`, `orders-part1of4.csv`. */
export function fileName(entity: EntityName, format: FileFormat, gzip: boolean, partition?: { partition: number; partitions: number }): string {
  const stem = entity.replace(/\//g, '_');
  const part = partSuffix(partition?.partition, partition?.partitions);
  const extension = format === 'parquet' ? PARQUET_EXTENSION : FORMATS[format].extension;
  return `${stem}${part}.${extension}${gzip ? '.gz' : ''}`;
}

/** Counts what passes (records are counted by the generator wrapper, bytes here). */
class ByteCounter extends Transform {
  bytes = 0;
  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: () => void) {
    this.bytes += chunk.length;
    this.push(chunk);
    callback();
  }
}

async function generate(output: Output, entityArgs: string[], flags: GenerateFlags): Promise<void> {
  // Ctrl-C leaves no half-written file: each file is written under a temporary name and renamed when whole.
  const watch = watchSignals();
  try {
    await writeFiles(output, entityArgs, flags, watch);
  } finally {
    watch.dispose();
  }
}

async function writeFiles(output: Output, entityArgs: string[], flags: GenerateFlags, watch: SignalWatch): Promise<void> {
  const out = flags.out ?? flags.outputDir;
  if (out === undefined) throw new UsageError("required option '--out <dir>' not specified");
  // `-` is stdout for `ecomgen events --out`; generate writes a file per entity, so it names no directory here.
  if (out === '-') throw new UsageError("--out: generate writes one file per entity into a directory; '-' (stdout) is not one (ecomgen events writes to stdout)");
  const unknown = entityArgs.filter((e) => !isEntityName(e));
  if (unknown.length > 0) throw new UsageError(`unknown entit${unknown.length === 1 ? 'y' : 'ies'} ${unknown.map((e) => `'${e}'`).join(', ')}; run 'ecomgen generate --help' for the list`);
  const chosen = entityArgs.length > 0 ? entityArgs : WORLD_ENTITIES;
  const entities = [...new Set(chosen)] as EntityName[];
  const params = worldParams(flags);
  const { partition, partitions, ...world } = params as Record<string, unknown> & { partition?: number; partitions?: number };
  const query = validateAgainst(WorldQuery, world);
  const base = worldSpecFrom(query);
  const slice = partition !== undefined && partitions !== undefined ? { partition, partitions } : undefined;
  // A file where the directory should be: say so (mkdir's EEXIST ended in a stack trace, exit 1).
  const existing = await stat(out).catch(() => undefined);
  if (existing !== undefined && !existing.isDirectory()) throw new UsageError(`--out: '${out}' is a file; give a directory (created if missing)`);
  await mkdir(out, { recursive: true });
  const progress = progressReporter(output.stderr, flags.quiet === true);
  output.stderr.write(`seed ${base.seed}${slice ? `, partition ${slice.partition}/${slice.partitions}` : ''} -> ${path.resolve(out)}\n`);
  const written: string[] = [];
  const interrupted = (missing: string) =>
    new Interrupted(
      `${missing} not written (no partial file left); ${written.length === 0 ? 'no file was complete before it' : `complete before it: ${written.join(', ')}`}`,
      watch.received ?? 'SIGINT',
    );
  try {
    for (const entity of entities) {
      if (watch.signal.aborted) throw interrupted(fileName(entity, flags.format, flags.gzip === true, slice));
      const definition = ENTITIES[entity];
      // The world the entity's GET endpoint serves (its own default locale, as src/routes/entities.ts does).
      const entityWorld = World.of({ ...base, locale: (query.locale as typeof base.locale | undefined) ?? definition.defaultLocale ?? base.locale, params: {} });
      const population = entityWorld.generator(entity).population;
      const { start, end } = slice ? partitionRange(0, population, slice) : { start: 0, end: population };
      const task = progress.task(entity, end - start);
      let done = 0;
      const counted = function* (): Generator<object> {
        for (const record of recordsOf(entityWorld, entity, start, end, null)) {
          yield record;
          if (++done % 4096 === 0) task.update(done, counter.bytes);
        }
      };
      const columns = Object.keys(definition.schema.properties);
      const source: Readable =
        flags.format === 'parquet' ? parquetStream(definition.schema, counted()) : formatStream(FORMATS[flags.format], formatContext(entity, columns), counted());
      const counter = new ByteCounter();
      const file = path.join(out, fileName(entity, flags.format, flags.gzip === true, slice));
      try {
        await writeWhole(file, (temporary) => pipeline(source, counter, ...(flags.gzip ? [createGzip()] : []), createWriteStream(temporary), { signal: watch.signal }));
      } catch (error) {
        if (watch.received) throw interrupted(path.basename(file));
        throw error;
      }
      written.push(path.basename(file));
      task.finish(done, counter.bytes, path.basename(file));
    }
  } finally {
    progress.stop();
  }
  // The manifest of the whole world (ground truth), once: by the single process or by worker 0.
  if (flags.manifest && (!slice || slice.partition === 0)) {
    // No cost budget: it keeps one request from tying up a shared server, while here the user
    // asked for this world and its files are already written (the help's own example, 50,000
    // customers and 10,000 products, wrote every file and then failed on the manifest's budget).
    const app = await buildApp({ costBudget: { ms: Number.POSITIVE_INFINITY, mb: Number.POSITIVE_INFINITY } });
    try {
      const search = new URLSearchParams(Object.entries({ ...world, seed: base.seed, entities: entities.join(',') }).map(([k, v]): [string, string] => [k, String(v)]));
      const stopped = new Promise<undefined>((resolve) => (watch.signal.aborted ? resolve(undefined) : watch.signal.addEventListener('abort', () => resolve(undefined), { once: true })));
      const response = await Promise.race([app.inject(`/api/v1/manifest?${search}`), stopped]);
      if (response === undefined || watch.signal.aborted) throw interrupted('manifest.json');
      if (response.statusCode !== 200) {
        const message = `manifest: ${(response.json() as { message: string }).message}`;
        throw response.statusCode < 500 ? new UsageError(message) : new Error(message);
      }
      await writeWhole(path.join(out, 'manifest.json'), (temporary) => writeFile(temporary, response.body));
      output.stderr.write(`manifest.json: populations, key sums and the SHA-256 of each entity's CSV\n`);
    } finally {
      await app.close();
    }
  }
}

export function registerGenerate(program: Command, output: Output): void {
  const command = program
    .command('generate')
    .summary('write one file per entity, plus manifest.json')
    .description(
      'Writes one file per entity, byte for byte the body of GET /api/v1/<entity> for the same world with limit=<population>, and manifest.json (the JSON of GET /api/v1/manifest) beside them.\n' +
        `Entities: ${WORLD_ENTITIES.join(', ')}, performance-events (default: all but performance-events).`,
    )
    .argument('[entities...]', 'entities to write (default: every entity but performance-events)')
    .addOption(new Option('--format <format>', 'file format').choices([...FILE_FORMATS]).default('csv'))
    .option('--out <dir>', 'directory to write into (created if missing); required')
    .addOption(new Option('--output-dir <dir>', 'alias of --out').conflicts('out'))
    .option('--gzip', 'gzip each file (.gz)')
    .option('--no-manifest', 'do not write manifest.json (it generates every record once more)')
    .option('-q, --quiet', 'no progress output');
  addWorldOptions(command);
  command.addHelpText(
    'after',
    '\nExamples:\n  ecomgen generate orders users --seed 42 --scale 2 --format csv --out fixtures\n  ecomgen generate --customers 50000 --products 10000 --days 730 --output-dir ./output --format parquet\n  ecomgen generate orders --seed 42 --partition 0/4 --out part0   # worker 0 of 4',
  );
  command.action((entities: string[], flags: GenerateFlags) => generate(output, entities, flags));
}
