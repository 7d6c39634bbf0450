import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import fastifyStatic from '@fastify/static';
import accepts from 'accepts';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { ApiError } from './errors.js';

/**
 * Where `npm run build` puts the panel: dist/web beside the compiled server, found the same way
 * from src/ (tsx, tests) and from dist/ (npm start).
 */
export const PANEL_DIR = fileURLToPath(new URL(import.meta.url.endsWith('.ts') ? '../../dist/web/' : '../web/', import.meta.url));

export interface PanelOptions {
  /** The built panel (default PANEL_DIR). */
  root?: string;
}

/**
 * The control panel: static files under `/ui/`, and browsers asking for `/` sent there (a
 * client that prefers JSON, such as curl or fetch, keeps the JSON index). The page talks to
 * the public API only.
 */
async function panel(app: FastifyInstance, options: PanelOptions): Promise<void> {
  const root = options.root ?? PANEL_DIR;

  // A hook on the `/` route only (an app-wide hook ran, as a promise, on every request).
  const sendBrowsersToPanel = (request: FastifyRequest, reply: FastifyReply, done: () => void): void => {
    if (request.method !== 'GET' && request.method !== 'HEAD') return done();
    reply.header('Vary', 'Accept');
    if (accepts(request.raw).type(['application/json', 'text/html']) === 'text/html') {
      reply.redirect('/ui/', 302);
      return;
    }
    done();
  };
  app.addHook('onRoute', (route) => {
    if (route.url === '/') route.onRequest = [...[route.onRequest ?? []].flat(), sendBrowsersToPanel] as typeof route.onRequest;
  });

  await app.register(async (scope) => {
    scope.get('/ui', { schema: { hide: true } }, async (_request, reply) => reply.redirect('/ui/', 301));
    if (existsSync(`${root}/index.html`)) {
      await scope.register(fastifyStatic, { root, prefix: '/ui/', decorateReply: false, index: 'index.html', cacheControl: true, maxAge: 0 });
      return;
    }
    const unbuilt = async () => {
      throw new ApiError(404, 'PANEL_NOT_BUILT', 'the control panel is not built: run `npm run build` (npm start does)');
    };
    scope.get('/ui/*', { schema: { hide: true } }, unbuilt);
  });
}

export default fp(panel, { name: 'panel' });
