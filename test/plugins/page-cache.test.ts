/** The cache of small seeded responses: a kept answer is the route's answer, byte for byte and header for header. */
import { Agent, request as httpRequest } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gunzipSync } from 'node:zlib';
import t, { type Test } from 'tap';
import { buildApp } from '../../src/app.js';
import { PAGE_AHEAD } from '../../src/plugins/page-cache.js';
import { testApp } from '../support/app.js';
import { logCapture } from '../support/log.js';

type Injected = { statusCode: number; headers: Record<string, unknown>; rawPayload: Buffer };

/**
 * GET over a real socket: status, the raw header lines in order, the body bytes. Keep-alive off,
 * or on through `agent` (one kept-alive connection: the front writes its heads as text there,
 * src/plugins/raw-head.ts).
 */
function wireGet(port: number, path: string, headers: Record<string, string> = {}, agent?: Agent): Promise<{ status: number; rawHeaders: string[]; body: Buffer }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: '127.0.0.1', port, path, agent, headers: agent ? headers : { connection: 'close', ...headers } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, rawHeaders: res.rawHeaders, body: Buffer.concat(chunks) }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

/** Header lines as `name: value`, Date left out (X-Request-Id is given by each request). */
const lines = (rawHeaders: string[]) => rawHeaders.flatMap((value, k) => (k % 2 === 1 && rawHeaders[k - 1]?.toLowerCase() !== 'date' ? [`${rawHeaders[k - 1]}: ${value}`] : []));

/** Status, headers in the order sent (Date and the per-request id left out) and body. */
function answer(res: Injected): unknown {
  const headers = Object.entries(res.headers).filter(([name]) => name !== 'date' && name !== 'x-request-id');
  return { status: res.statusCode, headers, body: res.rawPayload.toString('base64') };
}

const REQUESTS: { url: string; headers?: Record<string, string> }[] = [
  { url: '/api/v1/users?seed=42&limit=10' },
  { url: '/api/v1/users?seed=42&limit=10&offset=20' },
  { url: '/api/v1/users?seed=42&limit=10&page=3&format=csv' },
  { url: '/api/v1/users?seed=42&limit=10', headers: { accept: 'application/xml' } },
  { url: '/api/v1/users?seed=42&limit=10', headers: { accept: 'image/png' } },
  { url: '/api/v1/users?seed=42&limit=10', headers: { 'accept-encoding': 'gzip' } },
  { url: '/api/v1/users?seed=42&limit=10', headers: { 'accept-encoding': 'br' } },
  { url: '/api/v1/users?seed=42&limit=10', headers: { origin: 'https://app.example' } },
  { url: '/api/v1/users?seed=42&limit=10&fields=user_id,email&format=ndjson' },
  { url: '/api/v1/orders?seed=7&limit=5&locale=en_GB&format=csv' },
  { url: '/api/v1/users?seed=42&limit=oops' },
];

