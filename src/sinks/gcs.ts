import { Transform, Writable, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGzip } from 'node:zlib';
import type { File, Storage } from '@google-cloud/storage';
import { Type } from '@sinclair/typebox';
import type { GcsConfig } from '../config.js';
import { FORMATS, formatStream } from '../formats/index.js';
import { PARQUET_CONTENT_TYPE, PARQUET_EXTENSION } from '../formats/parquet.js';
import { parquetFile } from '../render/parquet.js';
import { ENTITIES, WORLD_ENTITIES, type EntityName } from '../generators/registry.js';
import { formatContext } from '../render/batch.js';
import { messageOf } from './progress.js';
import type { EntitySlice, SinkDefinition, SinkRun } from './types.js';

export const GCS_FORMATS = ['csv', 'ndjson', 'json', 'xml', 'parquet'] as const;
export type GcsFormat = (typeof GCS_FORMATS)[number];

export interface GcsOptions {
  /** Object name prefix (default `ecomgen`). */
  readonly prefix?: string;
  readonly format?: GcsFormat;
  /** Store `<name>.<ext>.gz`, gzip bytes as `application/gzip` (default false). */
  readonly gzip?: boolean;
}

export const DEFAULT_PREFIX = 'ecomgen';

/**
 * How uploads behave. A module constant rather than a request option (a request names what to
 * write, not how hard to retry); tests lower the chunk size and retry delays to exercise
 * multi-chunk uploads and retries on small worlds. `chunkSize` is read per upload, the retry
 * settings when a configuration's client is first created.
 */
export const GCS_UPLOAD = {
  /**
   * Bytes per resumable-upload request: what the client buffers per entity and resends after a
   * failed request. GCS wants a multiple of 256 KiB and recommends at least 8 MiB.
   */
  chunkSize: 8 * 1024 * 1024,
  /** Retries per object, all its requests together, after 408, 429, 5xx or a reset connection (waits of ~1, 2, 4, 8, 16 s). */
  maxRetries: 5,
  /** Longest wait between two retries. */
  maxRetryDelaySeconds: 16,
  /**
   * The client stops retrying this long after an upload began. Large, so a long upload still
   * resumes after an error near its end; retries are bounded by `maxRetries` anyway.
   */
  totalTimeoutSeconds: 3600,
  /**
   * An upload fails when GCS accepts no byte for this long (GCS_STALL_TIMEOUT_MS overrides it):
   * the client has no timeout of its own for resumable uploads, so a destination that stops
   * reading or answering would otherwise hold the job for ever.
   */
  stallTimeoutMs: 120_000,
};

/** GCS stopped taking the upload: no byte accepted for the stall timeout. */
class UploadStalled extends Error {
  constructor(readonly seconds: number) {
    super(`GCS accepted no bytes for ${seconds} s (GCS_STALL_TIMEOUT_MS); the upload was abandoned`);
  }
}

/**
 * Aborts when `moved()` reports the same figure for `ms`: checked every quarter of it, so a
 * stall is noticed between 1× and 1.25× the timeout. `stop()` ends the watch.
 */
function stallWatch(ms: number, moved: () => number): { readonly signal: AbortSignal; stop(): void } {
  const controller = new AbortController();
  let last = moved();
  let still = 0;
  const step = Math.max(1, Math.floor(ms / 4));
  const timer = setInterval(() => {
    const now = moved();
    if (now !== last) {
      last = now;
      still = 0;
    } else if ((still += step) >= ms) {
      clearInterval(timer);
      controller.abort(new UploadStalled(Math.round(ms / 100) / 10));
    }
  }, step);
  timer.unref();
  return { signal: controller.signal, stop: () => clearInterval(timer) };
}

/** The characters of a prefix (the schema checks them); `prefixProblem` checks its segments. */
const PREFIX_CHARS = '^[A-Za-z0-9._/-]+$';

/** `2025-03-14T09:26:53.589Z` → `20250314T092653Z` (UTC, basic ISO 8601). */
export function objectTimestamp(at: Date): string {
  return at.toISOString().replace(/[-:]/g, '').replace(/\.\d{3}Z$/, 'Z');
}

