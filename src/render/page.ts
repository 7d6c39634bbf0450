import { Buffer } from 'node:buffer';
import { gzipSync } from 'node:zlib';
import type { BulkTarget } from '../formats/bulk.js';
import { FORMATS, formatChunks, type FormatName, type RecordFormat } from '../formats/index.js';
import type { FormatContext } from '../formats/types.js';
import { writesColumns, type FieldSource } from '../formats/fields.js';
import type { EntityName } from '../generators/registry.js';
import { servedOrder } from '../generators/served-order.js';
import { World, type WorldSpec } from '../generators/world.js';
import { dateWindowHeader } from '../routes/world-query.js';
import { formatContext, recordsOf } from './batch.js';
import { ENTITY_GZIP_LEVEL } from './gzip.js';

/**
 * An unseeded page of the entity route, as plain values (it crosses to a render worker): the
 * request's world without its seed, what the page holds and how it is written, and what its
 * seed-dependent headers need (the request URL for Link). {@link renderPage} turns it and a seed
 * into that seed's page and headers, the same function on the route's thread and on a worker.
 */
export interface PagePlan {
  readonly spec: WorldSpec;
  readonly entity: EntityName;
  readonly format: FormatName;
  readonly columns: readonly string[];
  readonly projected: boolean;
  readonly bulk?: BulkTarget;
  /** Records offset..end-1 (a partition of the page asked for, or the page). */
  readonly offset: number;
  readonly end: number;
  /** The population the page was rendered against: a seed with another one is not rendered here. */
  readonly total: number;
  /** The request URL and its paging, for the Link header. */
  readonly url: string;
  readonly pageStart: number;
  readonly limit: number;
  readonly byPage: boolean;
}

/** A seed's page: the headers that depend on the seed (lower-case names) and the body. */
export interface RenderedPage {
  headers: Record<string, string | number>;
  body: string | Uint8Array;
}

/** Values no query holds: `=` inside a value is percent-encoded, so `key=` + these occur only where set. */
const LINK_SLOT = 'ecomgen-link-slot';
const SEED_SLOT = 'ecomgen-seed-slot';

/** Link templates by request URL (see linkTemplate); a few hundred, dropped whole when full. */
const linkTemplates = new Map<string, readonly [before: string, between: string, after: string, seedFirst: boolean]>();
const LINK_TEMPLATES = 256;

/**
 * The request's URL as the Link header writes it, cut where the seed and the offset (or page)
 * go. The query is parsed and serialised once per distinct URL (WHATWG URL rules, so
 * percent-encoding is normalised as before): a small page spent ~7% of its CPU in `new URL`.
 */
function linkTemplate(url: string, byPage: boolean): readonly [string, string, string, boolean] {
  const cacheKey = (byPage ? 'p' : 'o') + url;
  let template = linkTemplates.get(cacheKey);
  if (!template) {
    const parsed = new URL(url, 'http://localhost');
    parsed.searchParams.set('seed', SEED_SLOT);
    const key = byPage ? 'page' : 'offset';
    parsed.searchParams.delete(byPage ? 'offset' : 'page');
    parsed.searchParams.set(key, LINK_SLOT);
    const text = `${parsed.pathname}${parsed.search}`;
    const seedAt = text.indexOf(`seed=${SEED_SLOT}`);
    const slotAt = text.indexOf(`${key}=${LINK_SLOT}`);
    const [first, second] = seedAt < slotAt ? [`seed=${SEED_SLOT}`, `${key}=${LINK_SLOT}`] : [`${key}=${LINK_SLOT}`, `seed=${SEED_SLOT}`];
    const [before = '', rest = ''] = text.split(first);
    const [between = '', after = ''] = rest.split(second);
    template = [before, between, after, seedAt < slotAt];
    if (linkTemplates.size >= LINK_TEMPLATES) linkTemplates.clear();
    linkTemplates.set(cacheKey, template);
  }
  return template;
}

/** RFC 8288 Link header: first, prev, next and last pages, each pinned to the same seed. */
export function linkHeader(url: string, seed: number | string, offset: number, limit: number, total: number, byPage: boolean): string {
  const [before, between, after, seedFirst] = linkTemplate(url, byPage);
  const key = byPage ? 'page=' : 'offset=';
  const seedPart = `seed=${seed}`;
  const at = (start: number) => {
    const slot = key + (byPage ? Math.floor(start / limit) + 1 : start);
    return seedFirst ? `<${before}${seedPart}${between}${slot}${after}>` : `<${before}${slot}${between}${seedPart}${after}>`;
  };
  const lastStart = total === 0 ? 0 : Math.floor((total - 1) / limit) * limit;
  let links = `${at(0)}; rel="first"`;
  if (offset > 0) links += `, ${at(Math.max(0, offset - limit))}; rel="prev"`;
  if (offset + limit < total) links += `, ${at(offset + limit)}; rel="next"`;
  return `${links}, ${at(lastStart)}; rel="last"`;
}

