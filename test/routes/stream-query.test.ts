/**
 * Starting and stopping a stream or a job take no query parameter: `POST /api/v1/streams?wait=true`
 * (as a sink job takes it) was ignored, so the stream answered 202 at once as if it had been
 * waited for; now a 400 names the parameter, as every other route does.
 */
import t from 'tap';
import { testApp } from '../support/app.js';

t.test('POST /api/v1/streams and DELETE of a stream, a job or the statistics refuse a query parameter, naming it', async (t) => {
  const app = await testApp(t, { sinks: { webhook: { endpoint: 'http://127.0.0.1:9/hooks', secret: 'x'.repeat(32), maxCount: 1000, timeoutMs: 1000, retries: 0, backoffMs: 5 } } });
  const started = await app.inject({ method: 'POST', url: '/api/v1/streams?wait=true', payload: { sink: 'webhook', mode: 'replay', seed: 1, scale: 0.01 } });
  t.equal(started.statusCode, 400);
  t.match(started.json(), { code: 'UNKNOWN_PARAMETER', message: 'wait: unknown query parameter' });
  t.same((await app.inject('/api/v1/streams')).json(), [], 'no stream was started');

  for (const url of ['/api/v1/streams/00000000-0000-4000-8000-000000000000?now=1', '/api/v1/jobs/00000000-0000-4000-8000-000000000000?now=1']) {
    const stopped = await app.inject({ method: 'DELETE', url });
    t.equal(stopped.statusCode, 400, url);
    t.match(stopped.json(), { code: 'UNKNOWN_PARAMETER', message: 'now: unknown query parameter' });
  }
  const reset = await app.inject({ method: 'DELETE', url: '/api/v1/stats?all=1' });
  t.equal(reset.statusCode, 400, 'nor does resetting the statistics');
  t.match(reset.json(), { code: 'UNKNOWN_PARAMETER', message: 'all: unknown query parameter' });
  const unknown = await app.inject({ method: 'DELETE', url: '/api/v1/streams/00000000-0000-4000-8000-000000000000' });
  t.equal(unknown.statusCode, 404, 'without one, as before');
});
