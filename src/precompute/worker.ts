// Worker-thread entry of the precompute pool: runs one task at a time and answers with its result.
import { parentPort } from 'node:worker_threads';
import { runTask, type PrecomputeTask } from './tasks.js';

parentPort?.on('message', ({ id, task }: { id: number; task: PrecomputeTask }) => {
  try {
    const { result, transfer } = runTask(task);
    parentPort?.postMessage({ id, result }, transfer);
  } catch (err) {
    parentPort?.postMessage({ id, error: err instanceof Error ? err.message : String(err) });
  }
});
