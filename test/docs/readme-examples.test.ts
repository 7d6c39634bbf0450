/**
 * The README's example requests, taken from the README itself and run against the app: each
 * answers what its comment says (status, type, counts, names). A changed example fails here
 * until this file agrees with it.
 */
import { readFile } from 'node:fs/promises';
import t from 'tap';
import { testApp } from '../support/app.js';

const readme = await readFile('README.md', 'utf8');
const examples = /## Examples\n\n```bash\n([\s\S]*?)```/.exec(readme)?.[1] ?? '';
/** The example's curl line whose URL starts with `prefix` (its path and query, the host dropped). */
function example(prefix: string): { url: string; line: string } {
  const line = examples.split('\n').find((l) => l.startsWith('curl ') && l.includes(`'http://localhost:8000${prefix}`));
  if (!line) throw new Error(`README has no example for ${prefix}`);
  const url = /'http:\/\/localhost:8000([^']+)'/.exec(line)?.[1] as string;
  return { url, line };
}

t.test('README examples answer what their comments say', async (t) => {
  const app = await testApp(t);

  const users = example('/api/v1/users?');
  t.equal(users.url, '/api/v1/users?seed=42&limit=5');
  const u = await app.inject({ url: users.url });
  t.equal(u.statusCode, 200);
  t.match(u.headers['content-type'], /^application\/json/, 'JSON, the default');
  t.equal(u.headers['x-seed'], '42');
  t.equal((u.json() as unknown[]).length, 5);

  // 100,000 orders as CSV (scale 20), gzip on the wire, named orders-seed42.csv: the headers of the same request.
  const orders = example('/api/v1/orders?seed=42&scale=20');
  t.match(orders.line, /--compressed -OJ/);
  const o = await app.inject({ method: 'HEAD', url: orders.url, headers: { 'accept-encoding': 'deflate, gzip, br, zstd' } });
  t.equal(o.statusCode, 200);
  t.match(o.headers['content-type'], /^text\/csv/);
  t.equal(o.headers['content-disposition'], 'attachment; filename="orders-seed42.csv"');
  t.equal(o.headers['x-total-count'], '100000', '5,000 x 20 orders');
  t.ok(['gzip', 'br'].includes(String(o.headers['content-encoding'])), `compressed: ${o.headers['content-encoding']}`);

  const items = example('/api/v1/order-items?');
  const ndjson = await app.inject({ url: items.url });
  t.equal(ndjson.statusCode, 200);
  t.match(ndjson.headers['content-type'], /^application\/x-ndjson/);
  const lines = ndjson.body.split('\n').filter(Boolean);
  t.equal(lines.length, 1000);
  t.ok(lines.every((l) => typeof (JSON.parse(l) as { order_id?: unknown }).order_id === 'string'), 'flat lines with order_id');
  t.match(examples, /# order lines, flat, as NDJSON \(or: -H 'Accept: application\/x-ndjson'\)/);
  const byAccept = await app.inject({ url: items.url.replace('&format=ndjson', ''), headers: { accept: 'application/x-ndjson' } });
  t.equal(byAccept.body, ndjson.body, 'the Accept alternative gives the same body');

  const payments = example('/api/v1/payments?');
  const xml = await app.inject({ url: payments.url });
  t.equal(xml.statusCode, 200);
  t.match(xml.headers['content-type'], /^application\/xml/);
  t.match(xml.body, /<payments[ >]/);
  t.equal(xml.body.match(/<payment>/g)?.length, 10);

  const uk = example('/api/v1/orders?seed=7&scale=10');
  const page = await app.inject({ url: uk.url });
  t.equal(page.statusCode, 200);
  const rows = page.json() as Record<string, unknown>[];
  t.equal(rows.length, 500);
  t.same(Object.keys(rows[0] as object), ['order_id', 'total', 'currency'], 'only those columns, in that order');
  t.ok(rows.every((r) => r.currency === 'GBP'), 'a UK shop');
  t.equal(page.headers['x-total-count'], '50000', 'ten times larger');
  t.match(page.headers.link, /page=2>; rel="prev"/, 'page 3');

  const q1 = example('/api/v1/orders?seed=7&users=50000');
  const head = await app.inject({ method: 'HEAD', url: q1.url });
  t.equal(head.statusCode, 200);
  t.match(head.headers['content-type'], /^text\/csv/);
  t.equal(head.headers['x-date-window'], '2024-01-01T00:00:00.000Z/2024-04-01T00:00:00.000Z', 'Q1 2024 only');
  t.equal(head.headers['x-total-count'], '5000', 'the same catalogue and order count');

  t.match(examples, /curl -X POST 'http:\/\/localhost:8000\/api\/v1\/sinks\/postgres\?wait=true'/);
  const sink = await app.inject({ method: 'POST', url: '/api/v1/sinks/postgres?wait=true', payload: { seed: 42, entities: ['users', 'orders', 'order-items'] } });
  t.equal(sink.statusCode, 409, 'without DATABASE_URL: not configured');
  t.equal((sink.json() as { code: string }).code, 'SINK_NOT_CONFIGURED');
});
