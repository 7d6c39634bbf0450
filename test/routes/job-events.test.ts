/**
 * Job progress as server-sent events (`GET /api/v1/jobs/{id}/events`, `GET /api/v1/jobs/events`)
 * and the cap on jobs running at once, against the webhook sink and its test receiver.
 */
import { request as httpRequest, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import type { FastifyInstance } from 'fastify';
import t from 'tap';
import type { WebhookConfig } from '../../src/config.js';
import { testApp } from '../support/app.js';
import type { JobJson } from '../support/jobs.js';
import { webhookReceiver, type WebhookReceiver } from '../support/webhook-receiver.js';

const SECRET = 'whsec_events_test';

interface Event {
  id: string | undefined;
  event: string;
  data: string;
}

/** Parses a text/event-stream body into its events (comments and heartbeats skipped). */
function parseEvents(text: string): Event[] {
  const events: Event[] = [];
  for (const block of text.split('\n\n')) {
    const fields: Record<string, string> = {};
    for (const line of block.split('\n')) {
      if (line === '' || line.startsWith(':')) continue;
      const at = line.indexOf(':');
      const name = at < 0 ? line : line.slice(0, at);
      const value = at < 0 ? '' : line.slice(at + 1).replace(/^ /, '');
      fields[name] = fields[name] === undefined ? value : `${fields[name]}\n${value}`;
    }
    if (fields.data !== undefined) events.push({ id: fields.id, event: fields.event ?? 'message', data: fields.data });
  }
  return events;
}

async function setup(t: { teardown: (fn: () => unknown) => void }, maxRunningJobs?: number, maxQueuedJobs?: number): Promise<{ app: FastifyInstance; receiver: WebhookReceiver }> {
  const receiver = await webhookReceiver(t, SECRET);
  const webhook: WebhookConfig = { endpoint: receiver.url, secret: SECRET, maxCount: 1000, timeoutMs: 2000, retries: 1, backoffMs: 5 };
  const app = await testApp(t, { sinks: { webhook }, ...(maxRunningJobs !== undefined ? { maxRunningJobs } : {}), ...(maxQueuedJobs !== undefined ? { maxQueuedJobs } : {}) });
  return { app, receiver };
}

async function post(app: FastifyInstance, body: Record<string, unknown>): Promise<JobJson> {
  const response = await app.inject({ method: 'POST', url: '/api/v1/sinks/webhook', payload: body });
  if (response.statusCode !== 202) throw new Error(`POST answered ${response.statusCode}: ${response.body}`);
  return response.json() as JobJson;
}

const getJob = async (app: FastifyInstance, id: string, wait = false) => (await app.inject(`/api/v1/jobs/${id}${wait ? '?wait=true' : ''}`)).json() as JobJson;

/** Reads an open event stream of a listening app until `until` says stop; returns the events read. */
async function follow(url: string, until: (events: Event[]) => boolean, opened: () => void): Promise<{ events: Event[]; response: IncomingMessage }> {
  let first = true;
  return new Promise((resolve, reject) => {
    const request = httpRequest(url, { headers: { accept: 'text/event-stream' } }, (response) => {
      let text = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => {
        text += chunk;
        const complete = text.slice(0, text.lastIndexOf('\n\n') + 2);
        const events = parseEvents(complete);
        if (first && events.length > 0) {
          first = false;
          opened();
        }
        if (until(events)) {
          request.destroy();
          resolve({ events, response });
        }
      });
      response.on('end', () => resolve({ events: parseEvents(text), response }));
      response.on('error', reject);
    });
    request.on('error', reject);
    request.end();
  });
}

t.test('one job: the events move forward and end with the job exactly as GET /jobs/{id} shows it', async (t) => {
  const { app, receiver } = await setup(t);
  const job = await post(app, { seed: 11, count: 20, delay_ms: 20 });
  const response = await app.inject({ url: `/api/v1/jobs/${job.id}/events`, headers: { accept: 'text/event-stream' } });
  t.equal(response.statusCode, 200);
  t.match(response.headers['content-type'], /^text\/event-stream/);
  const events = parseEvents(response.body);
  t.ok(events.length >= 2, `${events.length} events`);
  t.ok(events.every((e) => e.event === 'job'), 'all are job events');
  t.same(events.map((e) => e.id), events.map((_, i) => String(i + 1)), 'ids count up');
  const states = events.map((e) => JSON.parse(e.data) as JobJson);
  t.ok(states.every((s) => s.id === job.id), 'all about the job');
  const records = states.map((s) => s.records);
  t.same(records, [...records].sort((a, b) => a - b), 'records never go back');
  const last = states.at(-1) as JobJson;
  const final = await getJob(app, job.id);
  t.equal(last.state, 'succeeded');
  t.same(last, final, 'the last event is the final job');
  t.same([last.records, last.failed, last.bytes], [20, 0, receiver.accepted().reduce((sum, d) => sum + Buffer.byteLength(d.body), 0)], 'records, failed and bytes as received');
  t.ok(states.slice(0, -1).every((s) => !['succeeded', 'partial', 'failed', 'cancelled'].includes(s.state)), 'only the last event is final');

  const again = await app.inject({ url: `/api/v1/jobs/${job.id}/events` });
  const replayed = parseEvents(again.body);
  t.equal(replayed.length, 1, 'an ended job: one event, then the stream ends (no Accept header needed, as with curl)');
  t.same(JSON.parse(replayed[0]?.data ?? 'null'), final);
});

