/**
 * The control panel end to end in a real browser: Debian's Chromium (/usr/bin/chromium, installed
 * by .ci/run) driven by playwright-core, against the app on a loopback port with the webhook
 * receiver and the GCS test peer as destinations. Any console error, page error or request that
 * leaves loopback fails the test.
 */
import { mkdir, mkdtemp } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type Page } from 'playwright-core';
import t from 'tap';
import { buildWeb } from '../../scripts/build-web.js';
import { PANEL_DIR } from '../../src/plugins/panel.js';
import { testApp } from '../support/app.js';
import { startGcsServer } from '../support/gcs-server.js';
import { webhookReceiver } from '../support/webhook-receiver.js';

const SECRET = 'whsec_panel_test';
const BUCKET = 'panel-test-bucket';
const CHROMIUM = '/usr/bin/chromium';
/** Screenshots go to docs/images with UPDATE_SCREENSHOTS=1, else to a temporary folder. */
const SHOTS = process.env.UPDATE_SCREENSHOTS === '1' ? fileURLToPath(new URL('../../docs/images/', import.meta.url)) : await mkdtemp(join(tmpdir(), 'ecomgen-panel-'));

const isLoopback = (url: string) => {
  const { protocol, hostname } = new URL(url);
  if (protocol === 'data:' || protocol === 'blob:' || protocol === 'about:') return true;
  return hostname === '127.0.0.1' || hostname === 'localhost' || hostname === '[::1]';
};

