import { availableParallelism } from 'node:os';
import { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { precomputed, type PrecomputedArrays } from '../generators/child-index.js';
import { World, type WorldSpec } from '../generators/world.js';
import { ApiError } from '../plugins/errors.js';
import type { BatchTask } from './batch.js';
import type { PagePlan } from './page.js';

/**
 * A page of an unseeded URL rendered ahead by a worker for a seed it drew (src/render/page.ts):
 * the headers that depend on the seed, the body as sent (encoded with the asked content coding,
 * if any) and the page's size before encoding.
 */
export interface PageAhead {
  readonly headers: Readonly<Record<string, string | number>>;
  readonly body: Uint8Array;
  readonly size: number;
  /** The slot of shared memory the body lies in, if it does: see {@link releasePage}. */
  readonly batch?: SlotBatch;
  released: boolean;
}

/**
 * The page thread writes its batches into slots of memory it shares with the main thread,
 * 8 of 256 KB (PAGE_AHEAD's 2 MB of ready answers): a batch of 32 ten-user pages takes
 * 30-220 KB, by format. A batch that does not fit, or finds no slot free, comes in a buffer
 * of its own, transferred.
 *
 * Why: a transferred buffer is new memory outside the main thread's heap, and V8 starts a full
 * collection of that heap when such memory grows fast. Under an unseeded `users?limit=10` load
 * (~35 MB/s of batches) that was a mark-compact of the ~60 MB heap every 0.2-1 s, 10-16 ms
 * each, during which all ten connections waited: the p99. With views on one shared buffer the
 * same load ran without one (docs/performance.md, "Seventeenth round").
 */
const PAGE_SLOT_BYTES = 256 * 1024;
const PAGE_SLOTS = 8;

/** The slots of one page thread's shared memory, and which are free (main thread's side). */
export class PageSlots {
  readonly memory = new SharedArrayBuffer(PAGE_SLOT_BYTES * PAGE_SLOTS);
  private readonly bytes = Buffer.from(this.memory);
  private readonly free: number[] = [];

  constructor() {
    for (let slot = PAGE_SLOTS - 1; slot >= 0; slot--) this.free.push(slot);
  }

  /** A free slot, taken, or -1 when none is. */
  take(): number {
    return this.free.pop() ?? -1;
  }

  give(slot: number): void {
    if (slot >= 0) this.free.push(slot);
  }

  /** Slots free now (for tests). */
  get available(): number {
    return this.free.length;
  }

  /** `length` bytes at `at` within a slot. */
  view(slot: number, at: number, length: number): Buffer {
    const start = slot * PAGE_SLOT_BYTES + at;
    return this.bytes.subarray(start, start + length);
  }
}

/** The pages of one batch in a slot: the slot is free again once each has been released. */
export class SlotBatch {
  constructor(
    private readonly slots: PageSlots,
    private readonly slot: number,
    private pending: number,
  ) {}

  release(): void {
    if (--this.pending === 0) this.slots.give(this.slot);
  }
}

/**
 * Gives back a page's share of its slot, once its body is no longer needed: its response has
 * closed (its bytes are with the kernel or will never be sent), or it was dropped unwritten.
 * Until then the page thread does not write there. Once per page; a page outside the slots
 * (transferred) needs nothing.
 */
export function releasePage(page: PageAhead): void {
  if (page.batch === undefined || page.released === true) return;
  page.released = true;
  page.batch.release();
}

/**
 * A worker's answer to `{ pages }`: the pages' headers and sizes, their bodies end to end in the
 * slot asked for, or (`bytes`) in a buffer of their own, transferred.
 */
export interface PagesMessage {
  pages: number;
  heads?: Record<string, string | number>[];
  sizes?: number[];
  lengths?: number[];
  bytes?: Uint8Array;
  /** The bodies are in the slot the request named. */
  inSlot?: boolean;
  /** A seed the plan cannot render (another population): the URL is left to the route. */
  unrenderable?: boolean;
  error?: string;
}

/** Page plans a worker keeps (see `renderPages`): a few hundred bytes each. */
const PLANS_KEPT = 256;

/**
 * What a batch asked of the page thread comes to (see `renderPages`): its pages; undefined when
 * a seed's world has another population (the plan cannot render it); an error when the pool
 * closed or the thread died.
 */
export type PagesDone = (pages: PageAhead[] | undefined | Error) => void;

interface PendingPages {
  readonly done: PagesDone;
  /** The slot the batch is written into (-1: none). */
  readonly slot: number;
}

/**
 * A conversation with one worker for the whole of a response (e.g. the feed's clickstream,
 * src/events/split.ts): the worker keeps state under the channel's id until it is closed. The
 * main thread sends requests with {@link send}; the worker's answers arrive at `onMessage`.
 * If the worker dies, `onError` is called once and the channel is closed.
 */
export class WorkerChannel {
  onMessage: (message: Record<string, unknown>) => void = () => {};
  onError: (err: Error) => void = () => {};
  closed = false;

  constructor(
    readonly id: number,
    private readonly worker: Worker,
    private readonly forget: (channel: WorkerChannel) => void,
  ) {}

  send(message: Record<string, unknown>, transfer: ArrayBuffer[] = []): void {
    if (!this.closed) this.worker.postMessage({ ...message, channel: this.id }, transfer);
  }

  /** Ends the conversation: the worker drops the channel's state. Idempotent. */
  close(): void {
    if (this.closed) return;
    this.send({ op: 'close' });
    this.closed = true;
    this.forget(this);
  }

  /** The worker died: fails the channel (no message is sent). */
  fail(err: Error): void {
    if (this.closed) return;
    this.closed = true;
    this.forget(this);
    this.onError(err);
  }
}

interface Pending {
  readonly task: BatchTask;
  readonly resolve: (bytes: Uint8Array) => void;
  readonly reject: (err: Error) => void;
}

// The worker is a sibling module: worker.js when built. Run from source (tests, `npm run dev`),
// it is worker.ts, and the worker registers tsx itself: loader hooks of the parent's --import
// do not reach a worker's entry module on Node 20.
const FROM_SOURCE = fileURLToPath(import.meta.url).endsWith('.ts');
const WORKER_URL = new URL(FROM_SOURCE ? './worker.ts' : './worker.js', import.meta.url);

/**
 * Each worker's young generation is capped at 8 MB. V8 lets it grow to ~48 MB under a steady
 * stream of short-lived records, and so did every worker: peak RSS of the server streaming
 * 1,000,000 users with 2 workers was 342-353 MB against 280-284 MB for a 10,000-row page (1.22-
 * 1.26x); capped, 296-298 against 260-261 MB (1.14-1.15x). The records of a batch die young
 * either way: CPU per row 3.70 against 3.58 µs uncapped (7 interleaved runs in one process,
 * within their spread).
 */
const OPTIONS = { resourceLimits: { maxYoungGenerationSizeMb: 8 } };

function startWorker(workerData?: unknown): Worker {
  if (!FROM_SOURCE) return new Worker(WORKER_URL, { ...OPTIONS, workerData });
  // tsx resolved here, from this module, as src/precompute/pool.ts does: an eval'd worker resolves
  // bare names from the process's working directory, so `ecomgen serve` run from another
  // directory found no tsx, every batch failed and large downloads were cut after their header.
  const bootstrap = `import(${JSON.stringify(import.meta.resolve('tsx/esm/api'))}).then((tsx) => { tsx.register(); return import(${JSON.stringify(WORKER_URL.href)}); })`;
  return new Worker(bootstrap, { eval: true, ...OPTIONS, workerData });
}

/** What a worker started for pages rendered ahead is told (src/render/worker.ts lowers its priority). */
export interface AheadWorkerData {
  ahead: true;
  /** The memory of {@link PageSlots}, shared, and the bytes of each slot. */
  slots: SharedArrayBuffer;
  slotBytes: number;
}

/**
 * Batches a worker holds at once: it starts the next as soon as it has posted one, instead of
 * idling until the main thread has received the result and sent another. With one batch per
 * worker, each batch waited for two thread wake-ups; on a busy machine the threads were idle
 * two thirds of the time (300,000 users: 3.8 s of wall time for 1.3 s of CPU).
 */
const DEPTH = 3;

/** The most render threads started when RENDER_THREADS is not set (see {@link defaultRenderThreads}). */
export const MAX_DEFAULT_RENDER_THREADS = 4;

/**
 * Render threads when RENDER_THREADS is not set: one per processor this process may run on, at
 * most {@link MAX_DEFAULT_RENDER_THREADS}. The main thread only moves the workers' bytes to the
 * socket, so it needs no core of its own: on 2 cores, 2 workers served 1,000,000 users as CSV in
 * about half the time of the main thread alone (docs/performance.md). Each worker holds its own
 * copy of the modules and the world (~45 MB), hence the cap. 0 only if no processor is reported.
 */
export function defaultRenderThreads(processors = availableParallelism()): number {
  return Math.max(0, Math.min(processors, MAX_DEFAULT_RENDER_THREADS));
}

/**
 * A fixed set of worker threads that render batches. Record i is a pure function of its world,
 * so batches can be rendered anywhere in any order; {@link orderedStream} puts them back in
 * order. Workers start on first use and stop with {@link close}.
 */
export class RenderPool {
  private readonly all: Worker[] = [];
  private readonly queue: Pending[] = [];
  /** The batches each worker holds, in the order it answers them. */
  private readonly running = new Map<Worker, Pending[]>();
  /** The keys of each world's precomputed store each worker has been sent (see {@link arraysFor}). */
  private readonly sent = new Map<Worker, WeakMap<World, Set<string>>>();
  /** The main thread's world of a task's spec: a response's tasks share one spec object. */
  private readonly worlds = new WeakMap<WorldSpec, World>();
  /** Open channels, by worker (see {@link openChannel}). */
  private readonly channels = new Map<Worker, Map<number, WorkerChannel>>();
  private nextChannel = 1;
  /** The worker that renders pages ahead (see {@link renderPages}), started on first use. */
  private aheadWorker: Worker | undefined;
  /** Pages asked of the page thread (see {@link renderPages}), by request id. */
  private readonly pageJobs = new Map<Worker, Map<number, PendingPages>>();
  /** The page thread's slots of shared memory (see {@link PageSlots}). */
  private readonly pageSlots = new Map<Worker, PageSlots>();
  /** Batches of pages that came written in a slot, and in a buffer of their own (for tests and measurements). */
  readonly pageBatches = { inSlot: 0, transferred: 0 };
  private nextPages = 1;
  /** Page plans by object, numbered: each worker is sent a plan once and keeps it under its number. */
  private readonly planIds = new WeakMap<PagePlan, number>();
  private nextPlan = 1;
  /** The plans the page thread holds (see {@link renderPages}). */
  private readonly plansSent = new Map<Worker, Set<number>>();
  /** Answers awaited from {@link workerChannelCounts}. */
  private readonly probes: ((count: number) => void)[] = [];
  private closed = false;

  constructor(readonly size: number) {}

  run(task: BatchTask): Promise<Uint8Array> {
    if (this.closed) return Promise.reject(new Error('render pool is closed'));
    return new Promise((resolve, reject) => {
      this.queue.push({ task, resolve, reject });
      this.dispatch();
    });
  }

  /**
   * Starts every worker now rather than with the first large response: a worker's start (its
   * modules, ~0.3-0.9 s of CPU each) was paid inside that response (orders at scale 100: 200,000
   * rows in ~1.5 s on a quiet machine). For a server; see the app's `warmPrecompute`.
   */
  warm(): void {
    while (this.all.length < this.size && !this.closed) this.spawn();
  }

  private spawn(): Worker {
    const worker = startWorker();
    worker.unref();
    this.running.set(worker, []);
    this.sent.set(worker, new WeakMap());
    this.channels.set(worker, new Map());
    worker.on('message', (message: { bytes?: Uint8Array; error?: string; channel?: number; count?: number }) => {
      if (message.channel !== undefined) {
        if (message.channel === 0) this.probes.shift()?.(message.count ?? 0);
        else this.channels.get(worker)?.get(message.channel)?.onMessage(message);
        return;
      }
      const job = this.running.get(worker)?.shift();
      if (job) {
        if (message.bytes) job.resolve(message.bytes);
        else job.reject(new Error(message.error ?? 'render failed'));
      }
      this.dispatch();
    });
    // A worker that throws outside a batch or exits (killed, out of memory) fails the batches it
    // holds and is replaced on the next dispatch; 'exit' follows 'error', so it is dropped once.
    const drop = (err: Error) => {
      const jobs = this.running.get(worker);
      if (!jobs) return;
      this.running.delete(worker);
      this.sent.delete(worker);
      const at = this.all.indexOf(worker);
      if (at >= 0) this.all.splice(at, 1);
      for (const job of jobs) job.reject(err);
      const channels = this.channels.get(worker);
      this.channels.delete(worker);
      for (const channel of channels?.values() ?? []) channel.fail(err);
      if (!this.closed) this.dispatch();
    };
    worker.on('error', drop);
    worker.on('exit', (code) => drop(new Error(`render worker exited (code ${code})`)));
    this.all.push(worker);
    return worker;
  }

  /** The worker holding the fewest batches, if one holds fewer than DEPTH (a new one while fewer than size run). */
  private leastBusy(): Worker | undefined {
    let best: Worker | undefined;
    let least = DEPTH;
    for (const worker of this.all) {
      const held = (this.running.get(worker) as Pending[]).length;
      if (held < least) {
        best = worker;
        least = held;
      }
    }
    if ((best === undefined || least > 0) && this.all.length < this.size && !this.closed) return this.spawn();
    return best;
  }

  private dispatch(): void {
    while (this.queue.length > 0) {
      const worker = this.leastBusy();
      if (!worker) return;
      const job = this.queue.shift() as Pending;
      (this.running.get(worker) as Pending[]).push(job);
      const arrays = this.arraysFor(worker, job.task.spec);
      worker.postMessage(arrays ? { id: 0, task: job.task, arrays } : { id: 0, task: job.task });
    }
  }

  /**
   * The entries of the main thread's precomputed store for the task's world (child-index prefix
   * sums, time orders) that `worker` has not been sent yet; the worker installs them before
   * rendering instead of building them again (for order-items at scale 100 the child index over
   * 500,000 orders cost each worker ~134 ms of CPU per world, 1.4 ms installed; see
   * docs/performance.md). Arrays from the precompute thread are in shared memory, so they are
   * shared, not copied; the few built on this thread (small worlds) are copied once per worker. What a worker keeps is
   * bounded by its own world cache (World.of keeps 16), the store being per world.
   */
  private arraysFor(worker: Worker, spec: WorldSpec): PrecomputedArrays | undefined {
    let world = this.worlds.get(spec);
    if (!world) this.worlds.set(spec, (world = World.of(spec)));
    const store = precomputed(world);
    if (store.size === 0) return undefined;
    const byWorld = this.sent.get(worker) as WeakMap<World, Set<string>>;
    let keys = byWorld.get(world);
    if (!keys) byWorld.set(world, (keys = new Set()));
    let arrays: PrecomputedArrays | undefined;
    for (const [key, array] of store) {
      if (keys.has(key)) continue;
      keys.add(key);
      (arrays ??= new Map()).set(key, array);
    }
    return arrays;
  }

  /**
   * Opens a channel to the worker with the fewest open channels (starting one while fewer than
   * `size` run), sending `open` with the world's precomputed arrays the worker lacks; undefined
   * when the pool is closed or has no threads.
   */
  openChannel(spec: WorldSpec, open: Record<string, unknown>): WorkerChannel | undefined {
    if (this.closed || this.size === 0) return undefined;
    let worker: Worker | undefined;
    let least = Infinity;
    for (const w of this.all) {
      const n = (this.channels.get(w) as Map<number, WorkerChannel>).size;
      if (n < least) {
        worker = w;
        least = n;
      }
    }
    if (!worker || (least > 0 && this.all.length < this.size)) worker = this.spawn();
    const byWorker = this.channels.get(worker) as Map<number, WorkerChannel>;
    const channel = new WorkerChannel(this.nextChannel++, worker, (c) => byWorker.delete(c.id));
    byWorker.set(channel.id, channel);
    const arrays = this.arraysFor(worker, spec);
    channel.send({ ...open, op: 'open', spec, ...(arrays ? { arrays } : {}) });
    return channel;
  }

  /**
   * Renders `count` pages of an unseeded URL ahead on the pool's page thread (see
   * {@link spawnAhead}): each for a new seed the thread draws as the route does
   * (`randomInt(0, 2 ** 32)`), with the seed's headers, the body encoded with `coding` when
   * given; `done` is called once with what it comes to (see {@link PagesDone}).
   *
   * A callback, not a promise: with a promise resolved with the pages, under an unseeded load
   * the main thread promoted ~240-300 KB into its old generation at every scavenge (a full
   * collection every ~20 s, scavenges of ~1.5 ms); with the callback, 14-16 KB and ~0.7 ms
   * (docs/performance.md, "Seventeenth round"). Why the promise's pages outlived two scavenges
   * was not established (no async hook is installed).
   */
  renderPages(plan: PagePlan, coding: string | undefined, count: number, done: PagesDone): void {
    if (this.closed || this.size === 0) {
      queueMicrotask(() => done(new Error('render pool is closed')));
      return;
    }
    const worker = (this.aheadWorker ??= this.spawnAhead());
    const id = this.nextPages++;
    const jobs = this.pageJobs.get(worker) as Map<number, PendingPages>;
    let planId = this.planIds.get(plan);
    if (planId === undefined) this.planIds.set(plan, (planId = this.nextPlan++));
    // A plan crosses to a worker once (its structured clone was ~4% of the main thread's time);
    // a worker keeps at most PLANS_KEPT, dropped together on both sides.
    const sent = this.plansSent.get(worker) as Set<number>;
    const reset = !sent.has(planId) && sent.size >= PLANS_KEPT;
    if (reset) sent.clear();
    const slot = (this.pageSlots.get(worker) as PageSlots).take();
    const message = sent.has(planId) ? { pages: id, planId, coding, count, slot } : { pages: id, planId, plan, reset, coding, count, slot };
    sent.add(planId);
    jobs.set(id, { done, slot });
    (worker as Worker).postMessage(message);
  }

  /**
   * The thread of pages rendered ahead: one, apart from the batch workers (a large download's
   * batches never wait behind it, nor it behind them), at a lower scheduling priority
   * (src/render/worker.ts): it should use a core the main thread leaves idle, not take the main
   * thread's. On a busy machine it then renders less, and the front renders inline as it did
   * without it. Unref'd, stopped with the pool; a dead one fails its requests and is replaced
   * on the next.
   */
  private spawnAhead(): Worker {
    const slots = new PageSlots();
    const worker = startWorker({ ahead: true, slots: slots.memory, slotBytes: PAGE_SLOT_BYTES } satisfies AheadWorkerData);
    worker.unref();
    const jobs = new Map<number, PendingPages>();
    this.pageJobs.set(worker, jobs);
    this.pageSlots.set(worker, slots);
    this.plansSent.set(worker, new Set());
    worker.on('message', (message: PagesMessage) => this.pagesAnswered(worker, message));
    const drop = (err: Error) => {
      if (this.aheadWorker === worker) this.aheadWorker = undefined;
      this.pageJobs.delete(worker);
      this.plansSent.delete(worker);
      this.pageSlots.delete(worker);
      for (const job of jobs.values()) job.done(err);
      jobs.clear();
    };
    worker.on('error', drop);
    worker.on('exit', (code) => drop(new Error(`page render worker exited (code ${code})`)));
    return worker;
  }

  private pagesAnswered(worker: Worker, message: PagesMessage): void {
    const jobs = this.pageJobs.get(worker);
    const job = jobs?.get(message.pages);
    if (!jobs || !job) return;
    jobs.delete(message.pages);
    const slots = this.pageSlots.get(worker) as PageSlots;
    const { heads, sizes, lengths, bytes, inSlot } = message;
    // The slot is kept only for bodies written there, until their pages are released.
    if (inSlot !== true || heads === undefined || heads.length === 0) slots.give(job.slot);
    if (message.unrenderable === true) return job.done(undefined);
    if (heads === undefined || sizes === undefined || lengths === undefined || (bytes === undefined && inSlot !== true)) return job.done(new Error(message.error ?? 'page render failed'));
    const batch = inSlot === true ? new SlotBatch(slots, job.slot, heads.length) : undefined;
    this.pageBatches[batch !== undefined ? 'inSlot' : 'transferred']++;
    const pages: PageAhead[] = [];
    let at = 0;
    for (let k = 0; k < heads.length; k++) {
      const length = lengths[k] as number;
      const body = batch !== undefined ? slots.view(job.slot, at, length) : (bytes as Uint8Array).subarray(at, at + length);
      pages.push({ headers: heads[k] as Record<string, string | number>, body, size: sizes[k] as number, batch, released: false });
      at += length;
    }
    job.done(pages);
  }

  /** The page thread's free slots (for tests); undefined before it starts. */
  get pageSlotsFree(): number | undefined {
    return this.aheadWorker === undefined ? undefined : this.pageSlots.get(this.aheadWorker)?.available;
  }

  /** Channels open on the main thread's side, over all workers (for tests). */
  get openChannels(): number {
    let n = 0;
    for (const byWorker of this.channels.values()) n += byWorker.size;
    return n;
  }

  /** The channel states each running worker holds (for tests: none once every response ended). */
  async workerChannelCounts(): Promise<number[]> {
    const counts: Promise<number>[] = [];
    for (const worker of this.all) {
      counts.push(new Promise((resolve) => this.probes.push(resolve)));
      worker.postMessage({ channel: 0, op: 'count' });
    }
    return Promise.all(counts);
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const byWorker of this.channels.values()) for (const channel of [...byWorker.values()]) channel.fail(new Error('render pool closed'));
    for (const job of this.queue.splice(0)) job.reject(new Error('render pool closed'));
    // Each batch answered once: the thread's exit (drop) finds its jobs already answered.
    for (const jobs of this.pageJobs.values()) {
      for (const job of jobs.values()) job.done(new Error('render pool closed'));
      jobs.clear();
    }
    this.pageJobs.clear();
    this.plansSent.clear();
    const ahead = this.aheadWorker;
    this.aheadWorker = undefined;
    await Promise.all([...this.all.splice(0), ...(ahead ? [ahead] : [])].map((w) => w.terminate()));
    this.running.clear();
    this.sent.clear();
    this.channels.clear();
  }
}

