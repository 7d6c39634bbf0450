/**
 * The cost budget of the command line's feed work (`ecomgen events`, a replay `ecomgen stream`):
 * the server's own variables, COST_BUDGET_MS and COST_BUDGET_MB (defaults 30,000 ms and 256 MB),
 * so that a refusal's advice ("… over this server's budget of 256 MB per request
 * (COST_BUDGET_MB)") can be followed on the command line too; it was ignored there.
 */
import { DEFAULT_COST_BUDGET, type CostBudget } from '../routes/cost.js';
import { UsageError } from './validate.js';

function fromEnv(name: string, fallback: number, max: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 1 || value > max) throw new UsageError(`${name}=${raw} is invalid: expected an integer from 1 to ${max}`);
  return value;
}

/** The budget the environment sets (the same bounds as the server's). */
export function budgetFromEnv(): CostBudget {
  return {
    ms: fromEnv('COST_BUDGET_MS', DEFAULT_COST_BUDGET.ms, 86_400_000),
    mb: fromEnv('COST_BUDGET_MB', DEFAULT_COST_BUDGET.mb, 1_000_000),
  };
}
