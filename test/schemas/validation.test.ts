import { Ajv } from 'ajv';
import formats from 'ajv-formats';
import t from 'tap';
import { ENTITIES, ENTITY_NAMES } from '../../src/generators/registry.js';
import { World, resolveSizes } from '../../src/generators/world.js';
import { LOCALES } from '../../src/generators/locale.js';

const window = { start: Date.UTC(2025, 0, 1), end: Date.UTC(2026, 0, 1) };

t.test('every record of a world validates against its TypeBox schema', async (t) => {
  const ajv = new Ajv({ allErrors: true, strict: true });
  formats.default(ajv);
  for (const locale of LOCALES) {
    const world = World.of({
      seed: 99,
      sizes: resolveSizes(1, { users: 400, products: 150, orders: 1500, vendors: 10, warehouses: 3 }),
      locale,
      window,
      // One light day of telemetry: a default week is 17.5M events.
      params: { days: 1, base_tps: 2 },
    });
    for (const entity of ENTITY_NAMES) {
      const validate = ajv.getSchema(ENTITIES[entity].schema.$id as string) ?? ajv.compile(ENTITIES[entity].schema);
      const generator = world.generator(entity);
      let invalid = 0;
      let firstError = '';
      let n = 0;
      for (const record of generator.range(0, generator.population)) {
        n++;
        if (!validate(record)) {
          invalid++;
          firstError ||= JSON.stringify({ record, errors: validate.errors });
        }
      }
      t.equal(invalid, 0, `${locale} ${entity}: ${n} records valid${firstError ? ` — ${firstError}` : ''}`);
      t.equal(n, generator.population, `${locale} ${entity}: range yields the population`);
    }
  }
});

t.test('money has at most two decimals everywhere', async (t) => {
  const world = World.of({ seed: 3, sizes: resolveSizes(1, { orders: 2000 }), locale: 'en_GB', window });
  const twoDecimals = (x: number) => Math.abs(Math.round(x * 100) - x * 100) < 1e-6;
  let bad = 0;
  for (const order of world.generator('orders').range(0, 2000)) {
    for (const v of [order.subtotal, order.discount, order.tax, order.shipping_cost, order.total]) if (!twoDecimals(v)) bad++;
    for (const line of order.items) if (!twoDecimals(line.unit_price) || !twoDecimals(line.total)) bad++;
  }
  t.equal(bad, 0);
});
