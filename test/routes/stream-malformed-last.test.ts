/**
 * A stream whose last delivered event is a malformed (`bad`) copy: its progress stays readable.
 * A `wrong_type` copy carries its event_time as a number, and a `negative_quantity` copy may carry
 * a negative sequence; the stream's position (last_event_time, last_sequence) comes from the
 * well-formed fields, so GET /api/v1/streams/{id}, GET /api/v1/streams and GET /api/v1/jobs (the
 * panel's Watch list) never answer 500.
 */
import t from 'tap';
import type { WebhookConfig } from '../../src/config.js';
import { testApp } from '../support/app.js';
import { webhookReceiver } from '../support/webhook-receiver.js';

t.test('a stream that ended on a bad event: its progress and the list still answer, with a well-formed position', async (t) => {
  const secret = 'malformed-last';
  const receiver = await webhookReceiver(t, secret);
  const webhook: WebhookConfig = { endpoint: receiver.url, secret, maxCount: 1000, timeoutMs: 5000, retries: 0, backoffMs: 5 };
  const app = await testApp(t, { sinks: { webhook } });
  // seed 1, 20 users, bad_ratio 1: every event is preceded by a malformed copy. The first delivery
  // is the wrong_type copy of sequence 0 (event_time a number), the third the negative_quantity
  // copy of sequence 1 whose sequence became -2.
  const feed = (await app.inject('/api/v1/events?seed=1&users=20&bad_ratio=1&limit=3&format=ndjson')).body.trim().split('\n').map((line) => JSON.parse(line) as { event_time: unknown; sequence: number; defect?: string });
  t.equal(typeof feed[0]?.event_time, 'number', 'the first delivery is a wrong_type copy');
  t.equal(feed[2]?.sequence, -2, 'the third is a copy with a negative sequence');
  for (const [maxEvents, batchSize, sequence, time] of [
    [1, 500, 0, null],
    [3, 1, 0, feed[1]?.event_time],
    [3, 500, 0, feed[2]?.event_time],
  ] as const) {
    const created = await app.inject({ method: 'POST', url: '/api/v1/streams', payload: { sink: 'webhook', mode: 'replay', seed: 1, users: 20, bad_ratio: 1, max_events: maxEvents, batch_size: batchSize } });
    t.equal(created.statusCode, 202, created.body);
    const id = (created.json() as { id: string }).id;
    const one = await app.inject(`/api/v1/streams/${id}?wait=true`);
    t.equal(one.statusCode, 200, `GET /streams/{id} after ${maxEvents} events in batches of ${batchSize}: ${one.body.slice(0, 200)}`);
    const job = one.json() as { state: string; delivered: number; last_event_time: unknown; last_sequence: unknown; defects: { bad: number } };
    t.equal(job.state, 'succeeded');
    t.equal(job.delivered, maxEvents);
    t.equal(job.last_sequence, sequence, 'the newest well-formed sequence delivered');
    t.equal(job.last_event_time, time, 'the newest well-formed event time delivered');
    const list = await app.inject('/api/v1/streams');
    t.equal(list.statusCode, 200, `GET /streams: ${list.body.slice(0, 200)}`);
    t.ok((list.json() as { id: string }[]).some((s) => s.id === id));
    // The panel's Watch list reads streams from the jobs list.
    const jobs = await app.inject('/api/v1/jobs');
    t.equal(jobs.statusCode, 200, `GET /jobs: ${jobs.body.slice(0, 200)}`);
  }
  t.equal(receiver.accepted().length, 7);
});
