/**
 * The feed's hand-written NDJSON line is byte for byte JSON.stringify of the event: for every
 * event of small worlds in both locales, and for events whose key is not the row's own value of
 * its key column (then the key goes through JSON.stringify, escapes and all).
 */
import t from 'tap';
import { feedEvents, prepareFeed } from '../../src/events/feed.js';
import { eventJson, eventMiddle, eventTail } from '../../src/events/ndjson.js';
import type { FeedEvent } from '../../src/events/types.js';
import { World } from '../../src/generators/world.js';
import { worldSpecFrom } from '../../src/routes/world-query.js';

for (const locale of ['en_US', 'en_GB'] as const) {
  t.test(`every event's line is JSON.stringify of it (${locale})`, async (t) => {
    const world = World.of({ ...worldSpecFrom({ seed: 77, users: 40, vendors: 4, warehouses: 2, products: 25, orders: 120, shops: 2, suppliers: 4, transactions: 10 }), locale });
    await prepareFeed(world);
    let differ = 0;
    let n = 0;
    const entities = new Set<string>();
    for (const event of feedEvents(world)) {
      n++;
      entities.add(event.entity);
      if (eventJson(event) !== JSON.stringify(event)) differ++;
    }
    t.ok(n > 1500, `${n} events`);
    t.ok(entities.size >= 10, `${entities.size} entities`);
    t.equal(differ, 0, 'eventJson(event) === JSON.stringify(event) for every event');
  });
}

t.test("a key that is not the row's key column's value goes through JSON.stringify", async (t) => {
  const world = World.of(worldSpecFrom({ seed: 5, users: 20, products: 10, orders: 30, warehouses: 2, vendors: 2, shops: 1, suppliers: 2, transactions: 5 }));
  await prepareFeed(world);
  const samples = new Map<string, FeedEvent>();
  for (const event of feedEvents(world)) if (!samples.has(event.entity)) samples.set(event.entity, event);
  t.ok(samples.size >= 10, `${samples.size} entities`);
  for (const event of samples.values()) {
    for (const key of ['a "quoted" key', 'back\\slash', 'line\nbreak', '\ud800 lone', 'plain-but-not-the-row']) {
      const odd = { ...event, key };
      t.equal(eventJson(odd), JSON.stringify(odd), `${event.entity}: ${JSON.stringify(key)}`);
      t.equal('{"event_id":"' + odd.event_id + eventMiddle(odd) + odd.sequence + eventTail(odd), JSON.stringify(odd), `${event.entity}: parts`);
    }
  }
});
