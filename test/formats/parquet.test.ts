import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createWriteStream } from 'node:fs';
import { pipeline } from 'node:stream/promises';
import { DuckDBInstance } from '@duckdb/node-api';
import t from 'tap';
import { parquetStream } from '../../src/formats/parquet.js';
import { ENTITIES, type EntityName } from '../../src/generators/registry.js';
import { World, resolveSizes } from '../../src/generators/world.js';
import { columnsOf } from '../../src/schemas/columns.js';
import { testApp } from '../support/app.js';
import { startGcsServer } from '../support/gcs-server.js';

/** Reads a Parquet file with DuckDB (an independent reader) as JSON-like rows, with its column types. */
async function readParquet(file: string) {
  const db = await DuckDBInstance.create(':memory:');
  const connection = await db.connect();
  try {
    const described = (await connection.runAndReadAll(`DESCRIBE SELECT * FROM read_parquet('${file}')`)).getRowObjectsJson();
    const types = Object.fromEntries(described.map((row) => [String(row.column_name), String(row.column_type)]));
    // Values back in the JSON download's shapes: decimals and uuids as they print, times in UTC.
    const select = Object.entries(types).map(([name, type]) => {
      const c = `"${name}"`;
      if (type === 'TIMESTAMP WITH TIME ZONE') return `strftime(timezone('UTC', ${c}), '%Y-%m-%dT%H:%M:%SZ') AS ${c}`;
      if (type === 'DATE') return `strftime(${c}, '%Y-%m-%d') AS ${c}`;
      if (type.startsWith('DECIMAL')) return `CAST(${c} AS DOUBLE) AS ${c}`;
      if (type === 'UUID') return `CAST(${c} AS VARCHAR) AS ${c}`;
      return c;
    });
    const rows = (await connection.runAndReadAll(`SELECT ${select.join(', ')} FROM read_parquet('${file}')`)).getRowObjectsJson();
    const schema = (await connection.runAndReadAll(`SELECT name, repetition_type FROM parquet_schema('${file}') WHERE name <> 'root'`)).getRowObjectsJson();
    const optional = Object.fromEntries(schema.map((row) => [String(row.name), row.repetition_type === 'OPTIONAL']));
    for (const row of rows) {
      for (const [name, type] of Object.entries(types)) {
        if (type === 'JSON' && typeof row[name] === 'string') row[name] = JSON.parse(row[name] as string);
        if (type === 'BIGINT' && typeof row[name] === 'string') row[name] = Number(row[name]);
      }
    }
    return { types, rows, optional };
  } finally {
    connection.closeSync();
  }
}

