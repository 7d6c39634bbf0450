/**
 * `GET /api/v1/events/live`: the events of an open-ended (live) world between two times, the
 * same events, ids and bytes a live stream with these parameters delivered (or will deliver)
 * then. The live world's minutes are a pure function of (seed, parameters, minute), so a live
 * stream started at any time can be fetched again later by time.
 */
import { Type, type Static } from '@sinclair/typebox';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { FORMATS, formatStream, type FormatContext } from '../formats/index.js';
import { unknownTypesReason } from '../events/catalogue.js';
import { MAX_LIVE_EVENTS_PER_SECOND, liveMinuteEventsAsync, type LiveEvents } from '../events/live.js';
import { EventSchemas, FeedEventSchema } from '../events/schemas.js';
import type { FeedEvent, LiveWorldSpec } from '../events/types.js';
import { iso, parseDate } from '../generators/time.js';
import { MAX_POPULATION } from '../generators/world.js';
import { badParameter } from '../plugins/errors.js';
import { OneOf } from '../schemas/common.js';
import { ErrorSchema, WorldQueryFields } from '../schemas/query.js';
import { chooseFormat } from './negotiate.js';
import { FLAT_COLUMNS, flat, ndjsonStream } from './events.js';
import { LIST_ITEMS, commaList } from '../schemas/lists.js';

const MINUTE = 60_000;
/** The longest window one request reads. */
export const MAX_LIVE_WINDOW_MS = 3_600_000;
/** The most events one request returns. */
const MAX_LIVE_LIMIT = 1_000_000;
/** Default and bounds of the rate, as POST /api/v1/streams. */
const DEFAULT_EVENTS_PER_SECOND = 10;
const MAX_EVENTS_PER_SECOND = MAX_LIVE_EVENTS_PER_SECOND;
/** Expected events a window may hold (rate x length): a window is planned minute by minute before it is sent. */
const MAX_WINDOW_EVENTS = 10_000_000;
type WeightGroup = 'orders' | 'interactions' | 'inventory';

const Ratio = (what: string) => Type.Number({ minimum: 0, maximum: 1, description: `Share of events ${what} (chaos, labelled in \`defect\`; default 0), as the stream's.` });

export const LiveEventsQuery = Type.Object(
  {
    seed: Type.Integer({ ...WorldQueryFields.seed, description: "The live stream's seed (required: a live world is named by it)." }),
    locale: Type.Optional(WorldQueryFields.locale),
    events_per_second: Type.Optional(
      Type.Number({ exclusiveMinimum: 0, maximum: MAX_EVENTS_PER_SECOND, description: `The stream's base rate (default ${DEFAULT_EVENTS_PER_SECOND}).`, examples: [100] }),
    ),
    daily_curve: Type.Optional(Type.Boolean({ description: "Whether the stream followed the daily curve (default true, as POST /api/v1/streams)." })),
    weights: Type.Optional(
      Type.String({
        pattern: '^(orders|interactions|inventory):[0-9]+(\\.[0-9]+)?(,(orders|interactions|inventory):[0-9]+(\\.[0-9]+)?)*$',
        description: "The stream's event mix as `group:weight` pairs (each 0-1000, not all 0), e.g. `orders:0.6,interactions:0.3,inventory:0.1` (the default).",
        examples: ['orders:0.6,interactions:0.3,inventory:0.1'],
      }),
    ),
    late_ratio: Type.Optional(Ratio('sent late (moved to the end of their minute)')),
    duplicate_ratio: Type.Optional(Ratio('sent twice')),
    bad_ratio: Type.Optional(Ratio('preceded by a malformed copy')),
    start: Type.String({ description: 'From this time (ISO 8601 date-time, inclusive).', examples: ['2026-11-30T12:00:00Z'] }),
    end: Type.String({ description: 'To this time (exclusive), at most one hour after start.', examples: ['2026-11-30T12:05:00Z'] }),
    types: Type.Optional(
      Type.String({ pattern: commaList(LIST_ITEMS.types.pattern), description: 'Comma-separated event types to keep (default all); sequences stay those of the whole minute.' }),
    ),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: MAX_LIVE_LIMIT, default: 1000, description: `Events to return (1-${MAX_LIVE_LIMIT.toLocaleString('en-US')}, default 1,000).` })),
    offset: Type.Optional(Type.Integer({ minimum: 0, maximum: MAX_POPULATION, description: 'Events to skip first (after types and the window; 0-1,000,000,000).', examples: [0] })),
    format: Type.Optional(OneOf(['json', 'ndjson', 'csv', 'xml'] as const, 'Output format; overrides the Accept header. Default json.')),
  },
  { additionalProperties: false },
);
export type LiveEventsQueryType = Static<typeof LiveEventsQuery>;

