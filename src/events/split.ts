/**
 * The NDJSON feed split over two threads: a render worker walks the sessions' clickstream
 * (about half the feed's events) and writes each event's position-free parts; the main thread
 * walks every other source, merges its steps with the worker's events by the feed's total
 * order (t, src, idx, kind, aux), numbers them and writes the envelope's event_id and sequence
 * around the worker's bytes. Nothing outside the session source reads a session's plan or
 * script, so the sessions-only merge yields exactly the src-3 steps of the whole feed in the
 * same relative order, and neither thread builds what the other built (two earlier designs, in
 * which workers rendered events the main thread's walk had already built, were slower:
 * docs/events.md). Bytes equal the single-thread path's (test/events/split.test.ts).
 */
import { Readable } from 'node:stream';
import { installPrecomputed, type PrecomputedArrays } from '../generators/child-index.js';
import { World, type WorldSpec } from '../generators/world.js';
import type { RenderPool, WorkerChannel } from '../render/pool.js';
import { FeedMerge, FeedWorld, stepType, type Step } from './feed.js';
import { eventJson, eventMiddle, eventTail, NdjsonChunks } from './ndjson.js';
import type { FeedOptions } from './types.js';

/** The session source's number in the merge's order (see FeedMerge). */
const SESSION_SRC = 3;
/** Events per batch from the worker: ~2.5 MB of bytes at scale 10. */
const BATCH = 4096;
/** Batches asked for ahead (in flight or received, not yet merged): memory stays bounded. */
const AHEAD = 3;
/** Steps the main thread merges without handing a chunk on before it yields to the event loop (a `types` filter may drop most). */
const STEPS_PER_TURN = 16_384;

/** A batch of the worker's events: their order keys and their parts' bytes. */
interface SessionBatch {
  readonly n: number;
  readonly times: Float64Array;
  readonly idx: Int32Array;
  readonly aux: Int32Array;
  /**
   * Event j's part before its sequence is bytes [marks[2j], marks[2j+1]), after it
   * [marks[2j+1], marks[2j+2]); both empty when `types` leaves the event out (it still counts
   * in the sequence).
   */
  readonly marks: Int32Array;
  readonly bytes: Uint8Array;
  /** The session source has no events after this batch. */
  readonly done: boolean;
  readonly error?: string;
}

// ---- Worker side -------------------------------------------------------------------------

interface SessionWalk {
  readonly merge: FeedMerge;
  readonly types: ReadonlySet<string> | undefined;
}

/** The walks of this worker, by channel id: dropped on close and at the end of the walk. */
const walks = new Map<number, SessionWalk>();

/** The memory of a merged batch, handed back to the worker to fill again. */
interface Spare {
  readonly times: ArrayBuffer;
  readonly idx: ArrayBuffer;
  readonly aux: ArrayBuffer;
  readonly marks: ArrayBuffer;
  readonly bytes: ArrayBuffer;
}

/**
 * The next batch of a sessions-only walk: up to `max` events, written into `spare` when given
 * (a batch the main thread has merged, sent back: the batches' memory is reused instead of
 * left to the main thread's collector, which frees transferred buffers only when it runs).
 */
function sessionBatch(walk: SessionWalk, max: number, spare?: Spare): SessionBatch {
  const times = spare ? new Float64Array(spare.times) : new Float64Array(max);
  const idx = spare ? new Int32Array(spare.idx) : new Int32Array(max);
  const aux = spare ? new Int32Array(spare.aux) : new Int32Array(max);
  const marks = spare ? new Int32Array(spare.marks) : new Int32Array(2 * max + 1);
  // Its own ArrayBuffer (not the Buffer pool's), so it can be transferred.
  let bytes = spare ? Buffer.from(spare.bytes) : Buffer.allocUnsafeSlow(max * 640);
  let used = 0;
  let n = 0;
  let done = false;
  for (; n < max; n++) {
    const step = walk.merge.next();
    if (!step) {
      done = true;
      break;
    }
    times[n] = step.t;
    idx[n] = step.idx;
    aux[n] = step.aux;
    if (!walk.types || walk.types.has(stepType(step))) {
      const event = walk.merge.event(step, 0);
      const middle = eventMiddle(event);
      const tail = eventTail(event);
      const most = (middle.length + tail.length) * 3;
      if (used + most > bytes.length) {
        const grown = Buffer.allocUnsafeSlow(Math.max(bytes.length * 2, used + most));
        bytes.copy(grown, 0, 0, used);
        bytes = grown;
      }
      used += bytes.write(middle, used);
      marks[2 * n + 1] = used;
      used += bytes.write(tail, used);
    } else {
      marks[2 * n + 1] = used;
    }
    marks[2 * n + 2] = used;
  }
  return { n, times, idx, aux, marks, bytes: new Uint8Array(bytes.buffer, 0, used), done };
}

