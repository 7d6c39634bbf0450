import t from 'tap';
import { CsvRows, JsonRows, XmlRows, type ByteRows, type FieldSource, type FieldWriter } from '../../src/formats/fields.js';
import { FORMATS, type FormatContext } from '../../src/formats/index.js';
import { XML_NAMES } from '../../src/formats/xml.js';
import { Money, isMoney } from '../../src/schemas/common.js';
import { ENTITIES } from '../../src/generators/registry.js';
import { World, resolveSizes } from '../../src/generators/world.js';
import { formatContext, renderBatch } from '../../src/render/batch.js';

// Writing records field by field into bytes must give exactly what each format's record writer
// gives for the record objects.

const TEXT_FORMATS = ['csv', 'ndjson', 'json', 'xml'] as const;

/** The text the format's record writer gives for `records` (one batch, as the string path writes it). */
function viaRecords(format: (typeof TEXT_FORMATS)[number], records: object[], context: FormatContext, first: boolean): string {
  let out = '';
  for (let k = 0; k < records.length; k += 256) out += FORMATS[format].batch(records.slice(k, k + 256), context, first && k === 0);
  return out;
}

/** A field writer per text format for `columns` (JSON as a later batch: not the first record). */
function writersOf(columns: readonly string[]): Record<(typeof TEXT_FORMATS)[number], () => ByteRows> {
  return {
    csv: () => new CsvRows(),
    ndjson: () => new JsonRows(columns, true, true),
    json: () => new JsonRows(columns, false, false),
    xml: () => new XmlRows(columns, 'thing', XML_NAMES),
  };
}

t.test('users written field by field equal the records, in every format and both locales', async (t) => {
  const columns = Object.keys(ENTITIES.users.schema.properties);
  const context = formatContext('users', columns);
  for (const locale of ['en_US', 'en_GB'] as const) {
    const spec = { seed: 7, sizes: resolveSizes(1, { users: 50_000 }), locale, window: { start: Date.UTC(2025, 0, 1), end: Date.UTC(2026, 0, 1) } };
    const world = World.of(spec);
    const users = world.generator('users');
    const start = 47_000;
    const records = [...users.range(start, 50_000)];
    for (const format of TEXT_FORMATS) {
      for (const first of [true, false]) {
        const bytes = renderBatch({ spec, entity: 'users', format, columns, projected: false, start, end: 50_010, first });
        t.type(bytes, Uint8Array, `${locale} ${format}: written as bytes`);
        const text = Buffer.from(bytes as Uint8Array).toString('utf8');
        t.ok(text === viaRecords(format, records, context, first), `${locale} ${format} first=${first}: identical (${text.length} chars)`);
      }
    }
  }
});

t.test('orders written field by field equal the records, in every format, at two scales and in both locales', async (t) => {
  const columns = Object.keys(ENTITIES.orders.schema.properties);
  const context = formatContext('orders', columns);
  for (const [scale, locale, start] of [[1, 'en_US', 0], [1, 'en_GB', 1_500], [100, 'en_US', 250_000]] as const) {
    const spec = { seed: 11, sizes: resolveSizes(scale, {}), locale, window: { start: Date.UTC(2025, 0, 1), end: Date.UTC(2026, 0, 1) } };
    const world = World.of(spec);
    const end = start + 600;
    const records = [...world.generator('orders').range(start, end)] as { promotion_id: string | null; items: unknown[]; status: string }[];
    // The rows cover what the field writer branches on: a promotion or none, several lines, every status.
    t.ok(records.some((r) => r.promotion_id !== null) && records.some((r) => r.promotion_id === null), `scale ${scale} ${locale}: with and without a promotion`);
    t.ok(records.some((r) => r.items.length >= 3), `scale ${scale} ${locale}: orders of several lines`);
    for (const format of TEXT_FORMATS) {
      for (const first of [true, false]) {
        const bytes = renderBatch({ spec, entity: 'orders', format, columns, projected: false, start, end, first });
        t.type(bytes, Uint8Array, `scale ${scale} ${locale} ${format}: written as bytes`);
        const text = Buffer.from(bytes as Uint8Array).toString('utf8');
        t.ok(text === viaRecords(format, records, context, first), `scale ${scale} ${locale} ${format} first=${first}: identical (${text.length} chars)`);
      }
    }
  }
});

