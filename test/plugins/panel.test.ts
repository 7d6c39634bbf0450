/** Serving the panel: who gets the page at `/`, the files under `/ui/`, and an unbuilt panel. */
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Fastify from 'fastify';
import t from 'tap';
import errors from '../../src/plugins/errors.js';
import panel from '../../src/plugins/panel.js';

const BROWSER = 'text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8';

async function appWith(t: { teardown: (fn: () => unknown) => void }, root: string) {
  const app = Fastify();
  await app.register(errors);
  await app.register(panel, { root });
  app.get('/', async () => ({ service: 'ecomgen' }));
  t.teardown(() => app.close());
  await app.ready();
  return app;
}

t.test('a browser asking for / is sent to /ui/; API clients keep the JSON index', async (t) => {
  const root = await mkdtemp(join(tmpdir(), 'ecomgen-panel-'));
  await writeFile(join(root, 'index.html'), '<!doctype html><title>panel</title>');
  await writeFile(join(root, 'app.js'), 'export {};\n');
  const app = await appWith(t, root);

  const browser = await app.inject({ url: '/', headers: { accept: BROWSER } });
  t.same([browser.statusCode, browser.headers.location, browser.headers.vary], [302, '/ui/', 'Accept']);
  for (const accept of [undefined, '*/*', 'application/json', 'application/json, text/html;q=0.5']) {
    const response = await app.inject({ url: '/', headers: accept === undefined ? {} : { accept } });
    t.same([response.statusCode, response.json(), response.headers.vary], [200, { service: 'ecomgen' }, 'Accept'], `Accept: ${accept ?? '(none)'}`);
  }
  const query = await app.inject({ url: '/?x=1', headers: { accept: BROWSER } });
  t.equal(query.statusCode, 302, 'with a query string too');

  const page = await app.inject('/ui/');
  t.same([page.statusCode, page.body], [200, '<!doctype html><title>panel</title>']);
  t.match(page.headers['content-type'], /^text\/html/);
  const script = await app.inject('/ui/app.js');
  t.match(script.headers['content-type'], /^(application|text)\/javascript/, 'scripts are files with a script type (no inline script needed)');
  t.same([(await app.inject('/ui')).statusCode, (await app.inject('/ui')).headers.location], [301, '/ui/']);
  const missing = await app.inject('/ui/nope.js');
  t.same([missing.statusCode, missing.json().code], [404, 'NOT_FOUND']);
  t.equal((await app.inject('/ui/..%2f..%2fpackage.json')).statusCode, 404, 'nothing outside the panel folder');
});

t.test('an unbuilt panel answers a 404 that says how to build it (a 5xx message would be hidden)', async (t) => {
  const app = await appWith(t, await mkdtemp(join(tmpdir(), 'ecomgen-panel-empty-')));
  for (const url of ['/ui/', '/ui/app.js']) {
    const response = await app.inject(url);
    t.same([response.statusCode, response.json().code], [404, 'PANEL_NOT_BUILT'], url);
    t.same(Object.keys(response.json()).sort(), ['code', 'error', 'message', 'statusCode']);
    t.match(response.json().message, /npm run build/);
  }
});