/**
 * A channel message in a render worker (src/render/worker.ts): `open` starts a sessions-only
 * walk of the world, `more` answers with its next batch (transferred, not copied), `close`
 * drops it; `count` (channel 0) says how many walks the worker holds.
 */
export function sessionChannelMessage(
  message: { channel: number; op: string; spec?: WorldSpec; arrays?: PrecomputedArrays; types?: string[]; part?: number; parts?: number; spare?: Spare },
  post: (message: object, transfer?: ArrayBuffer[]) => void,
): void {
  const { channel, op } = message;
  if (op === 'count') {
    post({ channel: 0, count: walks.size });
    return;
  }
  if (op === 'close') {
    walks.delete(channel);
    return;
  }
  try {
    if (op === 'open') {
      const world = World.of(message.spec as WorldSpec);
      installPrecomputed(world, message.arrays);
      const types = message.types && message.types.length > 0 ? new Set(message.types) : undefined;
      walks.set(channel, { merge: new FeedMerge(FeedWorld.of(world), 'only', message.part ?? 0, message.parts ?? 1), types });
      return;
    }
    const walk = walks.get(channel);
    // A 'more' after the last batch (asked ahead) or after a close: nothing to answer.
    if (op !== 'more' || !walk) return;
    const batch = sessionBatch(walk, BATCH, message.spare);
    if (batch.done) walks.delete(channel);
    post({ channel, ...batch }, [batch.times.buffer, batch.idx.buffer, batch.aux.buffer, batch.marks.buffer, batch.bytes.buffer] as ArrayBuffer[]);
  } catch (err) {
    walks.delete(channel);
    post({ channel, error: err instanceof Error ? err.message : String(err) });
  }
}

// ---- Main thread side --------------------------------------------------------------------

/**
 * Whether a feed request takes the split path: NDJSON from the feed's start, no window, no
 * chaos, no cursor, offset or partition, a large page, and a pool with threads. Everything
 * else keeps the single-thread path.
 */
export function splitApplies(options: FeedOptions, chaos: boolean, afterSequence: number, offset: number, partitioned: boolean, limit: number, pool: RenderPool | null | undefined): pool is RenderPool {
  return (
    pool !== null && pool !== undefined && pool.size > 0 && !chaos && afterSequence < 0 && offset === 0 && !partitioned &&
    options.start === undefined && options.end === undefined && limit > SPLIT_MIN
  );
}

/** The smallest page (in events) the split path serves: below it, the worker's start-up does not pay. */
export const SPLIT_MIN = 20_000;

/** One worker's share of the sessions: its batches, asked for ahead and merged in turn. */
class Lane {
  readonly queue: SessionBatch[] = [];
  asked = 0;
  batch: SessionBatch | undefined;
  at = 0;
  ended = false;

  constructor(readonly channel: WorkerChannel) {}

  /** Merged batches whose memory goes back to the worker with the next request. */
  private readonly spares: SessionBatch[] = [];

  /** Keeps AHEAD batches asked for or received (none after the last). */
  ask(): void {
    if (this.ended || this.batch?.done || this.queue.some((b) => b.done)) return;
    while (this.asked + this.queue.length < AHEAD) {
      const used = this.spares.pop();
      if (used) {
        const spare: Spare = { times: used.times.buffer, idx: used.idx.buffer, aux: used.aux.buffer, marks: used.marks.buffer, bytes: used.bytes.buffer } as Spare;
        this.channel.send({ op: 'more', spare }, [spare.times, spare.idx, spare.aux, spare.marks, spare.bytes]);
      } else {
        this.channel.send({ op: 'more' });
      }
      this.asked++;
    }
  }

  /** Whether the lane has a current event or has ended; false when its next batch has not come yet. */
  ready(): boolean {
    while (!this.ended && (this.batch === undefined || this.at >= this.batch.n)) {
      if (this.batch?.done) {
        this.ended = true;
        break;
      }
      const next = this.queue.shift();
      if (!next) return false;
      // Merged: its bytes were copied into the chunks, so its memory can be filled again.
      if (this.batch) this.spares.push(this.batch);
      this.batch = next;
      this.at = 0;
      this.ask();
    }
    return true;
  }
}

