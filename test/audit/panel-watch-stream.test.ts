/**
 * The panel's Watch with streams, in Debian's Chromium. The jobs list (GET /api/v1/jobs) holds
 * streams too (`kind: "stream"`), whose fields are not a sink job's: read as one, a stream had no
 * `records`, its progress bar's `max` was NaN, and setting it threw. So on any server that had run
 * a stream (running, or among the last ended), the Watch showed no job, never connected to its
 * event stream, the page never became ready, and Explore showed "The server could not be reached
 * (Failed to set the 'max' property on 'HTMLProgressElement' …)". A stream started from the card
 * was never updated either (streams are not on GET /api/v1/jobs/events), and the card's sink was
 * the first listed (PostgreSQL here, not configured: a 409) rather than the configured one, and
 * every page load logged the 404 of /favicon.ico as a console error.
 */
import { chromium, type Browser } from 'playwright-core';
import type { AddressInfo } from 'node:net';
import t from 'tap';
import { buildWeb } from '../../scripts/build-web.js';
import { PANEL_DIR } from '../../src/plugins/panel.js';
import { testApp } from '../support/app.js';
import { webhookReceiver } from '../support/webhook-receiver.js';

const SECRET = 'whsec_panel_watch_stream';

interface StreamJson { id: string; state: string; delivered: number; failed: number; mode: string }

t.test('the Watch shows streams, ended and running, with the API\'s counts', async (t) => {
  await buildWeb(PANEL_DIR);
  const receiver = await webhookReceiver(t, SECRET);
  const app = await testApp(t, { sinks: { webhook: { endpoint: receiver.url, secret: SECRET, maxCount: 1000, timeoutMs: 5000, retries: 1, backoffMs: 5 } } });
  await app.listen({ port: 0, host: '127.0.0.1' });
  const base = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;

  // A stream that ended before the page was opened.
  const started = await app.inject({ method: 'POST', url: '/api/v1/streams', payload: { sink: 'webhook', mode: 'replay', seed: 7, scale: 0.01, max_events: 5 } });
  t.equal(started.statusCode, 202, 'the replay started');
  const first = (await app.inject(`/api/v1/streams/${(started.json() as StreamJson).id}?wait=true`)).json() as StreamJson;
  t.match(first, { state: 'succeeded', delivered: 5, failed: 0 }, 'the replay delivered its 5 events');

  const browser: Browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--no-sandbox'] });
  t.teardown(() => browser.close());
  const page = await (await browser.newContext({ viewport: { width: 1280, height: 900 } })).newPage();
  const problems: string[] = [];
  page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
  page.on('console', (message) => {
    // Any console error, the 404 of a /favicon.ico request included (the page names none, so Chromium asked for one).
    if (message.type() === 'error') problems.push(`console error: ${message.text()} (${message.location().url})`);
  });
  await page.goto(`${base}/ui/`);
  await page.waitForSelector('body[data-ready=true]', { timeout: 30_000 });
  t.equal(await page.locator('#explore-error').textContent(), '', 'no error under Explore');
  await page.waitForFunction("document.getElementById('live-status')?.textContent?.startsWith('Live')", undefined, { timeout: 10_000 });

  const ended = page.locator(`li[data-job="${first.id}"]`);
  t.equal(await ended.getAttribute('data-state'), 'succeeded');
  t.equal(await ended.locator('strong').textContent(), 'webhook · replay stream');
  t.match(await ended.locator('.facts').textContent(), /^5\/5 events · /, 'its delivered events of max_events');

  // The card starts on the configured sink; the others say what they need.
  t.equal(await page.locator('#stream-sink').inputValue(), 'webhook', 'the configured sink is chosen');
  t.match(await page.locator('#stream-sink option[value=postgres]').textContent(), /^postgres \(not configured: DATABASE_URL\)$/);

  // A live stream from the card is followed until it ends, and its line says what the API says.
  await page.fill('#stream-rate', '50');
  await page.fill('#stream-duration', '2');
  await page.click('#stream-start');
  const other = page.locator(`li[data-job]:not([data-job="${first.id}"])`);
  await other.first().waitFor({ timeout: 10_000 });
  const id = await other.first().getAttribute('data-job');
  t.ok(id, 'the new stream is listed');
  const live = page.locator(`li[data-job="${id}"]`);
  await page.waitForSelector(`li[data-job="${id}"][data-state=succeeded]`, { timeout: 20_000 });
  const api = (await app.inject(`/api/v1/streams/${id}`)).json() as StreamJson;
  t.match(api, { state: 'succeeded', mode: 'live', failed: 0 }, 'the API: the live stream ended after its duration');
  t.ok(api.delivered > 0, `${api.delivered} events delivered`);
  t.equal(await live.locator('strong').textContent(), 'webhook · live stream');
  t.match(await live.locator('.facts').textContent(), new RegExp(`^${api.delivered.toLocaleString('en-US')} events · `), 'the line counts what the API counts');
  t.equal(receiver.accepted().length, 5 + api.delivered, 'the receiver got every event of both streams');
  t.same(problems, [], 'no page or console error');
});
