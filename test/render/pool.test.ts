import { get } from 'node:http';
import t from 'tap';
import { FORMAT_NAMES } from '../../src/formats/index.js';
import { precomputed } from '../../src/generators/child-index.js';
import { World } from '../../src/generators/world.js';
import { worldSpecFrom } from '../../src/routes/world-query.js';
import { defaultRenderThreads, MAX_DEFAULT_RENDER_THREADS, RenderPool } from '../../src/render/pool.js';
import { testApp } from '../support/app.js';
import { downloadKillingWorkers } from '../support/render.js';

// One app without render threads and one with two, shared by the tests that need no pool of
// their own: a worker's start (its modules, through tsx) cost ~1.5 s of CPU, and three tests
// each started two. The tests that count a pool's workers or kill them keep their own app.
const inline = await testApp(t, { renderThreads: 0 });
const pooled = await testApp(t, { renderThreads: 2 });
let listening: Promise<string> | undefined;
/** The shared pooled app's address, listening from the first test that asks. */
const pooledAddress = () => (listening ??= pooled.listen({ port: 0, host: '127.0.0.1' }));

// Large responses are rendered on worker threads; the bytes must equal the main-thread path.
t.test('worker-thread rendering gives the same bytes as the main thread', async (t) => {
  const cases = [
    'users?seed=11&users=12000&limit=9000&offset=1500',
    'orders?seed=11&orders=6000&limit=6000&locale=en_GB',
    'order-items?seed=11&orders=4000&limit=8000&offset=5&fields=order_id,total,line_number',
    'returns?seed=11&orders=90000&limit=5000',
  ];
  for (const query of cases) {
    for (const format of FORMAT_NAMES) {
      const url = `/api/v1/${query}&format=${format}`;
      const [a, b] = [await inline.inject(url), await pooled.inject(url)];
      t.equal(b.statusCode, 200, `${url}: status`);
      t.ok(a.body.length > 100_000 || query.startsWith('returns'), `${url}: a large body`);
      t.ok(a.body === b.body, `${url}: identical bytes (${a.body.length})`);
    }
  }
});

// A world large enough that its order-items child index is built on the precompute thread: the
// server installs it in shared memory and each worker is handed it with its first batch of the
// world, once, instead of building its own (src/render/pool.ts).
t.test('workers are handed the precomputed arrays of a world once, and render the same bytes', async (t) => {
  const pooled = await testApp(t, { renderThreads: 1 });
  const query = 'order-items?seed=12&orders=20000&limit=6000&offset=30000&format=csv';
  const a = await inline.inject(`/api/v1/${query}`);
  const b = await pooled.inject(`/api/v1/${query}`);
  t.equal(b.statusCode, 200);
  t.equal(b.body.split('\n').length, 6002, 'header and 6,000 rows');
  t.ok(a.body === b.body, 'identical bytes');
  const world = World.of({ ...worldSpecFrom({ seed: 12, orders: 20000 }), locale: 'en_US', params: {} });
  const prefix = precomputed(world).get('child:order-items');
  t.ok(prefix?.buffer instanceof SharedArrayBuffer, 'the child index came from the precompute thread, in shared memory');
  const sent = Reflect.get(pooled.renderPool as RenderPool, 'sent') as Map<unknown, WeakMap<World, Set<string>>>;
  t.equal(sent.size, 1, 'one worker');
  const [keys] = [...sent.values()].map((byWorld) => byWorld.get(world));
  t.ok(keys?.has('child:order-items'), 'the worker was sent the child index');
  const again = await pooled.inject(`/api/v1/${query.replace('offset=30000', 'offset=0')}`);
  t.equal(again.statusCode, 200);
  t.ok(again.body === (await inline.inject(`/api/v1/${query.replace('offset=30000', 'offset=0')}`)).body, 'identical bytes on the next request of the world');
});

t.test('a client that disconnects mid-stream does not break the pool', async (t) => {
  const app = pooled;
  const address = await pooledAddress();
  // Read the first bytes of a million-row stream, then hang up.
  await new Promise<void>((resolve, reject) => {
    const req = get(`${address}/api/v1/users?seed=1&users=1000000&limit=1000000&format=csv`, (res) => {
      res.once('data', () => {
        req.destroy();
        resolve();
      });
    });
    req.on('error', (err) => (req.destroyed ? resolve() : reject(err)));
  });
  const after = await app.inject('/api/v1/users?seed=1&users=10000&limit=5000&format=ndjson');
  t.equal(after.statusCode, 200);
  t.equal(after.body.split('\n').filter(Boolean).length, 5000, 'the next large request is served in full');
});

