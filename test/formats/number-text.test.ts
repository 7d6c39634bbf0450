import t from 'tap';
import { numberText } from '../../src/formats/compiled.js';

// numberText writes numbers from digit tables; its text must be exactly '' + value (what
// String and JSON.stringify give for a finite number), for every value.
t.test('numberText: edge cases are the text of String(value)', async (t) => {
  const cases = [
    0, -0, 1, -1, 9, 10, 99, 100, 9999, 10_000, 10_001, 99_999_999, 100_000_000, -99_999_999, -100_000_000,
    0.1, 0.2, 0.1 + 0.2, 0.05, 0.5, 0.25, 1.1, 59.6, 59.61, 59.06, -3.5, -0.01, -0.1, 9999.99, 10_000.01, -9999.99,
    1e-7, 5e-324, 1.005, 123.456, 1e21, 1e22, -1e21, 2 ** 53, 2 ** 53 + 2, Number.MAX_VALUE, Number.MIN_VALUE,
    Number.MAX_SAFE_INTEGER, -Number.MAX_SAFE_INTEGER, 1.7976931348623157e308, 4.35, 0.07, 0.57, 1.15,
    NaN, Infinity, -Infinity,
  ];
  for (const value of cases) t.equal(numberText(value), String(value), `String(${String(value)})`);
  t.equal(numberText(-0), JSON.stringify(-0), 'JSON writes -0 as 0');
  t.equal(numberText('12'), '12', 'a string stays its text');
  t.equal(numberText(null), 'null');
});

t.test('numberText: every cent amount below 10,000.00 (both signs) and integers across the table edges', async (t) => {
  let mismatches = 0;
  for (let c = 0; c < 1_000_000; c++) {
    const value = c / 100;
    if (numberText(value) !== String(value)) mismatches++;
    if (numberText(-value) !== String(-value)) mismatches++;
    // Amounts as generators make them, not always exactly c / 100.
    const scaled = (c * 3) / 100 / 3;
    if (numberText(scaled) !== String(scaled)) mismatches++;
  }
  for (let n = 0; n < 200_000; n += 7) {
    for (const value of [n, 99_990_000 + n, -n, n * 499 + 0.5]) if (numberText(value) !== String(value)) mismatches++;
  }
  t.equal(mismatches, 0);
});
