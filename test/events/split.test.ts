/**
 * The NDJSON feed with its clickstream on a render worker (src/events/split.ts): the same bytes
 * as the single-thread path, no worker state left after a client hangs up, and a killed worker
 * fails the response instead of leaving it hanging.
 */
import { createHash } from 'node:crypto';
import { get } from 'node:http';
import t from 'tap';
import type { RenderPool } from '../../src/render/pool.js';
import { testApp } from '../support/app.js';
import { downloadKillingWorkers } from '../support/render.js';

// About 60,000 events, a third of them clicks: above the split path's smallest page (20,000).
const WORLD = 'seed=5&users=300&vendors=4&warehouses=2&products=40&orders=1000&shops=2&suppliers=4&transactions=10';
const sha = (text: string) => createHash('sha256').update(text).digest('hex');

const single = await testApp(t, { renderThreads: 0 });
// Two workers: each walks half of the sessions (the split path is a server setting, FEED_SPLIT, off by default).
const pooled = await testApp(t, { renderThreads: 2, feedSplit: true });
const pool = pooled.renderPool as RenderPool;

// The single-thread path's bytes of a URL, rendered once: four tests compare against the whole
// feed, and rendering it again on the same app gave the same bytes each time (a pure function of
// the URL), at about a second of CPU each.
const references = new Map<string, Promise<string>>();
const reference = (url: string) => {
  let body = references.get(url);
  if (!body) references.set(url, (body = single.inject(url).then((res) => res.body)));
  return body;
};

t.test('the split path writes the bytes of the single-thread path', async (t) => {
  const cases = [
    'limit=10000000',
    'limit=10000000&types=interaction.page_view,order.placed,inventory.changed',
    'limit=10000000&types=order.placed',
    'limit=10000000&types=interaction.cart_add',
    'limit=25001',
    'limit=30000&types=interaction.page_view,interaction.search,payment.captured',
  ];
  for (const query of cases) {
    const opened = Reflect.get(pool, 'nextChannel') as number;
    const url = `/api/v1/events?${WORLD}&format=ndjson&${query}`;
    const [a, b] = [await reference(url), await pooled.inject(url)];
    t.equal(b.statusCode, 200, `${query}: status`);
    const lines = a.split('\n').filter(Boolean);
    if (query === 'limit=10000000') {
      t.ok(lines.length > 25_000, `${query}: ${lines.length} events, above the split path's smallest page`);
      t.ok(lines.filter((l) => l.includes('"entity":"clickstream"')).length > 5000, 'clicks among them');
    }
    t.equal(Reflect.get(pool, 'nextChannel'), opened + 2, `${query}: served by the split path, a channel to each worker`);
    t.equal(b.body.length, a.length, `${query}: length`);
    t.equal(sha(b.body), sha(a), `${query}: identical bytes (${lines.length} events)`);
  }
  t.equal(pool.openChannels, 0, 'no channel left open');
  t.same((await pool.workerChannelCounts()).reduce((s, n) => s + n, 0), 0, 'no walk left in the worker');
});

t.test('with one worker, it walks every session', async (t) => {
  const one = await testApp(t, { renderThreads: 1, feedSplit: true });
  const url = `/api/v1/events?${WORLD}&format=ndjson&limit=10000000`;
  const [a, b] = [await reference(url), await one.inject(url)];
  t.equal(Reflect.get(one.renderPool as RenderPool, 'nextChannel'), 2, 'served by the split path');
  t.equal(sha(b.body), sha(a), 'identical bytes');
});

t.test('a client that hangs up mid-stream leaves no worker state behind', async (t) => {
  const address = await pooled.listen({ port: 0, host: '127.0.0.1' });
  await new Promise<void>((resolve, reject) => {
    const req = get(`${address}/api/v1/events?${WORLD}&format=ndjson&limit=10000000`, (res) => {
      t.equal(res.statusCode, 200);
      res.once('data', () => {
        t.equal(pool.openChannels, 2, 'the response holds a channel to each worker');
        req.destroy();
        resolve();
      });
    });
    req.on('error', (err) => (err.message.includes('socket hang up') ? undefined : reject(err)));
  });
  for (let k = 0; k < 200 && pool.openChannels > 0; k++) await new Promise((resolve) => setTimeout(resolve, 10));
  t.equal(pool.openChannels, 0, 'the channel is closed');
  t.same((await pool.workerChannelCounts()).reduce((s, n) => s + n, 0), 0, 'the worker dropped its walk');
});

t.test('a killed worker fails the response cleanly, and the next one is served in full', async (t) => {
  const address = await pooled.listen({ port: 0, host: '127.0.0.1' }).catch(() => `http://127.0.0.1:${(pooled.server.address() as { port: number }).port}`);
  const outcome = await downloadKillingWorkers(`${address}/api/v1/events?${WORLD}&format=ndjson&limit=10000000`, pool);
  t.equal(outcome, 'cut', 'the response whose worker died ends early');
  t.equal(pool.openChannels, 0, 'its channels are gone');
  // Both workers were killed: the next request starts new ones once the pool has seen them exit.
  for (let k = 0; k < 500 && (Reflect.get(pool, 'all') as unknown[]).length > 0; k++) await new Promise((resolve) => setTimeout(resolve, 10));
  const url = `/api/v1/events?${WORLD}&format=ndjson&limit=10000000`;
  const [a, b] = [await reference(url), await pooled.inject(url)];
  t.equal(sha(b.body), sha(a), 'a new worker serves the next feed in full, byte for byte');
});

t.test('without the setting, a large page keeps the single-thread path', async (t) => {
  const plain = await testApp(t, { renderThreads: 2 });
  const plainPool = plain.renderPool as RenderPool;
  const url = `/api/v1/events?${WORLD}&format=ndjson&limit=10000000`;
  const [a, b] = [await reference(url), await plain.inject(url)];
  t.equal(b.statusCode, 200);
  t.equal(Reflect.get(plainPool, 'nextChannel'), 1, 'no channel was ever opened to a worker');
  t.equal(sha(b.body), sha(a), 'the same bytes');
});