/** The live world and window of a request; every problem is a 400 naming its parameter. */
function liveRequest(query: LiveEventsQueryType): { spec: LiveWorldSpec; start: number; end: number; types: ReadonlySet<string> | undefined } {
  const time = (name: 'start' | 'end', text: string): number => {
    const ms = parseDate(text, name === 'end');
    if (ms === undefined) throw badParameter(name, `'${text}' is not a date (ISO 8601 date-time or YYYY-MM-DD)`);
    return ms;
  };
  const start = time('start', query.start);
  const end = time('end', query.end);
  // A live world's minutes are numbered from the epoch: an earlier one would have a negative sequence.
  if (start < 0) throw badParameter('start', `must be 1970-01-01T00:00:00Z or later (${iso(start)} is before the Unix epoch)`);
  if (end <= start) throw badParameter('end', 'must be after start');
  if (end - start > MAX_LIVE_WINDOW_MS) throw badParameter('end', `the window ${iso(start)} .. ${iso(end)} is longer than one hour; fetch it an hour at a time`);
  const eventsPerSecond = query.events_per_second ?? DEFAULT_EVENTS_PER_SECOND;
  if (eventsPerSecond * 1.5 * ((end - start) / 1000) > MAX_WINDOW_EVENTS) {
    throw badParameter('end', `at ${eventsPerSecond} events/s the window would hold more than ${MAX_WINDOW_EVENTS.toLocaleString('en-US')} events; ask for a shorter one`);
  }
  let weights: LiveWorldSpec['weights'];
  if (query.weights !== undefined) {
    const parsed: Partial<Record<WeightGroup, number>> = {};
    for (const pair of query.weights.split(',')) {
      const [group, value] = pair.split(':') as [WeightGroup, string];
      if (parsed[group] !== undefined) throw badParameter('weights', `${group} is named twice`);
      const weight = Number(value);
      if (weight > 1000) throw badParameter('weights', `${group}: ${value} is above 1000`);
      parsed[group] = weight;
    }
    if (Object.values(parsed).every((w) => w === 0)) throw badParameter('weights', 'at least one weight must be above 0');
    weights = parsed;
  }
  let types: Set<string> | undefined;
  if (query.types !== undefined) {
    types = new Set(query.types.split(','));
    const reason = unknownTypesReason(types);
    if (reason !== undefined) throw badParameter('types', reason);
  }
  const ratios = {
    ...(query.late_ratio !== undefined ? { late_ratio: query.late_ratio } : {}),
    ...(query.duplicate_ratio !== undefined ? { duplicate_ratio: query.duplicate_ratio } : {}),
    ...(query.bad_ratio !== undefined ? { bad_ratio: query.bad_ratio } : {}),
  };
  if ((query.late_ratio ?? 0) + (query.duplicate_ratio ?? 0) + (query.bad_ratio ?? 0) > 1) throw badParameter('late_ratio', 'late_ratio + duplicate_ratio + bad_ratio may not exceed 1');
  const spec: LiveWorldSpec = {
    seed: query.seed,
    locale: query.locale ?? 'en_US',
    events_per_second: eventsPerSecond,
    daily_curve: query.daily_curve ?? true,
    ...(weights ? { weights } : {}),
    ...ratios,
  };
  return { spec, start, end, types };
}

/** Work between two turns of the event loop while a page is chosen (about 2 ms), and a position's type's share of it. */
const PAGE_WORK = 20_000;
const TYPE_WORK = 10;

/** Positions [from, to) of a planned minute that a request delivers. */
export interface Span {
  readonly minute: LiveEvents;
  readonly positions: Int32Array;
}

/**
 * Plans the minutes of the window, each in slices that yield to the event loop, and keeps the
 * positions of the events the page delivers: an event is in the window when its position's
 * time is (its event time; a late event, moved to the end of its minute, goes at the latest
 * time before it, as a live stream sends it). Rows are not built here.
 */
export async function planPage(
  spec: LiveWorldSpec,
  start: number,
  end: number,
  types: ReadonlySet<string> | undefined,
  offset: number,
  limit: number,
  pause: () => Promise<void> = () => new Promise<void>((resolve) => setImmediate(resolve)),
): Promise<Span[]> {
  const spans: Span[] = [];
  let skip = offset;
  let room = limit;
  // A turn for the event loop after PAGE_WORK units: a position looked at is one, its type
  // TYPE_WORK (a minute at 10,000 events/s holds 840,000 of them: each was built to know its
  // type, in one go, seconds of building).
  let work = 0;
  for (let minute = Math.floor(start / MINUTE) * MINUTE; minute < end && room > 0; minute += MINUTE) {
    const events = await liveMinuteEventsAsync(spec, minute);
    const positions: number[] = [];
    let seen = -Infinity;
    for (let i = 0; i < events.length && room > 0; i++) {
      if (++work >= PAGE_WORK) {
        work = 0;
        await pause();
      }
      seen = Math.max(seen, events.timeAt(i));
      if (seen < start || seen >= end) continue;
      if (types !== undefined) {
        // Its type without building it (an interaction's from its session's script).
        work += TYPE_WORK;
        if (!types.has(events.typeAt(i))) continue;
      }
      if (skip > 0) {
        skip--;
        continue;
      }
      positions.push(i);
      room--;
    }
    if (positions.length > 0) spans.push({ minute: events, positions: Int32Array.from(positions) });
  }
  return spans;
}

