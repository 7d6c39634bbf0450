import t from 'tap';
import { FORMAT_NAMES } from '../../src/formats/index.js';
import type { RenderPool } from '../../src/render/pool.js';
import { POOL_PAGE } from '../../src/routes/entities.js';
import { testApp } from '../support/app.js';

// Whole pages (up to the default limit, sent with Content-Length) of more than POOL_PAGE records
// are rendered on the render threads: rendered on the event loop, the default page of 1,000
// orders held every other request for ~30 ms. The bytes must be the main thread's.

const inline = await testApp(t, { renderThreads: 0 });
const pooled = await testApp(t, { renderThreads: 2 });
const pool = pooled.renderPool as RenderPool;

/** Counts the batches handed to the pool from now on. */
const batches = { count: 0 };
const run = pool.run.bind(pool);
pool.run = (task) => {
  batches.count++;
  return run(task);
};

t.test('a whole page over POOL_PAGE records: the main thread bytes, rendered on the pool, sent whole', async (t) => {
  const cases = [
    // The default limit (1,000).
    'orders?seed=21',
    'users?seed=21&limit=129&offset=7',
    'reviews?seed=22&limit=600&locale=en_GB',
    // Served in time order (children numbered by their parents).
    'shipping?seed=23&limit=700',
    'order-items?seed=23&limit=900&offset=50&fields=order_id,line_number,total',
    // The population's end cuts the page short.
    'users?seed=24&users=1300&offset=1000&limit=1000',
    'inventory-movements?seed=25&limit=1000&page=2',
  ];
  for (const query of cases) {
    for (const format of FORMAT_NAMES) {
      const url = `/api/v1/${query}&format=${format}`;
      const before = batches.count;
      const [a, b] = [await inline.inject(url), await pooled.inject(url)];
      t.equal(b.statusCode, 200, `${url}: status`);
      t.ok(batches.count > before, `${url}: rendered on the pool (${batches.count - before} batch)`);
      t.equal(b.headers['content-length'], String(b.rawPayload.length), `${url}: sent whole, with Content-Length`);
      t.equal(b.headers['transfer-encoding'], undefined, `${url}: not chunked`);
      t.ok(a.rawPayload.length > 10_000, `${url}: ${a.rawPayload.length} bytes`);
      t.ok(a.rawPayload.equals(b.rawPayload), `${url}: identical bytes`);
      t.equal(b.headers.link, a.headers.link, `${url}: same Link`);
      t.equal(b.headers['x-total-count'], a.headers['x-total-count'], `${url}: same total`);
    }
  }
});

t.test('a page of POOL_PAGE records or fewer is still written on the main thread', async (t) => {
  const before = batches.count;
  for (const format of FORMAT_NAMES) {
    const url = `/api/v1/orders?seed=26&limit=${POOL_PAGE}&format=${format}`;
    const [a, b] = [await inline.inject(url), await pooled.inject(url)];
    t.ok(a.rawPayload.equals(b.rawPayload), `${url}: identical bytes`);
  }
  t.equal(batches.count, before, 'no batch for the pool');
});

t.test('an unseeded whole page rendered on the pool is the seeded page of its X-Seed', async (t) => {
  const seeds = new Set<string>();
  for (const format of ['csv', 'json'] as const) {
    for (let k = 0; k < 3; k++) {
      const before = batches.count;
      const res = await pooled.inject(`/api/v1/products?limit=400&format=${format}`);
      t.equal(res.statusCode, 200);
      t.ok(batches.count > before, 'rendered on the pool');
      const seed = res.headers['x-seed'] as string;
      seeds.add(seed);
      const seeded = await inline.inject(`/api/v1/products?seed=${seed}&limit=400&format=${format}`);
      t.ok(res.rawPayload.equals(seeded.rawPayload), `${format}, seed ${seed}: the seeded page's bytes`);
    }
  }
  t.equal(seeds.size, 6, 'a new seed each time');
});

t.test('a seeded page rendered on the pool is kept by the page cache and answered again', async (t) => {
  const url = '/api/v1/products?seed=27&limit=150&format=csv';
  const first = await pooled.inject(url);
  t.ok(first.rawPayload.length <= 64 * 1024, `small enough to keep (${first.rawPayload.length} bytes)`);
  const before = batches.count;
  const again = await pooled.inject(url);
  t.equal(batches.count, before, 'answered from the cache, not rendered again');
  t.ok(again.rawPayload.equals(first.rawPayload), 'same bytes');
});

t.test('render threads that fail give a 503 in the error shape, nothing of the page', async (t) => {
  const app = await testApp(t, { renderThreads: 1 });
  await (app.renderPool as RenderPool).close();
  const res = await app.inject('/api/v1/orders?seed=28&format=csv');
  t.equal(res.statusCode, 503);
  t.equal(res.headers['content-disposition'], undefined, 'not an attachment');
  const body = res.json() as { code: string; message: string };
  t.equal(body.code, 'RENDER_FAILED');
  // Small pages do not need the threads.
  t.equal((await app.inject(`/api/v1/orders?seed=28&limit=${POOL_PAGE}`)).statusCode, 200, 'a small page is still served');
});