t.test('a repeated request gets the same status, headers (in order) and bytes as from the route', async (t) => {
  const cached = await testApp(t);
  const uncached = await testApp(t, { pageCacheBytes: 0 });
  for (const request of REQUESTS) {
    const expected = answer(await uncached.inject(request));
    const first = await cached.inject(request);
    const again = await cached.inject({ ...request, headers: { ...request.headers, 'x-request-id': 'again-1' } });
    t.same(answer(first), expected, `${request.url} ${JSON.stringify(request.headers ?? {})}: first`);
    t.same(answer(again), expected, 'and kept');
    t.equal(again.headers['x-request-id'], 'again-1', 'the request id is the request’s own');
  }
  const gzip = await cached.inject({ url: '/api/v1/users?seed=42&limit=10', headers: { 'accept-encoding': 'gzip' } });
  const plain = await cached.inject('/api/v1/users?seed=42&limit=10');
  t.equal(gzip.headers['content-encoding'], 'gzip');
  t.match(String(gzip.headers.etag), /-gzip"$/, 'the ETag names the coding once');
  t.notMatch(String(gzip.headers.etag), /-gzip-gzip"$/);
  t.same(gunzipSync(gzip.rawPayload), plain.rawPayload, 'the kept gzip body decodes to the plain page');
});

t.test('what is not kept: unseeded pages, relative dates, large pages; If-None-Match still gets 304', async (t) => {
  const app = await testApp(t);
  const a = await app.inject('/api/v1/users?limit=3');
  const b = await app.inject('/api/v1/users?limit=3');
  t.not(a.headers['x-seed'], b.headers['x-seed'], 'a new seed per unseeded request');
  t.not(a.body, b.body);

  t.same(app.pageCacheStats(), { entries: 0, bytes: 0, shapes: 1 }, 'unseeded pages are not kept (their URL’s shape is: only the front, over a socket, answers from it)');

  // A relative date resolves against the clock, so the answer is not a function of the URL.
  const relative = '/api/v1/users?seed=5&limit=3&start_date=2026-01-01&end_date=today';
  t.equal((await app.inject(relative)).statusCode, 200);
  t.equal(app.pageCacheStats().entries, 0, 'relative dates are not kept');

  const big = '/api/v1/users?seed=42&limit=1000&format=csv';
  const first = await app.inject(big);
  t.ok(first.rawPayload.length > 64 * 1024, 'a page over 64 KB');
  t.equal(app.pageCacheStats().entries, 0, 'is not kept');
  t.same(answer(await app.inject(big)), answer(first), 'from the route again, same bytes');

  t.equal((await app.inject('/api/v1/users?seed=42&limit=oops')).statusCode, 400);
  t.equal(app.pageCacheStats().entries, 0, 'errors are not kept');

  const page = '/api/v1/users?seed=42&limit=10';
  const etag = String((await app.inject(page)).headers.etag);
  t.equal(app.pageCacheStats().entries, 1, 'a small seeded page is kept');
  await app.inject(page);
  const revalidated = await app.inject({ url: page, headers: { 'if-none-match': etag } });
  t.equal(revalidated.statusCode, 304, 'a matching If-None-Match is still a 304');
  t.equal(revalidated.body, '');
  const head = await app.inject({ method: 'HEAD', url: page });
  const get = await app.inject(page);
  t.same([head.statusCode, head.body, head.headers['content-length']], [200, '', get.headers['content-length']], 'HEAD answers headers only');
});

t.test('bounded by bytes: a small cache evicts and answers stay the same', async (t) => {
  const app = await testApp(t, { pageCacheBytes: 20 * 1024 });
  const off = await testApp(t, { pageCacheBytes: 0 });
  for (let round = 0; round < 2; round++) {
    for (const offset of [0, 10, 20, 30, 40]) {
      const url = `/api/v1/users?seed=9&limit=10&offset=${offset}`;
      t.same(answer(await app.inject(url)), answer(await off.inject(url)), `round ${round}, offset ${offset}`);
      t.ok(app.pageCacheStats().bytes <= 20 * 1024, 'within its bytes');
    }
  }
  t.ok(app.pageCacheStats().entries >= 1 && app.pageCacheStats().entries < 5, 'the oldest were dropped');
});

t.test('kept answers are counted by /metrics like any other (requests, rows)', async (t) => {
  const app = await testApp(t);
  await app.listen({ port: 0, host: '127.0.0.1' });
  const { port } = app.server.address() as AddressInfo;
  for (let k = 0; k < 3; k++) await (await fetch(`http://127.0.0.1:${port}/api/v1/users?seed=1&limit=7`)).arrayBuffer();
  // No limit in the URL: the rows counted come from the validated query (the default limit).
  for (let k = 0; k < 2; k++) await (await fetch(`http://127.0.0.1:${port}/api/v1/users?seed=1&users=4`)).arrayBuffer();
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  const sample = (name: string) => Number(new RegExp(`^${name.replace(/[{}"]/g, '\\$&')} (\\S+)$`, 'm').exec(text)?.[1]);
  t.equal(sample('http_requests_total{method="GET",route="/api/v1/users",status_code="200"}'), 5);
  t.equal(sample('http_request_duration_seconds_count{method="GET",route="/api/v1/users",status_code="200"}'), 5, 'every answer timed');
  t.ok(sample('http_request_duration_seconds_sum{method="GET",route="/api/v1/users",status_code="200"}') > 0);
  t.equal(sample('ecomgen_rows_served_total{route="/api/v1/users"}'), 3 * 7 + 2 * 4);
});

/** One kept-alive connection per test (closed with it), or none: connection close. */
function connections(t: Test): [string, Agent | undefined][] {
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  t.teardown(() => agent.destroy());
  return [
    ['connection close', undefined],
    ['kept alive', agent],
  ];
}

t.test('over a socket: the kept answer is the route’s, header line for header line (order, case) and byte for byte', async (t) => {
  const cached = await testApp(t);
  const uncached = await testApp(t, { pageCacheBytes: 0 });
  const [hot, cold] = [await listening(cached), await listening(uncached)];
  for (const [connection, agent] of connections(t)) {
    for (const request of REQUESTS.slice(0, 10)) {
      const headers = { ...request.headers, 'x-request-id': 'wire-1' };
      const expected = await wireGet(cold, request.url, headers, agent);
      t.equal(expected.status, request.url.includes('oops') ? 400 : request.headers?.accept === 'image/png' ? 406 : 200);
      if (agent) t.ok(lines(expected.rawHeaders).includes('Keep-Alive: timeout=72'), 'kept alive');
      for (const round of ['first', 'kept']) {
        const got = await wireGet(hot, request.url, headers, agent);
        t.same([got.status, lines(got.rawHeaders), got.body.toString('base64')], [expected.status, lines(expected.rawHeaders), expected.body.toString('base64')], `${connection}: ${request.url} ${JSON.stringify(request.headers ?? {})}: ${round}`);
      }
    }
  }
  t.ok(cached.pageCacheStats().entries >= 8, 'the 200s were kept');
});

t.test('conditional requests after a kept answer: 304 for its ETag (plain and gzip), 200 with the kept bytes for another', async (t) => {
  const app = await testApp(t);
  const page = '/api/v1/users?seed=11&limit=5&format=csv';
  for (const encoding of [undefined, 'gzip']) {
    const headers: Record<string, string> = encoding ? { 'accept-encoding': encoding } : {};
    const first = await app.inject({ url: page, headers });
    const kept = await app.inject({ url: page, headers });
    t.same(kept.rawPayload, first.rawPayload, `${encoding ?? 'identity'}: kept`);
    const etag = String(kept.headers.etag);
    t.match(etag, encoding ? /-gzip"$/ : /[^p]"$/);
    const notModified = await app.inject({ url: page, headers: { ...headers, 'if-none-match': etag } });
    t.equal(notModified.statusCode, 304, 'its own ETag: 304');
    t.equal(notModified.rawPayload.length, 0);
    t.equal(notModified.headers.etag, etag, 'the 304 names the ETag of the representation held');
    const other = await app.inject({ url: page, headers: { ...headers, 'if-none-match': '"something-else"' } });
    t.equal(other.statusCode, 200, 'another ETag: 200');
    t.same(other.rawPayload, first.rawPayload, 'with the same bytes');
    t.equal(other.headers.etag, etag);
  }
});

t.test('kept answers count the bytes they write in /metrics, like the route’s', async (t) => {
  const app = await testApp(t);
  await app.listen({ port: 0, host: '127.0.0.1' });
  const { port } = app.server.address() as AddressInfo;
  const metric = async () => {
    const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    return Number(/^ecomgen_bytes_served_total\{route="\/api\/v1\/users"\} (\S+)$/m.exec(text)?.[1] ?? 0);
  };
  const sizes: number[] = [];
  for (let k = 0; k < 3; k++) {
    const before = await metric();
    const res = await wireGet(port, '/api/v1/users?seed=3&limit=4', { 'x-request-id': 'bytes-1' });
    t.equal(res.status, 200);
    sizes.push((await metric()) - before);
  }
  t.ok(sizes[0]! > 0, 'bytes counted');
  t.same(sizes, [sizes[0], sizes[0], sizes[0]], 'the kept answers (same length) count what the first did');
});

/** Listens on a free loopback port; the port. */
async function listening(app: Awaited<ReturnType<typeof testApp>>): Promise<number> {
  await app.listen({ port: 0, host: '127.0.0.1' });
  return (app.server.address() as AddressInfo).port;
}

t.test('over a socket, a kept answer writes the request log line the first answer wrote', async (t) => {
  const { lines, stream } = logCapture();
  const app = await testApp(t, { logger: { level: 'info', stream } });
  await app.listen({ port: 0, host: '127.0.0.1' });
  const { port } = app.server.address() as AddressInfo;
  const url = '/api/v1/users?seed=8&limit=3&format=csv';
  for (let k = 0; k < 3; k++) t.equal((await wireGet(port, url, { 'x-request-id': 'log-1', host: 'example.test' })).status, 200);
  t.equal(app.pageCacheStats().entries, 1, 'the page was kept');
  const completed = lines.filter((line) => line.msg === 'request completed');
  t.equal(completed.length, 3, 'one line per request');
  // The same line but for what differs per request: time, response time, the client's port.
  const same = completed.map(({ time, responseTime, ...line }) => {
    t.type(time, 'number');
    t.type(responseTime, 'number');
    const req = { ...(line.req as Record<string, unknown>) };
    t.type(req.remotePort, 'number');
    delete req.remotePort;
    return JSON.stringify({ ...line, req });
  });
  t.same(JSON.parse(same[0]!), { level: 30, pid: process.pid, hostname: JSON.parse(same[0]!).hostname, reqId: 'log-1', req: { method: 'GET', url, host: 'example.test', remoteAddress: '127.0.0.1' }, res: { statusCode: 200 }, msg: 'request completed' });
  t.equal(same[1], same[0], 'the kept answer logs the same line (keys in the same order)');
  t.equal(same[2], same[0]);
});

t.test('the host name’s other addresses are bound too (Fastify binds only the first with a server factory), and closed with the app', async (t) => {
  const app = await buildApp({});
  await app.listen({ port: 0, host: '127.0.0.1' });
  const { port } = app.server.address() as AddressInfo;
  // '::1' stands for a name whose other address is the IPv6 loopback (localhost on many hosts).
  await app.listenAlso('::1');
  const url = '/api/v1/users?seed=4&limit=2';
  const first = await wireGet(port, url, { 'x-request-id': 'v6-1' });
  const v6 = await new Promise<{ status: number; body: Buffer }>((resolve, reject) => {
    const req = httpRequest({ host: '::1', port, path: url, headers: { connection: 'close', 'x-request-id': 'v6-1' } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks) }));
    });
    req.on('error', reject);
    req.end();
  });
  t.same([v6.status, v6.body.toString('base64')], [first.status, first.body.toString('base64')], 'the kept page, answered on ::1');
  await app.close();
  const refused = await new Promise<string>((resolve) => {
    const req = httpRequest({ host: '::1', port, path: url }, () => resolve('answered'));
    req.on('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? 'error'));
    req.end();
  });
  t.equal(refused, 'ECONNREFUSED', 'closed with the app');
});

