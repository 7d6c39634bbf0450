// Worker-thread entry of the render pool: renders batches and hands back their UTF-8 bytes.
import { parentPort } from 'node:worker_threads';
import { renderBytes, type BatchTask } from './batch.js';

parentPort?.on('message', ({ id, task }: { id: number; task: BatchTask }) => {
  try {
    // The batch's bytes have their own ArrayBuffer, so it is transferred, not copied.
    const bytes = renderBytes(task);
    parentPort?.postMessage({ id, bytes }, [bytes.buffer as ArrayBuffer]);
  } catch (err) {
    parentPort?.postMessage({ id, error: err instanceof Error ? err.message : String(err) });
  }
});