/**
 * Why a response rendered on the worker threads failed before its first byte: the client gets
 * this 503 instead of a 200 (see {@link orderedStream}); the worker's error is its `cause`, logged.
 */
export class RenderError extends ApiError {
  constructor(cause: Error) {
    super(503, 'RENDER_FAILED', 'the render threads failed before the response started (see the server log); retry, or ask the operator');
    this.cause = cause;
  }
}

/**
 * A whole page rendered on the pool: its batches (at most a few) at once, joined with the
 * format's head and tail into one buffer, for the route to send with Content-Length. A batch
 * that fails fails the page with {@link RenderError} (503), before anything is written.
 */
export async function pooledPage(pool: RenderPool, head: string, tasks: Iterable<BatchTask>, tail: string): Promise<Buffer> {
  let parts: Uint8Array[];
  try {
    parts = await Promise.all(Array.from(tasks, (task) => pool.run(task)));
  } catch (err) {
    throw new RenderError(err as Error);
  }
  return Buffer.concat([Buffer.from(head), ...parts, Buffer.from(tail)]);
}

/**
 * A byte stream of `head`, the rendered tasks in order, then `tail`. At most `ahead` tasks are
 * in flight, so memory stays bounded however long the stream; a client that goes away stops
 * further rendering.
 *
 * `head` waits for the first task's bytes, so a failure there (workers that cannot start, a pool
 * closing) fails the stream before anything is written: Fastify then answers with the error
 * handler's 503 ({@link RenderError}) instead of a 200. A task failing later destroys the stream,
 * and Fastify aborts the chunked response (no final chunk), so no client takes the cut body for a
 * whole one.
 */
