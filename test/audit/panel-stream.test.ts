/**
 * The panel's live-stream card (web/src/run.ts) builds its POST /api/v1/streams body with
 * streamBody (web/src/stream-body.ts). In replay mode it sent the live-only `weights`, so every
 * replay started from the panel was a 400; and it sent only the seed, not the world chosen under
 * Explore. Here its bodies, for both modes, pass the API's validation: on a server without
 * sinks the answer is the 409 naming the unconfigured sink, never a 400. (A live stream takes
 * only the seed and locale: the API refuses a size or date window a live world would ignore.)
 */
import t from 'tap';
import { streamBody } from '../../web/src/stream-body.js';
import { testApp } from '../support/app.js';

const app = await testApp(t);
const world = { seed: 43, scale: 0.01, locale: 'en_GB', start_date: '2025-02-01', end_date: '2025-03-31' };
const controls = {
  sink: 'webhook',
  eventsPerSecond: 10,
  weights: { orders: 0.6, interactions: 0.3, inventory: 0.1 },
  burst: 10,
  duplicateRatio: 0.01,
  lateRatio: 0.05,
  durationS: 60,
};

for (const mode of ['live', 'replay'] as const) {
  t.test(`a ${mode} stream from the panel`, async (t) => {
    const body = streamBody(world, { ...controls, mode });
    // A replay takes the whole world on screen; a live world is only its seed and locale.
    const sent = mode === 'replay' ? world : { seed: world.seed, locale: world.locale };
    t.match(body, { ...sent, sink: 'webhook', mode, events_per_second: 10, late_ratio: 0.05, duplicate_ratio: 0.01, duration_s: 60 }, 'the world on screen and the controls');
    if (mode === 'live') t.same(['scale', 'start_date', 'end_date'].filter((k) => k in body), [], 'no size or date window on a live stream');
    const response = await app.inject({ method: 'POST', url: '/api/v1/streams', payload: body });
    const answer = response.json() as { code: string; message: string };
    t.equal(response.statusCode, 409, answer.message);
    t.equal(answer.code, 'SINK_NOT_CONFIGURED');
  });
}
