/**
 * The panel in Debian's Chromium (playwright-core, never a downloaded browser) on a served app
 * whose webhook sink posts to a signing test receiver: what the panel's browser tests share.
 */
import type { FastifyInstance } from 'fastify';
import type { AddressInfo } from 'node:net';
import { chromium, type Page } from 'playwright-core';
import { buildWeb } from '../../scripts/build-web.js';
import { PANEL_DIR } from '../../src/plugins/panel.js';
import type { FeedProvider } from '../../src/streams/source.js';
import { testApp } from './app.js';
import { webhookReceiver, type WebhookReceiver } from './webhook-receiver.js';

interface Teardown {
  teardown: (fn: () => unknown) => void;
}

export interface OpenPanel {
  app: FastifyInstance;
  receiver: WebhookReceiver;
  page: Page;
  /** Console errors and page errors logged so far (a test ends asserting there were none). */
  problems: string[];
}

/** Builds the panel, serves an app with the webhook sink and `feed` on a free loopback port, and opens /ui/ at 1280×900. */
export async function openPanel(t: Teardown, secret: string, feed: FeedProvider): Promise<OpenPanel> {
  await buildWeb(PANEL_DIR);
  const receiver = await webhookReceiver(t, secret);
  const app = await testApp(t, { sinks: { webhook: { endpoint: receiver.url, secret, maxCount: 1000, timeoutMs: 5000, retries: 0, backoffMs: 5 } }, feed });
  await app.listen({ port: 0, host: '127.0.0.1' });
  const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--no-sandbox'] });
  t.teardown(() => browser.close());
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  const problems: string[] = [];
  page.on('console', (message) => (message.type() === 'error' ? problems.push(`console error: ${message.text()}`) : undefined));
  page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
  await page.goto(`http://127.0.0.1:${(app.server.address() as AddressInfo).port}/ui/`);
  return { app, receiver, page, problems };
}
