// Worker-thread entry of the render pool: renders batches and hands back their UTF-8 bytes.
import { Buffer } from 'node:buffer';
import { readlinkSync } from 'node:fs';
import { setPriority } from 'node:os';
import { parentPort, workerData } from 'node:worker_threads';
import { installPrecomputed, type PrecomputedArrays } from '../generators/child-index.js';
import { World } from '../generators/world.js';
import { renderBytes, type BatchTask } from './batch.js';
import { sessionChannelMessage } from '../events/split.js';
import { isParquetChannelMessage, parquetChannelMessage, parquetFilesHeld } from './parquet.js';
import { randomInt } from 'node:crypto';
import { UNRENDERABLE, encodePage, planContext, renderPage, renderPageBatch, type PagePlan } from './page.js';
import type { AheadWorkerData, PagesMessage } from './pool.js';

/** The memory this thread shares with the main thread for its batches (src/render/pool.ts `PageSlots`), when it is the page thread. */
const { slots: slotMemory, slotBytes = 0 } = (workerData as Partial<AheadWorkerData> | null) ?? {};

/** Slot `slot` of the shared memory, or undefined (none asked, or not the page thread). */
function slotOf(slot: number | undefined): Buffer | undefined {
  return slotMemory === undefined || slot === undefined || slot < 0 ? undefined : Buffer.from(slotMemory, slot * slotBytes, slotBytes);
}

/**
 * Pages of an unseeded URL rendered ahead (src/render/pool.ts `renderPages`): each for a new seed
 * drawn exactly as the route draws one, its headers, size and body (encoded when asked); the
 * bodies end to end in the slot `into` when they fit (`inSlot`), else in one buffer, transferred.
 */
function renderAhead(id: number, plan: PagePlan, coding: string | undefined, count: number, into: Buffer | undefined): PagesMessage {
  const context = planContext(plan);
  // Plain bodies written end to end into one buffer by one writer (see renderPageBatch).
  const batch = coding === undefined ? renderPageBatch(plan, context, count, () => randomInt(0, 2 ** 32), into) : undefined;
  if (batch === UNRENDERABLE) return { pages: id, unrenderable: true };
  if (batch !== undefined) return answerOf(id, batch.heads, batch.lengths, batch.lengths, batch.bytes, into);
  const heads: Record<string, string | number>[] = [];
  const sizes: number[] = [];
  const bodies: Uint8Array[] = [];
  for (let k = 0; k < count; k++) {
    const page = renderPage(plan, context, randomInt(0, 2 ** 32));
    if (page === undefined) return { pages: id, unrenderable: true };
    const raw = typeof page.body === 'string' ? Buffer.from(page.body) : page.body;
    const body = coding === undefined ? raw : encodePage(coding, raw);
    if (body === undefined) return { pages: id, error: `no ${coding} encoding here` };
    heads.push(page.headers);
    sizes.push(raw.length);
    bodies.push(body);
  }
  const total = bodies.reduce((n, b) => n + b.length, 0);
  // In the slot, or in an ArrayBuffer of its own (not Node's shared pool of small buffers), so it can be transferred.
  const bytes = into !== undefined && total <= into.length ? into.subarray(0, total) : new Uint8Array(total);
  let at = 0;
  for (const body of bodies) {
    bytes.set(body, at);
    at += body.length;
  }
  return answerOf(id, heads, sizes, bodies.map((b) => b.length), bytes, into);
}

/** A batch's answer: its bodies are in the slot when `bytes` lies in `into`'s memory, else `bytes` is transferred. */
function answerOf(id: number, heads: Record<string, string | number>[], sizes: number[], lengths: number[], bytes: Uint8Array, into: Buffer | undefined): PagesMessage {
  const inSlot = into !== undefined && bytes.buffer === into.buffer;
  return inSlot ? { pages: id, heads, sizes, lengths, inSlot } : { pages: id, heads, sizes, lengths, bytes };
}

type ChannelMessage = Parameters<typeof sessionChannelMessage>[0] | Parameters<typeof parquetChannelMessage>[0];

// The page thread (src/render/pool.ts `spawnAhead`) renders with the cores the main thread leaves
// idle: its nice value is raised by 10 (Linux sets it per thread; /proc/thread-self names the
// thread). Elsewhere, or if refused, it keeps the process's priority.
if ((workerData as { ahead?: boolean } | null)?.ahead === true) {
  try {
    setPriority(Number(readlinkSync('/proc/thread-self').split('/').pop()), 10);
  } catch {
    // not Linux, or not allowed: the same priority as the main thread
  }
}

type PagesRequest = { pages: number; planId: number; plan?: PagePlan; reset?: boolean; coding: string | undefined; count: number; slot?: number };

/** The page plans this worker was sent, by number (the pool sends each once; `reset` drops them all first). */
const plans = new Map<number, PagePlan>();

parentPort?.on('message', (message: { id: number; task: BatchTask; arrays?: PrecomputedArrays } | ChannelMessage | PagesRequest) => {
  if ('pages' in message) {
    let answer: PagesMessage;
    try {
      if (message.reset === true) plans.clear();
      if (message.plan !== undefined) plans.set(message.planId, message.plan);
      const plan = plans.get(message.planId);
      if (plan === undefined) throw new Error(`page plan ${message.planId} unknown`);
      answer = renderAhead(message.pages, plan, message.coding, message.count, slotOf(message.slot));
    } catch (err) {
      answer = { pages: message.pages, error: err instanceof Error ? err.message : String(err) };
    }
    parentPort?.postMessage(answer, answer.bytes ? [answer.bytes.buffer as ArrayBuffer] : []);
    return;
  }
  // A channel's message (src/render/pool.ts WorkerChannel): a Parquet download (src/render/parquet.ts)
  // or the feed's clickstream walk. The count of states held (channel 0) covers both.
  if ('channel' in message) {
    const post = (answer: object, transfer?: ArrayBuffer[]) => parentPort?.postMessage(answer, transfer ?? []);
    if (isParquetChannelMessage(message)) parquetChannelMessage(message, post);
    else
      sessionChannelMessage(message as Parameters<typeof sessionChannelMessage>[0], (answer, transfer) => {
        const counted = answer as { channel: number; count?: number };
        post(counted.channel === 0 ? { channel: 0, count: (counted.count ?? 0) + parquetFilesHeld() } : answer, transfer);
      });
    return;
  }
  const { id, task, arrays } = message;
  try {
    // The main thread's precomputed arrays of this world (src/render/pool.ts), installed before
    // anything of the world is built, so its generators find them instead of building their own.
    installPrecomputed(World.of(task.spec), arrays);
    // The batch's bytes have their own ArrayBuffer, so it is transferred, not copied.
    const bytes = renderBytes(task);
    parentPort?.postMessage({ id, bytes }, [bytes.buffer as ArrayBuffer]);
  } catch (err) {
    parentPort?.postMessage({ id, error: err instanceof Error ? err.message : String(err) });
  }
});
