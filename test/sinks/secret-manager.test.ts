/**
 * SECRET_ID: the webhook secret read from Secret Manager by the real client
 * (@google-cloud/secret-manager over REST) from a test peer, once, and used to sign deliveries.
 */
import t from 'tap';
import { ConfigError, loadConfig, type WebhookConfig } from '../../src/config.js';
import { readSecret, secretVersionName } from '../../src/sinks/secret-manager.js';
import { testApp } from '../support/app.js';
import { secretManagerServer } from '../support/secret-manager-server.js';
import { webhookReceiver } from '../support/webhook-receiver.js';

const SECRET = 'whsec_from_secret_manager_42';
const NAME = 'projects/playground/secrets/playground_project_stream_secret';

t.test('config: SECRET_ID with GOOGLE_CLOUD_PROJECT, STREAM_SECRET still works, bad values name the variable', async (t) => {
  const base = { STREAM_ENDPOINT: 'http://127.0.0.1/hook' };
  const viaId = loadConfig({ ...base, SECRET_ID: 'playground_project_stream_secret', GOOGLE_CLOUD_PROJECT: 'playground' }).webhook;
  t.same(viaId?.secretManager, { secretId: 'playground_project_stream_secret', projectId: 'playground' });
  t.equal(viaId?.secret, undefined);
  t.equal(secretVersionName(viaId?.secretManager ?? { secretId: '' }), `${NAME}/versions/latest`);
  t.equal(secretVersionName({ secretId: `${NAME}/versions/3` }), `${NAME}/versions/3`);
  t.equal(secretVersionName({ secretId: NAME }), `${NAME}/versions/latest`);
  t.equal(loadConfig({ ...base, STREAM_SECRET: 's3cret' }).webhook?.secret, 's3cret', 'STREAM_SECRET as before');
  t.equal(loadConfig({ ...base, STREAM_SECRET: 's3cret', SECRET_ID: 'x', GOOGLE_CLOUD_PROJECT: 'p' }).webhook?.secretManager, undefined, 'STREAM_SECRET wins');
  t.throws(() => loadConfig({ ...base, SECRET_ID: 'x' }), new ConfigError("GOOGLE_CLOUD_PROJECT: required with SECRET_ID 'x' (or give SECRET_ID as projects/<project>/secrets/<secret>)"));
  t.throws(() => loadConfig({ ...base, SECRET_ID: 'bad name', GOOGLE_CLOUD_PROJECT: 'p' }), /^SECRET_ID: /);
  t.throws(() => loadConfig({ ...base, SECRET_ID: NAME, SECRET_MANAGER_API_ENDPOINT: 'ftp://x' }), /^SECRET_MANAGER_API_ENDPOINT: /);
  t.throws(() => loadConfig(base), /^STREAM_SECRET: required/);
  // Without the webhook, SECRET_ID is refused as STREAM_SECRET is (it was ignored without a word).
  t.throws(() => loadConfig({ SECRET_ID: NAME }), new ConfigError('STREAM_ENDPOINT: required with SECRET_ID (the webhook key it names is only read for the webhook)'));
  t.throws(() => loadConfig({ STREAM_SECRET: 's3cret' }), new ConfigError('STREAM_ENDPOINT: required with STREAM_SECRET'));
});

t.test('readSecret: the real client reads the latest version from the peer, without credentials', async (t) => {
  const peer = await secretManagerServer(t, { [NAME]: SECRET });
  t.equal(await readSecret({ secretId: 'playground_project_stream_secret', projectId: 'playground', apiEndpoint: peer.url }), SECRET);
  t.equal(peer.requests.length, 1);
  t.equal(peer.requests[0]?.method, 'GET');
  t.equal(peer.requests[0]?.path, `/v1/${NAME}/versions/latest:access`);
  t.notOk(peer.requests[0]?.headers.authorization, 'no credentials sent to a custom endpoint');
  await t.rejects(
    readSecret({ secretId: 'missing', projectId: 'playground', apiEndpoint: peer.url }),
    /cannot read the webhook secret projects\/playground\/secrets\/missing\/versions\/latest from Secret Manager \(SECRET_ID\): .*not found/,
  );
});

t.test('the webhook signs with the Secret Manager secret, read once for all jobs', async (t) => {
  const peer = await secretManagerServer(t, { [NAME]: SECRET });
  const receiver = await webhookReceiver(t, SECRET);
  const config: WebhookConfig = {
    endpoint: receiver.url,
    secretManager: { secretId: NAME, apiEndpoint: peer.url },
    maxCount: 1000,
    timeoutMs: 2000,
    retries: 1,
    backoffMs: 5,
  };
  const app = await testApp(t, { sinks: { webhook: config } });
  for (let run = 0; run < 2; run++) {
    const response = await app.inject({ method: 'POST', url: '/api/v1/sinks/webhook?wait=true', payload: { seed: 3, entity: 'users', users: 20, count: 5 } });
    t.equal(response.statusCode, 200, response.body.slice(0, 300));
    t.equal((response.json() as { state: string }).state, 'succeeded');
  }
  t.equal(receiver.deliveries.length, 10, 'two jobs of five records');
  t.ok(receiver.deliveries.every((d) => d.verified), 'every X-Signature verifies under the Secret Manager secret');
  t.equal(peer.requests.length, 1, 'the secret was read once, on first use');

  const broken = await testApp(t, { sinks: { webhook: { ...config, secretManager: { secretId: 'projects/playground/secrets/nope', apiEndpoint: peer.url } } } });
  const failed = await broken.inject({ method: 'POST', url: '/api/v1/sinks/webhook?wait=true', payload: { seed: 3, entity: 'users', users: 20, count: 5 } });
  const job = failed.json() as { state: string; errors: string[] };
  t.equal(job.state, 'failed');
  t.match(job.errors.join(' '), /SECRET_ID/, 'the job says the secret could not be read');
});
