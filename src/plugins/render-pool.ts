import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import { RenderPool } from '../render/pool.js';

declare module 'fastify' {
  interface FastifyInstance {
    /** Worker threads for large responses; null when rendering stays on the main thread. */
    renderPool: RenderPool | null;
  }
}

/** Owns the render pool: threads start on first use and stop when the app closes. */
export default fp(
  async (app: FastifyInstance, options: { threads: number }) => {
    const pool = options.threads > 0 ? new RenderPool(options.threads) : null;
    app.decorate('renderPool', pool);
    app.addHook('onClose', async () => {
      await pool?.close();
    });
  },
  { name: 'render-pool' },
);
