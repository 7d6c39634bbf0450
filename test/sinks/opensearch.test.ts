import { Client } from '@opensearch-project/opensearch';
import type { FastifyInstance } from 'fastify';
import t from 'tap';
import { ENTITIES, ENTITY_NAMES, type EntityName } from '../../src/generators/registry.js';
import { indexMappingOf } from '../../src/schemas/mapping.js';
import { defaultIndexOf } from '../../src/sinks/opensearch.js';
import { testApp } from '../support/app.js';
import { PEER_VERSION, startOpenSearchPeer, type OpenSearchPeer } from '../support/opensearch-server.js';
import { closedPort, type EntityProgressJson, type JobJson as SinkJobJson } from '../support/jobs.js';

const SEED = 4242;
const SMALL = { users: 50, orders: 100 };
const AUTH = { username: 'ingest', password: 's3cret' };

interface EntityJson extends EntityProgressJson {
  index?: string;
  created?: boolean;
  chunks?: number;
  retried_documents?: number;
  retried_requests?: number;
  refreshed?: boolean;
}

type JobJson = SinkJobJson<EntityJson, { cluster?: { url: string; name: string | null; version: string | null } }>;

// One peer and one app for the file (building the app is the slow part); each test starts
// them afresh: no index, request, fault or statistic of another test is seen.
const peer: OpenSearchPeer = await startOpenSearchPeer({ auth: AUTH });
t.teardown(() => peer.close());
const app: FastifyInstance = await testApp(t, { sinks: { opensearch: { node: peer.url, auth: AUTH } } });
t.beforeEach(async () => {
  peer.reset();
  await app.inject({ method: 'DELETE', url: '/api/v1/stats' });
});

async function push(body: Record<string, unknown>, to: FastifyInstance = app): Promise<JobJson> {
  const response = await to.inject({ method: 'POST', url: '/api/v1/sinks/opensearch?wait=true', payload: body });
  if (response.statusCode !== 200) throw new Error(`POST answered ${response.statusCode}: ${response.body}`);
  return response.json();
}

async function text(url: string): Promise<string> {
  const response = await app.inject({ method: 'GET', url });
  if (response.statusCode !== 200) throw new Error(`GET ${url} answered ${response.statusCode}: ${response.body}`);
  return response.body;
}

const linesOf = (ndjson: string) => ndjson.split('\n').filter((l) => l !== '');
const query = (params: Record<string, string | number>) => new URLSearchParams(Object.entries(params).map(([k, v]): [string, string] => [k, String(v)])).toString();

/** Records of an entity as GET serves them, with their ids, raw NDJSON lines and bulk pieces. */
async function served(entity: EntityName, params: Record<string, string | number>, index: string) {
  const ndjson = linesOf(await text(`/api/v1/${entity}?${query({ ...params, format: 'ndjson' })}`));
  const records = ndjson.map((l) => JSON.parse(l) as Record<string, unknown>);
  const ids = records.map((r) => String(r[ENTITIES[entity].primaryKey]));
  // format=bulk exists only where the registry opts in; the sink writes the same pairs for every entity.
  const pieces = ndjson.map((line, k) => `{"index":{"_index":${JSON.stringify(index)},"_id":${JSON.stringify(ids[k])}}}\n${line}\n`);
  return { ndjson, records, ids, pieces };
}

const entityOf = (job: JobJson, entity: string) => job.entities.find((e) => e.entity === entity) as EntityJson;
const bytesOf = (pieces: readonly string[]) => pieces.reduce((sum, p) => sum + Buffer.byteLength(p), 0);

