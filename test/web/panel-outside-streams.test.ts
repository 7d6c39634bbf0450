/**
 * The panel's Watch shows a stream started elsewhere (curl, another tab) while the page is open,
 * and its end when it is stopped elsewhere: the jobs event stream it follows carries streams'
 * changes of state. Before, such a stream never appeared until the page was reloaded.
 * Debian's Chromium through playwright-core, as test/web/panel.test.ts.
 */
import t from 'tap';
import { testFeedProvider } from '../support/feed-source.js';
import { openPanel } from '../support/panel.js';

t.test('a stream started and stopped through the API while the panel is open shows under Watch', async (t) => {
  const { app, page, problems } = await openPanel(t, 'panel-outside-streams', testFeedProvider(1000, 1000));
  await page.locator('#live-status', { hasText: 'Live:' }).waitFor({ timeout: 15_000 });

  // As `curl -X POST .../api/v1/streams` would, after the page has loaded.
  const started = await app.inject({ method: 'POST', url: '/api/v1/streams', payload: { sink: 'webhook', mode: 'replay', seed: 5, speed: 10 } });
  t.equal(started.statusCode, 202);
  const id = (started.json() as { id: string }).id;
  const line = page.locator(`[data-job="${id}"]`);
  await line.waitFor({ timeout: 5000 });
  t.match(await line.textContent(), /webhook · replay stream/, 'the stream is listed');
  // Its progress moves (the page reads a running stream every second).
  await page.locator(`[data-job="${id}"]`, { hasText: /[1-9]\d* events/ }).waitFor({ timeout: 10_000 });

  // Stopped elsewhere: the line says so.
  t.equal((await app.inject({ method: 'DELETE', url: `/api/v1/streams/${id}` })).statusCode, 200);
  await page.locator(`[data-job="${id}"]`, { hasText: 'Cancelled' }).waitFor({ timeout: 5000 });
  t.equal(await page.locator(`[data-cancel="${id}"]`).count(), 0, 'no Cancel button on an ended stream');
  t.same(problems, [], 'no console or page errors');
});
