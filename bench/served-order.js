// Benchmark: building the time order of each dated entity's download (src/generators/served-order.ts)
// and serving rows through it, per entity and scale. Prints rows, the one-off build time (after the
// entity's other precomputation), microseconds per row (the rates in src/generators/cost.ts come
// from these), and the rate of generating the first 20,000 rows in time order against index
// order, measured in the same process. Speed is reported, never asserted.
//
//   node --import tsx bench/served-order.js                 # scales 1 and 10
//   BENCH_SERVED_SCALES=1,10,100 node --import tsx bench/served-order.js
//   BENCH_SERVED_ENTITIES=shipping,sessions ...             # a subset
import { performance } from 'node:perf_hooks';
import { SERVED_BY, servedOrder, servedRange } from '../src/generators/served-order.ts';
import { World } from '../src/generators/world.ts';
import { worldSpecFrom } from '../src/routes/world-query.ts';

const scales = (process.env.BENCH_SERVED_SCALES ?? '1,10').split(',').map(Number);
const only = process.env.BENCH_SERVED_ENTITIES?.split(',');
const SAMPLE = 20_000;

const rate = (rows, ms) => `${Math.round(rows / (ms / 1000)).toLocaleString('en')}/s`;

console.log('entity | scale | rows | prepare ms | time order ms | µs/row | first 20k rows: time order | index order');
for (const scale of scales) {
  for (const entity of Object.keys(SERVED_BY)) {
    if (only && !only.includes(entity)) continue;
    // A fresh world per entity, so one entity's caches do not speed up the next.
    // (`params` only names the world apart: no generator reads a parameter called `bench`.)
    const world = World.of({ ...worldSpecFrom({ seed: 7, scale }), locale: 'en_US', params: { bench: entity } });
    const generator = world.generator(entity);
    let t = performance.now();
    const rows = generator.population;
    if (rows > 0) generator.record(0);
    const prepare = performance.now() - t;
    t = performance.now();
    servedOrder(world, entity);
    const build = performance.now() - t;
    const n = Math.min(rows, SAMPLE);
    t = performance.now();
    for (const _ of servedRange(world, entity, 0, n));
    const served = performance.now() - t;
    // Index order on a world of its own (prepared the same way), so neither pass warms the other's caches.
    const other = World.of({ ...worldSpecFrom({ seed: 7, scale }), locale: 'en_US', params: { bench: `${entity}-index` } }).generator(entity);
    if (other.population > 0) other.record(0);
    t = performance.now();
    for (const _ of other.range(0, n));
    const indexed = performance.now() - t;
    console.log(
      [entity, scale, rows, prepare.toFixed(0), build.toFixed(0), ((build * 1000) / Math.max(1, rows)).toFixed(1), rate(n, served), rate(n, indexed)].join(' | '),
    );
  }
}