/** The dates a response covers (relative dates resolved): the world's window, or an entity's own range (performance-events). */
export function dateWindowOf(world: World, entity: EntityName): string {
  const generator = world.generator(entity) as { rangeStart?: number; rangeEnd?: number };
  return generator.rangeStart !== undefined && generator.rangeEnd !== undefined
    ? dateWindowText(generator.rangeStart, generator.rangeEnd)
    : dateWindowText(world.window.start, world.window.end);
}

/** The last X-Date-Window written, kept: nearly every request has the default window (two toISOString calls saved). */
let lastWindow = { start: NaN, end: NaN, text: '' };
function dateWindowText(start: number, end: number): string {
  if (lastWindow.start !== start || lastWindow.end !== end) lastWindow = { start, end, text: dateWindowHeader(start, end) };
  return lastWindow.text;
}

/** The Content-Disposition of a download: analytics/users -> analytics-users-seed1.csv (`curl -OJ` keeps only the last path segment). */
export function attachment(entity: EntityName, seed: number, suffix: string): string {
  return `attachment; filename="${entity.replace(/\//g, '-')}-seed${seed}${suffix}"`;
}

/** `spec` with another seed (written out: see withLocaleAndParams in src/routes/entities.ts). */
export function withSeed(spec: WorldSpec, seed: number): WorldSpec {
  const { sizes, locale, window, params, knobs } = spec;
  if (knobs === undefined) return params === undefined ? { seed, sizes, locale, window } : { seed, sizes, locale, window, params };
  return params === undefined ? { seed, sizes, locale, window, knobs } : { seed, sizes, locale, window, knobs, params };
}

/**
 * The whole text of a small page without yielding (what `formatPage` returns): for the page
 * cache's front, which answers in the server's request listener, and for render workers. Only
 * pages of up to 64 KB are answered so (a few milliseconds at most).
 */
export function pageNow(format: RecordFormat, context: FormatContext, records: Iterable<object>): string {
  const chunks = formatChunks(format, context, records);
  let out = chunks.next() ?? '';
  while (!chunks.finished) out += chunks.next() ?? '';
  return out;
}

/**
 * Pages of up to this many records are written field by field straight into bytes, without
 * yielding, where the entity and format can be (src/formats/fields.ts): for a 10-user JSON page,
 * a fresh world and its page cost ~29 µs so against ~48 µs as record objects, text and its
 * encoding (docs/performance.md, "Eighth round"). Larger pages stay text written a chunk at a
 * time, yielding between chunks.
 */
const BYTE_PAGE = 100;
/** Bytes per row of the last page written as bytes, by entity and format: the next one reserves that much. */
const pageBytesPerRow = new Map<string, number>();

/** A small page as bytes written field by field (the same bytes as the format's text), or undefined when it cannot be. */
export function pageBytes(world: World, entity: EntityName, format: RecordFormat, context: FormatContext, start: number, end: number): Buffer | undefined {
  if (end <= start || end - start > BYTE_PAGE || format.fieldRows === undefined) return undefined;
  const { fields } = world.generator(entity) as { fields?: FieldSource };
  if (fields === undefined || servedOrder(world, entity) !== undefined || !writesColumns(fields, context)) return undefined;
  const rows = format.fieldRows(context, true);
  const hint = `${entity} ${format.name}`;
  const open = format.open(context);
  const close = format.close(context, false);
  rows.reserve(Math.ceil((pageBytesPerRow.get(hint) ?? 1024) * (end - start) * 1.1) + 3 * (open.length + close.length) + 256);
  rows.raw(open);
  for (let i = start; i < end; i++) fields.write(i, rows);
  rows.raw(close);
  const page = rows.take();
  pageBytesPerRow.set(hint, (page.length - open.length - close.length) / (end - start));
  return page;
}

/** The format context of a plan (its columns, and the bulk target when format=bulk). */
export function planContext(plan: PagePlan): FormatContext {
  const context = formatContext(plan.entity, plan.columns);
  return plan.bulk ? { ...context, bulk: plan.bulk } : context;
}

/**
 * The headers that name a world's seed, as the route sends them for a plan's page. The seed is
 * turned into text once, here, on the thread that renders the page (the page thread, for pages
 * rendered ahead), not on the main thread as each answer is written: V8 keeps the numbers it
 * turns into text in a cache held by the old generation, so every unseeded answer's new seed
 * outlived a scavenge of the main heap and was promoted (~47 KB a scavenge under wrk against
 * ~13 KB with the text made here: docs/performance.md, "Fifteenth round").
 */
export function seedHeaders(plan: PagePlan, world: World): Record<string, string | number> {
  const seed = String(world.seed);
  return {
    'x-seed': seed,
    'x-date-window': dateWindowOf(world, plan.entity),
    link: linkHeader(plan.url, seed, plan.pageStart, plan.limit, plan.total, plan.byPage),
  };
}

/** A plan's page in a world as bytes written field by field, where the entity and format can be (see pageBytes). */
export function planBytes(plan: PagePlan, context: FormatContext, world: World): Buffer | undefined {
  return plan.projected || plan.bulk ? undefined : pageBytes(world, plan.entity, FORMATS[plan.format], context, plan.offset, plan.end);
}

