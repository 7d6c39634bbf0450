// Worker-thread entry of the render pool: renders batches and hands back their UTF-8 bytes.
import { parentPort } from 'node:worker_threads';
import { renderBatch, type BatchTask } from './batch.js';

const encoder = new TextEncoder();

parentPort?.on('message', ({ id, task }: { id: number; task: BatchTask }) => {
  try {
    // Bytes written field by field, or text encoded by TextEncoder, have their own ArrayBuffer,
    // so it is transferred, not copied.
    const rendered = renderBatch(task);
    const bytes = typeof rendered === 'string' ? encoder.encode(rendered) : rendered;
    parentPort?.postMessage({ id, bytes }, [bytes.buffer as ArrayBuffer]);
  } catch (err) {
    parentPort?.postMessage({ id, error: err instanceof Error ? err.message : String(err) });
  }
});
