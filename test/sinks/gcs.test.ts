/**
 * The GCS sink, driven through the HTTP API with the real @google-cloud/storage client against
 * the JSON-API test endpoint (test/support/gcs-server.ts). What arrived in the bucket is
 * compared, byte for byte and parsed back, with what GET serves for the same world.
 */
import { gunzipSync } from 'node:zlib';
import { Storage } from '@google-cloud/storage';
import type { FastifyInstance } from 'fastify';
import t from 'tap';
import { ENTITIES, type EntityName } from '../../src/generators/registry.js';
import { GCS_UPLOAD, objectName, objectTimestamp, type ObjectReport } from '../../src/sinks/gcs.js';
import { testApp } from '../support/app.js';
import { crc32c, crc32cBase64 } from '../support/crc32c.js';
import { CHUNK_GRANULARITY, startGcsServer, type GcsTestServer, type StoredObject } from '../support/gcs-server.js';
import { parseRecords } from '../support/parse.js';
import { closedPort, type EntityProgressJson, type JobJson as SinkJobJson } from '../support/jobs.js';

// Small chunks, so a 3,000-user CSV (~760 KiB) is a three-request resumable upload; one retry
// per upload, 1 s after the error (the client's floor for the session request).
GCS_UPLOAD.chunkSize = CHUNK_GRANULARITY;
GCS_UPLOAD.maxRetryDelaySeconds = 1;
GCS_UPLOAD.maxRetries = 1;

type Test = Parameters<Parameters<typeof t.test>[0]>[0];

const BUCKET = 'ecomgen-test';
const WORLD = { seed: 7, users: 50, orders: 100 };
const WORLD_QUERY = 'seed=7&users=50&orders=100';
/** A world whose users CSV spans three chunks. */
const BIG = { seed: 11, users: 3000 };
const BIG_QUERY = 'seed=11&users=3000';

interface EntityJson extends EntityProgressJson {
  uri?: string;
  crc32c?: string;
  generation?: string;
  content_type?: string;
  bytes_streamed?: number;
  uncompressed_bytes?: number;
}

type ObjectJson = ObjectReport;

type JobJson = SinkJobJson<EntityJson, { bucket?: string; prefix?: string; format?: string; gzip?: boolean; timestamp?: string; objects?: ObjectJson[] }>;

async function setup(t: Test): Promise<{ app: FastifyInstance; server: GcsTestServer }> {
  const server = await startGcsServer(t, [BUCKET]);
  const app = await testApp(t, { sinks: { gcs: { bucket: BUCKET, projectId: 'ecomgen-test', apiEndpoint: server.url } } });
  return { app, server };
}

async function push(app: FastifyInstance, body: Record<string, unknown>): Promise<JobJson> {
  const response = await app.inject({ method: 'POST', url: '/api/v1/sinks/gcs?wait=true', payload: body });
  if (response.statusCode !== 200) throw new Error(`POST answered ${response.statusCode}: ${response.body}`);
  return response.json() as JobJson;
}

/** The body GET serves for a whole entity of a world, in a format. */
async function served(app: FastifyInstance, query: string, entity: EntityName, format: string): Promise<{ body: string; total: number }> {
  const first = await app.inject(`/api/v1/${entity}?${query}&limit=1`);
  const total = Number(first.headers['x-total-count']);
  const response = await app.inject(`/api/v1/${entity}?${query}&format=${format}&limit=${total}`);
  return { body: response.body, total };
}

const entityOf = (job: JobJson, entity: EntityName): EntityJson => {
  const found = job.entities.find((e) => e.entity === entity);
  if (!found) throw new Error(`no ${entity} in the job`);
  return found;
};

/** The object an entity was written to (the one object under its folder). */
function objectOf(server: GcsTestServer, prefix: string, entity: EntityName): StoredObject | undefined {
  const found = server.list(BUCKET, `${prefix}/${entity.replaceAll('/', '-')}/`);
  if (found.length > 1) throw new Error(`${found.length} objects for ${entity}`);
  return found[0];
}

