/**
 * `npm run peers`: starts the sinks' protocol-level test peers (the ones the test suite drives
 * with the real clients) as standalone servers on loopback, so the sinks and live streams can be
 * tried without Kafka, a Schema Registry, Cloud Storage or OpenSearch: a Kafka wire-protocol
 * broker, a Schema Registry, a signed-webhook receiver, a GCS JSON-API endpoint, an OpenSearch
 * REST peer and (with --postgres) an embedded PostgreSQL.
 *
 * It writes the server's environment for them to `.peers.env` (and prints it), then reports each
 * wall-clock minute how many records arrived where, so a stream's rate can be read off. An
 * inspection API (printed at start) serves what arrived, for comparing with GET /api/v1/events:
 *   GET /            counts per destination and per minute
 *   GET /kafka/<topic>?offset=&limit=   records of a topic (key, value, headers, partition, offset)
 *   GET /webhook?offset=&limit=         webhook deliveries (body, verified, Idempotency-Key)
 *   GET /opensearch/<index>?limit=      documents of an index
 *
 * Everything stays in memory: a long fast stream grows this process (`--no-retain` keeps only
 * Kafka counts). Stop with Ctrl-C.
 */
import { writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { parseArgs } from 'node:util';
import { startGcsServer } from '../test/support/gcs-server.js';
import { KafkaTestBroker } from '../test/support/kafka-broker.js';
import { startOpenSearchPeer } from '../test/support/opensearch-server.js';
import { startPostgres, type PostgresServer } from '../test/support/postgres.js';
import { startSchemaRegistry } from '../test/support/schema-registry.js';
import { webhookReceiver } from '../test/support/webhook-receiver.js';

const { values: flags } = parseArgs({
  options: {
    port: { type: 'string', default: '8099' },
    postgres: { type: 'boolean', default: false },
    'no-retain': { type: 'boolean', default: false },
    secret: { type: 'string', default: 'ecomgen-peers-secret-0123456789abcdef' },
    bucket: { type: 'string', default: 'ecomgen-peers' },
    env: { type: 'string', default: '.peers.env' },
  },
});
const inspectPort = Number(flags.port);
if (!Number.isInteger(inspectPort) || inspectPort < 1 || inspectPort > 65535) {
  console.error(`--port: '${flags.port}' is not a port`);
  process.exit(2);
}

const teardowns: (() => unknown)[] = [];
const owner = { teardown: (fn: () => unknown) => void teardowns.push(fn) };

const kafka = await KafkaTestBroker.start({ retainRecords: !flags['no-retain'], defaultPartitions: 3 });
const registry = await startSchemaRegistry();
const webhook = await webhookReceiver(owner, flags.secret);
const gcs = await startGcsServer(owner, [flags.bucket]);
const opensearch = await startOpenSearchPeer();
const postgres: PostgresServer | undefined = flags.postgres ? await startPostgres() : undefined;

const environment: Record<string, string> = {
  KAFKA_BROKERS: kafka.address,
  SCHEMA_REGISTRY_URL: registry.url,
  STREAM_ENDPOINT: webhook.url,
  STREAM_SECRET: flags.secret,
  GCS_BUCKET: flags.bucket,
  GCS_API_ENDPOINT: gcs.url,
  GOOGLE_CLOUD_PROJECT: 'ecomgen-peers',
  OPENSEARCH_URL: opensearch.url,
  ...(postgres ? { DATABASE_URL: postgres.connectionString } : {}),
};
const envText = Object.entries(environment)
  .map(([name, value]) => `${name}=${value}`)
  .join('\n');
writeFileSync(flags.env, `${envText}\n`);

// Arrivals per wall-clock minute, by destination: sampled every second from the peers' counts.
const perMinute = new Map<string, Map<string, number>>();
const last = new Map<string, number>();
const minuteOf = (ms: number) => new Date(Math.floor(ms / 60_000) * 60_000).toISOString().slice(0, 16) + 'Z';
function counts(): Map<string, number> {
  const now = new Map<string, number>();
  for (const topic of kafka.topics()) now.set(`kafka:${topic.name}`, kafka.recordCount(topic.name));
  now.set('webhook', webhook.accepted().length);
  for (const [name, index] of opensearch.indices) now.set(`opensearch:${name}`, index.docs.size);
  now.set('gcs:objects', gcs.objects.size);
  return now;
}
const sampler = setInterval(() => {
  const minute = minuteOf(Date.now());
  for (const [name, count] of counts()) {
    const added = count - (last.get(name) ?? 0);
    last.set(name, count);
    if (added === 0) continue;
    const row = perMinute.get(minute) ?? new Map<string, number>();
    row.set(name, (row.get(name) ?? 0) + added);
    perMinute.set(minute, row);
  }
}, 1000);
let reported = minuteOf(Date.now());
const reporter = setInterval(() => {
  const minute = minuteOf(Date.now());
  if (minute === reported) return;
  const row = perMinute.get(reported);
  if (row) {
    const total = [...row.values()].reduce((a, b) => a + b, 0);
    const parts = [...row].map(([name, n]) => `${name} ${n}`).join(', ');
    console.log(`${reported}  ${total} records (${(total / 60).toFixed(1)}/s): ${parts}`);
  }
  reported = minute;
}, 1000);

const page = (url: URL, max: number) => {
  const offset = Math.max(0, Number(url.searchParams.get('offset') ?? 0) || 0);
  const limit = Math.min(max, Math.max(1, Number(url.searchParams.get('limit') ?? 100) || 100));
  return { offset, limit };
};

const inspect = createServer((request, response) => {
  const url = new URL(request.url ?? '/', 'http://localhost');
  const send = (status: number, body: unknown) => {
    response.writeHead(status, { 'Content-Type': 'application/json' });
    response.end(`${JSON.stringify(body, null, 2)}\n`);
  };
  const parts = url.pathname.split('/').filter(Boolean).map(decodeURIComponent);
  if (parts.length === 0) {
    return send(200, {
      environment,
      totals: Object.fromEntries(counts()),
      per_minute: Object.fromEntries([...perMinute].map(([minute, row]) => [minute, Object.fromEntries(row)])),
      schema_registry: { subjects: [...new Set(registry.registered.map((r) => r.subject))] },
    });
  }
  if (parts[0] === 'kafka' && parts.length === 2) {
    if (flags['no-retain']) return send(409, { error: 'started with --no-retain: only counts are kept' });
    const { offset, limit } = page(url, 10_000);
    const records = kafka.records(parts[1] as string).slice(offset, offset + limit);
    return send(200, records.map((r) => ({ partition: r.partition, offset: r.offset, timestamp: r.timestamp, key: r.key, headers: r.headers, value: r.value })));
  }
  if (parts[0] === 'webhook' && parts.length === 1) {
    const { offset, limit } = page(url, 10_000);
    return send(200, webhook.deliveries.slice(offset, offset + limit).map((d) => ({ reply: d.reply, verified: d.verified, idempotency_key: d.key, attempt: d.attempt, body: d.body })));
  }
  if (parts[0] === 'opensearch' && parts.length === 2) {
    const index = opensearch.indices.get(parts[1] as string);
    if (!index) return send(404, { error: `no index ${parts[1]}` });
    const { offset, limit } = page(url, 10_000);
    return send(200, [...index.docs].slice(offset, offset + limit).map(([id, doc]) => ({ _id: id, ...doc })));
  }
  return send(404, { error: 'try /, /kafka/<topic>, /webhook or /opensearch/<index>' });
});
await new Promise<void>((resolve, reject) => {
  inspect.once('error', reject);
  inspect.listen(inspectPort, '127.0.0.1', resolve);
});

console.log(`Test peers are up. Their environment is in ${flags.env}:\n\n${envText}\n`);
console.log(`Start the server with it:  env $(cat ${flags.env} | xargs) npm start`);
console.log(`What arrived:              curl -s http://127.0.0.1:${inspectPort}/   (and /kafka/<topic>, /webhook, /opensearch/<index>)`);
console.log('Arrivals are reported here each minute. Ctrl-C stops the peers.\n');

let stopping = false;
async function stop(): Promise<void> {
  if (stopping) return;
  stopping = true;
  clearInterval(sampler);
  clearInterval(reporter);
  inspect.close();
  await Promise.allSettled([kafka.close(), registry.close(), opensearch.close(), postgres?.stop(), ...teardowns.map(async (fn) => fn())]);
  process.exit(0);
}
process.on('SIGINT', () => void stop());
process.on('SIGTERM', () => void stop());
