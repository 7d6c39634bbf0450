import { Readable } from 'node:stream';
import { Type, type Static } from '@sinclair/typebox';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { FORMATS, formatStream, turnTakingStream, type FormatContext } from '../formats/index.js';
import { EVENT_TYPES, EVENT_TYPE_NAMES, unknownTypesReason } from '../events/catalogue.js';
import { IDLE, IDLE_EVERY, chaosOf, type Delivery } from '../events/chaos.js';
import { splitApplies, splitNdjsonStream } from '../events/split.js';
import type { RenderPool } from '../render/pool.js';
import { eventId, feedDeliveries, materialise, prepareFeed, seekFeed, sequenceOfId, stepType, worldFingerprint, type FeedMerge } from '../events/feed.js';
import { DefectSchema, EventSchemas, FeedEventSchema } from '../events/schemas.js';
import { eventJson, NdjsonChunks } from '../events/ndjson.js';
import type { FeedEvent, FeedOptions } from '../events/types.js';
import { parseDate, iso } from '../generators/time.js';
import { MAX_POPULATION, World } from '../generators/world.js';
import { badParameter } from '../plugins/errors.js';
import { ErrorSchema, PartitionFields, WorldQueryFields } from '../schemas/query.js';
import { partSuffix, partitionProblem, partitionRange } from '../generators/partition.js';
import { OneOf } from '../schemas/common.js';
import { LIST_ITEMS, commaList } from '../schemas/lists.js';
import { chooseFormat } from './negotiate.js';
import { pinRelativeDates, resolveRelativeDates, worldSpecFrom } from './world-query.js';
import { assertWithinBudget, DEFAULT_COST_BUDGET, type CostBudget } from './cost.js';
import { feedCost } from '../generators/cost.js';

const Ratio = (what: string) =>
  Type.Number({ minimum: 0, maximum: 1, default: 0, description: `${what} (0-1, default 0). The late, duplicate and bad ratios together may not exceed 1.` });

const FeedQueryFields = {
  types: Type.String({
    pattern: commaList(LIST_ITEMS.types.pattern),
    description: `Comma-separated event types to keep (default all): ${EVENT_TYPE_NAMES.join(', ')}. The sequence numbers stay those of the whole feed.`,
    examples: ['order.placed,payment.captured'],
  }),
  start: Type.String({ description: 'Only events at or after this time (ISO 8601 date-time or YYYY-MM-DD), inside the world window.', examples: ['2025-03-01'] }),
  end: Type.String({ description: 'Only events before this time (exclusive; a date means the end of that day), inside the world window.', examples: ['2025-03-31'] }),
  late_ratio: Ratio('Share of events delivered late: after later events, event_time unchanged, up to max_lateness, labelled defect=late'),
  duplicate_ratio: Ratio('Share of events delivered twice (at-least-once redelivery, the same event_id), the copy labelled defect=duplicate'),
  bad_ratio: Ratio('Share of events preceded by a malformed copy (missing field, wrong type, negative quantity, unknown enum value, truncated JSON line), labelled defect=bad'),
  max_lateness: Type.Integer({ minimum: 1, maximum: 86_400, default: 300, description: 'Longest delay of a late event, in seconds of event time (default 300).' }),
};

export const EventsQuery = Type.Object(
  {
    ...optional(WorldQueryFields),
    ...optional(FeedQueryFields),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 10_000_000, default: 1000, description: 'Events to return (1-10,000,000, default 1,000).' })),
    offset: Type.Optional(Type.Integer({ minimum: 0, maximum: MAX_POPULATION, description: 'Delivered events to skip first (after types, window and chaos; 0-1,000,000,000). Past the end of the feed the page is empty.', examples: [0] })),
    ...optional(PartitionFields),
    after: Type.Optional(
      Type.String({ maxLength: 64, description: 'Resume after this event_id (a cursor from the Link header or the last event received): events with a larger sequence.' }),
    ),
    format: Type.Optional(OneOf(['json', 'ndjson', 'csv', 'xml'] as const, 'Output format; overrides the Accept header. Default json.')),
  },
  { additionalProperties: false },
);

