import t from 'tap';
import { JsonRows, XmlRows, type FieldWriter } from '../../src/formats/fields.js';
import { jsonFormat, ndjsonFormat } from '../../src/formats/json.js';
import { XML_NAMES, xmlFormat } from '../../src/formats/xml.js';
import type { FormatContext } from '../../src/formats/types.js';

// The JSON field writer holds a string's closing quote back and writes it with the next key,
// and checks free text for escapes while copying it: every order of value kinds, and escapes
// or non-ASCII text in any piece of a field, must still give JSON.stringify's bytes. The XML
// field writer copies the tags between two values as one run the same way, and must give the
// XML record writer's bytes.

type Value =
  | { kind: 'safe' | 'text'; value: string }
  | { kind: 'pieces'; pieces: readonly (string | number)[] }
  | { kind: 'number'; value: number }
  | { kind: 'bool'; value: boolean }
  | { kind: 'date'; days: number }
  | { kind: 'timestamp'; ms: number };

const TEXTS = ['plain', 'a "quote"', 'back\\slash', 'tab\tcontrol\u0001', 'line\nbreak', 'Zoë Ångström', 'emoji 😀', '', 'x'.repeat(300)];

/** The value as it stands in the record. */
function plainValue(v: Value): unknown {
  switch (v.kind) {
    case 'pieces':
      return v.pieces.join('');
    case 'date':
      return new Date(v.days * 86_400_000).toISOString().slice(0, 10);
    case 'timestamp':
      return new Date(v.ms).toISOString().slice(0, 19) + 'Z';
    default:
      return v.value;
  }
}

function write(w: FieldWriter, values: readonly Value[]): void {
  w.begin();
  for (const v of values) {
    switch (v.kind) {
      case 'safe':
        w.safe(v.value);
        break;
      case 'text':
        w.text(v.value);
        break;
      case 'pieces':
        w.open();
        for (const p of v.pieces) {
          if (typeof p === 'number') w.digits(p);
          else w.piece(p);
        }
        w.close();
        break;
      case 'number':
        w.number(v.value);
        break;
      case 'bool':
        w.bool(v.value);
        break;
      case 'date':
        w.date(v.days);
        break;
      case 'timestamp':
        w.timestamp(v.ms);
        break;
    }
  }
  w.end();
}

/** Deterministic rows mixing every kind of value in every order. */
function rows(count: number, columns: number): Value[][] {
  const out: Value[][] = [];
  let x = 12345;
  const next = (n: number) => {
    x = (Math.imul(x, 1103515245) + 12345) >>> 0;
    return (x >>> 8) % n;
  };
  const text = () => TEXTS[next(TEXTS.length)] as string;
  for (let r = 0; r < count; r++) {
    const row: Value[] = [];
    for (let c = 0; c < columns; c++) {
      switch (next(7)) {
        case 0:
          row.push({ kind: 'safe', value: `id-${r}-${c}` });
          break;
        case 1:
          row.push({ kind: 'text', value: text() });
          break;
        case 2:
          row.push({ kind: 'pieces', pieces: [text(), '.', next(1000), text(), '@', 'example.com'] });
          break;
        case 3:
          row.push({ kind: 'number', value: [0, -0, 7, 1.5, 1e21, Number.NaN, 123456789][next(7)] as number });
          break;
        case 4:
          row.push({ kind: 'bool', value: next(2) === 0 });
          break;
        case 5:
          row.push({ kind: 'date', days: 10_000 + next(20_000) });
          break;
        default:
          row.push({ kind: 'timestamp', ms: 1_700_000_000_000 + next(1_000_000) * 1000 });
      }
    }
    out.push(row);
  }
  return out;
}

