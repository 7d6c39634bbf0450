import negotiate from '@fastify/accept-negotiator';
import { Buffer } from 'node:buffer';
import { Transform, type Readable, type TransformCallback } from 'node:stream';
import zlib from 'node:zlib';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { COMPRESSIBLE_TYPES } from '../formats/index.js';

/**
 * gzip of large downloads rendered on worker threads, compressed in parallel.
 *
 * @fastify/compress pipes a response through one zlib stream: one thread at a time compresses,
 * 16 KB per hop to and from the main thread, and for a large CSV download it was the bottleneck
 * (gzip costs about what generating and writing a row costs). Here each batch is deflated on its
 * own (raw deflate ending on a byte boundary with a sync flush, no final block), up to
 * {@link PARALLEL} batches at once on the libuv threads, while the render workers make the next
 * ones; the worker reports each batch's CRC-32 with its bytes. The main thread writes the gzip
 * header once, the deflated batches in order, an empty final block and the trailer (the CRC-32 of
 * the whole body combined from the batches', and its length). That is one gzip member, as pigz
 * makes, which any gzip reader takes (curl --compressed, browsers, `gzip -d`, zlib).
 */

/** The level of gzip on entity routes (their @fastify/compress options use it too). */
export const ENTITY_GZIP_LEVEL = 1;

/** Bytes before each part: its length and its CRC-32 (uint32 LE each). */
const FRAME = 8;

/** Batches deflated at once (Node's libuv pool has 4 threads unless UV_THREADPOOL_SIZE says otherwise). */
const PARALLEL = 4;

/** Raw deflate of one part: a sync flush leaves it on a byte boundary with no final block, so parts join. */
const PART_OPTIONS = { level: ENTITY_GZIP_LEVEL, finishFlush: zlib.constants.Z_SYNC_FLUSH, chunkSize: 1 << 20 };

/**
 * A batch's bytes as a part of a gzip body (what a render worker hands back when the response is
 * gzipped): the frame (see {@link FRAME}), then the bytes. The CRC-32 is computed where the batch
 * was rendered; the main thread deflates (see {@link gzipJoined}).
 */
export function gzipPart(bytes: Uint8Array): Uint8Array {
  // A buffer of its own, so a worker transfers it instead of copying.
  const out = Buffer.allocUnsafeSlow(FRAME + bytes.length);
  out.writeUInt32LE(bytes.length, 0);
  out.writeUInt32LE(zlib.crc32(bytes), 4);
  out.set(bytes, FRAME);
  return out;
}

/** The CRC-32 polynomial, reflected. */
const POLY = 0xedb88320;

/** a(x) * b(x) modulo the CRC-32 polynomial (reflected bit order). */
function multModP(a: number, b: number): number {
  let m = 0x80000000;
  let p = 0;
  for (;;) {
    if (a & m) {
      p ^= b;
      if ((a & (m - 1)) === 0) break;
    }
    m >>>= 1;
    b = b & 1 ? (b >>> 1) ^ POLY : b >>> 1;
  }
  return p >>> 0;
}

/** x^(2^k) modulo the polynomial, k = 0..31. */
const X2N: number[] = [];
{
  let p = 0x40000000; // x^1
  for (let k = 0; k < 32; k++) {
    X2N.push(p);
    p = multModP(p, p);
  }
}

/**
 * The CRC-32 of A followed by B, from crc32(A), crc32(B) and B's length (zlib's crc32_combine,
 * which Node does not expose; no maintained package offers it). O(log length).
 */
export function crc32Combine(crcA: number, crcB: number, lengthB: number): number {
  // x^(8 * lengthB) mod p: multiply the bits of lengthB's powers of two, starting at 2^3 (bytes to bits).
  let p = 0x80000000; // x^0
  let n = lengthB;
  let k = 3;
  while (n > 0) {
    if (n % 2 === 1) p = multModP(X2N[k & 31] as number, p);
    n = Math.floor(n / 2);
    k++;
  }
  return (multModP(p, crcA) ^ crcB) >>> 0;
}

/** The gzip header of Node's zlib at level 1: no name, no time, XFL 4 (fastest), OS 3 (Unix). */
const GZIP_HEADER = Buffer.from([0x1f, 0x8b, 0x08, 0, 0, 0, 0, 0, 0x04, 0x03]);
/** An empty final block (fixed Huffman, end of block): ends the deflate stream. */
const FINAL_BLOCK = Buffer.from([0x03, 0x00]);

interface Pending {
  deflated?: Buffer;
}

/** Joins parts (frames from {@link gzipPart}) into one gzip body, deflating several at once. */
class GzipJoin extends Transform {
  private crc = 0;
  private length = 0;
  /** The frame of the part being read, and the pieces of its bytes. */
  private readonly frame = Buffer.alloc(FRAME);
  private framed = 0;
  private remaining = 0;
  private pieces: Buffer[] = [];
  /** Parts being deflated, in order; the first is pushed when done. */
  private readonly pending: Pending[] = [];
  /** The callback of a chunk held back while {@link PARALLEL} parts are being deflated. */
  private held: TransformCallback | undefined;
  private flushed: TransformCallback | undefined;
  private started = false;

  constructor(
    private readonly head: string,
    private readonly tail: string,
  ) {
    super();
  }

