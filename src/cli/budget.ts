/**
 * The cost budget of the command line's feed work (`ecomgen events`, a replay `ecomgen stream`) and loads (`ecomgen load`):
 * the server's own variables, COST_BUDGET_MS and COST_BUDGET_MB, read as the server reads them
 * (src/routes/cost.ts), so that a refusal's advice ("… over this server's budget of 256 MB per
 * request (COST_BUDGET_MB)") can be followed on the command line too; it was ignored there.
 */
import { ConfigError } from '../config.js';
import { costBudgetFromEnv, type CostBudget } from '../routes/cost.js';
import { UsageError } from './validate.js';

/** The budget the environment sets; a value out of bounds is a usage error (exit 2) naming the variable. */
export function budgetFromEnv(): CostBudget {
  try {
    return costBudgetFromEnv();
  } catch (error) {
    throw error instanceof ConfigError ? new UsageError(error.message) : error;
  }
}
