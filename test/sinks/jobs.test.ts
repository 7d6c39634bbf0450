/**
 * The sink API without any destination: validation of bodies, unconfigured sinks, the API key,
 * the jobs and stats endpoints. (Each sink's own test proves delivery against its peer.)
 */
import t from 'tap';
import { ConfigError, loadConfig } from '../../src/config.js';
import { SINKS } from '../../src/sinks/index.js';
import { testApp } from '../support/app.js';

/** A configured sink whose destination refuses connections: jobs fail fast, nothing is needed. */
const UNREACHABLE = { postgres: { connectionString: 'postgres://u:p@127.0.0.1:1/db' } };

t.test('an unconfigured sink answers 409 naming the variable to set; everything else keeps serving', async (t) => {
  const app = await testApp(t);
  for (const sink of Object.values(SINKS)) {
    const response = await app.inject({ method: 'POST', url: `/api/v1/sinks/${sink.name}`, payload: {} });
    t.equal(response.statusCode, 409, sink.name);
    t.same(response.json().code, 'SINK_NOT_CONFIGURED');
    t.match(response.json().message, `sink: ${sink.name} is not configured: set ${sink.requires}`);
  }
  t.equal((await app.inject('/api/v1/users?limit=1')).statusCode, 200);
  t.equal((await app.inject({ method: 'POST', url: '/api/v1/sinks/ftp', payload: {} })).statusCode, 404);
  const listed = (await app.inject('/api/v1/sinks')).json() as { name: string; configured: boolean }[];
  t.same(listed.map((s) => [s.name, s.configured]), Object.keys(SINKS).map((name) => [name, false]), 'GET /sinks says none is configured');
});

t.test('GET /api/v1/sinks tells which sinks this server can use', async (t) => {
  const app = await testApp(t, { sinks: UNREACHABLE });
  const listed = (await app.inject('/api/v1/sinks')).json() as { name: string; endpoint: string; configured: boolean; requires: string; default_entities: string[]; options: string[] }[];
  const postgres = listed.find((s) => s.name === 'postgres');
  t.same(postgres, { name: 'postgres', endpoint: '/api/v1/sinks/postgres', configured: true, requires: 'DATABASE_URL', default_entities: postgres?.default_entities, options: ['schema', 'table_prefix', 'tables', 'foreign_keys'] });
  t.notOk(postgres?.default_entities.includes('performance-events'));
  t.same(listed.find((s) => s.name === 'webhook')?.default_entities, ['transactions']);
  t.same(listed.filter((s) => s.configured).map((s) => s.name), ['postgres']);
  t.same((await app.inject('/')).json().sinks, '/api/v1/sinks');
});

t.test('bad bodies are 400s naming the field', async (t) => {
  const app = await testApp(t, { sinks: UNREACHABLE });
  const cases: [unknown, RegExp][] = [
    [{ sede: 1 }, /^sede: unknown body field$/],
    [{ seed: -1 }, /^seed: /],
    [{ seed: 'abc' }, /^seed: /],
    [{ scale: 0 }, /^scale: /],
    [{ locale: 'fr_FR' }, /^locale: must be one of en_US, en_GB/],
    [{ start_date: 'tomorrow' }, /^start_date: /],
    [{ start_date: '2025-02-01', end_date: '2025-01-01' }, /^end_date: /],
    [{ entities: [] }, /^entities: /],
    [{ entities: ['users', 'users'] }, /^entities: /],
    [{ entities: ['customers'] }, /^entities\.0: must be one of/],
    [{ entity: 'users', entities: ['orders'] }, /^entities: use either entity or entities/],
    [{ limit: 10 }, /^limit: applies to one `entity`/],
    [{ entities: ['users'], offset: 3 }, /^offset: applies to one `entity`/],
    [{ entity: 'users', limit: 0 }, /^limit: /],
    [{ entity: 'users', days: 2 }, /^days: is a parameter of performance-events/],
    [{ entity: 'performance-events', days: 91 }, /^days: /],
    [{ entity: 'performance-events', start_date: '2025-02-01', end_date: '2025-03-01' }, /^end_date: give start_date or end_date, not both/],
    [{ entity: 'performance-events', days: 90, base_tps: 1000, peak_multiplier: 10 }, /^base_tps: /],
  ];
  for (const [body, message] of cases) {
    const response = await app.inject({ method: 'POST', url: '/api/v1/sinks/postgres', payload: body as object });
    t.equal(response.statusCode, 400, JSON.stringify(body));
    t.match(response.json().message, message, JSON.stringify(body));
  }
  const notJson = await app.inject({ method: 'POST', url: '/api/v1/sinks/postgres', headers: { 'content-type': 'application/json' }, payload: '{"seed":' });
  t.equal(notJson.statusCode, 400, 'malformed JSON');
  const wait = await app.inject({ method: 'POST', url: '/api/v1/sinks/postgres?wait=soon', payload: {} });
  t.equal(wait.statusCode, 400);
  t.match(wait.json().message, /^wait: /);
  t.same((await app.inject('/api/v1/jobs')).json(), [], 'no job was created by a bad request');
});