  /** Text written on this thread (the format's opening and closing), deflated as a part. */
  private text(text: string): void {
    if (text === '') return;
    const bytes = Buffer.from(text, 'utf8');
    this.add(zlib.crc32(bytes), bytes.length);
    this.push(zlib.deflateRawSync(bytes, PART_OPTIONS));
  }

  private add(crc: number, length: number): void {
    this.crc = crc32Combine(this.crc, crc, length);
    this.length = (this.length + length) % 0x100000000;
  }

  private start(): void {
    if (this.started) return;
    this.started = true;
    this.push(GZIP_HEADER);
    this.text(this.head);
  }

  /** Deflates a whole part on a libuv thread; parts are pushed in order as they finish. */
  private deflate(bytes: Buffer): void {
    const entry: Pending = {};
    this.pending.push(entry);
    zlib.deflateRaw(bytes, PART_OPTIONS, (err, deflated) => {
      if (err) return this.destroy(err);
      entry.deflated = deflated;
      this.drain();
    });
  }

  private drain(): void {
    if (this.destroyed) return;
    while (this.pending[0]?.deflated) this.push((this.pending.shift() as Pending).deflated);
    if (this.held && this.pending.length < PARALLEL) {
      const callback = this.held;
      this.held = undefined;
      callback();
    }
    if (this.flushed && this.pending.length === 0) this.finish(this.flushed);
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.start();
    let at = 0;
    while (at < chunk.length) {
      if (this.remaining > 0) {
        const take = Math.min(this.remaining, chunk.length - at);
        this.pieces.push(chunk.subarray(at, at + take));
        this.remaining -= take;
        at += take;
      } else {
        // A frame may arrive split across chunks (never from the pool, but a byte stream may be).
        const take = Math.min(FRAME - this.framed, chunk.length - at);
        chunk.copy(this.frame, this.framed, at, at + take);
        this.framed += take;
        at += take;
        if (this.framed < FRAME) continue;
        this.framed = 0;
        this.add(this.frame.readUInt32LE(4), this.frame.readUInt32LE(0));
        this.remaining = this.frame.readUInt32LE(0);
      }
      if (this.remaining === 0 && this.framed === 0) {
        const pieces = this.pieces;
        this.pieces = [];
        if (pieces.length > 0) this.deflate(pieces.length === 1 ? (pieces[0] as Buffer) : Buffer.concat(pieces));
      }
    }
    if (this.pending.length < PARALLEL) callback();
    else this.held = callback;
  }

  override _flush(callback: TransformCallback): void {
    if (this.remaining > 0 || this.framed > 0) return callback(new Error('gzip: a batch ended early'));
    this.start();
    if (this.pending.length === 0) this.finish(callback);
    else this.flushed = callback;
  }

  private finish(callback: TransformCallback): void {
    this.flushed = undefined;
    this.text(this.tail);
    const trailer = Buffer.alloc(8);
    trailer.writeUInt32LE(this.crc, 0);
    trailer.writeUInt32LE(this.length, 4);
    this.push(Buffer.concat([FINAL_BLOCK, trailer]));
    callback();
  }
}

/**
 * One gzip body of `head`, the parts `parts` streams (in order) and `tail`. An error of `parts`
 * (a failed batch) or of the result (the client went away) ends both.
 */
export function gzipJoined(parts: Readable, head: string, tail: string): Readable {
  const join = new GzipJoin(head, tail);
  parts.on('error', (err) => join.destroy(err));
  join.on('close', () => parts.destroy());
  return parts.pipe(join);
}

/**
 * Whether @fastify/compress, with the route's `encodings` (in its order), would gzip this
 * response, decided the same way (x-no-compression, Content-Range, the media type, then
 * Accept-Encoding through the same negotiator, `*` and `x-gzip` read as gzip). If so, sets the
 * headers it would (Vary: accept-encoding, Content-Encoding: gzip), and the body must be
 * gzip: @fastify/compress leaves a body whose Content-Encoding is set alone. The media type is
 * tested against the app's {@link COMPRESSIBLE_TYPES}, the list the routes give @fastify/compress
 * (it covers every format an entity route writes, so compress's mime-db fallback never decides).
 */
export function takeGzip(request: FastifyRequest, reply: FastifyReply, encodings: readonly string[]): boolean {
  const header = request.headers['accept-encoding'];
  // A HEAD answer has no body: @fastify/compress sees none and names no coding.
  if (request.method === 'HEAD' || header === undefined || request.headers['x-no-compression'] !== undefined) return false;
  if (reply.statusCode === 206 || reply.getHeader('content-range') !== undefined) return false;
  if (reply.getHeader('content-encoding') !== undefined) return false;
  if (!COMPRESSIBLE_TYPES.test(String(reply.getHeader('content-type') ?? 'application/json'))) return false;
  // As @fastify/compress: only the encodings this Node has, in the route's order.
  const offered = encodings.filter((e) => e !== 'zstd' || typeof (zlib as { createZstdCompress?: unknown }).createZstdCompress === 'function');
  if (negotiate(header.toLowerCase().replace(/\*|x-gzip/gu, 'gzip'), offered) !== 'gzip') return false;
  const vary = reply.getHeader('vary');
  if (vary === undefined) reply.header('Vary', 'accept-encoding');
  else {
    const values = Array.isArray(vary) ? vary.map(String) : [String(vary)];
    if (!values.some((v) => v.includes('accept-encoding'))) reply.header('Vary', [...values, 'accept-encoding'].join(', '));
  }
  reply.header('Content-Encoding', 'gzip');
  return true;
}
