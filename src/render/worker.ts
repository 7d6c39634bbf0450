// Worker-thread entry of the render pool: renders batches and hands back their UTF-8 bytes.
import { parentPort } from 'node:worker_threads';
import { renderBatch, type BatchTask } from './batch.js';

const encoder = new TextEncoder();

parentPort?.on('message', ({ id, task }: { id: number; task: BatchTask }) => {
  try {
    // TextEncoder gives the bytes their own ArrayBuffer, so it can be transferred, not copied.
    const bytes = encoder.encode(renderBatch(task));
    parentPort?.postMessage({ id, bytes }, [bytes.buffer]);
  } catch (err) {
    parentPort?.postMessage({ id, error: err instanceof Error ? err.message : String(err) });
  }
});
