import t from 'tap';
import { HOUR } from '../../src/generators/time.js';
import { World, resolveSizes, type Sizes } from '../../src/generators/world.js';

/** A subtest, as tap hands it to a `t.test` callback. */
type Test = Parameters<Parameters<typeof t.test>[0]>[0];

const YEAR = { start: Date.UTC(2025, 0, 1), end: Date.UTC(2026, 0, 1) };
const ms = (iso: string) => Date.parse(iso);

/** Checks the time and link rules of sessions, clickstream and transactions record by record. */
function checkWorld(t: Test, label: string, sizes: Partial<Sizes>, window: { start: number; end: number }): void {
  const world = World.of({ seed: 5, sizes: resolveSizes(1, sizes), locale: 'en_GB', window });
  const users = world.generator('users');
  const orders = world.generator('orders');
  const sessions = world.generator('sessions');
  const bounds = new Map<string, [number, number, string | null, string | null]>();
  let bad = 0;
  const fail = (why: string, record: unknown) => {
    if (bad++ < 3) t.fail(`${label}: ${why}`, { record });
  };
  for (const s of sessions.range(0, sessions.population)) {
    const [start, end] = [ms(s.started_at), ms(s.ended_at)];
    bounds.set(s.session_id, [start, end, s.user_id, s.order_id]);
    if (!(start < end && start >= window.start && end < window.end)) fail('session inside the window, started < ended', s);
  }
  for (let i = 0; i < sessions.population; i++) {
    const plan = sessions.plan(i);
    if (plan.user >= 0 && !(plan.startedAt > Math.floor(users.createdAt(plan.user) / 1000) * 1000)) fail('logged-in session after sign-up', plan);
  }
  for (let o = 0; o < orders.population; o++) {
    const plan = sessions.plan(sessions.checkoutSessionOf(o));
    const created = ms(orders.record(o).created_at);
    if (!(plan.order === o && plan.startedAt <= created && created <= plan.endedAt)) fail('checkout session contains the order', plan);
  }
  const clickstream = world.generator('clickstream');
  let previous = { session: '', at: 0 };
  for (const e of clickstream.range(0, clickstream.population)) {
    const [start, end, , order] = bounds.get(e.session_id) ?? [NaN, NaN, null, null];
    const at = ms(e.occurred_at);
    if (!(at >= start && at <= end)) fail('event inside its session', e);
    if (e.session_id === previous.session && at < previous.at) fail('time follows the sequence', e);
    if (e.event_type === 'PURCHASE' && (order === null || e.order_id !== order)) fail('PURCHASE carries the session order', e);
    previous = { session: e.session_id, at };
  }
  const transactions = world.generator('transactions');
  for (const x of transactions.range(0, transactions.population)) {
    const [start, end, user] = bounds.get(x.session_id) ?? [NaN, NaN, null];
    const at = ms(x.timestamp);
    if (!(user === x.customer_id && at >= start && at <= end)) fail('transaction inside a session of its customer', x);
  }
  t.equal(bad, 0, `${label}: every rule holds (${sessions.population} sessions, ${clickstream.population} events)`);
}

t.test('tiny and odd worlds keep the behaviour rules', async (t) => {
  checkWorld(t, 'default year, small', { users: 50, products: 20, orders: 200, transactions: 300 }, YEAR);
  checkWorld(t, 'one product, one user', { users: 1, products: 1, orders: 30, shops: 1, transactions: 40 }, YEAR);
  checkWorld(t, 'a one-hour window', { users: 20, products: 30, orders: 60, transactions: 50 }, { start: YEAR.start, end: YEAR.start + HOUR });
  checkWorld(t, 'a two-day window', { users: 80, products: 50, orders: 300, transactions: 200 }, { start: YEAR.start, end: YEAR.start + 48 * HOUR });
});

t.test('about 60% of sessions are logged in and 20% convert at any scale', async (t) => {
  const world = World.of({ seed: 77, sizes: resolveSizes(2, {}), locale: 'en_US', window: YEAR });
  const sessions = world.generator('sessions');
  let loggedIn = 0;
  let converted = 0;
  for (let i = 0; i < sessions.population; i++) {
    const plan = sessions.plan(i);
    if (plan.user >= 0) loggedIn++;
    if (plan.order >= 0) converted++;
  }
  t.equal(sessions.population, 5 * world.sizes.orders, 'sessions = 5 x orders');
  t.ok(Math.abs(loggedIn / sessions.population - 0.6) < 0.02, `logged in ${(loggedIn / sessions.population).toFixed(3)}`);
  t.equal(converted, world.sizes.orders, 'one checkout session per order');
});
