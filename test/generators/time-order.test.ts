import t from 'tap';
import { World, resolveSizes } from '../../src/generators/world.js';
import { DAY, parseDate } from '../../src/generators/time.js';
import { Timeline } from '../../src/generators/timeline.js';

const window = { start: parseDate('2025-01-01', false) as number, end: parseDate('2025-12-31', true) as number };

/** Index of the first element that is earlier than its predecessor, or -1. */
function firstDecrease(times: readonly number[]): number {
  for (let k = 1; k < times.length; k++) if ((times[k] as number) < (times[k - 1] as number)) return k;
  return -1;
}

t.test('Timeline: timeAt and fractionBefore are inverse, monotone and inside the window', async (t) => {
  const tl = new Timeline({ start: window.start + 3_600_000 * 5.5, end: window.end - 1234 }, 0, (from, to) => 1 + (from - window.start) / (to - window.start));
  let previous = -Infinity;
  let worst = 0;
  let outside = 0;
  let decreases = 0;
  for (let k = 0; k <= 10_000; k++) {
    const q = k / 10_001;
    const at = tl.timeAt(q);
    if (at < tl.start || at >= tl.end) outside++;
    if (at < previous) decreases++;
    previous = at;
    worst = Math.max(worst, Math.abs(tl.fractionBefore(at) - q));
  }
  t.equal(outside, 0, 'every moment inside the window');
  t.equal(decreases, 0, 'timeAt is non-decreasing');
  t.ok(worst < 1e-6, `fractionBefore(timeAt(q)) = q (worst error ${worst})`);
  t.equal(tl.fractionBefore(tl.start - 1), 0);
  t.equal(tl.fractionBefore(tl.end), 1);
});

for (const [seed, scale, locale] of [[42, 1, 'en_US'], [90210, 3, 'en_GB']] as const) {
  t.test(`seed ${seed}, scale ${scale}, ${locale}: records are numbered in time order`, async (t) => {
    const world = World.of({ seed, sizes: resolveSizes(scale, {}), locale, window });
    const users = world.generator('users');
    const orders = world.generator('orders');
    const sessions = world.generator('sessions');
    const transactions = world.generator('transactions');

    const signups = Array.from({ length: users.population }, (_, i) => Date.parse(users.record(i).created_at));
    t.equal(firstDecrease(signups), -1, `${users.population} users in sign-up order`);
    t.same(signups, Array.from({ length: users.population }, (_, i) => Math.floor(users.createdAt(i) / 1000) * 1000), 'createdAt(i) is the record\'s created_at');

    const placed: number[] = [];
    let early = 0;
    let misnumbered = 0;
    const byMonth = new Array<number>(12).fill(0);
    const byHour = new Array<number>(24).fill(0);
    for (let i = 0; i < orders.population; i++) {
      const order = orders.record(i);
      const at = Date.parse(order.created_at);
      placed.push(at);
      if (order.order_number !== `ORD-${String(i + 1).padStart(7, '0')}`) misnumbered++;
      if ((signups[orders.plan(i).user] as number) + 60_000 > at) early++;
      byMonth[new Date(at).getUTCMonth()] = (byMonth[new Date(at).getUTCMonth()] as number) + 1;
      byHour[new Date(at).getUTCHours()] = (byHour[new Date(at).getUTCHours()] as number) + 1;
    }
    t.equal(firstDecrease(placed), -1, `${orders.population} orders in time order (order numbers increase with time)`);
    t.equal(misnumbered, 0, 'order i is ORD-(i+1)');
    t.equal(early, 0, 'every customer signed up at least a minute before ordering');
    // Volume follows the customer base (a growing shop), not a 20x ramp; Q4 is the busy season.
    const [jan, feb, oct, nov, dec] = [0, 1, 9, 10, 11].map((m) => byMonth[m] as number) as [number, number, number, number, number];
    t.ok(oct / feb > 1.4 && oct / feb < 4, `October ÷ February orders ${(oct / feb).toFixed(2)} is a believable growth`);
    t.ok(dec > nov && nov > oct, `the season peaks in November and December (${oct}, ${nov}, ${dec})`);
    t.ok(jan > 0 && jan < dec, 'January is quieter than December');
    const night = byHour.slice(2, 6).reduce((a, b) => a + b, 0);
    const evening = byHour.slice(18, 22).reduce((a, b) => a + b, 0);
    t.ok(evening > 4 * night, `evening orders (${evening}) far outnumber the small hours (${night})`);

    const lastEvents = Array.from({ length: sessions.population }, (_, i) => sessions.plan(i).lastEventAt);
    t.equal(firstDecrease(lastEvents), -1, `${sessions.population} sessions in order of their last event`);
    let links = 0;
    for (let o = 0; o < orders.population; o++) {
      const s = sessions.checkoutSessionOf(o);
      const session = sessions.record(s);
      if (session.order_id === orders.idOf(o) && Date.parse(session.ended_at) >= (placed[o] as number)) links++;
    }
    t.equal(links, orders.population, "every order's checkout session names it and lasts past the purchase");

    const stamps: number[] = [];
    for (let i = 0; i < transactions.population; i++) stamps.push(Date.parse(transactions.record(i).timestamp));
    t.equal(firstDecrease(stamps), -1, `${transactions.population} transactions in time order`);
    t.ok((stamps[stamps.length - 1] as number) - (stamps[0] as number) > 300 * DAY, 'transactions span the year');
  });
}

t.test('a world has the same times in every locale (keys resolve across default locales)', async (t) => {
  const [us, gb] = (['en_US', 'en_GB'] as const).map((locale) => World.of({ seed: 5, sizes: resolveSizes(1, {}), locale, window }));
  let differ = 0;
  for (let i = 0; i < 2000; i += 7) {
    if (gb!.generator('orders').record(i).created_at !== us!.generator('orders').record(i).created_at) differ++;
    if (gb!.generator('sessions').record(i).started_at !== us!.generator('sessions').record(i).started_at) differ++;
    if (gb!.generator('users').record(i % 1000).created_at !== us!.generator('users').record(i % 1000).created_at) differ++;
  }
  t.equal(differ, 0, 'orders, sessions and sign-ups at the same moments in en_US and en_GB');
});