t.test('performance-events: its index, created with its mapping, holds exactly the GET records', async (t) => {
  const params = { seed: SEED, days: 1, base_tps: 0.5, limit: 450 };
  const job = await push({ entity: 'performance-events', ...params, chunk_size: 200, refresh: true });

  t.equal(job.state, 'succeeded');
  t.same(job.errors, []);
  t.equal(job.records, 450);
  t.equal(job.failed, 0);
  const progress = entityOf(job, 'performance-events');
  t.match(progress, { state: 'done', destination: 'ecommerce_performance_demo', index: 'ecommerce_performance_demo', created: true, planned: 450, records: 450, failed: 0, chunks: 3, refreshed: true, retried_documents: 0, retried_requests: 0 });
  t.same(job.result.cluster, { url: peer.url, name: 'ecomgen-test-peer', version: PEER_VERSION, distribution: 'opensearch' });

  const index = peer.indices.get('ecommerce_performance_demo');
  if (!index) throw new Error('no index');
  t.equal(index.createdBy, 'put', 'created by the sink with a mapping, not auto-created by a bulk request');
  t.same(index.body, JSON.parse(await text('/api/v1/performance-events/mapping')), 'the mapping is the one GET /performance-events/mapping serves');
  t.equal(index.refreshes, 1);

  // The bulk bodies are the bytes of GET ?format=bulk, in order.
  const bulk = await text(`/api/v1/performance-events?${query({ ...params, format: 'bulk', index: 'ecommerce_performance_demo' })}`);
  t.equal(peer.bulks.length, 3);
  t.equal(peer.bulks.map((b) => b.body).join(''), bulk, 'bulk bodies = GET format=bulk');
  t.ok(peer.bulks.every((b) => b.method === 'POST' && b.path === '/_bulk' && b.contentType === 'application/x-ndjson'));
  t.equal(job.bytes, Buffer.byteLength(bulk), 'bytes = the bulk bytes delivered');

  const { ndjson, records, ids } = await served('performance-events', params, 'ecommerce_performance_demo');
  t.equal(ndjson.length, 450);
  t.ok(records.every((r, k) => JSON.stringify(r) === ndjson[k]), 'JSON.stringify of each record is its NDJSON line');
  const sources = linesOf(bulk).filter((_, k) => k % 2 === 1);
  t.same(sources, ndjson, 'each source line is the NDJSON line of its record');
  t.same([...index.docs.keys()], ids, '_id = event_id, in GET order');
  t.same([...index.docs.values()], records, 'documents = GET records');
  t.ok([...index.versions.values()].every((v) => v === 1), 'each document indexed once');
  const log = peer.log.filter((l) => !l.startsWith('POST /_bulk'));
  t.same(log, ['GET / 200', 'HEAD /ecommerce_performance_demo 404', 'PUT /ecommerce_performance_demo 200', 'GET /ecommerce_performance_demo/_refresh 200']);
});

t.test('no entity named: the whole performance-events population goes to ecommerce_performance_demo', async (t) => {
  const params = { seed: SEED, days: 1, base_tps: 0.01 };
  const total = Number((await app.inject({ method: 'GET', url: `/api/v1/performance-events?${query({ ...params, limit: 1 })}` })).headers['x-total-count']);
  t.ok(total > 1000, `population ${total}`);
  const job = await push(params);
  t.equal(job.state, 'succeeded');
  t.same(job.entities.map((e) => e.entity), ['performance-events']);
  t.match(entityOf(job, 'performance-events'), { planned: total, records: total, failed: 0, chunks: Math.ceil(total / 1000), refreshed: undefined });
  t.equal(peer.indices.get('ecommerce_performance_demo')?.docs.size, total);
  t.equal(peer.bulks.length, Math.ceil(total / 1000), 'default chunk_size 1000');
});

t.test('other entities: ecomgen-<entity> indices with mappings derived from their schemas', async (t) => {
  const job = await push({ seed: SEED, ...SMALL, entities: ['orders', 'users'], chunk_size: 40 });
  t.equal(job.state, 'succeeded');
  t.same(job.entities.map((e) => [e.entity, e.destination, e.records, e.chunks]), [
    ['users', 'ecomgen-users', 50, 2],
    ['orders', 'ecomgen-orders', 100, 3],
  ], 'dependency order, default names, chunks of 40');
  for (const entity of ['users', 'orders'] as const) {
    const index = peer.indices.get(`ecomgen-${entity}`);
    if (!index) throw new Error(`no index for ${entity}`);
    t.same(index.body, indexMappingOf(ENTITIES[entity].schema), `${entity}: mapping from the schema`);
    const { records, ids, pieces } = await served(entity, { seed: SEED, ...SMALL, limit: 1000 }, `ecomgen-${entity}`);
    t.same([...index.docs.keys()], ids, `${entity}: _id = ${ENTITIES[entity].primaryKey}, in order`);
    t.same([...index.docs.values()], records, `${entity}: documents = GET records`);
    t.equal(entityOf(job, entity).bytes, bytesOf(pieces), `${entity}: bytes of its action and source lines`);
  }

  // index_prefix goes before each default name; index names one index for one entity.
  const prefixed = await push({ seed: SEED, ...SMALL, entities: ['users'], index_prefix: 'qa-' });
  t.equal(entityOf(prefixed, 'users').destination, 'qa-ecomgen-users');
  t.equal(peer.indices.get('qa-ecomgen-users')?.docs.size, 50);
  const named = await push({ seed: SEED, ...SMALL, entity: 'orders', offset: 10, limit: 5, index: 'shop.orders_v2' });
  t.equal(entityOf(named, 'orders').destination, 'shop.orders_v2');
  const { ids } = await served('orders', { seed: SEED, ...SMALL, offset: 10, limit: 5 }, 'shop.orders_v2');
  t.same([...(peer.indices.get('shop.orders_v2')?.docs.keys() ?? [])], ids, 'offset and limit select the same records as GET');

  // Re-running a world overwrites the same documents: nothing new, the index reused.
  const again = await push({ seed: SEED, ...SMALL, entities: ['users'] });
  t.match(entityOf(again, 'users'), { created: false, records: 50 });
  const users = peer.indices.get('ecomgen-users');
  t.equal(users?.docs.size, 50);
  t.ok([...(users?.versions.values() ?? [])].every((v) => v === 2), 'each user written twice, same _id');
});

