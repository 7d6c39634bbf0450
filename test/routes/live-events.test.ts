/**
 * GET /api/v1/events/live: a live stream fetched again by time. A live stream runs into the
 * Kafka test broker for a moment; then the minutes it covered are fetched, and every delivered
 * message is, byte for byte, the fetched event of its event_id (and defect label), the
 * deliveries being one unbroken run of the fetched events. Formats, windows, pages and bad
 * input are checked on the same world.
 */
import t from 'tap';
import type { FeedEvent } from '../../src/events/types.js';
import { iso } from '../../src/generators/time.js';
import { testApp } from '../support/app.js';
import { KafkaTestBroker } from '../support/kafka-broker.js';

const LIVE = { seed: 9, events_per_second: 400, daily_curve: false, late_ratio: 0.02, duplicate_ratio: 0.01, bad_ratio: 0.01 };
const query = (params: Record<string, unknown>) => Object.entries(params).map(([k, v]) => `${k}=${encodeURIComponent(String(v))}`).join('&');
const idOf = (line: string, header?: { id: string; defect?: string }) => {
  if (header) return `${header.id}/${header.defect ?? ''}`;
  const event = JSON.parse(line) as FeedEvent;
  return `${event.event_id}/${event.defect ?? ''}`;
};

t.test('every event a live stream delivered equals GET /api/v1/events/live at its position', async (t) => {
  const broker = await KafkaTestBroker.start();
  t.teardown(() => broker.close());
  const app = await testApp(t, { sinks: { kafka: { brokers: [broker.address], clientId: 'ecomgen-live-events', ssl: false } } });
  const before = Date.now();
  const started = await app.inject({ method: 'POST', url: '/api/v1/streams', payload: { sink: 'kafka', mode: 'live', ...LIVE, max_events: 800, topic_prefix: 'le.' } });
  t.equal(started.statusCode, 202, started.statusCode === 202 ? 'the stream started' : started.body);
  const job = (await app.inject(`/api/v1/streams/${(started.json() as { id: string }).id}?wait=true`)).json() as { state: string; delivered: number };
  const after = Date.now();
  t.equal(job.state, 'succeeded');
  t.equal(job.delivered, 800);

  const start = Math.floor(before / 60_000) * 60_000;
  const end = Math.ceil((after + 1) / 60_000) * 60_000;
  const response = await app.inject(`/api/v1/events/live?${query({ ...LIVE, start: iso(start), end: iso(end), format: 'ndjson', limit: 1_000_000 })}`);
  t.equal(response.statusCode, 200, response.statusCode === 200 ? 'the window fetched' : response.body);
  t.equal(response.headers['x-seed'], '9');
  const lines = response.body.trimEnd().split('\n');
  // A truncated (bad) line does not parse; it is the line just before its event's own line.
  const position = new Map<string, number>();
  let twice = 0;
  lines.forEach((line, k) => {
    let id: string;
    try {
      id = idOf(line);
    } catch {
      id = `${idOf(lines[k + 1] as string).split('/')[0]}/bad`;
    }
    if (position.has(id)) twice++;
    position.set(id, k);
  });
  t.equal(twice, 0, 'each (event id, defect) once in the window');

  const records = broker.topics().flatMap((topic) => broker.records(topic.name));
  t.equal(records.length, 800, 'the broker holds each delivery once');
  const at = records.map((r) => position.get(idOf('', { id: r.headers['event-id'] as string, defect: r.headers.defect as string | undefined })));
  t.equal(at.filter((k) => k === undefined).length, 0, 'every delivered event is in the window fetched');
  const wrong = records.filter((r, n) => lines[at[n] as number] !== r.value);
  t.equal(wrong.length, 0, 'each message is byte for byte the fetched event of its id');
  const sorted = (at as number[]).slice().sort((a, b) => a - b);
  t.equal(new Set(sorted).size, 800);
  t.equal((sorted[799] as number) - (sorted[0] as number), 799, 'the deliveries are one unbroken run of the fetched events');
  // Within a minute, positions without a defect have consecutive sequences.
  const plain = lines.flatMap((line) => {
    try {
      const event = JSON.parse(line) as FeedEvent;
      return event.defect === undefined ? [event] : [];
    } catch {
      return [];
    }
  });
  let gaps = 0;
  for (let k = 1; k < plain.length; k++) {
    const a = plain[k - 1] as FeedEvent;
    const b = plain[k] as FeedEvent;
    if (Math.floor(a.sequence / 1e6) === Math.floor(b.sequence / 1e6) && b.sequence <= a.sequence) gaps++;
  }
  t.equal(gaps, 0, 'sequences increase within each minute');
  t.ok(lines.some((line) => line.includes('"defect":"late"')) && lines.some((line) => line.includes('"defect":"duplicate"')), 'chaos is labelled');
});

