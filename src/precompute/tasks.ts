import type { EntityName } from '../generators/registry.js';
import type { WorldSpec } from '../generators/world.js';
import { manifestData } from './manifest.js';

/** Work that grows with a world, done on a precompute thread. Plain values: they cross threads. */
export type PrecomputeTask = { readonly kind: 'manifest'; readonly spec: WorldSpec; readonly entities: readonly EntityName[] };

/** Runs a task (on a precompute thread); `transfer` lists buffers to move rather than copy. */
export function runTask(task: PrecomputeTask): { result: unknown; transfer: ArrayBuffer[] } {
  switch (task.kind) {
    case 'manifest':
      return { result: manifestData(task.spec, task.entities), transfer: [] };
  }
}
