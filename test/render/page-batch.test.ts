/** Pages rendered ahead in batches (src/render/page.ts renderPageBatch): each page is renderPage's for its seed, and the route's seeded page. */
import { gunzipSync } from 'node:zlib';
import t, { type Test } from 'tap';
import { FORMATS, type FormatName } from '../../src/formats/index.js';
import { World } from '../../src/generators/world.js';
import type { EntityName } from '../../src/generators/registry.js';
import { UNRENDERABLE, planContext, renderPage, renderPageBatch, type PagePlan } from '../../src/render/page.js';
import { worldSpecFrom } from '../../src/routes/world-query.js';
import { ENTITIES } from '../../src/generators/registry.js';
import { RenderPool, releasePage, type PageAhead } from '../../src/render/pool.js';
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

/** A batch of pages rendered ahead by the pool's page thread. */
function pagesOf(pool: RenderPool, plan: PagePlan, coding: string | undefined, count: number): Promise<PageAhead[] | undefined> {
  return new Promise((resolve, reject) => pool.renderPages(plan, coding, count, (pages) => (pages instanceof Error ? reject(pages) : resolve(pages))));
}

/** Each page's body equals renderPage's for its X-Seed (gunzipped first when encoded). */
function checkPages(t: Test, plan: PagePlan, pages: readonly PageAhead[], label: string, gzip = false): void {
  const context = planContext(plan);
  for (const page of pages) {
    const expected = renderPage(plan, context, Number(page.headers['x-seed']));
    const body = gzip ? gunzipSync(page.body) : Buffer.from(page.body);
    t.ok(body.equals(Buffer.from(expected?.body ?? '')), `${label}: the page of seed ${String(page.headers['x-seed'])}`);
  }
}

t.test("the page thread writes batches into slots of shared memory: a slot is written again only once each of its pages is released; what does not fit is transferred", async (t) => {
  const pool = new RenderPool(1);
  t.teardown(() => pool.close());
  const plan = planOf('users', 'json', 'en_US', 0, 10);
  const batches: PageAhead[][] = [];
  // Eight slots: the first eight batches are written in them; held, the ninth and tenth are transferred.
  for (let k = 0; k < 10; k++) batches.push((await pagesOf(pool, plan, undefined, 32)) ?? []);
  t.same(
    batches.map((pages) => pages.length),
    Array(10).fill(32),
  );
  t.same(
    batches.map((pages) => pages.every((page) => page.batch !== undefined)),
    [...Array(8).fill(true), false, false],
    'eight batches in slots, then transferred',
  );
  t.same(pool.pageBatches, { inSlot: 8, transferred: 2 });
  t.equal(pool.pageSlotsFree, 0);
  for (const [k, pages] of batches.entries()) checkPages(t, plan, pages, `batch ${k}`);

  // Every page of batches 1-7 released, and all but one of batch 0: seven slots free, batch 0's kept.
  for (const pages of batches.slice(1, 8)) for (const page of pages) releasePage(page);
  const kept = batches[0]![5]!;
  for (const page of batches[0]!) if (page !== kept) releasePage(page);
  releasePage(batches[1]![0]!); // a second release of a page changes nothing
  t.equal(pool.pageSlotsFree, 7, "batch 0's slot is held by its one page not released");
  const before = Buffer.from(kept.body);
  // Slots reused, over and over; the kept page's bytes stay as they were.
  for (let k = 0; k < 20; k++) {
    const pages = (await pagesOf(pool, plan, undefined, 32)) ?? [];
    t.ok(pages.length === 32 && pages.every((page) => page.batch !== undefined), `batch ${k + 10} in a slot`);
    if (k % 5 === 0) checkPages(t, plan, pages, `batch ${k + 10}`);
    for (const page of pages) releasePage(page);
  }
  t.ok(Buffer.from(kept.body).equals(before), 'a page not yet released is never written over');
  checkPages(t, plan, [kept], 'the kept page');
  releasePage(kept);
  t.equal(pool.pageSlotsFree, 8, 'every slot free once every page is released');

  // Encoded pages go in a slot too; 32 pages of 100 XML users (~2 MB) do not fit: transferred, the slot freed.
  const gzipped = (await pagesOf(pool, plan, 'gzip', 32)) ?? [];
  t.ok(gzipped.length === 32 && gzipped.every((page) => page.batch !== undefined), 'gzip pages in a slot');
  checkPages(t, plan, gzipped, 'gzip', true);
  for (const page of gzipped) releasePage(page);
  const large = planOf('users', 'xml', 'en_GB', 0, 100);
  const big = (await pagesOf(pool, large, undefined, 32)) ?? [];
  t.ok(big.length === 32 && big.every((page) => page.batch === undefined), 'a batch larger than a slot is transferred');
  checkPages(t, large, big.slice(0, 3), 'large XML');
  t.equal(pool.pageSlotsFree, 8, 'its slot given back at once');
  t.same(pool.pageBatches, { inSlot: 29, transferred: 3 });
});

t.test('a batch asked when the pool closes is answered once, with an error; asked after, with an error too', async (t) => {
  const pool = new RenderPool(1);
  const plan = planOf('users', 'csv', 'en_US', 0, 10);
  // The page thread started and answering first, so the next batch is in its hands when the pool closes.
  t.equal((await pagesOf(pool, plan, undefined, 4))?.length, 4);
  const answers: unknown[] = [];
  pool.renderPages(plan, undefined, 32, (pages) => answers.push(pages));
  await pool.close();
  await new Promise((resolve) => setTimeout(resolve, 100));
  t.equal(answers.length, 1, 'answered once');
  t.ok(answers[0] instanceof Error, 'with an error');
  const late: unknown[] = [];
  pool.renderPages(plan, undefined, 32, (pages) => late.push(pages));
  await new Promise((resolve) => setTimeout(resolve, 10));
  t.ok(late.length === 1 && late[0] instanceof Error, 'a closed pool answers with an error');
});