t.test('money, nulls and lists of objects are written as the record writers write them', async (t) => {
  const members = ['key', 'label', 'joined', 'count', 'price', 'maybe', 'flag', 'day', 'at'];
  const columns = ['id', 'amount', 'none', 'lines', 'after'];
  const texts = ['plain', 'a "quote", comma', '<tag> & \'apos\'', 'back\\slash\nbreak', 'Zoë 😀', ''];
  const cents = [0, 5, 50, 99, 100, 105, 1234, 5960, 999_999, 1_000_000, 123_456_789, -1, -550, -0];
  let draw = 0;
  const next = <T,>(list: readonly T[]): T => list[draw++ % list.length] as T;
  const rows = [0, 1, 3, 2, 5, 0, 1].map((count, i) => ({
    id: `id-${i}`,
    amount: next(cents),
    none: i % 2 === 0 ? null : next(cents),
    lines: Array.from({ length: count }, (_, k) => ({ key: `k-${i}-${k}`, label: next(texts), joined: `${next(texts)}|${k}`, count: next([0, -0, 7, 1.5, Number.NaN]), price: next(cents), maybe: k % 2 === 0 ? null : next([3, 2.5, -1]), flag: k % 3 === 0, day: 20_000 + k, at: 1_700_000_000_000 + k * 61_001 })),
    after: next(texts),
  }));
  const day = (d: number) => new Date(d * 86_400_000).toISOString().slice(0, 10);
  const at = (ms: number) => new Date(ms).toISOString().slice(0, 19) + 'Z';
  // The records as generators make them: money(cents) is cents / 100.
  const records = rows.map((r) => ({
    id: r.id,
    amount: r.amount / 100,
    none: r.none === null ? null : r.none / 100,
    lines: r.lines.map((l) => ({ key: l.key, label: l.label, joined: l.joined, count: l.count, price: l.price / 100, maybe: l.maybe, flag: l.flag, day: day(l.day), at: at(l.at) })),
    after: r.after,
  }));
  const source: FieldSource = {
    columns,
    write(i: number, w: FieldWriter) {
      const r = rows[i] as (typeof rows)[number];
      w.begin();
      w.safe(r.id);
      w.money(r.amount);
      if (r.none === null) w.nil();
      else w.money(r.none);
      w.list(members, r.lines.length);
      for (const l of r.lines) {
        w.item();
        w.safe(l.key);
        w.text(l.label);
        w.open();
        w.piece(l.joined.slice(0, -2));
        w.piece('|');
        w.digits(Number(l.joined.slice(-1)));
        w.close();
        w.number(l.count);
        w.money(l.price);
        if (l.maybe === null) w.nil();
        else w.number(l.maybe);
        w.bool(l.flag);
        w.date(l.day);
        w.timestamp(l.at);
        w.endItem();
      }
      w.endList();
      w.text(r.after);
      w.end();
    },
  };
  const money = Money('An amount') as { type: string; description: string };
  t.ok(isMoney(money), 'the test schema marks money as the schemas do');
  const schema = {
    $id: 'ListsTest',
    properties: {
      id: { type: 'string', format: 'uuid' },
      amount: money,
      none: { anyOf: [money, { type: 'null' }] },
      lines: {
        type: 'array',
        items: {
          type: 'object',
          required: members,
          properties: {
            key: { type: 'string', format: 'uuid' },
            label: { type: 'string' },
            joined: { type: 'string' },
            count: { type: 'number' },
            price: money,
            maybe: { anyOf: [{ type: 'number' }, { type: 'null' }] },
            flag: { type: 'boolean' },
            day: { type: 'string', format: 'date' },
            at: { type: 'string', format: 'date-time' },
          },
        },
      },
      after: { type: 'string' },
    },
  };
  const context: FormatContext = { columns, root: 'things', item: 'thing', schema };
  const writers = writersOf(columns);
  for (const format of TEXT_FORMATS) {
    const w = writers[format]();
    for (let i = 0; i < rows.length; i++) source.write(i, w);
    const text = w.take().toString('utf8');
    t.equal(text, viaRecords(format, records, context, false), `${format}: identical`);
  }
  // Parsed back: the amounts and the lists are the records'.
  const ndjson = writers.ndjson();
  for (let i = 0; i < rows.length; i++) source.write(i, ndjson);
  t.same(ndjson.take().toString('utf8').trimEnd().split('\n').map((line) => JSON.parse(line) as unknown), JSON.parse(JSON.stringify(records)), 'NDJSON parses back to the records');
});

