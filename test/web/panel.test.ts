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
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type Page } from 'playwright-core';
import t from 'tap';
import { buildWeb } from '../../scripts/build-web.js';
import { PANEL_DIR } from '../../src/plugins/panel.js';
import type { AppOptions } from '../../src/app.js';
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

/** The strict policy a deployment may put in front of the panel: the page must live with it. */
const CSP = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'self'; frame-ancestors 'none'";

interface Panel {
  page: Page;
  base: string;
  /** Console errors, page errors and requests off loopback: must stay empty. */
  problems: string[];
  /** Counts the failed request Chromium logs for a deliberate 4xx of `path` while `during` runs. */
  expectRejection<T>(status: number, path: string, during: () => Promise<T>): Promise<{ result: T; rejections: number }>;
}

/** Starts the app with these options on a loopback port and opens a browser page on it. */
async function openPanel(t: { teardown: (fn: () => unknown) => void }, options: AppOptions): Promise<Panel> {
  await buildWeb(PANEL_DIR);
  const app = await testApp(t, options);
  await app.listen({ port: 0, host: '127.0.0.1' });
  const base = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
  const browser: Browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
  t.teardown(() => browser.close());
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const problems: string[] = [];
  await context.route('**/*', async (route) => {
    const request = route.request();
    const url = request.url();
    if (!isLoopback(url)) {
      problems.push(`request left loopback: ${url}`);
      return route.abort();
    }
    if (!request.isNavigationRequest()) return route.continue();
    // Pages get a strict Content-Security-Policy: an inline script or style would be refused and logged.
    const response = await route.fetch({ maxRedirects: 0 });
    return route.fulfill({ response, headers: { ...response.headers(), 'content-security-policy': CSP } });
  });
  const page: Page = await context.newPage();
  let expected: { status: number; path: string } | undefined;
  let rejections = 0;
  page.on('console', (message) => {
    if (message.type() !== 'error') return;
    if (expected && message.text().includes(`status of ${expected.status}`) && message.location().url.endsWith(expected.path)) rejections++;
    else problems.push(`console error: ${message.text()} (${message.location().url})`);
  });
  page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
  return {
    page,
    base,
    problems,
    async expectRejection(status, path, during) {
      expected = { status, path };
      rejections = 0;
      try {
        const result = await during();
        // Chromium's log line may come a moment after the page has handled the answer: wait for it (bounded).
        for (let i = 0; i < 100 && rejections === 0; i++) await sleep(20);
        return { result, rejections };
      } finally {
        expected = undefined;
      }
    },
  };
}

t.test('the panel explores a world, runs the webhook and GCS sinks, watches, cancels and resets', async (t) => {
  await mkdir(SHOTS, { recursive: true });
  const receiver = await webhookReceiver(t, SECRET);
  const gcs = await startGcsServer(t, [BUCKET]);
  const { page, base, problems, expectRejection } = await openPanel(t, {
    sinks: {
      webhook: { endpoint: receiver.url, secret: SECRET, maxCount: 1000, timeoutMs: 5000, retries: 1, backoffMs: 5 },
      gcs: { bucket: BUCKET, projectId: 'ecomgen-test', apiEndpoint: gcs.url },
    },
  });

  // A browser asking for / gets the panel; an API client keeps the JSON index.
  const landing = await page.goto(`${base}/`);
  t.equal(new URL(page.url()).pathname, '/ui/', 'a browser at / lands on /ui/');
  t.equal(landing?.status(), 200);
  t.match((await fetch(`${base}/`)).headers.get('content-type'), /^application\/json/, 'fetch of / still gets JSON');
  // Opened again as a navigation of /ui/ itself (the redirect above was followed inside the browser), so the strict CSP applies.
  const document = await page.goto(`${base}/ui/`);
  t.equal(document?.headers()['content-security-policy'], CSP, 'the page runs under the strict CSP (a violation would be a console error)');
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
  await page.locator('#record-count', { hasText: 'records 26–50' }).waitFor();
  t.equal(await firstCell(), (await api('seed=42&scale=0.01&limit=25&offset=25'))[0]?.order_id, 'the next page');

  // Keyboard: type a new seed and press Enter.
  await page.focus('input[name=seed]');
  await page.keyboard.press('Control+A');
  await page.keyboard.type('43');
  await page.keyboard.press('Enter');
  const seed43 = await api('seed=43&scale=0.01&limit=1');
  await page.locator('#preview tbody tr:first-child td:first-child', { hasText: seed43[0]?.order_id ?? 'missing' }).waitFor();
  t.equal(await firstCell(), seed43[0]?.order_id, 'a new seed: different data, as the API serves it');
  t.not(seed43[0]?.order_id, seed42[0]?.order_id);

  await page.click('#draw-charts');
  await page.locator('#charts figure canvas').nth(4).waitFor({ timeout: 120_000 });
  await page.locator('#charts-status:empty').waitFor({ state: 'attached', timeout: 120_000 });
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
  const { rejections } = await expectRejection(400, '/api/v1/sinks/webhook', async () => {
    await page.click('#webhook-send');
    await page.locator('section[data-sink=webhook] .status', { hasText: /^count/ }).waitFor();
  });
  t.match(await page.locator('[data-sink=webhook] .status').innerText(), /^count: must be at most 1000/, "the API's 400 message");
  t.equal(receiver.deliveries.length, 20, 'nothing sent');
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
  await page.locator('#stats tr[data-sink=webhook] td:first-of-type', { hasText: /^0$/ }).waitFor();
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

t.test('with API_KEY set, the panel asks for the key once and sends it as the bearer token', async (t) => {
  const receiver = await webhookReceiver(t, SECRET);
  const { page, base, problems, expectRejection } = await openPanel(t, {
    sinks: { apiKey: 'panel-test-key', webhook: { endpoint: receiver.url, secret: SECRET, maxCount: 1000, timeoutMs: 5000, retries: 1, backoffMs: 5 } },
  });
  await page.goto(`${base}/ui/`);
  await page.waitForSelector('body[data-ready=true]');
  await page.fill('#webhook-count-number', '3');
  await page.fill('#webhook-delay-number', '0');
  const { rejections } = await expectRejection(401, '/api/v1/sinks/webhook', async () => {
    await page.click('#webhook-send');
    await page.locator('#key-dialog').waitFor({ state: 'visible' });
  });
  t.equal(rejections, 1, 'the first POST, without a key, was refused');
  await page.fill('#key-dialog input[name=key]', 'panel-test-key');
  await page.click('#key-dialog button[value=save]');
  await page.locator('#jobs li[data-state=succeeded]', { hasText: 'webhook' }).first().waitFor({ timeout: 60_000 });
  t.equal(receiver.accepted().length, 3, 'the job ran with the key');
  t.equal(await page.evaluate(`sessionStorage.getItem('ecomgen.apiKey')`), 'panel-test-key', 'kept in session storage');

  // The next request sends the key without asking again.
  await page.click('#webhook-send');
  await page.locator('#jobs li[data-state=succeeded]').nth(1).waitFor({ timeout: 60_000 });
  t.equal(receiver.accepted().length, 6);
  t.same(problems, [], 'no console error, page error or request off loopback');
});
