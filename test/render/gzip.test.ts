import { spawnSync } from 'node:child_process';
import { get } from 'node:http';
import { Readable } from 'node:stream';
import { buffer } from 'node:stream/consumers';
import zlib from 'node:zlib';
import t from 'tap';
import { crc32Combine, gzipJoined, gzipPart } from '../../src/render/gzip.js';
import type { RenderPool } from '../../src/render/pool.js';
import { testApp } from '../support/app.js';

/** Bytes that are not all alike: a counter's digits. */
function sample(n: number, salt: number): Buffer {
  const out = Buffer.alloc(n);
  for (let i = 0; i < n; i++) out[i] = (((i * 2654435761) >>> 0) % 251) ^ salt;
  return out;
}

t.test('crc32Combine gives the CRC-32 of the concatenation', async (t) => {
  for (const [a, b] of [
    [0, 0],
    [0, 5],
    [7, 0],
    [1, 1],
    [1000, 3],
    [65_536, 100_000],
    [3, 1_234_567],
  ] as const) {
    const [x, y] = [sample(a, 1), sample(b, 2)];
    t.equal(crc32Combine(zlib.crc32(x), zlib.crc32(y), y.length), zlib.crc32(Buffer.concat([x, y])), `${a} + ${b} bytes`);
  }
});

t.test('parts deflated apart and joined under one header are one gzip member', async (t) => {
  const parts = [sample(70_000, 3), Buffer.alloc(0), sample(5, 4), Buffer.from('héllo, wörld\r\n'.repeat(1000))];
  const framed = parts.map((p) => Buffer.from(gzipPart(p)));
  const expected = Buffer.concat([Buffer.from('HEAD\n'), ...parts, Buffer.from('TAIL')]);
  // Whole frames, and the same bytes cut at every 7th byte (frames split across chunks).
  const whole = await buffer(gzipJoined(Readable.from(framed), 'HEAD\n', 'TAIL'));
  const joined = Buffer.concat(framed);
  const cut = Array.from({ length: Math.ceil(joined.length / 7) }, (_, k) => joined.subarray(7 * k, 7 * k + 7));
  const split = await buffer(gzipJoined(Readable.from(cut), 'HEAD\n', 'TAIL'));
  t.ok(whole.equals(split), 'the same body however the frames arrive');
  t.ok(zlib.gunzipSync(whole).equals(expected), 'zlib reads it back');
  const cli = spawnSync('gzip', ['-d', '-c'], { input: whole, maxBuffer: 1 << 26 });
  t.equal(cli.status, 0, `gzip -d exits 0 ${cli.stderr.toString()}`);
  t.ok(cli.stdout.equals(expected), 'gzip -d reads it back');
  const empty = await buffer(gzipJoined(Readable.from([]), '', ''));
  t.equal(zlib.gunzipSync(empty).length, 0, 'no parts and no text: an empty body');
  const truncated = gzipJoined(Readable.from([joined.subarray(0, joined.length - 3)]), '', '');
  await t.rejects(buffer(truncated), /ended early/, 'a batch cut short is an error, not a body');
});

// Large responses are deflated a batch at a time, several at once; the body must decompress to the bytes of
// the uncompressed response, and the headers must be those @fastify/compress gives on the main thread.
// One app without render threads and one with two, shared by the two tests that compare them
// (a worker's start, its modules through tsx, costs ~1.5 s of CPU); the test that kills its
// worker keeps its own.
const inline = await testApp(t, { renderThreads: 0 });
const pooled = await testApp(t, { renderThreads: 2 });

t.test('gzip of worker-rendered responses', async (t) => {
  const queries = [
    'users?seed=7&users=8000&limit=6000&offset=1500&format=csv',
    'users?seed=7&users=8000&limit=4200&format=json',
    'users?seed=7&users=8000&limit=4200&format=xml&locale=en_GB',
    'orders?seed=7&orders=5000&limit=4500&format=csv&fields=order_id,total',
    // Three batches, the last of one row.
    'users?seed=7&users=8000&limit=4097&offset=3&format=csv',
  ];
  const headers = (r: { headers: Record<string, unknown> }) =>
    Object.fromEntries(['content-encoding', 'vary', 'etag', 'content-type', 'content-disposition'].map((h) => [h, r.headers[h]]));
  for (const query of queries) {
    const url = `/api/v1/${query}`;
    const plain = await inline.inject(url);
    t.equal(plain.statusCode, 200);
    const [a, b] = [await inline.inject({ url, headers: { 'accept-encoding': 'gzip' } }), await pooled.inject({ url, headers: { 'accept-encoding': 'gzip' } })];
    t.equal(b.headers['content-encoding'], 'gzip', `${url}: gzip`);
    t.same(headers(b), headers(a), `${url}: the headers of the main thread's gzip`);
    t.ok(zlib.gunzipSync(b.rawPayload).equals(plain.rawPayload), `${url}: decompresses to the uncompressed body (${plain.rawPayload.length} bytes)`);
    const cli = spawnSync('gzip', ['-d', '-c'], { input: b.rawPayload, maxBuffer: 1 << 26 });
    t.ok(cli.status === 0 && cli.stdout.equals(plain.rawPayload), `${url}: gzip -d reads it back`);
    const ratio = b.rawPayload.length / a.rawPayload.length;
    t.ok(ratio > 0.97 && ratio < 1.03, `${url}: within 3% of the main thread's size (${b.rawPayload.length} / ${a.rawPayload.length})`);
  }
  // A one-row page is below @fastify/compress's threshold (1 KB): sent as is, in both.
  const one = '/api/v1/users?seed=7&limit=1&format=csv';
  const [a, b] = [await inline.inject({ url: one, headers: { 'accept-encoding': 'gzip' } }), await pooled.inject({ url: one, headers: { 'accept-encoding': 'gzip' } })];
  t.same(headers(b), headers(a), 'one row: the same headers');
  t.equal(b.headers['content-encoding'], undefined, 'one row: not compressed');
  t.ok(b.rawPayload.equals((await inline.inject(one)).rawPayload), 'one row: the same body');
});