export const DefectsQuery = Type.Object({ ...optional(WorldQueryFields), ...optional(FeedQueryFields) }, { additionalProperties: false });
export type DefectsQueryType = Static<typeof DefectsQuery>;

function optional<T extends Record<string, import('@sinclair/typebox').TSchema>>(fields: T) {
  return Object.fromEntries(Object.entries(fields).map(([k, v]) => [k, Type.Optional(v)])) as {
    [K in keyof T]: import('@sinclair/typebox').TOptional<T[K]>;
  };
}

/**
 * The world and the feed options of a request; every problem is a 400 naming its parameter,
 * and a feed whose preparation (or, with `defects`, whose defects list) would cost more than
 * `budget` is a 422 naming the parameter to lower, before any work.
 */
function feedRequest(query: DefectsQueryType, budget: CostBudget, defects = false): { world: World; options: FeedOptions } {
  const world = World.of(worldSpecFrom(query));
  const { start: from, end: to } = world.window;
  const window = `${iso(from)} .. ${iso(to)}`;
  const time = (name: 'start' | 'end', text: string | undefined): number | undefined => {
    if (text === undefined) return undefined;
    const ms = parseDate(text, name === 'end');
    if (ms === undefined) throw badParameter(name, `'${text}' is not a date (YYYY-MM-DD or ISO 8601 date-time)`);
    if (ms < from || ms > to) throw badParameter(name, `${iso(ms)} is outside the world window ${window}`);
    // The window is [from, to): a start at its end, or an end at its start, would select nothing.
    if (name === 'start' && ms === to) throw badParameter(name, `${iso(ms)} is the end of the world window ${window} (exclusive): a start must be before it`);
    if (name === 'end' && ms === from) throw badParameter(name, `${iso(ms)} is the start of the world window ${window}: an end must be after it`);
    return ms;
  };
  const start = time('start', query.start);
  const end = time('end', query.end);
  if (start !== undefined && end !== undefined && end <= start) throw badParameter('end', 'must be after start');
  let types: string[] | undefined;
  if (query.types !== undefined) {
    types = [...new Set(query.types.split(','))];
    const reason = unknownTypesReason(types);
    if (reason !== undefined) throw badParameter('types', reason);
  }
  const late = query.late_ratio ?? 0;
  const duplicate = query.duplicate_ratio ?? 0;
  const bad = query.bad_ratio ?? 0;
  if (late + duplicate + bad > 1) throw badParameter('late_ratio', 'late_ratio + duplicate_ratio + bad_ratio may not exceed 1');
  const options = { types, start, end, late_ratio: late, duplicate_ratio: duplicate, bad_ratio: bad, max_lateness_ms: (query.max_lateness ?? 300) * 1000 };
  // The world first (naming its size), then what the chaos adds (naming the largest ratio).
  const what = defects ? 'the defects list of the change feed' : 'the change feed';
  assertWithinBudget(feedCost(world), budget, query, what);
  assertWithinBudget(feedCost(world, options, defects), budget, query, what);
  return { world, options };
}

/** The largest page whose Link header is computed (by walking ahead to its end). */
const LINK_LIMIT = 100_000;

const yieldToLoop = () => new Promise((resolve) => setImmediate(resolve));

/**
 * Deliveries walked between two turns of the event loop when a walk skips or lists without
 * writing: ~3-10 ms at scale 10 with chaos (4,096 held /health 61-124 ms in /events/defects).
 */
const WALK_SLICE = 1024;

/** Advances an iterator by n, yielding to the event loop every few thousand steps; what remains. */
async function skip(iterator: Iterator<Delivery>, n: number): Promise<{ skipped: number; last: Delivery | undefined }> {
  let skipped = 0;
  let last: Delivery | undefined;
  while (skipped < n) {
    const slice = Math.min(n, skipped + WALK_SLICE);
    while (skipped < slice) {
      const r = iterator.next();
      if (r.done) return { skipped, last };
      // IDLE_EVERY steps walked: a turn for the event loop.
      if (r.value === IDLE) break;
      last = r.value;
      skipped++;
    }
    await yieldToLoop();
  }
  return { skipped, last };
}

