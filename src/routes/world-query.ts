import { randomInt } from 'node:crypto';
import type { LocaleCode } from '../generators/locale.js';
import { DAY, DEFAULT_END_DATE, DEFAULT_START_DATE, HOUR, parseDate } from '../generators/time.js';
import { SIZED_ENTITIES, knobsOf, resolveSizes, type Sizes, type WorldKnobs, type WorldSpec } from '../generators/world.js';
import { badParameter } from '../plugins/errors.js';

/** The world parameters as they arrive, already type-checked by the route schema. */
export interface WorldParams extends Partial<Record<(typeof SIZED_ENTITIES)[number], number>>, WorldKnobs {
  seed?: number;
  scale?: number;
  locale?: LocaleCode;
  start_date?: string;
  end_date?: string;
}

const RELATIVE_DATE = /^(today|yesterday)(?:-([0-9]{1,5})d)?$/;

/**
 * `today`, `yesterday` and `today-<n>d` (UTC days) as `YYYY-MM-DD`, other text unchanged.
 * The one place the wall clock is read: the response reports the dates it resolved to
 * (X-Date-Window), so it can be fetched again with them and give the same bytes.
 */
export function resolveRelativeDate(text: string, now: number): string {
  const match = RELATIVE_DATE.exec(text);
  if (!match) return text;
  const back = (match[1] === 'yesterday' ? 1 : 0) + Number(match[2] ?? 0);
  return new Date(Math.floor(now / DAY) * DAY - back * DAY).toISOString().slice(0, 10);
}

/** Whether a query names a relative start_date or end_date (its answer changes at each UTC midnight). */
function hasRelativeDate(query: { start_date?: string; end_date?: string }): boolean {
  return (query.start_date !== undefined && RELATIVE_DATE.test(query.start_date)) || (query.end_date !== undefined && RELATIVE_DATE.test(query.end_date));
}

/** The query with relative start_date/end_date resolved against the clock (a copy; absolute dates untouched). */
export function resolveRelativeDates<Q extends { start_date?: string; end_date?: string }>(query: Q, now?: number): Q {
  if (!hasRelativeDate(query)) return query;
  // eslint-disable-next-line no-restricted-properties -- route code, not generation: see resolveRelativeDate
  const at = now ?? Date.now();
  return {
    ...query,
    ...(query.start_date ? { start_date: resolveRelativeDate(query.start_date, at) } : {}),
    ...(query.end_date ? { end_date: resolveRelativeDate(query.end_date, at) } : {}),
  };
}

/**
 * A request's URL with its relative dates replaced by the dates `resolved` holds (the query as
 * {@link resolveRelativeDates} returned it), for the Link header: as Link pins the seed of an
 * unseeded request, it pins the window, so `next` continues the same world after UTC midnight
 * (an events cursor from yesterday's window is refused in today's). The URL unchanged when
 * nothing was relative.
 */
export function pinRelativeDates(url: string, query: { start_date?: string; end_date?: string }, resolved: { start_date?: string; end_date?: string }): string {
  if (resolved === query) return url;
  const parsed = new URL(url, 'http://localhost');
  if (resolved.start_date !== undefined) parsed.searchParams.set('start_date', resolved.start_date);
  if (resolved.end_date !== undefined) parsed.searchParams.set('end_date', resolved.end_date);
  return `${parsed.pathname}${parsed.search}`;
}

/**
 * For HTTP caching: a query with a relative date, resolved as the route will resolve it now,
 * and the seconds its answer stays the same (until the next UTC midnight, when `today` moves);
 * undefined for a query without one (its answer is a function of the URL).
 */
export function relativeDatesNow<Q extends { start_date?: string; end_date?: string }>(query: Q): { resolved: Q; seconds: number } | undefined {
  if (!hasRelativeDate(query)) return undefined;
  // eslint-disable-next-line no-restricted-properties -- route code, not generation: see resolveRelativeDate
  const now = Date.now();
  return { resolved: resolveRelativeDates(query, now), seconds: Math.max(1, Math.ceil(((Math.floor(now / DAY) + 1) * DAY - now) / 1000)) };
}

/** `X-Date-Window`: the window a response was generated for, `<start>/<end>` (ISO 8601, end exclusive). */
export function dateWindowHeader(start: number, end: number): string {
  return `${new Date(start).toISOString()}/${new Date(end).toISOString()}`;
}

/** The default window, parsed once. */
const DEFAULT_START = parseDate(DEFAULT_START_DATE, false) as number;
const DEFAULT_END = parseDate(DEFAULT_END_DATE, true) as number;

/**
 * Builds the world a request reads from. Without a seed one is drawn from the OS (this is the
 * only randomness outside the seeded source, and it is returned to the client as X-Seed).
 */
export function worldSpecFrom(query: WorldParams): WorldSpec {
  const params = resolveRelativeDates(query);
  const start = params.start_date === undefined ? DEFAULT_START : parseDate(params.start_date, false);
  if (start === undefined) throw badParameter('start_date', `'${params.start_date}' is not a date (YYYY-MM-DD, an ISO 8601 date-time, today, yesterday or today-<n>d)`);
  const end = params.end_date === undefined ? DEFAULT_END : parseDate(params.end_date, true);
  if (end === undefined) throw badParameter('end_date', `'${params.end_date}' is not a date (YYYY-MM-DD, an ISO 8601 date-time, today, yesterday or today-<n>d)`);
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
    ...(Object.keys(knobsOf(params)).length > 0 ? { knobs: knobsOf(params) } : {}),
  };
}
