/**
 * Causality of the change feed: walking the whole feed of two worlds, every foreign key an
 * event's row carries that points at an entity the feed covers names a row the feed has already
 * inserted (users, orders and their lines, returns, the inventory row of a movement's product
 * and warehouse), and every update follows its key's insert. Violations are counted per class
 * (event type and field), so a failure says which rule broke and how often.
 */
import t from 'tap';
import { feedEvents, prepareFeed } from '../../src/events/feed.js';
import type { FeedEvent } from '../../src/events/types.js';
import { World } from '../../src/generators/world.js';
import { retainPrecompute } from '../../src/precompute/prepare.js';
import { worldSpecFrom } from '../../src/routes/world-query.js';

type Row = Record<string, unknown>;

/** A field of a covered entity's row, and the inserted keys it must be among. */
const FOREIGN: Record<string, 'users' | 'orders' | 'lines' | 'returns'> = {
  user_id: 'users',
  order_id: 'orders',
  order_item_id: 'lines',
  return_id: 'returns',
};
/** Each feed entity's own key field: it is the row's key, not a reference. */
const OWN_KEY: Record<string, string> = {
  users: 'user_id',
  orders: 'order_id',
  returns: 'return_id',
};

/** Violations of a world's feed, counted by class; also how many references were checked. */
function violations(world: World): { classes: Record<string, number>; checked: Record<string, number>; events: number } {
  const inserted = { users: new Set<string>(), orders: new Set<string>(), lines: new Set<string>(), returns: new Set<string>() };
  const keys = new Set<string>();
  const stock = new Set<string>();
  const classes: Record<string, number> = {};
  const checked: Record<string, number> = {};
  const count = (into: Record<string, number>, name: string) => {
    into[name] = (into[name] ?? 0) + 1;
  };
  let events = 0;
  for (const e of feedEvents(world) as Iterable<FeedEvent>) {
    events++;
    const row = e.data as Row;
    // Every update follows the insert of its key.
    const key = `${e.entity}/${e.key}`;
    if (e.op === 'insert') {
      if (keys.has(key)) count(classes, `${e.event_type}: key inserted twice`);
      keys.add(key);
    } else if (!keys.has(key)) count(classes, `${e.event_type}: update before its insert`);
    // Every reference to a covered entity names a row inserted earlier.
    for (const [field, target] of Object.entries(FOREIGN)) {
      const value = row[field];
      if (value === null || value === undefined || OWN_KEY[e.entity] === field) continue;
      const name = `${e.event_type}.${field} -> ${target}`;
      count(checked, name);
      if (!inserted[target].has(String(value))) count(classes, name);
    }
    // A movement changes the stock of an inventory row the feed has opened.
    if (e.entity === 'inventory-movements') {
      const name = `${e.event_type}(${String(row.movement_type)}).product_id+warehouse_id -> inventory`;
      count(checked, name);
      if (!stock.has(`${String(row.product_id)}/${String(row.warehouse_id)}`)) count(classes, name);
    }
    // What this event inserts, once it has been delivered.
    if (e.op === 'insert') {
      if (e.entity === 'users') inserted.users.add(e.key);
      if (e.entity === 'returns') inserted.returns.add(e.key);
      if (e.entity === 'inventory') stock.add(`${String(row.product_id)}/${String(row.warehouse_id)}`);
      if (e.entity === 'orders') {
        inserted.orders.add(e.key);
        for (const item of row.items as Row[]) inserted.lines.add(String(item.order_item_id));
      }
    }
  }
  return { classes, checked, events };
}

// The feed's preparation runs on the precompute thread: released when the tests end.
t.teardown(retainPrecompute());

const WORLDS = [
  { seed: 7, scale: 0.2 },
  { seed: 42, scale: 1 },
];

for (const spec of WORLDS) {
  t.test(`seed ${spec.seed} at scale ${spec.scale}: every key an event carries is already inserted`, async (t) => {
    const world = World.of(worldSpecFrom(spec));
    await prepareFeed(world);
    const { classes, checked, events } = violations(world);
    t.ok(events > 10_000, `${events} events`);
    // Every class of reference occurs, so the check is not vacuous.
    for (const name of ['interaction.purchase.order_id -> orders', 'payment.authorised.order_id -> orders', 'inventory.changed.order_item_id -> lines', 'inventory.changed.return_id -> returns', 'review.posted.order_id -> orders', 'support_ticket.opened.order_id -> orders', 'return.requested.order_item_id -> lines', 'order.placed.user_id -> users', 'interaction.page_view.user_id -> users']) {
      t.ok((checked[name] ?? 0) > 0, `${name}: ${checked[name] ?? 0} references checked`);
    }
    t.same(classes, {}, 'no violation of any class');
  });
}
