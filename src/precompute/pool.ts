import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { PrecomputeTask } from './tasks.js';

// The worker is a sibling module: worker.js when built; from source (tests, `npm run dev`) it is
// worker.ts and registers tsx itself, as the render pool's worker does (loader hooks of the
// parent's --import do not reach a worker's entry module on Node 20). Hand-written rather than
// a pool library for that reason and because it needs only a couple of threads and a result cache.
const FROM_SOURCE = fileURLToPath(import.meta.url).endsWith('.ts');
const WORKER_URL = new URL(FROM_SOURCE ? './worker.ts' : './worker.js', import.meta.url);

function startWorker(heapMb: number): Worker {
  const resourceLimits = { maxOldGenerationSizeMb: heapMb };
  if (!FROM_SOURCE) return new Worker(WORKER_URL, { resourceLimits });
  // tsx resolved here, from this module: an eval'd worker resolves bare names from the process's
  // working directory, so `ecomgen` run from another directory found no tsx and every
  // precomputation failed.
  const bootstrap = `import(${JSON.stringify(import.meta.resolve('tsx/esm/api'))}).then((tsx) => { tsx.register(); return import(${JSON.stringify(WORKER_URL.href)}); })`;
  return new Worker(bootstrap, { eval: true, resourceLimits });
}

interface Pending {
  readonly task: PrecomputeTask;
  readonly resolve: (result: unknown) => void;
  readonly reject: (err: Error) => void;
}

/** A precompute thread died or was stopped: the request gets a 503, the server lives on. */
export class PrecomputeError extends Error {}

/** One thread of the pool and the task it runs. */
interface Slot {
  worker: Worker | undefined;
  current: Pending | undefined;
}

/**
 * Runs work that grows with a world (manifests, analytics aggregates) on background threads,
 * so the event loop only waits for a message. Results are cached by task (the most recent
 * `cacheSize`), and concurrent requests for the same task share one computation. A task that
 * kills its thread (out of memory past `heapMb`) fails alone; the next task starts a fresh
 * thread. Threads start on first use, one per task waiting, up to `threads`.
 *
 * @example
 * const pool = new PrecomputePool();
 * const data = await pool.run('manifest:42', { kind: 'manifest', spec, entities: ['orders'] });
 */
export class PrecomputePool {
  private readonly slots: Slot[];
  private readonly queue: Pending[] = [];
  private readonly results = new Map<string, Promise<unknown>>();
  private closed = false;

  constructor(
    private readonly cacheSize = 16,
    private readonly heapMb = 1024,
    threads = 1,
  ) {
    this.slots = Array.from({ length: Math.max(1, threads) }, () => ({ worker: undefined, current: undefined }));
  }

  /** Threads of the pool (started or not). */
  get size(): number {
    return this.slots.length;
  }

  /**
   * The result of `task`, computed once per `key` (shared by concurrent callers, then cached;
   * with `keep: false`, forgotten once settled, for results the caller keeps itself).
   */
  run<T>(key: string, task: PrecomputeTask, keep = true): Promise<T> {
    let result = this.results.get(key);
    if (result) {
      this.results.delete(key);
    } else {
      result = new Promise<unknown>((resolve, reject) => {
        if (this.closed) return reject(new PrecomputeError('the server is shutting down'));
        this.queue.push({ task, resolve, reject });
        this.dispatch();
      });
      // A failure is not cached: the next request tries again.
      const forget = () => {
        if (this.results.get(key) === result) this.results.delete(key);
      };
      result.then(keep ? () => undefined : forget, forget);
      if (this.results.size >= this.cacheSize) this.results.delete(this.results.keys().next().value as string);
    }
    this.results.set(key, result);
    return result as Promise<T>;
  }

  private dispatch(): void {
    if (this.closed) return;
    for (const slot of this.slots) {
      if (slot.current) continue;
      const next = this.queue.shift();
      if (!next) return;
      slot.current = next;
      slot.worker ??= this.spawn(slot);
      slot.worker.postMessage({ id: 0, task: next.task });
    }
  }

  private spawn(slot: Slot): Worker {
    const worker = startWorker(this.heapMb);
    worker.unref();
    worker.on('message', (message: { result?: unknown; error?: string }) => {
      const job = slot.current;
      slot.current = undefined;
      if (message.error !== undefined) job?.reject(new Error(message.error));
      else job?.resolve(message.result);
      this.dispatch();
    });
    const lost = (reason: string) => {
      if (slot.worker !== worker) return;
      slot.worker = undefined;
      const job = slot.current;
      slot.current = undefined;
      job?.reject(new PrecomputeError(reason));
      this.dispatch();
    };
    worker.on('error', (err) => lost(`the precompute thread failed: ${err.message}`));
    worker.on('exit', (code) => lost(`the precompute thread stopped (exit code ${code})`));
    return worker;
  }

  /**
   * Starts every thread now (each loads its modules: ~0.3 s of CPU, seconds on a busy host),
   * so the first task does not wait for that.
   */
  warm(): void {
    if (this.closed) return;
    for (const slot of this.slots) slot.worker ??= this.spawn(slot);
  }

  /** Stops the threads; pending and queued tasks fail with PrecomputeError. */
  async close(): Promise<void> {
    this.closed = true;
    for (const job of this.queue.splice(0)) job.reject(new PrecomputeError('the server is shutting down'));
    await Promise.all(this.slots.map((slot) => slot.worker?.terminate()));
  }
}
