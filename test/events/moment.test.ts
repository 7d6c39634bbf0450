/**
 * Each event's row is the row "at that moment": no timestamp in it lies after the event's own
 * time, except a shipment's estimated_delivery_at (a forecast). The inventory row opened at the
 * window's start carried its last RESTOCK's time, later in the window (every one of them), and
 * an updated_at before its last_restocked_at, which the schema rules out.
 */
import t from 'tap';
import { feedEvents } from '../../src/events/feed.js';
import { World, resolveSizes } from '../../src/generators/world.js';

const ISO = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/;
/** Timestamps that are forecasts by nature, by entity. */
const FORECASTS: Readonly<Record<string, readonly string[]>> = { shipping: ['estimated_delivery_at'] };

for (const [seed, locale, scale] of [[42, 'en_US', 0.1], [7, 'en_GB', 0.05]] as const) {
  t.test(`seed ${seed} ${locale} scale ${scale}: no row of the feed is ahead of its event`, async (t) => {
    const world = World.of({ seed, sizes: resolveSizes(scale, {}), locale, window: { start: Date.UTC(2025, 0, 1), end: Date.UTC(2026, 0, 1) } });
    const ahead = new Map<string, number>();
    let events = 0;
    let opened = 0;
    let counted = 0;
    for (const event of feedEvents(world, {})) {
      events++;
      const at = Date.parse(event.event_time);
      const data = event.data as Record<string, unknown>;
      for (const [field, value] of Object.entries(data)) {
        if (typeof value !== 'string' || !ISO.test(value) || FORECASTS[event.entity]?.includes(field)) continue;
        if (Date.parse(value) > at) ahead.set(`${event.event_type} ${field}`, (ahead.get(`${event.event_type} ${field}`) ?? 0) + 1);
      }
      if (event.event_type === 'inventory.opened') {
        opened++;
        if (data.last_restocked_at !== event.event_time || data.updated_at !== event.event_time || data.quantity_reserved !== 0) {
          t.fail(`inventory.opened ${event.key}: last_restocked_at ${String(data.last_restocked_at)}, updated_at ${String(data.updated_at)} at ${event.event_time}`);
        }
      }
      if (event.event_type === 'inventory.counted') {
        counted++;
        if (Date.parse(data.updated_at as string) < Date.parse(data.last_restocked_at as string)) t.fail(`inventory.counted ${event.key}: updated_at before last_restocked_at`);
      }
    }
    t.ok(events > 10_000, `${events} events walked`);
    t.ok(opened > 0 && opened === counted, `${opened} rows opened, each counted at the end`);
    t.same(Object.fromEntries(ahead), {}, 'no timestamp after its event, forecasts aside');
  });
}