/** Whether the iterator has a delivery left, giving the event loop a turn at each IDLE on the way. */
async function hasMore(iterator: Iterator<Delivery>): Promise<boolean> {
  for (;;) {
    const r = iterator.next();
    if (r.done) return false;
    if (r.value !== IDLE) return true;
    await yieldToLoop();
  }
}

/** An event as a flat CSV/XML record: `data` as a JSON string cell (the raw text for a truncated line). */
export const FLAT_COLUMNS = ['event_id', 'event_type', 'event_time', 'entity', 'key', 'op', 'sequence', 'defect', 'data'] as const;
export function flat(event: FeedEvent): object {
  return {
    event_id: event.event_id,
    event_type: event.event_type,
    event_time: event.event_time,
    entity: event.entity,
    key: event.key,
    op: event.op,
    sequence: event.sequence,
    defect: event.defect ?? null,
    data: event.raw ?? JSON.stringify(event.data),
  };
}

/** What a pause writes: no bytes (an empty chunk ends no stream). */
const NOTHING = Buffer.alloc(0);

/**
 * NDJSON of events: one per line, a truncated line's raw text verbatim, written into 64 KB
 * Buffers (src/events/ndjson.ts) that the socket gets whole.
 */
export function ndjsonStream(events: Iterable<FeedEvent>): Readable {
  function* chunks(): Generator<Buffer> {
    const out = new NdjsonChunks();
    for (const event of events) {
      // Nothing written: the stream takes another turn of the event loop.
      if (event === PAUSE) {
        yield NOTHING;
        continue;
      }
      const full = out.line(eventJson(event));
      if (full) yield full;
    }
    const rest = out.rest();
    if (rest) yield rest;
  }
  return turnTakingStream(chunks());
}

/** The parameters of `GET /api/v1/events` (and of `ecomgen events`), as validated. */
export type EventsQueryType = Static<typeof EventsQuery>;

export type FeedFormat = ReturnType<typeof chooseFormat>;

/** A page of the feed, ready to send: the body and what the headers say about it. */
export interface FeedPage {
  world: World;
  options: FeedOptions;
  /** The page asked for: deliveries [offset, offset + limit) after `after`. */
  offset: number;
  limit: number;
  /** Whether there are deliveries after the page (known for pages of up to LINK_LIMIT events only). */
  more: boolean;
  /** The page's last delivery, when walked ahead (for the Link cursor). */
  last: Delivery | undefined;
  /** With partition/partitions: the delivery positions [start, end) this slice holds. */
  range?: { start: number; end: number };
  body: Readable;
}

/**
 * The body of `GET /api/v1/events` for a query, shared by the route and `ecomgen events` so
 * both write the same bytes. `limit` may be Infinity (the whole feed, command line only).
 */