/** `20250314T092653Z` back to its instant. */
const dateOf = (timestamp: string) => new Date(timestamp.replace(/^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/, '$1-$2-$3T$4:$5:$6Z'));
const stem = (entity: string) => entity.replaceAll('/', '-');
const escape = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');


t.test('csv by default: one object per entity, named by prefix, entity, job time and seed, with the bytes GET serves', async (t) => {
  const { app, server } = await setup(t);
  const entities: EntityName[] = ['customer-segments', 'users', 'orders', 'order-items', 'analytics/users'];
  const job = await push(app, { ...WORLD, entities });

  t.equal(job.state, 'succeeded', 'the job succeeded');
  t.same(job.errors, [], 'no errors');
  t.same(job.entities.map((e) => e.entity), entities, 'entities in dependency order');
  const timestamp = job.result.timestamp as string;
  t.match(timestamp, /^\d{8}T\d{6}Z$/, 'one UTC timestamp for the job, yyyyMMddTHHmmssZ');
  const created = objectTimestamp(new Date(job.created_at));
  const finished = objectTimestamp(new Date(job.finished_at as string));
  t.ok(timestamp >= created && timestamp <= finished, `the timestamp ${timestamp} is the job's start (${created}..${finished})`);
  t.same([job.result.bucket, job.result.prefix, job.result.format, job.result.gzip], [BUCKET, 'ecomgen', 'csv', false], 'result: bucket, default prefix, csv, no gzip');

  let records = 0;
  let bytes = 0;
  for (const entity of entities) {
    const stored = objectOf(server, 'ecomgen', entity);
    const progress = entityOf(job, entity);
    const { body, total } = await served(app, WORLD_QUERY, entity, 'csv');
    if (!t.ok(stored, `${entity}: an object`) || !stored) continue;
    t.match(stored.name, new RegExp(`^ecomgen/${escape(stem(entity))}/${escape(stem(entity))}_${timestamp}_seed7\\.csv$`), `${entity}: named ${stored.name}`);
    t.equal(stored.name, objectName('ecomgen', entity, dateOf(timestamp), 7, 'csv', false), `${entity}: the name objectName documents`);
    t.equal(stored.data.toString('utf8'), body, `${entity}: the object is byte for byte GET ?format=csv&limit=${total}`);
    const parsed = parseRecords('csv', stored.data.toString('utf8'), ENTITIES[entity].schema, ENTITIES[entity].xml.item);
    const json = (await app.inject(`/api/v1/${entity}?${WORLD_QUERY}&limit=${total}`)).json() as Record<string, unknown>[];
    t.same(parsed, json, `${entity}: parsed back, the same ${total} records as GET json, in order`);
    t.same([stored.contentType, stored.contentEncoding], ['text/csv; charset=utf-8', undefined], `${entity}: text/csv, no content encoding`);
    t.same(
      [stored.metadata['ecomgen-entity'], stored.metadata['ecomgen-seed'], stored.metadata['ecomgen-records'], stored.metadata['ecomgen-job']],
      [entity, '7', String(total), job.id],
      `${entity}: custom metadata says what the object holds`,
    );
    const uri = `gs://${BUCKET}/${stored.name}`;
    const crc = crc32cBase64(crc32c(stored.data));
    t.same(
      [progress.state, progress.planned, progress.records, progress.failed, progress.bytes, progress.destination, progress.uri],
      ['done', total, total, 0, stored.data.length, uri, uri],
      `${entity}: done, ${total} records, ${stored.data.length} bytes, at ${uri}`,
    );
    t.same([progress.crc32c, progress.generation, progress.bytes_streamed], [crc, stored.generation, stored.data.length], `${entity}: crc32c and generation of the stored object`);
    const listed = job.result.objects?.find((o) => o.entity === entity);
    t.same(listed, { entity, uri, records: total, bytes: stored.data.length, crc32c: crc, md5_hash: stored.md5Hash, generation: stored.generation, content_type: 'text/csv; charset=utf-8' }, `${entity}: listed in result.objects with the crc32c of the stored bytes`);
    records += total;
    bytes += stored.data.length;
  }
  t.equal(server.objects.size, entities.length, 'nothing else was written');
  t.same([job.records, job.bytes, job.failed], [records, bytes, 0], 'the job totals add up the entities');
  const stats = (await app.inject('/api/v1/stats')).json() as { sinks: { gcs: { records: number; bytes: number; failed: number; jobs: { total: number; succeeded: number } } } };
  t.same([stats.sinks.gcs.records, stats.sinks.gcs.bytes, stats.sinks.gcs.failed, stats.sinks.gcs.jobs.total, stats.sinks.gcs.jobs.succeeded], [records, bytes, 0, 1, 1], 'the statistics add up');

  const sessions = server.requests.filter((r) => r.method === 'POST');
  t.ok(sessions.every((r) => r.query.uploadType === 'resumable' && r.query.ifGenerationMatch === '0'), 'every object is a resumable upload that may only create (ifGenerationMatch=0)');
  const finals = server.requests.filter((r) => r.method === 'PUT' && r.status === 200);
  t.equal(finals.length, entities.length, 'one finalizing chunk per object');

  // The endpoint serves what it stored to the same client (download with crc32c validation).
  const users = objectOf(server, 'ecomgen', 'users') as StoredObject;
  const [downloaded] = await new Storage({ apiEndpoint: server.url, projectId: 'ecomgen-test' }).bucket(BUCKET).file(users.name).download();
  t.ok(downloaded.equals(users.data), 'the client downloads the same bytes back');
});

