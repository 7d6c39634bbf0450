import net from 'node:net';
import t from 'tap';
import { ConfigError, loadConfig, loadCorsOrigins, redact } from '../../src/config.js';
import { testApp } from '../support/app.js';
import { MAX_MESSAGE } from '../../src/plugins/errors.js';

interface ErrorBody { statusCode: number; error: string; message: string; code: string; request_id?: string }

/** Sends raw bytes to the server and returns the status line and the JSON body of the answer. */
function raw(port: number, request: string): Promise<{ status: number; reason: string; body: ErrorBody }> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1');
    let text = '';
    socket.on('data', (d) => (text += d.toString('utf8')));
    socket.on('error', reject);
    socket.on('close', () => {
      const [head = '', body = ''] = text.split('\r\n\r\n');
      const match = /^HTTP\/1\.1 (\d{3}) (.*)$/m.exec(head);
      resolve({ status: Number(match?.[1]), reason: match?.[2] ?? '', body: JSON.parse(body) as ErrorBody });
    });
    socket.end(request);
  });
}

const shaped = (t: { equal: (a: unknown, b: unknown, m: string) => void; type: (a: unknown, b: string, m: string) => void; ok: (a: unknown, m: string) => void }, body: ErrorBody, status: number, code: string, error: string, label: string) => {
  t.equal(body.statusCode, status, `${label}: statusCode`);
  t.equal(body.code, code, `${label}: code`);
  t.equal(body.error, error, `${label}: error phrase`);
  t.type(body.message, 'string', `${label}: message`);
  t.ok(body.message.length <= MAX_MESSAGE + 1, `${label}: message bounded`);
};

