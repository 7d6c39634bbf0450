/**
 * The change feed schedules a session's clicks from SessionGenerator.scriptTimes (type codes and
 * times, no script): they must be exactly those of the session's script, for every kind of
 * session (landing pages, searches with and without a product left, carts, checkouts).
 */
import t from 'tap';
import { CLICKSTREAM_EVENT_TYPES } from '../../src/generators/sessions.js';
import { World } from '../../src/generators/world.js';
import { worldSpecFrom } from '../../src/routes/world-query.js';

for (const [seed, products] of [[11, 40], [12, 3]] as const) {
  t.test(`scriptTimes equals the script (seed ${seed}, ${products} products)`, async (t) => {
    const world = World.of(worldSpecFrom({ seed, users: 60, vendors: 4, warehouses: 2, products, orders: 300, shops: 2, suppliers: 4, transactions: 10 }));
    const sessions = world.generator('sessions');
    let checked = 0;
    const seen = new Set<string>();
    for (let i = 0; i < sessions.population; i++) {
      const n = sessions.scriptTimes(i);
      const fromTimes = Array.from({ length: n }, (_, k) => `${CLICKSTREAM_EVENT_TYPES[sessions.clickCodes[k] as number]}@${sessions.clickTimes[k]}`);
      const script = sessions.script(i);
      const fromScript = script.map((e) => `${e.type}@${e.at}`);
      if (fromTimes.join() !== fromScript.join()) t.same(fromTimes, fromScript, `session ${i}`);
      for (const e of script) seen.add(e.type);
      checked += n;
    }
    t.equal(seen.size, CLICKSTREAM_EVENT_TYPES.length, 'every event type occurs');
    t.ok(checked > 3 * sessions.population, `${checked} events of ${sessions.population} sessions`);
  });
}