t.test('ndjson, json and xml objects hold the bytes GET serves in that format', async (t) => {
  const { app, server } = await setup(t);
  const entities: EntityName[] = ['users', 'orders'];
  const types = { ndjson: 'application/x-ndjson; charset=utf-8', json: 'application/json; charset=utf-8', xml: 'application/xml; charset=utf-8' };
  for (const format of ['ndjson', 'json', 'xml'] as const) {
    const prefix = `formats/${format}`;
    const job = await push(app, { ...WORLD, entities, prefix, format });
    t.equal(job.state, 'succeeded', `${format}: succeeded`);
    for (const entity of entities) {
      const stored = objectOf(server, prefix, entity);
      const { body, total } = await served(app, WORLD_QUERY, entity, format);
      if (!t.ok(stored, `${format} ${entity}: an object`) || !stored) continue;
      t.match(stored.name, new RegExp(`^${prefix}/${entity}/${entity}_${job.result.timestamp}_seed7\\.${format}$`), `${format} ${entity}: .${format} name under the prefix`);
      t.equal(stored.data.toString('utf8'), body, `${format} ${entity}: byte for byte GET ?format=${format}`);
      t.equal(stored.contentType, types[format], `${format} ${entity}: ${types[format]}`);
      const parsed = parseRecords(format, stored.data.toString('utf8'), ENTITIES[entity].schema, ENTITIES[entity].xml.item);
      const json = (await app.inject(`/api/v1/${entity}?${WORLD_QUERY}&limit=${total}`)).json() as Record<string, unknown>[];
      t.same(parsed, json, `${format} ${entity}: parsed back, the ${total} GET records in order`);
      if (format === 'ndjson') {
        t.same(stored.data.toString('utf8').split('\n').filter((l) => l !== ''), json.map((r) => JSON.stringify(r)), `ndjson ${entity}: each line is JSON.stringify of the GET record`);
      }
      t.same([entityOf(job, entity).records, entityOf(job, entity).bytes], [total, stored.data.length], `${format} ${entity}: counted`);
    }
  }
});