/** A plan's page in a world, without yielding: bytes where it can be written so, else text. */
export function planBody(plan: PagePlan, context: FormatContext, world: World): string | Uint8Array {
  return planBytes(plan, context, world) ?? pageNow(FORMATS[plan.format], context, recordsOf(world, plan.entity, plan.offset, plan.end, plan.projected ? plan.columns : null));
}

/**
 * A seed's page of an unseeded URL and the headers that depend on the seed, exactly what the
 * route sends for that seed (its own answer is built by the same functions); undefined when the
 * seed's world has another population (the route then answers it).
 */
export function renderPage(plan: PagePlan, context: FormatContext, seed: number): RenderedPage | undefined {
  const world = World.fresh(withSeed(plan.spec, seed));
  if (world.generator(plan.entity).population !== plan.total) return undefined;
  const headers = seedHeaders(plan, world);
  if (plan.format !== 'json') headers['content-disposition'] = attachment(plan.entity, seed, `.${FORMATS[plan.format].extension}`);
  return { headers, body: planBody(plan, context, world) };
}

/** What {@link renderPageBatch} returns when a seed's world has another population (the plan cannot render it). */
export const UNRENDERABLE = 'unrenderable';

/** Pages of one plan for several seeds: each page's seed headers and length, the bodies end to end. */
export interface RenderedBatch {
  heads: Record<string, string | number>[];
  lengths: number[];
  /** The bodies in order, in a buffer of its own (not Node's shared pool: it can be transferred). */
  bytes: Buffer;
}

/**
 * `count` pages of a plan, each for the seed `seed()` draws, written field by field one after
 * another into one buffer by one writer: the page thread's batch (src/render/worker.ts). A writer
 * and a buffer per page, then a copy of every page into the batch's own buffer, cost ~15-25%
 * more a page (32-page batches of `users?limit=10` in one process, alternating: JSON ~35 against
 * ~28 µs, CSV ~27 against ~22; docs/performance.md, "Eleventh round"). Each page's bytes and headers are
 * {@link renderPage}'s for its seed (test/render/page-batch.test.ts). Undefined when the plan's
 * pages are not written as bytes (the caller renders them one by one), {@link UNRENDERABLE}
 * when a seed's world has another population. With `into`, the bodies are written into that
 * buffer when they fit (`bytes` is then a view of it).
 */
export function renderPageBatch(plan: PagePlan, context: FormatContext, count: number, seed: () => number, into?: Buffer): RenderedBatch | typeof UNRENDERABLE | undefined {
  const format = FORMATS[plan.format];
  const { entity, offset, end } = plan;
  if (plan.projected || plan.bulk || end <= offset || end - offset > BYTE_PAGE || format.fieldRows === undefined || count <= 0) return undefined;
  const open = format.open(context);
  const close = format.close(context, false);
  const rows = format.fieldRows(context, true);
  const hint = `${entity} ${format.name}`;
  const perPage = Math.ceil((pageBytesPerRow.get(hint) ?? 1024) * (end - offset) * 1.1) + open.length + close.length;
  // In `into` (a slot of shared memory) when the batch should fit, or its size is not known
  // yet; a batch that outgrows it continues in a buffer of the writer's own (the caller sees
  // `bytes` elsewhere).
  if (into !== undefined && (into.length >= count * perPage + 256 || !pageBytesPerRow.has(hint))) rows.into(into);
  else rows.reserve(count * perPage + 256);
  const heads: Record<string, string | number>[] = [];
  const lengths: number[] = [];
  for (let k = 0; k < count; k++) {
    const world = World.fresh(withSeed(plan.spec, seed()));
    const generator = world.generator(entity);
    if (generator.population !== plan.total) return UNRENDERABLE;
    const { fields } = generator as { fields?: FieldSource };
    // Whether the entity writes these columns field by field does not depend on the seed.
    if (fields === undefined || (k === 0 && (servedOrder(world, entity) !== undefined || !writesColumns(fields, context)))) return undefined;
    const headers = seedHeaders(plan, world);
    if (plan.format !== 'json') headers['content-disposition'] = attachment(entity, world.seed, `.${format.extension}`);
    heads.push(headers);
    const at = rows.length;
    rows.restart();
    rows.raw(open);
    for (let i = offset; i < end; i++) fields.write(i, rows);
    rows.raw(close);
    lengths.push(rows.length - at);
  }
  const bytes = rows.take();
  pageBytesPerRow.set(hint, (bytes.length / count - open.length - close.length) / (end - offset));
  return { heads, lengths, bytes };
}

/**
 * A small body as the entity route's compression writes it (@fastify/compress's synchronous
 * path for a small body, at the route's gzip level); undefined for a coding not reproduced here.
 * The page cache checks it against the route's own answer before using it.
 */
export function encodePage(coding: string, body: Uint8Array): Buffer | undefined {
  return coding === 'gzip' ? gzipSync(body, { level: ENTITY_GZIP_LEVEL }) : undefined;
}
