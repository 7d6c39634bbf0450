/**
 * A live stream at 1,000 events/s never freezes the server: its minutes are planned in slices
 * that yield to the event loop and rows are built as events fall due. Asserted by order and
 * counts, never by timing (as test/routes/starvation.test.ts): /health requests sent one after
 * another are answered while a minute is being planned, and many times over while the stream
 * runs; what the stream delivered is still exactly the live world's events.
 */
import type { AddressInfo } from 'node:net';
import t from 'tap';
import { liveMinute, liveMinuteEventsAsync } from '../../src/events/live.js';
import type { FeedEvent, LiveWorldSpec } from '../../src/events/types.js';
import { testApp } from '../support/app.js';
import { KafkaTestBroker } from '../support/kafka-broker.js';
import { healthStatus } from '../support/health.js';


const wire = (event: FeedEvent) => {
  const { raw, ...envelope } = event;
  return raw ?? JSON.stringify(envelope);
};

t.test('planning a minute at 1,000 events/s lets /health answer meanwhile, and gives the same events', async (t) => {
  const app = await testApp(t);
  await app.listen({ host: '127.0.0.1', port: 0 });
  const { port } = app.server.address() as AddressInfo;
  const spec: LiveWorldSpec = { seed: 31, locale: 'en_US', events_per_second: 1000, daily_curve: false };
  const minute = Date.UTC(2026, 5, 1, 12, 0);
  let planned = false;
  const planning = liveMinuteEventsAsync(spec, minute).then((events) => {
    planned = true;
    return events;
  });
  const answers: { status: number; planned: boolean }[] = [];
  for (let k = 0; k < 5; k++) answers.push({ status: await healthStatus(port), planned });
  const events = await planning;
  t.same(
    answers.map((a) => a.status),
    [200, 200, 200, 200, 200],
  );
  t.same(
    answers.map((a) => a.planned),
    [false, false, false, false, false],
    'five /health requests one after another are all answered before the minute is planned',
  );
  t.ok(events.length > 50_000, `${events.length} events in the minute`);
  const built = liveMinute(spec, minute);
  t.equal(events.length, built.length);
  let wrong = 0;
  for (let i = 0; i < events.length; i++) if (JSON.stringify(events.at(i)) !== JSON.stringify(built[i]) || Math.floor(events.timeAt(i) / 1000) * 1000 !== Date.parse((built[i] as FeedEvent).event_time)) wrong++;
  t.equal(wrong, 0, 'planned then built on demand: the same events as building the minute at once');
});

t.test('/health keeps answering while a 1,000 events/s live stream runs into Kafka', async (t) => {
  const broker = await KafkaTestBroker.start();
  t.teardown(() => broker.close());
  const app = await testApp(t, { sinks: { kafka: { brokers: [broker.address], clientId: 'ecomgen-responsive', ssl: false } } });
  await app.listen({ host: '127.0.0.1', port: 0 });
  const { port } = app.server.address() as AddressInfo;
  const body = { sink: 'kafka', mode: 'live', seed: 5, events_per_second: 1000, daily_curve: false, max_events: 3000, topic_prefix: 'resp.' };
  const before = Date.now();
  const started = await app.inject({ method: 'POST', url: '/api/v1/streams', payload: body });
  t.equal(started.statusCode, 202, started.body);
  const id = (started.json() as { id: string }).id;
  const state = async () => (await app.inject(`/api/v1/streams/${id}`)).json() as { state: string; delivered: number; stop_reason: string | null; failed: number };
  let answered = 0;
  const statuses = new Set<number>();
  const deliveredSeen = new Set<number>();
  for (let s = await state(); s.state === 'running'; s = await state()) {
    statuses.add(await healthStatus(port));
    answered++;
    deliveredSeen.add(s.delivered);
  }
  const after = Date.now();
  const job = await state();
  t.equal(job.state, 'succeeded');
  t.equal(job.stop_reason, 'max_events');
  t.equal(job.delivered, 3000);
  t.same([...statuses], [200]);
  t.ok(answered >= 20, `${answered} /health answers while the stream ran`);
  t.ok(deliveredSeen.size >= 3, `the stream's progress was seen at ${deliveredSeen.size} different counts between them`);

  // What went out is the live world's events at their positions.
  const spec: LiveWorldSpec = { seed: 5, locale: 'en_US', events_per_second: 1000, daily_curve: false };
  const expected = new Map<number, string>();
  for (let minute = Math.floor(before / 60_000) * 60_000; minute <= after; minute += 60_000) for (const e of liveMinute(spec, minute)) expected.set(e.sequence, wire(e));
  const records = broker.topics().flatMap((topic) => broker.records(topic.name));
  t.equal(records.length, 3000);
  t.equal(records.filter((r) => expected.get(Number(r.headers.sequence)) !== r.value).length, 0, 'every record is the live event of its sequence');
  const sequences = records.map((r) => Number(r.headers.sequence)).sort((a, b) => a - b);
  t.equal(new Set(sequences).size, 3000, 'no event twice');
});
