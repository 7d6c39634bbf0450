import t from 'tap';
import { dailyIndexOf } from '../../src/sinks/opensearch-stream.js';
import type { FeedEvent } from '../../src/streams/feed-contract.js';
import { testApp } from '../support/app.js';
import { testEvent, testFeedProvider } from '../support/feed-source.js';
import { startOpenSearchPeer } from '../support/opensearch-server.js';

t.test('opensearch: rows into daily indices by event time, with strict entity mappings, idempotent by key', async (t) => {
  const peer = await startOpenSearchPeer();
  t.teardown(() => peer.close());
  const count = 1200;
  const step = 300_000;
  const feed = testFeedProvider(count, step, true);
  const app = await testApp(t, { sinks: { opensearch: { node: peer.url } }, feed });
  const run = async () => {
    const started = await app.inject({ method: 'POST', url: '/api/v1/streams', payload: { sink: 'opensearch', mode: 'replay', index_prefix: 'shop-live', batch_size: 200 } });
    t.equal(started.statusCode, 202, started.body);
    return (await app.inject(`/api/v1/streams/${(started.json() as { id: string }).id}?wait=true`)).json() as { state: string; delivered: number; failed: number; errors: string[]; details: { indices: Record<string, number> } };
  };
  const job = await run();
  const start0 = (feed.requests[0] as { world: { window: { start: number } } }).world.window.start;
  const events: FeedEvent[] = Array.from({ length: count }, (_, s) => testEvent(s, start0 + s * step, true));
  const bad = events.filter((e) => e.defect === 'bad').length;
  t.equal(job.delivered, count - bad, job.errors.slice(0, 3).join('\n'));
  t.equal(job.failed, bad, 'the malformed event is not indexed');

  // Expected: the last row per (daily index, key).
  const expected = new Map<string, Map<string, unknown>>();
  for (const event of events) {
    if (event.defect === 'bad') continue;
    const index = dailyIndexOf(event, 'shop-live');
    if (!expected.has(index)) expected.set(index, new Map());
    expected.get(index)?.set(event.key, event.data);
  }
  t.ok(expected.size >= 20, `${expected.size} daily indices`);
  t.same([...peer.indices.keys()].sort(), [...expected.keys()].sort(), 'one index per entity and day, named by the event time');
  for (const [index, docs] of expected) {
    const stored = peer.indices.get(index);
    t.equal(stored?.createdBy, 'put', `${index} created with its mapping before indexing`);
    t.same(Object.fromEntries(stored?.docs ?? []), Object.fromEntries(docs), `${index}: the rows, by key`);
  }
  const again = await run();
  t.equal(again.delivered, job.delivered);
  t.same([...peer.indices.values()].map((i) => i.docs.size), [...expected.values()].map((d) => d.size), 're-delivery overwrites, never duplicates');
});
