/**
 * `ecomgen load` honours the budget variables its refusal names, COST_BUDGET_MS and
 * COST_BUDGET_MB, as `events` and a replay `stream` do: it planned with the default budget
 * whatever the environment said, so `ecomgen load postgres --scale 50 --partition k/4`
 * (docs/scaling.md) and the Kubernetes load Job were refused with advice that could not be
 * followed ("… over this server's budget of 30 s per request (COST_BUDGET_MS)").
 */
import t from 'tap';
import { inProcess } from '../support/cli.js';

// Nothing listens on port 1: a load that gets past planning fails to connect (exit 1) at once.
const NOWHERE = { DATABASE_URL: 'postgres://u:p@127.0.0.1:1/none' };

t.test('ecomgen load: COST_BUDGET_MS lowers the budget (exit 2 naming the flag and the variable)', async (t) => {
  // A scale-1 world's whole load needs an estimated ~5 s of precomputation: within the default 30 s.
  const within = await inProcess(['load', 'postgres', '--seed', '1', '-q'], NOWHERE);
  t.equal(within.code, 1, 'within the default budget: planned, then the connection fails');
  t.match(within.err, /cannot connect to PostgreSQL/);
  const low = await inProcess(['load', 'postgres', '--seed', '1', '-q'], { ...NOWHERE, COST_BUDGET_MS: '1000' });
  t.equal(low.code, 2, low.err);
  t.match(low.err, /^error: --scale: the 27 entities of this job in this world needs an estimated [\d.]+ s of precomputation, over this server's budget of 1\.0 s per request \(COST_BUDGET_MS\); lower scale/);
  t.notMatch(low.err, /cannot connect/, 'refused before connecting');
});

t.test('ecomgen load: COST_BUDGET_MB lowers the budget; a bad value names the variable', async (t) => {
  // A scale-5 world's whole load: ~28 s (within the default time budget) and ~4 MB.
  const low = await inProcess(['load', 'postgres', '--seed', '1', '--scale', '5', '-q'], { ...NOWHERE, COST_BUDGET_MB: '1' });
  t.equal(low.code, 2, low.err);
  t.match(low.err, /^error: --scale: the 27 entities of this job in this world needs an estimated \d+ MB of precomputed state, over this server's budget of 1 MB per request \(COST_BUDGET_MB\); lower scale/);
  const bad = await inProcess(['load', 'postgres', '--seed', '1', '-q'], { ...NOWHERE, COST_BUDGET_MB: 'lots' });
  t.equal(bad.code, 2);
  t.equal(bad.err, 'error: COST_BUDGET_MB=lots is invalid: expected an integer from 1 to 1000000\n');
});
