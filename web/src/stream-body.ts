/**
 * The body of POST /api/v1/streams from the live-stream card's controls, apart from the DOM so a
 * test can send it to the API. The world is the one chosen under Explore: all of it (seed, scale,
 * locale, dates) for a replay; its seed and locale for a live stream, since a live world has no
 * size or date window (the API refuses them there). `weights` is a live-only field, so a replay
 * leaves it out (the API refuses it there).
 */
export interface StreamControls {
  sink: string;
  mode: 'live' | 'replay';
  eventsPerSecond: number;
  weights: { orders: number; interactions: number; inventory: number };
  burst: number;
  duplicateRatio: number;
  lateRatio: number;
  durationS: number;
}

export function streamBody(world: Record<string, unknown>, c: StreamControls): Record<string, unknown> {
  const live = c.mode === 'live';
  return {
    ...(live ? { seed: world.seed, ...(world.locale !== undefined ? { locale: world.locale } : {}) } : world),
    sink: c.sink,
    mode: c.mode,
    events_per_second: c.eventsPerSecond,
    ...(c.mode === 'live' ? { weights: c.weights } : {}),
    burst: c.burst,
    duplicate_ratio: c.duplicateRatio,
    late_ratio: c.lateRatio,
    duration_s: c.durationS,
  };
}
