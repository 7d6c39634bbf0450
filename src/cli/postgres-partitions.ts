import { createHash } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { PostgresConfig } from '../config.js';
import { ENTITIES, type EntityName } from '../generators/registry.js';
import { quoteIdentifier } from '../schemas/columns.js';
import type { AnySink } from '../sinks/index.js';
import { postgresClient } from '../sinks/postgres.js';
import { messageOf } from '../sinks/progress.js';
import type { EntitySlice } from '../sinks/types.js';
import { LoadFailed, assertSucceeded, runJob } from './commands/load.js';
import type { Progress } from './progress.js';

/** Table where workers record which slices they have committed. */
const LEDGER = 'ecomgen_partitions';

/** A world's identity in the ledger: seed, sizes, locale and window (what decides its records). */
function worldKey(slice: EntitySlice, prefix: string): string {
  const { seed, sizes, locale, window } = slice.world;
  return createHash('sha256').update(JSON.stringify({ seed, sizes, locale, window, prefix })).digest('hex').slice(0, 32);
}

interface PartitionedLoad {
  sink: AnySink;
  section: PostgresConfig;
  options: Record<string, unknown>;
  seed: number;
  slices: readonly EntitySlice[];
  progress: Progress;
  partition: number;
  partitions: number;
  waitMs: number;
}

/**
 * Worker k of n loading into one PostgreSQL with foreign keys. A worker's orders reference
 * users that another worker loads, so a foreign key would fail if it ran ahead. Each worker
 * therefore loads entity by entity through the PostgreSQL sink, records each committed slice
 * in a small ledger table, and starts an entity only when every worker has committed the
 * entities it references (for an entity referencing itself, like categories, whose parents
 * come first: the slices before its own). No coordinator: the database everyone writes to is
 * the meeting point, which is what an Indexed Job's pods share anyway.
 */
export async function loadPartitionedPostgres(run: PartitionedLoad): Promise<void> {
  const schema = String(run.options.schema ?? 'public');
  const prefix = String(run.options.table_prefix ?? '');
  const ledger = `${quoteIdentifier(schema)}.${quoteIdentifier(LEDGER)}`;
  // 1. Every table, with its foreign keys, created once by whichever worker comes first (the sink serialises DDL).
  const empty = run.slices.map((slice) => ({ ...slice, end: slice.start, records: function* (): Generator<object> {} }));
  assertSucceeded(await runJob(run.sink, run.section, run.options, run.seed, empty, { task: () => ({ update: () => undefined, finish: () => undefined }), stop: () => undefined }));

  const client = postgresClient(run.section, 'ecomgen-partitions');
  client.on('error', () => undefined);
  try {
    await client.connect();
  } catch (error) {
    throw new LoadFailed(`cannot connect to PostgreSQL (DATABASE_URL): ${messageOf(error)}`);
  }
  try {
    await client.query(
      `CREATE TABLE IF NOT EXISTS ${ledger} (world text NOT NULL, entity text NOT NULL, partition integer NOT NULL, partitions integer NOT NULL, loaded_at timestamptz NOT NULL DEFAULT now(), PRIMARY KEY (world, entity, partitions, partition))`,
    ).catch(async (error: unknown) => {
      // Two workers creating it at once: one wins, the other finds it there.
      if ((error as { code?: string }).code !== '23505' && (error as { code?: string }).code !== '42P07') throw error;
    });
    // Each entity's own world (transactions are served from the en_GB store, for example).
    const keys = new Map(run.slices.map((s) => [s.entity, worldKey(s, prefix)]));
    for (const slice of run.slices) {
      const world = keys.get(slice.entity) as string;
      const parents = [...new Set(Object.values(ENTITIES[slice.entity].foreignKeys) as EntityName[])].filter((p) => keys.has(p));
      for (const parent of parents) {
        // Self-reference: parents have lower indices, so the slices before this one suffice.
        const needed = parent === slice.entity ? run.partition : run.partitions;
        if (needed === 0) continue;
        const deadline = performance.now() + run.waitMs;
        for (;;) {
          const { rows } = await client.query<{ n: number }>(
            `SELECT count(*)::int AS n FROM ${ledger} WHERE world = $1 AND entity = $2 AND partitions = $3 AND partition < $4`,
            [keys.get(parent), parent, run.partitions, needed],
          );
          if ((rows[0]?.n ?? 0) >= needed) break;
          if (performance.now() > deadline) {
            throw new LoadFailed(`${slice.entity}: waited ${run.waitMs / 1000} s for the other workers to load ${parent} (${rows[0]?.n ?? 0} of ${needed} slices committed); are all ${run.partitions} workers running?`);
          }
          await sleep(250);
        }
      }
      assertSucceeded(await runJob(run.sink, run.section, run.options, run.seed, [slice], run.progress));
      await client.query(`INSERT INTO ${ledger} (world, entity, partition, partitions) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING`, [world, slice.entity, run.partition, run.partitions]);
    }
  } finally {
    await client.end().catch(() => undefined);
  }
}