t.test('the shutdown\'s cut ends a download streaming on another address too', async (t) => {
  const app = await buildApp({});
  t.teardown(() => app.close());
  await app.listen({ port: 0, host: '127.0.0.1' });
  const { port } = app.server.address() as AddressInfo;
  await app.listenAlso('::1');
  // A download far longer than the test, on ::1: paused after its first bytes, so it is still streaming.
  const ended = await new Promise<{ bytes: number; complete: boolean }>((resolve, reject) => {
    const req = httpRequest({ host: '::1', port, path: '/api/v1/users?seed=5&scale=1000&limit=1000000&format=csv' }, (res) => {
      let bytes = 0;
      res.once('data', (chunk: Buffer) => {
        bytes += chunk.length;
        res.pause();
        app.cutConnections();
        res.resume();
      });
      res.on('data', (chunk: Buffer) => (bytes += chunk.length));
      // Cut mid-transfer, the response errors ('aborted') before it closes.
      res.on('error', () => undefined);
      res.on('close', () => resolve({ bytes, complete: res.complete }));
    });
    req.on('error', reject);
    req.end();
  });
  t.equal(ended.complete, false, 'the response was cut, not finished');
  t.ok(ended.bytes > 0 && ended.bytes < 50_000_000, `ended after ${ended.bytes} bytes of a ~264 MB download`);
});

