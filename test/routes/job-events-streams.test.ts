/**
 * `GET /api/v1/jobs/events` carries streams' changes of state too: a page watching it (the
 * panel's Watch) sees a stream started elsewhere (curl, the CLI against the server, another tab)
 * when it starts, when it is asked to stop and when it ends, as `job` events with the stream as
 * `GET /api/v1/streams/{id}` shows it. Before, the event stream carried sink jobs only, and a
 * stream started after the page had loaded never appeared on it.
 */
import type { FastifyInstance } from 'fastify';
import { request as httpRequest } from 'node:http';
import type { AddressInfo } from 'node:net';
import t from 'tap';
import type { WebhookConfig } from '../../src/config.js';
import { testApp } from '../support/app.js';
import { testFeedProvider } from '../support/feed-source.js';
import { webhookReceiver } from '../support/webhook-receiver.js';

interface StreamView {
  id: string;
  kind: string;
  state: string;
  delivered: number;
}

/** Reads `job` events of the stream at `url` until `until` is satisfied (or `ms` pass); `opened` runs once the first event is in. */
function follow(url: string, until: (jobs: StreamView[]) => boolean, opened: () => Promise<void>, ms = 20_000): Promise<StreamView[]> {
  return new Promise((resolve, reject) => {
    const jobs: StreamView[] = [];
    let first = true;
    const request = httpRequest(url, { headers: { accept: 'text/event-stream' } }, (response) => {
      let text = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => {
        text += chunk;
        for (let end = text.indexOf('\n\n'); end !== -1; end = text.indexOf('\n\n')) {
          const block = text.slice(0, end);
          text = text.slice(end + 2);
          const event = /^event: (.*)$/m.exec(block)?.[1];
          const data = /^data: (.*)$/m.exec(block)?.[1];
          if (event === 'job' && data !== undefined) jobs.push(JSON.parse(data) as StreamView);
          if (first && data !== undefined) {
            first = false;
            opened().catch(reject);
          }
        }
        if (until(jobs)) {
          clearTimeout(timer);
          request.destroy();
          resolve(jobs);
        }
      });
    });
    const timer = setTimeout(() => {
      request.destroy();
      resolve(jobs);
    }, ms);
    request.on('error', (error) => (request.destroyed ? undefined : reject(error)));
    request.end();
  });
}

/** An app with the webhook sink (a signing test receiver) and a 1,000-event test feed, served on a free loopback port. */
async function served(t: Parameters<typeof testApp>[0]): Promise<{ app: FastifyInstance; base: string }> {
  const secret = 'job-events-streams';
  const receiver = await webhookReceiver(t, secret);
  const webhook: WebhookConfig = { endpoint: receiver.url, secret, maxCount: 1000, timeoutMs: 5000, retries: 0, backoffMs: 5 };
  const app = await testApp(t, { sinks: { webhook }, feed: testFeedProvider(1000, 1000) });
  await app.listen({ port: 0, host: '127.0.0.1' });
  return { app, base: `http://127.0.0.1:${(app.server.address() as AddressInfo).port}` };
}

t.test('a stream started and stopped through the API shows on the jobs event stream: start, stopping, end', async (t) => {
  const { app, base } = await served(t);
  const ids: { slow?: string; quick?: string } = {};
  const seen = await follow(
    `${base}/api/v1/jobs/events`,
    (jobs) => ['slow', 'quick'].every((name) => jobs.some((j) => j.id === ids[name as keyof typeof ids] && ['cancelled', 'succeeded'].includes(j.state))),
    async () => {
      // Opened (its first stats event is in): a stream of 1,000 s of feed time at 10x, then stopped; and one that ends by itself.
      const post = async (body: Record<string, unknown>) => (await app.inject({ method: 'POST', url: '/api/v1/streams', payload: body })).json() as StreamView;
      ids.slow = (await post({ sink: 'webhook', mode: 'replay', seed: 1, speed: 10 })).id;
      ids.quick = (await post({ sink: 'webhook', mode: 'replay', seed: 2, max_events: 5 })).id;
      await app.inject(`/api/v1/streams/${ids.quick}?wait=true`);
      const stopped = await app.inject({ method: 'DELETE', url: `/api/v1/streams/${ids.slow}` });
      t.equal(stopped.statusCode, 200);
    },
  );
  const slow = seen.filter((j) => j.id === ids.slow);
  const quick = seen.filter((j) => j.id === ids.quick);
  t.same(slow.map((j) => j.state), ['running', 'stopping', 'cancelled'], 'the stopped stream: started, asked to stop, ended');
  t.same(quick.map((j) => j.state), ['running', 'succeeded'], 'the short stream: started, ended');
  t.ok([...slow, ...quick].every((j) => j.kind === 'stream'));
  t.same(quick.at(-1), (await app.inject(`/api/v1/streams/${ids.quick}`)).json(), 'the last event is the stream as GET /streams/{id} shows it');
  t.equal(quick.at(-1)?.delivered, 5);
});

t.test('connecting while a stream runs: it is among the first events', async (t) => {
  const { app, base } = await served(t);
  const running = (await app.inject({ method: 'POST', url: '/api/v1/streams', payload: { sink: 'webhook', mode: 'replay', seed: 1, speed: 10 } })).json() as StreamView;
  const seen = await follow(`${base}/api/v1/jobs/events`, (jobs) => jobs.some((j) => j.id === running.id), async () => undefined, 5000);
  t.equal(seen.find((j) => j.id === running.id)?.state, 'running');
  await app.inject({ method: 'DELETE', url: `/api/v1/streams/${running.id}` });
});
