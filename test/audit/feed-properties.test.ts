/**
 * The change feed's judged properties on worlds the other feed tests do not use (seed 7 at
 * scale 0.5, seed 123456 at scale 0.2 in en_GB): time order, one insert per key before its
 * updates, every id resolving (to a row the feed inserted earlier, or to the table GET serves
 * for entities outside the feed), replay equal to the tables, the inventory ledger balancing,
 * CSV, offset pages, cursor pages and `types` subsets as windows onto the same events, and chaos
 * in proportion and listed exactly by /events/defects.
 */
import { parse as parseCsv } from 'csv-parse/sync';
import { XMLParser } from 'fast-xml-parser';
import t from 'tap';
import { FEED_ENTITIES } from '../../src/events/catalogue.js';
import type { FeedEvent } from '../../src/events/types.js';
import { testApp } from '../support/app.js';
import { chaosEvents } from '../support/parse.js';

const app = await testApp(t);

type Row = Record<string, unknown>;
const ndjson = (body: string) => body.trimEnd().split('\n').filter(Boolean).map((line) => JSON.parse(line) as FeedEvent);

/** The primary key of each entity an id field may point at, and the entity it names. */
const TARGETS: Record<string, string> = {
  user_id: 'users',
  order_id: 'orders',
  return_id: 'returns',
  product_id: 'products',
  warehouse_id: 'warehouses',
  segment_id: 'customer-segments',
  promotion_id: 'promotions',
  supplier_id: 'suppliers',
  session_id: 'sessions',
  order_item_id: 'order-items',
};
/** Each feed entity's own key field (the event's `key`). */
const KEY_FIELD: Record<string, string> = {
  users: 'user_id',
  orders: 'order_id',
  payments: 'payment_id',
  shipping: 'shipment_id',
  returns: 'return_id',
  reviews: 'review_id',
  'support-tickets': 'ticket_id',
  inventory: 'inventory_id',
  'inventory-movements': 'movement_id',
  'price-changes': 'change_id',
  clickstream: 'event_id',
};

async function table(world: string, entity: string): Promise<Row[]> {
  const response = await app.inject(`/api/v1/${entity}?${world}&limit=1000000&format=ndjson`);
  if (response.statusCode !== 200) throw new Error(`${entity}: ${response.statusCode} ${response.body.slice(0, 200)}`);
  return response.body.trimEnd().split('\n').filter(Boolean).map((line) => JSON.parse(line) as Row);
}

const WORLDS = ['seed=7&scale=0.2', 'seed=123456&scale=0.1&locale=en_GB'];

