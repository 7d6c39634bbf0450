/**
 * The open-ended (live) world: the events of a minute are a pure function of (spec, minute),
 * sorted by time, as many as the rate asks for, and an order's later stages come in later
 * minutes with the same order.
 */
import t from 'tap';
import { isEventType } from '../../src/events/catalogue.js';
import { liveMinute } from '../../src/events/live.js';
import type { LiveWorldSpec } from '../../src/events/types.js';

const spec: LiveWorldSpec = { seed: 7, locale: 'en_GB', events_per_second: 4, daily_curve: false };
const NOON = Date.UTC(2026, 2, 2, 12, 0);

t.test('a minute is a pure function of the spec and the minute, sorted by time', async (t) => {
  const a = liveMinute(spec, NOON);
  const b = liveMinute({ ...spec }, NOON + 17_000); // any moment of the minute names it
  t.equal(JSON.stringify(a), JSON.stringify(b));
  t.ok(a.length > 0);
  for (let k = 1; k < a.length; k++) t.ok((a[k - 1]?.event_time ?? '') <= (a[k]?.event_time ?? ''), `event ${k} in time order`);
  t.ok(a.every((e) => isEventType(e.event_type) && e.event_time.startsWith('2026-03-02T12:00:')), 'known types, inside the minute');
  t.equal(new Set(a.map((e) => e.event_id)).size, a.length, 'ids unique');
  t.not(JSON.stringify(liveMinute({ ...spec, seed: 8 }, NOON)), JSON.stringify(a), 'another seed, other events');
});

t.test('volume follows the rate; the mix follows the weights', async (t) => {
  let total = 0;
  let interactions = 0;
  for (let m = 0; m < 10; m++) {
    const events = liveMinute(spec, NOON + m * 60_000);
    total += events.length;
    interactions += events.filter((e) => e.event_type.startsWith('interaction.')).length;
  }
  // 4 events/s x 600 s = 2,400 expected; orders ramp up over their first hours of stages, so
  // only placements and payments count at the start: accept a wide band around the rate.
  t.ok(total > 1000 && total < 3600, `${total} events in 10 minutes`);
  t.ok(Math.abs(interactions - 720) < 120, `${interactions} interactions (expected 720: 0.3 of the rate)`);
});

t.test("an order's payment follows its placement with the same order_id", async (t) => {
  const placed = new Map<string, string>();
  let paid = 0;
  for (let m = 0; m < 50; m++) {
    for (const e of liveMinute({ ...spec, weights: { orders: 1, interactions: 0, inventory: 0 } }, NOON + m * 60_000)) {
      if (e.event_type === 'order.placed') placed.set(e.key, e.event_time);
      if (e.event_type === 'order.paid' && placed.has(e.key)) {
        paid++;
        t.ok((placed.get(e.key) ?? '') <= e.event_time);
        t.equal(e.data.status, 'processing');
      }
    }
  }
  t.ok(paid > 50, `${paid} orders placed and paid inside 50 minutes`);
});

t.test('chaos in a live minute is labelled', async (t) => {
  const events = liveMinute({ ...spec, events_per_second: 20, late_ratio: 0.05, duplicate_ratio: 0.05, bad_ratio: 0.05 }, NOON);
  const kinds = { late: 0, duplicate: 0, bad: 0 };
  for (const e of events) if (e.defect) kinds[e.defect]++;
  t.ok(kinds.late > 0 && kinds.duplicate > 0 && kinds.bad > 0, JSON.stringify(kinds));
});
