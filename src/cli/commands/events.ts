import { createWriteStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import path from 'node:path';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { Option, type Command } from 'commander';
import { EVENT_TYPE_NAMES } from '../../events/catalogue.js';
import { retainPrecompute } from '../../precompute/prepare.js';
import { DefectsQuery, EventsQuery, feedDefects, feedPage, type EventsQueryType } from '../../routes/events.js';
import { budgetFromEnv } from '../budget.js';
import { Interrupted, watchSignals, writeWhole, type SignalWatch } from '../interrupt.js';
import type { OutStream, Output } from '../output.js';
import { UsageError, validateAgainst } from '../validate.js';
import { addWorldOptions, worldParams, type WorldFlags } from '../world-options.js';

const EVENT_FORMATS = ['ndjson', 'json', 'csv', 'xml'] as const;

interface EventsFlags extends WorldFlags {
  types?: string;
  start?: string;
  end?: string;
  lateRatio?: string;
  duplicateRatio?: string;
  badRatio?: string;
  maxLateness?: string;
  limit?: string;
  offset?: string;
  after?: string;
  format: (typeof EVENT_FORMATS)[number];
  out: string;
  defects?: boolean;
  quiet?: boolean;
}

const mb = (bytes: number) => `${(bytes / 1e6).toFixed(1)} MB`;

/**
 * Bytes written so far, shown on stderr: a line rewritten in place on a terminal, a plain line
 * every 10 s otherwise (the event count is not known before the feed has been walked).
 */
class Meter extends Transform {
  bytes = 0;
  /** Lines written: one per event in NDJSON and CSV (no event's text holds a raw newline), after CSV's header. */
  private lines = 0;
  private readonly started = performance.now();
  private shown = 0;
  constructor(
    private readonly err: OutStream | undefined,
    private readonly headerLines: number | undefined,
  ) {
    super();
  }
  private get written(): string {
    return this.headerLines === undefined ? mb(this.bytes) : `${Math.max(0, this.lines - this.headerLines)} events, ${mb(this.bytes)}`;
  }
  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: () => void) {
    this.bytes += chunk.length;
    if (this.headerLines !== undefined) for (let i = chunk.indexOf(10); i !== -1; i = chunk.indexOf(10, i + 1)) this.lines++;
    const now = performance.now();
    if (this.err && now - this.shown >= (this.err.isTTY ? 200 : 10_000)) {
      this.shown = now;
      this.err.write(this.err.isTTY ? `\revents: ${this.written} written` : `events: ${this.written} written\n`);
    }
    this.push(chunk);
    callback();
  }
  summary(target: string): string {
    const seconds = (performance.now() - this.started) / 1000;
    return `${this.err?.isTTY ? '\r' : ''}events: ${this.written} in ${seconds.toFixed(1)} s -> ${target}\n`;
  }
}

/**
 * Writes to stdout and resolves once everything written so far has gone out: a pipe's writes are
 * asynchronous, and the process exits as soon as the command resolves.
 */
const flushed = (stdout: OutStream, text: string) =>
  new Promise<void>((resolve, reject) => {
    // A failed write is also emitted as 'error' (after the callback): without a listener it would end the process.
    stdout.once('error', reject);
    stdout.write(text, (error) => {
      if (error) return reject(error);
      stdout.off('error', reject);
      resolve();
    });
  });

/** Whether writing failed because the reader of a pipe closed it (EPIPE), not for a fault of ours. */
const readerLeft = (error: unknown): boolean => (error as NodeJS.ErrnoException | undefined)?.code === 'EPIPE';

/** The query of GET /api/v1/events (or /defects) the flags stand for, in the route's own names. */
function queryOf(flags: EventsFlags): Record<string, unknown> {
  const query = worldParams(flags);
  const feed: Record<string, string | undefined> = {
    types: flags.types,
    start: flags.start,
    end: flags.end,
    late_ratio: flags.lateRatio,
    duplicate_ratio: flags.duplicateRatio,
    bad_ratio: flags.badRatio,
    max_lateness: flags.maxLateness,
  };
  for (const [name, value] of Object.entries(feed)) if (value !== undefined) query[name] = value;
  return query;
}

/** The command, holding the precompute thread the feed may use until it ends (so it ends in a test's process too). */
async function events(output: Output, flags: EventsFlags): Promise<void> {
  const release = retainPrecompute();
  // Into a file, Ctrl-C leaves no half-written file: it is written under a temporary name and renamed when whole.
  const watch = flags.out === '-' ? undefined : watchSignals();
  try {
    await writeEvents(output, flags, watch);
  } catch (error) {
    if (watch?.received) throw new Interrupted(`${flags.out} not written (no partial file left)`, watch.received);
    throw error;
  } finally {
    watch?.dispose();
    await release();
  }
}

/** Refuses an --out file whose directory is missing before any work (it ended in an unhandled ENOENT after the feed was prepared). */
async function checkOut(file: string): Promise<void> {
  const directory = path.dirname(path.resolve(file));
  const info = await stat(directory).catch(() => undefined);
  if (info === undefined) throw new UsageError(`--out: directory '${directory}' does not exist`);
  if (!info.isDirectory()) throw new UsageError(`--out: '${directory}' is not a directory`);
  if ((await stat(file).catch(() => undefined))?.isDirectory()) throw new UsageError(`--out: '${file}' is a directory; give a file name`);
}

