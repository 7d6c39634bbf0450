/**
 * The clickstream counts each session's events from the first draws of its plan alone
 * (SessionGenerator.eventCount): the count equals the full plan's and the script's length for
 * every session of two worlds (one whose catalogue is smaller than some orders' baskets).
 */
import t from 'tap';
import { World, resolveSizes } from '../../src/generators/world.js';

type Test = Parameters<Parameters<typeof t.test>[0]>[0];

const YEAR = { start: Date.UTC(2025, 0, 1), end: Date.UTC(2026, 0, 1) };

function checkWorld(t: Test, name: string, world: World): void {
  t.test(name, async (t) => {
    const sessions = world.generator('sessions');
    let mismatches = 0;
    let total = 0;
    for (let i = 0; i < sessions.population; i++) {
      const count = sessions.eventCount(i);
      if (count !== sessions.plan(i).events || count !== sessions.script(i).length) mismatches++;
      total += count;
    }
    t.equal(mismatches, 0, `every one of ${sessions.population} sessions`);
    // The clickstream's population is the sum of the counts.
    t.equal(world.generator('clickstream').population, total);
    t.ok(total > sessions.population);
  });
}

checkWorld(t, 'seed 3, scale 0.2, en_US', World.of({ seed: 3, sizes: resolveSizes(0.2, {}), locale: 'en_US', window: YEAR }));
checkWorld(t, 'seed 8, tiny catalogue, en_GB', World.of({ seed: 8, sizes: resolveSizes(0.2, { products: 3 }), locale: 'en_GB', window: YEAR }));