t.test('other encodings and opt-outs are negotiated as before', async (t) => {
  const url = '/api/v1/users?seed=9&users=5000&limit=4200&format=csv';
  const plain = (await inline.inject(url)).rawPayload;
  const decode: Record<string, (b: Buffer) => Buffer> = {
    gzip: zlib.gunzipSync,
    br: zlib.brotliDecompressSync,
    deflate: zlib.inflateSync,
    none: (b) => b,
  };
  const cases: [Record<string, string>, string][] = [
    [{ 'accept-encoding': 'br' }, 'br'],
    [{ 'accept-encoding': 'gzip;q=0.5, br' }, 'br'],
    [{ 'accept-encoding': 'deflate' }, 'deflate'],
    [{ 'accept-encoding': 'br, gzip' }, 'gzip'],
    [{ 'accept-encoding': '*' }, 'gzip'],
    [{ 'accept-encoding': 'x-gzip' }, 'gzip'],
    [{ 'accept-encoding': 'GZIP' }, 'gzip'],
    [{ 'accept-encoding': 'identity' }, 'none'],
    [{ 'accept-encoding': 'gzip;q=0' }, 'none'],
    [{ 'accept-encoding': 'gzip', 'x-no-compression': '1' }, 'none'],
  ];
  for (const [headers, expected] of cases) {
    const [a, b] = [await inline.inject({ url, headers }), await pooled.inject({ url, headers })];
    const label = JSON.stringify(headers);
    t.equal(b.headers['content-encoding'], a.headers['content-encoding'], `${label}: the same coding as the main thread`);
    t.equal(b.headers['content-encoding'] ?? 'none', expected, `${label}: ${expected}`);
    t.equal(b.headers.vary, a.headers.vary, `${label}: the same Vary`);
    t.ok(decode[expected]?.(b.rawPayload).equals(plain), `${label}: the same body`);
  }
  // HEAD: no body, so @fastify/compress names no coding; nor does the pooled path.
  const [headA, headB] = [await inline.inject({ method: 'HEAD', url, headers: { 'accept-encoding': 'gzip' } }), await pooled.inject({ method: 'HEAD', url, headers: { 'accept-encoding': 'gzip' } })];
  t.equal(headB.statusCode, 200);
  t.same([headB.headers['content-encoding'], headB.headers.vary], [headA.headers['content-encoding'], headA.headers.vary], 'HEAD: the same Content-Encoding and Vary as the main thread');
  // NDJSON is compressed too (@fastify/compress's default list misses application/x-ndjson; the app adds it), on both paths.
  const ndjsonUrl = url.replace('csv', 'ndjson');
  const [ndA, ndB] = [await inline.inject({ url: ndjsonUrl, headers: { 'accept-encoding': 'gzip' } }), await pooled.inject({ url: ndjsonUrl, headers: { 'accept-encoding': 'gzip' } })];
  const ndPlain = (await inline.inject(ndjsonUrl)).rawPayload;
  t.same([ndA.headers['content-encoding'], ndB.headers['content-encoding']], ['gzip', 'gzip'], 'NDJSON gzipped on both paths');
  t.equal(ndB.headers.vary, ndA.headers.vary, 'NDJSON: the same Vary');
  t.ok(zlib.gunzipSync(ndA.rawPayload).equals(ndPlain) && zlib.gunzipSync(ndB.rawPayload).equals(ndPlain), 'NDJSON: the same body once decompressed');
});

t.test('a gzip download cut short (client gone, worker dead) leaves the pool serving', async (t) => {
  const app = await testApp(t, { renderThreads: 1 });
  const address = await app.listen({ port: 0, host: '127.0.0.1' });
  const url = `${address}/api/v1/users?seed=1&users=1000000&limit=1000000&format=csv`;
  // The client hangs up after the first bytes.
  await new Promise<void>((resolve, reject) => {
    const req = get(url, { headers: { 'accept-encoding': 'gzip' } }, (res) => {
      res.once('data', () => {
        req.destroy();
        resolve();
      });
    });
    req.on('error', (err) => (req.destroyed ? resolve() : reject(err)));
  });
  // The worker dies mid-stream: the response ends early instead of hanging or passing as whole.
  const pool = app.renderPool as RenderPool;
  const outcome = await new Promise<string>((resolve, reject) => {
    const req = get(url, { headers: { 'accept-encoding': 'gzip' } }, (res) => {
      let killed = false;
      res.on('data', () => {
        if (killed) return;
        killed = true;
        for (const worker of Reflect.get(pool, 'all') as { terminate(): Promise<number> }[]) void worker.terminate();
      });
      res.on('end', () => resolve(res.complete ? 'complete' : 'cut'));
      res.on('aborted', () => resolve('cut'));
      res.on('error', () => resolve('cut'));
    });
    req.on('error', (err) => reject(err));
  });
  t.equal(outcome, 'cut', 'the response whose worker died ends early');
  const after = await app.inject({ url: '/api/v1/users?seed=1&users=10000&limit=6000&format=csv', headers: { 'accept-encoding': 'gzip' } });
  t.equal(after.headers['content-encoding'], 'gzip');
  t.equal(zlib.gunzipSync(after.rawPayload).toString().split('\r\n').filter(Boolean).length, 6001, 'the next gzip download is whole: header and 6,000 rows');
});
