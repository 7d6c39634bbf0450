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

t.test('volume follows the rate; the mix by origin follows the weights (stock sales belong to the order flow)', async (t) => {
  // Three hours at 4 events/s without the daily curve: 43,200 events expected.
  const counts = { total: 0, interactions: 0, orderFlow: 0, sales: 0, background: 0 };
  const perMinute = new Set<number>();
  for (let m = 0; m < 180; m++) {
    const minute = liveMinute(spec, NOON + m * 60_000);
    perMinute.add(minute.length);
    for (const e of minute) {
      counts.total++;
      const word = e.event_type.split('.')[0];
      if (word === 'interaction') counts.interactions++;
      else if (word === 'inventory' && (e.data as { movement_type?: string }).movement_type !== 'SALE') counts.background++;
      else {
        counts.orderFlow++;
        if (word === 'inventory') counts.sales++;
      }
    }
  }
  const share = (n: number) => n / counts.total;
  t.same([...perMinute], [240], 'every minute holds exactly 4 x 60 events: interactions and stock changes fill what the order flow leaves');
  t.equal(counts.total, 43_200, '43,200 events in 3 hours');
  t.ok(Math.abs(share(counts.interactions) - 0.3) < 0.015, `interactions ${share(counts.interactions).toFixed(3)} (weight 0.3)`);
  t.ok(Math.abs(share(counts.orderFlow) - 0.6) < 0.02, `order flow with its stock sales ${share(counts.orderFlow).toFixed(3)} (weight 0.6)`);
  t.ok(Math.abs(share(counts.background) - 0.1) < 0.01, `background stock changes ${share(counts.background).toFixed(3)} (weight 0.1)`);
  t.ok(share(counts.sales) > 0.08 && share(counts.sales) < 0.16, `stock sales of shipped lines ${share(counts.sales).toFixed(3)} of all events`);
  const heavy = { ...spec, weights: { orders: 0.2, interactions: 0.2, inventory: 0.6 } };
  let background = 0;
  let total = 0;
  for (let m = 0; m < 30; m++) {
    for (const e of liveMinute(heavy, NOON + m * 60_000)) {
      total++;
      if (e.event_type.startsWith('inventory.') && (e.data as { movement_type?: string }).movement_type !== 'SALE') background++;
    }
  }
  t.ok(Math.abs(background / total - 0.6) < 0.03, `other weights are honoured: background stock changes ${(background / total).toFixed(3)} (weight 0.6)`);
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

t.test("a purchase confirms a live order placed before it, as that order's customer", async (t) => {
  // Five minutes before the hour walked: a purchase names the last order placed before it.
  const placed = new Map<string, { time: string; user: unknown }>();
  let purchases = 0;
  const wrong: string[] = [];
  for (let m = -5; m < 60; m++) {
    for (const e of liveMinute(spec, NOON + m * 60_000)) {
      if (e.event_type === 'order.placed') placed.set(e.key, { time: e.event_time, user: e.data.user_id });
      if (e.event_type !== 'interaction.purchase' || m < 0) continue;
      purchases++;
      const order = placed.get(String(e.data.order_id));
      if (order === undefined) wrong.push(`${e.event_id}: order ${String(e.data.order_id)} not placed before it`);
      else if (order.time > e.event_time || order.user !== e.data.user_id) wrong.push(`${e.event_id}: not after its order, or not its customer`);
    }
  }
  t.ok(purchases > 50, `${purchases} purchases in an hour`);
  t.same(wrong, [], 'every purchase resolves to an order already placed');
  const none = liveMinute({ ...spec, weights: { orders: 0, interactions: 1, inventory: 0 } }, NOON).filter((e) => e.event_type === 'interaction.purchase');
  t.ok(none.length > 0 && none.every((e) => e.data.order_id === null), 'without live orders, a purchase names none');
});
