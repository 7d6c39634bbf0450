/**
 * Seeking the change feed: a cursor, an offset or a start time deep in the feed resumes from a
 * checkpoint of the merge instead of walking from the start, and gives exactly the events a
 * walk from the start gives, byte for byte.
 */
import t from 'tap';
import { feedCheckpoints, feedDeliveries, feedEvents, materialise, prepareFeed, seekFeed, worldFingerprint } from '../../src/events/feed.js';
import type { FeedOptions } from '../../src/events/types.js';
import { World } from '../../src/generators/world.js';
import { eventJson } from '../../src/routes/events.js';
import { worldSpecFrom } from '../../src/routes/world-query.js';
import { testApp } from '../support/app.js';

/** Up to n events of the feed from a seek, as NDJSON lines. */
async function fromSeek(world: World, options: FeedOptions, after: number, n: number): Promise<string[]> {
  const merge = await seekFeed(world, options, after);
  const lines: string[] = [];
  for (const delivery of feedDeliveries(world, options, after, merge).deliveries) {
    lines.push(eventJson(materialise(merge, delivery, world.seed)));
    if (lines.length === n) break;
  }
  return lines;
}

t.test('a seek from a checkpoint gives the events of the walk from the start', async (t) => {
  const world = World.of(worldSpecFrom({ seed: 321, users: 40, vendors: 4, warehouses: 2, products: 25, orders: 120, shops: 2, suppliers: 4, transactions: 10 }));
  await prepareFeed(world);
  const walk = [...feedEvents(world)].map(eventJson);
  t.ok(walk.length > 1500, `${walk.length} events`);
  feedCheckpoints(world).setEvery(128);
  const afters = [0, 127, 128, 129, 500, 1000, walk.length - 30, walk.length - 1];
  // The first seeks lay the checkpoints down; the second round resumes from them.
  for (const round of ['walked', 'from checkpoints']) {
    for (const after of afters) {
      t.same(await fromSeek(world, {}, after, 25), walk.slice(after + 1, after + 26), `${round}: after ${after}`);
    }
    const { count } = feedCheckpoints(world);
    t.ok(count >= Math.floor((walk.length - 2) / 128) && count <= 64, `${count} checkpoints, one every 128 events, at most 64`);
  }
  // A start time: the first event at or after it, with its sequence.
  const events = walk.map((line) => JSON.parse(line) as { event_time: string; sequence: number });
  const at = events[1200]?.event_time as string;
  const first = events.findIndex((e) => e.event_time >= at);
  t.same(await fromSeek(world, { start: Date.parse(at) }, -1, 40), walk.slice(first, first + 40), 'start time');
});

t.test('cursor and offset pages at the end of a scale-1 feed equal the walk, byte for byte', async (t) => {
  const app = await testApp(t);
  const world = World.of(worldSpecFrom({ seed: 42, scale: 1 }));
  await prepareFeed(world);
  let total = 0;
  for (const delivery of feedDeliveries(world).deliveries) total = delivery.sequence + 1;
  const after = total - 120;
  const tail: string[] = [];
  for (const event of feedEvents(world, {}, after)) tail.push(eventJson(event) + '\n');
  t.equal(tail.length, 119, 'the walk of the tail');
  const get = async (query: string) => (await app.inject(`/api/v1/events?seed=42&scale=1&format=ndjson&${query}`)).body;
  const id = `ev-${worldFingerprint(world)}-${after}`;
  t.equal(await get(`after=${id}&limit=100`), tail.slice(0, 100).join(''), 'a cursor page near the end');
  t.equal(await get(`after=${id}&limit=1000`), tail.join(''), 'the last page, to the end');
  t.equal(await get(`offset=${after + 1}&limit=100`), tail.slice(0, 100).join(''), 'an offset page near the end');
  t.equal(await get(`offset=${after + 21}&limit=50&partition=1&partitions=2`), tail.slice(45, 70).join(''), 'a partition of an offset page');
  t.equal(await get(`offset=${total + 5}&limit=10`), '', 'an offset past the end');
});
