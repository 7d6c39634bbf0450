import { aggregatePart, type AggregatePart } from '../generators/analytics.js';
import { precomputed } from '../generators/child-index.js';
import { InventoryMovementGenerator } from '../generators/inventory-movements.js';
import { PRICE_TABLE_KEY } from '../generators/products.js';
import type { EntityName } from '../generators/registry.js';
import { servedOrder } from '../generators/served-order.js';
import { World, type WorldSpec } from '../generators/world.js';
import { manifestData } from './manifest.js';

/** Work that grows with a world, done on a precompute thread. Plain values: they cross threads. */
export type PrecomputeTask =
  | { readonly kind: 'manifest'; readonly spec: WorldSpec; readonly entities: readonly EntityName[] }
  | { readonly kind: 'prepare'; readonly spec: WorldSpec; readonly entity: EntityName }
  | { readonly kind: 'aggregates'; readonly spec: WorldSpec; readonly part: AggregatePart };

/** The arrays `prepare` hands back, by key of the world's precomputed store. */
export type PreparedArrays = [key: string, array: Int32Array | Float64Array][];

/**
 * Builds what serving `entity` needs before its first row (its population and record 0 touch
 * every lazily built structure: child indexes, analytics aggregates, the reviews' suppression,
 * the stock ledger; a dated entity's time order) and returns copies of the world's precomputed
 * arrays in shared memory, to be installed in the server's world of the same spec.
 */
function prepare(spec: WorldSpec, entity: EntityName): { result: PreparedArrays; transfer: ArrayBuffer[] } {
  const world = World.of(spec);
  const generator = world.generator(entity);
  if (generator.population > 0) generator.record(0);
  // What a later record needs that record 0 does not build: the stock flows behind the
  // period-close counts at the end of the movements (one more pass over the orders).
  if (generator instanceof InventoryMovementGenerator) while (!generator.prepareFlows(1 << 30));
  servedOrder(world, entity);
  // The products' price table is filled as prices are asked for, by whichever threads share it:
  // the server makes its own (src/generators/products.ts), so this thread's few prices stay here.
  const result: PreparedArrays = [...precomputed(world).entries()]
    .filter(([key]) => !key.startsWith(PRICE_TABLE_KEY))
    .map(([key, array]) => [key, sharedCopy(array)]);
  return { result, transfer: [] };
}

/**
 * A copy of `array` in shared memory. Posting it to another thread shares it rather than copying
 * it, so the server installs these and hands the same memory to its render workers
 * (src/render/pool.ts), which would otherwise build the structures again, one each.
 */
export function sharedCopy<A extends Int32Array | Float64Array>(array: A): A {
  const Kind = array.constructor as new (buffer: SharedArrayBuffer) => A;
  const copy = new Kind(new SharedArrayBuffer(array.byteLength));
  copy.set(array);
  return copy;
}

/** Runs a task (on a precompute thread); `transfer` lists buffers to move rather than copy. */
export function runTask(task: PrecomputeTask): { result: unknown; transfer: ArrayBuffer[] } {
  switch (task.kind) {
    case 'manifest':
      return { result: manifestData(task.spec, task.entities), transfer: [] };
    case 'prepare':
      return prepare(task.spec, task.entity);
    case 'aggregates': {
      const arrays = aggregatePart(World.of(task.spec), task.part);
      return { result: arrays, transfer: Object.values(arrays).map((array) => array.buffer as ArrayBuffer) };
    }
  }
}
