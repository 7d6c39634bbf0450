import type { FastifyInstance } from 'fastify';
import { buildApp, type AppOptions } from '../../src/app.js';

/** Builds the app for one test and closes it when the test ends. */
export async function testApp(t: { teardown: (fn: () => unknown) => void }, options: AppOptions = {}): Promise<FastifyInstance> {
  const app = await buildApp(options);
  t.teardown(() => app.close());
  await app.ready();
  return app;
}