t.test('bad requests are JSON errors', async (t) => {
  const { app } = await setup(t);
  const unknown = await app.inject({ url: '/api/v1/jobs/00000000-0000-4000-8000-000000000000/events', headers: { accept: 'text/event-stream' } });
  t.equal(unknown.statusCode, 404);
  t.same(Object.keys(unknown.json()).sort(), ['code', 'error', 'message', 'statusCode']);
  t.match(unknown.json().message, /^id: no job/);
  const refused = await app.inject({ url: '/api/v1/jobs/events', headers: { accept: 'application/json' } });
  t.equal(refused.statusCode, 406, 'an Accept without text/event-stream');
  t.same([refused.json().code, Object.keys(refused.json()).sort()], ['NOT_ACCEPTABLE', ['code', 'error', 'message', 'statusCode']]);
  t.match(refused.json().message, /^Accept: /);
  const malformed = await app.inject({ url: '/api/v1/jobs/nope/events', headers: { accept: 'text/event-stream' } });
  t.equal(malformed.statusCode, 400);
  t.match(malformed.json().message, /id/);
});

t.test('all jobs: a listening server pushes stats, each job as it changes, and a stats event after a reset', async (t) => {
  const { app, receiver } = await setup(t);
  await app.listen({ port: 0, host: '127.0.0.1' });
  const base = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
  let jobId = '';
  let reset = false;
  let opened: () => void = () => {};
  const open = new Promise<void>((resolve) => (opened = resolve));
  const watching = follow(
    `${base}/api/v1/jobs/events`,
    (events) => reset && events.filter((e) => e.event === 'stats').some((e) => (JSON.parse(e.data) as { sinks: { webhook: { records: number } } }).sinks.webhook.records === 0 && e !== events[0]),
    opened,
  );
  // The first stats event says the stream is open; then start the job.
  await open;
  jobId = (await post(app, { seed: 3, count: 10, delay_ms: 10 })).id;
  await getJob(app, jobId, true);
  t.equal((await app.inject({ method: 'DELETE', url: '/api/v1/stats' })).statusCode, 200);
  reset = true;
  const { events, response } = await watching;
  t.match(response.headers['content-type'], /^text\/event-stream/);
  t.equal(events[0]?.event, 'stats', 'the stream opens with the stats');
  const states = events.filter((e) => e.event === 'job').map((e) => JSON.parse(e.data) as JobJson).filter((s) => s.id === jobId);
  t.same(states.at(-1), await getJob(app, jobId), 'the job ends as GET shows it');
  t.equal(receiver.accepted().length, 10);
  const stats = events.filter((e) => e.event === 'stats').map((e) => JSON.parse(e.data) as { sinks: { webhook: { records: number } } });
  t.ok(stats.some((s) => s.sinks.webhook.records === 10), 'a stats event counted the 10 records');
  t.equal(stats.at(-1)?.sinks.webhook.records, 0, 'the reset pushed fresh stats');
});

t.test('MAX_RUNNING_JOBS: the others wait as queued, start in order, and a queued job can be cancelled', async (t) => {
  const { app, receiver } = await setup(t, 1);
  // A job that pauses 2 s between its records holds the only slot while the test looks.
  const first = await post(app, { seed: 1, count: 3, delay_ms: 2000 });
  const second = await post(app, { seed: 2, count: 2 });
  const third = await post(app, { seed: 3, count: 2 });
  const fourth = await post(app, { seed: 4, count: 2 });
  // Wait (by state, not by time) until the first job has delivered a record and is pausing.
  while ((await getJob(app, first.id)).records === 0) await sleep(20);
  t.equal((await getJob(app, first.id)).state, 'running');
  t.equal((await getJob(app, second.id)).state, 'queued');
  const listedQueued = (await app.inject('/api/v1/jobs?state=queued')).json() as JobJson[];
  t.same(listedQueued.map((j) => j.id).sort(), [second.id, third.id, fourth.id].sort(), 'GET /jobs?state=queued lists the waiting jobs');

  const cancelled = await app.inject({ method: 'DELETE', url: `/api/v1/jobs/${third.id}` });
  t.equal(cancelled.statusCode, 200);
  const third2 = cancelled.json() as JobJson;
  t.same([third2.state, third2.started_at, third2.records, third2.entities.map((e) => e.state)], ['cancelled', null, 0, ['cancelled']], 'cancelled before it started');

  const firstDone = await getJob(app, first.id, true);
  const secondDone = await getJob(app, second.id, true);
  t.equal(firstDone.state, 'succeeded');
  t.equal(secondDone.state, 'succeeded');
  const fourthDone = await getJob(app, fourth.id, true);
  t.equal(fourthDone.state, 'succeeded');
  t.ok((secondDone.started_at ?? '') >= (firstDone.finished_at ?? 'z'), 'the second started when the first had ended');
  t.ok((fourthDone.started_at ?? '') >= (secondDone.finished_at ?? 'z'), 'the fourth (the third was cancelled) started when the second had ended');
  const jobsSeen = receiver.deliveries.map((d) => d.headers['x-ecomgen-job']);
  t.same([...new Set(jobsSeen)], [first.id, second.id, fourth.id], 'one job after the other, in order; the cancelled job sent nothing');
  const stats = (await app.inject('/api/v1/stats')).json() as { sinks: { webhook: { jobs: Record<string, number> } } };
  t.same(stats.sinks.webhook.jobs, { total: 4, running: 0, succeeded: 3, partial: 0, failed: 0, cancelled: 1 });
});

