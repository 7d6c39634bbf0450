/**
 * The panel's live-stream card starts an open-ended stream: with the Duration box emptied (its
 * placeholder says "until stopped"), the POST carries no `duration_s` and the stream runs until
 * it is stopped, as a live stream does through the API. Before, the empty box went as
 * `duration_s: 0` and the API refused it, so the panel could only start streams with an end.
 * Empty boxes of the rate, burst and ratios likewise leave the API's defaults.
 */
import t from 'tap';
import { testFeedProvider } from '../support/feed-source.js';
import { openPanel } from '../support/panel.js';

t.test('an empty Duration box starts a live stream that runs until stopped', async (t) => {
  const { app, page, problems } = await openPanel(t, 'panel-until-stopped', testFeedProvider(10, 1000));
  await page.locator('#stream-start:enabled').waitFor({ timeout: 15_000 });
  t.equal(await page.getAttribute('#stream-duration', 'placeholder'), 'until stopped');

  await page.selectOption('#stream-sink', 'webhook');
  await page.selectOption('#stream-mode', 'live');
  await page.fill('#stream-rate', '5');
  await page.fill('#stream-burst', '');
  await page.fill('#stream-duration', '');
  const [request] = await Promise.all([page.waitForRequest((r) => r.url().endsWith('/api/v1/streams') && r.method() === 'POST'), page.click('#stream-start')]);
  const body = JSON.parse(request.postData() ?? '{}') as Record<string, unknown>;
  t.notOk('duration_s' in body, 'no duration_s: until stopped');
  t.notOk('burst' in body, 'no burst: the default (one second at the rate)');
  t.equal(body.events_per_second, 5);
  const status = page.locator('[data-sink=stream] .status');
  await status.filter({ hasText: 'Started: live stream to webhook' }).waitFor({ timeout: 5000 });
  const id = /\(job ([0-9a-f]{8})\)/.exec((await status.textContent()) ?? '')?.[1] as string;

  const streams = (await app.inject('/api/v1/streams')).json() as { id: string; state: string; request: Record<string, unknown> }[];
  const stream = streams.find((s) => s.id.startsWith(id));
  t.equal(stream?.state, 'running');
  t.notOk(stream && 'duration_s' in stream.request, 'the stream has no duration');
  const stopped = (await app.inject({ method: 'DELETE', url: `/api/v1/streams/${stream?.id}` })).json() as { state: string; stop_reason: string };
  t.same([stopped.state, stopped.stop_reason], ['cancelled', 'cancelled'], 'it ran until stopped');
  t.same(problems, [], 'no console or page errors');
});