t.test('windows, pages, types and formats are views of the same events; bad input is a 400 naming the parameter', async (t) => {
  const app = await testApp(t);
  const minute = Date.UTC(2026, 2, 3, 9, 0);
  const base = { seed: 3, events_per_second: 20, daily_curve: false };
  const get = async (params: Record<string, unknown>) => app.inject(`/api/v1/events/live?${query({ ...base, start: iso(minute), end: iso(minute + 120_000), limit: 100_000, ...params })}`);
  const all = (await get({ format: 'json' })).json() as FeedEvent[];
  t.ok(all.length > 1500 && all.length < 3500, `${all.length} events in two minutes at 20/s`);
  t.ok(all.every((e) => Date.parse(e.event_time) >= minute && Date.parse(e.event_time) < minute + 120_000));
  const ndjson = (await get({ format: 'ndjson' })).body.trimEnd().split('\n');
  t.same(ndjson, all.map((e) => JSON.stringify(e)), 'ndjson = json');
  const page = (await get({ format: 'json', offset: 100, limit: 50 })).json() as FeedEvent[];
  t.same(page, all.slice(100, 150), 'a page is a slice');
  const later = (await get({ format: 'json', start: iso(minute + 60_000) })).json() as FeedEvent[];
  t.same(later, all.filter((e) => Date.parse(e.event_time) >= minute + 60_000), 'a later start is a suffix');
  const orders = (await get({ format: 'json', types: 'order.placed,order.paid' })).json() as FeedEvent[];
  t.same(orders, all.filter((e) => e.event_type === 'order.placed' || e.event_type === 'order.paid'), 'types keep those events');
  const csv = (await get({ format: 'csv', limit: 3 })).body.trimEnd().split('\r\n');
  t.equal(csv[0], 'event_id,event_type,event_time,entity,key,op,sequence,defect,data');
  t.equal(csv.length, 4);
  t.ok(csv[1]?.startsWith(`${(all[0] as FeedEvent).event_id},${(all[0] as FeedEvent).event_type},`));
  const xml = (await get({ format: 'xml', limit: 2 })).body;
  t.match(xml, /^<\?xml[^>]*>\s*<events[ >]/);
  t.ok(xml.includes((all[1] as FeedEvent).event_id));
  const weighted = (await get({ format: 'json', weights: 'orders:1,interactions:0,inventory:0' })).json() as FeedEvent[];
  t.ok(weighted.every((e) => !e.event_type.startsWith('interaction.')), 'weights shape the mix');

  const bad: [Record<string, unknown>, string][] = [
    [{ start: 'yesterday' }, 'start'],
    [{ end: iso(minute + 2 * 3_600_000) }, 'end'],
    [{ end: iso(minute) }, 'end'],
    [{ events_per_second: 0 }, 'events_per_second'],
    [{ events_per_second: 10_001 }, 'events_per_second'],
    [{ events_per_second: 10_000, end: iso(minute + 3_600_000) }, 'end'],
    [{ types: 'order.teleported' }, 'types'],
    [{ weights: 'orders:-1' }, 'weights'],
    [{ weights: 'orders:0,inventory:0' }, 'weights'],
    [{ late_ratio: 0.7, bad_ratio: 0.7 }, 'late_ratio'],
    [{ late_ratio: 2 }, 'late_ratio'],
    [{ seed: -1 }, 'seed'],
    [{ limit: 0 }, 'limit'],
    [{ destination: 'kafka:9092' }, 'destination'],
  ];
  for (const [params, name] of bad) {
    const response = await get(params);
    t.equal(response.statusCode, 400, `${JSON.stringify(params)}: ${response.body}`);
    const body = response.json() as { message: string; code: string; statusCode: number; error: string };
    t.ok(body.message.startsWith(name) || body.message.includes(name), `${JSON.stringify(params)} names ${name}: ${body.message}`);
  }
});

t.test('a download is named for its window: fetched an hour at a time, each file has its own name', async (t) => {
  const app = await testApp(t, { renderThreads: 0 });
  const names: string[] = [];
  for (const [start, end] of [
    ['2026-11-30T12:00:00Z', '2026-11-30T13:00:00Z'],
    ['2026-11-30T13:00:00Z', '2026-11-30T14:00:00Z'],
    ['2026-11-30T13:00:00.250Z', '2026-11-30T13:00:01Z'],
  ]) {
    const res = await app.inject(`/api/v1/events/live?seed=42&events_per_second=0.1&start=${start}&end=${end}&format=csv`);
    t.equal(res.statusCode, 200);
    names.push(String(res.headers['content-disposition']));
  }
  t.same(names, [
    'attachment; filename="live-events-seed42-20261130T120000Z-20261130T130000Z.csv"',
    'attachment; filename="live-events-seed42-20261130T130000Z-20261130T140000Z.csv"',
    'attachment; filename="live-events-seed42-20261130T130000250Z-20261130T130001Z.csv"',
  ]);
});
