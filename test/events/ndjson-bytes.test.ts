/**
 * The NDJSON chunk writer's events written straight into bytes (`NdjsonChunks.event`): byte for
 * byte JSON.stringify of each event and `eventJson`, over a whole small feed with its chaos,
 * rows holding escapes and non-ASCII text, numbers of every kind, and lines across chunk
 * boundaries.
 */
import { Buffer } from 'node:buffer';
import t from 'tap';
import { feedEvents, prepareFeed } from '../../src/events/feed.js';
import { eventJson, NdjsonChunks } from '../../src/events/ndjson.js';
import type { FeedEvent } from '../../src/events/types.js';
import { shapeOf, type PropertyNode } from '../../src/formats/compiled.js';
import { ENTITIES, isEntityName } from '../../src/generators/registry.js';
import { World } from '../../src/generators/world.js';
import { worldSpecFrom } from '../../src/routes/world-query.js';

/** Every event through one chunk writer, the chunks joined. */
function written(events: readonly FeedEvent[]): { bytes: Buffer; chunks: number } {
  const out = new NdjsonChunks();
  const chunks: Buffer[] = [];
  for (const event of events) {
    const full = out.event(event);
    if (full) chunks.push(Buffer.from(full));
  }
  const rest = out.rest();
  if (rest) chunks.push(Buffer.from(rest));
  return { bytes: Buffer.concat(chunks), chunks: chunks.length };
}

const expected = (events: readonly FeedEvent[]) => Buffer.from(events.map((e) => eventJson(e) + '\n').join(''), 'utf8');

const world = World.of(worldSpecFrom({ seed: 77, users: 60, vendors: 4, warehouses: 2, products: 30, orders: 200, shops: 2, suppliers: 4, transactions: 10 }));
await prepareFeed(world);
const feed = [...feedEvents(world)];

t.test('a whole feed: the bytes of JSON.stringify of each event', async (t) => {
  t.ok(feed.length > 3000, `${feed.length} events`);
  const entities = new Set(feed.map((e) => e.entity));
  t.ok(entities.size >= 8, `${entities.size} entities`);
  for (const event of feed.slice(0, 2000)) {
    if (eventJson(event) !== JSON.stringify(event)) t.fail(`eventJson of ${event.event_id}`);
  }
  const { bytes, chunks } = written(feed);
  t.ok(chunks > 1, `${chunks} chunks: lines cross chunk boundaries`);
  t.equal(bytes.length, expected(feed).length, 'length');
  t.ok(bytes.equals(expected(feed)), 'identical bytes');
  const lines = bytes.toString('utf8').split('\n').filter(Boolean);
  t.equal(lines.length, feed.length, 'one line an event');
  t.same(JSON.parse(lines[lines.length - 1] as string), feed[feed.length - 1], 'the last line parses back to its event');
});

t.test('chaos: labelled copies and malformed lines as eventJson writes them', async (t) => {
  const chaos = [...feedEvents(world, { late_ratio: 0.05, duplicate_ratio: 0.02, bad_ratio: 0.02 })];
  t.ok(chaos.some((e) => e.raw !== undefined), 'a truncated line among them');
  t.ok(chaos.some((e) => e.defect === 'duplicate'), 'a duplicate among them');
  t.ok(written(chaos).bytes.equals(expected(chaos)), 'identical bytes');
});

/** The columns of an entity whose schema says free text (escaped when needed), and its numbers. */
function columnsOf(entity: string, kind: 'string' | 'number'): string[] {
  if (!isEntityName(entity)) return [];
  const properties = ENTITIES[entity].schema.properties as Record<string, PropertyNode>;
  return Object.keys(properties).filter((c) => shapeOf(properties[c]).kind === kind);
}

const STRINGS = [
  'plain',
  '',
  'O\'Brien "the quote"',
  'back\\slash',
  'line\nbreak\ttab\r\u0000\u001f\u007f',
  'Müller Straße 5, Zürich',
  '東京都渋谷区',
  'emoji 🛒 pair',
  'lone \ud83d surrogate',
  'lone low \ude00 end',
  '\u2028\u2029 separators',
  'x'.repeat(70_000),
  'ü'.repeat(40_000),
];
const NUMBERS = [0, -0, 1, 9, 10, 99, 100, 123456789, 999999999, 1e9, 2 ** 31, 1e15, 1e21, -5, 12.5, 0.1, 59.6, -3.25, 1e-7, 123456.78, Number.NaN, Infinity];

t.test('rows with escapes, non-ASCII text and numbers of every kind', async (t) => {
  const variants: FeedEvent[] = [];
  const byEntity = new Map<string, FeedEvent>();
  for (const event of feed) if (!byEntity.has(event.entity)) byEntity.set(event.entity, event);
  let k = 0;
  for (const event of byEntity.values()) {
    for (const column of columnsOf(event.entity, 'string')) {
      for (const s of STRINGS) variants.push({ ...event, key: s.slice(0, 50), data: { ...event.data, [column]: s } });
      if (event.data[column] === null) variants.push({ ...event, data: { ...event.data } });
    }
    for (const column of columnsOf(event.entity, 'number')) {
      for (const n of NUMBERS) variants.push({ ...event, sequence: NUMBERS.includes(k) ? k : k++, data: { ...event.data, [column]: n } });
    }
  }
  t.ok(variants.length > 500, `${variants.length} events`);
  for (const event of variants) {
    const one = written([event]).bytes;
    if (!one.equals(Buffer.from(JSON.stringify(event) + '\n', 'utf8'))) t.fail(`${event.entity}: ${JSON.stringify(event).slice(0, 200)}`);
  }
  // Many at once: long lines start new chunks, short ones fill them.
  const mixed = variants.flatMap((v, i) => [v, feed[i % feed.length] as FeedEvent]);
  const { bytes, chunks } = written(mixed);
  t.ok(chunks > 10, `${chunks} chunks`);
  t.ok(bytes.equals(Buffer.from(mixed.map((e) => JSON.stringify(e) + '\n').join(''), 'utf8')), 'identical bytes, all together');
});

t.test('the sequence and event ids of a long feed', async (t) => {
  const base = feed[0] as FeedEvent;
  const events = [0, 7, 10, 65_535, 999_999_999, 1_000_000_000, 3_057_503, 12_345_678_901].map((sequence) => ({ ...base, sequence, event_id: `ev-x-${sequence}` }));
  t.ok(written(events).bytes.equals(expected(events)), 'identical bytes');
  t.equal(written(events).bytes.toString('utf8'), events.map((e) => JSON.stringify(e) + '\n').join(''), 'as JSON.stringify');
});