t.test('every order of value kinds and escapes in any piece give the JSON writer bytes', async (t) => {
  for (const width of [1, 2, 5, 19]) {
    // Short keys (a run written as three 8-byte stores), keys to escape, non-ASCII keys, and keys
    // whose run is longer than 24 bytes (written as 4-byte words) or 23 to 26 bytes long.
    const names = [(c: number) => `col_${c}`, (c: number) => `k${c}"é`, (c: number) => `a_column_name_longer_than_the_short_runs_${c}`, (c: number) => `${c}`.padEnd(19 + ((c >> 2) % 2), 'b')];
    const columns = Array.from({ length: width }, (_, c) => (names[c % names.length] as (c: number) => string)(c));
    const context: FormatContext = { columns, root: 'things', item: 'thing', schema: { $id: 'Things', properties: Object.fromEntries(columns.map((c) => [c, {}])) } };
    const data = rows(400, width);
    const records = data.map((row) => Object.fromEntries(row.map((v, c) => [columns[c] as string, plainValue(v)])));
    for (const [name, format, lines] of [
      ['ndjson', ndjsonFormat, true],
      ['json', jsonFormat, false],
    ] as const) {
      for (const first of [true, false]) {
        const w = new JsonRows(columns, lines, first);
        for (const row of data) write(w, row);
        const bytes = w.take().toString('utf8');
        t.equal(bytes, format.batch(records, context, first), `${name}, ${width} columns, first=${first}: identical`);
        if (lines) {
          const parsed = bytes.trimEnd().split('\n').map((line) => JSON.parse(line) as unknown);
          t.same(parsed, JSON.parse(JSON.stringify(records)), `${name}, ${width} columns: parses back to the records`);
        }
      }
    }
  }
});

t.test('every order of value kinds, escapes and tag lengths give the XML writer bytes', async (t) => {
  for (const width of [1, 2, 5, 19]) {
    // Tag runs (a value's closing tag and the next one's opening tag) of 3 to over 100 bytes:
    // short ones as three 8-byte stores, long ones looped; names the XML writer renames
    // (a digit first, '@'), and non-ASCII names.
    const names = [(c: number) => `c${c}`, (c: number) => `@k${c}é`, (c: number) => `a_column_name_longer_than_the_short_runs_${c}`, (c: number) => `${c}`.padEnd(5 + ((c >> 2) % 4), 'b')];
    const columns = Array.from({ length: width }, (_, c) => (names[c % names.length] as (c: number) => string)(c));
    const context: FormatContext = { columns, root: 'things', item: 'thing', schema: { $id: 'Things', properties: Object.fromEntries(columns.map((c) => [c, {}])) } };
    const data = rows(400, width);
    const records = data.map((row) => Object.fromEntries(row.map((v, c) => [columns[c] as string, plainValue(v)])));
    for (const item of ['thing', 'an_item_name_of_some_length']) {
      const w = new XmlRows(columns, item, XML_NAMES);
      for (const row of data) write(w, row);
      const bytes = w.take().toString('utf8');
      // The XML writer compiles its record writer once per schema id and columns (one item name each in the entities).
      const itemContext = { ...context, item, schema: { ...context.schema, $id: `Things-${item}` } };
      t.equal(bytes, xmlFormat.batch(records, itemContext, true), `xml, ${width} columns, item ${item}: identical`);
      t.equal(bytes.split(`</${item}>`).length - 1, records.length, `xml, ${width} columns, item ${item}: one element a record`);
    }
  }
});

t.test('a writer keeps writing correctly across take() and buffer growth', async (t) => {
  const columns = ['a', 'b', 'c'];
  const w = new JsonRows(columns, true, true);
  const long = 'y'.repeat(70_000);
  const parts: string[] = [];
  for (let round = 0; round < 3; round++) {
    for (let r = 0; r < 5; r++) {
      w.begin();
      w.safe(`id${r}`);
      w.text(r === 2 ? long : `v"${r}`);
      w.number(r);
      w.end();
    }
    parts.push(w.take().toString('utf8'));
  }
  for (const part of parts) {
    const lines = part.trimEnd().split('\n').map((line) => JSON.parse(line) as { a: string; b: string; c: number });
    t.equal(lines.length, 5);
    t.same(
      lines.map((l) => [l.a, l.b.length, l.c]),
      [0, 1, 2, 3, 4].map((r) => [`id${r}`, r === 2 ? 70_000 : 3, r]),
    );
  }
});