t.test('jobs: 202 with Location, a drawn seed, live listing, 404 for unknown ids, failure counted in stats', async (t) => {
  const app = await testApp(t, { sinks: UNREACHABLE });
  const started = await app.inject({ method: 'POST', url: '/api/v1/sinks/postgres', payload: { entity: 'users', limit: 5 } });
  t.equal(started.statusCode, 202);
  const job = started.json();
  t.equal(started.headers.location, `/api/v1/jobs/${job.id}`);
  t.ok(Number.isInteger(job.seed), `a seed was drawn (${job.seed}) and is reported`);
  t.equal(job.request.seed, job.seed, 'the request is recorded with its seed, so it can be replayed');
  t.same(job.entities.map((e: { entity: string; planned: number }) => [e.entity, e.planned]), [['users', 5]]);

  const ended = (await app.inject(`/api/v1/jobs/${job.id}?wait=true`)).json();
  t.equal(ended.state, 'failed');
  t.match(ended.errors[0], /cannot connect to PostgreSQL/);
  t.same([ended.entities[0].state, ended.entities[0].error], ['failed', 'not sent: the job failed before this entity'], 'the entity says why it was not sent');
  t.ok(ended.started_at <= ended.finished_at);
  t.same((await app.inject('/api/v1/jobs?state=failed')).json().map((j: { id: string }) => j.id), [job.id]);
  t.same((await app.inject('/api/v1/jobs?state=succeeded')).json(), []);

  const unknown = await app.inject('/api/v1/jobs/3f1c4b8e-0000-4000-8000-000000000000');
  t.equal(unknown.statusCode, 404);
  t.match(unknown.json().message, /^id: no job/);
  t.equal((await app.inject('/api/v1/jobs/42')).statusCode, 400, 'a non-uuid id is a 400');
  const cancelEnded = await app.inject({ method: 'DELETE', url: `/api/v1/jobs/${job.id}` });
  t.same([cancelEnded.statusCode, cancelEnded.json().state], [200, 'failed'], 'cancelling an ended job changes nothing');

  const stats = (await app.inject('/api/v1/stats')).json();
  t.same(stats.sinks.postgres.jobs, { total: 1, running: 0, succeeded: 0, partial: 0, failed: 1, cancelled: 0 });
  t.same(Object.keys(stats.sinks), Object.keys(SINKS));
  const reset = await app.inject({ method: 'DELETE', url: '/api/v1/stats' });
  t.equal(reset.statusCode, 200);
  t.same(reset.json().sinks.postgres, { records: 0, bytes: 0, failed: 0, jobs: { total: 0, running: 0, succeeded: 0, partial: 0, failed: 0, cancelled: 0 }, last_activity: null });
  t.ok(reset.json().since >= stats.since);
});

t.test('API_KEY: POST and DELETE need the bearer token; GETs stay open', async (t) => {
  const app = await testApp(t, { sinks: { ...UNREACHABLE, apiKey: 's3cret-key' } });
  const none = await app.inject({ method: 'POST', url: '/api/v1/sinks/postgres', payload: { entity: 'users', limit: 1 } });
  t.equal(none.statusCode, 401);
  t.equal(none.json().code, 'UNAUTHORIZED');
  t.match(none.headers['www-authenticate'], /^Bearer/);
  const wrong = await app.inject({ method: 'POST', url: '/api/v1/sinks/postgres', headers: { authorization: 'Bearer s3cret' }, payload: {} });
  t.equal(wrong.statusCode, 401);
  t.equal((await app.inject({ method: 'DELETE', url: '/api/v1/stats' })).statusCode, 401);
  t.equal((await app.inject({ method: 'DELETE', url: '/api/v1/jobs/3f1c4b8e-0000-4000-8000-000000000000' })).statusCode, 401);
  t.same((await app.inject('/api/v1/jobs')).json(), [], 'no job was started without the key');

  const right = await app.inject({ method: 'POST', url: '/api/v1/sinks/postgres?wait=true', headers: { authorization: 'Bearer s3cret-key' }, payload: { entity: 'users', limit: 1 } });
  t.equal(right.statusCode, 200);
  t.equal((await app.inject({ method: 'DELETE', url: '/api/v1/stats', headers: { authorization: 'bearer s3cret-key' } })).statusCode, 200);
  t.equal((await app.inject('/api/v1/stats')).statusCode, 200);
  t.equal((await app.inject('/api/v1/users?limit=1')).statusCode, 200);
  const docs = (await app.inject('/docs/json')).json();
  t.ok(docs.components.securitySchemes?.bearerAuth, 'the OpenAPI document declares the bearer scheme');
});

