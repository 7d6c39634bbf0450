/**
 * A Google Cloud Storage JSON-API test endpoint, driven by the real @google-cloud/storage client
 * through its `apiEndpoint`. Hand-written because no GCS emulator installs here (fake-gcs-server
 * is a Go binary; the npm and Debian registries carry none): it speaks only the part of the API
 * the client uses, with GCS's own rules where they matter to a client (resumable sessions, 308
 * with `Range`, non-final chunks a multiple of 256 KiB, `ifGenerationMatch`, crc32c/md5 of
 * the stored bytes, JSON error bodies).
 *
 * Endpoints:
 * - `POST /upload/storage/v1/b/:bucket/o?uploadType=resumable&name=` (JSON metadata body,
 *   `X-Upload-Content-Type`) answers a session URI in `Location`; `PUT <session>` with
 *   `Content-Range: bytes a-b/total|*` appends a chunk (308 + `Range` until the last one, then
 *   200 with the object), `bytes *\/total|*` asks for the status; `DELETE <session>` cancels.
 * - `POST ...?uploadType=multipart` (multipart/related: JSON metadata, then the bytes) and
 *   `?uploadType=media&name=`.
 * - `GET /storage/v1/b/:bucket`, `GET /storage/v1/b/:bucket/o?prefix=` (list),
 *   `GET|DELETE /storage/v1/b/:bucket/o/:object` (`?alt=media` downloads the bytes).
 *
 * Objects live in memory (`objects`) for assertions; faults can be injected per request kind.
 */
import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { crc32c, crc32cBase64 } from './crc32c.js';

/** GCS accepts non-final resumable chunks only in multiples of 256 KiB. */
export const CHUNK_GRANULARITY = 256 * 1024;

export interface StoredObject {
  readonly bucket: string;
  readonly name: string;
  readonly data: Buffer;
  readonly generation: string;
  readonly contentType: string;
  readonly contentEncoding: string | undefined;
  readonly metadata: Readonly<Record<string, string>>;
  readonly crc32c: string;
  readonly md5Hash: string;
  readonly timeCreated: string;
  /** How it arrived: `resumable` (with the number of chunk PUTs that carried bytes), `multipart`, `media`. */
  readonly uploadType: string;
  readonly chunks: number;
}

/** A resumable session, finished or not. */
export interface UploadSession {
  readonly id: string;
  readonly bucket: string;
  readonly name: string;
  readonly contentType: string;
  readonly resource: Record<string, unknown>;
  readonly ifGenerationMatch: string | undefined;
  readonly parts: Buffer[];
  received: number;
  /** Running CRC-32C of the bytes received, so no chunk is hashed twice. */
  crc: number;
  /** PUTs that carried bytes (accepted or not). */
  chunkRequests: number;
  state: 'open' | 'finalized' | 'cancelled';
}

/** One request as the endpoint saw it (for asserting what the client did). */
export interface RequestRecord {
  readonly method: string;
  readonly path: string;
  readonly query: Readonly<Record<string, string>>;
  readonly contentRange: string | undefined;
  readonly bodyBytes: number;
  status: number;
}

export type RequestKind = 'session' | 'chunk' | 'multipart';

interface Fault {
  readonly kind: RequestKind;
  readonly status: number;
  /** Matching requests still to let through before failing. */
  skip: number;
  remaining: number;
}

/** A chunk PUT held before it is answered (see `holdNextChunk`). */
export interface HeldChunk {
  /** Resolves when the chunk has arrived, its bytes read but not yet stored or answered. */
  readonly arrived: Promise<void>;
  /** Stores the chunk and answers it as usual. */
  release(): void;
  /** Resolves with the status the held chunk was answered with, once released. */
  readonly answered: Promise<number>;
}

