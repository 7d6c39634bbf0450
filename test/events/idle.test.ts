/**
 * A rare `types=` subset walks many other steps between two of its own: walked with `idleEvery`,
 * the feed yields IDLE in between (so the HTTP routes give the event loop a turn), and nothing
 * else changes: the deliveries without the IDLEs are those of the walk without them, and the
 * route's bytes are those of the same events walked by feedEvents.
 */
import t from 'tap';
import { IDLE } from '../../src/events/chaos.js';
import { FeedMerge, FeedWorld, feedDeliveries, feedEvents, prepareFeed } from '../../src/events/feed.js';
import type { FeedOptions } from '../../src/events/types.js';
import { World } from '../../src/generators/world.js';
import { eventJson } from '../../src/routes/events.js';
import { worldSpecFrom } from '../../src/routes/world-query.js';
import { REPLAY_PAUSE } from '../../src/streams/feed-contract.js';
import { changeFeed } from '../../src/streams/source.js';
import { testApp } from '../support/app.js';

const spec = { seed: 99, users: 60, vendors: 4, warehouses: 2, products: 30, orders: 150, shops: 2, suppliers: 4, transactions: 10 };

t.test('IDLE comes every idleEvery steps walked, delivered or not, and only when asked', async (t) => {
  const world = World.of(worldSpecFrom(spec));
  await prepareFeed(world);
  const all = [...feedEvents(world)].length;
  for (const options of [{ types: ['user.updated'] }, { types: ['review.posted', 'user.updated'], late_ratio: 0.2, duplicate_ratio: 0.1 }] as FeedOptions[]) {
    const plain = [...feedDeliveries(world, options, -1, new FeedMerge(FeedWorld.of(world))).deliveries];
    t.notOk(plain.includes(IDLE), 'no IDLE without idleEvery');
    const paced = [...feedDeliveries(world, options, -1, new FeedMerge(FeedWorld.of(world)), 64).deliveries];
    const idles = paced.filter((d) => d === IDLE).length;
    t.same(paced.filter((d) => d !== IDLE), plain, `${JSON.stringify(options)}: the same ${plain.length} deliveries`);
    // Every step of the feed is walked: one IDLE per 64 of them, whether delivered or walked past.
    t.equal(idles, Math.floor(all / 64), `${idles} IDLEs for the ${all} steps walked`);
  }
  // A subset delivered often (most steps): the deliveries alone never hold the walk for more than 64 steps.
  const dense = [...feedDeliveries(world, {}, -1, new FeedMerge(FeedWorld.of(world)), 64).deliveries];
  let run = 0;
  let longest = 0;
  for (const d of dense) {
    run = d === IDLE ? 0 : run + 1;
    longest = Math.max(longest, run);
  }
  t.equal(longest, 64, 'the whole feed: at most 64 deliveries between two IDLEs');
  t.same(dense.filter((d) => d !== IDLE).length, all, 'every step delivered once');
});

t.test('the route writes a rare subset with pauses in every format and the same bytes as the walk', async (t) => {
  const app = await testApp(t);
  const big = { ...spec, users: 300, orders: 1500 };
  const world = World.of(worldSpecFrom(big));
  await prepareFeed(world);
  // The type with the longest run of other steps between two of its events (or the ends): over
  // the route's 4,096, so its walk pauses at least once.
  const last = new Map<string, number>();
  const gap = new Map<string, number>();
  let total = 0;
  for (const event of feedEvents(world)) {
    const before = last.get(event.event_type) ?? -1;
    gap.set(event.event_type, Math.max(gap.get(event.event_type) ?? 0, event.sequence - before - 1));
    last.set(event.event_type, event.sequence);
    total = event.sequence + 1;
  }
  for (const [type, at] of last) gap.set(type, Math.max(gap.get(type) ?? 0, total - at - 1));
  const [type, longest] = [...gap].sort((a, b) => b[1] - a[1])[0] as [string, number];
  t.ok(longest > 4096, `${type}: ${longest} steps in a row without one (of ${total})`);
  const query = `${Object.entries(big).map(([k, v]) => `${k}=${v}`).join('&')}&types=${type}&limit=1000000`;
  const expected = [...feedEvents(world, { types: [type] })].map(eventJson);
  const ndjson = await app.inject({ url: `/api/v1/events?${query}&format=ndjson` });
  t.equal(ndjson.statusCode, 200);
  t.same(ndjson.body.split('\n').filter(Boolean), expected, `NDJSON: the ${expected.length} ${type} events of the walk`);
  const json = await app.inject({ url: `/api/v1/events?${query}&format=json` });
  const parsed = JSON.parse(json.body) as unknown;
  t.same(Array.isArray(parsed) ? parsed : (parsed as { events: unknown }).events, expected.map((line) => JSON.parse(line)), 'JSON: the same events');
  for (const format of ['csv', 'xml']) {
    const flatBody = await app.inject({ url: `/api/v1/events?${query}&format=${format}` });
    t.equal(flatBody.statusCode, 200);
    t.equal(flatBody.body.split('<event>').length - 1 || flatBody.body.trimEnd().split('\n').length - 1, expected.length, `${format}: one record per event`);
  }
  const defects = await app.inject({ url: `/api/v1/events/defects?${Object.entries(big).map(([k, v]) => `${k}=${v}`).join('&')}&types=${type}&duplicate_ratio=0.5` });
  const listed = JSON.parse(defects.body) as { event_type: string; position: number }[];
  t.ok(listed.length > 0 && listed.every((d) => d.event_type === type), `${listed.length} defects, all ${type}`);
  const walked = [...feedDeliveries(world, { types: [type], duplicate_ratio: 0.5 }).deliveries];
  const positions = walked.flatMap((d, position) => (d.defect ? [position] : []));
  t.same(listed.map((d) => d.position), positions, 'the positions of the walk without pauses');
});

t.test('a replay stream of a rare subset pauses on its walk and plays the feed\'s events', async (t) => {
  const big = { ...spec, users: 300, orders: 1500 };
  const world = worldSpecFrom(big);
  const request = { world, feed: { types: ['inventory.opened'] }, live: { seed: 1 } as never };
  await changeFeed.prepare?.(request);
  const played = [...changeFeed.open(request).replay(0)];
  const pauses = played.filter((e) => e === REPLAY_PAUSE).length;
  t.ok(pauses >= 10, `${pauses} pauses (the subset's 60 events lie far apart)`);
  t.same(played.filter((e) => e !== REPLAY_PAUSE).map(eventJson), [...feedEvents(World.of(world), { types: ['inventory.opened'] })].map(eventJson));
});
