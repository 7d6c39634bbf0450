import { InvalidArgumentError, Option, type Command } from 'commander';
import { LOCALES } from '../generators/locale.js';
import { DAY, DEFAULT_END_DATE, DEFAULT_START_DATE } from '../generators/time.js';
import { parsePartition, type Partition } from '../generators/partition.js';
import { SIZED_ENTITIES } from '../generators/world.js';
import { UsageError } from './validate.js';

/** The flags every command that reads a world shares, as commander parses them. */
export interface WorldFlags {
  seed?: string;
  scale?: string;
  locale?: string;
  startDate?: string;
  endDate?: string;
  days?: string;
  partition?: { partition: number; partitions: number };
  [size: string]: unknown;
}

/** `--partition k/n`: worker k (0-based) of n. */
export function parsePartitionFlag(value: string): Partition {
  const parsed = parsePartition(value);
  if ('problem' in parsed) throw new InvalidArgumentError(parsed.problem);
  return parsed;
}

/** Adds the world flags: seed, scale, populations (with the references' aliases), locale, window, partition. */
export function addWorldOptions(command: Command): Command {
  command
    .option('--seed <n>', 'world seed (0-4294967295); the same seed gives the same bytes. Default: drawn and printed')
    .option('--scale <x>', 'scale factor for every population (default 1)');
  for (const name of SIZED_ENTITIES) command.option(`--${name} <n>`, `population of ${name} (overrides --scale)`);
  command
    .addOption(new Option('--customers <n>', 'alias of --users').conflicts('users'))
    .addOption(new Option('--locale <code>', 'names, addresses, currency and tax').choices([...LOCALES]))
    .option('--start-date <date>', `first day of the window (YYYY-MM-DD; default ${DEFAULT_START_DATE})`)
    .option('--end-date <date>', `last day of the window, inclusive (default ${DEFAULT_END_DATE})`)
    .addOption(new Option('--days <n>', `window of n days ending on --end-date (default ${DEFAULT_END_DATE}); instead of --start-date`).conflicts('startDate'))
    .option('--partition <k/n>', 'worker k of n (0-based): this process writes/loads only its contiguous slice of every entity', parsePartitionFlag);
  return command;
}

/** The world parameters of the HTTP API (snake_case, as strings for the schema to coerce). */
export function worldParams(flags: WorldFlags): Record<string, unknown> {
  const params: Record<string, unknown> = {};
  if (flags.seed !== undefined) params.seed = flags.seed;
  if (flags.scale !== undefined) params.scale = flags.scale;
  for (const name of SIZED_ENTITIES) if (flags[name] !== undefined) params[name] = flags[name];
  if (flags.customers !== undefined) params.users = flags.customers;
  if (flags.locale !== undefined) params.locale = flags.locale;
  if (flags.startDate !== undefined) params.start_date = flags.startDate;
  if (flags.endDate !== undefined) params.end_date = flags.endDate;
  if (flags.days !== undefined) {
    const days = Number(flags.days);
    if (!Number.isInteger(days) || days < 1 || days > 50 * 366) throw new UsageError(`--days: expected a whole number of days from 1 to ${50 * 366}; got '${flags.days}'`);
    const end = Date.parse(`${flags.endDate ?? DEFAULT_END_DATE}T00:00:00Z`);
    if (Number.isNaN(end)) throw new UsageError(`--days: needs --end-date as YYYY-MM-DD; got '${flags.endDate}'`);
    params.start_date = new Date(end - (days - 1) * DAY).toISOString().slice(0, 10);
    params.end_date = new Date(end).toISOString().slice(0, 10);
  }
  if (flags.partition) Object.assign(params, flags.partition);
  return params;
}