function* built(spans: readonly Span[]): Generator<FeedEvent> {
  for (const { minute, positions } of spans) for (const i of positions) yield minute.at(i);
}

/** A moment as a file name part: `20261130T120000Z` (ISO 8601 basic format; milliseconds when not 0). */
function compactTime(ms: number): string {
  return new Date(ms).toISOString().replace(/[-:]/g, '').replace(/\.000Z$/, 'Z').replace('.', '');
}

/** `GET /api/v1/events/live`. */
export default async function liveEventRoutes(app: FastifyInstance): Promise<void> {
  // The event schemas, as the events routes add them in their own (encapsulated) scope.
  for (const schema of EventSchemas) app.addSchema(schema);
  app.addSchema(FeedEventSchema);
  app.get(
    '/api/v1/events/live',
    {
      schema: {
        tags: ['Events'],
        summary: 'A live world between two times: what a live stream delivered then',
        description:
          "The events of the open-ended world a live stream (`POST /api/v1/streams`, `mode: live`) plays, between `start` and `end` (at most an hour), in the order the stream sends them: the same event ids, sequences and bytes. Give the stream's seed, locale, events_per_second, daily_curve, weights and chaos ratios. Past, present or future windows alike: each minute is a pure function of (seed, parameters, minute). Example: `curl 'http://localhost:8000/api/v1/events/live?seed=42&events_per_second=100&start=2026-11-30T12:00:00Z&end=2026-11-30T12:01:00Z&format=ndjson'`",
        querystring: LiveEventsQuery,
        response: {
          200: {
            description: 'The events. Headers: X-Seed, Content-Disposition for csv/ndjson/xml.',
            headers: { 'X-Seed': { type: 'integer', description: 'The seed of the live world' } },
            content: {
              'application/json': { schema: Type.Array(Type.Ref(FeedEventSchema)) },
              'application/x-ndjson': { schema: Type.String({ description: 'One event per line; a truncated-line defect is written as its broken text' }) },
              'text/csv': { schema: Type.String({ description: `RFC 4180 CSV: ${FLAT_COLUMNS.join(', ')} (data as a JSON string)` }) },
              'application/xml': { schema: Type.String({ description: '<events><event>… with data as a JSON string' }) },
            },
          },
          400: { description: 'A parameter is invalid; the message names it and says why', ...Type.Ref(ErrorSchema) },
        },
      },
    },
    async (request: FastifyRequest<{ Querystring: LiveEventsQueryType }>, reply: FastifyReply) => {
      const query = request.query;
      const format = chooseFormat(query.format, request.headers.accept);
      const { spec, start, end, types } = liveRequest(query);
      const offset = query.offset ?? 0;
      const limit = query.limit ?? 1000;
      const spans = await planPage(spec, start, end, types, offset, limit);
      const events = built(spans);
      reply.header('X-Seed', spec.seed).type(FORMATS[format].contentType);
      // A full page may have a next one: the same window from the following offset.
      if (spans.reduce((sum, span) => sum + span.positions.length, 0) === limit) reply.header('Link', `<${nextPageUrl(request.url, offset + limit)}>; rel="next"`);
      // Named for its window: fetched an hour at a time, every file was live-events-seed42.csv and
      // curl -OJ refused to overwrite the first.
      if (format !== 'json') reply.header('Content-Disposition', `attachment; filename="live-events-seed${spec.seed}-${compactTime(start)}-${compactTime(end)}.${FORMATS[format].extension}"`);
      // The serialisers of GET /api/v1/events: the same bytes for the same events.
      if (format === 'ndjson') return reply.send(ndjsonStream(events));
      if (format === 'json') return reply.send(formatStream(FORMATS.json, { columns: [], root: 'events', item: 'event' }, events));
      return reply.send(formatStream(FORMATS[format], { columns: FLAT_COLUMNS, root: 'events', item: 'event' } satisfies FormatContext, mapped(events, flat)));
    },
  );
}

/** The request's URL with `offset` set to `offset`, every other parameter as it was sent. */
function nextPageUrl(url: string, offset: number): string {
  const [path, search = ''] = url.split('?', 2) as [string, string?];
  const params = new URLSearchParams(search);
  params.set('offset', String(offset));
  return `${path}?${params.toString()}`;
}

function* mapped<A, B>(items: Iterable<A>, f: (a: A) => B): Generator<B> {
  for (const item of items) yield f(item);
}
