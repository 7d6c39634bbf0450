import { setTimeout as sleep } from 'node:timers/promises';
import type { TObject } from '@sinclair/typebox';
import { Argument, type Command } from 'commander';
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../../app.js';
import { ConfigError, loadConfig, type SinkConfig } from '../../config.js';
import { BodySchema, STREAM_SINKS } from '../../routes/streams.js';
import { WorldQueryFields } from '../../schemas/query.js';
import { budgetFromEnv } from '../budget.js';
import { LoadFailed } from './load.js';
import type { Output } from '../output.js';
import { UsageError, addSchemaOption, flagOf, validateAgainst } from '../validate.js';
import { addWorldOptions, worldParams, type WorldFlags } from '../world-options.js';

type StreamFlags = WorldFlags & Record<string, unknown> & { quiet?: boolean; outageTimeout?: string; dailyCurve?: boolean; weights?: string; types?: string };

/** commander's name of a body field's flag: `events_per_second` -> `eventsPerSecond`. */
const attributeOf = (name: string) => name.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase());

/** Body fields with a flag of their own: all but the sink (an argument), the world (shared flags) and the ones parsed by hand. */
const HAND_MADE = new Set(['sink', 'weights', 'types', 'daily_curve', ...Object.keys(WorldQueryFields)]);
const bodyFields = () => Object.entries((BodySchema as TObject).properties).filter(([name]) => !HAND_MADE.has(name));

/**
 * `orders:0.6,interactions:0.3` (the API's `weights=` syntax) or `orders=0.6,...` as the body's
 * weights object (values left to the schema to check).
 */
function parseWeights(text: string): Record<string, string> {
  const weights: Record<string, string> = {};
  const known = Object.keys(((BodySchema as TObject).properties.weights as TObject).properties);
  for (const part of text.split(',')) {
    const match = /^([a-z]+)[:=](.+)$/.exec(part.trim());
    if (!match) throw new UsageError(`--weights: expected name:weight pairs separated by commas, e.g. orders:0.6,interactions:0.3,inventory:0.1; got '${text}'`);
    const name = match[1] as string;
    if (!known.includes(name)) throw new UsageError(`--weights: unknown name '${name}'; known: ${known.join(', ')}`);
    if (name in weights) throw new UsageError(`--weights: ${name} is named twice`);
    weights[name] = match[2] as string;
  }
  return weights;
}

/** The body of POST /api/v1/streams the command line stands for, validated (and coerced) by its schema. */
function bodyOf(sink: string, flags: StreamFlags): Record<string, unknown> {
  if (flags.partition) throw new UsageError('--partition: a stream plays the whole feed (see --from-sequence and --max-events)');
  const body: Record<string, unknown> = { sink, ...worldParams(flags) };
  for (const [name] of bodyFields()) {
    const value = flags[attributeOf(name)];
    if (value !== undefined) body[name] = value;
  }
  if (flags.dailyCurve === false) body.daily_curve = false;
  if (flags.weights !== undefined) body.weights = parseWeights(flags.weights);
  if (flags.types !== undefined) body.types = flags.types.split(',').filter(Boolean);
  return validateAgainst(BodySchema, body);
}

/** A route error as the command line says it: body field names become flags. */
function refused(statusCode: number, message: string): Error {
  const text = message
    .replace(/^sink: /, '')
    .replace(/^([a-z_]+):/, (_, name: string) => `${flagOf(name)}:`).replace("in the server's environment", 'in the environment');
  // 422: over the cost budget, naming the flag to lower (exit 2, as `ecomgen events` says it).
  return statusCode === 400 || statusCode === 422 ? new UsageError(text) : new LoadFailed(text);
}

const rate = (n: number) => (n >= 100 ? n.toFixed(0) : n.toFixed(1));

/** The stream as GET /api/v1/streams/{id} shows it. */
export type StreamView = {
  id: string; sink: string; mode: string; state: string; seed: number; destination: string; running_seconds: number; delivered: number; failed: number; bytes: number;
  batches: number; retries: number; events_per_second: number; average_events_per_second: number; lag_seconds: number; max_lag_seconds: number; outage: boolean;
  last_event_time: string | null; by_type: Record<string, { delivered: number; failed: number }>; defects: Record<string, number>; stop_reason: string | null;
  errors: string[]; error_count: number; error: string | null;
};

