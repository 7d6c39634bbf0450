/**
 * The documented multi-worker loads get past the cost budget: each worker of `ecomgen load`
 * prepares the whole world first, and a world over the budget exits 2 before any work. The
 * Kubernetes load Job (scale 1000 with the default budget) and the scaling page's local loop
 * (scale 50) could never start.
 */
import { readFile } from 'node:fs/promises';
import t from 'tap';
import { parse } from 'yaml';
import { precomputeCost } from '../../src/generators/cost.js';
import { costBudgetFromEnv, DEFAULT_COST_BUDGET } from '../../src/routes/cost.js';
import { worldSpecFrom } from '../../src/routes/world-query.js';
import { SINKS } from '../../src/sinks/index.js';

const wholeLoad = (scale: number) => precomputeCost(SINKS.postgres.defaultEntities, worldSpecFrom({ scale } as never).sizes);
const within = (cost: { ms: number; mb: number }, budget: { ms: number; mb: number }) => cost.ms <= budget.ms && cost.mb <= budget.mb;

t.test('deploy/kubernetes/load-job.yaml: its --scale is within the budget its environment sets', async (t) => {
  const job = parse(await readFile('deploy/kubernetes/load-job.yaml', 'utf8'));
  const container = job.spec.template.spec.containers[0];
  const args: string[] = container.args;
  t.same(args.slice(0, 2), ['load', 'postgres']);
  const scale = Number(args.find((a) => a.startsWith('--scale='))?.slice('--scale='.length));
  t.ok(scale > 0, `--scale=${scale}`);
  const env = Object.fromEntries(((container.env ?? []) as { name: string; value: string }[]).map((e) => [e.name, e.value]));
  const budget = costBudgetFromEnv(env);
  const cost = wholeLoad(scale);
  t.ok(within(cost, budget), `scale ${scale}: ${Math.round(cost.ms / 1000)} s, ${Math.round(cost.mb)} MB within ${budget.ms / 1000} s, ${budget.mb} MB`);
  t.notOk(within(cost, DEFAULT_COST_BUDGET), 'the Job needs its COST_BUDGET_* (over the default budget)');
});

t.test('docs/scaling.md: the local loop sets the budget its --scale needs', async (t) => {
  const text = await readFile('docs/scaling.md', 'utf8');
  const line = text.split('\n').find((l) => l.startsWith('- Local processes:'));
  const command = /`([^`]+)`/.exec(line ?? '')?.[1] ?? '';
  const scale = Number(/--scale (\S+)/.exec(command)?.[1]);
  const env = Object.fromEntries([...command.matchAll(/\b(COST_BUDGET_M[SB])=(\d+)/g)].map((m) => [m[1], m[2]]));
  t.ok(scale > 0, command);
  t.ok(within(wholeLoad(scale), costBudgetFromEnv(env)), `scale ${scale} with ${JSON.stringify(env)}`);
});
