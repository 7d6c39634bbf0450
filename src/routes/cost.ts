import type { CostEstimate } from '../generators/cost.js';
import type { EntityName } from '../generators/registry.js';
import type { World } from '../generators/world.js';
import { intFromEnv } from '../config.js';
import { ApiError } from '../plugins/errors.js';
import { PrecomputeError } from '../precompute/pool.js';
import { costOf, prepareEntity, retainPrecompute } from '../precompute/prepare.js';

export { costOf, retainPrecompute };

/**
 * The most one request may cost before its first byte (see docs/limits.md): estimated CPU
 * time of the world's precomputation and the memory it holds. Checked before any work, so a
 * request for a world too large for this server is refused at once instead of freezing it.
 */
export interface CostBudget {
  /** Estimated milliseconds of precomputation per request (COST_BUDGET_MS, default 30,000). */
  readonly ms: number;
  /** Estimated MB held by precomputed structures per request (COST_BUDGET_MB, default 256). */
  readonly mb: number;
}

export const DEFAULT_COST_BUDGET: CostBudget = { ms: 30_000, mb: 256 };

/** The budget COST_BUDGET_MS and COST_BUDGET_MB set (the server's, and the command line's feed work); a ConfigError for a value out of bounds. */
export function costBudgetFromEnv(env: Readonly<Record<string, string | undefined>> = process.env): CostBudget {
  return {
    ms: intFromEnv('COST_BUDGET_MS', DEFAULT_COST_BUDGET.ms, 1, 86_400_000, env),
    mb: intFromEnv('COST_BUDGET_MB', DEFAULT_COST_BUDGET.mb, 1, 1_000_000, env),
  };
}

/** The parameter the client should lower: the size that drives the cost if they set it, else scale. */
function parameterOf(driver: string, query: Readonly<Record<string, unknown>>): string {
  if (query[driver] !== undefined) return driver;
  if (driver === 'warehouses' && query.products !== undefined) return 'products';
  if (driver === 'entities') return 'entities';
  if (query.scale !== undefined) return 'scale';
  return driver;
}

const seconds = (ms: number) => (ms >= 10_000 ? `${Math.round(ms / 1000)} s` : `${(ms / 1000).toFixed(1)} s`);

/**
 * Throws a 422 COST_BUDGET_EXCEEDED naming the parameter to lower when `cost` is over `budget`.
 *
 * @example
 * assertWithinBudget(precomputeCost(['order-items'], world.sizes), budget, request.query, 'order-items');
 */
export function assertWithinBudget(cost: CostEstimate, budget: CostBudget, query: Readonly<Record<string, unknown>>, what: string): void {
  if (cost.ms <= budget.ms && cost.mb <= budget.mb) return;
  const parameter = parameterOf(cost.mb > budget.mb ? cost.memoryDriver : cost.driver, query);
  const over = cost.mb > budget.mb
    ? `an estimated ${Math.ceil(cost.mb)} MB of precomputed state, over this server's budget of ${budget.mb} MB per request (COST_BUDGET_MB)`
    : `an estimated ${seconds(cost.ms)} of precomputation, over this server's budget of ${seconds(budget.ms)} per request (COST_BUDGET_MS)`;
  throw new ApiError(422, 'COST_BUDGET_EXCEEDED', `${parameter}: ${what} in this world needs ${over}; lower ${parameter} (see docs/limits.md)`);
}

/**
 * Waits until `entity` of `world` can be served without blocking the event loop (its
 * precomputation runs on a background thread); a failed precomputation is a 503.
 */
export async function whenPrepared(world: World, entity: EntityName): Promise<void> {
  try {
    await prepareEntity(world, entity);
  } catch (err) {
    if (err instanceof PrecomputeError) throw new ApiError(503, 'PRECOMPUTE_FAILED', `${entity}: ${err.message}`);
    throw err;
  }
}
