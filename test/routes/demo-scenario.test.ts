/**
 * end_date=today (a relative date resolved by the route and reported in X-Date-Window) and
 * scenario=demo: the reference demo's three incidents, pinned to today, yesterday and two days ago.
 */
import t from 'tap';
import { DEMO_PAYMENT_TIMEOUTS } from '../../src/generators/performance-events.js';
import { resolveRelativeDate } from '../../src/routes/world-query.js';
import type { PerformanceIncident } from '../../src/schemas/performance-event.js';
import { testApp } from '../support/app.js';

const DAY = 86_400_000;
const BASE = '/api/v1/performance-events';

t.test('resolveRelativeDate: today, yesterday, today-<n>d in UTC days; other text unchanged', async (t) => {
  const now = Date.parse('2026-11-30T23:59:59.999Z');
  t.equal(resolveRelativeDate('today', now), '2026-11-30');
  t.equal(resolveRelativeDate('yesterday', now), '2026-11-29');
  t.equal(resolveRelativeDate('today-2d', now), '2026-11-28');
  t.equal(resolveRelativeDate('today-400d', now), '2025-10-26');
  t.equal(resolveRelativeDate('2025-03-01', now), '2025-03-01');
  t.equal(resolveRelativeDate('tomorrow', now), 'tomorrow');
});

t.test('scenario=demo with end_date=today: exactly the three reference incidents, reported and reproducible', async (t) => {
  const app = await testApp(t);
  const today = Math.floor(Date.now() / DAY) * DAY;
  const day = (back: number) => new Date(today - back * DAY).toISOString().slice(0, 10);
  const res = await app.inject(`${BASE}/incidents?seed=42&end_date=today&days=3&scenario=demo`);
  t.equal(res.statusCode, 200, res.body.slice(0, 300));
  const window = res.headers['x-date-window'] as string;
  t.equal(window, `${day(2)}T00:00:00.000Z/${new Date(today + DAY).toISOString()}`, 'the range ends with today, and the response says so');
  const incidents = res.json() as PerformanceIncident[];
  t.same(
    incidents.map((x) => [x.incident_type, x.started_at, x.ended_at]),
    [
      ['memory_pressure', `${day(2)}T18:30:00.000Z`, `${day(2)}T18:45:00.000Z`],
      ['database_connection_pool_exhaustion', `${day(1)}T12:15:00.000Z`, `${day(1)}T12:25:00.000Z`],
      ['payment_gateway_timeout', `${day(0)}T14:25:00.000Z`, `${day(0)}T14:35:00.000Z`],
    ],
    'memory pressure 2 days ago 18:30-18:45, DB pool yesterday 12:15-12:25, payment gateway today 14:25-14:35',
  );
  const payment = incidents[2] as PerformanceIncident;
  t.match(payment.root_cause, /circuit breaker/, 'the payment incident ends with the circuit breaker opening');

  // The evidence in the events: about 65 payment timeout errors.
  const span = payment.last_event_index - payment.first_event_index + 1;
  const events = (await app.inject(`${BASE}?seed=42&end_date=today&days=3&scenario=demo&offset=${payment.first_event_index}&limit=${span}&fields=error_code,incident_id,incident_phase`)).json() as {
    error_code: string | null;
    incident_id: string | null;
    incident_phase: string | null;
  }[];
  const timeouts = events.filter((e) => e.error_code === 'PAYMENT_GATEWAY_TIMEOUT' && e.incident_id === payment.incident_id).length;
  t.ok(timeouts >= DEMO_PAYMENT_TIMEOUTS * 0.6 && timeouts <= DEMO_PAYMENT_TIMEOUTS * 1.4, `about ${DEMO_PAYMENT_TIMEOUTS} payment timeout errors (${timeouts})`);

  // Gradual degradation: the memory incident's latency climbs through its active phase.
  const memory = incidents[0] as PerformanceIncident;
  const memoryEvents = (await app.inject(`${BASE}?seed=42&end_date=today&days=3&scenario=demo&offset=${memory.first_event_index}&limit=${memory.last_event_index - memory.first_event_index + 1}&fields=@timestamp,response_time_ms,incident_id,incident_phase`)).json() as Record<string, string | number | null>[];
  const active = memoryEvents.filter((e) => e.incident_id === memory.incident_id && e.incident_phase === 'active');
  const third = Math.floor(active.length / 3);
  const mean = (xs: Record<string, string | number | null>[]) => xs.reduce((a, e) => a + (e.response_time_ms as number), 0) / xs.length;
  t.ok(mean(active.slice(-third)) > 2 * mean(active.slice(0, third)), 'latency climbs (first third vs last third)');

  // Reproducible from what the response reported.
  const [start, end] = window.split('/') as [string, string];
  const pinned = await app.inject(`${BASE}/incidents?seed=42&start_date=${start.slice(0, 10)}&days=3&scenario=demo`);
  t.equal(pinned.body, res.body, 'start_date from X-Date-Window gives the same incidents');
  const ended = await app.inject(`${BASE}/incidents?seed=42&end_date=${end}&days=3&scenario=demo`);
  t.equal(ended.body, res.body, 'so does the exclusive end from X-Date-Window as end_date');
  const a = await app.inject(`${BASE}?seed=42&end_date=today&days=3&scenario=demo&offset=${payment.first_event_index}&limit=500&format=csv`);
  const b = await app.inject(`${BASE}?seed=42&start_date=${start.slice(0, 10)}&days=3&scenario=demo&offset=${payment.first_event_index}&limit=500&format=csv`);
  t.equal(a.body, b.body, 'and the same events, byte for byte');
  t.equal(a.headers['x-date-window'], window);
});

