import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import openapiTS, { astToString } from 'openapi-typescript';
import t from 'tap';
import ts from 'typescript';
import { buildApp } from '../src/app.js';
import { ENTITY_NAMES } from '../src/generators/registry.js';
import { exampleRecords, examplesModule } from '../scripts/openapi-examples.js';
import { openapiDocument } from '../scripts/write-openapi.js';
import { redoclyProblems, spectralProblems, swaggerParserProblems } from './support/openapi-lint.js';

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
    t.same(Object.keys(op.responses['200']?.content ?? {}).sort(), ['application/json', 'application/vnd.apache.parquet', 'application/x-ndjson', 'application/xml', 'text/csv']);
    t.ok(op.responses['400'], `${entity}: documents its 400`);
    for (const name of ['seed', 'scale', 'limit', 'offset', 'page', 'format', 'fields', 'locale', 'start_date', 'end_date', 'users']) {
      t.ok(op.parameters.some((p) => p.name === name), `${entity}: parameter ${name}`);
    }
  }
  for (const name of ['User', 'Order', 'OrderItem', 'Payment', 'Shipment', 'Return', 'Error']) {
    t.ok(doc.components.schemas[name], `component schema ${name}`);
  }
});

t.test('the committed document is valid: 0 errors under swagger-parser, Redocly and Spectral', async (t) => {
  const text = await readFile(new URL('../openapi/openapi.json', import.meta.url), 'utf8');
  t.equal(JSON.parse(text).openapi, '3.1.0', 'one version, 3.1.0, whose JSON Schema TypeBox writes');
  for (const [tool, check] of [['swagger-parser', swaggerParserProblems], ['redocly', redoclyProblems], ['spectral', spectralProblems]] as const) {
    const errors = (await check(text)).filter((p) => p.severity === 'error');
    t.same(errors, [], `${tool}: no errors`);
  }
});

t.test('operationIds, declared errors, examples from the generators, sink bodies that Try it out can send', async (t) => {
  const doc = JSON.parse(await readFile(new URL('../openapi/openapi.json', import.meta.url), 'utf8')) as {
    paths: Record<string, Record<string, { operationId?: string; responses: Record<string, { content?: Record<string, { example?: unknown }> }>; requestBody?: { content: Record<string, { example?: unknown }> }; parameters?: { name: string; schema: Record<string, unknown> }[] }>>;
    components: { schemas: Record<string, { properties?: Record<string, { examples?: unknown[] }> }> };
  };
  const ids = Object.values(doc.paths).flatMap((ops) => Object.values(ops).map((op) => op.operationId));
  t.equal(new Set(ids).size, ids.length, 'operationIds are unique');
  t.ok(ids.every((id) => id && /^[a-z][A-Za-z]+$/.test(id)), 'and camelCase');
  t.equal(doc.paths['/api/v1/orders']?.get?.operationId, 'listOrders');
  t.equal(doc.paths['/api/v1/manifest']?.get?.operationId, 'getManifest');
  t.equal(doc.paths['/api/v1/sinks/postgres']?.post?.operationId, 'createPostgresJob');
  t.equal(doc.paths['/api/v1/jobs/{id}']?.delete?.operationId, 'cancelJob');
  t.ok(doc.paths['/api/v1/jobs/{id}']?.get?.responses['400'], 'jobs/{id} declares its 400');
  for (const [url, ops] of Object.entries(doc.paths)) {
    for (const [method, op] of Object.entries(ops)) t.ok(op.responses['500'], `${method.toUpperCase()} ${url}: declares 500`);
  }
  // Examples are what the generators produce for seed 42 (and stay so: see the next test).
  const app = await buildApp();
  t.teardown(() => app.close());
  const orders = (await app.inject('/api/v1/orders?seed=42&limit=1')).json() as Record<string, unknown>[];
  t.same(doc.paths['/api/v1/orders']?.get?.responses['200']?.content?.['application/json']?.example, orders, 'the orders example is GET ?seed=42&limit=1');
  t.same(doc.components.schemas.Order?.properties?.order_number?.examples, [orders[0]?.order_number], 'field examples too');
  t.equal(orders[0]?.order_number, 'ORD-0000001');
  for (const sink of ['postgres', 'kafka', 'gcs', 'webhook', 'opensearch']) {
    const example = doc.paths[`/api/v1/sinks/${sink}`]?.post?.requestBody?.content['application/json']?.example;
    t.ok(example, `${sink}: a body example`);
    const res = await app.inject({ method: 'POST', url: `/api/v1/sinks/${sink}`, payload: example as object });
    t.equal(res.statusCode, 409, `${sink}: the example passes validation (409: not configured here)`);
  }
  const offset = doc.paths['/api/v1/users']?.get?.parameters?.find((p) => p.name === 'offset');
  t.notOk(offset && ('default' in offset.schema || 'examples' in offset.schema || 'example' in offset), 'no offset pre-filled, so page= works in Try it out');
});

