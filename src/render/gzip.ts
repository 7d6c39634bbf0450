import negotiate from '@fastify/accept-negotiator';
import { Buffer } from 'node:buffer';
import { Transform, type Readable, type TransformCallback } from 'node:stream';
import zlib from 'node:zlib';
import type { FastifyReply, FastifyRequest } from 'fastify';

/**
 * gzip of large downloads rendered on worker threads, compressed where they are rendered.
 *
 * Each worker deflates its own batch (raw deflate, ending on a byte boundary with a sync flush and
 * no final block) and reports the batch's CRC-32 and length; the main thread writes the gzip
 * header once, the batches' deflate data in order, an empty final block and the trailer (the
 * CRC-32 of the whole body combined from the batches', and its length). That is one gzip member,
 * as pigz makes, which any gzip reader takes (curl --compressed, browsers, `gzip -d`, zlib). The
 * main thread, which otherwise compressed every byte on one libuv thread, only copies bytes.
 */

/** The level of gzip on entity routes (their @fastify/compress options use it too). */
export const ENTITY_GZIP_LEVEL = 1;

/** Bytes before each deflated batch: its length uncompressed, its CRC-32 and its deflated length (uint32 LE each). */
const FRAME = 12;

/**
 * A batch's bytes deflated as one part of a gzip body: the frame (see {@link FRAME}) then raw
 * deflate data ending with a sync flush, so parts can be joined in order (see {@link gzipJoined}).
 */
export function deflatePart(bytes: Uint8Array): Uint8Array {
  const packed = zlib.deflateRawSync(bytes, { level: ENTITY_GZIP_LEVEL, finishFlush: zlib.constants.Z_SYNC_FLUSH });
  // A buffer of its own, so a worker transfers it instead of copying (zlib's may share memory).
  const out = Buffer.allocUnsafeSlow(FRAME + packed.length);
  out.writeUInt32LE(bytes.length, 0);
  out.writeUInt32LE(zlib.crc32(bytes), 4);
  out.writeUInt32LE(packed.length, 8);
  packed.copy(out, FRAME);
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

/** Joins deflated parts (frames from {@link deflatePart}) into one gzip body. */
class GzipJoin extends Transform {
  private crc = 0;
  private length = 0;
  /** Deflated bytes of the current part still to pass on; 0 while reading a frame. */
  private remaining = 0;
  private readonly frame = Buffer.alloc(FRAME);
  private framed = 0;
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
    this.push(zlib.deflateRawSync(bytes, { level: ENTITY_GZIP_LEVEL, finishFlush: zlib.constants.Z_SYNC_FLUSH }));
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

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.start();
    let at = 0;
    while (at < chunk.length) {
      if (this.remaining > 0) {
        const take = Math.min(this.remaining, chunk.length - at);
        this.push(chunk.subarray(at, at + take));
        this.remaining -= take;
        at += take;
        continue;
      }
      // A frame may arrive split across chunks (never from the pool, but a byte stream may be).
      const take = Math.min(FRAME - this.framed, chunk.length - at);
      chunk.copy(this.frame, this.framed, at, at + take);
      this.framed += take;
      at += take;
      if (this.framed === FRAME) {
        this.framed = 0;
        this.add(this.frame.readUInt32LE(4), this.frame.readUInt32LE(0));
        this.remaining = this.frame.readUInt32LE(8);
      }
    }
    callback();
  }

  override _flush(callback: TransformCallback): void {
    if (this.remaining > 0 || this.framed > 0) return callback(new Error('gzip: a deflated batch ended early'));
    this.start();
    this.text(this.tail);
    const trailer = Buffer.alloc(8);
    trailer.writeUInt32LE(this.crc, 0);
    trailer.writeUInt32LE(this.length, 4);
    this.push(Buffer.concat([FINAL_BLOCK, trailer]));
    callback();
  }
}

/**
 * One gzip body of `head`, the deflated parts `parts` streams (in order) and `tail`. An error of
 * `parts` (a failed batch) or of the result (the client went away) ends both.
 */
export function gzipJoined(parts: Readable, head: string, tail: string): Readable {
  const join = new GzipJoin(head, tail);
  parts.on('error', (err) => join.destroy(err));
  join.on('close', () => parts.destroy());
  return parts.pipe(join);
}

/** Media types @fastify/compress always compresses (its default `compressibleTypes`); others it looks up in mime-db. */
const COMPRESSIBLE = /^text\/(?!event-stream)|(?:\+|\/)json(?:;|$)|(?:\+|\/)text(?:;|$)|(?:\+|\/)xml(?:;|$)|octet-stream(?:;|$)/u;

/**
 * Whether @fastify/compress, with the route's `encodings` (in its order), would gzip this
 * response, decided the same way (x-no-compression, Content-Range, the media type, then
 * Accept-Encoding through the same negotiator, `*` and `x-gzip` read as gzip). If so, sets the
 * headers it would (Vary: accept-encoding, Content-Encoding: gzip), and the body must be
 * gzip: @fastify/compress leaves a body whose Content-Encoding is set alone. Media types it
 * decides through mime-db (NDJSON: not compressed) are left to it.
 */
export function takeGzip(request: FastifyRequest, reply: FastifyReply, encodings: readonly string[]): boolean {
  const header = request.headers['accept-encoding'];
  if (header === undefined || request.headers['x-no-compression'] !== undefined) return false;
  if (reply.statusCode === 206 || reply.getHeader('content-range') !== undefined) return false;
  if (reply.getHeader('content-encoding') !== undefined) return false;
  if (!COMPRESSIBLE.test(String(reply.getHeader('content-type') ?? 'application/json'))) return false;
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
