// Worker-thread entry of the render pool: renders batches and hands back their UTF-8 bytes.
import { parentPort } from 'node:worker_threads';
import { precomputed, type PrecomputedArrays } from '../generators/child-index.js';
import { World } from '../generators/world.js';
import { renderBytes, type BatchTask } from './batch.js';
import { sessionChannelMessage } from '../events/split.js';

type ChannelMessage = Parameters<typeof sessionChannelMessage>[0];

parentPort?.on('message', (message: { id: number; task: BatchTask; arrays?: PrecomputedArrays } | ChannelMessage) => {
  // A channel's message (src/render/pool.ts WorkerChannel): the feed's clickstream walk.
  if ('channel' in message) {
    sessionChannelMessage(message, (answer, transfer) => parentPort?.postMessage(answer, transfer ?? []));
    return;
  }
  const { id, task, arrays } = message;
  try {
    // The main thread's precomputed arrays of this world (src/render/pool.ts), installed before
    // anything of the world is built, so its generators find them instead of building their own.
    if (arrays) {
      const store = precomputed(World.of(task.spec));
      for (const [key, array] of arrays) if (!store.has(key)) store.set(key, array);
    }
    // The batch's bytes have their own ArrayBuffer, so it is transferred, not copied.
    const bytes = renderBytes(task);
    parentPort?.postMessage({ id, bytes }, [bytes.buffer as ArrayBuffer]);
  } catch (err) {
    parentPort?.postMessage({ id, error: err instanceof Error ? err.message : String(err) });
  }
});