t.test('loadConfig reads and validates the environment', async (t) => {
  t.same(loadConfig({}), {}, 'nothing set: nothing configured');
  const full = loadConfig({
    DATABASE_URL: 'postgres://u:p@db:5432/shop',
    KAFKA_BROKERS: 'k1:9092, k2:9093',
    KAFKA_CLIENT_ID: 'gen',
    KAFKA_SSL: 'true',
    KAFKA_SASL_MECHANISM: 'SCRAM-SHA-512',
    KAFKA_SASL_USERNAME: 'user',
    KAFKA_SASL_PASSWORD: 'pw',
    BATCH_BUCKET: 'my-bucket',
    GOOGLE_CLOUD_PROJECT: 'proj',
    GCS_API_ENDPOINT: 'http://127.0.0.1:4443',
    STREAM_ENDPOINT: 'https://hooks.example.com/in',
    STREAM_SECRET: 'hmac',
    STREAM_MAX_COUNT: '5000',
    OPENSEARCH_URL: 'https://search:9200',
    OPENSEARCH_USERNAME: 'admin',
    OPENSEARCH_PASSWORD: 'admin',
    API_KEY: 'k',
  });
  t.same(full, {
    apiKey: 'k',
    postgres: { connectionString: 'postgres://u:p@db:5432/shop' },
    kafka: { brokers: ['k1:9092', 'k2:9093'], clientId: 'gen', ssl: true, sasl: { mechanism: 'scram-sha-512', username: 'user', password: 'pw' } },
    gcs: { bucket: 'my-bucket', projectId: 'proj', apiEndpoint: 'http://127.0.0.1:4443' },
    webhook: { endpoint: 'https://hooks.example.com/in', secret: 'hmac', maxCount: 5000, timeoutMs: 10_000, retries: 5, backoffMs: 250 },
    opensearch: { node: 'https://search:9200', auth: { username: 'admin', password: 'admin' } },
  });
  t.equal(loadConfig({ KAFKA_BROKERS: 'localhost:9092' }).kafka?.clientId, 'ecomgen', 'default client id');
  const bad: [Record<string, string>, RegExp][] = [
    [{ DATABASE_URL: 'mysql://x' }, /^DATABASE_URL: expected a postgres or postgresql URL/],
    [{ DATABASE_URL: 'not a url' }, /^DATABASE_URL: 'not a url' is not a URL/],
    [{ KAFKA_BROKERS: 'localhost' }, /^KAFKA_BROKERS: .*'localhost'/],
    [{ KAFKA_BROKERS: 'a:1', KAFKA_SASL_MECHANISM: 'gssapi' }, /^KAFKA_SASL_MECHANISM: /],
    [{ KAFKA_BROKERS: 'a:1', KAFKA_SASL_MECHANISM: 'plain' }, /^KAFKA_SASL_USERNAME: /],
    [{ KAFKA_BROKERS: 'a:1', KAFKA_SSL: 'yes' }, /^KAFKA_SSL: /],
    [{ GCS_BUCKET: 'a', BATCH_BUCKET: 'b' }, /^GCS_BUCKET .* disagree/],
    [{ GCS_BUCKET: 'Bad_Bucket!' }, /^GCS_BUCKET: /],
    [{ STREAM_ENDPOINT: 'http://x' }, /^STREAM_SECRET: required/],
    [{ STREAM_SECRET: 's' }, /^STREAM_ENDPOINT: required/],
    [{ STREAM_ENDPOINT: 'ftp://x', STREAM_SECRET: 's' }, /^STREAM_ENDPOINT: /],
    [{ STREAM_ENDPOINT: 'http://x', STREAM_SECRET: 's', STREAM_MAX_COUNT: '0' }, /^STREAM_MAX_COUNT: /],
    [{ OPENSEARCH_URL: 'http://x', OPENSEARCH_USERNAME: 'u' }, /^OPENSEARCH_PASSWORD: /],
  ];
  for (const [env, message] of bad) {
    let caught: unknown;
    try {
      loadConfig(env);
    } catch (error) {
      caught = error;
    }
    t.ok(caught instanceof ConfigError, `${JSON.stringify(env)} is a ConfigError`);
    t.match((caught as Error).message, message);
  }
});
