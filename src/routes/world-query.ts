import { randomInt } from 'node:crypto';
import type { LocaleCode } from '../generators/locale.js';
import { DAY, DEFAULT_END_DATE, DEFAULT_START_DATE, HOUR, parseDate } from '../generators/time.js';
import { SIZED_ENTITIES, resolveSizes, type Sizes, type WorldSpec } from '../generators/world.js';
import { badParameter } from '../plugins/errors.js';

/** The world parameters as they arrive, already type-checked by the route schema. */
export interface WorldParams extends Partial<Record<(typeof SIZED_ENTITIES)[number], number>> {
  seed?: number;
  scale?: number;
  locale?: LocaleCode;
  start_date?: string;
  end_date?: string;
}

/**
 * Builds the world a request reads from. Without a seed one is drawn from the OS (this is the
 * only randomness outside the seeded source, and it is returned to the client as X-Seed).
 */
export function worldSpecFrom(params: WorldParams): WorldSpec {
  const start = parseDate(params.start_date ?? DEFAULT_START_DATE, false);
  if (start === undefined) throw badParameter('start_date', `'${params.start_date}' is not a date (YYYY-MM-DD or ISO 8601 date-time)`);
  const end = parseDate(params.end_date ?? DEFAULT_END_DATE, true);
  if (end === undefined) throw badParameter('end_date', `'${params.end_date}' is not a date (YYYY-MM-DD or ISO 8601 date-time)`);
  if (end - start < HOUR) {
    throw badParameter('end_date', `must be at least one hour after start_date (window ${new Date(start).toISOString()} .. ${new Date(end).toISOString()})`);
  }
  if (end - start > 50 * 366 * DAY) throw badParameter('end_date', 'the date window may span at most 50 years');
  const overrides: Partial<Sizes> = {};
  for (const name of SIZED_ENTITIES) {
    const value = params[name];
    if (value !== undefined) overrides[name] = value;
  }
  return {
    seed: params.seed ?? randomInt(0, 2 ** 32),
    sizes: resolveSizes(params.scale ?? 1, overrides),
    locale: params.locale ?? 'en_US',
    window: { start, end },
  };
}