t.test('every entity of the registry: its mapping builds and its documents fit it', async (t) => {
  for (const entity of ENTITY_NAMES) t.doesNotThrow(() => indexMappingOf(ENTITIES[entity].schema), `${entity}: mapping builds`);
  const world = { seed: SEED, scale: 0.01, ...SMALL };
  const job = await push({ ...world, entities: ENTITY_NAMES, days: 1, base_tps: 0.01, chunk_size: 500 });
  t.equal(job.state, 'succeeded', 'the strict-mapping peer refused no document');
  t.same(job.errors, []);
  t.equal(job.failed, 0);
  for (const entity of ENTITY_NAMES) {
    const params = entity === 'performance-events' ? { ...world, days: 1, base_tps: 0.01 } : world;
    const total = Number((await app.inject({ method: 'GET', url: `/api/v1/${entity}?${query({ ...params, limit: 1 })}` })).headers['x-total-count']);
    const index = peer.indices.get(defaultIndexOf(entity));
    t.equal(index?.createdBy, 'put', `${entity}: index created with its mapping`);
    t.same(index?.body, indexMappingOf(ENTITIES[entity].schema), `${entity}: mapping`);
    t.equal(index?.docs.size, total, `${entity}: ${total} documents`);
    t.equal(entityOf(job, entity).records, total);
  }
  t.equal(peer.indices.get('ecomgen-analytics-users')?.docs.size, 50, "'/' becomes '-' in index names");

  // The peer's mapping check is live: a document with an unknown field is refused.
  const client = new Client({ node: peer.url, auth: AUTH });
  t.teardown(() => client.close());
  const response = await client.bulk({ body: [{ index: { _index: 'ecomgen-users', _id: 'x' } }, { user_id: 'x', nickname: 'y' }] });
  t.match(response.body.items[0]?.index, { status: 400, error: { type: 'strict_dynamic_mapping_exception' } });
});

t.test('documents rejected with 429 are re-sent until indexed, each exactly once', async (t) => {
  const { ids, records, pieces } = await served('orders', { seed: SEED, ...SMALL, limit: 1000 }, 'ecomgen-orders');
  const rejected = ids.filter((_, k) => k % 7 === 3);
  for (const id of rejected) peer.faults.rejected.set(id, 2);
  const job = await push({ seed: SEED, ...SMALL, entity: 'orders', chunk_size: 50 });

  t.equal(job.state, 'succeeded');
  t.equal(job.records, 100);
  t.equal(job.failed, 0);
  t.equal(entityOf(job, 'orders').retried_documents, rejected.length * 2, 'each rejected document re-sent twice');
  t.equal(entityOf(job, 'orders').chunks, 2);
  const index = peer.indices.get('ecomgen-orders');
  t.equal(index?.docs.size, 100);
  t.ok([...(index?.versions.values() ?? [])].every((v) => v === 1), 'each order indexed exactly once');
  t.same(new Set(index?.docs.keys()), new Set(ids));
  t.same(ids.map((id) => index?.docs.get(id)), records, 'documents = GET records');
  // Two full chunks, and re-sends that carry only the rejected documents.
  const chunks = [0, 50].map((start) => pieces.slice(start, start + 50).join(''));
  const resent = peer.bulks.filter((b) => !chunks.includes(b.body));
  t.equal(peer.bulks.length - resent.length, 2);
  const resentIds = resent.flatMap((b) => linesOf(b.body).filter((_, k) => k % 2 === 0).map((l) => JSON.parse(l).index._id as string));
  t.equal(resentIds.length, rejected.length * 2);
  t.ok(resentIds.every((id) => rejected.includes(id)), 're-sent bodies hold only rejected documents');
});