/**
 * The object of one entity: `<prefix>/<entity>/<entity>_<UTC timestamp>_seed<seed>.<ext>[.gz]`.
 * An entity's `/` becomes `-` (`analytics/users` → `analytics-users`) so each entity stays one
 * folder and one file-name stem.
 *
 * @example
 * objectName('bronze/shop', 'analytics/users', new Date('2025-03-14T09:26:53Z'), 42, 'csv', true);
 * // 'bronze/shop/analytics-users/analytics-users_20250314T092653Z_seed42.csv.gz'
 */
export function objectName(prefix: string, entity: EntityName, at: Date, seed: number, format: GcsFormat, gzip: boolean): string {
  const stem = entity.replaceAll('/', '-');
  return `${prefix}/${stem}/${stem}_${objectTimestamp(at)}_seed${seed}.${format === 'parquet' ? PARQUET_EXTENSION : FORMATS[format].extension}${gzip ? '.gz' : ''}`;
}

/** Why a prefix cannot be used, or undefined (the schema has already checked characters and length). */
export function prefixProblem(prefix: string): string | undefined {
  if (prefix.startsWith('/') || prefix.endsWith('/')) return "must not start or end with '/'";
  const segments = prefix.split('/');
  if (segments.some((s) => s === '')) return "must not contain an empty segment ('//')";
  const dots = segments.find((s) => s === '.' || s === '..');
  if (dots !== undefined) return `must not contain a '${dots}' segment`;
  return undefined;
}

/** One client per configuration: it caches credentials and tokens across jobs. */
const clients = new WeakMap<GcsConfig, Storage>();

async function storageFor(config: GcsConfig): Promise<Storage> {
  let storage = clients.get(config);
  if (!storage) {
    // Loaded on first use: the client library adds about half a second of start-up to every
    // process that imports the sinks (the server, each CLI command, each test file) and never writes to GCS.
    const { Storage } = await import('@google-cloud/storage');
    storage = new Storage({
      ...(config.projectId ? { projectId: config.projectId } : {}),
      // With a custom endpoint (an emulator) the client sends no credentials, unless told to
      // with useAuthWithCustomEndpoint; against storage.googleapis.com it uses Application
      // Default Credentials (GOOGLE_APPLICATION_CREDENTIALS, gcloud, the metadata server).
      ...(config.apiEndpoint ? { apiEndpoint: config.apiEndpoint } : {}),
      retryOptions: {
        autoRetry: true,
        maxRetries: GCS_UPLOAD.maxRetries,
        maxRetryDelay: GCS_UPLOAD.maxRetryDelaySeconds,
        totalTimeout: GCS_UPLOAD.totalTimeoutSeconds,
      },
    });
    clients.set(config, storage);
  }
  return storage;
}

/** Node's codes for a destination that cannot be reached at all. */
const UNREACHABLE = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH', 'ETIMEDOUT', 'ECONNRESET', 'CERT_HAS_EXPIRED', 'DEPTH_ZERO_SELF_SIGNED_CERT']);

/** The HTTP status in any of the shapes the client rejects with (GaxiosError, a JSON error body, 'Upload failed'). */
function httpStatusOf(error: unknown): number | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  const e = error as { code?: unknown; status?: unknown; response?: { status?: unknown } };
  for (const value of [e.response?.status, e.status, e.code]) {
    if (typeof value === 'number' && value >= 100 && value < 600) return value;
  }
  return undefined;
}

/** GCS refused to open an upload session: the error is the bucket's or the credentials', not a transfer's. */
class SessionRefused extends Error {
  constructor(override readonly cause: unknown) {
    super(reasonOf(cause), { cause });
  }
}

/**
 * A readable reason from what the client rejects with: Errors, GaxiosErrors whose JSON body
 * carries GCS's own message, and plain `{ code, message }` error bodies.
 */
function reasonOf(error: unknown): string {
  if (typeof error !== 'object' || error === null) return messageOf(error);
  const e = error as { message?: unknown; errors?: unknown[]; response?: { data?: { error?: { message?: unknown } } } };
  const gcsMessage = e.response?.data?.error?.message;
  let text = typeof gcsMessage === 'string' ? gcsMessage : error instanceof Error ? messageOf(error) : typeof e.message === 'string' ? e.message : messageOf(error);
  const inner = (e.errors ?? [])
    .map((x) => (typeof x === 'object' && x !== null && 'message' in x ? String(x.message) : ''))
    .filter((m) => m !== '' && !text.includes(m));
  if (inner.length > 0) text = `${text}: ${inner.join('; ')}`;
  const status = httpStatusOf(error);
  return status !== undefined && !text.includes(String(status)) ? `${text} (HTTP ${status})` : text;
}