t.test('gzip: a .gz object, application/gzip without Content-Encoding, that gunzips to the GET body', async (t) => {
  const { app, server } = await setup(t);
  const entities: EntityName[] = ['users', 'orders'];
  const job = await push(app, { ...WORLD, entities, format: 'ndjson', gzip: true });
  t.equal(job.state, 'succeeded');
  for (const entity of entities) {
    const stored = objectOf(server, 'ecomgen', entity);
    const { body, total } = await served(app, WORLD_QUERY, entity, 'ndjson');
    if (!t.ok(stored, `${entity}: an object`) || !stored) continue;
    t.match(stored.name, new RegExp(`^ecomgen/${entity}/${entity}_\\d{8}T\\d{6}Z_seed7\\.ndjson\\.gz$`), `${entity}: .ndjson.gz`);
    t.same([stored.contentType, stored.contentEncoding], ['application/gzip', undefined], `${entity}: application/gzip, stored as is`);
    t.equal(gunzipSync(stored.data).toString('utf8'), body, `${entity}: gunzipped, byte for byte GET ?format=ndjson`);
    const progress = entityOf(job, entity);
    t.same(
      [progress.records, progress.bytes, progress.uncompressed_bytes, progress.crc32c],
      [total, stored.data.length, Buffer.byteLength(body), crc32cBase64(crc32c(stored.data))],
      `${entity}: bytes are the stored (compressed) size, uncompressed_bytes the GET size, crc32c of the stored bytes`,
    );
    t.ok(stored.data.length < Buffer.byteLength(body) / 2, `${entity}: compressed (${stored.data.length} of ${Buffer.byteLength(body)} bytes)`);
  }
});

t.test('no records (offset at the end): the few bytes of an empty file go in one multipart request', async (t) => {
  const { app, server } = await setup(t);
  for (const format of ['ndjson', 'csv'] as const) {
    const prefix = `empty/${format}`;
    const job = await push(app, { ...WORLD, entity: 'users', offset: 50, format, prefix });
    const stored = objectOf(server, prefix, 'users');
    const body = (await app.inject(`/api/v1/users?${WORLD_QUERY}&offset=50&format=${format}`)).body;
    t.equal(job.state, 'succeeded', `${format}: succeeded`);
    t.same([entityOf(job, 'users').planned, entityOf(job, 'users').records], [0, 0], `${format}: nothing planned, nothing counted`);
    t.equal(stored?.data.toString('utf8'), body, `${format}: the object is what GET serves past the end (${JSON.stringify(body)})`);
    t.equal(stored?.uploadType, 'multipart', `${format}: one multipart request`);
  }
});

t.test('a resumable upload spans several chunks; a 503 on a middle chunk and on the session are retried, the object is exact', async (t) => {
  const { app, server } = await setup(t);
  server.failNext('session', 1, 503);
  server.failNext('chunk', 1, 503, 1); // the second chunk
  const job = await push(app, { ...BIG, entity: 'users' });
  const { body, total } = await served(app, BIG_QUERY, 'users', 'csv');
  const stored = objectOf(server, 'ecomgen', 'users');

  t.equal(job.state, 'succeeded', 'the job succeeded despite the 503s');
  t.same(job.errors, [], 'retried errors are not job errors');
  if (!t.ok(stored, 'an object') || !stored) return;
  t.equal(stored.data.toString('utf8'), body, `byte for byte GET ?format=csv&limit=${total}`);
  const puts = server.requests.filter((r) => r.method === 'PUT' && r.bodyBytes > 0);
  t.same(puts.map((r) => r.status), [308, 503, 308, 200], 'chunks: 308, 503 (retried), 308, then 200 with the object');
  t.same(
    puts.map((r) => r.contentRange),
    [`bytes 0-${CHUNK_GRANULARITY - 1}/*`, `bytes ${CHUNK_GRANULARITY}-${2 * CHUNK_GRANULARITY - 1}/*`, `bytes ${CHUNK_GRANULARITY}-${2 * CHUNK_GRANULARITY - 1}/*`, `bytes ${2 * CHUNK_GRANULARITY}-${stored.data.length - 1}/${stored.data.length}`],
    'the failed chunk is sent again from where the endpoint said it stood',
  );
  t.same(server.requests.filter((r) => r.method === 'POST').map((r) => r.status), [503, 200], 'the session request was retried');
  t.ok(server.requests.some((r) => r.method === 'PUT' && r.contentRange === 'bytes */*' && r.status === 308), 'the client asked where the upload stood');
  const users = entityOf(job, 'users');
  t.same([users.records, users.bytes, users.failed, users.crc32c], [total, stored.data.length, 0, crc32cBase64(crc32c(stored.data))], 'counted once, with the crc32c of the stored bytes');
});

