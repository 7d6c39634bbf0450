import type { Client } from '@opensearch-project/opensearch';
import { Type } from '@sinclair/typebox';
import type { OpenSearchConfig } from '../config.js';
import { bulkFormat, INDEX_NAME_PATTERN } from '../formats/bulk.js';
import type { FormatContext } from '../formats/types.js';
import { ENTITIES, type EntityName } from '../generators/registry.js';
import { formatContext } from '../render/batch.js';
import { indexMappingOf, type IndexMapping } from '../schemas/mapping.js';
import { messageOf, type EntityProgress } from './progress.js';
import { openSearchErrors as errors, openSearchLibrary } from './opensearch-client.js';
import { backoffMs, pause, retryAfterMs } from './retry.js';
import type { EntitySlice, SinkDefinition, SinkRun } from './types.js';

export interface OpenSearchOptions {
  readonly index?: string;
  readonly index_prefix?: string;
  readonly chunk_size?: number;
  readonly refresh?: boolean | 'wait_for';
  readonly retries?: number;
}

export const DEFAULT_CHUNK_SIZE = 1000;
export const MAX_CHUNK_SIZE = 10_000;
export const DEFAULT_RETRIES = 5;
export const MAX_RETRIES = 10;
/** First wait before a re-send, doubled each time. */
const BACKOFF_MS = 200;
/**
 * The first request (GET /) has this long: a wrong or firewalled OPENSEARCH_URL fails the job
 * in seconds, not after a bulk request's timeout.
 */
const CONNECT_TIMEOUT_MS = 5_000;
/** One bulk request of up to 10,000 documents on a busy cluster; a timed-out request is re-sent. */
const REQUEST_TIMEOUT_MS = 60_000;
const MAX_PREFIX_LENGTH = 100;

/** Whole-request answers worth re-sending: the cluster is busy or a node in front of it is. */
const RETRYABLE_STATUS = new Set([429, 502, 503, 504]);

type BulkBody = Parameters<Client['bulk']>[0]['body'];
type CreateBody = Parameters<Client['indices']['create']>[0]['body'];

/** The default index of an entity: its own (performance-events: ecommerce_performance_demo) or `ecomgen-<entity>`. */
export function defaultIndexOf(entity: EntityName): string {
  return ENTITIES[entity].bulkIndex ?? `ecomgen-${entity.replaceAll('/', '-')}`;
}

/** The index an entity is written to under these options. */
export function indexOf(entity: EntityName, options: OpenSearchOptions): string {
  return options.index ?? `${options.index_prefix ?? ''}${defaultIndexOf(entity)}`;
}

/** The cluster as reported, with no credentials, query or fragment (they may hold secrets). */
export function destinationOf(node: string): string {
  const url = new URL(node);
  return `${url.origin}${url.pathname === '/' ? '' : url.pathname}`;
}

/** One entry of a bulk response's `items`, whatever its action. */
interface BulkItem {
  readonly status: number;
  readonly _id?: string | null;
  readonly error?: { readonly type?: string; readonly reason?: string | null; readonly caused_by?: { readonly type?: string; readonly reason?: string | null } };
}

interface BulkAnswer {
  readonly errors: boolean;
  readonly items: readonly Record<string, BulkItem | undefined>[];
}

/** The result of an item, whatever its action (`index`, `create`, ...). */
const itemOf = (entry: Readonly<Record<string, BulkItem | undefined>>): BulkItem | undefined => Object.values(entry)[0];
const isIndexed = (item: BulkItem | undefined) => item !== undefined && item.status >= 200 && item.status < 300;

/** The kind of a refusal, to group the refused documents of a response by: `400 mapper_parsing_exception`. */
const itemKindOf = (item: BulkItem) => `${item.status} ${item.error?.type ?? 'error'}`;

/** The index's reason for one refusal, with its cause when it gives one. */
function itemReasonOf(item: BulkItem): string {
  const error = item.error;
  if (!error?.reason) return itemKindOf(item);
  const cause = error.caused_by?.reason ? ` (${error.caused_by.type ?? 'caused by'}: ${error.caused_by.reason})` : '';
  return `${error.reason}${cause}`;
}

