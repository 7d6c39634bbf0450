/**
 * The compiled JSON writer's arrays of objects (an order's items): written by a compiled member
 * writer, byte for byte what JSON.stringify gives, and through JSON.stringify for any value of
 * another shape.
 */
import t from 'tap';
import { jsonWriter } from '../../src/formats/json-writer.js';

const members = {
  type: 'object',
  required: ['id', 'name', 'price'],
  properties: { id: { type: 'string', format: 'uuid' }, name: { type: 'string' }, price: { type: 'number' } },
};
const context = {
  columns: ['key', 'lines'],
  root: 'xs',
  item: 'x',
  schema: { $id: 'WithLines', required: ['key', 'lines'], properties: { key: { type: 'string', format: 'uuid' }, lines: { type: 'array', items: members } } },
};
const id = '3f6c2a9e-8d1b-4c7a-9e2f-5b8d4a1c7e90';

t.test('an array of objects is written as JSON.stringify writes it, whatever its shape', async (t) => {
  const values: unknown[] = [
    [{ id, name: 'a "quoted", name', price: 59.6 }],
    [{ id, name: 'x', price: 1 }, { id, name: 'line\nbreak', price: Number.NaN }],
    [{ id, name: 'é and \ud800', price: -0 }, { id, name: '', price: 1e21 }],
    [{ name: 'keys out of order', id, price: 2 }],
    [{ id, name: 'extra key', price: 2, more: true }],
    [{ id, name: 'x', price: 1 }, 'not an object', null],
    [[1, 2]],
    [],
    null,
    'not an array',
    { id, name: 'an object', price: 3 },
  ];
  const write = jsonWriter(context, { key: id, lines: [] });
  for (const lines of values) {
    const record = { key: id, lines };
    t.equal(write(record), JSON.stringify(record), JSON.stringify(lines));
    t.same(JSON.parse(write(record)), JSON.parse(JSON.stringify(record)));
  }
});