/**
 * Why the next entity would fail the same way, or undefined: the endpoint is unreachable, the
 * credentials are missing or refused, or the bucket does not exist. Other failures (5xx after
 * retries, a precondition, a checksum mismatch) belong to one object.
 */
function destinationProblem(failure: unknown, config: GcsConfig): string | undefined {
  // A destination that stopped taking one upload would stall the next one the same way.
  if (failure instanceof UploadStalled) return failure.message;
  const opening = failure instanceof SessionRefused;
  const error = failure instanceof SessionRefused ? failure.cause : failure;
  const status = httpStatusOf(error);
  if (status === 401 || status === 403) return `the credentials are missing or may not create objects in bucket ${config.bucket} (HTTP ${status})`;
  // Later in an upload, a 404 is the session's (expired), not the bucket's.
  if (status === 404 && opening) return `bucket ${config.bucket} does not exist (HTTP 404)`;
  const code = typeof error === 'object' && error !== null ? (error as { code?: unknown }).code : undefined;
  if (typeof code === 'string' && UNREACHABLE.has(code)) return `cannot reach ${config.apiEndpoint ?? 'https://storage.googleapis.com'} (${code})`;
  const message = error instanceof Error ? error.message : '';
  if (/default credentials|invalid_grant|unauthorized_client/i.test(message)) return 'no usable Google credentials (set GOOGLE_APPLICATION_CREDENTIALS or run on Google Cloud)';
  return undefined;
}

/** How long a cancelled job waits for GCS to close an upload session. */
const CANCEL_TIMEOUT_MS = 5000;

/** Whether GCS stored the object (the client keeps the resource it answered). */
const finalized = (file: File): boolean => file.metadata.generation !== undefined && file.metadata.generation !== null;

/**
 * After a cancel: closes the upload session and says whether the object was stored anyway.
 * Destroying the write stream is not enough: the client (v7) keeps uploading what it has
 * buffered, and once the source has ended that includes the final chunk. A DELETE on the
 * session URI (which is its own credential: no auth header) makes GCS refuse any later chunk
 * (499); an upload finalized before that is found by asking for the object, whose name is
 * unique to this job.
 */
async function storedDespiteCancel(file: File, session: string): Promise<boolean> {
  await fetch(session, { method: 'DELETE', headers: { 'Content-Length': '0' }, signal: AbortSignal.timeout(CANCEL_TIMEOUT_MS) }).catch(() => undefined);
  if (finalized(file)) return true;
  try {
    await file.getMetadata();
    return finalized(file);
  } catch {
    return false;
  }
}

/** Counts bytes passing through, calling `onBytes` with the running total. */
function byteMeter(onBytes: (total: number) => void): Transform {
  let total = 0;
  return new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      total += chunk.length;
      onBytes(total);
      callback(null, chunk);
    },
  });
}

interface EntityUpload {
  readonly bucket: string;
  readonly prefix: string;
  readonly format: GcsFormat;
  readonly gzip: boolean;
  readonly startedAt: Date;
}

/** One stored object, as the job reports it (per entity, and in `result.objects`). */
export interface ObjectReport {
  entity: EntityName;
  uri: string;
  records: number;
  bytes: number;
  crc32c: string;
  md5_hash: string | null;
  generation: string;
  content_type: string;
}

/**
 * Streams one entity into one object through a resumable upload and resolves with the stored
 * object's report; rejects with the client's error (or the abort) when GCS did not store it.
 */