t.test('render threads are on by default: one per processor, capped', async (t) => {
  t.ok(defaultRenderThreads() >= 1, 'this machine reports at least one processor, so the server starts the pool');
  t.equal(defaultRenderThreads(1), 1);
  t.equal(defaultRenderThreads(2), 2);
  t.equal(defaultRenderThreads(64), MAX_DEFAULT_RENDER_THREADS);
  t.equal(defaultRenderThreads(0), 0);
});

t.test('a worker that dies fails its response, and the pool serves the next one', async (t) => {
  const app = await testApp(t, { renderThreads: 1 });
  const address = await app.listen({ port: 0, host: '127.0.0.1' });
  const pool = app.renderPool as RenderPool;
  // Kill the worker once the stream has started: the response is cut short, not left hanging.
  const outcome = await downloadKillingWorkers(`${address}/api/v1/users?seed=1&users=1000000&limit=1000000&format=csv`, pool);
  t.equal(outcome, 'cut', 'the response whose worker died ends early');
  const after = await app.inject('/api/v1/users?seed=1&users=10000&limit=6000&format=ndjson');
  t.equal(after.statusCode, 200);
  t.equal(after.body.split('\n').filter(Boolean).length, 6000, 'a new worker serves the next large request in full');
});

t.test('/health answers while two clients download through the pool at full speed', async (t) => {
  const address = await pooledAddress();
  // Two 120,000-row downloads, read as fast as they come; /health asked one after another once
  // both have started must be answered before either ends (order asserted, never timing).
  let ended = 0;
  const downloads = [1, 2].map((seed) => {
    let started!: () => void;
    const first = new Promise<void>((resolve) => (started = resolve));
    const lines = new Promise<number>((resolve, reject) => {
      let count = 0;
      const req = get(`${address}/api/v1/users?seed=${seed}&users=120000&limit=120000&format=csv`, (res) => {
        res.on('data', (chunk: Buffer) => {
          started();
          for (let k = chunk.indexOf(10); k !== -1; k = chunk.indexOf(10, k + 1)) count++;
        });
        res.on('end', () => {
          ended++;
          resolve(count);
        });
        res.on('error', reject);
      });
      req.on('error', reject);
      t.teardown(() => req.destroy());
    });
    return { first, lines };
  });
  await Promise.all(downloads.map((d) => d.first));
  let answered = 0;
  for (let k = 0; k < 10; k++) {
    const status = await new Promise<number>((resolve, reject) => {
      get(`${address}/health`, (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      }).on('error', reject);
    });
    if (status === 200 && ended === 0) answered++;
  }
  t.equal(answered, 10, 'every /health answer came before either download ended');
  t.same(await Promise.all(downloads.map((d) => d.lines)), [120_001, 120_001], 'both downloads complete: header and 120,000 rows');
});

t.test('render threads that fail before the first byte give a 503 in the error shape, not a 200 cut after its header', async (t) => {
  const app = await testApp(t, { renderThreads: 1 });
  // A closed pool refuses every batch, as workers that cannot start fail theirs.
  await (app.renderPool as RenderPool).close();
  for (const coding of ['gzip', 'identity']) {
    const res = await app.inject({ url: '/api/v1/users?seed=1&users=10000&limit=10000&format=csv', headers: { 'accept-encoding': coding } });
    t.equal(res.statusCode, 503, `${coding}: status`);
    t.equal(res.headers['content-encoding'], undefined, `${coding}: the error body is not encoded`);
    t.equal(res.headers['content-disposition'], undefined, `${coding}: nor an attachment`);
    t.match(res.headers['content-type'], /^application\/json/);
    const body = res.json() as { statusCode: number; code: string; message: string; request_id: string };
    t.equal(body.statusCode, 503);
    t.equal(body.code, 'RENDER_FAILED');
    t.match(body.message, body.request_id, 'names the request it was logged under');
  }
});
