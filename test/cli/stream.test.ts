import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import path from 'node:path';
import t from 'tap';
import { summary, type StreamView } from '../../src/cli/commands/stream.js';
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

t.test("ecomgen stream: a live stream stopped behind its clock prints the engine's note in its summary", async (t) => {
  const receiver = await webhookReceiver(t, SECRET);
  // 20 events/s are due, and a 200 ms pause between two requests lets at most 5/s through: the
  // stream ends its 2 s well behind its clock (batches of 2 keep the backlog waiting rather than
  // collected), with nothing failed (exit 0), and only its errors say that most of the events due
  // were not sent.
  const result = await inProcess(['stream', 'webhook', '--seed', '7', '--events-per-second', '20', '--no-daily-curve', '--duration-s', '2', '--delay-ms', '200', '--batch-size', '2'], {
    ...NO_SINKS,
    STREAM_ENDPOINT: receiver.url,
    STREAM_SECRET: SECRET,
  });
  t.equal(result.code, 0, result.code === 0 ? 'exit 0: nothing failed' : result.err);
  const delivered = /succeeded \(duration\)[^\n]*\n {2}delivered (\d+), failed 0/.exec(result.err);
  t.equal(Number(delivered?.[1]), receiver.accepted().length, 'the summary counts what the receiver accepted');
  const note = /\n {2}errors \(1\):\n {4}stopped (\d+\.\d) s behind its clock: the events due from (\S+) were not sent \(nor counted as failed\); GET \/api\/v1\/events\/live has them\n$/.exec(result.err);
  t.ok(note, `the summary ends with the engine's note:\n${result.err}`);
  t.ok(Number(note?.[1]) > 0.25, `${note?.[1]} s behind`);
  const lastSent = receiver.accepted().at(-1);
  const lastTime = lastSent === undefined ? '' : (JSON.parse(lastSent.body) as { event_time: string }).event_time;
  t.ok(Date.parse(note?.[2] ?? '') >= Date.parse(lastTime), `the events not sent are due from ${note?.[2]}, not before the last sent (${lastTime})`);

  // --quiet drops the progress and the summary, not the note.
  // (2 s as above: in 1 s the few events due may all get through; the stream's first minute is
  // planned before its clock starts, so planning no longer puts it behind from the start.)
  const quiet = await inProcess(['stream', 'webhook', '--seed', '7', '--events-per-second', '20', '--no-daily-curve', '--duration-s', '2', '--delay-ms', '200', '--batch-size', '2', '--quiet'], {
    ...NO_SINKS,
    STREAM_ENDPOINT: receiver.url,
    STREAM_SECRET: SECRET,
  });
  t.equal(quiet.code, 0);
  t.match(quiet.err, /^ {2}errors \(1\):\n {4}stopped \d+\.\d s behind its clock: the events due from \S+ were not sent/, quiet.err);
});

t.test('ecomgen stream: the summary lists every error kept and says how many more there were', async (t) => {
  const view: StreamView = {
    id: 'x', sink: 'webhook', mode: 'replay', state: 'succeeded', seed: 7, destination: 'http://127.0.0.1/hook', running_seconds: 3, delivered: 10, failed: 73, bytes: 2_000_000,
    batches: 2, retries: 0, events_per_second: 0, average_events_per_second: 3.3, lag_seconds: 0, max_lag_seconds: 0, outage: false, last_event_time: null,
    by_type: { 'order.placed': { delivered: 10, failed: 73 } }, defects: {}, stop_reason: 'end_of_feed', error_count: 73, error: null,
    errors: Array.from({ length: 50 }, (_, i) => `event ev-${i}: HTTP 422 (not retried)`),
  };
  const lines = summary(view).split('\n');
  t.same(lines.slice(0, 4), [
    'webhook -> http://127.0.0.1/hook: succeeded (end_of_feed) after 3.0 s',
    '  delivered 10, failed 73, 2 batches, 0 retries, 2.0 MB, 3.3 events/s on average, max lag 0.0 s',
    '  order.placed: 10 (failed 73)',
    '  errors (73; the first 50 kept, 23 more not shown):',
  ]);
  t.same(lines.slice(4), [...view.errors.map((e) => `    ${e}`), ''], 'every kept error, one a line');
  t.notMatch(summary({ ...view, errors: [], error_count: 0 }), /errors/, 'no errors: no errors line');
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
