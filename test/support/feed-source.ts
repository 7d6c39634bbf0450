/**
 * A deterministic feed for testing the stream machinery (pacing, batching, retries, writers)
 * before and apart from the change feed: events whose every field is a function of the
 * position, spread over time at a given rate. Not a model of a shop.
 */
import type { EntityName } from '../../src/generators/registry.js';
import { DEFAULT_END_DATE, DEFAULT_START_DATE, parseDate } from '../../src/generators/time.js';
import { World, resolveSizes } from '../../src/generators/world.js';
import type { FeedEvent } from '../../src/streams/feed-contract.js';
import { DEFAULT_TIME_ZONE, expectedEvents, type RateSpec } from '../../src/streams/rate.js';
import type { FeedProvider, FeedRequest, FeedSource } from '../../src/streams/source.js';

export const TEST_EVENT_TYPES = ['order.placed', 'payment.captured', 'shipment.dispatched', 'inventory.changed', 'interaction.page_view', 'review.posted'] as const;

const ENTITY_OF: Record<string, string> = {
  'order.placed': 'orders',
  'payment.captured': 'payments',
  'shipment.dispatched': 'shipping',
  'inventory.changed': 'inventory',
  'interaction.page_view': 'clickstream',
  'review.posted': 'reviews',
};

/** A small world whose rows the `rows` feeds carry, so values match the entities' schemas. */
const ROW_WORLD = World.of({
  seed: 11,
  sizes: resolveSizes(0.01, {}),
  locale: 'en_US',
  window: { start: parseDate(DEFAULT_START_DATE, false) as number, end: parseDate(DEFAULT_END_DATE, true) as number },
});

/** A real row of `entity` for position `sequence`: its data and primary key. */
function rowOf(entity: string, sequence: number): { data: Record<string, unknown>; key: string } {
  const generator = ROW_WORLD.generator(entity as EntityName);
  const data = generator.record(sequence % generator.population) as Record<string, unknown>;
  const primaryKey = Object.keys(data)[0] as string;
  return { data, key: String(data[primaryKey]) };
}

/** Event `sequence` of a feed starting at `startMs`, one every `stepMs`; every 50th late, every 97th a duplicate, every 1000th bad. */
export function testEvent(sequence: number, timeMs: number, rows = false, types: readonly string[] = TEST_EVENT_TYPES): FeedEvent {
  const type = types[sequence % types.length] as string;
  const order = `ord_${Math.floor(sequence / 3)}`;
  const defect = sequence % 1000 === 999 ? 'bad' : sequence % 97 === 96 ? 'duplicate' : sequence % 50 === 49 ? 'late' : undefined;
  const time = defect === 'late' ? timeMs - 90_000 : timeMs;
  const event: FeedEvent = {
    event_id: `evt_${sequence}`,
    event_type: type,
    event_time: new Date(time).toISOString(),
    entity: ENTITY_OF[type] ?? 'orders',
    key: `${ENTITY_OF[type] ?? 'x'}_${sequence}`,
    op: type === 'order.placed' ? 'insert' : 'update',
    sequence,
    data: { order_id: order, amount: Math.round(sequence * 137) / 100, note: `n${sequence}` },
    ...(defect ? { defect } : {}),
    ...(rows ? rowOf(ENTITY_OF[type] ?? 'orders', sequence) : {}),
  };
  return defect === 'bad' ? { ...event, raw: JSON.stringify(event).slice(0, 40) } : event;
}

/** A bounded feed of `count` events from `startMs`, `stepMs` apart. */
export function boundedFeed(count: number, startMs: number, stepMs: number, rows = false): FeedSource {
  return {
    *replay(from: number) {
      for (let s = from; s < count; s++) yield testEvent(s, startMs + s * stepMs, rows);
    },
    liveMinute() {
      throw new Error('a bounded feed has no live minutes');
    },
  };
}

/** An open-ended feed: each minute holds the events the rate expects in it, evenly spread. */
export function liveFeed(rate: RateSpec): Omit<FeedSource, 'liveMinute'> & { liveMinute(minute: number): FeedEvent[] } {
  return {
    replay() {
      throw new Error('a live feed has no replay');
    },
    liveMinute(minute: number) {
      // Counted from the start of the UTC day, so rounding never drifts; sequences restart each day.
      const day = Math.floor(minute / 86_400_000) * 86_400_000;
      const before = Math.round(expectedEvents(rate, day, minute));
      const count = Math.round(expectedEvents(rate, day, minute + 60_000)) - before;
      const first = (day / 86_400_000) * 1e9 + before;
      return Array.from({ length: count }, (_, k) => testEvent(first + k, minute + Math.floor(((k + 0.5) * 60_000) / count)));
    },
  };
}

/** A FeedProvider over these feeds, for the route tests: replays `count` events, live at the request's rate. */
export function testFeedProvider(count: number, stepMs = 1000, rows = false): FeedProvider & { requests: FeedRequest[] } {
  const requests: FeedRequest[] = [];
  return {
    requests,
    eventTypes: () => TEST_EVENT_TYPES,
    open(request) {
      requests.push(request);
      const start = request.world.window.start;
      const bounded = boundedFeed(count, start, stepMs, rows);
      const live = liveFeed({ eventsPerSecond: request.live.events_per_second, dailyCurve: request.live.daily_curve, timeZone: DEFAULT_TIME_ZONE[request.live.locale] });
      return { replay: (from) => bounded.replay(from), liveMinute: (minute) => live.liveMinute(minute) };
    },
  };
}