for (const world of WORLDS) {
  t.test(world, async (t) => {
    const get = (query: string) => app.inject(`/api/v1/events?${world}&${query}`);
    const whole = await get('format=ndjson&limit=10000000');
    t.equal(whole.statusCode, 200);
    const all = ndjson(whole.body);
    const n = all.length;
    t.ok(n > 10_000, `${n} events`);

    t.test('positions and time order', async (t) => {
      let misplaced = 0;
      let backwards = 0;
      all.forEach((e, k) => {
        if (e.sequence !== k) misplaced++;
        if (k > 0 && (all[k - 1] as FeedEvent).event_time > e.event_time) backwards++;
      });
      t.equal(misplaced, 0, 'sequence = position');
      t.equal(backwards, 0, 'event_time never decreases');
      t.ok(all.every((e) => e.defect === undefined), 'no chaos label without chaos');
    });

    t.test('one insert per key, before its updates; keys and ids resolve', async (t) => {
      const inserted = new Map<string, Set<string>>(FEED_ENTITIES.map((entity) => [entity, new Set<string>()]));
      const outside = new Map<string, Set<string>>();
      for (const [field, entity] of Object.entries(TARGETS)) {
        if (FEED_ENTITIES.includes(entity as never)) continue;
        outside.set(field, new Set((await table(world, entity)).map((row) => String(row[field]))));
      }
      const placedAt = new Map(all.filter((e) => e.event_type === 'order.placed').map((e) => [e.key, e.event_time]));
      const problems: string[] = [];
      for (const e of all) {
        const seen = inserted.get(e.entity);
        if (!seen) {
          problems.push(`${e.event_id}: entity ${e.entity} is not a feed entity`);
          continue;
        }
        if (e.key !== (e.data as Row)[KEY_FIELD[e.entity] as string]) problems.push(`${e.event_id}: key is not the row's ${KEY_FIELD[e.entity]}`);
        if (e.op === 'insert' ? seen.has(e.key) : !seen.has(e.key)) problems.push(`${e.event_id}: ${e.op} of ${e.entity}/${e.key}`);
        seen.add(e.key);
        for (const [field, value] of Object.entries(e.data as Row)) {
          const target = TARGETS[field];
          if (value === null || target === undefined || field === KEY_FIELD[e.entity]) continue;
          // docs/events.md: a PURCHASE is at its order's created_at, delivered after its order.placed (data version 4).
          if (e.event_type === 'interaction.purchase' && field === 'order_id' && placedAt.get(String(value)) !== e.event_time) {
            problems.push(`${e.event_id}: purchase of order ${String(value)} not at its order's time`);
          }
          const known = inserted.get(target) ?? outside.get(field);
          if (!known?.has(String(value))) problems.push(`${e.event_id}: ${e.entity}.${field} ${String(value)} does not resolve in ${target}`);
        }
      }
      t.same(problems.slice(0, 10), [], `${problems.length} problems`);
    });

    t.test('replay equals the tables; the ledger balances', async (t) => {
      const last = new Map<string, Map<string, string>>(FEED_ENTITIES.map((entity) => [entity, new Map<string, string>()]));
      for (const e of all) last.get(e.entity)?.set(e.key, JSON.stringify(e.data));
      for (const entity of FEED_ENTITIES) {
        const rows = await table(world, entity);
        const replayed = last.get(entity) as Map<string, string>;
        const differ = rows.filter((row) => replayed.get(String(row[KEY_FIELD[entity] as string])) !== JSON.stringify(row)).length;
        t.equal(replayed.size, rows.length, `${entity}: as many keys as rows`);
        t.equal(differ, 0, `${entity}: ${rows.length} rows equal their last event`);
      }
      // Opening stock plus every movement of a product in a warehouse is its final stock, never below 0.
      const stock = new Map<string, number>();
      let negative = 0;
      for (const e of all) {
        const row = e.data as Row;
        const place = `${String(row.product_id)}/${String(row.warehouse_id)}`;
        if (e.event_type === 'inventory.opened') stock.set(place, row.quantity_on_hand as number);
        if (e.event_type === 'inventory.changed') {
          const now = (stock.get(place) ?? Number.NaN) + (row.quantity as number);
          stock.set(place, now);
          if (!(now >= 0)) negative++;
        }
      }
      const inventory = await table(world, 'inventory');
      const unbalanced = inventory.filter((row) => stock.get(`${String(row.product_id)}/${String(row.warehouse_id)}`) !== row.quantity_on_hand).length;
      t.equal(unbalanced, 0, `${inventory.length} inventory rows balance`);
      t.equal(negative, 0, 'stock never goes below zero');
    });

    t.test('csv, offset pages, cursor pages and types subsets are the same events', async (t) => {
      const csv = parseCsv((await get('format=csv&limit=10000000')).body, { columns: true }) as Record<string, string>[];
      t.equal(csv.length, n);
      const csvDiffer = csv.filter((row, k) => {
        const e = all[k] as FeedEvent;
        return row.event_id !== e.event_id || row.event_time !== e.event_time || row.key !== e.key || Number(row.sequence) !== e.sequence || row.data !== JSON.stringify(e.data);
      }).length;
      t.equal(csvDiffer, 0, 'every CSV row is its event');

      const lines = whole.body.trimEnd().split('\n');
      for (const [offset, limit] of [
        [0, 1],
        [Math.floor(n / 3), 777],
        [n - 5, 100],
      ] as const) {
        const page = (await get(`format=ndjson&offset=${offset}&limit=${limit}`)).body;
        t.equal(page, lines.slice(offset, offset + limit).join('\n') + '\n', `offset ${offset}, limit ${limit}: the same bytes`);
      }

      // Three pages by the Link cursor from the middle of the feed.
      const from = Math.floor(n / 2);
      let url: string | undefined = `/api/v1/events?${world}&format=ndjson&limit=500&after=${(all[from] as FeedEvent).event_id}`;
      let body = '';
      for (let pages = 0; url && pages < 3; pages++) {
        const response: { body: string; headers: Record<string, unknown> } = await app.inject(url);
        body += response.body;
        url = /<([^>]+)>; rel="next"/.exec(String(response.headers.link ?? ''))?.[1];
      }
      t.equal(body, lines.slice(from + 1, from + 1501).join('\n') + '\n', 'cursor pages resume after the cursor');

      const types = ['user.signed_up', 'order.cancelled', 'payment.refunded', 'return.decided', 'inventory.counted'];
      const subset = (await get(`format=ndjson&limit=10000000&types=${types.join(',')}`)).body;
      const expected = lines.filter((_, k) => types.includes((all[k] as FeedEvent).event_type));
      t.ok(expected.length > 100);
      t.equal(subset, expected.join('\n') + '\n', `types subset: ${expected.length} events, the same bytes`);
    });

    t.test('partitions of a page are its slices; json and xml carry the same events', async (t) => {
      const page = `offset=${Math.floor(n / 3)}&limit=3000`;
      const whole = (await get(`format=ndjson&${page}`)).body;
      let joined = '';
      const ranges: string[] = [];
      for (let k = 0; k < 3; k++) {
        const part = await get(`format=ndjson&${page}&partition=${k}&partitions=3`);
        joined += part.body;
        ranges.push(String(part.headers['x-partition-range']));
      }
      t.equal(joined, whole, `three partitions (${ranges.join(', ')}) are the page, byte for byte`);
      const json = (await get(`format=json&${page}`)).json() as FeedEvent[];
      t.equal(JSON.stringify(json), JSON.stringify(ndjson(whole)), 'json = ndjson');
      const xml = new XMLParser({ parseTagValue: false }).parse((await get(`format=xml&${page}`)).body) as { events: { event: Record<string, string>[] } };
      const events = ndjson(whole);
      const differ = xml.events.event.filter((el, k) => {
        const e = events[k] as FeedEvent;
        return el.event_id !== e.event_id || el.event_type !== e.event_type || el.event_time !== e.event_time || el.key !== e.key || el.data !== JSON.stringify(e.data);
      }).length;
      t.equal(xml.events.event.length, events.length);
      t.equal(differ, 0, 'every xml element is its event');
    });

    t.test('chaos: in proportion, listed exactly, the same on every page and subset', async (t) => {
      const chaos = 'late_ratio=0.05&duplicate_ratio=0.01&bad_ratio=0.001';
      const body = (await get(`format=ndjson&limit=10000000&${chaos}`)).body;
      const lines = body.trimEnd().split('\n');
      const delivered = chaosEvents(lines);
      const counted = { late: 0, duplicate: 0, bad: 0 };
      for (const e of delivered) if (e.defect) counted[e.defect]++;
      const near = (count: number, ratio: number) => Math.abs(count - n * ratio) <= 4 * Math.sqrt(n * ratio * (1 - ratio)) + 1;
      t.ok(near(counted.late, 0.05), `late ${counted.late} of ${n} (expected ${Math.round(n * 0.05)})`);
      t.ok(near(counted.duplicate, 0.01), `duplicate ${counted.duplicate} (expected ${Math.round(n * 0.01)})`);
      t.ok(near(counted.bad, 0.001), `bad ${counted.bad} (expected ${Math.round(n * 0.001)})`);
      t.equal(delivered.length, n + counted.duplicate + counted.bad, 'every event once, plus the copies');

      // Out of time order only where labelled late (or a malformed copy whose time is not a string).
      let unlabelled = 0;
      let latest = '';
      for (const e of delivered) {
        if (e.defect === 'late' || e.defect === 'bad') continue;
        if (e.event_time < latest) unlabelled++;
        latest = e.event_time > latest ? e.event_time : latest;
      }
      t.equal(unlabelled, 0, 'only labelled deliveries go back in time');

      const defects = (await app.inject(`/api/v1/events/defects?${world}&${chaos}`)).json() as { position: number; event_id: string; sequence: number; defect: string; variant: string | null }[];
      t.equal(defects.length, counted.late + counted.duplicate + counted.bad, 'the defects list has every chaos delivery');
      const wrong = defects.filter((d) => {
        const at = delivered[d.position] as FeedEvent & { truncated?: boolean };
        if (at === undefined || at.defect !== d.defect) return true;
        if (at.truncated) return d.variant !== 'truncated';
        return d.defect !== 'bad' && (at.event_id !== d.event_id || at.sequence !== d.sequence);
      }).length;
      t.equal(wrong, 0, 'each listed defect is at its position, with its label and id');

      for (const [offset, limit] of [
        [Math.floor(n / 4), 2000],
        [lines.length - 50, 100],
      ] as const) {
        const page = (await get(`format=ndjson&offset=${offset}&limit=${limit}&${chaos}`)).body;
        t.equal(page, lines.slice(offset, offset + limit).join('\n') + '\n', `chaos page at offset ${offset}: the same bytes`);
      }

      // A types subset delivers the same events with the same labels (a truncated line has no type to filter by).
      const types = ['order.placed', 'payment.captured', 'inventory.changed'];
      const label = (e: FeedEvent) => `${e.event_id}/${e.defect ?? ''}`;
      const subset = (await get(`format=ndjson&limit=10000000&types=${types.join(',')}&${chaos}`)).body.trimEnd().split('\n');
      const parsed = subset.flatMap((line) => (line.startsWith('{') && line.endsWith('}') ? [JSON.parse(line) as FeedEvent] : []));
      const expected = delivered.filter((e) => types.includes(e.event_type));
      t.ok(expected.length > 1000);
      t.same(parsed.map(label).sort(), expected.map(label).sort(), `types subset: ${expected.length} deliveries, the same ids and labels`);
    });
  });
}
