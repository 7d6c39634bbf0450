import t from 'tap';
import { partitionRange } from '../../src/generators/partition.js';
import { testApp } from '../support/app.js';

t.test('partitionRange: contiguous, disjoint, covering, sizes within one', async (t) => {
  for (const [start, end, n] of [[0, 10, 4], [5, 6, 3], [0, 0, 2], [100, 1103, 7], [0, 3, 5]] as const) {
    const slices = Array.from({ length: n }, (_, k) => partitionRange(start, end, { partition: k, partitions: n }));
    t.equal(slices[0]?.start, start);
    t.equal(slices[n - 1]?.end, end);
    for (let k = 1; k < n; k++) t.equal(slices[k]?.start, slices[k - 1]?.end, `slice ${k} starts where ${k - 1} ends`);
    const sizes = slices.map((s) => s.end - s.start);
    t.ok(Math.max(...sizes) - Math.min(...sizes) <= 1, `sizes ${sizes.join(',')}`);
  }
});

t.test('GET slices, concatenated in order, are the unpartitioned response', async (t) => {
  const app = await testApp(t);
  const base = '/api/v1/orders?seed=42&limit=1234&offset=17';
  for (const format of ['csv', 'ndjson', 'json', 'xml'] as const) {
    const whole = (await app.inject(`${base}&format=${format}`)).body;
    const parts: string[] = [];
    for (let k = 0; k < 3; k++) {
      const res = await app.inject(`${base}&format=${format}&partition=${k}&partitions=3`);
      t.equal(res.statusCode, 200);
      t.equal(res.headers['x-total-count'], '5000', 'the population, as without partitions');
      parts.push(res.body);
    }
    if (format === 'csv') {
      const header = whole.slice(0, whole.indexOf('\r\n') + 2);
      t.ok(parts.every((p) => p.startsWith(header)), 'each CSV slice has the header');
      t.equal(header + parts.map((p) => p.slice(header.length)).join(''), whole, 'csv: slices minus repeated headers');
    } else if (format === 'ndjson') {
      t.equal(parts.join(''), whole, 'ndjson: slices concatenated');
    } else if (format === 'json') {
      t.same(parts.flatMap((p) => JSON.parse(p)), JSON.parse(whole), 'json: the arrays concatenated');
    } else {
      t.ok(parts.every((p) => p.startsWith('<?xml')), 'each XML slice is a document');
    }
  }
  const ranges = await Promise.all([0, 1, 2].map(async (k) => (await app.inject(`${base}&partition=${k}&partitions=3`)).headers['x-partition-range']));
  t.same(ranges, ['17-428', '428-839', '839-1251']);
});

t.test('bad partitions are 400s naming the parameter', async (t) => {
  const app = await testApp(t);
  const cases: [string, RegExp][] = [
    ['partition=4&partitions=4', /^partition: must be an integer from 0 to partitions - 1 \(3\)/],
    ['partition=1', /^partitions: is required with partition/],
    ['partitions=2', /^partition: is required with partitions/],
    ['partition=0&partitions=0', /^partitions: /],
    ['partition=0&partitions=10001', /^partitions: /],
    ['partition=x&partitions=2', /^partition: /],
    ['partition=-1&partitions=2', /^partition: /],
  ];
  for (const [query, message] of cases) {
    const res = await app.inject(`/api/v1/users?${query}`);
    t.equal(res.statusCode, 400, query);
    t.match(res.json(), { statusCode: 400, error: 'Bad Request', message, code: String }, query);
  }
});

t.test('sink bodies take partition as k/n; bad ones are 400s naming it', async (t) => {
  const app = await testApp(t, { sinks: { postgres: { connectionString: 'postgres://nobody@127.0.0.1:1/none' } } });
  const cases: [unknown, RegExp][] = [
    ['4/4', /^partition: k must be an integer from 0 to n - 1 \(3\)/],
    ['1/0', /^partition: n must be an integer from 1 to 10000/],
    ['one/two', /^partition: /],
    [3, /^partition: /],
  ];
  for (const [partition, message] of cases) {
    const res = await app.inject({ method: 'POST', url: '/api/v1/sinks/postgres', payload: { seed: 1, partition } });
    t.equal(res.statusCode, 400, String(partition));
    t.match(res.json(), { code: String, message }, String(partition));
  }
});

t.test('each slice of a partitioned download has its own file name', async (t) => {
  const app = await testApp(t);
  for (const [path, stem] of [['/api/v1/orders?seed=42&limit=300', 'orders-seed42'], ['/api/v1/events?seed=42&limit=300', 'events-seed42']] as const) {
    for (const [format, extension] of [['csv', 'csv'], ['ndjson', 'ndjson'], ['xml', 'xml'], ...(path.includes('orders') ? [['parquet', 'parquet']] : [])] as const) {
      const whole = await app.inject(`${path}&format=${format}`);
      t.equal(whole.headers['content-disposition'], `attachment; filename="${stem}.${extension}"`, `${path} ${format}: unpartitioned`);
      const names = new Set<string>();
      for (let k = 0; k < 3; k++) {
        const res = await app.inject(`${path}&format=${format}&partition=${k}&partitions=3`);
        t.equal(res.statusCode, 200);
        t.equal(res.headers['content-disposition'], `attachment; filename="${stem}-part${k}of3.${extension}"`, `${path} ${format}: slice ${k}`);
        names.add(String(res.headers['content-disposition']));
      }
      t.equal(names.size, 3, `${path} ${format}: three names (curl -OJ keeps every slice)`);
    }
  }
});
