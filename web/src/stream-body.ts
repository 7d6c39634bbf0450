/**
 * The body of POST /api/v1/streams from the live-stream card's controls, apart from the DOM so a
 * test can send it to the API. The world is the one chosen under Explore: all of it (seed, scale,
 * locale, dates) for a replay; its seed and locale for a live stream, since a live world has no
 * size or date window (the API refuses them there). `weights` is a live-only field, so a replay
 * leaves it out (the API refuses it there). A control left empty (undefined) is left out, so the
 * API's default applies: no duration is a live stream that runs until it is stopped (an empty box
 * was sent as 0, refused, so the panel could not start an open-ended stream).
 */
export interface StreamControls {
  sink: string;
  mode: 'live' | 'replay';
  eventsPerSecond?: number | undefined;
  weights: { orders: number; interactions: number; inventory: number };
  burst?: number | undefined;
  duplicateRatio?: number | undefined;
  lateRatio?: number | undefined;
  durationS?: number | undefined;
}

/** `{ [name]: value }`, or nothing for an empty control. */
const given = (name: string, value: number | undefined): Record<string, number> => (value === undefined ? {} : { [name]: value });

export function streamBody(world: Record<string, unknown>, c: StreamControls): Record<string, unknown> {
  const live = c.mode === 'live';
  return {
    ...(live ? { seed: world.seed, ...(world.locale !== undefined ? { locale: world.locale } : {}) } : world),
    sink: c.sink,
    mode: c.mode,
    ...given('events_per_second', c.eventsPerSecond),
    ...(c.mode === 'live' ? { weights: c.weights } : {}),
    ...given('burst', c.burst),
    ...given('duplicate_ratio', c.duplicateRatio),
    ...given('late_ratio', c.lateRatio),
    ...given('duration_s', c.durationS),
  };
}
