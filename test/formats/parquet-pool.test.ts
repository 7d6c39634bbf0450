/**
 * Parquet downloads encoded on a render worker (src/render/parquet.ts): the bytes of the
 * in-thread stream (src/formats/parquet.ts), an event loop that keeps answering while a large
 * file is encoded, no worker state left after a client hangs up, and a killed worker fails the
 * response instead of leaving it hanging. Counts and bytes are asserted, never timings.
 */
import { createHash } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import t from 'tap';
import { parquetPoolStream } from '../../src/render/parquet.js';
import { RenderError, type RenderPool } from '../../src/render/pool.js';
import { worldSpecFrom } from '../../src/routes/world-query.js';
import { testApp } from '../support/app.js';
import { downloadKillingWorkers } from '../support/render.js';
import { healthStatus } from '../support/health.js';

const sha = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');

const single = await testApp(t, { renderThreads: 0 });
const pooled = await testApp(t, { renderThreads: 2 });
const pool = pooled.renderPool as RenderPool;
const opened = () => Reflect.get(pool, 'nextChannel') as number;

t.test('the worker writes the bytes of the in-thread stream', async (t) => {
  const cases = [
    // Exactly two full row groups (50,000 each): the footer comes alone after the last.
    '/api/v1/users?seed=3&users=100000&limit=1000000&format=parquet',
    '/api/v1/orders?seed=4&scale=2&limit=1000000&format=parquet',
    '/api/v1/orders?seed=4&scale=2&limit=1000000&format=parquet&fields=total,order_id,status,items',
    '/api/v1/users?seed=5&scale=60&offset=7000&limit=8000&format=parquet',
    // Served in time order (children numbered by their parents): the route's order, not the index order.
    '/api/v1/shipping?seed=6&scale=2&limit=1000000&format=parquet',
    '/api/v1/order-items?seed=7&scale=2&offset=100&limit=20000&partition=1&partitions=2&format=parquet',
  ];
  for (const url of cases) {
    const before = opened();
    const [a, b] = [await single.inject(url), await pooled.inject(url)];
    t.equal(b.statusCode, 200, `${url}: status`);
    t.equal(b.headers['content-type'], 'application/vnd.apache.parquet', `${url}: type`);
    t.equal(b.headers['content-disposition'], a.headers['content-disposition'], `${url}: file name`);
    t.equal(opened(), before + 1, `${url}: encoded on a worker (one channel)`);
    t.ok(a.rawPayload.length > 10_000, `${url}: ${a.rawPayload.length} bytes`);
    t.equal(a.rawPayload.subarray(0, 4).toString(), 'PAR1', `${url}: a Parquet file`);
    t.equal(b.rawPayload.length, a.rawPayload.length, `${url}: length`);
    t.equal(sha(b.rawPayload), sha(a.rawPayload), `${url}: identical bytes`);
  }
  const before = opened();
  const small = await pooled.inject('/api/v1/users?seed=3&limit=1000&format=parquet');
  t.equal(small.statusCode, 200);
  t.equal(opened(), before, 'a small file is still written on the main thread');
  t.equal(pool.openChannels, 0, 'no channel left open');
  t.same((await pool.workerChannelCounts()).reduce((s, n) => s + n, 0), 0, 'no file left in the workers');
});


/** Downloads `path` while asking /health one request after another: the answers received before it ended, and its bytes. */
async function healthWhileDownloading(port: number, path: string): Promise<{ answered: number; bytes: Buffer; status: number }> {
  let done = false;
  const body = new Promise<{ bytes: Buffer; status: number }>((resolve, reject) => {
    http
      .get({ host: '127.0.0.1', port, path, agent: false }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => {
          done = true;
          resolve({ bytes: Buffer.concat(chunks), status: res.statusCode ?? 0 });
        });
        res.on('error', reject);
      })
      .on('error', reject);
  });
  let answered = 0;
  while (!done) {
    const status = await healthStatus(port);
    if (status !== 200) throw new Error(`/health answered ${status}`);
    if (!done) answered++;
  }
  return { answered, ...(await body) };
}

