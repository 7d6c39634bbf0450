import t from 'tap';
import { csvJsonArrayCell, jsonWriter } from '../../src/formats/json-writer.js';
import { ENTITIES, ENTITY_NAMES } from '../../src/generators/registry.js';
import { World, resolveSizes } from '../../src/generators/world.js';
import { formatContext, recordsOf } from '../../src/render/batch.js';

const window = { start: Date.UTC(2025, 0, 1), end: Date.UTC(2026, 0, 1) };

t.test('the compiled JSON writer gives exactly what JSON.stringify gives, for every entity', async (t) => {
  for (const locale of ['en_US', 'en_GB'] as const) {
    const world = World.of({ seed: 11, sizes: resolveSizes(1, { users: 300, products: 120, orders: 600, vendors: 8, warehouses: 3 }), locale, window });
    for (const entity of ENTITY_NAMES) {
      const all = Object.keys(ENTITIES[entity].schema.properties);
      const population = world.generator(entity).population;
      const start = Math.max(0, Math.min(population - 300, 100));
      for (const columns of [all, all.slice(0, 4).reverse()]) {
        const projected = columns !== all;
        const records = [...recordsOf(world, entity, start, Math.min(population, start + 300), projected ? columns : null)];
        const write = jsonWriter(formatContext(entity, columns), records[0]);
        const mismatches = records.filter((r) => write(r) !== JSON.stringify(r));
        t.equal(mismatches.length, 0, `${locale} ${entity}${projected ? ` (fields ${columns.join(',')})` : ''}: ${records.length} records byte-identical`);
      }
    }
  }
});

t.test('falls back to JSON.stringify when a record does not have the expected keys', async (t) => {
  const context = { columns: ['a', 'b'], root: 'xs', item: 'x', schema: { $id: 'X', required: ['a', 'b'], properties: { a: { type: 'integer' }, b: { type: 'string', format: 'uuid' } } } };
  const odd = { b: 'x"y', a: 1 };
  t.equal(jsonWriter(context, odd)(odd), JSON.stringify(odd));
  const fine = { a: Number.NaN, b: '3f6c2a9e-8d1b-4c7a-9e2f-5b8d4a1c7e90' };
  t.equal(jsonWriter(context, fine)(fine), JSON.stringify(fine), 'non-finite numbers are null, as in JSON.stringify');
  const special = { columns: ['s'], root: 'xs', item: 'x', schema: { $id: 'Y', required: ['s'], properties: { s: { type: 'string', enum: ['a"b', 'c'] } } } };
  const quoted = { s: 'a"b' };
  t.equal(jsonWriter(special, quoted)(quoted), JSON.stringify(quoted), 'enum values that need escaping are escaped');
});

t.test('the pre-escaped CSV cell of nested members equals the generic JSON cell', async (t) => {
  const members = { required: ['id', 'name', 'price'], properties: { id: { type: 'string', format: 'uuid' }, name: { type: 'string' }, price: { type: 'number' } } };
  const generic = (value: unknown) => (value === null || value === undefined ? '' : `"${JSON.stringify(value).replace(/"/g, '""')}"`);
  const cell = csvJsonArrayCell(members, generic);
  const values: unknown[] = [
    [{ id: '3f6c2a9e-8d1b-4c7a-9e2f-5b8d4a1c7e90', name: 'a "quoted", name', price: 59.6 }],
    [{ id: '3f6c2a9e-8d1b-4c7a-9e2f-5b8d4a1c7e90', name: 'x', price: 1 }, { id: '3f6c2a9e-8d1b-4c7a-9e2f-5b8d4a1c7e91', name: 'line\nbreak', price: Number.NaN }],
    [{ name: 'keys out of order', id: 'x', price: 2 }],
    [{ id: 'x', name: 'extra key', price: 2, more: true }],
    [],
    null,
  ];
  for (const value of values) t.equal(cell(value), generic(value), JSON.stringify(value));

  const world = World.of({ seed: 5, sizes: resolveSizes(1, {}), locale: 'en_GB', window });
  const items = ENTITIES.orders.schema.properties.items as unknown as { items: typeof members };
  const orderCell = csvJsonArrayCell(items.items, generic);
  const orders = [...recordsOf(world, 'orders', 0, 500, null)] as { items: unknown }[];
  t.equal(orders.filter((o) => orderCell(o.items) !== generic(o.items)).length, 0, '500 orders: the items cell is byte-identical');
});