export async function feedPage(query: EventsQueryType, format: FeedFormat, limit: number, pool?: RenderPool | null, budget: CostBudget = DEFAULT_COST_BUDGET): Promise<FeedPage> {
  const problem = partitionProblem(query.partition, query.partitions);
  if (problem) throw badParameter(problem.parameter, problem.reason);
  const { world, options } = feedRequest(query, budget);
  let afterSequence = -1;
  // The merge at the cursor, sought once to check the cursor; the first seek after it uses it.
  let cursor: FeedMerge | undefined;
  if (query.after !== undefined) {
    const fingerprint = worldFingerprint(world);
    const sequence = sequenceOfId(fingerprint, query.after);
    if (sequence === undefined) throw badParameter('after', `'${query.after}' is not an event id of this world (seed, sizes, locale and window must match)`);
    // Ids are written one way: ev-<fingerprint>-<sequence> without leading zeros.
    if (eventId(fingerprint, sequence) !== query.after) throw badParameter('after', `'${query.after}' is not an event id as the feed writes it (${eventId(fingerprint, sequence)})`);
    afterSequence = sequence;
    cursor = await seekFeed(world, options, afterSequence);
    // A walk to the cursor that ends before passing it: the feed has no such event.
    if (cursor.sequence <= afterSequence) {
      throw badParameter('after', `'${query.after}' is past the end of this world's feed (${cursor.sequence} events, the last ${eventId(fingerprint, cursor.sequence - 1)})`);
    }
  }
  const soughtAt = afterSequence;
  const seek = async (after: number): Promise<FeedMerge> => {
    const merge = cursor && after === soughtAt ? cursor : await seekFeed(world, options, after);
    cursor = undefined;
    return merge;
  };
  const offset = query.offset ?? 0;
  // Without types and chaos every step is delivered, so an offset is a position in the feed:
  // it joins the cursor and the seek (checkpoints make it cheap) instead of being walked.
  const folded = offset > 0 && !options.types?.length && !chaosOf(world.seed, options);
  if (folded) afterSequence = (await seek(afterSequence)).sequence + offset - 1;
  const skipCount = folded ? 0 : offset;
  // Where the page ends, walked ahead without building rows, for the Link header: only for
  // pages of up to 100,000 events (a larger page is read in one go; walking it twice would
  // cost a third of its time).
  let more = false;
  let ahead: { skipped: number; last: Delivery | undefined } | undefined;
  if (limit <= LINK_LIMIT) {
    const probe = feedDeliveries(world, options, afterSequence, await seek(afterSequence), IDLE_EVERY).deliveries[Symbol.iterator]();
    ahead = await skip(probe, skipCount + limit);
    more = ahead.skipped === skipCount + limit && (await hasMore(probe));
  }
  // A partition is a contiguous part of the page asked for (src/generators/partition.ts): the
  // page's length is needed to cut it, so a page too large for the walk above is walked here.
  let start = offset;
  let count = limit;
  let range: { start: number; end: number } | undefined;
  if (query.partition !== undefined && query.partitions !== undefined) {
    if (!ahead) {
      const probe = feedDeliveries(world, options, afterSequence, await seek(afterSequence), IDLE_EVERY).deliveries[Symbol.iterator]();
      ahead = await skip(probe, skipCount + limit);
    }
    const skipped = (folded ? offset : 0) + ahead.skipped;
    range = partitionRange(offset, Math.max(offset, skipped), { partition: query.partition, partitions: query.partitions });
    start = range.start;
    count = range.end - range.start;
  }
  // A large NDJSON page from the feed's start: the clickstream on a render worker (src/events/split.ts).
  const chaos = chaosOf(world.seed, options) !== undefined;
  if (format === 'ndjson' && !range && splitApplies(options, chaos, afterSequence, offset, query.partition !== undefined, limit, pool)) {
    await prepareFeed(world);
    const body = splitNdjsonStream(pool, world, options, limit);
    if (body) return { world, options, offset, limit, more, last: ahead?.last, body };
  }
  const { merge, deliveries } = feedDeliveries(world, options, afterSequence, await seek(afterSequence), IDLE_EVERY);
  const iterator = deliveries[Symbol.iterator]();
  await skip(iterator, start - (offset - skipCount));
  let body: Readable;
  const events = page(merge, iterator, count, world.seed);
  if (format === 'ndjson') body = ndjsonStream(events);
  else if (format === 'json') body = formatStream(FORMATS.json, { columns: [], root: 'events', item: 'event' }, events, undefined, PAUSE);
  else body = formatStream(FORMATS[format], { columns: FLAT_COLUMNS, root: 'events', item: 'event' } satisfies FormatContext, flatEvents(events), undefined, PAUSE);
  return { world, options, offset, limit, more, last: ahead?.last, ...(range ? { range } : {}), body };
}

