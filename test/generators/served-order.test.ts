/**
 * Dated entities numbered by their parents are served in time order: the download's time field
 * never decreases, the rows are exactly the generator's records (only their order differs),
 * pages, partitions, the manifest and the PostgreSQL sink see the same order.
 */
import { createHash } from 'node:crypto';
import t from 'tap';
import { ENTITIES, type EntityName } from '../../src/generators/registry.js';
import { SERVED_BY, timeOrder } from '../../src/generators/served-order.js';
import { World } from '../../src/generators/world.js';
import { worldSpecFrom } from '../../src/routes/world-query.js';
import { testApp } from '../support/app.js';
import { postgresFor } from '../support/postgres.js';

const SIZES = 'users=150&products=40&orders=300&vendors=5&warehouses=3&shops=4&suppliers=5&transactions=100';
const WORLDS = [
  { seed: 7, query: `seed=7&${SIZES}` },
  { seed: 11, query: `seed=11&${SIZES}&start_date=2025-03-01&end_date=2025-06-30` },
];
const SERVED = Object.keys(SERVED_BY) as (keyof typeof SERVED_BY)[];
/** Dated entities already numbered in time order, by the field that orders them (docs/time.md). */
const NUMBERED_BY: Partial<Record<EntityName, string>> = { users: 'created_at', orders: 'created_at', transactions: 'timestamp' };

/** The generator's world behind a GET of `entity` with `query` (as src/routes/entities.ts builds it). */
function worldOf(entity: EntityName, query: string): World {
  const params = Object.fromEntries(new URLSearchParams(query));
  const base = worldSpecFrom(Object.fromEntries(Object.entries(params).map(([k, v]) => [k, /^\d+$/.test(v) ? Number(v) : v])) as never);
  return World.of({ ...base, locale: ENTITIES[entity].defaultLocale ?? base.locale, params: {} });
}

const idOf = (entity: EntityName, row: Record<string, unknown>) => String(row[Object.keys(ENTITIES[entity].schema.properties)[0] as string]);

t.test('timeOrder is a stable sort by time', async (t) => {
  t.same([...timeOrder(Float64Array.of(5, 1, 5, 0, 1))], [3, 1, 4, 0, 2]);
  t.same([...timeOrder(Float64Array.of(1, 2, 2, 3))], [0, 1, 2, 3], 'sorted input keeps its order');
  t.same([...timeOrder(new Float64Array(0))], []);
  t.same([...timeOrder(Float64Array.of(1.5, 0.5, 1.5, 0))], [3, 1, 0, 2], 'times that are not whole milliseconds');
  t.same([...timeOrder(Float64Array.of(2 ** 62, 0, 2 ** 62, 1))], [1, 3, 0, 2], 'a span too wide to pack with the index');
  const times = Float64Array.from({ length: 5000 }, (_, k) => 1.7e12 + ((k * 7919) % 1000) * 1000);
  const order = [...timeOrder(times)];
  const expected = [...times.keys()].sort((a, b) => (times[a] as number) - (times[b] as number) || a - b);
  t.same(order, expected, 'packed keys sort as the comparator does, ties by index');
});

t.test('every dated entity downloads in time order, with the same rows as the generator', async (t) => {
  const app = await testApp(t);
  for (const { seed, query } of WORLDS) {
    for (const [entity, field] of [...SERVED.map((e) => [e, SERVED_BY[e]] as const), ...Object.entries(NUMBERED_BY)] as [EntityName, string][]) {
      const res = await app.inject(`/api/v1/${entity}?${query}&limit=100000`);
      t.equal(res.statusCode, 200, `${entity} seed ${seed}`);
      const rows = res.json() as Record<string, unknown>[];
      const total = Number(res.headers['x-total-count']);
      t.equal(rows.length, total, `${entity} seed ${seed}: the whole population`);
      t.ok(total > 0, `${entity} seed ${seed} has rows`);
      let back = 0;
      for (let i = 1; i < rows.length; i++) if (Date.parse(rows[i]?.[field] as string) < Date.parse(rows[i - 1]?.[field] as string)) back++;
      t.equal(back, 0, `${entity} seed ${seed}: ${field} never decreases`);
      const generator = worldOf(entity, query).generator(entity);
      t.equal(generator.population, total);
      const expected = new Map<string, string>();
      for (let k = 0; k < total; k++) {
        const record = generator.record(k) as Record<string, unknown>;
        expected.set(idOf(entity, record), JSON.stringify(record));
      }
      const mismatched = rows.filter((row) => expected.get(idOf(entity, row)) !== JSON.stringify(row));
      t.equal(new Set(rows.map((row) => idOf(entity, row))).size, total, `${entity} seed ${seed}: ids are unique`);
      t.equal(mismatched.length, 0, `${entity} seed ${seed}: every row is generator.record(k) of some k`);
    }
  }
});

