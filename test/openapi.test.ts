import { readFile } from 'node:fs/promises';
import t from 'tap';
import { ENTITY_NAMES } from '../src/generators/registry.js';
import { openapiDocument } from '../scripts/write-openapi.js';

t.test('openapi/openapi.json is current (run `npm run openapi` after changing routes or schemas)', async (t) => {
  const live = await openapiDocument();
  const committed = await readFile(new URL('../openapi/openapi.json', import.meta.url), 'utf8');
  t.equal(committed, live);
});

t.test('every entity route is documented with a summary, description, tag and examples', async (t) => {
  const doc = JSON.parse(await openapiDocument()) as {
    paths: Record<string, { get: { summary?: string; description?: string; tags?: string[]; parameters: { name: string }[]; responses: Record<string, { content?: Record<string, unknown> }> } }>;
    components: { schemas: Record<string, unknown> };
  };
  for (const entity of ENTITY_NAMES) {
    const op = doc.paths[`/api/v1/${entity}`]?.get;
    t.ok(op, `${entity} documented`);
    if (!op) continue;
    t.ok(op.summary && op.description && op.tags?.length, `${entity}: summary, description, tag`);
    t.match(op.description ?? '', 'curl', `${entity}: example request`);
    t.same(Object.keys(op.responses['200']?.content ?? {}).sort(), ['application/json', 'application/x-ndjson', 'application/xml', 'text/csv']);
    t.ok(op.responses['400'], `${entity}: documents its 400`);
    for (const name of ['seed', 'scale', 'limit', 'offset', 'page', 'format', 'fields', 'locale', 'start_date', 'end_date', 'users']) {
      t.ok(op.parameters.some((p) => p.name === name), `${entity}: parameter ${name}`);
    }
  }
  for (const name of ['User', 'Order', 'OrderItem', 'Payment', 'Shipment', 'Return', 'Error']) {
    t.ok(doc.components.schemas[name], `component schema ${name}`);
  }
});