/** The defects of a feed (`GET /api/v1/events/defects`, `ecomgen events --defects`), in delivery order. */
export async function feedDefects(query: DefectsQueryType, budget: CostBudget = DEFAULT_COST_BUDGET): Promise<{ world: World; defects: object[] }> {
  const { world, options } = feedRequest(query, budget, true);
  const fingerprint = worldFingerprint(world);
  const iterator = feedDeliveries(world, options, -1, await seekFeed(world, options), IDLE_EVERY).deliveries[Symbol.iterator]();
  const defects: object[] = [];
  let position = 0;
  for (;;) {
    let r: IteratorResult<Delivery> | undefined;
    for (let n = 0; n < WALK_SLICE && !(r = iterator.next()).done; n++, position++) {
      const d = r.value;
      // IDLE_EVERY steps walked: not a position; a turn for the event loop.
      if (d === IDLE) break;
      if (d.defect) {
        defects.push({
          position,
          event_id: `ev-${fingerprint}-${d.sequence}`,
          sequence: d.sequence,
          event_type: stepType(d.step),
          event_time: iso(d.step.t),
          defect: d.defect,
          variant: d.variant ?? null,
        });
      }
    }
    if (!r || r.done) break;
    await yieldToLoop();
  }
  return { world, defects };
}

/** `GET /api/v1/events` and `GET /api/v1/events/defects`; with `split`, large NDJSON pages take the split path (src/events/split.ts). */
export default async function eventRoutes(app: FastifyInstance, opts: { split?: boolean; budget?: CostBudget }): Promise<void> {
  const budget = opts.budget ?? DEFAULT_COST_BUDGET;
  for (const schema of EventSchemas) app.addSchema(schema);
  app.addSchema(FeedEventSchema);
  app.addSchema(DefectSchema);
  const errorRef = Type.Ref(ErrorSchema);

  app.get(
    '/api/v1/events',
    {
      schema: {
        tags: ['Events'],
        summary: 'The change feed: every event of the world in time order',
        description:
          "The world's events in time order: users signing up, orders placed, paid, cancelled, shipped and delivered, payments, shipments, returns and every stock movement. Each event carries the whole row after the change, as GET serves it at that moment; replaying the feed onto empty tables (insert, then overwrite on update) gives exactly the tables GET serves. Pages, cursors, formats and `types` subsets are windows onto the same events. Optional deterministic chaos (late, duplicate, bad) is labelled in `defect` and listed by /api/v1/events/defects. Example: `curl 'http://localhost:8000/api/v1/events?seed=42&limit=5&format=ndjson'`",
        querystring: EventsQuery,
        response: {
          200: {
            description: 'A page of events. Headers: X-Seed, Link (next: a cursor after the last event of the page, when there are more; pages of up to 100,000 events), Content-Disposition for csv/ndjson/xml.',
            headers: {
              'X-Seed': { type: 'integer', description: 'The seed of this world (drawn when not given)' },
              Link: { type: 'string', description: 'RFC 8288 link to the next page (rel="next"), when there is one' },
              'X-Partition-Range': { type: 'string', description: 'With partition/partitions: the positions start-end (end exclusive) of this slice' },
            },
            content: {
              'application/json': { schema: Type.Array(Type.Ref(FeedEventSchema)) },
              'application/x-ndjson': { schema: Type.String({ description: 'One event per line; a truncated-line defect is written as its broken text' }) },
              'text/csv': { schema: Type.String({ description: `RFC 4180 CSV: ${FLAT_COLUMNS.join(', ')} (data as a JSON string)` }) },
              'application/xml': { schema: Type.String({ description: '<events><event>… with data as a JSON string' }) },
            },
          },
          400: { description: 'A parameter is invalid; the message names it and says why', ...errorRef },
          422: { description: "COST_BUDGET_EXCEEDED: preparing this world's feed would cost more than this server allows (see docs/limits.md); the message names the parameter to lower", ...errorRef },
        },
      },
    },
    async (request: FastifyRequest<{ Querystring: EventsQueryType }>, reply: FastifyReply) => {
      // Relative dates resolved once, for the world and for the Link that continues it.
      const query = resolveRelativeDates(request.query);
      const format = chooseFormat(query.format, request.headers.accept);
      const page = await feedPage(query, format, query.limit ?? 1000, opts.split === true ? app.renderPool : null, budget);
      const { world, options } = page;
      reply.header('X-Seed', world.seed).type(FORMATS[format].contentType);
      if (page.range) reply.header('X-Partition-Range', `${page.range.start}-${page.range.end}`);
      if (page.more) {
        const url = new URL(pinRelativeDates(request.url, request.query, query), 'http://localhost');
        url.searchParams.set('seed', String(world.seed));
        const chaos = (options.late_ratio ?? 0) + (options.duplicate_ratio ?? 0) + (options.bad_ratio ?? 0) > 0;
        if (chaos || !page.last) {
          url.searchParams.delete('after');
          url.searchParams.set('offset', String(page.offset + page.limit));
        } else {
          url.searchParams.delete('offset');
          url.searchParams.set('after', `ev-${worldFingerprint(world)}-${page.last.sequence}`);
        }
        reply.header('Link', `<${url.pathname}${url.search}>; rel="next"`);
      }
      // Each slice of a partitioned download has its own file name (curl -OJ would not overwrite the first).
      const part = partSuffix(query.partition, query.partitions);
      if (format !== 'json') reply.header('Content-Disposition', `attachment; filename="events-seed${world.seed}${part}.${FORMATS[format].extension}"`);
      return reply.send(page.body);
    },
  );

  app.get(
    '/api/v1/events/defects',
    {
      schema: {
        tags: ['Events'],
        summary: 'Every chaos defect of a feed, with its kind',
        description:
          'With the same world, window, types and ratios as a GET /api/v1/events request, lists every late, duplicated and malformed delivery of that feed with its position in it (0-based, counting every delivery), so a test can assert that its dead-letter queue got exactly these.',
        querystring: DefectsQuery,
        response: {
          200: { description: 'The defects, in delivery order', content: { 'application/json': { schema: Type.Array(Type.Ref(DefectSchema)) } } },
          400: { description: 'A parameter is invalid; the message names it and says why', ...errorRef },
          422: { description: "COST_BUDGET_EXCEEDED: preparing this world's feed, or holding its defects list, would cost more than this server allows (see docs/limits.md); the message names the parameter to lower", ...errorRef },
        },
      },
    },
    async (request: FastifyRequest<{ Querystring: DefectsQueryType }>, reply: FastifyReply) => {
      const { world, defects } = await feedDefects(request.query, budget);
      reply.header('X-Seed', world.seed).header('X-Total-Count', defects.length).type('application/json; charset=utf-8');
      // A short list as one string (with its Content-Length, compressed or not as before); a long one streamed.
      const body = jsonArray(defects);
      return reply.send(defects.length <= JSON_CHUNK ? (body.next().value as string) : turnTakingStream(body));
    },
  );
}

