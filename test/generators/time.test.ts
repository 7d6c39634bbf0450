import t from 'tap';
import { DAY, iso, isoDate, parseDate } from '../../src/generators/time.js';

t.test('iso and isoDate agree with Date#toISOString', async (t) => {
  let x = 0x2545f491;
  const cases = [0, -DAY, Date.UTC(1900, 1, 28), Date.UTC(2000, 1, 29, 23, 59, 59), Date.UTC(2024, 11, 31, 12), Date.UTC(2100, 2, 1), Date.UTC(9999, 11, 31, 23, 59, 59, 999)];
  for (let k = 0; k < 20_000; k++) {
    x = (Math.imul(x, 1103515245) + 12345) >>> 0;
    cases.push(Date.UTC(1900, 0, 1) + (x / 2 ** 32) * (Date.UTC(2200, 0, 1) - Date.UTC(1900, 0, 1)));
  }
  let bad = 0;
  for (const ms of cases) {
    const ref = new Date(Math.floor(ms / 1000) * 1000).toISOString();
    if (iso(ms) !== `${ref.slice(0, 19)}Z` || isoDate(ms) !== ref.slice(0, 10)) bad++;
  }
  t.equal(bad, 0, `${cases.length} instants formatted like toISOString`);
});

t.test('parseDate accepts dates and zoned date-times, rejects the rest', async (t) => {
  t.equal(parseDate('2025-03-01', false), Date.UTC(2025, 2, 1));
  t.equal(parseDate('2025-03-01', true), Date.UTC(2025, 2, 2), 'an end date includes its whole day');
  t.equal(parseDate('2025-03-01T10:00:00+02:00', false), Date.UTC(2025, 2, 1, 8));
  for (const bad of ['2025-02-29', '2025-13-01', '2025-3-1', 'yesterday', '2025-03-01T10:00:00', '']) {
    t.equal(parseDate(bad, false), undefined, `rejects '${bad}'`);
  }
});