async function uploadEntity(run: SinkRun<GcsConfig, GcsOptions>, storage: Storage, slice: EntitySlice, plan: EntityUpload): Promise<ObjectReport> {
  const { entity } = slice;
  const progress = run.progress(entity);
  const name = objectName(plan.prefix, entity, plan.startedAt, run.seed, plan.format, plan.gzip);
  const uri = `gs://${plan.bucket}/${name}`;
  progress.begin(uri);
  progress.details.uri = uri;
  progress.details.bytes_streamed = 0;
  if (plan.gzip) progress.details.uncompressed_bytes = 0;

  let records = 0;
  function* counted(): Generator<object> {
    for (const record of slice.records()) {
      records++;
      yield record;
    }
  }
  const columns = Object.keys(ENTITIES[entity].schema.properties);
  // Parquet: one typed file per entity, as GET sends it (a large one encoded on a render worker,
  // src/render/parquet.ts); the text formats as GET writes them.
  let source: Readable;
  if (plan.format === 'parquet') {
    const file = parquetFile(run.renderPool, slice.world.spec, entity, slice, columns, false, counted);
    source = file.body;
    // The worker encodes every record of the slice into the file, or the file is not stored.
    if (file.onWorker) records = slice.end - slice.start;
  } else source = formatStream(FORMATS[plan.format], formatContext(entity, columns), counted());
  const contentType = plan.gzip ? 'application/gzip' : plan.format === 'parquet' ? PARQUET_CONTENT_TYPE : FORMATS[plan.format].contentType;
  const file = storage.bucket(plan.bucket).file(name);
  const metadata = {
    contentType,
    metadata: {
      'ecomgen-entity': entity,
      'ecomgen-seed': String(run.seed),
      'ecomgen-locale': slice.world.locale,
      'ecomgen-offset': String(slice.start),
      'ecomgen-records': String(slice.end - slice.start),
      'ecomgen-format': plan.format,
      'ecomgen-job': run.jobId,
    },
  };
  // Create, never overwrite: this makes the upload idempotent, so the client retries it.
  const preconditionOpts = { ifGenerationMatch: 0 };
  const stored = byteMeter((total) => (progress.details.bytes_streamed = total));
  const encoded = plan.gzip ? [byteMeter((total) => (progress.details.uncompressed_bytes = total)), createGzip(), stored] : [stored];

  if (slice.start === slice.end) {
    // No records: the file is a few bytes at most (a CSV header, `[]`, or nothing for NDJSON),
    // and the client's chunked upload cannot send an empty object (it sends `bytes 0--1/0`).
    const parts: Buffer[] = [];
    const collect = new Writable({
      write(chunk: Buffer, _encoding, done) {
        parts.push(chunk);
        done();
      },
    });
    await pipeline([source, ...encoded, collect]);
    await file.save(Buffer.concat(parts), { resumable: false, validation: 'crc32c', metadata, preconditionOpts });
  } else {
    // The session is opened before any byte flows, so a cancelled job can always close it.
    const [session] = await file.createResumableUpload({ metadata, preconditionOpts }).catch((error: unknown) => {
      throw new SessionRefused(error);
    });
    const upload = file.createWriteStream({
      uri: session,
      resumable: true,
      chunkSize: GCS_UPLOAD.chunkSize,
      // The client hashes what it sends and compares with the crc32c GCS computed; on a
      // mismatch it deletes the object and fails.
      validation: 'crc32c',
      metadata,
      preconditionOpts,
    });
    // Bytes handed to the client and bytes it sent: a destination that stops reading halts both.
    let sent = 0;
    upload.on('progress', (event: { bytesWritten?: number }) => (sent = event.bytesWritten ?? sent));
    const watch = stallWatch(run.config.stallTimeoutMs ?? GCS_UPLOAD.stallTimeoutMs, () => sent + Number(progress.details.bytes_streamed));
    try {
      if (run.signal.aborted) throw run.signal.reason;
      await pipeline([source, ...encoded, upload], { signal: AbortSignal.any([run.signal, watch.signal]) });
    } catch (error) {
      // A stall is handled as a cancel: the session is closed, so GCS never finalizes a
      // half-sent object later, and an object finalized just before counts as stored.
      const stalled = watch.signal.aborted && !run.signal.aborted;
      if (!(run.signal.aborted || stalled) || !(await storedDespiteCancel(file, session))) throw stalled ? watch.signal.reason : error;
    } finally {
      watch.stop();
    }
  }
  const object = file.metadata;
  const report: ObjectReport = {
    entity,
    uri,
    records,
    bytes: Number(object.size),
    crc32c: String(object.crc32c ?? ''),
    md5_hash: object.md5Hash ? String(object.md5Hash) : null,
    generation: String(object.generation),
    content_type: String(object.contentType ?? contentType),
  };
  progress.details.crc32c = report.crc32c;
  progress.details.generation = report.generation;
  progress.details.content_type = report.content_type;
  progress.delivered(report.records, report.bytes);
  progress.done();
  return report;
}