/** Header lines (Date left out) with the request id dropped and the seed in the seed's headers masked. */
const unseededLines = (rawHeaders: string[], seed: string) =>
  lines(rawHeaders)
    .filter((line) => !/^x-request-id:/i.test(line))
    .map((line) => (/^(x-seed|link|content-disposition):/i.test(line) ? line.replaceAll(seed, 'SEED') : line));

const UNSEEDED: { url: string; headers?: Record<string, string> }[] = [
  { url: '/api/v1/users?limit=10' },
  { url: '/api/v1/users?limit=5&format=csv' },
  { url: '/api/v1/users?limit=4&format=ndjson&offset=996' },
  { url: '/api/v1/users?limit=3&page=2', headers: { accept: 'application/xml' } },
  { url: '/api/v1/users?limit=3&fields=email,user_id' },
  { url: '/api/v1/users?limit=3', headers: { origin: 'https://app.example' } },
  { url: '/api/v1/orders?limit=3&locale=en_GB&format=csv' },
  { url: '/api/v1/customer-segments?format=xml' },
  // Compressed as the route compresses (gzip); a page below compression's threshold is not.
  { url: '/api/v1/users?limit=10', headers: { 'accept-encoding': 'gzip, deflate' } },
  { url: '/api/v1/users?limit=1&format=csv', headers: { 'accept-encoding': 'gzip' } },
];