function progressLine(s: StreamView): string {
  return `${s.state}: sent ${s.delivered}${s.failed ? `, failed ${s.failed}` : ''}, ${rate(s.events_per_second)} events/s, lag ${s.lag_seconds.toFixed(1)} s${s.outage ? ', destination outage, retrying' : ''}${s.last_event_time ? `, at ${s.last_event_time}` : ''}`;
}

/**
 * Every message the stream kept (the engine keeps the first 50 of `error_count`), e.g. a live
 * stream's "stopped 4.1 s behind its clock": a stream can succeed with fewer events than were
 * due, and this is where the command line says why.
 */
function errorLines(s: StreamView): string[] {
  if (s.error_count === 0 && s.errors.length === 0) return [];
  const dropped = s.error_count - s.errors.length;
  return [`  errors (${s.error_count}${dropped > 0 ? `; the first ${s.errors.length} kept, ${dropped} more not shown` : ''}):`, ...s.errors.map((e) => `    ${e}`)];
}

/** The end-of-stream summary the command prints on stderr. */
export function summary(s: StreamView): string {
  const lines = [
    `${s.sink} -> ${s.destination}: ${s.state} (${s.stop_reason ?? 'running'}) after ${s.running_seconds.toFixed(1)} s`,
    `  delivered ${s.delivered}, failed ${s.failed}, ${s.batches} batches, ${s.retries} retries, ${(s.bytes / 1e6).toFixed(1)} MB, ${rate(s.average_events_per_second)} events/s on average, max lag ${s.max_lag_seconds.toFixed(1)} s`,
    ...Object.entries(s.by_type).map(([type, n]) => `  ${type}: ${n.delivered}${n.failed ? ` (failed ${n.failed})` : ''}`),
  ];
  const defects = Object.entries(s.defects).filter(([, n]) => n > 0);
  if (defects.length > 0) lines.push(`  defects: ${defects.map(([k, n]) => `${k} ${n}`).join(', ')}`);
  lines.push(...errorLines(s));
  return `${lines.join('\n')}\n`;
}

async function stream(output: Output, sink: string, flags: StreamFlags): Promise<void> {
  const body = bodyOf(sink, flags);
  const outageTimeoutMs = Number(flags.outageTimeout ?? 60) * 1000;
  if (!Number.isFinite(outageTimeoutMs) || outageTimeoutMs <= 0) throw new UsageError(`--outage-timeout: expected a number of seconds above 0; got '${flags.outageTimeout}'`);
  let config: SinkConfig;
  try {
    config = loadConfig(process.env);
  } catch (error) {
    if (error instanceof ConfigError) throw new LoadFailed(`invalid configuration: ${error.message}`);
    throw error;
  }
  // The service itself, in this process and never listening: POST /api/v1/streams plans,
  // validates and starts the stream with the same engine and writers as on the server.
  const app: FastifyInstance = await buildApp({ sinks: config, costBudget: budgetFromEnv() });
  const view = async (id: string, wait = false): Promise<StreamView> => (await app.inject(`/api/v1/streams/${id}${wait ? '?wait=true' : ''}`)).json() as StreamView;
  // API_KEY guards POST and DELETE on a server; this process is its own client.
  const headers = config.apiKey ? { authorization: `Bearer ${config.apiKey}` } : {};
  const cancel = (id: string) => void app.inject({ method: 'DELETE', url: `/api/v1/streams/${id}`, headers });
  let id: string | undefined;
  let signalled: string | undefined;
  let closing: Promise<void> | undefined;
  const onSignal = (signal: NodeJS.Signals) => {
    if (signalled !== undefined) {
      // A second signal: shutting the service down stops the stream now (the batch in flight counts as failed).
      closing ??= app.close().then(() => undefined);
      return;
    }
    signalled = signal;
    output.stderr.write(`\n${signal}: stopping (finishing the batch in flight; ${signal} again to stop at once)\n`);
    if (id) cancel(id);
  };
  process.on('SIGINT', onSignal).on('SIGTERM', onSignal);
  try {
    const response = await app.inject({ method: 'POST', url: '/api/v1/streams', payload: body, headers });
    const answer = response.json() as StreamView & { message?: string };
    if (response.statusCode !== 202) throw refused(response.statusCode, answer.message ?? response.body);
    id = answer.id;
    const err = output.stderr;
    if (!flags.quiet) err.write(`${sink}: seed ${answer.seed}, ${answer.mode} -> ${answer.destination}\n`);
    if (signalled) cancel(id);
    let final: StreamView | undefined;
    const finished = view(id, true).then((s) => (final = s));
    let outageSince: number | undefined;
    let shown = performance.now();
    let gaveUp = false;
    while (!final) {
      await Promise.race([finished, sleep(err.isTTY ? 250 : 1000)]);
      if (final) break;
      const s = await view(id);
      const now = performance.now();
      if (s.outage) outageSince ??= now;
      else outageSince = undefined;
      if (!gaveUp && outageSince !== undefined && now - outageSince >= outageTimeoutMs) {
        // Unreachable for too long: a command line says so rather than retrying for hours.
        gaveUp = true;
        cancel(id);
      }
      if (flags.quiet) continue;
      if (err.isTTY) err.write(`\r${progressLine(s)}\x1b[K`);
      else if (now - shown >= 5000) {
        shown = now;
        err.write(`${progressLine(s)}\n`);
      }
    }
    const s = final;
    // --quiet drops the progress and the summary, not the stream's own messages.
    if (!flags.quiet) err.write(`${err.isTTY ? '\r\x1b[K' : ''}${summary(s)}`);
    else if (errorLines(s).length > 0) err.write(`${errorLines(s).join('\n')}\n`);
    const firstErrors = () => `${s.errors.slice(0, 3).join('; ')}${s.error_count > 3 ? ` (and ${s.error_count - 3} more)` : ''}`;
    if (gaveUp) throw new LoadFailed(`${sink} destination ${s.destination} unreachable for ${outageTimeoutMs / 1000} s, stopped after ${s.delivered} delivered: ${firstErrors()}`);
    if (s.state === 'failed') throw new LoadFailed(`${sink} stream to ${s.destination} failed: ${s.error ?? firstErrors()}`);
    if (s.failed > 0) throw new LoadFailed(`${sink} stream to ${s.destination} ${s.state}: ${s.failed} events not delivered: ${firstErrors()}`);
  } finally {
    process.off('SIGINT', onSignal).off('SIGTERM', onSignal);
    await (closing ?? app.close());
  }
}

