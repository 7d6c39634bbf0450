/**
 * GET /api/v1/events: formats, pages, cursors and types subsets are windows onto the same
 * events; every update follows its insert; chaos is deterministic, labelled, in proportion and
 * listed exactly by /events/defects; bad input is a 400 naming the parameter.
 */
import { parse as parseCsv } from 'csv-parse/sync';
import { XMLParser } from 'fast-xml-parser';
import t from 'tap';
import type { FeedEvent } from '../../src/events/types.js';
import { testApp } from '../support/app.js';
import { chaosEvents } from '../support/parse.js';

const WORLD = 'seed=321&users=40&vendors=4&warehouses=2&products=25&orders=120&shops=2&suppliers=4&transactions=10';
const app = await testApp(t);

const get = (query: string) => app.inject(`/api/v1/events?${WORLD}&${query}`);
const ndjson = (body: string) => body.trimEnd().split('\n').filter(Boolean).map((line) => JSON.parse(line) as FeedEvent);

const all = ndjson((await get('format=ndjson&limit=10000000')).body);

t.test('the whole feed: positions, keys, insert before update', async (t) => {
  t.ok(all.length > 1500, `${all.length} events`);
  t.same(all.map((e) => e.sequence), all.map((_, k) => k));
  const seen = new Set<string>();
  let problems = 0;
  for (const e of all) {
    const id = `${e.entity}/${e.key}`;
    if (e.op === 'insert' ? seen.has(id) : !seen.has(id)) problems++;
    seen.add(id);
  }
  t.equal(problems, 0, 'each key is inserted once, before its updates');
  const json = (await get('limit=10000000')).json() as FeedEvent[];
  t.equal(JSON.stringify(json), JSON.stringify(all), 'json = ndjson, event for event');
});

t.test('the merge keeps time order across its time-ordered sources', async (t) => {
  // Reviews, tickets and inventory rows come from per-world schedules sorted by time, so this
  // subset is in time order whatever order the other generators number their records in.
  const sorted = all.filter((e) => ['review.posted', 'support_ticket.opened', 'inventory.opened', 'inventory.counted'].includes(e.event_type));
  t.ok(sorted.length > 100);
  let inversions = 0;
  for (let k = 1; k < sorted.length; k++) if ((sorted[k - 1] as FeedEvent).event_time > (sorted[k] as FeedEvent).event_time) inversions++;
  t.equal(inversions, 0, `${sorted.length} events in time order`);
  // Every event of a key is in time order, and a lifecycle never runs backwards.
  const lastTime = new Map<string, string>();
  let backwards = 0;
  for (const e of all) {
    const id = `${e.entity}/${e.key}`;
    if ((lastTime.get(id) ?? '') > e.event_time) backwards++;
    lastTime.set(id, e.event_time);
  }
  t.equal(backwards, 0, 'per key, events never go back in time');
});

t.test('csv and xml carry the same events, data as a JSON string', async (t) => {
  const csv = parseCsv((await get('format=csv&limit=500')).body, { columns: true }) as Record<string, string>[];
  const xml = new XMLParser({ parseTagValue: false }).parse((await get('format=xml&limit=500')).body) as { events: { event: Record<string, unknown>[] } };
  const head = all.slice(0, 500);
  t.equal(csv.length, 500);
  t.equal(xml.events.event.length, 500);
  head.forEach((e, k) => {
    const row = csv[k] as Record<string, string>;
    const el = xml.events.event[k] as Record<string, string>;
    if (row.event_id !== e.event_id || row.data !== JSON.stringify(e.data) || Number(row.sequence) !== e.sequence || row.op !== e.op) t.fail(`csv row ${k}`);
    if (el.event_id !== e.event_id || el.data !== JSON.stringify(e.data) || el.key !== e.key) t.fail(`xml element ${k}`);
  });
  t.pass('500 rows compared');
});

t.test('pages by offset and by the Link cursor are windows onto the same bytes', async (t) => {
  const byOffset: FeedEvent[] = [];
  for (let offset = 0; offset < 900; offset += 300) byOffset.push(...ndjson((await get(`format=ndjson&limit=300&offset=${offset}`)).body));
  t.equal(JSON.stringify(byOffset), JSON.stringify(all.slice(0, 900)));

  const byCursor: FeedEvent[] = [];
  let url: string | undefined = `/api/v1/events?${WORLD}&format=ndjson&limit=250`;
  for (let pages = 0; url && pages < 4; pages++) {
    const response: { body: string; headers: Record<string, unknown> } = await app.inject(url);
    byCursor.push(...ndjson(response.body));
    url = /<([^>]+)>; rel="next"/.exec(String(response.headers.link ?? ''))?.[1];
  }
  t.equal(JSON.stringify(byCursor), JSON.stringify(all.slice(0, 1000)), 'four cursor pages = the first 1,000 events');
  t.ok(url?.includes('after=ev-'), 'the next link is an after cursor');
});

