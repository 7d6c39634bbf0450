/** UK phone numbers: valid formats only (mobile ranges or Ofcom drama landlines), always 11 digits. */
import t from 'tap';
import { UK_DRAMA_LANDLINES } from '../../src/generators/locale.js';
import { World, resolveSizes } from '../../src/generators/world.js';

const WINDOW = { start: Date.UTC(2025, 0, 1), end: Date.UTC(2026, 0, 1) };
const MOBILE = /^07[1-57-9][0-9]{2} [0-9]{6}$/;
const DRAMA = UK_DRAMA_LANDLINES.map((pattern) => new RegExp(`^${pattern.replace(/#/g, '[0-9]')}$`));

t.test('en_GB: 10,000 users have valid UK numbers', async (t) => {
  const world = World.of({ seed: 2024, sizes: resolveSizes(1, { users: 10_000 }), locale: 'en_GB', window: WINDOW });
  const users = world.generator('users');
  let mobiles = 0;
  let landlines = 0;
  const bad: string[] = [];
  for (const user of users.range(0, users.population)) {
    const phone = user.phone_number;
    const digits = phone.replace(/ /g, '');
    const ok = /^0[0-9]{10}$/.test(digits) && !/^0(800|808|25|27|70|76|9)/.test(digits);
    if (MOBILE.test(phone) && ok) mobiles++;
    else if (DRAMA.some((re) => re.test(phone)) && ok) landlines++;
    else bad.push(phone);
  }
  t.same(bad.slice(0, 5), [], `no invalid number (${bad.length} of ${users.population})`);
  t.ok(mobiles > 6000 && mobiles < 8000, `about 70% mobiles (${mobiles})`);
  t.ok(landlines > 2000, `landlines from the drama ranges (${landlines})`);
  const vendors = world.generator('vendors');
  for (const vendor of vendors.range(0, vendors.population)) {
    t.ok(MOBILE.test(vendor.phone_number) || DRAMA.some((re) => re.test(vendor.phone_number)), `vendor ${vendor.phone_number}`);
  }
});

t.test('en_US numbers are unchanged in shape: (NXX) NXX-XXXX', async (t) => {
  const world = World.of({ seed: 2024, sizes: resolveSizes(1, { users: 2000 }), locale: 'en_US', window: WINDOW });
  const users = world.generator('users');
  let bad = 0;
  for (const user of users.range(0, users.population)) if (!/^\([2-9][0-9]{2}\) [2-9][0-9]{2}-[0-9]{4}$/.test(user.phone_number)) bad++;
  t.equal(bad, 0);
});
