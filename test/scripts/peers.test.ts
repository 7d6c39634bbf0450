/**
 * `npm run peers` (scripts/peers.ts) as a user runs it: the peers start in their own process,
 * the environment file they write configures the server, and a replay stream into Kafka and one
 * into the webhook arrive there: the inspection API's counts and records equal the feed.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import t from 'tap';
import { loadConfig } from '../../src/config.js';
import { testApp } from '../support/app.js';
import { freePort } from '../support/postgres.js';

const WORLD = { seed: 42, users: 30, vendors: 2, warehouses: 2, products: 20, orders: 40, shops: 1, suppliers: 2, transactions: 5 };
const query = (params: Record<string, unknown>) => Object.entries(params).map(([k, v]) => `${k}=${String(v)}`).join('&');

t.test('npm run peers: its environment configures the server; what streams deliver is counted and served back', async (t) => {
  const dir = await mkdtemp(path.join(tmpdir(), 'ecomgen-peers-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const port = await freePort();
  const envFile = path.join(dir, 'peers.env');
  const child = spawn(process.execPath, ['--import', 'tsx', 'scripts/peers.ts', '--port', String(port), '--env', envFile], { stdio: ['ignore', 'pipe', 'inherit'] });
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  t.teardown(() => child.kill('SIGKILL'));
  let out = '';
  await new Promise<void>((resolve, reject) => {
    child.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString('utf8');
      if (out.includes('Ctrl-C stops the peers')) resolve();
    });
    child.on('exit', (code) => reject(new Error(`peers exited ${code}: ${out}`)));
  });
  const env = Object.fromEntries((await readFile(envFile, 'utf8')).trim().split('\n').map((line) => line.split(/=(.*)/s).slice(0, 2) as [string, string]));
  t.same(Object.keys(env).sort(), ['GCS_API_ENDPOINT', 'GCS_BUCKET', 'GOOGLE_CLOUD_PROJECT', 'KAFKA_BROKERS', 'OPENSEARCH_URL', 'SCHEMA_REGISTRY_URL', 'STREAM_ENDPOINT', 'STREAM_SECRET'], 'every sink but PostgreSQL gets a destination');
  const app = await testApp(t, { sinks: loadConfig(env) });
  const sinks = (await app.inject('/api/v1/sinks')).json() as { name: string; configured: boolean }[];
  t.same(sinks.filter((s) => s.configured).map((s) => s.name).sort(), ['gcs', 'kafka', 'opensearch', 'webhook'], 'the server sees four configured sinks');

  const feed = (await app.inject(`/api/v1/events?${query(WORLD)}&format=ndjson&limit=300`)).body.trimEnd().split('\n');
  const run = async (sink: string, maxEvents: number) => {
    const started = await app.inject({ method: 'POST', url: '/api/v1/streams', payload: { sink, mode: 'replay', speed: 'max', max_events: maxEvents, ...WORLD } });
    t.equal(started.statusCode, 202, `${sink}: 202`);
    const id = (started.json() as { id: string }).id;
    const ended = (await app.inject(`/api/v1/streams/${id}?wait=true`)).json() as { state: string; delivered: number };
    t.same([ended.state, ended.delivered], ['succeeded', maxEvents], `${sink}: ${maxEvents} delivered`);
  };
  await run('kafka', 300);
  await run('webhook', 20);

  const inspect = async (route: string) => (await fetch(`http://127.0.0.1:${port}${route}`)).json() as Promise<unknown>;
  // Counts are sampled once a second: wait for the sample that sees everything.
  let summary: { totals: Record<string, number>; per_minute: Record<string, Record<string, number>> } = { totals: {}, per_minute: {} };
  for (let k = 0; k < 50; k++) {
    summary = (await inspect('/')) as typeof summary;
    const minutes = Object.values(summary.per_minute).flatMap((row) => Object.entries(row));
    const counted = minutes.filter(([name]) => name.startsWith('kafka:')).reduce((a, [, n]) => a + n, 0);
    if (counted === 300 && summary.totals.webhook === 20) break;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  const kafkaTotals = Object.entries(summary.totals).filter(([name]) => name.startsWith('kafka:'));
  t.equal(kafkaTotals.reduce((a, [, n]) => a + n, 0), 300, 'kafka totals: 300 records');
  t.equal(summary.totals.webhook, 20, 'webhook: 20 accepted deliveries');
  const perMinute = Object.values(summary.per_minute).flatMap((row) => Object.entries(row));
  t.equal(perMinute.filter(([name]) => name.startsWith('kafka:')).reduce((a, [, n]) => a + n, 0), 300, 'the per-minute counts add up to the totals');

  // Every record on every topic is the feed's event with that id, byte for byte.
  const byId = new Map(feed.map((line) => [(JSON.parse(line) as { event_id: string }).event_id, line]));
  let compared = 0;
  for (const [name] of kafkaTotals) {
    const records = (await inspect(`/kafka/${encodeURIComponent(name.slice('kafka:'.length))}?limit=10000`)) as { value: string; headers: Record<string, string> }[];
    for (const record of records) {
      t.equal(record.value, byId.get(record.headers['event-id'] as string), `${record.headers['event-id']} equals the feed`);
      compared++;
    }
  }
  t.equal(compared, 300, 'all 300 records served back');
  const hooks = (await inspect('/webhook?limit=100')) as { verified: boolean; body: string }[];
  t.equal(hooks.length, 20, '20 deliveries served back');
  t.ok(hooks.every((h) => h.verified), 'every delivery carries a valid HMAC-SHA512 signature');
  t.same((await fetch(`http://127.0.0.1:${port}/nope`)).status, 404, 'an unknown inspection route is a 404');

  child.kill('SIGTERM');
  t.equal(await exited, 0, 'SIGTERM stops the peers cleanly');
});