t.test('the panel explores a world, runs the webhook and GCS sinks, watches, cancels and resets', async (t) => {
  await buildWeb(PANEL_DIR);
  await mkdir(SHOTS, { recursive: true });
  const receiver = await webhookReceiver(t, SECRET);
  const gcs = await startGcsServer(t, [BUCKET]);
  const app = await testApp(t, {
    sinks: {
      webhook: { endpoint: receiver.url, secret: SECRET, maxCount: 1000, timeoutMs: 5000, retries: 1, backoffMs: 5 },
      gcs: { bucket: BUCKET, projectId: 'ecomgen-test', apiEndpoint: gcs.url },
    },
  });
  await app.listen({ port: 0, host: '127.0.0.1' });
  const base = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;

  const browser: Browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
  t.teardown(() => browser.close());
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const problems: string[] = [];
  await context.route('**/*', (route) => {
    const url = route.request().url();
    if (isLoopback(url)) return route.continue();
    problems.push(`request left loopback: ${url}`);
    return route.abort();
  });
  const page: Page = await context.newPage();
  // The one deliberate 400 (an invalid count, below) is logged by Chromium as a failed resource: expected, and only that one.
  let expectRejection = false;
  let rejections = 0;
  page.on('console', (message) => {
    if (message.type() !== 'error') return;
    const rejected = expectRejection && message.text().includes('status of 400') && message.location().url.endsWith('/api/v1/sinks/webhook');
    if (rejected) rejections++;
    else problems.push(`console error: ${message.text()} (${message.location().url})`);
  });
  page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));

  // A browser asking for / gets the panel; an API client keeps the JSON index.
  const landing = await page.goto(`${base}/`);
  t.equal(new URL(page.url()).pathname, '/ui/', 'a browser at / lands on /ui/');
  t.equal(landing?.status(), 200);
  t.match((await fetch(`${base}/`)).headers.get('content-type'), /^application\/json/, 'fetch of / still gets JSON');
  await page.waitForSelector('body[data-ready=true]');

  // Explore: orders of seed 42 at scale 0.01, as the API serves them.
  const firstCell = () => page.locator('#preview tbody tr:first-child td:first-child').innerText();
  const api = async (query: string) => (await fetch(`${base}/api/v1/orders?${query}`)).json() as Promise<{ order_id: string }[]>;
  await page.waitForSelector('#preview tbody tr');
  const seed42 = await api('seed=42&scale=0.01&limit=25&offset=0');
  t.equal(await firstCell(), seed42[0]?.order_id, 'the preview shows the first order of seed 42');
  t.equal(await page.locator('#preview tbody tr').count(), 25, 'one page of 25 rows');
  const total = (await fetch(`${base}/api/v1/orders?seed=42&scale=0.01&limit=1`)).headers.get('x-total-count');
  t.match(await page.locator('#record-count').innerText(), `of ${total}`, 'the record count is X-Total-Count');
  t.equal(await page.locator('#curl').inputValue(), `curl '${base}/api/v1/orders?seed=42&scale=0.01&limit=25&offset=0'`, 'the curl command reproduces the view');
  t.same(await page.locator('#downloads a').allInnerTexts(), ['Download JSON', 'Download NDJSON', 'Download CSV', 'Download XML']);
  await page.waitForSelector('#truth dd');
  t.match(await page.locator('#truth').innerText(), new RegExp(`Population\\s+${total}`), 'the manifest ground truth');

  await page.click('#next-page');
  await page.waitForFunction(`document.querySelector('#record-count')?.textContent?.includes('records 26–50')`);
  t.equal(await firstCell(), (await api('seed=42&scale=0.01&limit=25&offset=25'))[0]?.order_id, 'the next page');

  // Keyboard: type a new seed and press Enter.
  await page.focus('input[name=seed]');
  await page.keyboard.press('Control+A');
  await page.keyboard.type('43');
  await page.keyboard.press('Enter');
  const seed43 = await api('seed=43&scale=0.01&limit=1');
  await page.waitForFunction(`document.querySelector('#record-count')?.textContent?.includes('records 1–25')`);
  await page.waitForFunction(`document.querySelector('#preview tbody td')?.textContent === ${JSON.stringify(seed43[0]?.order_id)}`);
  t.equal(await firstCell(), seed43[0]?.order_id, 'a new seed: different data, as the API serves it');
  t.not(seed43[0]?.order_id, seed42[0]?.order_id);

  await page.click('#draw-charts');
  await page.waitForFunction(`document.querySelectorAll('#charts figure canvas').length >= 5 && document.querySelector('#charts-status')?.textContent === ''`, undefined, { timeout: 120_000 });
  t.equal(await page.locator('#charts figure').count(), 5, 'five charts');

  // Every control has a label.
  const unlabelled = await page.evaluate(
    `[...document.querySelectorAll('input, select')].filter((e) => e.labels?.length === 0 && !e.getAttribute('aria-label') && !e.getAttribute('aria-labelledby')).map((e) => e.id || e.name)`,
  );
  t.same(unlabelled, [], 'no unlabelled input or select');
  await page.screenshot({ path: join(SHOTS, 'panel-explore.png'), fullPage: true });

  // Run: the stream card says streams are not there yet when the server has none.
  await page.waitForSelector('[data-sink=webhook] button');
  const streamsDocumented = ((await (await fetch(`${base}/docs/json`)).json()) as { paths: Record<string, unknown> }).paths['/api/v1/streams'] !== undefined;
  if (!streamsDocumented) t.equal(await page.locator('#stream-unavailable').innerText(), 'Live streams are not available on this server.');

  // 20 transactions, 50 ms apart, to the webhook receiver; the bar reaches 20/20.
  await page.fill('#webhook-count-number', '20');
  await page.fill('#webhook-delay-number', '50');
  await page.click('#webhook-send');
  const webhookJob = page.locator('#jobs li[data-state=succeeded]', { hasText: 'webhook' }).first();
  await webhookJob.waitFor({ timeout: 60_000 });
  t.match(await webhookJob.locator('.facts').innerText(), /^20\/20 records/, 'the progress text says 20/20');
  t.same([await webhookJob.locator('progress').getAttribute('value'), await webhookJob.locator('progress').getAttribute('max')], ['20', '20'], 'the bar is full');
  t.equal(receiver.accepted().length, 20, 'the receiver accepted 20 requests');
  t.ok(receiver.deliveries.every((d) => d.verified), 'every signature verified');
  t.same(receiver.deliveries.map((d) => d.headers['x-ecomgen-seed']), new Array(20).fill('43'), 'from the world on screen');

  // The API's validation, shown as it is.
  await page.fill('#webhook-count-number', '5000');
  expectRejection = true;
  await page.click('#webhook-send');
  await page.waitForFunction(`document.querySelector('[data-sink=webhook] .status')?.textContent?.startsWith('count')`);
  t.match(await page.locator('[data-sink=webhook] .status').innerText(), /^count: must be at most 1000/, "the API's 400 message");
  t.equal(receiver.deliveries.length, 20, 'nothing sent');
  expectRejection = false;
  t.equal(rejections, 1, 'the 400 was the only failed request');

  // Products to the GCS peer.
  await page.click('#gcs-products');
  const gcsJob = page.locator('#jobs li[data-state=succeeded]', { hasText: 'gcs' }).first();
  await gcsJob.waitFor({ timeout: 60_000 });
  const objects = gcs.list(BUCKET, 'ecomgen/products/');
  t.equal(objects.length, 1, 'one products object');
  const csv = await (await fetch(`${base}/api/v1/products?seed=43&scale=0.01&format=csv&limit=1000000`)).text();
  t.equal(objects[0]?.data.toString('utf8'), csv, 'the object is the products CSV of the world on screen');

  // A long job, cancelled from its button.
  await page.fill('#webhook-count-number', '1000');
  await page.fill('#webhook-delay-number', '2000');
  await page.click('#webhook-send');
  const running = page.locator('#jobs li[data-state=running]', { hasText: 'webhook' }).first();
  await running.waitFor();
  await page.locator('#watch').screenshot({ path: join(SHOTS, 'panel-watch.png') });
  await running.locator('button[data-cancel]').click();
  await page.locator('#jobs li[data-state=cancelled]').first().waitFor();
  const jobs = (await (await fetch(`${base}/api/v1/jobs?state=cancelled`)).json()) as { records: number }[];
  t.equal(jobs.length, 1, 'the API says one job was cancelled');
  t.ok((jobs[0]?.records ?? 1000) < 1000, 'it stopped early');

  // Reset the statistics.
  const webhookStats = page.locator('#stats tr[data-sink=webhook] td').first();
  t.not(await webhookStats.innerText(), '0', 'records counted before the reset');
  await page.click('#reset-stats');
  await page.waitForFunction(`document.querySelector('#stats tr[data-sink=webhook] td')?.textContent === '0'`);
  const stats = (await (await fetch(`${base}/api/v1/stats`)).json()) as { sinks: { webhook: { records: number } } };
  t.equal(stats.sinks.webhook.records, 0, 'the API agrees');

  // Phone width: nothing wider than the screen.
  await page.setViewportSize({ width: 390, height: 844 });
  await page.goto(`${base}/ui/`);
  await page.waitForSelector('body[data-ready=true]');
  await page.waitForSelector('#preview tbody tr');
  t.ok(await page.evaluate('document.documentElement.scrollWidth <= window.innerWidth'), 'no horizontal scrolling of the page at 390 px');
  await page.screenshot({ path: join(SHOTS, 'panel-phone.png'), fullPage: false });
  await page.locator('section[data-sink=webhook]').screenshot({ path: join(SHOTS, 'panel-phone-run.png') });

  t.same(problems, [], 'no console error, page error or request off loopback');
});