/**
 * The feed of a prepared world (see prepareFeed) as NDJSON, its clickstream (about 70% of the
 * events) rendered on the render workers, each walking its share of the sessions: up to
 * `limit` events of `options.types` (all when none). Undefined when the pool cannot open a
 * channel. The stream fails (destroyed with an error) if a worker dies; destroying it (a
 * client hang-up) closes the workers' walks.
 */
export function splitNdjsonStream(pool: RenderPool, world: World, options: FeedOptions, limit: number): Readable | undefined {
  const types = options.types && options.types.length > 0 ? new Set<string>(options.types) : undefined;
  const parts = pool.size;
  const lanes: Lane[] = [];
  for (let part = 0; part < parts; part++) {
    const channel = pool.openChannel(world.spec, { types: types ? [...types] : [], part, parts });
    if (!channel) {
      for (const lane of lanes) lane.channel.close();
      return undefined;
    }
    lanes.push(new Lane(channel));
  }
  const feed = FeedWorld.of(world);
  const merge = new FeedMerge(feed, 'off');
  const prefix = `ev-${feed.fingerprint}-`;
  const out = new NdjsonChunks();
  let step: Step | undefined;
  let mainEnded = false;
  let sequence = 0;
  let delivered = 0;
  let waiting = false;
  let finished = false;

  const closeAll = () => {
    finished = true;
    for (const lane of lanes) lane.channel.close();
  };

  const stream = new Readable({
    read() {
      pump();
    },
    destroy(err, callback) {
      closeAll();
      callback(err);
    },
  });

  for (const lane of lanes) {
    lane.channel.onMessage = (message) => {
      const received = message as unknown as SessionBatch;
      if (received.error !== undefined) {
        stream.destroy(new Error(`clickstream worker: ${received.error}`));
        return;
      }
      lane.asked--;
      lane.queue.push(received);
      if (waiting) {
        waiting = false;
        pump();
      }
    };
    lane.channel.onError = (err) => stream.destroy(err);
  }

  function finish(): void {
    closeAll();
    const rest = out.rest();
    if (rest) stream.push(rest);
    stream.push(null);
  }

  function pump(): void {
    if (finished || stream.destroyed) return;
    for (let turn = 0; turn < STEPS_PER_TURN; turn++) {
      // The first of the lanes' current events, by (t, idx, aux): all are src 3, Interaction.
      let first: Lane | undefined;
      for (const lane of lanes) {
        if (!lane.ready()) {
          waiting = true;
          return;
        }
        if (lane.ended) continue;
        const b = lane.batch as SessionBatch;
        if (first === undefined) {
          first = lane;
          continue;
        }
        const f = first.batch as SessionBatch;
        const t = b.times[lane.at] as number;
        const ft = f.times[first.at] as number;
        if (t < ft || (t === ft && ((b.idx[lane.at] as number) < (f.idx[first.at] as number) || (b.idx[lane.at] === f.idx[first.at] && (b.aux[lane.at] as number) < (f.aux[first.at] as number))))) {
          first = lane;
        }
      }
      if (step === undefined && !mainEnded) {
        step = merge.next();
        if (!step) mainEnded = true;
      }
      let full: Buffer | undefined;
      const firstTime = first ? ((first.batch as SessionBatch).times[first.at] as number) : Infinity;
      if (step !== undefined && (first === undefined || step.t < firstTime || (step.t === firstTime && step.src < SESSION_SRC))) {
        if (!types || types.has(stepType(step))) {
          full = out.line(eventJson(merge.event(step, sequence)));
          delivered++;
        }
        step = undefined;
      } else if (first !== undefined) {
        const b = first.batch as SessionBatch;
        const j = 2 * first.at;
        const start = b.marks[j] as number;
        const middle = b.marks[j + 1] as number;
        const end = b.marks[j + 2] as number;
        if (middle > start) {
          full = out.splice(prefix, sequence, b.bytes, start, middle, end);
          delivered++;
        }
        first.at++;
      } else {
        finish();
        return;
      }
      sequence++;
      if (delivered >= limit) {
        if (full) stream.push(full);
        finish();
        return;
      }
      if (full && !stream.push(full)) return;
    }
    // A long run of steps `types` leaves out: let the event loop breathe, then go on.
    setImmediate(pump);
  }

  for (const lane of lanes) lane.ask();
  return stream;
}
