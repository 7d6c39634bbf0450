/**
 * MAX_QUEUED_JOBS=0 means no job waits: a job that finds a free slot starts, one that would have
 * to wait is refused with 429 TOO_MANY_JOBS. Every job was refused, slots free or not ("0 jobs
 * are already waiting for a slot" with nothing running), so a server configured not to queue
 * could run no sink job at all.
 */
import t from 'tap';
import type { WebhookConfig } from '../../src/config.js';
import { testApp } from '../support/app.js';
import type { JobJson } from '../support/jobs.js';
import { webhookReceiver } from '../support/webhook-receiver.js';

const SECRET = 'whsec_no_queue_test';

t.test('MAX_QUEUED_JOBS=0: a free slot runs the job, a full one refuses the next', async (t) => {
  const receiver = await webhookReceiver(t, SECRET);
  const webhook: WebhookConfig = { endpoint: receiver.url, secret: SECRET, maxCount: 1000, timeoutMs: 2000, retries: 1, backoffMs: 5 };
  const app = await testApp(t, { sinks: { webhook }, maxRunningJobs: 1, maxQueuedJobs: 0 });

  const first = await app.inject({ method: 'POST', url: '/api/v1/sinks/webhook', payload: { seed: 1, count: 3, delay_ms: 500 } });
  t.equal(first.statusCode, 202, first.body);
  const job = first.json() as JobJson;
  t.equal(job.state, 'running', 'the free slot is taken at once');

  const second = await app.inject({ method: 'POST', url: '/api/v1/sinks/webhook', payload: { seed: 2, count: 1 } });
  t.equal(second.statusCode, 429, 'the slot is taken and no job may wait');
  const body = second.json() as { code: string; message: string };
  t.equal(body.code, 'TOO_MANY_JOBS');
  t.match(body.message, /^sink: 0 jobs are already waiting for a slot \(MAX_QUEUED_JOBS; 1 run at once\)/);

  const cancelled = (await app.inject({ method: 'DELETE', url: `/api/v1/jobs/${job.id}` })).json() as JobJson;
  t.equal(cancelled.state, 'cancelled');
  const third = await app.inject({ method: 'POST', url: '/api/v1/sinks/webhook?wait=true', payload: { seed: 3, count: 2 } });
  t.equal(third.statusCode, 200, 'the slot is free again: the job runs to its end');
  const done = third.json() as JobJson;
  t.equal(done.state, 'succeeded');
  t.equal(done.records, 2);
  t.equal(receiver.accepted().filter((r) => r.headers['x-ecomgen-seed'] === '3').length, 2, 'the receiver got both records');
});