export interface GcsTestServer {
  /** `http://127.0.0.1:<port>`: the client's `apiEndpoint`. */
  readonly url: string;
  /** Finalized objects, by `bucket/name`. */
  readonly objects: Map<string, StoredObject>;
  readonly sessions: Map<string, UploadSession>;
  readonly requests: RequestRecord[];
  /** Objects of a bucket whose name starts with `prefix`, by name. */
  list(bucket: string, prefix?: string): StoredObject[];
  /**
   * Answers `count` requests of a kind with `status` (a GCS JSON error body), after letting
   * `skip` of them through. A failed chunk's bytes are read and dropped, as when a server
   * errs mid-request. Chunks are PUTs that carry bytes (status queries are not counted).
   */
  failNext(kind: RequestKind, count: number, status: number, skip?: number): void;
  /**
   * Stores the next `count` resumable uploads with their first byte flipped (and the crc32c
   * and md5 of what is stored), as a corrupting store would: the client must notice.
   */
  corruptNext(count: number): void;
  /** Holds the next chunk PUT that carries bytes after `skip` more of them have passed. */
  holdNextChunk(skip?: number): HeldChunk;
  close(): Promise<void>;
}

const JSON_TYPE = 'application/json; charset=UTF-8';

/** An answer: a Buffer or string body is sent as is, anything else as JSON. */
interface Reply {
  readonly status: number;
  readonly headers?: Record<string, string>;
  readonly body?: unknown;
}

function gcsError(status: number, message: string, reason: string) {
  return { error: { code: status, message, errors: [{ message, domain: 'global', reason }] } };
}

const REASONS: Record<number, string> = {
  400: 'invalid',
  401: 'required',
  403: 'forbidden',
  404: 'notFound',
  412: 'conditionNotMet',
  429: 'rateLimitExceeded',
  500: 'backendError',
  503: 'backendError',
};

const MESSAGES: Record<number, string> = {
  401: 'Anonymous caller does not have storage.objects.create access to the Google Cloud Storage object.',
  403: 'ecomgen-test@example.iam.gserviceaccount.com does not have storage.objects.create access to the Google Cloud Storage object. Permission \'storage.objects.create\' denied on resource (or it may not exist).',
  429: 'The rate of change requests to the object is too high.',
  500: 'We encountered an internal error. Please try again.',
  503: 'We encountered an internal error. Please try again.',
};

async function readBody(request: IncomingMessage): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const part of request) parts.push(part as Buffer);
  return Buffer.concat(parts);
}

/** Splits a multipart/related body into its parts: headers (lower-case) and bytes. */
function multipartParts(body: Buffer, boundary: string): { headers: Record<string, string>; data: Buffer }[] {
  const delimiter = Buffer.from(`--${boundary}`);
  const parts: { headers: Record<string, string>; data: Buffer }[] = [];
  let at = body.indexOf(delimiter);
  while (at !== -1) {
    let start = at + delimiter.length;
    if (body.subarray(start, start + 2).toString() === '--') break;
    start += 2; // CRLF after the delimiter
    const next = body.indexOf(delimiter, start);
    if (next === -1) break;
    const part = body.subarray(start, next - 2); // CRLF before the next delimiter
    const split = part.indexOf('\r\n\r\n');
    const headerText = split === -1 ? '' : part.subarray(0, split).toString();
    const headers: Record<string, string> = {};
    for (const line of headerText.split('\r\n')) {
      const colon = line.indexOf(':');
      if (colon > 0) headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
    }
    parts.push({ headers, data: split === -1 ? part : part.subarray(split + 4) });
    at = next;
  }
  return parts;
}

/**
 * Starts the endpoint on 127.0.0.1 (a free port) with the given buckets; it closes when the
 * test ends.
 */
