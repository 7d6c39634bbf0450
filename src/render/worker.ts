// Worker-thread entry of the render pool: renders batches and hands back their UTF-8 bytes.
import { parentPort } from 'node:worker_threads';
import { renderFeedBatch } from '../events/render.js';
import { renderBatch } from './batch.js';
import type { RenderTask } from './pool.js';

const encoder = new TextEncoder();

parentPort?.on('message', ({ id, task }: { id: number; task: RenderTask }) => {
  try {
    // Bytes written field by field, or text encoded by TextEncoder, have their own ArrayBuffer,
    // so it is transferred, not copied.
    const rendered = 'feed' in task ? renderFeedBatch(task) : renderBatch(task);
    const bytes = typeof rendered === 'string' ? encoder.encode(rendered) : rendered;
    parentPort?.postMessage({ id, bytes }, [bytes.buffer as ArrayBuffer]);
  } catch (err) {
    parentPort?.postMessage({ id, error: err instanceof Error ? err.message : String(err) });
  }
});