t.test('a 5xx that outlasts the retries fails that entity only: the job is partial and counts its records as failed', async (t) => {
  const { app, server } = await setup(t);
  server.failNext('chunk', GCS_UPLOAD.maxRetries + 1, 503);
  const job = await push(app, { ...WORLD, entities: ['customer-segments', 'users'] });
  const segments = entityOf(job, 'customer-segments');
  const users = entityOf(job, 'users');

  t.equal(job.state, 'partial', 'partial: one entity failed, the next was written');
  t.same([segments.state, segments.records, segments.failed], ['failed', 0, segments.planned], 'customer-segments failed, every planned record counted as failed');
  t.match(segments.error, /^gs:\/\/ecomgen-test\/ecomgen\/customer-segments\/.*: Retry limit exceeded - status: 503/, 'the error names the object and the 503');
  t.match(job.errors[0], /^customer-segments: gs:\/\//, 'the job error names the entity');
  t.equal(objectOf(server, 'ecomgen', 'customer-segments'), undefined, 'no customer-segments object');
  t.same([users.state, users.records, users.failed], ['done', 50, 0], 'users were written');
  t.same([job.records, job.failed], [50, segments.planned], 'totals: delivered and failed');
  const stats = (await app.inject('/api/v1/stats')).json() as { sinks: { gcs: { records: number; failed: number; jobs: { partial: number } } } };
  t.same([stats.sinks.gcs.records, stats.sinks.gcs.failed, stats.sinks.gcs.jobs.partial], [50, segments.planned, 1], 'the statistics count both');
});

t.test('a crc32c mismatch between what was sent and what was stored: the client deletes the object, the entity fails', async (t) => {
  const { app, server } = await setup(t);
  server.corruptNext(1);
  const job = await push(app, { ...WORLD, entities: ['customer-segments', 'users'] });
  const segments = entityOf(job, 'customer-segments');

  t.equal(job.state, 'partial', 'partial');
  t.same([segments.state, segments.records, segments.failed], ['failed', 0, segments.planned], 'customer-segments failed, its records counted as failed');
  t.match(segments.error, /did not match the data from the server/, "the client's integrity error");
  t.ok(server.requests.some((r) => r.method === 'DELETE' && r.path.startsWith(`/storage/v1/b/${BUCKET}/o/`)), 'the client deleted the corrupt object');
  t.equal(objectOf(server, 'ecomgen', 'customer-segments'), undefined, 'no customer-segments object is left');
  t.same([entityOf(job, 'users').state, entityOf(job, 'users').records], ['done', 50], 'the next entity was written');
  t.same(job.result.objects?.map((o) => o.entity), ['users'], 'result.objects lists only the stored object');
});

t.test('a 403 fails the entity with GCS\'s message and stops the job: the credentials would fail every object', async (t) => {
  const { app, server } = await setup(t);
  server.failNext('chunk', 1, 403, 2); // customer-segments' one chunk and users' first pass
  const job = await push(app, { ...BIG, entities: ['customer-segments', 'users', 'orders'] });
  const segments = entityOf(job, 'customer-segments');
  const users = entityOf(job, 'users');
  const orders = entityOf(job, 'orders');

  t.equal(job.state, 'failed', 'the job failed');
  t.same([segments.state, segments.records], ['done', segments.planned], 'customer-segments, written before, stays delivered');
  t.same([users.state, users.records, users.failed], ['failed', 0, users.planned], 'users failed: every planned record counted as failed');
  t.match(users.error, /does not have storage\.objects\.create access.*\(HTTP 403\)$/, "the entity error carries GCS's message and the status");
  t.match(job.errors[0], /^users: gs:\/\/ecomgen-test\/ecomgen\/users\/users_\d{8}T\d{6}Z_seed11\.csv: .*storage\.objects\.create/, 'the first job error names the entity and its object');
  t.equal(job.errors[1], `users: the credentials are missing or may not create objects in bucket ${BUCKET} (HTTP 403); the job stopped before the remaining entity`, 'then why the job stopped');
  t.same([orders.state, orders.records, orders.destination], ['failed', 0, null], 'orders were not attempted');
  t.equal(objectOf(server, 'ecomgen', 'users'), undefined, 'no users object');
  t.equal(objectOf(server, 'ecomgen', 'orders'), undefined, 'no orders object');
  t.equal([...server.sessions.values()].filter((s) => s.state === 'finalized').length, 1, 'only the customer-segments upload was finalized');
  t.same([job.records, job.failed], [segments.planned, users.planned], 'totals add up');
});

t.test('a bucket that does not exist fails the job, naming the bucket', async (t) => {
  const server = await startGcsServer(t, [BUCKET]);
  const app = await testApp(t, { sinks: { gcs: { bucket: 'no-such-bucket', apiEndpoint: server.url } } });
  const job = await push(app, { ...WORLD, entities: ['users', 'orders'] });
  t.equal(job.state, 'failed', 'failed');
  t.match(entityOf(job, 'users').error, /^gs:\/\/no-such-bucket\/ecomgen\/users\/.*: The specified bucket does not exist\. \(HTTP 404\)$/, "the entity error: the object and GCS's message");
  t.equal(job.errors.at(-1), 'users: bucket no-such-bucket does not exist (HTTP 404); the job stopped before the remaining entity', 'the job error names the bucket');
  t.equal(server.objects.size, 0, 'nothing written');
});

t.test('bad prefix or format: 400 naming the field, nothing sent', async (t) => {
  const { app, server } = await setup(t);
  const cases: [Record<string, unknown>, RegExp][] = [
    [{ prefix: '/abs' }, /^prefix: must not start or end with '\/'/],
    [{ prefix: 'raw/' }, /^prefix: must not start or end with '\/'/],
    [{ prefix: 'raw//shop' }, /^prefix: must not contain an empty segment/],
    [{ prefix: 'raw/../shop' }, /^prefix: must not contain a '\.\.' segment/],
    [{ prefix: '.' }, /^prefix: must not contain a '\.' segment/],
    [{ prefix: 'raw shop' }, /^prefix: must match pattern/],
    [{ prefix: 'raw/ümlaut' }, /^prefix: must match pattern/],
    [{ prefix: '' }, /^prefix: must NOT have fewer than 1 characters/],
    [{ prefix: 'p'.repeat(513) }, /^prefix: must NOT have more than 512 characters/],
    [{ format: 'yaml' }, /^format: must be one of csv, ndjson, json, xml, parquet/],
    [{ format: 'bulk' }, /^format: must be one of csv, ndjson, json, xml/],
    [{ gzip: 'yes' }, /^gzip: must be boolean/],
    [{ bucket: 'elsewhere' }, /^bucket: unknown body field/],
  ];
  for (const [options, message] of cases) {
    const response = await app.inject({ method: 'POST', url: '/api/v1/sinks/gcs', payload: { ...WORLD, ...options } });
    t.equal(response.statusCode, 400, `${JSON.stringify(options)}: 400`);
    t.match((response.json() as { message: string }).message, message, `${JSON.stringify(options)}: ${(response.json() as { message: string }).message}`);
  }
  const ok = await push(app, { ...WORLD, entity: 'customer-segments', prefix: 'raw.v1/shop_eu-west/2025' });
  t.equal(ok.state, 'succeeded', 'a prefix of several segments with . _ - is fine');
  t.match(objectOf(server, 'raw.v1/shop_eu-west/2025', 'customer-segments')?.name ?? '', /^raw\.v1\/shop_eu-west\/2025\/customer-segments\//, 'and is used as given');
  t.equal(server.requests.filter((r) => r.method === 'POST').length, 1, 'only the valid request reached the bucket');
});

t.test('not configured: 409 naming GCS_BUCKET', async (t) => {
  const app = await testApp(t);
  const response = await app.inject({ method: 'POST', url: '/api/v1/sinks/gcs', payload: WORLD });
  t.equal(response.statusCode, 409);
  t.match((response.json() as { message: string }).message, 'set GCS_BUCKET (or BATCH_BUCKET)');
});

t.test('an unreachable endpoint fails the job with a clear error', async (t) => {
  const port = await closedPort();
  const app = await testApp(t, { sinks: { gcs: { bucket: BUCKET, apiEndpoint: `http://127.0.0.1:${port}` } } });
  const job = await push(app, { ...WORLD, entities: ['users', 'orders'] });
  const users = entityOf(job, 'users');

  t.equal(job.state, 'failed', 'failed');
  t.same([users.state, users.records, users.failed], ['failed', 0, 50], 'the first entity failed, its records counted');
  t.match(users.error, /ECONNREFUSED/, 'its error says the connection was refused');
  t.equal(job.errors.at(-1), `users: cannot reach http://127.0.0.1:${port} (ECONNREFUSED); the job stopped before the remaining entity`, 'the job error names the endpoint');
  t.same([entityOf(job, 'orders').state, entityOf(job, 'orders').records], ['failed', 0], 'orders were not attempted');
  const stats = (await app.inject('/api/v1/stats')).json() as { sinks: { gcs: { jobs: { failed: number }; failed: number } } };
  t.same([stats.sinks.gcs.jobs.failed, stats.sinks.gcs.failed], [1, 50], 'statistics: one failed job, 50 failed records');
});

t.test('cancel mid-upload: the job is cancelled, the session closed, and no object is finalized for that entity', async (t) => {
  const { app, server } = await setup(t);
  const held = server.holdNextChunk(2); // customer-segments' chunk, users' first, then hold the second
  const started = await app.inject({ method: 'POST', url: '/api/v1/sinks/gcs', payload: { ...BIG, entities: ['customer-segments', 'users', 'orders'] } });
  t.equal(started.statusCode, 202, '202: the job runs');
  const id = (started.json() as JobJson).id;
  await held.arrived;

  const live = (await app.inject(`/api/v1/jobs/${id}`)).json() as JobJson;
  const liveUsers = entityOf(live, 'users');
  t.same([live.state, liveUsers.state, liveUsers.records], ['running', 'running', 0], 'while the chunk is in flight: running, nothing counted yet');
  t.ok((liveUsers.bytes_streamed ?? 0) >= 2 * CHUNK_GRANULARITY, `bytes_streamed shows the upload moving (${liveUsers.bytes_streamed})`);

  const cancelled = await app.inject({ method: 'DELETE', url: `/api/v1/jobs/${id}` });
  const job = cancelled.json() as JobJson;
  t.equal(cancelled.statusCode, 200, 'DELETE answers when the job has stopped');
  t.equal(job.state, 'cancelled', 'cancelled');
  t.same([entityOf(job, 'customer-segments').state, entityOf(job, 'customer-segments').records], ['done', 6], 'the entity written before stays delivered');
  t.same([entityOf(job, 'users').state, entityOf(job, 'users').records, entityOf(job, 'users').failed], ['cancelled', 0, 0], 'users: cancelled, nothing delivered, nothing failed');
  t.same([entityOf(job, 'orders').state, entityOf(job, 'orders').destination], ['cancelled', null], 'orders were not started');
  t.same(job.result.objects?.map((o) => o.entity), ['customer-segments'], 'result.objects lists only what was stored');

  held.release();
  t.equal(await held.answered, 499, 'the held chunk, released, is refused: the session was cancelled');
  const session = [...server.sessions.values()].find((s) => s.name.startsWith('ecomgen/users/'));
  t.equal(session?.state, 'cancelled', 'the users upload session is closed');
  t.equal(objectOf(server, 'ecomgen', 'users'), undefined, 'no users object');
  t.equal(server.objects.size, 1, 'only customer-segments is in the bucket');
  const stats = (await app.inject('/api/v1/stats')).json() as { sinks: { gcs: { records: number; jobs: { cancelled: number } } } };
  t.same([stats.sinks.gcs.records, stats.sinks.gcs.jobs.cancelled], [6, 1], 'statistics: 6 records, one cancelled job');
});

t.test('a destination that stops answering mid-upload: the stall timeout fails the job naming it, closes the session, stores nothing', async (t) => {
  const server = await startGcsServer(t, [BUCKET]);
  const app = await testApp(t, { sinks: { gcs: { bucket: BUCKET, projectId: 'ecomgen-test', apiEndpoint: server.url, stallTimeoutMs: 400 } } });
  const held = server.holdNextChunk(1); // users' first chunk goes through, the second is never answered
  const job = await push(app, { ...BIG, entities: ['users', 'orders'] });
  await held.arrived;
  const users = entityOf(job, 'users');
  t.equal(job.state, 'failed', 'the job fails: the next entity would stall the same way');
  t.equal(users.state, 'failed', 'users failed');
  t.match(users.error ?? '', /accepted no bytes for 0\.4 s \(GCS_STALL_TIMEOUT_MS\)/, `users names the stall: ${users.error}`);
  t.same([users.records, users.failed], [0, 3000], 'nothing delivered, every record counted as failed');
  t.same([entityOf(job, 'orders').state, entityOf(job, 'orders').records, entityOf(job, 'orders').destination], ['failed', 0, null], 'orders were not attempted');
  t.match(job.errors.at(-1) ?? '', /GCS accepted no bytes.*; the job stopped before the remaining entity$/, 'the job says why it stopped');
  const session = [...server.sessions.values()].find((s) => s.name.startsWith('ecomgen/users/'));
  t.equal(session?.state, 'cancelled', 'the users upload session is closed');
  held.release();
  t.equal(await held.answered, 499, 'the held chunk, released late, is refused');
  t.equal(server.objects.size, 0, 'no object in the bucket');
});

t.test('parquet: a large file is encoded on a render thread, byte for byte the file GET encodes on the main thread', async (t) => {
  // An app without render threads encodes on its main thread (the reference bytes); one with
  // threads hands a file of more than 4,096 rows to a worker (a row group encoded here held the
  // event loop for up to ~1.5 s).
  const server = await startGcsServer(t, [BUCKET]);
  const gcs = { bucket: BUCKET, projectId: 'ecomgen-test', apiEndpoint: server.url };
  const pooled = await testApp(t, { sinks: { gcs }, renderThreads: 1 });
  const plain = await testApp(t, { sinks: { gcs } });
  const pool = (pooled as unknown as { renderPool: { openChannels: number; openChannel: (...args: unknown[]) => unknown } }).renderPool;
  const opened: unknown[] = [];
  const open = pool.openChannel.bind(pool);
  pool.openChannel = (...args: unknown[]) => {
    opened.push(args[1]);
    return open(...args);
  };
  const world = { seed: 12, users: 6000, orders: 5000 };
  const job = await push(pooled, { ...world, entities: ['users', 'orders'], prefix: 'pq', format: 'parquet' });
  t.equal(job.state, 'succeeded');
  for (const entity of ['users', 'orders'] as const) {
    const stored = objectOf(server, 'pq', entity);
    const total = entity === 'users' ? 6000 : 5000;
    const reference = await plain.inject(`/api/v1/${entity}?seed=12&users=6000&orders=5000&limit=${total}&format=parquet`);
    if (!t.ok(stored, `${entity}: an object`) || !stored) continue;
    t.equal(reference.statusCode, 200);
    t.ok(stored.data.equals(reference.rawPayload), `${entity}: ${stored.data.length} bytes, the same as GET on the main thread (${reference.rawPayload.length})`);
    t.same([entityOf(job, entity).records, entityOf(job, entity).bytes], [total, stored.data.length], `${entity}: counted`);
  }
  t.same(
    opened.map((o) => (o as { kind: string; entity: string }).entity),
    ['users', 'orders'],
    'one parquet channel to a render thread per entity',
  );
  t.equal(pool.openChannels, 0, 'the channels are closed');
});
