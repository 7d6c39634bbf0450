/**
 * A small OpenSearch REST endpoint for tests, driven by the real @opensearch-project/opensearch
 * client. Hand-written because no OpenSearch (a JVM service) can run on the test machine; it
 * speaks the part of the REST API the sink uses, as OpenSearch 2.x answers it:
 *
 * - `GET /` and `HEAD /`: cluster info (`version.distribution: opensearch`);
 * - `HEAD /{index}` (200 or 404), `PUT /{index}` (create with the body's mappings; 400
 *   resource_already_exists_exception when it exists), `GET /{index}/_mapping`;
 * - `POST /_bulk`, `PUT|POST /{index}/_bulk`: NDJSON action and source line pairs (`index` and
 *   `create`), `_index` defaulting to the path's, per-item results in order;
 * - `POST /{index}/_refresh`, `GET /{index}/_count`.
 *
 * Documents are checked against a strict mapping as OpenSearch would: an unknown field is refused
 * with strict_dynamic_mapping_exception, a value of the wrong type with mapper_parsing_exception.
 * So a test that indexes every entity proves the derived mappings fit the documents.
 *
 * Faults (mutable at any time through `faults`): documents refused for good, documents rejected
 * with 429 a number of times, whole bulk requests answered 429 or 503, an index HEAD claims is
 * missing (a creation race), an index whose creation is refused.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export const PEER_VERSION = '2.19.1';

interface FieldMapping {
  type?: string;
  format?: string;
  properties?: Record<string, FieldMapping>;
}

export interface StoredIndex {
  readonly name: string;
  /** The body of the PUT that created it (undefined when a bulk request created it). */
  readonly body: Record<string, unknown> | undefined;
  readonly createdBy: 'put' | 'bulk';
  /** Documents by `_id`, in the order they were first indexed. */
  readonly docs: Map<string, Record<string, unknown>>;
  /** Times each document was written (1: indexed exactly once). */
  readonly versions: Map<string, number>;
  refreshes: number;
}

export interface OpenSearchFaults {
  /** `_id`s refused for good with 400 mapper_parsing_exception. */
  readonly permanent: Set<string>;
  /** `_id` -> how many more times to reject it with 429 es_rejected_execution_exception. */
  readonly rejected: Map<string, number>;
  /** The next this many bulk requests are answered 429 as a whole. */
  throttle: number;
  /** Then the next this many are answered 503 as a whole. */
  unavailable: number;
  /** Indices HEAD reports missing although they exist, as if created meanwhile by someone else. */
  readonly hidden: Set<string>;
  /** Indices whose creation is refused with 400 illegal_argument_exception. */
  readonly refuseCreate: Set<string>;
}

export interface BulkRequestRecord {
  readonly method: string;
  readonly path: string;
  readonly body: string;
  readonly contentType: string | undefined;
  /** HTTP status of the answer. */
  status: number;
}

export interface OpenSearchPeer {
  readonly url: string;
  readonly indices: Map<string, StoredIndex>;
  /** Every bulk request received, in order, with the status it was answered. */
  readonly bulks: BulkRequestRecord[];
  /** `METHOD path status` of every request. */
  readonly log: string[];
  readonly faults: OpenSearchFaults;
  /** Awaited before a bulk request is answered; gets its 1-based number. */
  onBulk: ((n: number) => Promise<void> | void) | undefined;
  /** Creates an index directly (as another writer would). */
  createIndex(name: string, body?: Record<string, unknown>): StoredIndex;
  /** Forgets every index, request and fault, as if freshly started. */
  reset(): void;
  close(): Promise<void>;
}

export interface OpenSearchPeerOptions {
  /** Basic credentials every request must carry. */
  readonly auth?: { readonly username: string; readonly password: string };
}

