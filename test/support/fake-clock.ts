import type { Clock } from '../../src/streams/engine.js';

/** A clock that jumps instead of waiting: a stream of hours runs in milliseconds. */
export class FakeClock implements Clock {
  sleeps = 0;
  constructor(public ms: number) {}

  now(): number {
    return this.ms;
  }

  async sleep(ms: number, signal: AbortSignal): Promise<boolean> {
    this.sleeps++;
    if (signal.aborted) return false;
    this.ms += Math.max(0, ms);
    // Let other promises (a cancel, a test's assertions) run between steps.
    await Promise.resolve();
    return !signal.aborted;
  }

  advance(ms: number): void {
    this.ms += ms;
  }
}