t.test('a projection or another entity still renders as text, unchanged', async (t) => {
  const spec = { seed: 3, sizes: resolveSizes(1, {}), locale: 'en_US' as const, window: { start: Date.UTC(2025, 0, 1), end: Date.UTC(2026, 0, 1) } };
  const projected = renderBatch({ spec, entity: 'users', format: 'csv', columns: ['email', 'user_id'], projected: true, start: 0, end: 10, first: true });
  t.type(projected, 'string');
  t.equal((projected as string).split('\r\n')[0]?.split(',').length, 2);
  t.type(renderBatch({ spec, entity: 'products', format: 'csv', columns: Object.keys(ENTITIES.products.schema.properties), projected: false, start: 0, end: 5, first: true }), 'string');
});

t.test('escaping: values that need it are written as the record writers write them', async (t) => {
  const values = [
    'plain',
    'a, comma',
    'a "quote"',
    'line\nbreak',
    'cr\r\nlf',
    'back\\slash',
    'tab\tand\u0001control',
    '<tag> & \'apos\'',
    'Zoë Ångström',
    'emoji 😀 pair',
    'naïve, "quoted"',
    'comma, then ü',
    'ü then\nbreak',
    '',
  ];
  const columns = ['id', 'text', 'joined', 'n', 'flag', 'when'];
  const records = values.map((v, k) => ({ id: `id-${k}`, text: v, joined: `${v}|${k}`, n: [0, -0, 1.5, 1e21, 42, -7][k % 6] as number, flag: k % 2 === 0, when: '2025-01-01T00:00:00Z' }));
  const source: FieldSource = {
    columns,
    write(i: number, w: FieldWriter) {
      const r = records[i] as (typeof records)[number];
      w.begin();
      w.safe(r.id);
      w.text(r.text);
      w.open();
      w.piece(values[i] as string);
      w.piece('|');
      w.digits(i);
      w.close();
      w.number(r.n);
      w.bool(r.flag);
      w.safe(r.when);
      w.end();
    },
  };
  const schema = {
    $id: 'FieldsTest',
    properties: {
      id: { type: 'string', format: 'uuid' },
      text: { type: 'string' },
      joined: { type: 'string' },
      n: { type: 'number' },
      flag: { type: 'boolean' },
      when: { type: 'string', format: 'date-time' },
    },
  };
  const context: FormatContext = { columns, root: 'things', item: 'thing', schema };
  const writers = writersOf(columns);
  for (const format of TEXT_FORMATS) {
    t.ok(FORMATS[format].fieldRows, `${format} offers a field writer`);
    const rows = writers[format]();
    for (let i = 0; i < records.length; i++) source.write(i, rows);
    const text = rows.take().toString('utf8');
    t.equal(text, viaRecords(format, records, context, false), `${format}: identical`);
  }
});

t.test('a writer grows past its first buffer and hands out independent buffers', async (t) => {
  const rows = new CsvRows();
  const long = 'x'.repeat(100_000);
  rows.begin();
  rows.text(long);
  rows.end();
  const first = rows.take();
  t.equal(first.length, 100_002);
  rows.begin();
  rows.text('y');
  rows.end();
  const second = rows.take();
  t.equal(second.toString(), 'y\r\n');
  t.equal(first.subarray(0, 3).toString(), 'xxx', 'the first buffer is not overwritten');
});

t.test('whole numbers and digits are their decimal text, across the digit-pair edges', async (t) => {
  const cases = [0, -0, 1, 9, 10, 11, 99, 100, 101, 999, 1000, 9999, 10_000, 99_999, 100_000, 999_999, 1_000_000, 9_999_999, 10_000_000];
  cases.push(99_999_999, 100_000_000, 123_456_789, 999_999_999, 1e9, 1e9 + 1, 2 ** 31 - 1, 2 ** 31, 2 ** 32 + 5, 1e15 - 1, 1e15, 2 ** 53);
  cases.push(1.5, -1, -123, 1e21, NaN, Infinity);
  for (let n = 0; n < 100_000; n += 37) cases.push(n, n * 10_007);
  const rows = new CsvRows();
  let expected = '';
  for (const n of cases) {
    rows.begin();
    rows.number(n);
    rows.open();
    rows.piece('#');
    rows.digits(n);
    rows.close();
    rows.end();
    expected += `${String(n)},#${String(n)}\r\n`;
  }
  t.ok(rows.take().toString('utf8') === expected, `${cases.length} numbers written as String writes them`);
});
