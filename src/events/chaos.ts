import { mix32, tagOf } from '../generators/random.js';
import type { BadVariant, Placed } from './feed.js';
import type { DefectKind, FeedOptions } from './types.js';

/** A step as it is delivered: with its chaos label, if any. */
export interface Delivery extends Placed {
  readonly defect?: DefectKind | undefined;
  /** For a 'bad' delivery, the malformed variant. */
  readonly variant?: BadVariant | undefined;
}

/**
 * Yielded in place of a delivery by a feed walked with `idleEvery` (src/events/feed.ts
 * `feedSteps`) after that many steps walked without one delivered, so that a consumer can give
 * the event loop a turn: a rare `types=` subset walks millions of other steps between two of its
 * own. It is no event: consumers compare by identity and skip it; nothing else holds it.
 */
export const IDLE: Delivery = Object.freeze({ step: Object.freeze({ t: Number.NaN, src: -1, idx: -1 }) as unknown as Placed['step'], sequence: -1, defect: undefined, variant: undefined });

/**
 * Steps walked between two {@link IDLE}s of a walk on the event loop, delivered or not: ~1-2 ms of
 * a `types=` subset's walk on the shared 2-core machine, ~10 ms at the 99th percentile of a
 * scale-10 walk (4,096: ~5 and ~23 ms). The HTTP routes and replay streams walk with it; the
 * command line and the tests without.
 */
export const IDLE_EVERY = 1024;

export interface Chaos {
  readonly seed: number;
  readonly late: number;
  readonly duplicate: number;
  readonly bad: number;
  readonly maxLatenessMs: number;
}

/** Five minutes, as in the reference generator. */
export const DEFAULT_MAX_LATENESS_MS = 5 * 60_000;

const TAG = tagOf('chaos');
const VARIANTS: readonly BadVariant[] = ['missing_field', 'wrong_type', 'negative_quantity', 'unknown_enum', 'truncated'];

/** The chaos of a request, or undefined when every ratio is 0. */
export function chaosOf(seed: number, options: FeedOptions): Chaos | undefined {
  const late = options.late_ratio ?? 0;
  const duplicate = options.duplicate_ratio ?? 0;
  const bad = options.bad_ratio ?? 0;
  if (late === 0 && duplicate === 0 && bad === 0) return undefined;
  return { seed, late, duplicate, bad, maxLatenessMs: options.max_lateness_ms ?? DEFAULT_MAX_LATENESS_MS };
}

/** A uniform draw in [0, 1) per (seed, sequence, lane): a pure function of the seed and the event. */
function draw(seed: number, sequence: number, lane: number): number {
  const lo = sequence % 4294967296;
  const hi = Math.floor(sequence / 4294967296);
  return mix32(mix32(mix32((seed ^ TAG) + lo) ^ hi) ^ Math.imul(lane + 1, 0x9e3779b1)) / 4294967296;
}

/**
 * What chaos does to event `sequence`: one draw decides, so the three kinds exclude each other
 * and each happens with its ratio exactly in expectation: late (held back), duplicate (delivered
 * again right after), bad (a malformed copy delivered right before the real event).
 */
export function defectOf(chaos: Chaos, sequence: number): { defect: DefectKind | undefined; variant: BadVariant | undefined; latenessMs: number } {
  const u = draw(chaos.seed, sequence, 0);
  if (u < chaos.late) {
    const latenessMs = 1000 + Math.floor(draw(chaos.seed, sequence, 1) * Math.max(0, chaos.maxLatenessMs - 1000));
    return { defect: 'late', variant: undefined, latenessMs };
  }
  if (u < chaos.late + chaos.duplicate) return { defect: 'duplicate', variant: undefined, latenessMs: 0 };
  if (u < chaos.late + chaos.duplicate + chaos.bad) {
    return { defect: 'bad', variant: VARIANTS[Math.floor(draw(chaos.seed, sequence, 2) * VARIANTS.length)], latenessMs: 0 };
  }
  return { defect: undefined, variant: undefined, latenessMs: 0 };
}

/**
 * Applies chaos to a stream of steps. A late event is held until the first event whose time is
 * past its own time plus its lateness (at most max_lateness), then delivered just before that
 * one, its event_time unchanged; the held events are few (those of the last max_lateness).
 */
export function* applyChaos(steps: Iterable<Placed>, chaos: Chaos): Generator<Delivery> {
  const held: { release: number; placed: Placed }[] = [];
  for (const placed of steps) {
    if (placed === IDLE) {
      yield IDLE;
      continue;
    }
    while (held.length > 0 && (held[0] as { release: number }).release < placed.step.t) {
      const { placed: late } = held.shift() as { placed: Placed };
      yield { ...late, defect: 'late', variant: undefined };
    }
    const { defect, variant, latenessMs } = defectOf(chaos, placed.sequence);
    if (defect === 'late') {
      const release = placed.step.t + latenessMs;
      // Kept sorted by release time (then sequence): insertion into a short list.
      let k = held.length;
      while (k > 0 && (held[k - 1] as { release: number }).release > release) k--;
      held.splice(k, 0, { release, placed });
      continue;
    }
    if (defect === 'bad') yield { ...placed, defect: 'bad', variant };
    yield { ...placed, defect: undefined, variant: undefined };
    if (defect === 'duplicate') yield { ...placed, defect: 'duplicate', variant: undefined };
  }
  for (const { placed } of held) yield { ...placed, defect: 'late', variant: undefined };
}