t.test('refused documents are counted failed exactly, with their reasons; stats add up', async (t) => {
  const { ids, pieces } = await served('orders', { seed: SEED, ...SMALL, limit: 1000 }, 'ecomgen-orders');
  const refused = [ids[3], ids[50], ids[77]] as string[];
  const overloaded = ids[10] as string;
  for (const id of refused) peer.faults.permanent.add(id);
  peer.faults.rejected.set(overloaded, 5);
  const job = await push({ seed: SEED, ...SMALL, entity: 'orders', chunk_size: 25, retries: 2 });

  t.equal(job.state, 'partial');
  t.equal(job.failed, 4, '3 refused + 1 still rejected after 2 re-sends');
  t.equal(job.records, 96);
  t.match(entityOf(job, 'orders'), { state: 'done', records: 96, failed: 4, retried_documents: 2 });
  // Chunks of 25: orders 3 and 10 in the first, 50 in the third, 77 in the fourth.
  t.equal(job.errors.length, 4, 'one message per kind of refusal per response');
  t.same(job.errors.filter((e) => e.includes('400 mapper_parsing_exception')).map((e) => /first _id (\S+):/.exec(e)?.[1]), refused, 'each names its first document');
  t.match(job.errors.join('\n'), new RegExp(`orders: 1 document refused by ecomgen-orders after 2 re-sends: 429 es_rejected_execution_exception; first _id ${overloaded}: rejected execution`));
  t.match(job.errors[0], /^orders: 1 document refused by ecomgen-orders: 400 mapper_parsing_exception; first _id \S+: failed to parse/);
  const failedIds = new Set([...refused, overloaded]);
  const index = peer.indices.get('ecomgen-orders');
  t.same(new Set(index?.docs.keys()), new Set(ids.filter((id) => !failedIds.has(id))), 'every other order indexed');
  t.equal(job.bytes, bytesOf(pieces.filter((_, k) => !failedIds.has(ids[k] as string))), 'bytes of delivered documents only');

  const stats = (await app.inject({ method: 'GET', url: '/api/v1/stats' })).json().sinks.opensearch;
  t.match(stats, { records: 96, bytes: job.bytes, failed: 4, jobs: { total: 1, partial: 1, running: 0 } });
});

t.test('whole requests answered 429 or 503 are re-sent after a pause', async (t) => {
  peer.faults.throttle = 2;
  peer.faults.unavailable = 1;
  const job = await push({ seed: SEED, ...SMALL, entity: 'orders', chunk_size: 50 });
  t.equal(job.state, 'succeeded');
  t.equal(job.records, 100);
  t.equal(entityOf(job, 'orders').retried_requests, 3);
  t.same(peer.bulks.map((b) => b.status), [429, 429, 503, 200, 200]);
  t.equal(peer.bulks[0]?.body, peer.bulks[3]?.body, 'the same body re-sent');
  t.ok([...(peer.indices.get('ecomgen-orders')?.versions.values() ?? [])].every((v) => v === 1));

  // When the retries run out the job fails, counting the chunk it gave up on.
  peer.faults.throttle = 10;
  const failed = await push({ seed: SEED, ...SMALL, entity: 'users', chunk_size: 20, retries: 1 });
  t.equal(failed.state, 'failed');
  t.match(failed, { records: 0, failed: 20 });
  t.match(failed.errors.at(-1), /bulk request to ecomgen-users failed after 2 attempts: HTTP 429 rejected_execution_exception/);

  const stats = (await app.inject({ method: 'GET', url: '/api/v1/stats' })).json().sinks.opensearch;
  t.match(stats, { records: 100, bytes: job.bytes, failed: 20, jobs: { total: 2, succeeded: 1, failed: 1, running: 0 } }, 'stats add up over both jobs');
});

t.test('an index created meanwhile is used; a refused index fails only its entity', async (t) => {
  peer.createIndex('ecomgen-users', indexMappingOf(ENTITIES.users.schema) as unknown as Record<string, unknown>);
  peer.faults.hidden.add('ecomgen-users');
  peer.faults.refuseCreate.add('ecomgen-orders');
  const job = await push({ seed: SEED, ...SMALL, entities: ['users', 'orders', 'payments'] });
  t.equal(job.state, 'partial');
  t.match(entityOf(job, 'users'), { state: 'done', created: false, records: 50 });
  t.match(entityOf(job, 'orders'), { state: 'failed', records: 0, error: /creating index ecomgen-orders was refused: HTTP 400 illegal_argument_exception/ });
  t.match(entityOf(job, 'payments'), { state: 'done', created: true, records: 100 });
  t.ok(peer.log.includes('PUT /ecomgen-users 400'), 'resource_already_exists_exception was answered and tolerated');
});