t.test('HEAD of an event stream: the headers of its GET, answered at once (the open stream held a HEAD unanswered)', async (t) => {
  const { app } = await setup(t);
  await app.listen({ port: 0, host: '127.0.0.1' });
  const { port } = app.server.address() as AddressInfo;
  const job = await post(app, { seed: 3, entity: 'users', limit: 5 });
  await getJob(app, job.id, true);
  const running = await post(app, { seed: 3, entity: 'users', limit: 200, delay_ms: 50 });
  for (const path of ['/api/v1/jobs/events', `/api/v1/jobs/${job.id}/events`, `/api/v1/jobs/${running.id}/events`]) {
    const response = await fetch(`http://127.0.0.1:${port}${path}`, { method: 'HEAD', signal: AbortSignal.timeout(5000) });
    t.equal(response.status, 200, `${path}: 200`);
    t.equal(response.headers.get('content-type'), 'text/event-stream', `${path}: the GET's type`);
    t.equal(response.headers.get('cache-control'), 'no-cache');
    t.equal(await response.text(), '', 'no body');
  }
  const missing = await fetch(`http://127.0.0.1:${port}/api/v1/jobs/00000000-0000-4000-8000-000000000000/events`, { method: 'HEAD', signal: AbortSignal.timeout(5000) });
  t.equal(missing.status, 404, 'an unknown job: 404, as the GET');
  await app.inject({ method: 'DELETE', url: `/api/v1/jobs/${running.id}` });
});

t.test('MAX_QUEUED_JOBS: a job beyond the queue is refused with a 429 before it is created; a slot in the queue admits one again', async (t) => {
  const { app } = await setup(t, 1, 2);
  const first = await post(app, { seed: 1, count: 3, delay_ms: 2000 });
  const second = await post(app, { seed: 2, count: 2 });
  const third = await post(app, { seed: 3, count: 2 });
  t.same([first.state, second.state, third.state], ['running', 'queued', 'queued']);
  const refused = await app.inject({ method: 'POST', url: '/api/v1/sinks/webhook', payload: { seed: 4, count: 2 } });
  t.equal(refused.statusCode, 429);
  const body = refused.json() as { code: string; message: string; error: string };
  t.equal(body.code, 'TOO_MANY_JOBS');
  t.equal(body.error, 'Too Many Requests');
  t.match(body.message, /^sink: 2 jobs are already waiting for a slot \(MAX_QUEUED_JOBS; 1 run at once\)/);
  t.equal(refused.headers['cache-control'], 'no-store');
  const listed = (await app.inject('/api/v1/jobs')).json() as JobJson[];
  t.equal(listed.length, 3, 'the refused job was not created');
  await app.inject({ method: 'DELETE', url: `/api/v1/jobs/${third.id}` });
  const admitted = await post(app, { seed: 5, count: 2 });
  t.equal(admitted.state, 'queued', 'a place in the queue freed: the next job waits again');
  for (const job of [first, second, admitted]) await app.inject({ method: 'DELETE', url: `/api/v1/jobs/${job.id}` });
});

t.test('a job with relative dates records the dates they resolved to, as it records a drawn seed', async (t) => {
  const { app, receiver } = await setup(t);
  const realNow = Date.now;
  t.teardown(() => {
    Date.now = realNow;
  });
  Date.now = () => Date.UTC(2026, 10, 30, 15, 0, 0);
  const job = await post(app, { entity: 'users', limit: 2, start_date: 'today-30d', end_date: 'today' });
  const done = await getJob(app, job.id, true);
  t.equal(done.state, 'succeeded');
  const recorded = done.request as Record<string, unknown>;
  t.equal(recorded.start_date, '2026-10-31');
  t.equal(recorded.end_date, '2026-11-30');
  // Run again from the record, another day: the same records.
  Date.now = () => Date.UTC(2026, 11, 5, 9, 0, 0);
  const again = await post(app, recorded);
  await getJob(app, again.id, true);
  const bodies = (id: string) => receiver.deliveries.filter((d) => d.headers['x-ecomgen-job'] === id).map((d) => d.body.toString());
  t.same(bodies(again.id).map((b) => JSON.parse(b) as unknown), bodies(job.id).map((b) => JSON.parse(b) as unknown), 'the same records delivered');
  t.equal(bodies(job.id).length, 2);
});