t.test('over a socket, an unseeded small page is answered by the front from its URL’s shape: a new seed each time, the route’s header lines and that seed’s page', async (t) => {
  const hot = await testApp(t);
  const plain = await testApp(t, { pageCacheBytes: 0 });
  const [hotPort, plainPort] = [await listening(hot), await listening(plain)];
  for (const [connection, agent] of connections(t)) {
    for (const request of UNSEEDED) {
      const headers = { ...request.headers, 'x-request-id': 'shape-1' };
      // The route's answer (no front): its header lines with the seed masked.
      const routed = await wireGet(plainPort, request.url, headers, agent);
      const routedSeed = routed.rawHeaders[routed.rawHeaders.findIndex((h) => h.toLowerCase() === 'x-seed') + 1]!;
      const seeds = new Set<string>();
      for (let k = 0; k < 4; k++) {
        const got = await wireGet(hotPort, request.url, headers, agent);
        t.equal(got.status, 200);
        const seed = got.rawHeaders[got.rawHeaders.findIndex((h) => h.toLowerCase() === 'x-seed') + 1]!;
        seeds.add(seed);
        const what = `${connection}: ${request.url} ${JSON.stringify(request.headers ?? {})} #${k}`;
        const length = lines(got.rawHeaders).find((line) => /^content-length:/i.test(line));
        t.equal(length, `content-length: ${got.body.length}`, `${what}: Content-Length is the body's`);
        t.same(
          unseededLines(got.rawHeaders, seed).filter((line) => !/^content-length:/i.test(line)),
          unseededLines(routed.rawHeaders, routedSeed).filter((line) => !/^content-length:/i.test(line)),
          `${what}: the route's header lines, in order`,
        );
        t.ok(lines(got.rawHeaders).includes('x-request-id: shape-1'), 'the request id is the request’s own');
        const seeded = await wireGet(plainPort, `${request.url}&seed=${seed}`, request.headers, agent);
        t.equal(got.body.toString('base64'), seeded.body.toString('base64'), `${what}: the page of its X-Seed`);
      }
      t.equal(seeds.size, 4, 'a new seed per request');
    }
  }
  t.equal(hot.pageCacheStats().shapes, UNSEEDED.length, 'every URL answered from its shape after the first');
  t.equal(hot.pageCacheStats().entries, 0, 'nothing kept');

  const zipped = await wireGet(hotPort, '/api/v1/users?limit=10', { 'accept-encoding': 'gzip, deflate' });
  t.ok(lines(zipped.rawHeaders).includes('content-encoding: gzip'), 'gzip from the front');
  t.equal((JSON.parse(gunzipSync(zipped.body).toString('utf8')) as unknown[]).length, 10, 'and it decodes');

  // Relative dates and other codings (brotli) go through the route every time.
  for (const request of [
    { url: '/api/v1/users?limit=3', headers: { 'accept-encoding': 'br' } },
    { url: '/api/v1/users?limit=3&start_date=2026-01-01&end_date=today' },
  ]) {
    for (let k = 0; k < 2; k++) t.equal((await wireGet(hotPort, request.url, request.headers)).status, 200);
  }
  t.equal(hot.pageCacheStats().shapes, UNSEEDED.length, 'not shaped');
});

