import { parse as parseCsv } from 'csv-parse/sync';
import { XMLParser } from 'fast-xml-parser';
import t from 'tap';
import { moneyText } from '../../src/formats/compiled.js';
import { xmlName } from '../../src/formats/xml.js';
import { ENTITIES, ENTITY_NAMES } from '../../src/generators/registry.js';
import { isMoney } from '../../src/schemas/common.js';
import { testApp } from '../support/app.js';

// Money in CSV and XML is always written with two decimals; JSON writes the same amount as a
// number with at most two decimals. Checked for every money column of every entity, nested
// order lines included, for a few worlds.
const TWO_DECIMALS = /^-?\d+\.\d{2}$/;
const WORLDS = ['seed=42', 'seed=7&locale=en_GB', 'seed=4294967295&scale=2'];
const LIMIT = 400;

interface Node {
  type?: string;
  description?: string;
  anyOf?: Node[];
  items?: Node;
  properties?: Record<string, Node>;
}
const main = (node: Node): Node => node.anyOf?.find((v) => v.type !== 'null') ?? node;
const moneyKeys = (properties: Record<string, Node>) => Object.keys(properties).filter((key) => isMoney(main(properties[key] as Node)));

t.test('moneyText writes two decimals', async (t) => {
  const cases: [number, string][] = [[0, '0.00'], [59.6, '59.60'], [59.61, '59.61'], [1200, '1200.00'], [-3.5, '-3.50'], [0.1 + 0.2, '0.30'], [1e-7, '0.00'], [123456789.1, '123456789.10']];
  for (const [value, text] of cases) t.equal(moneyText(value), text, String(value));
  t.equal(moneyText(null), '');
});

t.test('the money marker: declared money only', async (t) => {
  t.ok(isMoney(main(ENTITIES.orders.schema.properties.total as Node)), 'orders.total');
  t.notOk(isMoney(main(ENTITIES.suppliers.schema.properties.reliability_score as Node)), 'a 0-1 score with 2 decimals is not money');
  t.notOk(isMoney(main(ENTITIES.orders.schema.properties.item_count as Node)), 'a count');
});

const entities = ENTITY_NAMES.filter((entity) => {
  const properties = ENTITIES[entity].schema.properties as Record<string, Node>;
  return moneyKeys(properties).length > 0 || Object.values(properties).some((p) => main(p).items?.properties);
});

t.test('every money value of every entity: two decimals in CSV and XML, the JSON amount', async (t) => {
  t.ok(entities.length >= 8, `${entities.length} entities have money`);
  const app = await testApp(t);
  const parser = new XMLParser({ ignoreAttributes: false, parseTagValue: false, isArray: (_name, jpath) => String(jpath).split('.').length === 2 || String(jpath).endsWith('.items.item') });
  let checked = 0;
  let padded = 0;
  for (const world of WORLDS) {
    for (const entity of entities) {
      const { schema, xml } = ENTITIES[entity];
      const properties = schema.properties as Record<string, Node>;
      const keys = moneyKeys(properties);
      const nested = Object.entries(properties).flatMap(([key, node]) => {
        const members = main(node).items?.properties;
        return members && moneyKeys(members).length > 0 ? [{ key, money: moneyKeys(members) }] : [];
      });
      const url = (format: string) => `/api/v1/${entity}?${world}&limit=${LIMIT}&format=${format}`;
      const json = (await app.inject(url('json'))).json() as Record<string, unknown>[];
      const csv = parseCsv((await app.inject(url('csv'))).body, { columns: true }) as Record<string, string>[];
      const doc = parser.parse((await app.inject(url('xml'))).body) as Record<string, Record<string, Record<string, unknown>[]>>;
      const xmlRecords = doc[xml.root]?.[xml.item] ?? [];
      t.equal(csv.length, json.length, `${entity} ${world}: csv rows`);
      t.equal(xmlRecords.length, json.length, `${entity} ${world}: xml records`);
      const check = (text: unknown, amount: unknown, where: string) => {
        checked++;
        if (typeof text !== 'string' || !TWO_DECIMALS.test(text) || Number(text) !== amount) {
          t.fail(`${where}: ${JSON.stringify(text)} for ${JSON.stringify(amount)}`);
          return;
        }
        if (String(amount) !== text) padded++;
      };
      json.forEach((record, k) => {
        for (const key of keys) {
          const amount = record[key];
          if (typeof amount !== 'number' || Math.round(amount * 100) / 100 !== amount) t.fail(`${entity}[${k}].${key} JSON: ${String(amount)}`);
          check(csv[k]?.[key], amount, `${entity}[${k}].${key} csv ${world}`);
          check(xmlRecords[k]?.[xmlName(key)], amount, `${entity}[${k}].${key} xml ${world}`);
        }
        for (const { key, money } of nested) {
          const lines = record[key] as Record<string, unknown>[];
          const xmlLines = (xmlRecords[k]?.[key] as { item?: Record<string, unknown>[] } | undefined)?.item ?? [];
          if (xmlLines.length !== lines.length) t.fail(`${entity}[${k}].${key}: ${xmlLines.length} xml lines, ${lines.length} in JSON`);
          lines.forEach((line, j) => {
            for (const m of money) check(xmlLines[j]?.[m], line[m], `${entity}[${k}].${key}[${j}].${m} xml ${world}`);
          });
        }
      });
    }
  }
  t.ok(checked > 20_000, `${checked} money values checked`);
  t.ok(padded > 0, `${padded} of them needed padding (e.g. 59.6 -> 59.60)`);
});
