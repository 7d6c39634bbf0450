import t from 'tap';
import { ENTITIES, ENTITY_NAMES, isEntityName } from '../../src/generators/registry.js';
import { columnsOf, createTablesSql } from '../../src/schemas/columns.js';

t.test('the column map and the schemas agree', async (t) => {
  for (const entity of ENTITY_NAMES) {
    const { schema, primaryKey, foreignKeys } = ENTITIES[entity];
    const columns = columnsOf(schema);
    t.same(columns.map((c) => c.name), Object.keys(schema.properties), `${entity}: one column per property, same order`);
    const pk = columns.find((c) => c.name === primaryKey);
    t.equal(pk?.sqlType, 'uuid', `${entity}: primary key ${primaryKey} is a uuid column`);
    t.equal(pk?.nullable, false, `${entity}: primary key not null`);
    const position = ENTITY_NAMES.indexOf(entity);
    for (const [column, parent] of Object.entries(foreignKeys)) {
      t.ok(isEntityName(parent), `${entity}.${column} references an entity`);
      t.equal(columns.find((c) => c.name === column)?.sqlType, 'uuid', `${entity}.${column} is a uuid`);
      t.ok(ENTITY_NAMES.indexOf(parent as never) <= position, `${entity}.${column}: ${parent} comes first in dependency order`);
    }
  }
  const orders = columnsOf(ENTITIES.orders.schema);
  t.equal(orders.find((c) => c.name === 'total')?.sqlType, 'numeric(12,2)', 'money is numeric(12,2)');
  t.equal(orders.find((c) => c.name === 'created_at')?.sqlType, 'timestamptz');
  t.equal(orders.find((c) => c.name === 'items')?.sqlType, 'jsonb');
  const shipping = columnsOf(ENTITIES.shipping.schema);
  t.same(shipping.find((c) => c.name === 'actual_delivery_at'), { name: 'actual_delivery_at', sqlType: 'timestamptz', nullable: true });
});

t.test('DDL qualifies schema and prefix and adds foreign keys on request', async (t) => {
  const [users = '', products = ''] = createTablesSql(['users', 'products'], { schema: 'bronze', prefix: 'raw_', foreignKeys: true });
  t.match(users, 'CREATE TABLE IF NOT EXISTS "bronze"."raw_users"');
  t.match(users, 'PRIMARY KEY ("user_id")');
  t.match(products, 'FOREIGN KEY ("vendor_id") REFERENCES "bronze"."raw_vendors" ("vendor_id")');
  const plain = createTablesSql(['products']);
  t.notMatch(plain[0], 'FOREIGN KEY');
});