t.test('unseeded answers from the front are counted by /metrics (requests, rows, bytes) and logged like the route’s', async (t) => {
  const { lines: logged, stream } = logCapture();
  const app = await testApp(t, { logger: { level: 'info', stream } });
  await app.listen({ port: 0, host: '127.0.0.1' });
  const { port } = app.server.address() as AddressInfo;
  const metrics = async () => {
    const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    const sample = (name: string) => Number(new RegExp(`^${name.replace(/[{}"]/g, '\\$&')} (\\S+)$`, 'm').exec(text)?.[1] ?? 0);
    return {
      requests: sample('http_requests_total{method="GET",route="/api/v1/users",status_code="200"}'),
      timed: sample('http_request_duration_seconds_count{method="GET",route="/api/v1/users",status_code="200"}'),
      rows: sample('ecomgen_rows_served_total{route="/api/v1/users"}'),
      bytes: sample('ecomgen_bytes_served_total{route="/api/v1/users"}'),
    };
  };
  const url = '/api/v1/users?limit=7&format=csv';
  const before = await metrics();
  let bytes = 0;
  for (let k = 0; k < 3; k++) {
    const res = await wireGet(port, url, { 'x-request-id': 'log-2', host: 'example.test' });
    t.equal(res.status, 200);
    bytes += res.body.length;
  }
  t.equal(app.pageCacheStats().shapes, 1, 'answered from the shape after the first');
  const after = await metrics();
  t.same({ requests: after.requests - before.requests, timed: after.timed - before.timed, rows: after.rows - before.rows }, { requests: 3, timed: 3, rows: 21 });
  // Bytes as the socket counts them, headers included (~1.4 KB of header lines an answer).
  const counted = after.bytes - before.bytes;
  t.ok(counted > bytes + 3 * 1000 && counted < bytes + 3 * 2000, `bytes counted with their headers (${counted} for ${bytes} of bodies)`);
  const completed = logged.filter((line) => line.msg === 'request completed' && (line.req as { url?: string }).url === url);
  t.equal(completed.length, 3, 'one line per request');
  const same = completed.map(({ time, responseTime, ...line }) => {
    t.type(time, 'number');
    t.type(responseTime, 'number');
    const req = { ...(line.req as Record<string, unknown>) };
    delete req.remotePort;
    return JSON.stringify({ ...line, req });
  });
  t.same(JSON.parse(same[0]!), { level: 30, pid: process.pid, hostname: JSON.parse(same[0]!).hostname, reqId: 'log-2', req: { method: 'GET', url, host: 'example.test', remoteAddress: '127.0.0.1' }, res: { statusCode: 200 }, msg: 'request completed' });
  t.equal(same[1], same[0], 'the front’s answers log the route’s line (keys in the same order)');
  t.equal(same[2], same[0]);
});

/**
 * Waits (bounded, ~5 s) until the batches asked of the page thread have come back, and gives the
 * stats then: the thread runs at a lower priority and may lag on a loaded machine.
 */