t.test('types and time windows select, keeping sequence numbers', async (t) => {
  const types = ['order.placed', 'payment.captured', 'inventory.changed'];
  const subset = ndjson((await get(`format=ndjson&limit=10000000&types=${types.join(',')}`)).body);
  t.equal(JSON.stringify(subset), JSON.stringify(all.filter((e) => types.includes(e.event_type))));
  const start = '2025-06-01T00:00:00Z';
  const end = '2025-07-01T00:00:00Z';
  const june = ndjson((await get(`format=ndjson&limit=10000000&start=${start}&end=${end}`)).body);
  t.ok(june.length > 0);
  t.ok(june.every((e) => e.event_time >= '2025-06-01T00:00:00Z' && e.event_time < '2025-07-01T00:00:00Z'), 'inside the window');
  const last = (await get('format=ndjson&limit=1&after=' + all[99]?.event_id)).body;
  t.equal(ndjson(last)[0]?.sequence, 100, 'after=<event 99> resumes at event 100');
});

t.test('chaos: labelled, in proportion, listed exactly by /events/defects', async (t) => {
  const chaos = 'late_ratio=0.05&duplicate_ratio=0.04&bad_ratio=0.03&max_lateness=600';
  const body = (await get(`format=ndjson&limit=10000000&${chaos}`)).body;
  const again = (await get(`format=ndjson&limit=10000000&${chaos}`)).body;
  t.equal(body, again, 'the same chaos every time');
  const delivered = chaosEvents(body.trimEnd().split('\n'));
  const counted = { late: 0, duplicate: 0, bad: 0 };
  delivered.forEach((e) => e.defect && counted[e.defect]++);
  const n = all.length;
  const near = (count: number, ratio: number) => Math.abs(count - n * ratio) <= 4 * Math.sqrt(n * ratio) + 2;
  t.ok(near(counted.late, 0.05), `late ${counted.late} of ${n}`);
  t.ok(near(counted.duplicate, 0.04), `duplicate ${counted.duplicate}`);
  t.ok(near(counted.bad, 0.03), `bad ${counted.bad}`);
  t.equal(delivered.length, n + counted.duplicate + counted.bad, 'every real event once, plus the copies');

  const defects = (await app.inject(`/api/v1/events/defects?${WORLD}&${chaos}`)).json() as { position: number; event_id: string; defect: string; variant: string | null }[];
  t.equal(defects.length, counted.late + counted.duplicate + counted.bad, 'the list has every defect');
  for (const d of defects) {
    const at = delivered[d.position] as FeedEvent & { truncated?: boolean };
    if (at.defect !== d.defect || (!at.truncated && at.event_id !== d.event_id && typeof at.event_id === 'string')) t.fail(`defect at ${d.position}`);
    if ((d.variant === 'truncated') !== Boolean(at.truncated)) t.fail(`truncated at ${d.position}`);
  }
  const real = delivered.filter((e) => !e.defect);
  const lateOnes = delivered.filter((e) => e.defect === 'late');
  t.equal(real.length + lateOnes.length, n, 'late events are moved, not copied');
  const times = real.map((e) => e.event_id);
  t.same(times, all.filter((e) => !lateOnes.some((l) => l.event_id === e.event_id)).map((e) => e.event_id), 'the rest keeps feed order');
});

