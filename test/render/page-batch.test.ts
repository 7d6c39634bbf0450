/** Pages rendered ahead in batches (src/render/page.ts renderPageBatch): each page is renderPage's for its seed, and the route's seeded page. */
import t from 'tap';
import { FORMATS, type FormatName } from '../../src/formats/index.js';
import { World } from '../../src/generators/world.js';
import type { EntityName } from '../../src/generators/registry.js';
import { UNRENDERABLE, planContext, renderPage, renderPageBatch, type PagePlan } from '../../src/render/page.js';
import { worldSpecFrom } from '../../src/routes/world-query.js';
import { ENTITIES } from '../../src/generators/registry.js';
import { testApp } from '../support/app.js';

/** The plan the route makes for an unseeded `?limit=…&offset=…&format=…&locale=…` (params none: users, orders). */
function planOf(entity: EntityName, format: FormatName, locale: 'en_US' | 'en_GB', offset: number, limit: number): PagePlan {
  const base = worldSpecFrom({});
  const spec = { seed: 0, sizes: base.sizes, locale, window: base.window, params: {} };
  const total = World.fresh(spec).generator(entity).population;
  const query = `limit=${limit}${offset > 0 ? `&offset=${offset}` : ''}&format=${format}&locale=${locale}`;
  return {
    spec,
    entity,
    format,
    columns: Object.keys(ENTITIES[entity].schema.properties),
    projected: false,
    offset,
    end: Math.min(total, offset + limit),
    total,
    url: `/api/v1/${entity}?${query}`,
    pageStart: offset,
    limit,
    byPage: false,
  };
}

/** Seeds in a fixed order, the same for two calls. */
const seedsFrom = (seeds: readonly number[]) => {
  let k = 0;
  return () => seeds[k++ % seeds.length] as number;
};

const SEEDS = [1, 42, 7, 4_294_967_295, 123_456_789, 0, 99];

t.test('each page of a batch is renderPage of its seed: bytes and seed headers, four formats, two locales', async (t) => {
  for (const format of ['json', 'ndjson', 'csv', 'xml'] as const) {
    for (const locale of ['en_US', 'en_GB'] as const) {
      const plan = planOf('users', format, locale, locale === 'en_GB' ? 20 : 0, 10);
      const context = planContext(plan);
      const batch = renderPageBatch(plan, context, SEEDS.length, seedsFrom(SEEDS));
      if (batch === undefined || batch === UNRENDERABLE) {
        t.fail(`${format} ${locale}: no batch`);
        continue;
      }
      t.equal(batch.heads.length, SEEDS.length);
      t.equal(batch.lengths.reduce((a, b) => a + b, 0), batch.bytes.length, `${format} ${locale}: the bodies end to end`);
      let at = 0;
      SEEDS.forEach((seed, k) => {
        const page = renderPage(plan, context, seed);
        const body = Buffer.from(page?.body ?? '');
        const length = batch.lengths[k] as number;
        t.ok(batch.bytes.subarray(at, at + length).equals(body), `${format} ${locale} seed ${seed}: body`);
        t.same(batch.heads[k], page?.headers, `${format} ${locale} seed ${seed}: headers`);
        at += length;
      });
    }
  }
});

t.test("a batch's page is the route's seeded page of its seed", async (t) => {
  const app = await testApp(t, { pageCacheBytes: 0 });
  for (const format of ['json', 'csv', 'xml', 'ndjson'] as const) {
    const plan = planOf('users', format, 'en_US', 0, 10);
    const seeds = [3, 31_337, 2_000_000_000];
    const batch = renderPageBatch(plan, planContext(plan), seeds.length, seedsFrom(seeds));
    if (batch === undefined || batch === UNRENDERABLE) {
      t.fail(`${format}: no batch`);
      continue;
    }
    let at = 0;
    for (const [k, seed] of seeds.entries()) {
      const res = await app.inject({ method: 'GET', url: `/api/v1/users?seed=${seed}&limit=10&format=${format}` });
      t.equal(res.statusCode, 200);
      const length = batch.lengths[k] as number;
      t.equal(batch.bytes.subarray(at, at + length).toString('utf8'), res.body, `${format} seed ${seed}`);
      t.equal(batch.heads[k]?.['x-seed'], res.headers['x-seed'], 'X-Seed as the route sends it');
      t.equal(batch.heads[k]?.['x-date-window'], res.headers['x-date-window']);
      if (format !== 'json') t.equal(batch.heads[k]?.['content-disposition'], res.headers['content-disposition']);
      at += length;
    }
  }
});

t.test('plans whose pages are not written as bytes give no batch; a seed of another population gives UNRENDERABLE', async (t) => {
  const plan = planOf('users', 'json', 'en_US', 0, 10);
  const context = planContext(plan);
  t.equal(renderPageBatch({ ...plan, projected: true, columns: ['email'] }, planContext({ ...plan, columns: ['email'] }), 4, seedsFrom(SEEDS)), undefined, 'fields=');
  t.equal(renderPageBatch({ ...plan, end: plan.offset + 200, limit: 200 }, context, 4, seedsFrom(SEEDS)), undefined, 'more than 100 rows');
  t.equal(renderPageBatch(plan, context, 0, seedsFrom(SEEDS)), undefined, 'no pages');
  t.equal(renderPageBatch({ ...plan, total: plan.total + 1 }, context, 4, seedsFrom(SEEDS)), UNRENDERABLE);
  t.ok(FORMATS.json.fieldRows, 'JSON is written field by field');
});