async function aheadSettled(app: Awaited<ReturnType<typeof buildApp>>): Promise<ReturnType<Awaited<ReturnType<typeof buildApp>>['pageAheadStats']>> {
  for (let k = 0; k < 500 && app.pageAheadStats().rendering > 0; k++) await new Promise((resolve) => setTimeout(resolve, 10));
  return app.pageAheadStats();
}

t.test('with render threads, unseeded pages are rendered ahead on the page thread: each a new seed, the route’s header lines and that seed’s page; bounded; nothing asked once the URL goes quiet; closed cleanly', async (t) => {
  const hot = await buildApp({ renderThreads: 1, pageAhead: true });
  let closed = false;
  t.teardown(() => (closed ? undefined : hot.close()));
  await hot.ready();
  const plain = await testApp(t, { pageCacheBytes: 0 });
  const [hotPort, plainPort] = [await listening(hot), await listening(plain)];
  const seeds = new Set<string>();
  let answers = 0;
  const settled = () => aheadSettled(hot);
  for (const request of [
    { url: '/api/v1/users?limit=10' },
    { url: '/api/v1/users?limit=6&format=csv&offset=3' },
    { url: '/api/v1/users?limit=10', headers: { 'accept-encoding': 'gzip' } },
  ] as { url: string; headers?: Record<string, string> }[]) {
    const headers = { ...request.headers, 'x-request-id': 'ahead-1' };
    const routed = await wireGet(plainPort, request.url, headers);
    const routedSeed = routed.rawHeaders[routed.rawHeaders.findIndex((h) => h.toLowerCase() === 'x-seed') + 1]!;
    // The answers still ready for the URLs before (quiet now: they stay as they are).
    const { served, ready: before } = await settled();
    // Until a few dozen answers came from the page thread (the first ones are rendered inline
    // while the first batch is on its way: it is waited for once asked); bounded, so a pool that
    // never answers fails, not hangs.
    for (let k = 0; k < 120 && hot.pageAheadStats().served < served + 24; k++) {
      if (k === PAGE_AHEAD.after + 2) await settled();
      const got = await wireGet(hotPort, request.url, headers);
      t.equal(got.status, 200);
      const seed = got.rawHeaders[got.rawHeaders.findIndex((h) => h.toLowerCase() === 'x-seed') + 1]!;
      t.notOk(seeds.has(seed), 'a seed not seen before');
      seeds.add(seed);
      answers++;
      const length = lines(got.rawHeaders).find((line) => /^content-length:/i.test(line));
      t.equal(length, `content-length: ${got.body.length}`, "Content-Length is the body's");
      t.same(
        unseededLines(got.rawHeaders, seed).filter((line) => !/^content-length:/i.test(line)),
        unseededLines(routed.rawHeaders, routedSeed).filter((line) => !/^content-length:/i.test(line)),
        `${request.url} ${JSON.stringify(request.headers ?? {})} #${k}: the route's header lines, in order`,
      );
      t.ok(lines(got.rawHeaders).includes('x-request-id: ahead-1'), 'the request id is the request’s own');
      const seeded = await wireGet(plainPort, `${request.url}&seed=${seed}`, request.headers);
      t.equal(got.body.toString('base64'), seeded.body.toString('base64'), 'the page of its X-Seed');
      t.ok(hot.pageAheadStats().ready - before <= PAGE_AHEAD.depth, `at most ${PAGE_AHEAD.depth} answers held for the URL`);
    }
    t.ok(hot.pageAheadStats().served >= served + 24, `answers rendered ahead were served (${hot.pageAheadStats().served - served})`);
  }
  t.equal(seeds.size, answers, 'a new seed per request');
  t.equal(hot.pageCacheStats().entries, 0, 'nothing kept in the cache of seeded pages');

  // Quiet: once the batches asked have come back, nothing more is asked however long it waits.
  const quiet = await settled();
  t.equal(quiet.rendering, 0, 'the batches asked came back');
  await new Promise((resolve) => setTimeout(resolve, 300));
  t.same(hot.pageAheadStats(), quiet, 'no batch asked while no request comes');
  t.ok(quiet.ready > 0 && quiet.ready <= 3 * PAGE_AHEAD.depth, `ready answers bounded (${quiet.ready} for 3 URLs)`);

  // One more request takes a ready answer (a new seed) and asks for a batch again.
  const again = await wireGet(hotPort, '/api/v1/users?limit=10');
  const seed = again.rawHeaders[again.rawHeaders.findIndex((h) => h.toLowerCase() === 'x-seed') + 1]!;
  t.notOk(seeds.has(seed), 'a new seed');
  t.equal(hot.pageAheadStats().served, quiet.served + 1, 'taken from the ready answers');

  closed = true;
  await hot.close();
  t.same({ ready: hot.pageAheadStats().ready, bytes: hot.pageAheadStats().bytes }, { ready: 0, bytes: 0 }, 'closing drops the ready answers');
  t.equal(hot.renderPool?.openChannels, 0);
  t.same(await hot.renderPool?.workerChannelCounts(), [], 'the workers are stopped');
});