export function registerStream(program: Command, output: Output): void {
  const command = program
    .command('stream')
    .summary('play the change feed into kafka, webhook, postgres or opensearch, live or as a replay')
    .description(
      'Plays the change feed into a sink in this process, exactly as POST /api/v1/streams does: the same options, validation, engine and writers. Destinations come from the environment (KAFKA_BROKERS, STREAM_ENDPOINT/STREAM_SECRET, DATABASE_URL, OPENSEARCH_URL; see docs/cli.md). ' +
        'Prints progress (sent, rate, lag) on stderr and a summary at the end. SIGINT/SIGTERM stop gracefully (the batch in flight is finished and counted); a second signal stops at once. ' +
        'Exit code 0 when every event sent was delivered (also after a signal), 1 when the stream failed, events were not delivered or the destination stayed unreachable for --outage-timeout, 2 for a bad command line.',
    )
    .addArgument(new Argument('<sink>', 'where the events go').choices([...STREAM_SINKS]));
  addWorldOptions(command);
  command.options.find((option) => option.long === '--partition')?.hideHelp(); // refused: a stream plays the whole feed
  command
    .option('--types <a,b>', 'only these event types, comma-separated (default: all)')
    .option('--weights <mix>', 'live: the event mix, e.g. orders:0.6,interactions:0.3,inventory:0.1 (as /events/live; = also taken)')
    .option('--no-daily-curve', 'live: a flat rate instead of following the day');
  for (const [name, schema] of bodyFields()) addSchemaOption(command, name, schema);
  command
    .option('--outage-timeout <seconds>', 'give up (exit 1) when the destination has been unreachable this long (default 60)')
    .option('-q, --quiet', 'no progress output');
  command.addHelpText(
    'after',
    '\nExamples:\n  KAFKA_BROKERS=localhost:9092 ecomgen stream kafka --seed 42 --events-per-second 100 --weights orders:0.6,interactions:0.3,inventory:0.1 --duration-s 600\n  STREAM_ENDPOINT=https://example.test/hook STREAM_SECRET=... ecomgen stream webhook --mode replay --speed max --seed 42 --users 200\n  DATABASE_URL=postgres://... ecomgen stream postgres --mode replay --speed 3600 --late-ratio 0.05',
  );
  command.action((sink: string, flags: StreamFlags) => stream(output, sink, flags));
}
