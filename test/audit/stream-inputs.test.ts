/**
 * Awkward stream requests a demanding user sends (audit of the eleventh round):
 * - a JSON string sent as JSON (`"x"`) was answered 415 "Content-Type: 'application/json' is not
 *   accepted here; send application/json", contradicting itself; it is a body of the wrong type,
 *   a 400 like `123` or `null`;
 * - a live stream took `scale`, population overrides, `start_date`/`end_date` and the knobs, echoed
 *   them in its `request`, and ignored them (its events were those of the live world without
 *   them, the world `GET /api/v1/events/live` serves); now they are refused naming the field;
 * - `ecomgen stream --weights foo:1` said `--foo: unknown option`, a flag nobody typed, and a
 *   name given twice kept the last (the API's `weights=` refuses it).
 */
import t from 'tap';
import { testApp } from '../support/app.js';
import { inProcess } from '../support/cli.js';

const WEBHOOK = { endpoint: 'http://127.0.0.1:1/hook', secret: 'audit-stream-secret-0123456789abcdef', retries: 0, backoffMs: 1, timeoutMs: 1000, maxCount: 1000 };

interface ErrorBody { statusCode: number; code: string; message: string }

t.test('a JSON body that is a string is a 400 naming the body, not a 415', async (t) => {
  const app = await testApp(t);
  for (const [payload, type] of [
    ['"x"', 'application/json'],
    ['"x"', 'application/json; charset=utf-8'],
    ['123', 'application/json'],
    ['null', 'application/json'],
  ] as const) {
    for (const url of ['/api/v1/streams', '/api/v1/sinks/webhook']) {
      const response = await app.inject({ method: 'POST', url, payload, headers: { 'content-type': type } });
      const body = response.json() as ErrorBody;
      t.equal(response.statusCode, 400, `${url} ${payload} as ${type}: status`);
      t.same(body, { statusCode: 400, error: 'Bad Request', code: 'INVALID_PARAMETER', message: 'body: must be object (JSON types are not converted)' }, `${url} ${payload}: ${body.message}`);
    }
  }
  // Text that is not sent as JSON stays a 415 naming the Content-Type.
  const text = await app.inject({ method: 'POST', url: '/api/v1/streams', payload: '"x"', headers: { 'content-type': 'text/plain' } });
  t.equal(text.statusCode, 415);
  t.equal((text.json() as ErrorBody).message, "Content-Type: 'text/plain' is not accepted here; send application/json");
});

t.test('a live stream refuses the world fields a live world does not have', async (t) => {
  const app = await testApp(t, { sinks: { webhook: WEBHOOK } });
  for (const [field, value] of [
    ['scale', 3],
    ['users', 500],
    ['orders', 100],
    ['start_date', '2024-01-01'],
    ['end_date', '2024-06-30'],
    ['price_change_rate', 2],
    ['payment_ratio', 0.5],
    ['shipment_ratio', 0.5],
  ] as const) {
    const response = await app.inject({ method: 'POST', url: '/api/v1/streams', payload: { sink: 'webhook', seed: 7, [field]: value, max_events: 1 } });
    const body = response.json() as ErrorBody;
    t.equal(response.statusCode, 400, `${field}: status`);
    t.equal(body.code, 'INVALID_PARAMETER');
    t.equal(body.message, `${field}: applies to mode=replay, not live: a live world is its seed, locale, rate, weights and chaos (as GET /api/v1/events/live)`);
  }
  t.same((await app.inject('/api/v1/streams')).json(), [], 'no stream was started');
  // The defaults, sent explicitly (the command line sends them), and the same fields on a replay, are taken.
  const defaults = await app.inject({ method: 'POST', url: '/api/v1/streams', payload: { sink: 'webhook', seed: 7, scale: 1, price_change_rate: 0.5, payment_ratio: 1, shipment_ratio: 1, locale: 'en_GB', max_events: 1 } });
  t.equal(defaults.statusCode, 202, defaults.body);
  const replay = await app.inject({ method: 'POST', url: '/api/v1/streams', payload: { sink: 'webhook', mode: 'replay', seed: 7, scale: 0.01, start_date: '2025-01-01', end_date: '2025-01-14', payment_ratio: 0.5, max_events: 1 } });
  t.equal(replay.statusCode, 202, replay.body);
  for (const answer of [defaults, replay]) {
    const id = (answer.json() as { id: string }).id;
    await app.inject({ method: 'DELETE', url: `/api/v1/streams/${id}` });
  }
});

t.test('ecomgen stream: a bad --weights name or value names --weights', async (t) => {
  const env = { STREAM_ENDPOINT: 'http://127.0.0.1/hook', STREAM_SECRET: WEBHOOK.secret, KAFKA_BROKERS: undefined, DATABASE_URL: undefined, OPENSEARCH_URL: undefined, API_KEY: undefined };
  for (const [args, message] of [
    [['--weights', 'foo:1'], "error: --weights: unknown name 'foo'; known: orders, interactions, inventory\n"],
    [['--weights', 'orders:0.6,sessions=0.4'], "error: --weights: unknown name 'sessions'; known: orders, interactions, inventory\n"],
    [['--weights', 'orders:0.6,orders=0.4'], 'error: --weights: orders is named twice\n'],
    [['--weights', 'orders:-1'], 'error: --weights: orders must be >= 0\n'],
    [['--weights', 'orders:x'], 'error: --weights: orders must be a number\n'],
    [['--scale', '3'], 'error: --scale: applies to mode=replay, not live: a live world is its seed, locale, rate, weights and chaos (as GET /api/v1/events/live)\n'],
    [['--days', '30'], 'error: --start-date: applies to mode=replay, not live: a live world is its seed, locale, rate, weights and chaos (as GET /api/v1/events/live)\n'],
  ] as const) {
    const result = await inProcess(['stream', 'webhook', '--seed', '7', ...args], env);
    t.equal(result.code, 2, `${args.join(' ')}: exit 2`);
    t.equal(result.err, message, args.join(' '));
  }
});

t.test("a stream's id at /api/v1/jobs/{id}/events is told where its progress is", async (t) => {
  const app = await testApp(t, { sinks: { webhook: WEBHOOK } });
  const started = await app.inject({ method: 'POST', url: '/api/v1/streams', payload: { sink: 'webhook', seed: 7, max_events: 1 } });
  const id = (started.json() as { id: string }).id;
  t.equal((await app.inject(`/api/v1/jobs/${id}`)).statusCode, 200, 'GET /api/v1/jobs/{id} answers a stream');
  const events = await app.inject({ url: `/api/v1/jobs/${id}/events`, headers: { accept: 'text/event-stream' } });
  t.equal(events.statusCode, 404);
  t.same(events.json(), {
    statusCode: 404,
    error: 'Not Found',
    code: 'NOT_FOUND',
    message: `id: ${id} is a stream, and streams have no event stream; read GET /api/v1/streams/${id} (with ?wait=true it answers when the stream has ended)`,
  });
  await app.inject({ method: 'DELETE', url: `/api/v1/streams/${id}` });
});