t.test('parquet downloads read back with DuckDB to the values and types of the JSON download', async (t) => {
  const app = await testApp(t);
  const dir = await mkdtemp(path.join(tmpdir(), 'ecomgen-parquet-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const entities: EntityName[] = ['users', 'orders', 'payments', 'products', 'returns', 'sessions'];
  for (const entity of entities) {
    const query = `seed=7&scale=0.5&limit=700&offset=50`;
    const res = await app.inject(`/api/v1/${entity}?${query}&format=parquet`);
    t.equal(res.statusCode, 200, entity);
    t.equal(res.headers['content-type'], 'application/vnd.apache.parquet');
    t.match(String(res.headers['content-disposition']), `${entity}-seed7.parquet`);
    const file = path.join(dir, `${entity}.parquet`);
    await writeFile(file, res.rawPayload);
    const { types, rows, optional } = await readParquet(file);
    const json = (await app.inject(`/api/v1/${entity}?${query}&format=json`)).json();
    t.equal(rows.length, json.length, `${entity}: row count`);
    t.same(rows, json, `${entity}: every value equals the JSON download`);
    for (const column of columnsOf(ENTITIES[entity].schema)) {
      const expected =
        column.sqlType === 'uuid' ? 'UUID'
        : column.sqlType === 'timestamptz' ? 'TIMESTAMP WITH TIME ZONE'
        : column.sqlType === 'numeric(12,2)' ? 'DECIMAL(12,2)'
        : column.sqlType === 'integer' ? 'INTEGER'
        : column.sqlType === 'bigint' ? 'BIGINT'
        : column.sqlType === 'double precision' ? 'DOUBLE'
        : column.sqlType === 'boolean' ? 'BOOLEAN'
        : column.sqlType === 'date' ? 'DATE'
        : column.sqlType === 'jsonb' ? 'JSON'
        : 'VARCHAR';
      t.equal(types[column.name], expected, `${entity}.${column.name} is ${expected}`);
      t.equal(optional[column.name], column.nullable, `${entity}.${column.name} nullable as the schema says`);
    }
  }
});

t.test('parquet with fields, partitions, and many row groups', async (t) => {
  const app = await testApp(t);
  const dir = await mkdtemp(path.join(tmpdir(), 'ecomgen-parquet-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const file = path.join(dir, 'users.parquet');
  const res = await app.inject('/api/v1/users?seed=3&scale=3&limit=2500&partition=1&partitions=2&format=parquet&fields=user_id,email,created_at');
  t.equal(res.headers['x-partition-range'], '1250-2500');
  await writeFile(file, res.rawPayload);
  const { rows, types } = await readParquet(file);
  t.same(Object.keys(types), ['user_id', 'email', 'created_at']);
  const json = (await app.inject('/api/v1/users?seed=3&scale=3&limit=1250&offset=1250&fields=user_id,email,created_at')).json();
  t.same(rows, json);

  // Row groups stream one after another: a small row group gives many, read back whole.
  const world = World.of({ seed: 3, sizes: resolveSizes(1, {}), locale: 'en_US', window: { start: Date.parse('2025-01-01T00:00:00Z'), end: Date.parse('2026-01-01T00:00:00Z') } });
  const grouped = path.join(dir, 'grouped.parquet');
  await pipeline(parquetStream(ENTITIES.users.schema, world.generator('users').range(0, 1000), { rowGroup: 128 }), createWriteStream(grouped));
  const db = await DuckDBInstance.create(':memory:');
  const connection = await db.connect();
  const groups = (await connection.runAndReadAll(`SELECT count(DISTINCT row_group_id)::INTEGER AS n, sum(row_group_num_rows)::INTEGER / count(DISTINCT column_id)::INTEGER AS rows FROM parquet_metadata('${grouped}')`)).getRowObjectsJson();
  connection.closeSync();
  t.same(groups, [{ n: 8, rows: 1000 }], '8 row groups of up to 128 rows');
  t.equal((await readParquet(grouped)).rows.length, 1000);

  const bad = await app.inject('/api/v1/users?format=parquet&index=x');
  t.equal(bad.statusCode, 400);
  t.match(bad.json().message, /^index: /);
});

t.test('the GCS sink stores parquet objects: the same values as the JSON download', async (t) => {
  const server = await startGcsServer(t, ['ecomgen-test']);
  const app = await testApp(t, { sinks: { gcs: { bucket: 'ecomgen-test', projectId: 'ecomgen-test', apiEndpoint: server.url } } });
  const response = await app.inject({ method: 'POST', url: '/api/v1/sinks/gcs?wait=true', payload: { seed: 5, users: 300, entities: ['users', 'orders'], format: 'parquet', partition: '1/2' } });
  t.equal(response.statusCode, 200, response.body);
  t.equal(response.json().state, 'succeeded', response.body);
  const dir = await mkdtemp(path.join(tmpdir(), 'ecomgen-parquet-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  for (const entity of ['users', 'orders']) {
    const [object] = server.list('ecomgen-test', `ecomgen/${entity}/`);
    t.ok(object?.name.endsWith('.parquet'), `${entity}: ${object?.name}`);
    t.equal(object?.contentType, 'application/vnd.apache.parquet');
    const file = path.join(dir, `${entity}.parquet`);
    await writeFile(file, object?.data ?? Buffer.alloc(0));
    const total = Number((await app.inject(`/api/v1/${entity}?seed=5&users=300&limit=1`)).headers['x-total-count']);
    const half = Math.floor(total / 2);
    const json = (await app.inject(`/api/v1/${entity}?seed=5&users=300&offset=${half}&limit=${total - half}`)).json();
    t.same((await readParquet(file)).rows, json, `${entity}: partition 1/2 of the population`);
  }
});
