/**
 * The feed holds a support ticket from its opening to its last event instead of building it for
 * each of its events (src/events/feed.ts, FeedWorld.holdTicket): every ticket event's row is the
 * ticket a fresh generator builds, with the stage's fields, and the holds are dropped by time.
 */
import t from 'tap';
import { FeedMerge, FeedWorld, feedEvents, prepareFeed } from '../../src/events/feed.js';
import { World } from '../../src/generators/world.js';
import { worldSpecFrom } from '../../src/routes/world-query.js';
import type { SupportTicket } from '../../src/schemas/support-ticket.js';

const spec = { seed: 11, users: 400, vendors: 4, warehouses: 2, products: 60, orders: 2000, shops: 2, suppliers: 4, transactions: 10 };

t.test("every ticket event's row is the fresh ticket at that stage", async (t) => {
  const world = World.of(worldSpecFrom(spec));
  await prepareFeed(world);
  // Another world of the same spec: its generator never sees the feed's holds.
  const fresh = World.of(worldSpecFrom(spec)).generator('support-tickets');
  const byId = new Map<string, SupportTicket>();
  for (let i = 0; i < fresh.population; i++) {
    const ticket = fresh.record(i);
    byId.set(ticket.ticket_id, ticket);
  }
  const seen = new Map<string, number>();
  for (const event of feedEvents(world)) {
    if (!event.event_type.startsWith('support_ticket.')) continue;
    const row = event.data as SupportTicket;
    const ticket = byId.get(row.ticket_id);
    if (!ticket) {
      t.fail(`${row.ticket_id} is not a ticket of the world`);
      continue;
    }
    seen.set(event.event_type, (seen.get(event.event_type) ?? 0) + 1);
    const expected =
      event.event_type === 'support_ticket.opened'
        ? { ...ticket, status: 'open', first_response_at: null, resolved_at: null, satisfaction_score: null }
        : event.event_type === 'support_ticket.answered'
          ? { ...ticket, status: ticket.status === 'open' ? 'open' : 'pending', resolved_at: null, satisfaction_score: null }
          : event.event_type === 'support_ticket.resolved'
            ? { ...ticket, status: 'resolved' }
            : ticket;
    if (JSON.stringify(row) !== JSON.stringify(expected)) t.fail(`${event.event_type} of ${row.ticket_id}: ${JSON.stringify(row)} against ${JSON.stringify(expected)}`);
  }
  for (const type of ['support_ticket.opened', 'support_ticket.answered', 'support_ticket.resolved', 'support_ticket.closed']) {
    t.ok((seen.get(type) ?? 0) > 0, `${seen.get(type) ?? 0} ${type} events compared`);
  }
});

t.test('a held ticket is the fresh one, and a ticket past its last event is dropped', async (t) => {
  const world = World.of(worldSpecFrom(spec));
  await prepareFeed(world);
  const feed = FeedWorld.of(world);
  const merge = new FeedMerge(feed);
  const fresh = World.of(worldSpecFrom(spec)).generator('support-tickets');
  const ticket = fresh.record(0);
  const [parent, k] = fresh.locate(0);
  feed.holdTicket(0, ticket, 1000);
  t.equal(feed.ticket(0, parent, k), ticket, 'held: the very object');
  feed.releaseBefore(1000);
  t.equal(feed.ticket(0, parent, k), ticket, 'still held at its last event');
  feed.releaseBefore(1001);
  const rebuilt = feed.ticket(0, parent, k);
  t.not(rebuilt, ticket, 'dropped after it: built again');
  t.same(rebuilt, ticket, 'the same row');
  t.ok(merge.next(), 'the merge walks');
});