t.test('answers rendered ahead give their slot of shared memory back once sent: the 8 slots are written again and again, no batch transferred, every page served or ready', async (t) => {
  const hot = await buildApp({ renderThreads: 1, pageAhead: true });
  t.teardown(() => hot.close());
  await hot.ready();
  const plain = await testApp(t, { pageCacheBytes: 0 });
  const [hotPort, plainPort] = [await listening(hot), await listening(plain)];
  const agent = new Agent({ keepAlive: true, maxSockets: 4 });
  t.teardown(() => agent.destroy());
  const url = '/api/v1/users?limit=10&format=csv';
  const pool = hot.renderPool;
  const batches = () => pool?.pageBatches ?? { inSlot: 0, transferred: -1 };
  const settled = () => aheadSettled(hot);
  const seeds = new Set<string>();
  const answers: { seed: string; body: Buffer }[] = [];
  function seeded(got: { status: number; rawHeaders: string[]; body: Buffer }) {
    const seed = got.rawHeaders[got.rawHeaders.findIndex((h) => h.toLowerCase() === 'x-seed') + 1]!;
    seeds.add(seed);
    return { seed: got.status === 200 ? seed : `status ${got.status}`, body: got.body };
  }
  // Four at a time on kept-alive connections (the head written as text) until 12 batches came in
  // the 8 slots (bounded: with slots never given back it stops at 8 and transfers the rest).
  for (let k = 0; k < 300 && batches().inSlot < 12; k++) {
    answers.push(...(await Promise.all([0, 1, 2, 3].map(() => wireGet(hotPort, url, {}, agent)))).map(seeded));
    if (k % 4 === 0) await settled();
  }
  // Then one at a time with Connection: close.
  for (let k = 0; k < 40; k++) answers.push(seeded(await wireGet(hotPort, url)));
  await settled();
  t.equal(seeds.size, answers.length, 'a new seed per answer');
  const { inSlot, transferred } = batches();
  const { served, ready } = hot.pageAheadStats();
  t.ok(inSlot >= 12, `${inSlot} batches written in the 8 slots`);
  t.equal(transferred, 0, 'none transferred: a slot was free each time a batch was asked');
  t.equal(served + ready, 32 * inSlot, `every page of those batches served (${served}) or ready (${ready})`);
  // Every 10th answer against the seeded page of its X-Seed (slots written over only once free).
  for (const { seed, body } of answers.filter((_, k) => k % 10 === 9)) {
    const page = await wireGet(plainPort, `${url}&seed=${seed}`);
    t.ok(page.body.equals(body), `the page of seed ${seed}`);
  }
});

t.test('rendering ahead is off unless asked (PAGE_AHEAD): render threads alone render no page ahead', async (t) => {
  const app = await testApp(t, { renderThreads: 1 });
  const port = await listening(app);
  for (let k = 0; k < 10; k++) t.equal((await wireGet(port, '/api/v1/users?limit=3')).status, 200);
  t.equal(app.pageCacheStats().shapes, 1, 'answered from its shape');
  t.same(app.pageAheadStats(), { ready: 0, bytes: 0, rendering: 0, asked: 0, served: 0 }, 'nothing asked of the page thread');
});