/** A client error in words, naming the status and OpenSearch's error type when there is an answer. */
function describe(error: unknown): string {
  if (error instanceof errors().ResponseError) {
    const body = error.body as { error?: { type?: string; reason?: string } | string } | string | undefined;
    const detail =
      typeof body === 'object' && body !== null && typeof body.error === 'object'
        ? `${body.error.type ?? ''}${body.error.reason ? `: ${body.error.reason}` : ''}`
        : typeof body === 'string'
          ? body.slice(0, 200)
          : typeof body?.error === 'string'
            ? body.error
            : '';
    return `HTTP ${error.statusCode}${detail ? ` ${detail}` : ''}`;
  }
  if (error instanceof errors().TimeoutError) return `no answer within ${REQUEST_TIMEOUT_MS / 1000} s`;
  return messageOf(error);
}

/** The Retry-After of a refused request, in milliseconds. */
function retryAfterOf(error: unknown): number | undefined {
  if (!(error instanceof errors().ResponseError)) return undefined;
  return retryAfterMs((error.headers as Record<string, string | undefined> | null)?.['retry-after']);
}

const backoffOf = (retry: number, askedMs = 0) => backoffMs(BACKOFF_MS, retry, askedMs);

/** A request the cluster refused for good (a 4xx other than 429): the entity stops, the job goes on. */
class RefusedError extends Error {}

/**
 * Creates the index with its mapping unless it exists. True when this job created it; an index
 * created meanwhile by someone else (resource_already_exists_exception) is simply used.
 */
export async function ensureIndex(client: Client, index: string, mapping: IndexMapping): Promise<boolean> {
  const refused = (error: unknown) => error instanceof errors().ResponseError && error.statusCode >= 400 && error.statusCode < 500 && error.statusCode !== 429;
  try {
    const exists = await client.indices.exists({ index });
    if (exists.body === true) return false;
  } catch (error) {
    if (refused(error)) throw new RefusedError(`checking index ${index} was refused: ${describe(error)}`);
    throw error;
  }
  try {
    // The mapping's field types are plain strings here, a union of literals in the client's types.
    await client.indices.create({ index, body: mapping as unknown as CreateBody });
    return true;
  } catch (error) {
    const type = error instanceof errors().ResponseError ? (error.body as { error?: { type?: string } } | undefined)?.error?.type : undefined;
    if (type === 'resource_already_exists_exception') return false;
    if (refused(error)) throw new RefusedError(`creating index ${index} was refused: ${describe(error)}`);
    throw error;
  }
}

/** Counters shown in the entity's progress details as they move. */
interface Details {
  index: string;
  created: boolean;
  chunks: number;
  /** Documents re-sent after the index rejected them with 429. */
  retried_documents: number;
  /** Bulk requests re-sent after a 429/502/503/504 answer, a timeout or a lost connection. */
  retried_requests: number;
  refreshed?: boolean;
  refresh_error?: string;
}

/** One bulk body: the documents' action and source line pairs, as `GET ...&format=bulk` writes them. */
class Chunk {
  private pieces: string[] | undefined;

  constructor(
    readonly text: string,
    readonly size: number,
  ) {}

  /** The two lines (and newlines) of document k. JSON text holds no raw newline, so splitting is exact. */
  piece(k: number): string {
    if (!this.pieces) {
      const lines = this.text.split('\n');
      this.pieces = Array.from({ length: this.size }, (_, i) => `${lines[2 * i]}\n${lines[2 * i + 1]}\n`);
    }
    return this.pieces[k] as string;
  }
}

/** Records in chunks of `size`, each rendered by the bulk format into one body. */
function* chunksOf(slice: EntitySlice, context: FormatContext, size: number): Generator<Chunk> {
  let records: object[] = [];
  let first = true;
  for (const record of slice.records()) {
    records.push(record);
    if (records.length === size) {
      yield new Chunk(bulkFormat.batch(records, context, first), records.length);
      first = false;
      records = [];
    }
  }
  if (records.length > 0) yield new Chunk(bulkFormat.batch(records, context, first), records.length);
}

