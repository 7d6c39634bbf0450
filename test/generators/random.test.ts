import t from 'tap';
import { ChildIndex } from '../../src/generators/child-index.js';
import { longTail, scramble } from '../../src/generators/entity.js';
import { Rng, WeightedChoice, tagOf, uuidOf } from '../../src/generators/random.js';

t.test('a keyed stream is a pure function of its key', async (t) => {
  const a = new Rng().key(42, tagOf('users'), 537);
  const draws = Array.from({ length: 8 }, () => a.u32());
  new Rng().key(1, tagOf('orders'), 3); // another instance, another key, in between
  const b = new Rng().key(42, tagOf('users'), 537);
  t.same(Array.from({ length: 8 }, () => b.u32()), draws);
  const c = new Rng().key(42, tagOf('users'), 538);
  t.not(c.u32(), draws[0], 'the neighbouring index differs');
  const d = new Rng().key(42, tagOf('users'), 537, tagOf('signup'));
  t.not(d.u32(), draws[0], 'a salt selects another stream');
});

t.test('draws are uniform enough for test data', async (t) => {
  const rng = new Rng();
  const buckets = new Array<number>(10).fill(0);
  for (let i = 0; i < 100_000; i++) {
    rng.key(7, 1, i);
    const k = rng.int(10);
    buckets[k] = (buckets[k] ?? 0) + 1;
  }
  for (const count of buckets) t.ok(count > 9_500 && count < 10_500, `bucket ${count} near 10,000`);
});

t.test('uuids are well-formed, unique and stable', async (t) => {
  const seen = new Set<string>();
  for (let i = 0; i < 200_000; i++) seen.add(uuidOf(1, tagOf('orders'), i));
  t.equal(seen.size, 200_000, 'no collisions in 200k ids');
  const id = uuidOf(42, tagOf('users'), 0);
  t.match(id, /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  t.equal(id, uuidOf(42, tagOf('users'), 0));
  t.not(uuidOf(42, tagOf('users'), 0), uuidOf(43, tagOf('users'), 0), 'seed changes ids');
  t.not(uuidOf(42, tagOf('users'), 0), uuidOf(42, tagOf('orders'), 0), 'entity changes ids');
  t.not(uuidOf(42, tagOf('x'), 1, 0), uuidOf(42, tagOf('x'), 1, 1), 'sub index changes ids');
  t.not(uuidOf(0, 0, 2 ** 32), uuidOf(0, 0, 0), 'indexes beyond 32 bits stay distinct');
  // Pinned values (data version 2): the id bytes never change with how the string is built.
  t.equal(uuidOf(42, tagOf('users'), 0), '7609f4eb-f269-4ea7-a459-8d926675ff63');
  t.equal(uuidOf(7, tagOf('orders'), 123_456, 3), 'b6ca68a1-14d2-4396-9f10-c2eecd3a6231');
  const first = uuidOf(1, tagOf('orders'), 5);
  uuidOf(1, tagOf('orders'), 6);
  t.equal(first, uuidOf(1, tagOf('orders'), 5), 'an id returned earlier is not overwritten by the next one');
});

t.test('scramble is a bijection (distinct references and tracking numbers)', async (t) => {
  const seen = new Set<number>();
  for (let i = 0; i < 300_000; i++) seen.add(scramble(99, i));
  t.equal(seen.size, 300_000);
});

t.test('long tail: a few indexes take most draws, none dominates', async (t) => {
  const n = 500;
  const counts = new Array<number>(n).fill(0);
  const rng = new Rng().key(1, 2, 3);
  for (let i = 0; i < 200_000; i++) {
    const j = longTail(rng.next(), n);
    counts[j] = (counts[j] ?? 0) + 1;
  }
  const top20 = counts.slice(0, n / 5).reduce((a, b) => a + b, 0) / 200_000;
  t.ok(top20 > 0.5 && top20 < 0.75, `top 20% take ${top20}`);
  t.ok((counts[0] ?? 0) / 200_000 < 0.05, 'the most popular index has under 5%');
  t.ok(counts.every((c) => c > 0), 'every index is drawn');
});

t.test('weighted choice follows its weights', async (t) => {
  const choice = new WeightedChoice([['a', 1], ['b', 3]] as const);
  const rng = new Rng().key(5, 5, 5);
  let b = 0;
  for (let i = 0; i < 40_000; i++) if (choice.draw(rng) === 'b') b++;
  t.ok(Math.abs(b / 40_000 - 0.75) < 0.02);
});

t.test('child index: locate and walk agree with a brute-force expansion', async (t) => {
  const count = (p: number) => (p * 7919) % 5; // 0..4 children, some parents childless
  const index = new ChildIndex(5000, count);
  const expanded: [number, number][] = [];
  for (let p = 0; p < 5000; p++) for (let k = 0; k < count(p); k++) expanded.push([p, k]);
  t.equal(index.total, expanded.length);
  for (const flat of [0, 1, 1023, 1024, 2047, 4999, expanded.length - 1]) t.same(index.locate(flat), expanded[flat], `locate ${flat}`);
  t.same([...index.walk(3000, 3050)], expanded.slice(3000, 3050), 'walk from the middle');
  t.same([...index.walk(expanded.length - 3, expanded.length + 10)], expanded.slice(-3), 'walk stops at the end');
});

// Pinned from the build before keys of indexes below 2^32 skipped the high word (the same
// hash, without the float modulo): both sides of 2^32, whole ids and the first draws of a key.
t.test('keys and ids on both sides of 2^32 keep their values', async (t) => {
  const users = tagOf('users');
  const ids: ReadonlyArray<readonly [number, number, string]> = [
    [0, 0, '7b179b5a-deaf-49a8-9b17-9181aab32699'],
    [1, 0, '14b46c9f-d0e3-4cf8-a5fa-11320ec25c54'],
    [2 ** 31 - 1, 0, 'eef32dc7-8288-4a62-9870-b3900578e0d3'],
    [2 ** 31, 2, 'a73794f8-d278-48d8-8fd7-9db98e71164b'],
    [2 ** 32 - 1, 0, '5690e76e-652a-45cc-a8a8-f0afec4028f3'],
    [2 ** 32, 0, 'd13f979a-1245-4290-ab99-e183e1537207'],
    [2 ** 32 + 5, 1, 'a65a826a-af72-46e6-8b12-6b1037022e23'],
    [2 ** 40 + 3, 0, '37633705-9daa-43fd-87fa-8a86c919cb01'],
  ];
  for (const [i, sub, id] of ids) t.equal(uuidOf(7, users, i, sub), id, `id of ${i} (sub ${sub})`);
  const draws: ReadonlyArray<readonly [number, number, number]> = [
    [0, 125618641, 2758858352],
    [123456, 2267254051, 3496860777],
    [2 ** 32 - 1, 2076616715, 2687644402],
    [2 ** 32, 1173599601, 2067305726],
    [2 ** 40 + 3, 2615852066, 2703341791],
  ];
  const rng = new Rng();
  for (const [i, first, second] of draws) {
    rng.key(7, users, i, 5);
    t.same([rng.u32(), rng.u32()], [first, second], `draws of ${i}`);
  }
});