t.test('/health answers while a large Parquet file is encoded', async (t) => {
  // 60,000 orders: two row groups, each encoded in one synchronous call (~1.5 s at 30 µs a row).
  // On the main thread /health was answered only while records were gathered, never during an
  // encode: 40 answers for this download (renderThreads 0, the client in this process); encoded
  // on a worker, 5,106 and 8,960 in two runs.
  const url = '/api/v1/orders?seed=8&scale=12&limit=1000000&format=parquet';
  await pooled.listen({ host: '127.0.0.1', port: 0 });
  const { port } = pooled.server.address() as AddressInfo;
  const before = opened();
  const { answered, bytes, status } = await healthWhileDownloading(port, url);
  t.equal(status, 200);
  t.equal(opened(), before + 1, 'encoded on a worker');
  t.ok(answered >= 400, `${answered} /health answers while the file was encoded and streamed`);
  const expected = (await single.inject(url)).rawPayload;
  t.equal(sha(bytes), sha(expected), `the whole file (${bytes.length} bytes), as the main thread writes it`);
});

t.test('a client that hangs up mid-download leaves no worker state behind', async (t) => {
  const address = `http://127.0.0.1:${(pooled.server.address() as AddressInfo).port}`;
  await new Promise<void>((resolve, reject) => {
    const req = http.get(`${address}/api/v1/users?seed=9&scale=200&limit=1000000&format=parquet`, (res) => {
      t.equal(res.statusCode, 200);
      res.once('data', () => {
        t.equal(pool.openChannels, 1, 'the response holds a channel');
        req.destroy();
        resolve();
      });
    });
    req.on('error', (err) => (err.message.includes('socket hang up') ? undefined : reject(err)));
  });
  for (let k = 0; k < 300 && pool.openChannels > 0; k++) await new Promise((resolve) => setTimeout(resolve, 10));
  t.equal(pool.openChannels, 0, 'the channel is closed');
  t.same((await pool.workerChannelCounts()).reduce((s, n) => s + n, 0), 0, 'the worker dropped its file');
});

t.test('a killed worker cuts the response (no whole-looking file), and the next one is served in full', async (t) => {
  const address = `http://127.0.0.1:${(pooled.server.address() as AddressInfo).port}`;
  const outcome = await downloadKillingWorkers(`${address}/api/v1/users?seed=10&scale=200&limit=1000000&format=parquet`, pool);
  t.equal(outcome, 'cut', 'the response whose worker died ends early');
  t.equal(pool.openChannels, 0, 'its channel is gone');
  for (let k = 0; k < 100 && (Reflect.get(pool, 'all') as unknown[]).length > 0; k++) await new Promise((resolve) => setTimeout(resolve, 10));
  const url = '/api/v1/users?seed=10&scale=6&limit=1000000&format=parquet';
  const [a, b] = [await single.inject(url), await pooled.inject(url)];
  t.equal(b.statusCode, 200);
  t.equal(sha(b.rawPayload), sha(a.rawPayload), 'the next file is whole');
});

t.test('a worker failing before the first row group fails the stream with RENDER_FAILED, not a hang', async (t) => {
  // A column the entity does not have: the worker's encoder throws when the file is opened.
  const stream = parquetPoolStream(pool, worldSpecFrom({ seed: 11 }), 'users', 0, 10_000, ['no_such_column'], true);
  t.ok(stream, 'a channel was opened');
  const failure = await (async () => {
    try {
      for await (const chunk of stream as AsyncIterable<Buffer>) void chunk;
    } catch (err) {
      return err;
    }
    return undefined;
  })();
  t.ok(failure instanceof RenderError, 'a RenderError (answered 503 by the error handler)');
  t.match(String((failure as RenderError).cause), /no column no_such_column/, 'the worker\'s error as its cause');
  t.equal(pool.openChannels, 0, 'the channel is closed');
  t.same((await pool.workerChannelCounts()).reduce((s, n) => s + n, 0), 0, 'no file left in the workers');
});
