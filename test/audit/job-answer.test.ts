/**
 * What POST /api/v1/sinks/<sink> answers: the job took a free slot only after its 202 had gone,
 * so every answer said `"state": "queued"` (and `started_at: null`) on an idle server, and the
 * panel showed "Waiting for a free slot" for a job that was not waiting. A job with a free slot
 * now answers `running`; one over MAX_RUNNING_JOBS still answers `queued` and starts in order.
 */
import t from 'tap';
import { testApp } from '../support/app.js';
import { webhookReceiver } from '../support/webhook-receiver.js';

const SECRET = 'whsec_job_answer_0123456789abcdef';

interface JobJson { id: string; state: string; started_at: string | null; records: number }

t.test('a sink job with a free slot answers running; over the limit, queued', async (t) => {
  const receiver = await webhookReceiver(t, SECRET);
  const app = await testApp(t, { maxRunningJobs: 1, sinks: { webhook: { endpoint: receiver.url, secret: SECRET, maxCount: 1000, timeoutMs: 5000, retries: 0, backoffMs: 1 } } });
  const post = async (payload: object) => {
    const response = await app.inject({ method: 'POST', url: '/api/v1/sinks/webhook', payload });
    t.equal(response.statusCode, 202);
    return response.json() as JobJson;
  };
  const first = await post({ seed: 1, count: 3, delay_ms: 200 });
  t.equal(first.state, 'running', 'the first job answers running');
  t.ok(first.started_at !== null && !Number.isNaN(Date.parse(first.started_at)), `started_at is set: ${first.started_at}`);
  const second = await post({ seed: 2, count: 2 });
  t.equal(second.state, 'queued', 'the second waits for the only slot');
  t.equal(second.started_at, null);
  const done = await Promise.all([first, second].map(async (job) => (await app.inject(`/api/v1/jobs/${job.id}?wait=true`)).json() as JobJson));
  t.same(done.map((j) => [j.state, j.records]), [['succeeded', 3], ['succeeded', 2]], 'both delivered everything');
  t.ok(Date.parse(done[1]?.started_at ?? '') >= Date.parse(done[0]?.started_at ?? ''), 'in order');
  t.equal(receiver.accepted().length, 5);
  // A job cancelled at once, while it holds its slot: cancelled, nothing sent, and the slot is free again.
  const cancelled = await post({ seed: 3, count: 5 });
  const stop = await app.inject({ method: 'DELETE', url: `/api/v1/jobs/${cancelled.id}` });
  t.equal((stop.json() as JobJson).state, 'cancelled');
  const next = await post({ seed: 4, count: 1 });
  t.equal(next.state, 'running', 'the slot was released');
  t.equal(((await app.inject(`/api/v1/jobs/${next.id}?wait=true`)).json() as JobJson).state, 'succeeded');
});