t.test('bad input is a 400 naming the parameter', async (t) => {
  const cases: [string, string][] = [
    ['types=order.placed,order.teleported', 'types'],
    ['start=2024-01-01', 'start'],
    ['end=2031-01-01', 'end'],
    ['start=2025-05-01&end=2025-04-01', 'end'],
    ['late_ratio=1.5', 'late_ratio'],
    ['bad_ratio=-0.1', 'bad_ratio'],
    ['late_ratio=0.6&duplicate_ratio=0.6', 'late_ratio'],
    [`after=${all[5]?.event_id.replace(/^ev-[0-9a-f]{8}/, 'ev-00000000')}`, 'after'],
    ['after=nonsense', 'after'],
    ['start=yesterday', 'start'],
    // The window is [2025-01-01, 2026-01-01): a start at its end or an end at its start selects nothing.
    ['start=2026-01-01T00:00:00Z', 'start'],
    ['start=2026-01-01', 'start'],
    ['end=2025-01-01T00:00:00Z', 'end'],
    // Offsets stop at 1,000,000,000, as on every entity (docs/api.md).
    ['offset=1e20', 'offset'],
    ['offset=1000000001', 'offset'],
    // A cursor names an event of this world: not one past its end, not with leading zeros.
    [`after=${all[0]?.event_id.replace(/-\d+$/, `-${all.length}`)}`, 'after'],
    [`after=${all[0]?.event_id.replace(/-\d+$/, '-999999999999')}`, 'after'],
    [`after=${all[5]?.event_id.replace(/-\d+$/, '-005')}`, 'after'],
    [`after=${all[5]?.event_id.replace(/-\d+$/, '-05')}&limit=1`, 'after'],
  ];
  for (const [query, parameter] of cases) {
    const response = await get(query);
    t.equal(response.statusCode, 400, query);
    const body = response.json() as { message?: string; code: string };
    t.ok(String(body.message).startsWith(`${parameter}:`), `${query}: ${body.message}`);
  }
  const other = await app.inject(`/api/v1/events?seed=322&users=40&vendors=4&warehouses=2&products=25&orders=120&after=${all[5]?.event_id}`);
  t.equal(other.statusCode, 400, 'a cursor from another world');
  // /events/live has offsets too: they stop at 1,000,000,000 as well.
  for (const offset of ['1e20', '1000000001']) {
    const live = await app.inject(`/api/v1/events/live?seed=5&start=2026-11-30T12:00:00Z&end=2026-11-30T12:01:00Z&offset=${offset}`);
    t.equal(live.statusCode, 400, `live offset=${offset}`);
    t.ok(String((live.json() as { message?: string }).message).startsWith('offset:'), `live offset=${offset} names offset`);
  }
  // The last event's cursor is a real one: nothing after it.
  const last = await get(`format=ndjson&after=${all[all.length - 1]?.event_id}`);
  t.equal(last.statusCode, 200);
  t.equal(last.body, '', 'nothing after the last event');
  const first = await get(`format=ndjson&limit=1&after=${all[0]?.event_id}`);
  t.equal(ndjson(first.body)[0]?.sequence, 1, 'after=<event 0> is event 1');
  // A start inside the window's last second is fine (the inventory counts happen then).
  const lastSecond = await get('format=ndjson&start=2025-12-31T23:59:59Z');
  t.equal(lastSecond.statusCode, 200);
  t.ok(ndjson(lastSecond.body).every((e) => e.event_time === '2025-12-31T23:59:59Z'));
  for (const [query, parameter] of [
    ['start=2026-01-01T00:00:00Z', 'start'],
    ['end=2025-01-01T00:00:00Z', 'end'],
  ] as const) {
    const response = await app.inject(`/api/v1/events/defects?${WORLD}&late_ratio=0.1&${query}`);
    t.equal(response.statusCode, 400, `defects ${query}`);
    t.ok(String((response.json() as { message?: string }).message).startsWith(`${parameter}:`), `defects ${query}`);
  }
});

t.test('a long defects list (streamed in chunks) is the one JSON array of every defect', async (t) => {
  const world = 'seed=9&scale=0.1&duplicate_ratio=0.2&bad_ratio=0.05';
  const response = await app.inject(`/api/v1/events/defects?${world}`);
  t.equal(response.statusCode, 200);
  t.match(String(response.headers['content-type']), /^application\/json/);
  const defects = response.json() as { position: number; event_id: string; sequence: number; defect: string; variant: string | null }[];
  t.ok(defects.length > 4096, `${defects.length} defects, more than two chunks`);
  t.equal(Number(response.headers['x-total-count']), defects.length);
  const lines = (await app.inject(`/api/v1/events?${world}&format=ndjson&limit=10000000`)).body.trimEnd().split('\n');
  let wrong = 0;
  for (const d of defects) {
    const line = lines[d.position] as string;
    if (d.variant === 'truncated' ? !line.startsWith('{') : (JSON.parse(line) as FeedEvent).defect !== d.defect) wrong++;
  }
  t.equal(wrong, 0, 'each defect is the delivery at its position');
  const plain = (await app.inject('/api/v1/events?seed=9&scale=0.1&format=ndjson&limit=10000000')).body.trimEnd().split('\n').length;
  t.equal(lines.length, plain + defects.length, 'every duplicate and bad copy is listed (no late ones here)');
});

t.test('an unknown type is refused with every known type named in full', async (t) => {
  const { EVENT_TYPE_NAMES } = await import('../../src/events/catalogue.js');
  const cases: [string, object | undefined, RegExp][] = [
    ['/api/v1/events?seed=1&types=order.placed,x.nope', undefined, /^types: unknown event type 'x\.nope'; known: /],
    ['/api/v1/events?seed=1&types=a.a,b.b,c.c,d.d,e.e', undefined, /^types: unknown event type 'a\.a', 'b\.b', 'c\.c' \(and 2 more\); known: /],
    ['/api/v1/events/live?seed=1&start=2026-12-01T12:00:00Z&end=2026-12-01T12:01:00Z&types=x.nope', undefined, /^types: unknown event type 'x\.nope'; known: /],
    ['/api/v1/streams', { sink: 'webhook', types: ['x.nope'] }, /^types: unknown event type 'x\.nope'; known: /],
  ];
  for (const [url, body, pattern] of cases) {
    const res = await app.inject(body ? { method: 'POST', url, payload: body } : url);
    t.equal(res.statusCode, 400, url);
    const message = (res.json() as { message: string }).message;
    t.match(message, pattern, url);
    if (url.includes('/streams')) continue; // the known list of a sink's stream: its configured types
    const known = message.slice(message.indexOf('known: ') + 7).split(', ');
    t.same(known, EVENT_TYPE_NAMES, `${url}: all ${EVENT_TYPE_NAMES.length} known types, whole (the last: ${known.at(-1)})`);
  }
});
