import { precomputeCost, type CostEstimate } from '../generators/cost.js';
import { aggregateParts, installAggregates, mergeAggregatePart, type AggregatePart } from '../generators/analytics.js';
import { installPrecomputed } from '../generators/child-index.js';
import { ENTITIES, type EntityName } from '../generators/registry.js';
import type { Sizes, World } from '../generators/world.js';
import { PrecomputePool } from './pool.js';
import type { PreparedArrays } from './tasks.js';

/** Below this estimate, building on the event loop costs less than a round trip to the thread. */
const ON_LOOP_MS = 5;

/**
 * Threads of the process's precompute pool: the analytics aggregates are made of independent
 * passes (src/generators/analytics.ts) that run side by side, one per core of a 2-core host.
 * Other tasks take one thread each.
 */
const PRECOMPUTE_THREADS = 2;

let pool: PrecomputePool | undefined;
let users = 0;

/**
 * Registers a user of the process's precompute thread (an app); the returned function releases
 * it, and the thread stops when the last user is gone (an app closing, a test ending).
 */
export function retainPrecompute(): () => Promise<void> {
  users++;
  let released = false;
  return async () => {
    if (released) return;
    released = true;
    if (--users > 0 || !pool) return;
    const closing = pool;
    pool = undefined;
    await closing.close();
  };
}
/** The process's precompute pool, created on first use. */
function precomputePool(): PrecomputePool {
  return (pool ??= new PrecomputePool(16, 2048, PRECOMPUTE_THREADS));
}

/**
 * Starts the precompute threads now rather than at the first request that needs them: a
 * thread's start (loading the generators) was most of the slowest analytics first byte
 * (2.7 s for two threads starting at once at a load average of 10). For a server; tests and
 * the CLI leave the threads to start on first use.
 */
export function warmPrecompute(): void {
  precomputePool().warm();
}

const prepared = new WeakMap<World, Map<EntityName, Promise<void>>>();
const costs = new WeakMap<Sizes, Map<EntityName, CostEstimate>>();

/**
 * The estimated precomputation of serving `entity` from `world`: a function of the populations
 * alone, kept by the world's sizes object, which worlds of the same scale share (resolveSizes),
 * so a request without a seed (a new world) does not estimate it again.
 */
export function costOf(world: World, entity: EntityName): CostEstimate {
  let bySizes = costs.get(world.sizes);
  if (!bySizes) costs.set(world.sizes, (bySizes = new Map()));
  let cost = bySizes.get(entity);
  if (!cost) bySizes.set(entity, (cost = precomputeCost([entity], world.sizes)));
  return cost;
}

const ANALYTICS: ReadonlySet<EntityName> = new Set(['analytics/users', 'analytics/products']);
const aggregatesOf = new WeakMap<World, Promise<void>>();

/**
 * The analytics aggregates of `world`, shared by both analytics entities: their parts computed
 * on the pool's threads side by side, merged and installed here (a copy of each array crosses
 * back, the sessions' partial counts are summed).
 */
function prepareAggregates(world: World, threads: PrecomputePool): Promise<void> {
  let ready = aggregatesOf.get(world);
  if (!ready) {
    const spec = world.spec;
    const parts = aggregateParts(world).map((part: AggregatePart) =>
      threads.run<Parameters<typeof mergeAggregatePart>[1]>(JSON.stringify(['aggregates', spec, part]), { kind: 'aggregates', spec, part }, false),
    );
    ready = Promise.all(parts).then((results) => {
      const arrays = {};
      for (const result of results) mergeAggregatePart(arrays, result);
      installAggregates(world, arrays);
    });
    ready.catch(() => aggregatesOf.delete(world));
    aggregatesOf.set(world, ready);
  }
  return ready;
}

/** Whether {@link prepareEntity} has nothing to wait for: the entity is built on the event loop, as its records are asked for. */
export function preparedOnLoop(world: World, entity: EntityName): boolean {
  // Plus what grows with the entity's own parameters (performance-events' `days`: 90 of them held the loop ~0.6 s).
  return costOf(world, entity).ms + (ENTITIES[entity].parameterMs?.(world.params) ?? 0) < ON_LOOP_MS;
}

/**
 * Makes `entity` of `world` ready to serve without blocking the event loop: its child indexes
 * and aggregates are built on a precompute thread and installed in the world, once per world
 * and entity (concurrent requests share the one computation). Cheap entities return at once.
 *
 * @example
 * await prepareEntity(world, 'order-items');
 * world.generator('order-items').population; // no pass over the orders on this thread
 */
export function prepareEntity(world: World, entity: EntityName): Promise<void> {
  if (preparedOnLoop(world, entity)) return Promise.resolve();
  let perWorld = prepared.get(world);
  if (!perWorld) prepared.set(world, (perWorld = new Map()));
  let ready = perWorld.get(entity);
  if (!ready) {
    // The precompute threads of the process, shared by its apps (see retainPrecompute).
    const threads = precomputePool();
    const spec = world.spec;
    ready = ANALYTICS.has(entity) ? prepareAggregates(world, threads) : threads.run<PreparedArrays>(JSON.stringify(['prepare', spec, entity]), { kind: 'prepare', spec, entity }, false).then((arrays) => installPrecomputed(world, arrays));
    const forget = () => perWorld.delete(entity);
    ready.catch(forget);
    perWorld.set(entity, ready);
  }
  return ready;
}
