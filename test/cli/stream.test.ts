import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import path from 'node:path';
import t from 'tap';
import { testApp } from '../support/app.js';
import { inProcess } from '../support/cli.js';
import { webhookReceiver } from '../support/webhook-receiver.js';

const BIN = path.resolve('bin/ecomgen.js');
const SECRET = 'cli-stream-secret-0123456789abcdef';

/** Starts the real bin in a child process; `done` resolves with its exit code and output. */
function ecomgen(args: string[], env: NodeJS.ProcessEnv = {}): { child: ChildProcess; done: Promise<{ code: number | null; stdout: string; stderr: string }> } {
  const child = spawn(process.execPath, [BIN, ...args], { env: { ...process.env, STREAM_ENDPOINT: undefined, STREAM_SECRET: undefined, KAFKA_BROKERS: undefined, DATABASE_URL: undefined, OPENSEARCH_URL: undefined, API_KEY: undefined, ...env } });
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
  child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
  const done = new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => child.on('close', (code) => resolve({ code, stdout, stderr })));
  return { child, done };
}

/** A loopback port nothing listens on (taken, then released). */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

const WORLD = ['--seed', '7', '--scale', '0.01', '--start-date', '2025-01-01', '--end-date', '2025-01-14'];
const QUERY = 'seed=7&scale=0.01&start_date=2025-01-01&end_date=2025-01-14';

/** The sink configuration the commands read, none of it inherited from the test's environment. */
const NO_SINKS = { STREAM_ENDPOINT: undefined, STREAM_SECRET: undefined, KAFKA_BROKERS: undefined, DATABASE_URL: undefined, OPENSEARCH_URL: undefined, API_KEY: undefined };

t.test('ecomgen stream webhook --mode replay --speed max delivers exactly the feed, in order', async (t) => {
  const receiver = await webhookReceiver(t, SECRET);
  // In this process (the command's own code, no tsx start-up); the SIGINT test below runs the bin.
  const result = await inProcess(['stream', 'webhook', '--mode', 'replay', '--speed', 'max', ...WORLD, '--batch-size', '200'], { ...NO_SINKS, STREAM_ENDPOINT: receiver.url, STREAM_SECRET: SECRET });
  t.equal(result.code, 0, result.code === 0 ? 'exit 0' : result.err);
  const app = await testApp(t);
  const feed = (await app.inject(`/api/v1/events?${QUERY}&format=ndjson&limit=10000000`)).body.trim().split('\n').map((line) => JSON.parse(line) as { event_id: string });
  t.ok(feed.length > 1000, `${feed.length} events in the feed`);
  const accepted = receiver.accepted();
  t.ok(receiver.deliveries.every((d) => d.verified), 'every request signed');
  t.same(accepted.map((d) => d.key), feed.map((e) => e.event_id), 'the Idempotency-Keys are the feed\'s event ids, in order');
  t.same(accepted.map((d) => (JSON.parse(d.body) as { event_id: string }).event_id), feed.map((e) => e.event_id), 'the bodies are the events, in order');
  t.match(result.err, new RegExp(`webhook: seed 7, replay -> ${receiver.url.replace(/[.]/g, '\\.')}`));
  t.match(result.err, new RegExp(`succeeded \\(end_of_feed\\).*\\n  delivered ${feed.length}, failed 0`), 'the summary counts every event');
});

t.test('ecomgen stream: SIGINT stops gracefully and reports what was delivered', async (t) => {
  const receiver = await webhookReceiver(t, SECRET);
  // With API_KEY set, the command is its own authorised client (POST to start, DELETE to stop).
  const { child, done } = ecomgen(['stream', 'webhook', '--seed', '7', '--events-per-second', '200', '--no-daily-curve'], { STREAM_ENDPOINT: receiver.url, STREAM_SECRET: SECRET, API_KEY: 'cli-test-api-key-0123456789abcdef' });
  // Wait (by deliveries, not by time) until the live stream is under way, then interrupt it.
  await new Promise<void>((resolve) => {
    const poll = setInterval(() => {
      if (receiver.accepted().length >= 50) {
        clearInterval(poll);
        resolve();
      }
    }, 20);
  });
  child.kill('SIGINT');
  const result = await done;
  t.equal(result.code, 0, result.code === 0 ? 'exit 0 after SIGINT with nothing lost' : result.stderr);
  t.match(result.stderr, /SIGINT: stopping/);
  const summary = /cancelled \(cancelled\)[^\n]*\n {2}delivered (\d+), failed 0/.exec(result.stderr);
  t.ok(summary, 'a summary of the stopped stream');
  t.equal(Number(summary?.[1]), receiver.accepted().length, 'the summary counts exactly what the receiver accepted');
  t.equal(new Set(receiver.accepted().map((d) => d.key)).size, receiver.accepted().length, 'no event twice');
});

t.test('ecomgen stream: an unreachable destination exits 1 naming it', async (t) => {
  const endpoint = `http://127.0.0.1:${await closedPort()}/hooks/ecomgen`;
  // In this process: main's exit code 1 for a failed stream is what the bin exits with.
  const result = await inProcess(['stream', 'webhook', '--mode', 'replay', ...WORLD, '--outage-timeout', '1'], { ...NO_SINKS, STREAM_ENDPOINT: endpoint, STREAM_SECRET: SECRET, STREAM_RETRIES: '0' });
  t.equal(result.code, 1);
  t.match(result.err, `error: webhook destination ${endpoint} unreachable for 1 s, stopped after 0 delivered`);
});

t.test('ecomgen stream: bad flags and missing configuration', async (t) => {
  const env = { STREAM_ENDPOINT: 'http://127.0.0.1/hook', STREAM_SECRET: SECRET };
  for (const [args, message] of [
    [['gcs'], /'gcs' is invalid for argument 'sink'. Allowed choices are kafka, webhook, postgres, opensearch/],
    [['webhook', '--mode', 'sideways'], /argument 'sideways' is invalid. Allowed choices are live, replay/],
    [['webhook', '--speed', '10'], /^error: --speed: applies to mode=replay, not live/],
    [['webhook', '--topic-prefix', 'dev.'], /^error: --topic-prefix: applies to sink kafka, not webhook/],
    [['webhook', '--types', 'order.nope'], /^error: --types: unknown event type 'order.nope'/],
    [['webhook', '--weights', 'orders'], /^error: --weights: expected name:weight pairs/],
    [['webhook', '--weights', 'orders=0,inventory=0'], /^error: --weights: at least one weight must be above 0/],
    [['webhook', '--weights', 'orders:0,inventory:0'], /^error: --weights: at least one weight must be above 0/],
    [['webhook', '--events-per-second', 'fast'], /^error: --events-per-second: must be a number/],
    [['webhook', '--partition', '0/2'], /^error: --partition: a stream plays the whole feed/],
  ] as const) {
    const result = await inProcess(['stream', ...args], env);
    t.equal(result.code, 2, args.join(' '));
    t.match(result.err, message);
  }
  const unconfigured = await inProcess(['stream', 'kafka', '--max-events', '10'], { KAFKA_BROKERS: undefined });
  t.equal(unconfigured.code, 1);
  t.match(unconfigured.err, /^error: kafka is not configured: set KAFKA_BROKERS in the environment/);
  // The real bin: the exit code the shell sees for a usage error.
  const real = await ecomgen(['stream', 'webhook', '--mode', 'sideways'], env).done;
  t.equal(real.code, 2, 'the bin exits 2');
  t.match(real.stderr, /Allowed choices are live, replay/);
});