t.test('the examples module is current (run `npm run openapi` after changing generators)', async (t) => {
  const committed = await readFile(new URL('../src/plugins/openapi-examples.ts', import.meta.url), 'utf8');
  t.equal(committed, examplesModule(exampleRecords()));
});

t.test('a client generated from the document type-checks against real responses', async (t) => {
  const text = await readFile(new URL('../openapi/openapi.json', import.meta.url), 'utf8');
  const dir = await mkdtemp(join(tmpdir(), 'ecomgen-client-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  await writeFile(join(dir, 'api.ts'), astToString(await openapiTS(JSON.parse(text) as never)));
  const app = await buildApp();
  t.teardown(() => app.close());
  const responses: [string, string, string][] = [
    ['/api/v1/orders?seed=42&limit=3', "paths['/api/v1/orders']['get']['responses'][200]['content']['application/json']", 'Orders'],
    ['/api/v1/users?seed=7&limit=3', "paths['/api/v1/users']['get']['responses'][200]['content']['application/json']", 'Users'],
    ['/api/v1/order-items?seed=42&limit=3', "paths['/api/v1/order-items']['get']['responses'][200]['content']['application/json']", 'OrderItems'],
    ['/api/v1/performance-events?seed=42&limit=3', "paths['/api/v1/performance-events']['get']['responses'][200]['content']['application/json']", 'Events'],
    ['/api/v1/sinks', "paths['/api/v1/sinks']['get']['responses'][200]['content']['application/json']", 'Sinks'],
    ['/api/v1/stats', "paths['/api/v1/stats']['get']['responses'][200]['content']['application/json']", 'Stats'],
    ['/health', "paths['/health']['get']['responses'][200]['content']['application/json']", 'Health'],
    ['/api/v1/users?limit=0', "paths['/api/v1/users']['get']['responses'][400]['content']['application/json']", 'BadRequest'],
  ];
  const lines = ["import type { paths } from './api.js';"];
  for (const [url, type, name] of responses) {
    const res = await app.inject(url);
    lines.push(`export const ${name.toLowerCase()}: ${type} = ${res.body};`);
  }
  // A wrong shape must fail, or the check proves nothing.
  lines.push(`// @ts-expect-error order_number is a string\nexport const wrong: paths['/api/v1/orders']['get']['responses'][200]['content']['application/json'] = [{ ...orders[0]!, order_number: 1 }];`);
  await writeFile(join(dir, 'check.ts'), lines.join('\n') + '\n');
  const program = ts.createProgram([join(dir, 'check.ts')], {
    strict: true,
    noEmit: true,
    skipLibCheck: true,
    target: ts.ScriptTarget.ES2022,
    module: ts.ModuleKind.NodeNext,
    moduleResolution: ts.ModuleResolutionKind.NodeNext,
    noUncheckedIndexedAccess: true,
    types: [],
  });
  const problems = ts.getPreEmitDiagnostics(program).map((d) => ts.flattenDiagnosticMessageText(d.messageText, '\n').slice(0, 300));
  t.same(problems, [], 'real responses satisfy the generated types');
});