t.test('bad bodies get a 400 naming the field; an unconfigured sink a 409', async (t) => {
  const cases: [Record<string, unknown>, string][] = [
    [{ index: 'Bad Name' }, 'index'],
    [{ index: '_hidden' }, 'index'],
    [{ entities: ['users', 'orders'], index: 'one-index' }, 'index'],
    [{ entity: 'users', index: 'x', index_prefix: 'y-' }, 'index_prefix'],
    [{ index_prefix: 'UP-' }, 'index_prefix'],
    [{ chunk_size: 0 }, 'chunk_size'],
    [{ chunk_size: 10_001 }, 'chunk_size'],
    [{ retries: 11 }, 'retries'],
    [{ refresh: 'always' }, 'refresh'],
    [{ node: 'http://elsewhere:9200' }, 'node'],
  ];
  for (const [body, field] of cases) {
    const response = await app.inject({ method: 'POST', url: '/api/v1/sinks/opensearch', payload: { seed: SEED, ...body } });
    t.equal(response.statusCode, 400, JSON.stringify(body));
    t.match(response.json().message, field, `${JSON.stringify(body)}: names ${field}`);
  }
  const bare = await testApp(t, { sinks: {} });
  const response = await bare.inject({ method: 'POST', url: '/api/v1/sinks/opensearch', payload: {} });
  t.equal(response.statusCode, 409);
  t.match(response.json().message, 'OPENSEARCH_URL');
});

t.test('an unreachable cluster or refused credentials fail the job with a clear error', async (t) => {
  const port = await closedPort();
  const unreachable = await testApp(t, { sinks: { opensearch: { node: `http://127.0.0.1:${port}` } } });
  const job = await push({ seed: SEED, entity: 'performance-events', days: 1, limit: 10 }, unreachable);
  t.equal(job.state, 'failed');
  t.equal(job.records, 0);
  t.match(job.errors[0], new RegExp(`OpenSearch at http://127.0.0.1:${port} is not reachable: .*ECONNREFUSED`));

  const wrong = await testApp(t, { sinks: { opensearch: { node: peer.url, auth: { username: AUTH.username, password: 'wrong' } } } });
  const refused = await push({ seed: SEED, entity: 'performance-events', days: 1, limit: 10 }, wrong);
  t.equal(refused.state, 'failed');
  t.match(refused.errors[0], /refused the credentials \(HTTP 401 security_exception.*OPENSEARCH_USERNAME and OPENSEARCH_PASSWORD/);
  t.equal(peer.bulks.length, 0, 'nothing sent');
});

t.test('cancelling stops between chunks; what was indexed is what is counted', async (t) => {
  const params = { seed: SEED, days: 1, base_tps: 0.5, limit: 3000 };
  let deletion: Promise<{ statusCode: number }> | undefined;
  peer.onBulk = async (n) => {
    if (n !== 3) return;
    const [running] = (await app.inject({ method: 'GET', url: '/api/v1/jobs?state=running' })).json() as JobJson[];
    deletion = app.inject({ method: 'DELETE', url: `/api/v1/jobs/${running?.id}` });
    // Let the DELETE reach the job before this chunk is acknowledged.
    await new Promise((resolve) => setTimeout(resolve, 50));
  };
  const started = await app.inject({ method: 'POST', url: '/api/v1/sinks/opensearch', payload: { entity: 'performance-events', ...params, chunk_size: 25 } });
  t.equal(started.statusCode, 202);
  const job = (await app.inject({ method: 'GET', url: `/api/v1/jobs/${started.json().id}?wait=true` })).json() as JobJson;
  const cancelled = await deletion;
  t.equal(cancelled?.statusCode, 200);

  t.equal(job.state, 'cancelled');
  t.equal(entityOf(job, 'performance-events').state, 'cancelled');
  t.ok(job.records < 3000, `stopped early (${job.records} of 3000)`);
  t.equal(job.records % 25, 0, 'whole chunks only');
  const index = peer.indices.get('ecommerce_performance_demo');
  t.equal(index?.docs.size, job.records, 'indexed = delivered');
  t.equal(peer.bulks.length, job.records / 25, 'no chunk sent after the cancel');
  const { ids } = await served('performance-events', { ...params, limit: job.records }, 'ecommerce_performance_demo');
  t.same([...(index?.docs.keys() ?? [])], ids, 'the first records, in order');

  const stats = (await app.inject({ method: 'GET', url: '/api/v1/stats' })).json().sinks.opensearch;
  t.match(stats, { records: job.records, bytes: job.bytes, failed: 0, jobs: { total: 1, cancelled: 1, running: 0 } });
});