t.test('relative dates for every entity, and bad input', async (t) => {
  const app = await testApp(t);
  const today = Math.floor(Date.now() / DAY) * DAY;
  const users = await app.inject('/api/v1/users?seed=1&users=20&start_date=today-30d&end_date=today&limit=20');
  t.equal(users.statusCode, 200);
  t.equal(users.headers['x-date-window'], `${new Date(today - 30 * DAY).toISOString()}/${new Date(today + DAY).toISOString()}`);
  const cases: [string, string, string][] = [
    [`${BASE}?scenario=chaos`, 'INVALID_PARAMETER', 'scenario'],
    [`${BASE}/incidents?scenario=chaos`, 'INVALID_PARAMETER', 'scenario'],
    [`${BASE}?end_date=today&start_date=2025-01-01`, 'INVALID_PARAMETER', 'end_date'],
    [`${BASE}/incidents?end_date=today&start_date=today-3d`, 'INVALID_PARAMETER', 'end_date'],
    [`${BASE}/incidents?scenario=demo&days=2`, 'INVALID_PARAMETER', 'days'],
    [`${BASE}/incidents?scenario=demo&incidents_per_day=3`, 'INVALID_PARAMETER', 'incidents_per_day'],
    ['/api/v1/users?end_date=tomorrow', 'INVALID_PARAMETER', 'end_date'],
  ];
  for (const [url, code, name] of cases) {
    const res = await app.inject(url);
    t.equal(res.statusCode, 400, `${url}: 400`);
    t.equal((res.json() as { code: string }).code, code);
    t.match((res.json() as { message: string }).message, new RegExp(`^${name}: `), `${url}: names ${name}`);
  }
});

t.test('Link pins relative dates as it pins the seed: next continues the same world after UTC midnight', async (t) => {
  const app = await testApp(t, { renderThreads: 0 });
  const realNow = Date.now;
  t.teardown(() => {
    Date.now = realNow;
  });
  const evening = Date.UTC(2026, 10, 30, 23, 59, 0);
  Date.now = () => evening;
  const nextOf = (link: unknown) => /<([^>]*)>; rel="next"/.exec(String(link))?.[1] ?? '';

  const orders = await app.inject('/api/v1/orders?users=30&orders=60&start_date=today-30d&end_date=today&limit=5&format=csv');
  t.equal(orders.headers['x-date-window'], '2026-10-31T00:00:00.000Z/2026-12-01T00:00:00.000Z');
  const next = nextOf(orders.headers.link);
  t.match(next, /start_date=2026-10-31&end_date=2026-11-30&/, 'the resolved dates, not today');
  t.notMatch(String(orders.headers.link), /today/);
  const events = await app.inject('/api/v1/events?seed=4&users=30&orders=60&start_date=today-30d&end_date=today&limit=5&format=csv');
  const nextEvents = nextOf(events.headers.link);
  t.match(nextEvents, /start_date=2026-10-31&end_date=2026-11-30&.*after=ev-/, 'the feed’s next page too');

  // Two minutes later it is tomorrow: the links still continue the world of the first page.
  Date.now = () => evening + 120_000;
  const page2 = await app.inject(next);
  t.equal(page2.statusCode, 200);
  t.equal(page2.headers['x-date-window'], '2026-10-31T00:00:00.000Z/2026-12-01T00:00:00.000Z', 'the same window');
  const whole = await app.inject(`/api/v1/orders?seed=${String(orders.headers['x-seed'])}&users=30&orders=60&start_date=2026-10-31&end_date=2026-11-30&limit=10&format=csv`);
  t.equal(orders.body + page2.body.replace(/^[^\n]*\n/, ''), whole.body, 'the two pages are the first ten orders of that world');
  const events2 = await app.inject(nextEvents);
  t.equal(events2.statusCode, 200, 'the cursor is of the same world (a 400 in the next day’s)');
});
