import http from 'node:http';
import type { AddressInfo } from 'node:net';
import t from 'tap';
import { FeedMerge, FeedWorld, feedSteps, prepareFeed } from '../../src/events/feed.js';
import { World } from '../../src/generators/world.js';
import { worldSpecFrom } from '../../src/routes/world-query.js';
import { testApp } from '../support/app.js';

// One fast downloader must not starve everyone: while four clients download large CSV streams
// as fast as they can read, /health requests sent one after another must all be answered
// before any download ends. Without the streaming path yielding to the event loop between
// chunks, a client that reads as fast as the server writes keeps its stream refilling itself
// and /health waits for whole downloads. Order and completion are asserted, never timing.
const DOWNLOADS = [
  '/api/v1/users?seed=11&users=200000&limit=150000&format=csv',
  '/api/v1/users?seed=12&users=200000&limit=150000&format=csv',
  '/api/v1/clickstream?seed=13&limit=100000&format=csv',
  '/api/v1/clickstream?seed=14&limit=100000&format=csv',
];
const HEALTH_REQUESTS = 20;

interface Download {
  path: string;
  status: number;
  headers: http.IncomingHttpHeaders;
  bytes: number;
  newlines: number;
  started: Promise<void>;
  finished: Promise<void>;
  done: boolean;
  request: http.ClientRequest;
}

function download(port: number, path: string): Download {
  let onStart!: () => void;
  let onFinish!: () => void;
  let onError!: (err: Error) => void;
  const started = new Promise<void>((resolve) => (onStart = resolve));
  const finished = new Promise<void>((resolve, reject) => {
    onFinish = resolve;
    onError = reject;
  });
  const d: Download = { path, status: 0, headers: {}, bytes: 0, newlines: 0, started, finished, done: false, request: undefined as unknown as http.ClientRequest };
  d.request = http.get({ host: '127.0.0.1', port, path, agent: false }, (res) => {
    d.status = res.statusCode ?? 0;
    d.headers = res.headers;
    res.on('data', (chunk: Buffer) => {
      if (d.bytes === 0) onStart();
      d.bytes += chunk.length;
      for (let k = chunk.indexOf(10); k !== -1; k = chunk.indexOf(10, k + 1)) d.newlines++;
    });
    res.on('end', () => {
      d.done = true;
      onFinish();
    });
    res.on('error', onError);
  });
  d.request.on('error', onError);
  return d;
}

function health(port: number): Promise<{ status: number; body: { status?: string } }> {
  return new Promise((resolve, reject) => {
    http
      .get({ host: '127.0.0.1', port, path: '/health', agent: false }, (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (s: string) => (text += s));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(text) as { status?: string } }));
        res.on('error', reject);
      })
      .on('error', reject);
  });
}

t.test('/health answers while four clients download at full speed', async (t) => {
  const app = await testApp(t);
  await app.listen({ host: '127.0.0.1', port: 0 });
  const { port } = app.server.address() as AddressInfo;

  const downloads = DOWNLOADS.map((path) => download(port, path));
  t.teardown(() => {
    for (const d of downloads) d.request.destroy();
  });
  await Promise.all(downloads.map((d) => d.started));

  const answered: number[] = [];
  for (let k = 0; k < HEALTH_REQUESTS; k++) {
    const { status, body } = await health(port);
    t.equal(status, 200, `health ${k + 1}: 200`);
    t.equal(body.status, 'ok', `health ${k + 1}: ok`);
    answered.push(downloads.filter((d) => d.done).length);
  }
  t.same(answered, new Array<number>(HEALTH_REQUESTS).fill(0), `all ${HEALTH_REQUESTS} health checks answered before any download ended`);

  await Promise.all(downloads.map((d) => d.finished));
  for (const d of downloads) {
    t.equal(d.status, 200, `${d.path}: 200`);
    const rows = Number(new URL(d.path, 'http://x').searchParams.get('limit'));
    t.equal(d.newlines, rows + 1, `${d.path}: header and ${rows} rows, complete`);
  }
});

t.test('/health answers while the change feed downloads as NDJSON, and while a long defects list streams', async (t) => {
  // Both bodies came from Readable.from, which refills itself from process.nextTick while the
  // client keeps up: /health waited for the whole download (1.8 s for such a feed, served to
  // another process). With the client in this process the writes complete less often at once:
  // before, 23 answers while the feed streamed and 3 while the list did; now 757 and 17.
  const app = await testApp(t);
  await app.listen({ host: '127.0.0.1', port: 0 });
  const { port } = app.server.address() as AddressInfo;
  const feed = '/api/v1/events?seed=21&scale=1&format=ndjson&limit=10000000';
  const defects = '/api/v1/events/defects?seed=22&scale=1&late_ratio=0.3&duplicate_ratio=0.1&bad_ratio=0.05';
  const during = async (d: Download): Promise<number> => {
    await d.started;
    let answered = 0;
    while (!d.done) {
      t.equal((await health(port)).status, 200);
      if (!d.done) answered++;
    }
    await d.finished;
    return answered;
  };
  const events = download(port, feed);
  t.teardown(() => events.request.destroy());
  const whileFeed = await during(events);
  t.ok(whileFeed >= 100, `${whileFeed} /health answers while the feed streamed`);
  // The feed's length counted by walking its merge (no event built: ~0.5 s of CPU), as the
  // route walks it; rendering the whole feed again as CSV to count its lines cost ~5 s.
  const world = World.of(worldSpecFrom({ seed: 21, scale: 1 }));
  await prepareFeed(world);
  let total = 0;
  for (const step of feedSteps(new FeedMerge(FeedWorld.of(world)), {})) if (step !== undefined) total++;
  t.ok(total > 200_000, `${total} events in the feed`);
  t.equal(events.newlines, total, 'every event of the feed, one line each');

  const list = download(port, defects);
  t.teardown(() => list.request.destroy());
  const whileList = await during(list);
  t.ok(whileList >= 8, `${whileList} /health answers while the defects list streamed`);
  // The count the server sent with the list itself (building the list again for it: ~2.5 s of CPU).
  const counted = Number(list.headers['x-total-count']);
  t.ok(counted > 50_000, `${counted} defects`);
  t.ok(list.bytes > counted * 100, `the whole list streamed (${list.bytes} bytes)`);
});
