import { get } from 'node:http';
import type { RenderPool } from '../../src/render/pool.js';

/**
 * Downloads `url` and terminates every worker of the pool as soon as the first bytes arrive:
 * 'cut' when the response ended early (as it must), 'complete' when it arrived whole.
 */
export function downloadKillingWorkers(url: string, pool: RenderPool): Promise<'cut' | 'complete'> {
  return new Promise((resolve, reject) => {
    const req = get(url, (res) => {
      let killed = false;
      res.on('data', () => {
        if (killed) return;
        killed = true;
        const workers = Reflect.get(pool, 'all') as { terminate(): Promise<number> }[];
        for (const worker of workers) void worker.terminate();
      });
      res.on('end', () => resolve(res.complete ? 'complete' : 'cut'));
      res.on('aborted', () => resolve('cut'));
      res.on('error', () => resolve('cut'));
    });
    req.on('error', (err) => reject(err));
  });
}
