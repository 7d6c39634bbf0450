/**
 * The command line's feed work honours the server's budget variables, COST_BUDGET_MS and
 * COST_BUDGET_MB, which its refusals name ("… over this server's budget of 256 MB per request
 * (COST_BUDGET_MB); lower scale"): they were ignored, so the advice could not be followed.
 */
import t from 'tap';
import { inProcess } from '../support/cli.js';

t.test('ecomgen events: COST_BUDGET_MB lowers and raises the budget; a bad value names the variable', async (t) => {
  // Scale 5's feed needs ~18 MB: within the default 256 MB, over 10 MB.
  const low = await inProcess(['events', '--seed', '1', '--scale', '5', '--limit', '1', '-q'], { COST_BUDGET_MB: '10' });
  t.equal(low.code, 2);
  t.match(low.err, /^error: --scale: the change feed in this world needs an estimated \d+ MB of precomputed state, over this server's budget of 10 MB per request \(COST_BUDGET_MB\); lower scale/);
  t.equal(low.out, '');
  const fine = await inProcess(['events', '--seed', '1', '--scale', '5', '--limit', '1', '-q'], { COST_BUDGET_MB: '20' });
  t.equal(fine.code, 0, fine.err);
  t.equal(fine.out.split('\n').filter(Boolean).length, 1);
  const defects = await inProcess(['events', '--seed', '1', '--scale', '5', '--late-ratio', '0.1', '--defects', '-q'], { COST_BUDGET_MB: '10' });
  t.equal(defects.code, 2, '--defects too');
  const bad = await inProcess(['events', '--seed', '1', '--limit', '1', '-q'], { COST_BUDGET_MS: 'soon' });
  t.equal(bad.code, 2);
  t.equal(bad.err, 'error: COST_BUDGET_MS=soon is invalid: expected an integer from 1 to 86400000\n');
});

t.test('ecomgen stream --mode replay: refused over COST_BUDGET_MB with the flag to lower, exit 2, nothing sent', async (t) => {
  const env = { STREAM_ENDPOINT: 'http://127.0.0.1:47/never', STREAM_SECRET: 's', COST_BUDGET_MB: '10' };
  const { code, err } = await inProcess(['stream', 'webhook', '--mode', 'replay', '--seed', '1', '--scale', '5', '-q'], env);
  t.equal(code, 2);
  t.match(err, /^error: --scale: the replay's change feed in this world needs an estimated \d+ MB of precomputed state, over this server's budget of 10 MB per request \(COST_BUDGET_MB\); lower scale/);
});
