/**
 * Content negotiation of the list routes (src/routes/negotiate.ts): `format=` wins; otherwise
 * Accept by q, specificity and our documented order; browsers get JSON; Parquet by its type where
 * it is served; an Accept that matches nothing served is a 406 naming Accept and the types. The
 * bytes chosen by Accept are those of the same `format=`.
 */
import t from 'tap';
import { chooseEntityFormat, chooseFormat } from '../../src/routes/negotiate.js';
import { testApp } from '../support/app.js';

const FIREFOX = 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8';
const CHROME = 'text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,image/apng,*/*;q=0.8,application/signed-exchange;v=b3;q=0.7';

/** Accept → the format= it must equal (undefined: a 406). */
const CASES: readonly (readonly [string | undefined, string | undefined])[] = [
  [undefined, 'json'],
  ['*/*', 'json'],
  ['application/*', 'json'],
  ['text/*', 'csv'],
  ['text/csv', 'csv'],
  ['text/xml', 'xml'],
  ['application/xml', 'xml'],
  ['application/x-ndjson', 'ndjson'],
  ['application/ndjson', 'ndjson'],
  ['application/jsonl', 'ndjson'],
  [FIREFOX, 'json'],
  [CHROME, 'json'],
  ['text/html, application/xml', 'xml'],
  ['text/*, application/json;q=0.5', 'csv'],
  ['application/json;q=0.2, text/csv;q=0.5', 'csv'],
  ['text/csv;q=0.5, application/x-ndjson', 'ndjson'],
  ['text/*;q=0.9, text/xml', 'xml'],
  ['application/xml, */*;q=0.1', 'xml'],
  ['image/png', undefined],
  ['text/html', undefined],
  ['application/json;q=0', undefined],
  ['application/json;q=0, text/*;q=0', undefined],
  // A range with the parameters the answer is sent with names it exactly (RFC 9110 12.5.1).
  ['application/json; charset=utf-8', 'json'],
  ['application/json;charset=UTF-8', 'json'],
  ['text/csv; charset="utf-8"', 'csv'],
  ['application/x-ndjson; charset=utf-8', 'ndjson'],
  ['application/xml; charset=utf-8', 'xml'],
  ['text/xml; charset=utf-8, application/json;q=0.5', 'xml'],
  ['text/csv; charset=utf-8;q=0.4, application/jsonl; charset=utf-8', 'ndjson'],
  ['application/json; charset=latin1', undefined],
  ['text/csv; header=absent', undefined],
];

t.test('the format an Accept header selects', async (t) => {
  for (const [accept, format] of CASES) {
    if (format === undefined) continue;
    t.equal(chooseFormat(undefined, accept), format, `${accept}`);
    t.equal(chooseEntityFormat(undefined, accept), format, `${accept} (entities)`);
  }
  t.equal(chooseEntityFormat(undefined, 'application/vnd.apache.parquet'), 'parquet');
  t.equal(chooseEntityFormat(undefined, 'application/vnd.apache.parquet;q=0.5, text/csv;q=0.4'), 'parquet');
  t.equal(chooseEntityFormat(undefined, '*/*'), 'json', 'Parquet only when asked by its own type');
  t.equal(chooseFormat('xml', 'text/csv'), 'xml', 'format= wins');
  t.equal(chooseEntityFormat('csv', 'application/vnd.apache.parquet'), 'csv', 'format= wins');
});

t.test('every list route answers the format Accept selects, with the bytes of that format=', async (t) => {
  const app = await testApp(t, { renderThreads: 0 });
  const routes = ['/api/v1/users?seed=3&limit=5', '/api/v1/events?seed=3&users=20&orders=40&limit=7', '/api/v1/performance-events/incidents?seed=3&days=2&limit=3'];
  for (const url of routes) {
    for (const [accept, format] of CASES) {
      const res = await app.inject({ url, headers: accept === undefined ? {} : { accept } });
      if (format === undefined) {
        t.equal(res.statusCode, 406, `${url} ${accept}: 406`);
        const body = res.json() as { code: string; message: string };
        t.equal(body.code, 'NOT_ACCEPTABLE');
        t.match(body.message, /^Accept: '.*' names no type this endpoint offers \(application\/json, application\/x-ndjson, text\/csv, application\/xml[,)]/, `${url} ${accept}: names Accept and lists the types`);
        continue;
      }
      const expected = await app.inject(`${url}&format=${format}`);
      t.equal(res.statusCode, 200, `${url} ${accept}: 200`);
      t.equal(res.headers['content-type'], expected.headers['content-type'], `${url} ${accept}: ${format}`);
      t.ok(res.body === expected.body && res.body.length > 0, `${url} ${accept}: the bytes of format=${format}`);
      t.match(String(res.headers.vary), /accept/i, 'Vary: Accept');
    }
  }
});

t.test('Parquet by Accept where it is served; a 406 where it is not', async (t) => {
  const app = await testApp(t, { renderThreads: 0 });
  const parquet = await app.inject({ url: '/api/v1/orders?seed=5&limit=20', headers: { accept: 'application/vnd.apache.parquet' } });
  const byFormat = await app.inject('/api/v1/orders?seed=5&limit=20&format=parquet');
  t.equal(parquet.statusCode, 200);
  t.equal(parquet.headers['content-type'], 'application/vnd.apache.parquet');
  t.match(String(parquet.headers['content-disposition']), /\.parquet"$/);
  t.ok(parquet.rawPayload.equals(byFormat.rawPayload), `the bytes of format=parquet (${parquet.rawPayload.length})`);
  t.equal(parquet.rawPayload.subarray(0, 4).toString('latin1'), 'PAR1', 'a Parquet file');
  const refused = await app.inject({ url: '/api/v1/users?seed=5&limit=2', headers: { accept: 'image/png' } });
  t.match((refused.json() as { message: string }).message, 'application/vnd.apache.parquet', 'the 406 of an entity lists Parquet');
  const events = await app.inject({ url: '/api/v1/events?seed=5&limit=2', headers: { accept: 'application/vnd.apache.parquet' } });
  t.equal(events.statusCode, 406, 'the feed writes no Parquet');
  t.match((events.json() as { message: string }).message, /offers \(application\/json, application\/x-ndjson, text\/csv, application\/xml\); or use format=$/, 'lists the types the feed offers');
});

t.test('an Accept naming the type with the parameters it is sent with: not a 406 on any route', async (t) => {
  const app = await testApp(t, { renderThreads: 0 });
  for (const url of ['/health', '/api/v1/jobs', '/api/v1/manifest?seed=3&users=20&orders=40&entities=users', '/api/v1/users?seed=3&limit=2']) {
    const res = await app.inject({ url, headers: { accept: 'application/json; charset=utf-8' } });
    t.equal(res.statusCode, 200, `${url}: 200`);
    t.equal(res.headers['content-type'], 'application/json; charset=utf-8', `${url}: the type asked for`);
  }
  const metrics = await app.inject({ url: '/metrics', headers: { accept: 'text/plain; version=0.0.4' } });
  t.equal(metrics.statusCode, 200, '/metrics: the Prometheus text format by its version');
  t.match(String(metrics.headers['content-type']), /^text\/plain; version=0\.0\.4/);
  const other = await app.inject({ url: '/metrics', headers: { accept: 'text/plain; version=1.0.0' } });
  t.equal(other.statusCode, 406, '/metrics: a version not written is still a 406');
  const latin1 = await app.inject({ url: '/health', headers: { accept: 'application/json; charset=latin1' } });
  t.equal(latin1.statusCode, 406, 'a charset not written is still a 406');
});