/**
 * Yielded by {@link page} for an {@link IDLE} of its walk: no event; the body's writer ends its
 * chunk there and writes the next in a later turn of the event loop.
 */
const PAUSE = Object.freeze({}) as FeedEvent;

function* page(merge: FeedMerge, deliveries: Iterator<Delivery>, limit: number, seed: number): Generator<FeedEvent> {
  for (let n = 0; n < limit; ) {
    const r = deliveries.next();
    if (r.done) return;
    if (r.value === IDLE) {
      yield PAUSE;
      continue;
    }
    n++;
    yield materialise(merge, r.value, seed);
  }
}

/**
 * A JSON array, a few thousand items a chunk: serialising a long list in one piece held the
 * event loop (the defects of a scale-10 feed with the reference chaos, 187,000 of them and 33 MB
 * of JSON, ~3 s of /health unanswered). The items' keys are in their schema's order, so the bytes
 * are those the response schema's serialiser wrote.
 */
function* jsonArray(items: readonly object[]): Generator<string> {
  if (items.length === 0) {
    yield '[]';
    return;
  }
  for (let k = 0; k < items.length; k += JSON_CHUNK) {
    const part = items.slice(k, k + JSON_CHUNK).map((item) => JSON.stringify(item)).join(',');
    yield (k === 0 ? '[' : ',') + part + (k + JSON_CHUNK >= items.length ? ']' : '');
  }
}
const JSON_CHUNK = 2048;

/** `f` of each event, {@link PAUSE} passed through. */
function* flatEvents(events: Iterable<FeedEvent>): Generator<object> {
  for (const event of events) yield event === PAUSE ? PAUSE : flat(event);
}

export { EVENT_TYPES, eventJson };