export function orderedStream(
  pool: RenderPool,
  head: string,
  tasks: Iterator<BatchTask>,
  tail: string,
  ahead: number,
): Readable {
  const done = new Map<number, Uint8Array>();
  let scheduled = 0;
  let pushed = 0;
  let exhausted = false;
  let inFlight = 0;
  let wanting = false;
  let ended = false;
  let started = false;

  const stream = new Readable({
    read() {
      wanting = true;
      pump();
    },
  });

  function start(): void {
    if (started) return;
    started = true;
    if (head) wanting = stream.push(head);
  }

  function pump(): void {
    if (stream.destroyed || ended) return;
    while (!exhausted && inFlight + done.size < ahead) {
      const next = tasks.next();
      if (next.done) {
        exhausted = true;
        break;
      }
      const index = scheduled++;
      inFlight++;
      pool.run(next.value).then(
        (bytes) => {
          inFlight--;
          done.set(index, bytes);
          pump();
        },
        (err: Error) => stream.destroy(started ? err : new RenderError(err)),
      );
    }
    while (wanting && done.has(pushed)) {
      start();
      const bytes = done.get(pushed) as Uint8Array;
      done.delete(pushed++);
      if (bytes.length > 0) wanting = stream.push(bytes);
    }
    if (exhausted && inFlight === 0 && done.size === 0 && wanting) {
      start();
      ended = true;
      if (tail) stream.push(tail);
      stream.push(null);
    }
  }

  return stream;
}
