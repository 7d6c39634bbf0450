/** The locale's field writers (phone number, postcode) write exactly the text of their string twins. */
import t from 'tap';
import { CsvRows, JsonRows } from '../../src/formats/fields.js';
import { LOCALES, localeProfile } from '../../src/generators/locale.js';
import { Rng, tagOf } from '../../src/generators/random.js';

t.test('writePhone and writePostcode equal phone and postcode, draw for draw, in CSV and NDJSON', async (t) => {
  const tag = tagOf('locale-writers');
  for (const locale of LOCALES) {
    const profile = localeProfile(locale);
    const csv = new CsvRows();
    const ndjson = new JsonRows(['phone', 'postcode'], true, true);
    const byString = new Rng();
    const byFields = new Rng();
    const byJson = new Rng();
    let expectedCsv = '';
    let expectedJson = '';
    const places = new Set<string>();
    let padded = 0;
    for (let k = 0; k < 20_000; k++) {
      for (const rng of [byString, byFields, byJson]) rng.key(1, tag, k);
      const place = profile.places.draw(byString);
      profile.places.draw(byFields);
      profile.places.draw(byJson);
      places.add(place.city);
      const phone = profile.phone(byString);
      const postcode = place.postcode(byString);
      if (/^\(\d{3}\) \d{3}-0/.test(phone) || postcode.startsWith('0')) padded++;
      expectedCsv += `${phone},${postcode}\r\n`;
      expectedJson += `${JSON.stringify({ phone, postcode })}\n`;
      for (const [rng, rows] of [[byFields, csv], [byJson, ndjson]] as const) {
        rows.begin();
        profile.writePhone(rng, rows);
        place.writePostcode(rng, rows);
        rows.end();
      }
      const next = byString.u32();
      if (byFields.u32() !== next || byJson.u32() !== next) {
        t.fail(`${locale} ${k}: the writers drew a different number of values`);
        return;
      }
    }
    t.ok(csv.take().toString('utf8') === expectedCsv, `${locale}: CSV identical`);
    t.ok(ndjson.take().toString('utf8') === expectedJson, `${locale}: NDJSON identical`);
    t.ok(places.size >= 25, `${locale}: ${places.size} places drawn`);
    if (locale === 'en_US') t.ok(padded > 1000, `en_US: ${padded} numbers with zero padding`);
  }
});