t.test('errors raised before routing keep the error shape, with a code and the right phrase', async (t) => {
  const app = await testApp(t);
  await app.listen({ port: 0, host: '127.0.0.1' });
  const { port } = app.server.address() as net.AddressInfo;

  const huge = await raw(port, `GET /api/v1/users?fields=${'a'.repeat(20_000)} HTTP/1.1\r\nHost: x\r\n\r\n`);
  t.equal(huge.status, 431);
  shaped(t, huge.body, 431, 'HEADERS_TOO_LARGE', 'Request Header Fields Too Large', 'huge query string');

  const header = await raw(port, `GET /health HTTP/1.1\r\nHost: x\r\nX-Big: ${'b'.repeat(20_000)}\r\n\r\n`);
  shaped(t, header.body, 431, 'HEADERS_TOO_LARGE', 'Request Header Fields Too Large', 'huge header');

  const method = await raw(port, 'FROB /health HTTP/1.1\r\nHost: x\r\n\r\n');
  t.equal(method.status, 400);
  shaped(t, method.body, 400, 'UNKNOWN_METHOD', 'Bad Request', 'unknown method');

  const garbage = await raw(port, 'GET /health HTTP/1.1\r\nHost x\r\n\r\n');
  shaped(t, garbage.body, 400, 'BAD_REQUEST', 'Bad Request', 'malformed header');

  const long = await raw(port, `GET /api/v1/jobs/${'a'.repeat(300)} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`);
  t.equal(long.status, 414);
  t.equal(long.reason, 'URI Too Long');
  shaped(t, long.body, 414, 'URI_TOO_LONG', 'URI Too Long', 'long path segment');

  const badUrl = await raw(port, 'GET /api/v1/jobs/%zz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
  shaped(t, badUrl.body, 400, 'BAD_URL', 'Bad Request', 'bad percent-encoding');
});

t.test('404, 405 with Allow, 413, 415, bad JSON: every body has a code', async (t) => {
  const app = await testApp(t);
  const notFound = await app.inject('/nope');
  shaped(t, notFound.json(), 404, 'NOT_FOUND', 'Not Found', '404');

  const wrong = await app.inject({ method: 'DELETE', url: '/api/v1/users' });
  t.equal(wrong.statusCode, 405);
  t.equal(wrong.headers.allow, 'GET, HEAD');
  shaped(t, wrong.json(), 405, 'METHOD_NOT_ALLOWED', 'Method Not Allowed', '405');

  const job = await app.inject({ method: 'PUT', url: '/api/v1/jobs/3f6c2a9e-8d1b-4c7a-9e2f-5b8d4a1c7e90' });
  t.equal(job.statusCode, 405);
  t.equal(job.headers.allow, 'DELETE, GET, HEAD');

  const getSink = await app.inject('/api/v1/sinks/kafka');
  t.equal(getSink.statusCode, 405);
  t.equal(getSink.headers.allow, 'POST');

  const badJson = await app.inject({ method: 'POST', url: '/api/v1/sinks/kafka', payload: '{"seed":', headers: { 'content-type': 'application/json' } });
  shaped(t, badJson.json(), 400, 'BAD_REQUEST', 'Bad Request', 'malformed JSON');

  const media = await app.inject({ method: 'POST', url: '/api/v1/sinks/kafka', payload: '<seed>1</seed>', headers: { 'content-type': 'application/xml' } });
  shaped(t, media.json(), 415, 'UNSUPPORTED_MEDIA_TYPE', 'Unsupported Media Type', '415');

  const big = await app.inject({ method: 'POST', url: '/api/v1/sinks/kafka', payload: `{"x":"${'a'.repeat(1_100_000)}"}`, headers: { 'content-type': 'application/json' } });
  shaped(t, big.json(), 413, 'PAYLOAD_TOO_LARGE', 'Payload Too Large', '413');
});

t.test('a compressed body that does not decompress, or an unknown coding: the message names Content-Encoding', async (t) => {
  const app = await testApp(t);
  const broken = await app.inject({ method: 'POST', url: '/api/v1/sinks/kafka', payload: '{"seed":1}', headers: { 'content-type': 'application/json', 'content-encoding': 'gzip' } });
  shaped(t, broken.json(), 400, 'BAD_REQUEST', 'Bad Request', 'not gzip');
  t.equal((broken.json() as ErrorBody).message, 'Content-Encoding: the body is not valid gzip data; send it compressed as named, or uncompressed without Content-Encoding');
  const unknown = await app.inject({ method: 'POST', url: '/api/v1/sinks/kafka', payload: '{"seed":1}', headers: { 'content-type': 'application/json', 'content-encoding': 'compress' } });
  shaped(t, unknown.json(), 415, 'UNSUPPORTED_MEDIA_TYPE', 'Unsupported Media Type', 'unknown coding');
  t.equal((unknown.json() as ErrorBody).message, "Content-Encoding: 'compress' is not accepted here; send br, gzip or deflate, or an uncompressed body");
});

t.test('a long bad value is cut in the message, not echoed whole', async (t) => {
  const app = await testApp(t);
  const value = 'x'.repeat(100_000);
  for (const url of [`/api/v1/users?start_date=${value}`, `/api/v1/users?${value}=1`, `/api/v1/${value}`]) {
    const res = await app.inject(url);
    const body = res.json() as ErrorBody;
    t.ok(res.statusCode >= 400 && res.statusCode < 500, `${url.slice(0, 30)}: 4xx`);
    t.ok(body.message.length <= MAX_MESSAGE + 1, `${url.slice(0, 30)}: message of ${body.message.length} characters`);
    t.match(body.message, /x{80,100}…/, 'at most 100 characters of it, then …');
    t.notMatch(body.message, /x{101}/, 'never more');
  }
});

t.test('Kafka topic names Kafka reserves are refused', async (t) => {
  const app = await testApp(t, { sinks: { kafka: { brokers: ['127.0.0.1:9'], clientId: 'test', ssl: false } } });
  const cases: ReadonlyArray<readonly [Record<string, unknown>, string]> = [
    [{ entity: 'users', topic: '__consumer_offsets' }, 'topic'],
    [{ entity: 'users', topic: '__transaction_state' }, 'topic'],
    [{ entity: 'users', topic: '__' }, 'topic'],
    [{ entity: 'users', topic: '.' }, 'topic'],
    [{ entity: 'users', topic: '..' }, 'topic'],
    [{ entities: ['users'], topic_prefix: '__' }, 'topic_prefix'],
    [{ entities: ['users'], topic_prefix: '__x.' }, 'topic_prefix'],
    [{ entities: ['users'], topic_prefix: '.' }, 'topic_prefix'],
    [{ entities: ['users'], topic_prefix: '..' }, 'topic_prefix'],
  ];
  for (const [payload, name] of cases) {
    const res = await app.inject({ method: 'POST', url: '/api/v1/sinks/kafka', payload });
    t.equal(res.statusCode, 400, `${JSON.stringify(payload)}: 400`);
    t.match((res.json() as ErrorBody).message, new RegExp(`^${name}: `), `${JSON.stringify(payload)}: names ${name}`);
  }
});

t.test('request ids: a sane incoming X-Request-Id is echoed, anything else is replaced', async (t) => {
  const app = await testApp(t);
  const given = await app.inject({ url: '/health', headers: { 'x-request-id': 'trace-42.a:b' } });
  t.equal(given.headers['x-request-id'], 'trace-42.a:b');
  const bad = await app.inject({ url: '/health', headers: { 'x-request-id': 'a b<script>' } });
  t.match(String(bad.headers['x-request-id']), /^[0-9a-f-]{36}$/);
  const none = await app.inject('/health');
  t.match(String(none.headers['x-request-id']), /^[0-9a-f-]{36}$/);
  const error = await app.inject('/nope');
  t.ok(error.headers['x-request-id'], 'errors carry it too');
});

t.test('security headers, and Swagger UI still loads under the CSP', async (t) => {
  const app = await testApp(t);
  const res = await app.inject('/api/v1/users?seed=1&limit=1');
  t.equal(res.headers['x-content-type-options'], 'nosniff');
  t.equal(res.headers['x-frame-options'], 'SAMEORIGIN');
  const csp = String(res.headers['content-security-policy']);
  t.match(csp, "default-src 'self'");
  t.match(csp, "script-src 'self'");
  t.notMatch(csp, 'upgrade-insecure-requests', 'plain-http deployments keep working');
  const ui = await app.inject('/docs/');
  t.equal(ui.statusCode, 200);
  t.match(String(ui.headers['content-security-policy']), "script-src 'self'", 'the UI page has the same policy');
  const scripts = [...ui.body.matchAll(/<script([^>]*)>([^<]*)<\/script>/g)];
  t.ok(scripts.length > 0);
  for (const [, attrs, inline] of scripts) {
    t.match(attrs, /src="\.\//, 'every script is a same-origin file (allowed by script-src self)');
    t.equal(inline?.trim(), '', 'no inline script');
  }
  const init = await app.inject('/docs/static/swagger-initializer.js');
  t.equal(init.statusCode, 200, 'the initializer is served');
  t.match(init.body, 'json', 'and points at the document');
  const doc = await app.inject('/docs/json');
  t.equal(doc.statusCode, 200, 'which is served from the same origin');
});

t.test('configuration errors never print credentials', async (t) => {
  t.equal(redact('postgres://admin:hunter2@db:5432/x'), 'postgres://***@db:5432/x');
  t.equal(redact('user:p@ss@broker:9092'), '***@broker:9092');
  const secrets = ['hunter2', 'p@ss', 's3cr3t'];
  const envs: Record<string, string>[] = [
    { DATABASE_URL: 'postgres://admin:hunter2@db host:5432/x' },
    { DATABASE_URL: 'mysql://admin:hunter2@db:5432/x' },
    { KAFKA_BROKERS: 'ok:9092,user:p@ss@broker' },
    { OPENSEARCH_URL: 'http://admin:s3cr3t@[bad:9200' },
    { OPENSEARCH_URL: 'ftp://admin:s3cr3t@search:9200' },
  ];
  for (const env of envs) {
    const error = (() => {
      try {
        loadConfig(env);
        return undefined;
      } catch (e) {
        return e as Error;
      }
    })();
    t.ok(error instanceof ConfigError, `${Object.keys(env)[0]}: refused`);
    for (const secret of secrets) t.notMatch(error?.message ?? '', secret, `${Object.keys(env)[0]}: no password in '${error?.message}'`);
    t.match(error?.message ?? '', Object.keys(env)[0] as string, 'names the variable');
  }
  t.same(loadCorsOrigins({}), ['*']);
  t.same(loadCorsOrigins({ CORS_ORIGINS: 'https://a.example, http://localhost:3000' }), ['https://a.example', 'http://localhost:3000']);
  t.throws(() => loadCorsOrigins({ CORS_ORIGINS: 'https://a.example/path' }), { message: /^CORS_ORIGINS: / });
});

t.test('a 5xx hides internals and names the request id, as X-Request-Id does', async (t) => {
  const { buildApp } = await import('../../src/app.js');
  const app = await buildApp();
  t.teardown(() => app.close());
  app.get('/boom', async () => {
    throw new Error('connection string postgres://admin:hunter2@db');
  });
  await app.ready();
  const res = await app.inject({ url: '/boom', headers: { 'x-request-id': 'req-123' } });
  t.equal(res.statusCode, 500);
  const body = res.json() as ErrorBody;
  t.equal(body.code, 'INTERNAL_ERROR');
  t.equal(body.error, 'Internal Server Error');
  t.equal(body.request_id, 'req-123');
  t.equal(res.headers['x-request-id'], 'req-123');
  t.match(body.message, 'req-123');
  t.notMatch(body.message, 'hunter2', 'no internals');
});