t.test('pages, partitions and formats are windows onto the same order', async (t) => {
  const app = await testApp(t);
  const { query } = WORLDS[1] as { query: string };
  for (const entity of ['reviews', 'inventory-movements', 'clickstream', 'sessions'] as const) {
    const whole = await app.inject(`/api/v1/${entity}?${query}&format=csv&limit=100000`);
    const total = Number(whole.headers['x-total-count']);
    const [header, ...lines] = whole.body.split('\r\n').filter((line) => line.length > 0);
    const limit = Math.ceil(total / 4);
    const paged: string[] = [];
    for (let page = 1; (page - 1) * limit < total; page++) {
      const res = await app.inject(`/api/v1/${entity}?${query}&format=csv&limit=${limit}&page=${page}`);
      const [h, ...rest] = res.body.split('\r\n').filter((line) => line.length > 0);
      t.equal(h, header);
      paged.push(...rest);
    }
    t.same(paged, lines, `${entity}: pages concatenate to the download`);
    const parts: string[] = [];
    for (let partition = 0; partition < 3; partition++) {
      const res = await app.inject(`/api/v1/${entity}?${query}&format=csv&limit=100000&partition=${partition}&partitions=3`);
      parts.push(...res.body.split('\r\n').filter((line) => line.length > 0).slice(1));
    }
    t.same(parts, lines, `${entity}: partitions concatenate to the download`);
    const ndjson = await app.inject(`/api/v1/${entity}?${query}&format=ndjson&limit=100000`);
    const json = await app.inject(`/api/v1/${entity}?${query}&limit=100000`);
    t.same(ndjson.body.trim().split('\n').map((line) => JSON.parse(line) as object), json.json(), `${entity}: ndjson and json agree`);
  }
});

t.test('manifest checksums are the SHA-256 of the time-ordered downloads', async (t) => {
  const app = await testApp(t);
  const { query } = WORLDS[0] as { query: string };
  const res = await app.inject(`/api/v1/manifest?${query}&entities=shipping,returns,reviews,notifications,wishlists,inventory-movements`);
  t.equal(res.statusCode, 200);
  const manifest = res.json() as { entities: { entity: string; population: number; csv_sha256: string }[] };
  for (const entry of manifest.entities) {
    const csv = await app.inject(`/api/v1/${entry.entity}?${query}&format=csv&limit=${entry.population}`);
    t.equal(createHash('sha256').update(csv.rawPayload).digest('hex'), entry.csv_sha256, `${entry.entity}: sha256`);
  }
});

t.test('the PostgreSQL sink loads rows in the served order', async (t) => {
  const { server, client } = await postgresFor(t);
  const app = await testApp(t, { sinks: { postgres: { connectionString: server.connectionString } } });
  const world = { seed: 7, users: 150, products: 40, orders: 300, vendors: 5, warehouses: 3, shops: 4, suppliers: 5, transactions: 100 };
  const entities = ['reviews', 'shipping', 'inventory-movements'] as const;
  const res = await app.inject({ method: 'POST', url: '/api/v1/sinks/postgres?wait=true', payload: { ...world, entities, schema: 'served' } });
  t.equal(res.statusCode, 200, 'the sink job succeeded');
  for (const entity of entities) {
    const id = Object.keys(ENTITIES[entity].schema.properties)[0] as string;
    const rows = (await app.inject(`/api/v1/${entity}?${WORLDS[0]?.query}&limit=100000`)).json() as Record<string, unknown>[];
    const table = await client.query<{ id: string }>(`SELECT ${id}::text AS id FROM served.${entity.replace(/-/g, '_')} ORDER BY ctid`);
    t.same(table.rows.map((r) => r.id), rows.map((r) => String(r[id])), `${entity}: table rows in download order`);
  }
});

t.test('the time order counts in the cost model: a world too large gets a 422, naming the parameter', async (t) => {
  const app = await testApp(t);
  for (const url of ['/api/v1/sessions?scale=1000&limit=1', '/api/v1/notifications?scale=100&limit=1', '/api/v1/inventory-movements?scale=100&limit=1']) {
    const res = await app.inject(url);
    t.equal(res.statusCode, 422, url);
    t.equal(res.json().code, 'COST_BUDGET_EXCEEDED');
    t.match(res.json().message, /^scale: /);
  }
  // Clickstream is served by session (millions of rows: no permutation), so scale 100 streams.
  const clicks = await app.inject('/api/v1/clickstream?scale=100&limit=1');
  t.equal(clicks.statusCode, 200, 'clickstream at scale 100 is served');
  // Reviews at scale 100 take ~5 s of CPU to prepare (their estimate ~17 s, under the 30 s budget); at scale 1000 they are refused.
  const reviews = await app.inject('/api/v1/reviews?scale=100&limit=1');
  t.equal(reviews.statusCode, 200, 'reviews at scale 100 are served');
  t.equal((reviews.json() as unknown[]).length, 1, 'one review');
  const huge = await app.inject('/api/v1/reviews?scale=1000&limit=1');
  t.equal(huge.statusCode, 422, 'reviews at scale 1000 are refused');
  const res = await app.inject('/api/v1/sessions?orders=100000000&limit=1');
  t.equal(res.statusCode, 422, 'sessions of a huge explicit orders count');
  t.match(res.json().message, /^orders: /, 'names orders');
});

t.test('render workers serve the same time order as the main thread', async (t) => {
  const single = await testApp(t);
  const pooled = await testApp(t, { renderThreads: 2 });
  const query = 'seed=5&users=200&products=300&orders=900&vendors=5&warehouses=5&shops=4&suppliers=5&transactions=100';
  // A child entity, inventory movements (located by segment) and a flat entity.
  for (const entity of ['clickstream', 'inventory-movements', 'sessions'] as const) {
    const url = `/api/v1/${entity}?${query}&format=csv&limit=100000`;
    const a = await single.inject(url);
    const b = await pooled.inject(url);
    t.ok(Number(a.headers['x-total-count']) > 4096, `${entity}: large enough for the workers`);
    t.equal(b.statusCode, 200);
    t.ok(a.body === b.body, `${entity}: the same bytes from the workers`);
  }
});