/**
 * Writes each entity of a world as one object in Google Cloud Storage: CSV (default), NDJSON,
 * JSON or XML, byte for byte what `GET /api/v1/<entity>` serves for the same world, optionally
 * gzipped, through a resumable, crc32c-checked upload.
 *
 * @example
 * // GCS_BUCKET=my-lake; POST /api/v1/sinks/gcs {"seed":42,"entities":["users","orders"],"prefix":"raw/shop","format":"ndjson","gzip":true}
 * // → gs://my-lake/raw/shop/users/users_20250314T092653Z_seed42.ndjson.gz, and the same for orders
 */
export const gcsSink: SinkDefinition<'gcs', GcsOptions> = {
  name: 'gcs',
  configKey: 'gcs',
  requires: 'GCS_BUCKET (or BATCH_BUCKET)',
  summary: 'Write entities as objects in Google Cloud Storage',
  description: [
    'Writes one object per entity to the configured bucket, named',
    '`<prefix>/<entity>/<entity>_<UTC yyyyMMddTHHmmssZ>_seed<seed>.<csv|ndjson|json|xml>[.gz]`',
    "(the job's start time, the same for all its objects; `analytics/users` is written as `analytics-users`).",
    'The bytes are exactly those of `GET /api/v1/<entity>` with the same world and `format`; with `gzip`, the object is',
    'that body gzipped, stored as `application/gzip` without `Content-Encoding`, so readers that go by the `.gz` suffix',
    '(BigQuery, Spark, DuckDB, gsutil) get the file as written.',
    '',
    'Uploads are streamed and resumable (8 MiB requests, retried on 5xx, 429 and reset connections) and checked with',
    'crc32c; an object is only created, never overwritten. Each entity reports its `uri`, `crc32c` and `generation`,',
    'and `bytes_streamed` while it uploads; `result.objects` lists every object written.',
  ].join('\n'),
  options: {
    prefix: Type.String({
      minLength: 1,
      maxLength: 512,
      pattern: PREFIX_CHARS,
      default: DEFAULT_PREFIX,
      description: "Object name prefix: segments of letters, digits, '.', '_', '-' separated by '/', no empty, '.' or '..' segment, no leading or trailing '/'.",
      examples: ['raw/ecommerce'],
    }),
    format: Type.Unsafe<GcsFormat>({ type: 'string', enum: [...GCS_FORMATS], default: 'csv', description: 'File format of the objects, as on GET.' }),
    gzip: Type.Boolean({ default: false, description: 'Gzip each object (`.gz` suffix, `application/gzip`).' }),
  },
  defaultEntities: WORLD_ENTITIES,
  optionsProblem: (options) => {
    const reason = options.prefix === undefined ? undefined : prefixProblem(options.prefix);
    return reason ? { parameter: 'prefix', reason } : undefined;
  },
  async run(run) {
    const plan: EntityUpload = {
      bucket: run.config.bucket,
      prefix: run.options.prefix ?? DEFAULT_PREFIX,
      format: run.options.format ?? 'csv',
      gzip: run.options.gzip ?? false,
      // One time for the whole job, so its objects sort and group together.
      startedAt: new Date(),
    };
    const objects: ObjectReport[] = [];
    Object.assign(run.result, {
      bucket: plan.bucket,
      prefix: plan.prefix,
      format: plan.format,
      gzip: plan.gzip,
      timestamp: objectTimestamp(plan.startedAt),
      objects,
    });
    const storage = await storageFor(run.config);
    for (const [k, slice] of run.slices.entries()) {
      if (run.signal.aborted) return;
      try {
        objects.push(await uploadEntity(run, storage, slice, plan));
      } catch (error) {
        if (run.signal.aborted) return;
        const progress = run.progress(slice.entity);
        const reason = `${progress.destination ?? 'upload'}: ${reasonOf(error)}`;
        progress.fail(new Error(reason));
        progress.failedRecords(slice.end - slice.start, reason);
        const problem = destinationProblem(error, run.config);
        if (problem) {
          const rest = run.slices.length - k - 1;
          throw new Error(`${slice.entity}: ${problem}; ${rest > 0 ? `the job stopped before the remaining ${rest === 1 ? 'entity' : `${rest} entities`}` : 'the job failed'}`);
        }
      }
    }
  },
};