/** Indexes one entity's slice; returns false when the job was cancelled. */
async function indexSlice(
  client: Client,
  run: SinkRun<OpenSearchConfig, OpenSearchOptions>,
  slice: EntitySlice,
  progress: EntityProgress,
): Promise<boolean> {
  const { options, signal } = run;
  const entity = slice.entity;
  const definition = ENTITIES[entity];
  const index = indexOf(entity, options);
  const chunkSize = options.chunk_size ?? DEFAULT_CHUNK_SIZE;
  const retries = options.retries ?? DEFAULT_RETRIES;
  const details = progress.details as unknown as Details;
  Object.assign(details, { index, created: false, chunks: 0, retried_documents: 0, retried_requests: 0 } satisfies Details);
  progress.begin(index);

  details.created = await ensureIndex(client, index, indexMappingOf(definition.schema));
  const context: FormatContext = {
    ...formatContext(entity, Object.keys(definition.schema.properties)),
    bulk: { index, idColumn: definition.primaryKey },
  };

  /** Sends one body, re-sending it on 429/502/503/504, timeouts and lost connections. */
  const send = async (body: string, documents: number): Promise<BulkAnswer | undefined> => {
    for (let retry = 0; ; retry++) {
      try {
        // The prebuilt NDJSON string goes out as it is: the transport only serialises arrays.
        const response = await client.bulk({ body: body as unknown as BulkBody });
        return response.body as unknown as BulkAnswer;
      } catch (error) {
        const status = error instanceof errors().ResponseError ? error.statusCode : undefined;
        const transient = status === undefined ? error instanceof errors().ConnectionError || error instanceof errors().TimeoutError : RETRYABLE_STATUS.has(status);
        if (transient && retry < retries) {
          details.retried_requests++;
          if (!(await pause(backoffOf(retry, retryAfterOf(error)), signal))) return undefined;
          continue;
        }
        const attempts = `${retry + 1} attempt${retry === 0 ? '' : 's'}`;
        progress.failedRecords(documents, `${documents} document${documents === 1 ? '' : 's'} not indexed into ${index}: bulk request failed with ${describe(error)} (${attempts})`);
        if (status === 413) throw new RefusedError(`bulk request too large for the cluster (HTTP 413): lower chunk_size (now ${chunkSize})`);
        if (status !== undefined && status >= 400 && status < 500 && status !== 429) throw new RefusedError(`bulk request to ${index} refused: ${describe(error)}`);
        throw new Error(`bulk request to ${index} failed after ${attempts}: ${describe(error)}`);
      }
    }
  };

  for (const chunk of chunksOf(slice, context, chunkSize)) {
    if (signal.aborted) return false;
    // Positions in the chunk of the documents still to send.
    let pending: number[] = Array.from({ length: chunk.size }, (_, k) => k);
    for (let round = 0; pending.length > 0; round++) {
      const whole = pending.length === chunk.size;
      const body = whole ? chunk.text : pending.map((k) => chunk.piece(k)).join('');
      const answer = await send(body, pending.length);
      if (answer === undefined) return false;
      const items = (Array.isArray(answer.items) ? answer.items : []).map(itemOf);
      if (items.length !== pending.length) {
        throw new Error(`OpenSearch answered ${items.length} items to a bulk request of ${pending.length} documents`);
      }
      // Each item's status decides, whatever the top-level `errors` flag says.
      if (items.every(isIndexed)) {
        progress.delivered(pending.length, Buffer.byteLength(body));
        break;
      }
      const rejected: number[] = [];
      const refused = new Map<string, { count: number; first: BulkItem | undefined }>();
      let delivered = 0;
      let bytes = 0;
      items.forEach((item, j) => {
        const k = pending[j] as number;
        const status = item?.status ?? 0;
        if (isIndexed(item)) {
          delivered++;
          bytes += Buffer.byteLength(chunk.piece(k));
        } else if (status === 429 && round < retries) {
          rejected.push(k);
        } else {
          const kind = item ? itemKindOf(item) : 'no item in the answer';
          const known = refused.get(kind);
          if (known) known.count++;
          else refused.set(kind, { count: 1, first: item });
        }
      });
      if (delivered > 0) progress.delivered(delivered, bytes);
      // Exact counts always; one message per kind of refusal, with the first document's reason.
      for (const [kind, { count, first }] of refused) {
        const after = kind.startsWith('429 ') ? ` after ${round} re-send${round === 1 ? '' : 's'}` : '';
        const example = first ? `; first _id ${String(first._id ?? '?')}: ${itemReasonOf(first)}` : '';
        progress.failedRecords(count, `${count} document${count === 1 ? '' : 's'} refused by ${index}${after}: ${kind}${example}`);
      }
      if (rejected.length > 0) {
        details.retried_documents += rejected.length;
        if (!(await pause(backoffOf(round), signal))) return false;
      }
      pending = rejected;
    }
    details.chunks++;
  }

  if (options.refresh === true || options.refresh === 'wait_for') {
    try {
      await client.indices.refresh({ index });
      details.refreshed = true;
    } catch (error) {
      // Every document is indexed: only its visibility to search waits for the next periodic refresh.
      details.refreshed = false;
      details.refresh_error = describe(error);
    }
  }
  return true;
}

