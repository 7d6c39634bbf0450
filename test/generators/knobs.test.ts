/**
 * The reference generator's payment and shipment knobs as world parameters: with
 * payment_ratio 0.85 and shipment_ratio 0.75 the shares are within sampling error, unpaid
 * orders stay pending with no payment or shipment, unshipped paid orders stay processing,
 * payments stay addressable and time-ordered with every order_id resolving, and the manifest
 * and GET agree on the counts. The default (1, 1) is the world without the parameters.
 */
import { createHash } from 'node:crypto';
import t from 'tap';
import { orderPays, orderShips } from '../../src/generators/knobs.js';
import { World, resolveSizes } from '../../src/generators/world.js';
import { testApp } from '../support/app.js';

const window = { start: Date.parse('2025-01-01T00:00:00Z'), end: Date.parse('2026-01-01T00:00:00Z') };
const sizes = resolveSizes(1, { users: 400, products: 100, orders: 4000 });

/** A subtest, as tap hands it to a `t.test` callback. */
type Test = Parameters<Parameters<typeof t.test>[0]>[0];

/** |observed - expected| within 4 standard deviations of a binomial share. */
function withinSampling(t: Test, hits: number, n: number, p: number, what: string) {
  const sd = Math.sqrt(n * p * (1 - p));
  t.ok(Math.abs(hits - n * p) <= 4 * sd, `${what}: ${hits} of ${n} (${((hits / n) * 100).toFixed(1)}%, expected ${(p * 100).toFixed(0)}%)`);
}

t.test('payment_ratio 0.85, shipment_ratio 0.75: shares, statuses and keys', async (t) => {
  const world = World.of({ seed: 21, sizes, locale: 'en_US', window, knobs: { payment_ratio: 0.85, shipment_ratio: 0.75 } });
  const orders = world.generator('orders');
  const payments = world.generator('payments');
  const shipping = world.generator('shipping');
  let paid = 0;
  let eligible = 0;
  let shipped = 0;
  let picked = 0;
  let wrong = 0;
  const paying: string[] = [];
  const orderIds = new Set<string>();
  for (let i = 0; i < orders.population; i++) {
    const plan = orders.plan(i);
    const order = orders.record(i);
    orderIds.add(order.order_id);
    if (orderPays(world, i)) {
      paid++;
      paying.push(order.order_id);
      if (plan.shippedAt !== null) shipped++;
      // Paid in the window and not cancelled: the shipment knob decides whether it ships.
      if (plan.paymentAt !== null && plan.paymentStatus === 'completed') {
        eligible++;
        if (orderShips(world, i)) picked++;
        else if (plan.shippedAt !== null || order.status !== 'processing') wrong++;
      }
    } else if (order.status !== 'pending' || plan.paymentAt !== null || plan.shippedAt !== null || plan.cancelledAt !== null) {
      wrong++;
    }
  }
  withinSampling(t, paid, orders.population, 0.85, 'orders with a payment');
  withinSampling(t, picked, eligible, 0.75, 'paid, not cancelled orders picked to ship');
  t.ok(shipped <= picked && shipped >= picked * 0.97, `${shipped} shipped by the window end of ${picked} picked`);
  t.equal(wrong, 0, 'unpaid orders stay pending with nothing after; kept-back orders stay processing without a shipment');

  t.equal(payments.population, paid, 'GET /payments serves one payment per paying order');
  const served = [...payments.range(0, payments.population)];
  t.same(served.map((p) => p.order_id), paying, 'in order of their orders (so in time order), every order_id resolves');
  t.equal(served.filter((p, k) => k > 0 && p.created_at < (served[k - 1] as typeof p).created_at).length, 0, 'payments never go back in time');
  const probes = [0, 1, Math.floor(payments.population / 2), payments.population - 1];
  t.same(probes.map((i) => payments.record(i)), probes.map((i) => served[i]), 'record(i) = the i-th of the range');
  t.same(probes.map((i) => payments.idOf(i)), probes.map((i) => served[i]?.payment_id), 'idOf(i) without building the row');
  t.equal(new Set(served.map((p) => p.payment_id)).size, served.length, 'payment ids are unique');
  t.equal(shipping.population, shipped, 'one shipment per shipped order');
  const payingSet = new Set(paying);
  t.equal([...shipping.range(0, shipping.population)].filter((s) => !payingSet.has(s.order_id) || !orderIds.has(s.order_id)).length, 0, 'every shipment is of a paid order');
});

t.test('knobs over HTTP: defaults are the world without them; manifest and GET agree; bad values are a 400', async (t) => {
  const app = await testApp(t);
  const world = 'seed=8&users=100&products=40&orders=600';
  const sha = (body: string) => createHash('sha256').update(body).digest('hex');
  const plain = await app.inject(`/api/v1/payments?${world}&format=csv&limit=10000`);
  const explicit = await app.inject(`/api/v1/payments?${world}&format=csv&limit=10000&payment_ratio=1&shipment_ratio=1`);
  t.equal(sha(explicit.body), sha(plain.body), 'payment_ratio=1&shipment_ratio=1 is the default world');

  const knobs = `${world}&payment_ratio=0.85&shipment_ratio=0.75`;
  const manifest = await app.inject(`/api/v1/manifest?${knobs}&entities=orders,payments,shipping`);
  t.equal(manifest.statusCode, 200);
  const entries = (manifest.json() as { entities: { entity: string; population: number; csv_sha256: string }[] }).entities;
  for (const entity of ['orders', 'payments', 'shipping']) {
    const response = await app.inject(`/api/v1/${entity}?${knobs}&format=csv&limit=100000`);
    const entry = entries.find((e) => e.entity === entity);
    t.equal(Number(response.headers['x-total-count']), entry?.population, `${entity}: manifest population = X-Total-Count (${entry?.population})`);
    t.equal(sha(response.body), entry?.csv_sha256, `${entity}: manifest checksum = the GET bytes`);
  }
  const payments = Number((await app.inject(`/api/v1/payments?${knobs}&limit=1`)).headers['x-total-count']);
  t.ok(payments < 600 && payments > 400, `${payments} of 600 orders paid`);

  for (const [name, bad] of [['payment_ratio', '1.5'], ['shipment_ratio', '-0.1'], ['payment_ratio', 'most']] as const) {
    const response = await app.inject(`/api/v1/orders?${world}&${name}=${bad}`);
    t.equal(response.statusCode, 400, `${name}=${bad}`);
    t.match(response.json(), { statusCode: 400, code: 'INVALID_PARAMETER', message: new RegExp(name) });
  }
});