/** OpenSearch's own rule, roughly: lowercase, no spaces or `\/*?"<>|,#:`, not starting with `_ - +`. */
const VALID_INDEX = /^[^A-Z\s\\/*?"<>|,#:_+-][^A-Z\s\\/*?"<>|,#:]{0,254}$/;

const errorBody = (status: number, type: string, reason: string, extra: Record<string, unknown> = {}) => ({
  error: { root_cause: [{ type, reason, ...extra }], type, reason, ...extra },
  status,
});

const DATE_OPTIONAL_TIME = /^\d{4}-\d{2}-\d{2}(?:T\d{2}(?::\d{2}(?::\d{2}(?:\.\d{1,9})?)?)?(?:Z|[+-]\d{2}:?\d{2})?)?$/;
const DATE_ONLY = /^\d{4}-\d{2}-\d{2}$/;

/** Whether one (non-null, non-array) value fits a field of this mapping. */
function fits(value: unknown, field: FieldMapping): boolean {
  switch (field.type) {
    case 'long':
    case 'integer':
      return typeof value === 'number' && Number.isSafeInteger(value);
    case 'float':
    case 'double':
    case 'scaled_float':
      return typeof value === 'number' && Number.isFinite(value);
    case 'boolean':
      return typeof value === 'boolean';
    case 'keyword':
    case 'text':
      return typeof value === 'string';
    case 'date':
      return typeof value === 'string' && (field.format === 'strict_date' ? DATE_ONLY : DATE_OPTIONAL_TIME).test(value) && !Number.isNaN(Date.parse(value));
    case 'object':
    case undefined:
      return typeof value === 'object' && value !== null && !Array.isArray(value);
    default:
      return false;
  }
}

/** Why a document does not fit a strict mapping, as OpenSearch words it; undefined when it fits. */
function mappingProblem(doc: Record<string, unknown>, properties: Record<string, FieldMapping>, id: string, within = '_doc'): { type: string; reason: string } | undefined {
  for (const [key, value] of Object.entries(doc)) {
    const field = properties[key];
    if (!field) return { type: 'strict_dynamic_mapping_exception', reason: `mapping set to strict, dynamic introduction of [${key}] within [${within}] is not allowed` };
    const values = Array.isArray(value) ? value : [value];
    for (const v of values) {
      if (v === null) continue;
      if (!fits(v, field)) {
        return { type: 'mapper_parsing_exception', reason: `failed to parse field [${key}] of type [${field.type ?? 'object'}] in document with id '${id}'. Preview of field's value: '${JSON.stringify(v).slice(0, 60)}'` };
      }
      if (field.properties) {
        const inner = mappingProblem(v as Record<string, unknown>, field.properties, id, key);
        if (inner) return inner;
      }
    }
  }
  return undefined;
}

async function readBody(request: IncomingMessage): Promise<string> {
  const parts: Buffer[] = [];
  for await (const part of request) parts.push(part as Buffer);
  return Buffer.concat(parts).toString('utf8');
}

function send(response: ServerResponse, status: number, body?: unknown, headers: Record<string, string> = {}): number {
  const text = body === undefined ? '' : JSON.stringify(body);
  response.writeHead(status, {
    ...(body === undefined ? {} : { 'content-type': 'application/json; charset=UTF-8' }),
    'content-length': String(Buffer.byteLength(text)),
    ...headers,
  });
  response.end(text);
  return status;
}

/** Starts the endpoint on 127.0.0.1 and a free port. */
export async function startOpenSearchPeer(options: OpenSearchPeerOptions = {}): Promise<OpenSearchPeer> {
  const indices = new Map<string, StoredIndex>();
  const bulks: BulkRequestRecord[] = [];
  const log: string[] = [];
  const faults: OpenSearchFaults = { permanent: new Set(), rejected: new Map(), throttle: 0, unavailable: 0, hidden: new Set(), refuseCreate: new Set() };
  let autoIds = 0;
  let seqNo = 0;

  const createIndex = (name: string, body?: Record<string, unknown>, createdBy: 'put' | 'bulk' = 'put'): StoredIndex => {
    const index: StoredIndex = { name, body, createdBy, docs: new Map(), versions: new Map(), refreshes: 0 };
    indices.set(name, index);
    return index;
  };

  const expectedAuth = options.auth ? `Basic ${Buffer.from(`${options.auth.username}:${options.auth.password}`).toString('base64')}` : undefined;

  /** Runs one bulk body; answers the whole request (400) when it is malformed, as OpenSearch does. */
  function bulk(text: string, pathIndex: string | undefined): { status: number; body: unknown } {
    if (text.length > 0 && !text.endsWith('\n')) {
      return { status: 400, body: errorBody(400, 'illegal_argument_exception', 'The bulk request must be terminated by a newline [\\n]') };
    }
    const lines = text.split('\n');
    lines.pop();
    if (lines.length === 0 || lines.length % 2 !== 0) {
      return { status: 400, body: errorBody(400, 'action_request_validation_exception', 'Validation Failed: 1: no requests added or a source line is missing;') };
    }
    const started = performance.now();
    const items: Record<string, unknown>[] = [];
    let anyError = false;
    for (let i = 0; i < lines.length; i += 2) {
      let action: Record<string, { _index?: string; _id?: string; version?: number; version_type?: string } | undefined>;
      let source: Record<string, unknown>;
      try {
        action = JSON.parse(lines[i] as string);
        source = JSON.parse(lines[i + 1] as string);
      } catch (error) {
        return { status: 400, body: errorBody(400, 'x_content_parse_exception', `[${i + 1}:1] ${(error as Error).message}`) };
      }
      const op = Object.keys(action)[0];
      if (op !== 'index' && op !== 'create') {
        return { status: 400, body: errorBody(400, 'illegal_argument_exception', `Malformed action/metadata line [${i + 1}], expected one of [index, create], found [${op}]`) };
      }
      const meta = action[op] ?? {};
      const name = meta._index ?? pathIndex;
      if (name === undefined) return { status: 400, body: errorBody(400, 'action_request_validation_exception', 'Validation Failed: 1: index is missing;') };
      const id = meta._id ?? `auto-${++autoIds}`;
      const item = (status: number, rest: Record<string, unknown>) => {
        if (status >= 300) anyError = true;
        items.push({ [op]: { _index: name, _id: id, status, ...rest } });
      };
      const refuse = (status: number, type: string, reason: string) => item(status, { error: { type, reason, index: name } });

      if (faults.permanent.has(id)) {
        refuse(400, 'mapper_parsing_exception', `failed to parse: injected failure for document '${id}'`);
        continue;
      }
      const rejections = faults.rejected.get(id) ?? 0;
      if (rejections > 0) {
        faults.rejected.set(id, rejections - 1);
        refuse(429, 'es_rejected_execution_exception', `rejected execution of coordinating operation [shard_detail=[${name}][0][P], shard_coordinating_and_primary_bytes=0, shard_operation_bytes=1024, shard_max_coordinating_and_primary_bytes=1024]`);
        continue;
      }
      if (!VALID_INDEX.test(name)) {
        refuse(400, 'invalid_index_name_exception', `Invalid index name [${name}], must be lowercase`);
        continue;
      }
      const index = indices.get(name) ?? createIndex(name, undefined, 'bulk');
      const mappings = index.body?.mappings as { dynamic?: unknown; properties?: Record<string, FieldMapping> } | undefined;
      if (mappings?.dynamic === 'strict') {
        const problem = mappingProblem(source, mappings.properties ?? {}, id);
        if (problem) {
          refuse(400, problem.type, problem.reason);
          continue;
        }
      }
      // External versioning (the caller's version, e.g. a feed sequence): only a higher one replaces the document.
      const external = meta.version_type === 'external';
      const current = index.versions.get(id);
      if (external && (!Number.isSafeInteger(meta.version) || (meta.version as number) < 0)) {
        refuse(400, 'action_request_validation_exception', `Validation Failed: 1: illegal version value [${String(meta.version)}] for version type [EXTERNAL];`);
        continue;
      }
      if (external && current !== undefined && current >= (meta.version as number)) {
        refuse(409, 'version_conflict_engine_exception', `[${id}]: version conflict, current version [${current}] is higher or equal to the one provided [${String(meta.version)}]`);
        continue;
      }
      const version = external ? (meta.version as number) : (current ?? 0) + 1;
      if (op === 'create' && current !== undefined) {
        refuse(409, 'version_conflict_engine_exception', `[${id}]: version conflict, document already exists (current version [${current}])`);
        continue;
      }
      index.docs.set(id, source);
      index.versions.set(id, version);
      item(current === undefined ? 201 : 200, {
        _version: version,
        result: current === undefined ? 'created' : 'updated',
        _shards: { total: 2, successful: 1, failed: 0 },
        _seq_no: seqNo++,
        _primary_term: 1,
      });
    }
    return { status: 200, body: { took: Math.round(performance.now() - started), errors: anyError, items } };
  }

  async function handle(request: IncomingMessage, response: ServerResponse): Promise<number> {
    const method = request.method ?? 'GET';
    const url = new URL(request.url ?? '/', 'http://peer');
    const segments = url.pathname.split('/').filter((s) => s !== '').map(decodeURIComponent);
    const text = await readBody(request);

    if (expectedAuth !== undefined && request.headers.authorization !== expectedAuth) {
      return send(response, 401, errorBody(401, 'security_exception', 'missing authentication credentials for REST request [/]'), { 'www-authenticate': 'Basic realm="OpenSearch Security"' });
    }
    if (segments.length === 0) {
      if (method === 'HEAD') return send(response, 200);
      if (method === 'GET') {
        return send(response, 200, {
          name: 'peer-node-1',
          cluster_name: 'ecomgen-test-peer',
          cluster_uuid: 'x4b1Gm3oQ6ytCo2aTz1c9w',
          version: {
            distribution: 'opensearch',
            number: PEER_VERSION,
            build_type: 'tar',
            build_hash: '0000000000000000000000000000000000000000',
            build_date: '2025-01-01T00:00:00.000000Z',
            build_snapshot: false,
            lucene_version: '9.12.1',
            minimum_wire_compatibility_version: '7.10.0',
            minimum_index_compatibility_version: '7.0.0',
          },
          tagline: 'The OpenSearch Project: https://opensearch.org/',
        });
      }
    }
    const [first, second] = segments;
    const isBulk = (first === '_bulk' && segments.length === 1 && method === 'POST') || (second === '_bulk' && segments.length === 2 && (method === 'POST' || method === 'PUT'));
    if (isBulk) {
      const record: BulkRequestRecord = { method, path: url.pathname, body: text, contentType: request.headers['content-type'], status: 0 };
      bulks.push(record);
      await onBulkHook(bulks.length);
      if (faults.throttle > 0) {
        faults.throttle--;
        return (record.status = send(response, 429, errorBody(429, 'rejected_execution_exception', 'rejected execution of coordinating operation'), { 'retry-after': '0' }));
      }
      if (faults.unavailable > 0) {
        faults.unavailable--;
        return (record.status = send(response, 503, errorBody(503, 'cluster_block_exception', 'blocked by: [SERVICE_UNAVAILABLE/2/no cluster-manager];')));
      }
      const result = bulk(text, second === '_bulk' ? first : undefined);
      return (record.status = send(response, result.status, result.body));
    }
    if (first === undefined || first.startsWith('_')) {
      return send(response, 400, errorBody(400, 'illegal_argument_exception', `no handler found for uri [${url.pathname}] and method [${method}]`));
    }
    const index = indices.get(first);
    const missing = () => send(response, 404, errorBody(404, 'index_not_found_exception', `no such index [${first}]`, { index: first }));
    if (segments.length === 1) {
      if (method === 'HEAD') return send(response, index && !faults.hidden.has(first) ? 200 : 404);
      if (method === 'PUT') {
        if (!VALID_INDEX.test(first)) return send(response, 400, errorBody(400, 'invalid_index_name_exception', `Invalid index name [${first}], must be lowercase`, { index: first }));
        if (faults.refuseCreate.has(first)) return send(response, 400, errorBody(400, 'illegal_argument_exception', `injected refusal to create index [${first}]`));
        if (index) return send(response, 400, errorBody(400, 'resource_already_exists_exception', `index [${first}/x4b1Gm3o] already exists`, { index: first }));
        let body: Record<string, unknown>;
        try {
          body = text === '' ? {} : JSON.parse(text);
        } catch (error) {
          return send(response, 400, errorBody(400, 'parse_exception', (error as Error).message));
        }
        createIndex(first, body);
        return send(response, 200, { acknowledged: true, shards_acknowledged: true, index: first });
      }
      if (method === 'GET') return index ? send(response, 200, { [first]: { mappings: index.body?.mappings ?? {}, settings: {} } }) : missing();
    }
    if (segments.length === 2) {
      if (!index) return missing();
      if (second === '_refresh' && (method === 'POST' || method === 'GET')) {
        index.refreshes++;
        return send(response, 200, { _shards: { total: 2, successful: 1, failed: 0 } });
      }
      if (second === '_count' && (method === 'GET' || method === 'POST')) {
        return send(response, 200, { count: index.docs.size, _shards: { total: 1, successful: 1, skipped: 0, failed: 0 } });
      }
      if (second === '_mapping' && method === 'GET') return send(response, 200, { [first]: { mappings: index.body?.mappings ?? {} } });
    }
    return send(response, 405, errorBody(405, 'illegal_argument_exception', `Incorrect HTTP method for uri [${url.pathname}] and method [${method}]`));
  }

  const peer: OpenSearchPeer = {
    url: '',
    indices,
    bulks,
    log,
    faults,
    onBulk: undefined,
    createIndex: (name, body) => createIndex(name, body),
    reset: () => {
      indices.clear();
      bulks.length = 0;
      log.length = 0;
      Object.assign(faults, { throttle: 0, unavailable: 0 });
      for (const set of [faults.permanent, faults.rejected, faults.hidden, faults.refuseCreate]) set.clear();
      peer.onBulk = undefined;
    },
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
  const onBulkHook = async (n: number) => {
    await peer.onBulk?.(n);
  };

  const server = createServer((request, response) => {
    handle(request, response)
      .then((status) => log.push(`${request.method} ${request.url} ${status}`))
      .catch((error: unknown) => {
        log.push(`${request.method} ${request.url} 500`);
        if (!response.headersSent) send(response, 500, errorBody(500, 'exception', String(error)));
        else response.destroy();
      });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return Object.assign(peer, { url: `http://127.0.0.1:${port}` });
}