/**
 * Indexes records into OpenSearch with the bulk API: one index per entity, created with its
 * strict mapping when missing, documents sent in chunks as the very NDJSON of
 * `GET /api/v1/<entity>?format=bulk` (`_id` = primary key, so re-running a world overwrites
 * the same documents), per-document results read back and counted.
 *
 * @example
 * // OPENSEARCH_URL=http://localhost:9200 in the environment, then
 * // curl -X POST 'localhost:8000/api/v1/sinks/opensearch?wait=true' -H 'Content-Type: application/json' \
 * //   -d '{"seed":42,"days":1,"refresh":true}'
 * // indexes one day of performance-events into ecommerce_performance_demo.
 */
export const opensearchSink: SinkDefinition<'opensearch', OpenSearchOptions> = {
  name: 'opensearch',
  configKey: 'opensearch',
  requires: 'OPENSEARCH_URL',
  summary: 'Index records into OpenSearch',
  description: [
    'Indexes each entity into its own index with the bulk API (default entity `performance-events`, into `ecommerce_performance_demo`; other entities into `ecomgen-<entity>`, `/` as `-`). A missing index is created with the entity\'s strict mapping (for performance-events the one of `GET /api/v1/performance-events/mapping`); an existing one is used as it is.',
    '',
    'Documents go in chunks of `chunk_size`, each request body the very bytes of `GET /api/v1/<entity>?format=bulk&index=<index>` for those records: an action line `{"index":{"_index":…,"_id":<primary key>}}` then the record. Re-running a world overwrites the same documents.',
    '',
    'Each document\'s result is read back: indexed documents count as delivered (bytes: their action and source lines); a document rejected with 429 is re-sent, with backoff, up to `retries` times; any other refusal (e.g. 400 mapper_parsing_exception) counts as failed, with the reason in `errors`, and the job ends `partial`. A whole request answered 429, 502, 503 or 504, timed out (60 s) or cut is re-sent up to `retries` times (waiting 200 ms doubled each time, longer if Retry-After asks, at most 30 s); then the job fails. An unreachable cluster fails the job within 5 s.',
    '',
    'Options: `index` (one entity only) or `index_prefix` (put before each default name), `chunk_size` (1-10,000, default 1,000), `retries` (0-10, default 5), `refresh` (`true` or `wait_for`: refresh each index at the end so every document is searchable when the job ends). Progress `destination` is the index; `created` says whether this job created it; `chunks`, `retried_documents` and `retried_requests` count bulk work. `result.cluster` names the cluster and its version.',
    '',
    `Example: \`curl -X POST 'http://localhost:8000/api/v1/sinks/opensearch?wait=true' -H 'Content-Type: application/json' -d '{"seed":42,"days":1,"refresh":true}'\` indexes one day of performance-events (about 2.3 million at the default 20 TPS).`,
  ].join('\n'),
  options: {
    index: Type.String({
      pattern: INDEX_NAME_PATTERN,
      description: 'Index to write to (lowercase letters, digits, `.`, `_`, `-`; not starting with `.`, `_` or `-`). Only with one entity. Default: the entity\'s own index.',
      examples: ['ecommerce_performance_demo'],
    }),
    index_prefix: Type.String({
      pattern: `^[a-z0-9][a-z0-9._-]{0,${MAX_PREFIX_LENGTH - 1}}$`,
      description: 'Put before each entity\'s default index name, e.g. `staging-` gives `staging-ecomgen-orders`. Not with `index`.',
      examples: ['staging-'],
    }),
    chunk_size: Type.Integer({ minimum: 1, maximum: MAX_CHUNK_SIZE, default: DEFAULT_CHUNK_SIZE, description: `Documents per bulk request (1-${MAX_CHUNK_SIZE.toLocaleString('en-US')}).`, examples: [DEFAULT_CHUNK_SIZE] }),
    retries: Type.Integer({
      minimum: 0,
      maximum: MAX_RETRIES,
      default: DEFAULT_RETRIES,
      description: `Re-sends of a document rejected with 429, and of a bulk request answered 429/502/503/504 or lost (0-${MAX_RETRIES}).`,
      examples: [DEFAULT_RETRIES],
    }),
    refresh: Type.Union([Type.Boolean(), Type.Literal('wait_for')], {
      default: false,
      description: '`true` or `wait_for`: refresh each index once at the end, so every document is searchable when the job ends. Default false (the periodic refresh makes them searchable).',
      examples: [true],
    }),
  },
  defaultEntities: ['performance-events'],
  optionsProblem: (options, entities) => {
    if (options.index !== undefined && options.index_prefix !== undefined) return { parameter: 'index_prefix', reason: 'not with index (index names the whole index)' };
    if (options.index !== undefined && entities.length !== 1) {
      return { parameter: 'index', reason: `names one index, so it applies to one entity (this request sends ${entities.length}); use index_prefix for several` };
    }
    return undefined;
  },

  async run(run) {
    const { config, signal } = run;
    const destination = destinationOf(config.node);
    // Retries are this sink's own, with backoff. The client's would re-send at once, without
    // waiting, on connection errors and 502/503/504 only (never 429), marking the node dead.
    const { Client } = await openSearchLibrary();
    const client = new Client({
      node: config.node,
      ...(config.auth ? { auth: { username: config.auth.username, password: config.auth.password } } : {}),
      maxRetries: 0,
      requestTimeout: REQUEST_TIMEOUT_MS,
      // One node: the pool would hand out a node marked dead anyway; pings would only add requests.
      resurrectStrategy: 'none',
    });
    try {
      try {
        const info = await client.info({}, { requestTimeout: CONNECT_TIMEOUT_MS });
        const body = info.body as { cluster_name?: string; version?: { number?: string; distribution?: string } };
        run.result.cluster = { url: destination, name: body.cluster_name ?? null, version: body.version?.number ?? null, distribution: body.version?.distribution ?? null };
      } catch (error) {
        const status = error instanceof errors().ResponseError ? error.statusCode : undefined;
        if (status === 401) throw new Error(`OpenSearch at ${destination} refused the credentials (${describe(error)}): check OPENSEARCH_USERNAME and OPENSEARCH_PASSWORD`);
        // A user allowed to write indices but not to read cluster info still gets its documents indexed.
        if (status !== undefined && status !== 403) throw new Error(`OpenSearch at ${destination} is not usable: GET / answered ${describe(error)}`);
        if (status === undefined) throw new Error(`OpenSearch at ${destination} is not reachable: ${error instanceof errors().TimeoutError ? `no answer within ${CONNECT_TIMEOUT_MS / 1000} s` : describe(error)}`);
        run.result.cluster = { url: destination, name: null, version: null, distribution: null };
      }

      for (const slice of run.slices) {
        if (signal.aborted) return;
        const progress = run.progress(slice.entity);
        try {
          if (!(await indexSlice(client, run, slice, progress))) return;
          progress.done();
        } catch (error) {
          if (!(error instanceof RefusedError)) throw error;
          // The cluster refused this entity's index or requests: the other entities may still go in.
          progress.fail(error);
          run.log.warn({ entity: slice.entity, err: error }, 'opensearch refused an entity');
        }
      }
    } finally {
      await client.close();
    }
  },
};
