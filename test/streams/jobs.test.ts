/**
 * Streams are jobs: GET /api/v1/jobs lists them (kind stream) beside sink jobs, filters by
 * kind, sink and state, and GET|DELETE /api/v1/jobs/{id} inspect and stop a stream as
 * /api/v1/streams/{id} does.
 */
import t from 'tap';
import type { WebhookConfig } from '../../src/config.js';
import { testApp } from '../support/app.js';
import { testFeedProvider } from '../support/feed-source.js';
import { webhookReceiver } from '../support/webhook-receiver.js';

interface Item {
  id: string;
  kind: string;
  sink: string;
  state: string;
  delivered?: number;
  records?: number;
}

t.test('a stream is listed, read and stopped through /api/v1/jobs', async (t) => {
  const receiver = await webhookReceiver(t, 's3cret');
  const webhook: WebhookConfig = { endpoint: receiver.url, secret: 's3cret', maxCount: 1000, timeoutMs: 5000, retries: 1, backoffMs: 10 };
  const app = await testApp(t, { sinks: { webhook }, feed: testFeedProvider(10) });

  const started = await app.inject({ method: 'POST', url: '/api/v1/streams', payload: { sink: 'webhook', mode: 'live', seed: 1, events_per_second: 20, daily_curve: false } });
  t.equal(started.statusCode, 202);
  const stream = started.json() as Item;
  t.equal(stream.kind, 'stream');
  const sinkJob = await app.inject({ method: 'POST', url: '/api/v1/sinks/webhook', payload: { entities: ['users'], seed: 3, users: 5 } });
  t.equal(sinkJob.statusCode, 202, sinkJob.body);
  const job = sinkJob.json() as Item;
  t.equal(job.kind, 'sink');

  const list = (query = '') => app.inject(`/api/v1/jobs${query}`).then((r) => r.json() as Item[]);
  const all = await list();
  t.same(
    all.map((i) => [i.id, i.kind]),
    [
      [job.id, 'sink'],
      [stream.id, 'stream'],
    ],
    'both, newest first',
  );
  t.same((await list('?kind=stream')).map((i) => i.id), [stream.id]);
  t.same((await list('?kind=sink')).map((i) => i.id), [job.id]);
  t.same((await list('?sink=webhook')).length, 2);
  t.same((await list('?sink=kafka')).length, 0);
  t.same((await list('?state=running&kind=stream')).map((i) => i.id), [stream.id]);

  const viaJobs = (await app.inject(`/api/v1/jobs/${stream.id}`)).json() as Item;
  t.equal(viaJobs.kind, 'stream');
  t.equal(viaJobs.id, stream.id);
  t.equal(((await app.inject(`/api/v1/jobs/${job.id}?wait=true`)).json() as Item).records, 5, 'a sink job as before');
  const stopped = await app.inject({ method: 'DELETE', url: `/api/v1/jobs/${stream.id}` });
  t.equal(stopped.statusCode, 200);
  t.equal((stopped.json() as Item).state, 'cancelled', 'DELETE /api/v1/jobs/{id} stops the stream');
  t.equal(((await app.inject(`/api/v1/streams/${stream.id}`)).json() as Item).state, 'cancelled');
  t.equal((await app.inject('/api/v1/jobs/00000000-0000-4000-8000-000000000000')).statusCode, 404);
  t.equal((await app.inject('/api/v1/jobs?kind=other')).statusCode, 400);
});