async function writeEvents(output: Output, flags: EventsFlags, watch: SignalWatch | undefined): Promise<void> {
  const query = queryOf(flags);
  const toStdout = flags.out === '-';
  if (!toStdout) await checkOut(flags.out);
  /** Writes the whole file, or nothing: a temporary file renamed at the end, removed on an error or a signal. */
  const toFile = (...streams: Readable[]) =>
    writeWhole(flags.out, (temporary) => pipeline([...streams, createWriteStream(temporary)], watch ? { signal: watch.signal } : {}));
  const meter = new Meter(flags.quiet ? undefined : output.stderr, flags.format === 'ndjson' ? 0 : flags.format === 'csv' ? 1 : undefined);
  if (flags.defects) {
    const { world, defects } = await feedDefects(validateAgainst(DefectsQuery, query) as never, budgetFromEnv());
    if (!flags.quiet) output.stderr.write(`seed ${world.seed}: ${defects.length} defects\n`);
    const json = JSON.stringify(defects);
    if (toStdout) await flushed(output.stdout, json).catch((error: unknown) => {
      if (!readerLeft(error)) throw error;
    });
    else
      await toFile(Readable.from([json]));
    return;
  }
  for (const [name, value] of Object.entries({ limit: flags.limit, offset: flags.offset, after: flags.after })) if (value !== undefined) query[name] = value;
  query.format = flags.format;
  const validated = validateAgainst(EventsQuery, query) as EventsQueryType;
  // The route's default page is 1,000 events; the command writes the whole feed unless told.
  const page = await feedPage(validated, flags.format, flags.limit !== undefined ? (validated.limit ?? 1000) : Number.POSITIVE_INFINITY, undefined, budgetFromEnv());
  if (!flags.quiet) {
    const slice = page.range ? `, partition ${validated.partition}/${validated.partitions}: events ${page.range.start}-${page.range.end}` : '';
    output.stderr.write(`seed ${page.world.seed}${slice}\n`);
  }
  if (toStdout) {
    try {
      await pipeline(page.body, meter, output.stdout, { end: false });
      await flushed(output.stdout, '');
    } catch (error) {
      // The reader left (`ecomgen events | head`): the feed stops there, as a pipe's writer does, without a stack trace.
      if (!readerLeft(error)) throw error;
      if (!flags.quiet) output.stderr.write(meter.summary('stdout (closed by its reader)'));
      return;
    }
  } else await toFile(page.body, meter);
  if (!flags.quiet) output.stderr.write(meter.summary(toStdout ? 'stdout' : flags.out));
}

export function registerEvents(program: Command, output: Output): void {
  const command = program
    .command('events')
    .summary("write a world's change feed (or its defects list)")
    .description(
      "Writes the world's change feed, byte for byte the body of GET /api/v1/events for the same parameters (the whole feed unless --limit), or with --defects the JSON of GET /api/v1/events/defects.\n" +
        `Event types: ${EVENT_TYPE_NAMES.join(', ')}.`,
    );
  addWorldOptions(command);
  command
    .option('--types <a,b>', 'only these event types, comma-separated (sequence numbers stay those of the whole feed)')
    .option('--start <time>', 'only events at or after this time (ISO 8601 or YYYY-MM-DD), inside the world window')
    .option('--end <time>', 'only events before this time (exclusive; a date means the end of that day)')
    .option('--late-ratio <x>', 'share of events delivered late (0-1), labelled defect=late')
    .option('--duplicate-ratio <x>', 'share of events delivered twice (0-1), labelled defect=duplicate')
    .option('--bad-ratio <x>', 'share of events preceded by a malformed copy (0-1), labelled defect=bad')
    .option('--max-lateness <seconds>', 'longest delay of a late event (default 300)')
    .option('--limit <n>', 'at most n events (default: the whole feed)')
    .option('--offset <n>', 'delivered events to skip first')
    .option('--after <event_id>', 'resume after this event id')
    .addOption(new Option('--format <format>', 'output format').choices([...EVENT_FORMATS]).default('ndjson'))
    .option('--out <file>', "file to write, or '-' for stdout", '-')
    .addOption(new Option('--defects', 'write the defects list (JSON) instead of the events').conflicts(['partition', 'limit', 'offset', 'after']))
    .option('-q, --quiet', 'no progress output');
  command.addHelpText(
    'after',
    '\nExamples:\n  ecomgen events --seed 42 --users 200 --format ndjson --out events.ndjson\n  ecomgen events --seed 42 --types order.placed,payment.captured --format csv > orders.csv\n  ecomgen events --seed 42 --partition 1/4 --out part1.ndjson   # worker 1 of 4\n  ecomgen events --seed 42 --late-ratio 0.05 --defects --out defects.json',
  );
  command.action((flags: EventsFlags) => events(output, flags));
}