export async function startGcsServer(
  t: { teardown: (fn: () => unknown) => void },
  buckets: readonly string[] = ['ecomgen-test'],
): Promise<GcsTestServer> {
  const objects = new Map<string, StoredObject>();
  const sessions = new Map<string, UploadSession>();
  const requests: RequestRecord[] = [];
  const faults: Fault[] = [];
  const holds: { skip: number; arrived: () => void; released: Promise<void>; answered: (status: number) => void }[] = [];
  /** Called with the status a held request was answered with. */
  const onAnswered = new WeakMap<RequestRecord, (status: number) => void>();
  /** Every hold not yet released, released when the endpoint closes. */
  const pendingReleases = new Set<() => void>();
  let generation = 1_700_000_000_000_000;
  let sessionCount = 0;
  let corruptions = 0;
  let url = '';

  const takeFault = (kind: RequestKind): number | undefined => {
    const fault = faults.find((f) => f.kind === kind && f.remaining > 0);
    if (!fault) return undefined;
    if (fault.skip > 0) {
      fault.skip--;
      return undefined;
    }
    fault.remaining--;
    return fault.status;
  };

  const resourceOf = (o: StoredObject) => {
    const path = `b/${o.bucket}/o/${encodeURIComponent(o.name)}`;
    return {
      kind: 'storage#object',
      id: `${o.bucket}/${o.name}/${o.generation}`,
      selfLink: `${url}/storage/v1/${path}`,
      mediaLink: `${url}/download/storage/v1/${path}?generation=${o.generation}&alt=media`,
      name: o.name,
      bucket: o.bucket,
      generation: o.generation,
      metageneration: '1',
      contentType: o.contentType,
      ...(o.contentEncoding ? { contentEncoding: o.contentEncoding } : {}),
      storageClass: 'STANDARD',
      size: String(o.data.length),
      md5Hash: o.md5Hash,
      crc32c: o.crc32c,
      etag: Buffer.from(o.generation).toString('base64'),
      timeCreated: o.timeCreated,
      updated: o.timeCreated,
      metadata: o.metadata,
    };
  };

  const preconditionFails = (bucket: string, name: string, ifGenerationMatch: string | undefined) => {
    if (ifGenerationMatch === undefined) return false;
    const existing = objects.get(`${bucket}/${name}`);
    return ifGenerationMatch === '0' ? existing !== undefined : existing?.generation !== ifGenerationMatch;
  };

  const store = (
    bucket: string,
    name: string,
    data: Buffer,
    resource: Record<string, unknown>,
    contentType: string,
    uploadType: string,
    chunks: number,
    crc = crc32c(data),
  ): StoredObject => {
    const metadata = (resource.metadata ?? {}) as Record<string, unknown>;
    const stored: StoredObject = {
      bucket,
      name,
      data,
      generation: String(generation++),
      contentType: (resource.contentType as string | undefined) ?? (contentType || 'application/octet-stream'),
      contentEncoding: resource.contentEncoding as string | undefined,
      metadata: Object.fromEntries(Object.entries(metadata).map(([k, v]) => [k, String(v)])),
      crc32c: crc32cBase64(crc),
      md5Hash: createHash('md5').update(data).digest('base64'),
      timeCreated: new Date().toISOString(),
      uploadType,
      chunks,
    };
    objects.set(`${bucket}/${name}`, stored);
    return stored;
  };

  /** The hashes a client sent in `X-Goog-Hash` (crc32c=..., md5=...). */
  const hashesOf = (header: string | string[] | undefined): Record<string, string> => {
    const text = Array.isArray(header) ? header.join(',') : header ?? '';
    return Object.fromEntries(
      text.split(',').flatMap((pair) => {
        const eq = pair.indexOf('=');
        return eq > 0 ? [[pair.slice(0, eq).trim(), pair.slice(eq + 1).trim()]] : [];
      }),
    );
  };

  /** 308 Resume Incomplete; `Range` names the bytes stored so far (none: no header). */
  const statusOf = (session: UploadSession): Reply => ({
    status: 308,
    headers: session.received > 0 ? { Range: `bytes=0-${session.received - 1}` } : {},
  });

  async function handleChunk(request: IncomingMessage, session: UploadSession, record: RequestRecord): Promise<Reply> {
    const body = await readBody(request);
    Object.assign(record, { bodyBytes: body.length });
    if (session.state === 'cancelled') return { status: 499, body: gcsError(499, 'The upload was cancelled.', 'cancelled') };
    if (session.state === 'finalized') {
      const object = objects.get(`${session.bucket}/${session.name}`);
      return { status: 200, body: object ? resourceOf(object) : {} };
    }
    const range = request.headers['content-range'] ?? '';
    const status = /^bytes \*\/(\*|\d+)$/.exec(range);
    const chunk = /^bytes (\d+)-(\d+|\*)\/(\*|\d+)$/.exec(range);
    if (!status && !chunk) return { status: 400, body: gcsError(400, `Bad Content-Range '${range}'`, 'invalid') };

    if (chunk && body.length > 0) {
      session.chunkRequests++;
      const fault = takeFault('chunk');
      if (fault !== undefined) return { status: fault, body: gcsError(fault, MESSAGES[fault] ?? `injected ${fault}`, REASONS[fault] ?? 'injected') };
      const hold = holds[0];
      if (hold) {
        if (hold.skip > 0) hold.skip--;
        else {
          holds.shift();
          onAnswered.set(record, hold.answered);
          hold.arrived();
          await hold.released;
          // Cancelled while the chunk was held (the session's state changed under this await).
          if ((session.state as UploadSession['state']) === 'cancelled') return { status: 499, body: gcsError(499, 'The upload was cancelled.', 'cancelled') };
        }
      }
    }

    let total: number | undefined;
    if (status) {
      total = status[1] === '*' ? undefined : Number(status[1]);
      if (total === undefined || total !== session.received) return statusOf(session);
    } else if (chunk) {
      const first = Number(chunk[1]);
      const openEnded = chunk[2] === '*';
      const last = openEnded ? first + body.length - 1 : Number(chunk[2]);
      total = chunk[3] === '*' ? (openEnded ? first + body.length : undefined) : Number(chunk[3]);
      if (!openEnded && last - first + 1 !== body.length) {
        return { status: 400, body: gcsError(400, `Content-Range ${range} does not match the ${body.length} bytes sent`, 'invalid') };
      }
      if (first > session.received) {
        return { status: 400, body: gcsError(400, `Chunk starts at ${first} but only ${session.received} bytes were received`, 'invalid') };
      }
      const isFinal = total !== undefined && last + 1 === total;
      if (!isFinal && body.length % CHUNK_GRANULARITY !== 0) {
        return { status: 400, body: gcsError(400, `A non-final chunk must be a multiple of ${CHUNK_GRANULARITY} bytes, got ${body.length}`, 'invalid') };
      }
      // Bytes already received (a client resending after an error) are skipped, as GCS does.
      const fresh = body.subarray(Math.min(body.length, session.received - first));
      session.parts.push(fresh);
      session.received += fresh.length;
      session.crc = crc32c(fresh, session.crc);
      if (!isFinal) return statusOf(session);
    }
    if (total === undefined || total !== session.received) return statusOf(session);

    const data = Buffer.concat(session.parts);
    const crc = crc32cBase64(session.crc);
    if (corruptions > 0 && data.length > 0) {
      corruptions--;
      data[0] = (data[0] as number) ^ 0xff;
      session.crc = crc32c(data);
    }
    const sent = hashesOf(request.headers['x-goog-hash']);
    if (sent.crc32c !== undefined && sent.crc32c !== crc) {
      return { status: 400, body: gcsError(400, `Provided CRC32C "${sent.crc32c}" doesn't match calculated CRC32C "${crc}".`, 'invalid') };
    }
    if (preconditionFails(session.bucket, session.name, session.ifGenerationMatch)) {
      return { status: 412, body: gcsError(412, 'At least one of the pre-conditions you specified did not hold.', 'conditionNotMet') };
    }
    session.state = 'finalized';
    const stored = store(session.bucket, session.name, data, session.resource, session.contentType, 'resumable', session.chunkRequests, session.crc);
    return { status: 200, body: resourceOf(stored) };
  }

  async function route(request: IncomingMessage, record: RequestRecord): Promise<Reply> {
    const parsed = new URL(request.url ?? '/', url);
    const query = Object.fromEntries(parsed.searchParams);
    Object.assign(record, { query });
    const method = request.method ?? 'GET';
    const path = parsed.pathname;

    const upload = /^\/upload\/storage\/v1\/b\/([^/]+)\/o$/.exec(path);
    if (upload) {
      const bucket = decodeURIComponent(upload[1] as string);
      if (method === 'PUT' || method === 'DELETE') {
        const session = sessions.get(query.upload_id ?? '');
        if (!session) return { status: 404, body: gcsError(404, 'No such upload session.', 'notFound') };
        if (method === 'DELETE') {
          await readBody(request);
          if (session.state === 'open') session.state = 'cancelled';
          return { status: 499, body: '' };
        }
        return handleChunk(request, session, record);
      }
      if (method !== 'POST') return { status: 405, body: gcsError(405, `${method} not allowed`, 'methodNotAllowed') };
      const body = await readBody(request);
      Object.assign(record, { bodyBytes: body.length });
      if (!buckets.includes(bucket)) return { status: 404, body: gcsError(404, 'The specified bucket does not exist.', 'notFound') };
      const kind: RequestKind = query.uploadType === 'resumable' ? 'session' : 'multipart';
      const fault = takeFault(kind);
      if (fault !== undefined) return { status: fault, body: gcsError(fault, MESSAGES[fault] ?? `injected ${fault}`, REASONS[fault] ?? 'injected') };

      if (query.uploadType === 'resumable') {
        const resource = body.length > 0 ? (JSON.parse(body.toString('utf8')) as Record<string, unknown>) : {};
        const name = query.name ?? (resource.name as string | undefined);
        if (!name) return { status: 400, body: gcsError(400, 'Required object name', 'required') };
        if (preconditionFails(bucket, name, query.ifGenerationMatch)) {
          return { status: 412, body: gcsError(412, 'At least one of the pre-conditions you specified did not hold.', 'conditionNotMet') };
        }
        const id = `session-${++sessionCount}`;
        sessions.set(id, {
          id,
          bucket,
          name,
          contentType: String(request.headers['x-upload-content-type'] ?? ''),
          resource,
          ifGenerationMatch: query.ifGenerationMatch,
          parts: [],
          received: 0,
          crc: 0,
          chunkRequests: 0,
          state: 'open',
        });
        const location = `${url}/upload/storage/v1/b/${encodeURIComponent(bucket)}/o?uploadType=resumable&name=${encodeURIComponent(name)}&upload_id=${id}`;
        return { status: 200, headers: { Location: location }, body: '' };
      }
      if (query.uploadType === 'multipart') {
        const boundary = /boundary="?([^";]+)"?/.exec(String(request.headers['content-type'] ?? ''))?.[1];
        const parts = boundary ? multipartParts(body, boundary) : [];
        const [meta, media] = parts;
        if (!meta || !media) return { status: 400, body: gcsError(400, 'A multipart upload needs a metadata part and a media part', 'invalid') };
        const resource = JSON.parse(meta.data.toString('utf8')) as Record<string, unknown>;
        const name = query.name ?? (resource.name as string | undefined);
        if (!name) return { status: 400, body: gcsError(400, 'Required object name', 'required') };
        if (preconditionFails(bucket, name, query.ifGenerationMatch)) {
          return { status: 412, body: gcsError(412, 'At least one of the pre-conditions you specified did not hold.', 'conditionNotMet') };
        }
        return { status: 200, body: resourceOf(store(bucket, name, media.data, resource, media.headers['content-type'] ?? '', 'multipart', 1)) };
      }
      if (query.uploadType === 'media' && query.name) {
        return { status: 200, body: resourceOf(store(bucket, query.name, body, {}, String(request.headers['content-type'] ?? ''), 'media', 1)) };
      }
      return { status: 400, body: gcsError(400, `Unsupported uploadType '${query.uploadType ?? ''}'`, 'invalid') };
    }

    const object = /^\/(?:download\/)?storage\/v1\/b\/([^/]+)\/o\/(.+)$/.exec(path);
    if (object) {
      const key = `${decodeURIComponent(object[1] as string)}/${decodeURIComponent(object[2] as string)}`;
      const found = objects.get(key);
      if (!found) return { status: 404, body: gcsError(404, `No such object: ${key}`, 'notFound') };
      if (method === 'DELETE') {
        objects.delete(key);
        return { status: 204, body: '' };
      }
      if (query.alt === 'media') {
        return {
          status: 200,
          headers: {
            'Content-Type': found.contentType,
            'X-Goog-Hash': `crc32c=${found.crc32c},md5=${found.md5Hash}`,
            'X-Goog-Stored-Content-Encoding': found.contentEncoding ?? 'identity',
            'X-Goog-Generation': found.generation,
          },
          body: found.data,
        };
      }
      return { status: 200, body: resourceOf(found) };
    }

    const list = /^\/storage\/v1\/b\/([^/]+)\/o$/.exec(path);
    if (list && method === 'GET') {
      const bucket = decodeURIComponent(list[1] as string);
      if (!buckets.includes(bucket)) return { status: 404, body: gcsError(404, 'The specified bucket does not exist.', 'notFound') };
      return { status: 200, body: { kind: 'storage#objects', items: server.list(bucket, query.prefix).map(resourceOf) } };
    }

    const bucketPath = /^\/storage\/v1\/b\/([^/]+)$/.exec(path);
    if (bucketPath && method === 'GET') {
      const bucket = decodeURIComponent(bucketPath[1] as string);
      if (!buckets.includes(bucket)) return { status: 404, body: gcsError(404, 'The specified bucket does not exist.', 'notFound') };
      return { status: 200, body: { kind: 'storage#bucket', id: bucket, name: bucket, location: 'EU', storageClass: 'STANDARD' } };
    }
    return { status: 404, body: gcsError(404, `Not found: ${method} ${path}`, 'notFound') };
  }

  const http: Server = createServer((request: IncomingMessage, response: ServerResponse) => {
    const record: RequestRecord = {
      method: request.method ?? 'GET',
      path: (request.url ?? '/').split('?')[0] as string,
      query: {},
      contentRange: request.headers['content-range'],
      bodyBytes: 0,
      status: 0,
    };
    requests.push(record);
    route(request, record)
      .catch((error: unknown): Reply => ({ status: 500, body: gcsError(500, String(error), 'backendError') }))
      .then(({ status, headers, body }) => {
        record.status = status;
        onAnswered.get(record)?.(status);
        if (response.destroyed) return;
        for (const [name, value] of Object.entries(headers ?? {})) response.setHeader(name, value);
        if (Buffer.isBuffer(body)) {
          response.writeHead(status).end(body);
        } else if (typeof body === 'string' || body === undefined) {
          response.writeHead(status, { 'Content-Length': Buffer.byteLength(body ?? '') }).end(body ?? '');
        } else {
          response.writeHead(status, { 'Content-Type': JSON_TYPE }).end(JSON.stringify(body));
        }
      });
  });

  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(http.address() as AddressInfo).port}`;

  const server: GcsTestServer = {
    url,
    objects,
    sessions,
    requests,
    list: (bucket, prefix = '') =>
      [...objects.values()].filter((o) => o.bucket === bucket && o.name.startsWith(prefix)).sort((a, b) => (a.name < b.name ? -1 : 1)),
    failNext: (kind, count, status, skip = 0) => {
      faults.push({ kind, status, skip, remaining: count });
    },
    corruptNext: (count) => {
      corruptions += count;
    },
    holdNextChunk: (skip = 0) => {
      let arrived!: () => void;
      let release!: () => void;
      let answered!: (status: number) => void;
      const arrivedPromise = new Promise<void>((resolve) => (arrived = resolve));
      const released = new Promise<void>((resolve) => (release = resolve));
      const answeredPromise = new Promise<number>((resolve) => (answered = resolve));
      pendingReleases.add(release);
      holds.push({ skip, arrived, released, answered });
      return {
        arrived: arrivedPromise,
        release: () => {
          pendingReleases.delete(release);
          release();
        },
        answered: answeredPromise,
      };
    },
    close: async () => {
      for (const release of pendingReleases) release();
      pendingReleases.clear();
      http.closeAllConnections();
      await new Promise<void>((resolve) => http.close(() => resolve()));
    },
  };
  t.teardown(() => server.close());
  return server;
}
