/**
 * The warm-up before `listen` (src/plugins/warm-up.ts): every request it makes is answered with
 * 200, every entity is among them, and it leaves no trace: no request log lines, no answers in
 * the metrics; requests after it are logged and counted as before.
 */
import { spawn } from 'node:child_process';
import { createServer } from 'node:net';
import path from 'node:path';
import t from 'tap';
import { ENTITY_NAMES } from '../../src/generators/registry.js';
import { WARM_UP_URLS, warmUp } from '../../src/plugins/warm-up.js';
import { testApp } from '../support/app.js';
import { logCapture } from '../support/log.js';

t.test('the warm-up asks for every entity, a feed and each format, and every answer is a 200', async (t) => {
  for (const entity of ENTITY_NAMES) t.ok(WARM_UP_URLS.some((url) => url.startsWith(`/api/v1/${entity}?`)), entity);
  for (const format of ['csv', 'ndjson', 'xml']) t.ok(WARM_UP_URLS.some((url) => url.endsWith(`format=${format}`)), format);
  t.ok(WARM_UP_URLS.some((url) => url.startsWith('/api/v1/events?')), 'the change feed');
  t.ok(WARM_UP_URLS.some((url) => url.includes('locale=en_GB')), 'the other locale');
  t.ok(WARM_UP_URLS.includes('/docs/json') && WARM_UP_URLS.includes('/docs/yaml'), 'the OpenAPI document, JSON and YAML');

  const { lines, stream } = logCapture();
  const app = await testApp(t, { logger: { level: 'info', stream } });
  const result = await warmUp(app);
  t.same(result.failed, [], 'no answer other than 200');
  t.equal(result.requests, WARM_UP_URLS.length);
  t.equal(lines.length, 0, 'nothing logged while it ran');
  t.equal(app.log.level, 'info', 'the log level is back');

  const metrics = (await app.inject('/metrics')).body;
  t.notMatch(metrics, /^http_requests_total\{/m, 'no answer counted');
  t.notMatch(metrics, /^ecomgen_rows_served_total\{/m, 'no rows counted');
  t.notMatch(metrics, /^http_request_duration_seconds_count\{/m, 'no latency observed');

  t.equal((await app.inject('/api/v1/users?seed=2&limit=2')).statusCode, 200);
  const after = (await app.inject('/metrics')).body;
  t.match(after, /^http_requests_total\{method="GET",route="\/api\/v1\/users",status_code="200"\} 1$/m, 'a later request is counted');
  t.match(after, /^ecomgen_rows_served_total\{route="\/api\/v1\/users"\} 2$/m, 'with its rows');
  t.ok(lines.some((line) => line.msg === 'request completed'), 'and logged');
});

t.test('the server warms up before it listens, says so at info, and WARM_UP is checked', async (t) => {
  const holder = createServer();
  await new Promise<void>((resolve) => holder.listen(0, '127.0.0.1', resolve));
  const { port } = holder.address() as { port: number };
  await new Promise((resolve) => holder.close(resolve));
  const run = (env: Record<string, string>, until: RegExp): Promise<{ code: number | null; stdout: string; stderr: string }> =>
    new Promise((resolve, reject) => {
      const child = spawn(process.execPath, [path.resolve('bin/ecomgen.js'), 'serve', '--port', String(port), '--host', '127.0.0.1'], {
        env: { ...process.env, LOG_LEVEL: 'info', ...env },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let stdout = '';
      let stderr = '';
      child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
        stdout += chunk;
        if (until.test(stdout)) child.kill('SIGTERM');
      });
      child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
      child.on('error', reject).on('close', (code) => resolve({ code, stdout, stderr }));
    });

  const started = await run({}, /Server listening/);
  const logged = started.stdout.split('\n').filter((line) => line !== '').map((line) => JSON.parse(line) as { msg: string; requests?: number });
  const warmed = logged.findIndex((line) => line.msg === 'warmed up');
  const listening = logged.findIndex((line) => line.msg.startsWith('Server listening'));
  t.ok(warmed >= 0, 'it says it warmed up');
  t.equal(logged[warmed]?.requests, WARM_UP_URLS.length, 'with the number of requests');
  t.ok(warmed < listening, 'before it listens');
  t.notOk(logged.some((line) => line.msg === 'request completed'), 'the warm-up requests are not logged');

  const skipped = await run({ WARM_UP: '0' }, /Server listening/);
  t.notMatch(skipped.stdout, /warmed up/, 'WARM_UP=0 skips it');

  const refused = await run({ WARM_UP: 'yes' }, /$^/);
  t.equal(refused.code, 1);
  t.match(refused.stderr, /WARM_UP/, 'a bad WARM_UP is named');
});
