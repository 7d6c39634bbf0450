/**
 * Product price history: every product's changes chain and end at the price GET /products
 * serves, price-changes are numbered in time order, order lines carry the price of their
 * moment, and `price_change_rate` sets how many changes there are (within sampling error).
 */
import t from 'tap';
import { money } from '../../src/generators/entity.js';
import { PRICE_CHANGE_REASONS } from '../../src/schemas/price-change.js';
import { World, resolveSizes, type WorldKnobs } from '../../src/generators/world.js';
import { testApp } from '../support/app.js';

const window = { start: Date.parse('2025-01-01T00:00:00Z'), end: Date.parse('2026-01-01T00:00:00Z') };
const worldOf = (seed: number, locale: 'en_US' | 'en_GB', knobs: WorldKnobs = {}) =>
  World.of({ seed, sizes: resolveSizes(1, { products: 300, orders: 800, users: 200 }), locale, window, knobs });

for (const [seed, locale, knobs] of [
  [42, 'en_US', {}],
  [90210, 'en_GB', {}],
  [5, 'en_US', { price_change_rate: 2 }],
] as const) {
  t.test(`seed ${seed} ${locale} ${JSON.stringify(knobs)}: histories chain, end at the product price, in time order`, async (t) => {
    const world = worldOf(seed, locale, knobs);
    const changes = world.generator('price-changes');
    const products = world.generator('products');
    const rate: number = knobs.price_change_rate ?? 0.5;
    const expected = (products.population * rate * 365) / 30;
    // Changes come in episodes (1.5 changes each): the count's standard deviation is about sqrt(1.5 x expected).
    t.ok(Math.abs(changes.population - expected) < 4 * Math.sqrt(1.5 * expected), `${changes.population} changes, ${expected.toFixed(0)} expected`);

    const last = new Map<string, number>();
    let unordered = 0;
    let broken = 0;
    let outside = 0;
    let previousTime = -Infinity;
    const reasons = new Set<string>();
    for (let i = 0; i < changes.population; i++) {
      const c = changes.record(i);
      const time = Date.parse(c.changed_at);
      if (time < previousTime) unordered++;
      previousTime = time;
      if (time < window.start || time >= window.end) outside++;
      const before = last.get(c.product_id);
      if ((before !== undefined && before !== c.previous_price) || c.previous_price === c.new_price || c.new_price <= 0) broken++;
      if (c.currency !== world.profile.currency) broken++;
      last.set(c.product_id, c.new_price);
      reasons.add(c.reason);
    }
    t.equal(unordered, 0, 'change i+1 never before change i');
    t.equal(outside, 0, 'every change inside the window');
    t.equal(broken, 0, "each previous_price is the product's price before it, and differs from new_price");
    t.same([...reasons].sort(), [...PRICE_CHANGE_REASONS].sort(), 'all four reasons occur');

    let off = 0;
    let priceAtOff = 0;
    for (let p = 0; p < products.population; p++) {
      const product = products.record(p);
      const final = last.get(product.product_id);
      if (final !== undefined && final !== product.price) off++;
      if (money(products.priceAt(p, window.end)) !== product.price) priceAtOff++;
      const h = products.histories.of(p);
      for (let k = 0; k < h.times.length; k++) {
        const at = h.times[k] as number;
        if (products.priceAt(p, at) !== h.next[k] || products.priceAt(p, at - 1) !== h.previous[k]) priceAtOff++;
      }
    }
    t.equal(off, 0, "every product's last new_price is its price in /products");
    t.equal(priceAtOff, 0, 'priceAt: the new price from changed_at on, the previous one just before, the product price at the window end');

    const orders = world.generator('orders');
    let lines = 0;
    let wrong = 0;
    let promoted = 0;
    for (let i = 0; i < orders.population; i++) {
      const order = orders.record(i);
      orders.lineProducts(i).forEach((p, k) => {
        lines++;
        const unit = order.items[k]?.unit_price;
        if (unit !== money(products.priceAt(p, Date.parse(order.created_at)))) wrong++;
        if (unit !== products.record(p).price) promoted++;
      });
    }
    t.equal(wrong, 0, `order lines carry the price of the order's moment (${lines} lines)`);
    t.ok(promoted > 0 || rate === 0, `${promoted} lines at a price other than the window-end price`);
  });
}

t.test('price_change_rate 0: no changes, and lines carry the product price', async (t) => {
  const world = worldOf(42, 'en_US', { price_change_rate: 0 });
  t.equal(world.generator('price-changes').population, 0);
  const orders = world.generator('orders');
  const products = world.generator('products');
  let wrong = 0;
  for (let i = 0; i < 200; i++) {
    const order = orders.record(i);
    orders.lineProducts(i).forEach((p, k) => {
      if (order.items[k]?.unit_price !== products.record(p).price) wrong++;
    });
  }
  t.equal(wrong, 0);
});

t.test('price_change_rate over HTTP: the default is the world without it, bad values are a 400 naming it', async (t) => {
  const app = await testApp(t);
  const base = '/api/v1/price-changes?seed=3&products=50&format=csv&limit=100000';
  const plain = await app.inject(base);
  const explicit = await app.inject(`${base}&price_change_rate=0.5`);
  t.equal(plain.statusCode, 200);
  t.equal(plain.body, explicit.body, 'the default rate given explicitly is the same world');
  const products = await app.inject('/api/v1/products?seed=3&products=50&format=csv&limit=100');
  const busier = await app.inject('/api/v1/products?seed=3&products=50&format=csv&limit=100&price_change_rate=4');
  t.equal(products.body, busier.body, 'products do not depend on the rate (their price is the window-end price)');
  const more = await app.inject(`${base}&price_change_rate=4`);
  t.ok(Number(more.headers['x-total-count']) > 3 * Number(plain.headers['x-total-count']), 'a higher rate, more changes');
  for (const bad of ['-1', '16', 'often']) {
    const response = await app.inject(`${base}&price_change_rate=${bad}`);
    t.equal(response.statusCode, 400, `price_change_rate=${bad}`);
    t.match(response.json(), { statusCode: 400, code: 'INVALID_PARAMETER', message: /price_change_rate/ });
  }
  const feed = await app.inject('/api/v1/events?seed=3&users=20&products=20&orders=40&types=product.price_changed&price_change_rate=2&format=ndjson&limit=100000');
  t.equal(feed.statusCode, 200);
  const events = feed.body.trimEnd().split('\n').map((line) => JSON.parse(line) as { data: { change_id: string } });
  const table = await app.inject('/api/v1/price-changes?seed=3&users=20&products=20&orders=40&price_change_rate=2&limit=100000');
  t.same(events.map((e) => e.data), table.json(), 'product.price_changed events are the price-changes rows, in order');
});
