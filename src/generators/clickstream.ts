import type { ClickstreamEvent } from '../schemas/clickstream.js';
import { ChildGenerator } from './child-index.js';
import { RecordCache } from './entity.js';
import type { SessionGenerator } from './sessions.js';
import { iso } from './time.js';
import type { World } from './world.js';

/**
 * Clickstream events, flat, in order of their sessions: landing page, category pages and
 * searches, product views with cart adds, the cart page with removals, then CHECKOUT and (in
 * a checkout session only) PURCHASE of its order at the order's created_at. A checkout
 * session adds every product of its order to the cart; products added and removed again are
 * never in the order. Times never decrease along the sequence and stay inside the session.
 *
 * @example
 * const events = world.generator('clickstream');
 * events.record(0).sequence_number; // 1: the landing page of session 0
 */
export class ClickstreamGenerator extends ChildGenerator<ClickstreamEvent> {
  private readonly sessions: SessionGenerator;
  protected readonly parents: number;
  // The ids a click copies from its session, user and product, remembered (bounded): a session's
  // ~8 clicks share them, and the change feed interleaves a few hundred sessions at a time.
  private readonly sessionIds: RecordCache<string>;
  private readonly userIds: RecordCache<string>;
  private readonly productIds: RecordCache<string>;

  constructor(world: World) {
    super(world, 'clickstream');
    this.sessions = world.generator('sessions');
    this.parents = this.sessions.population;
    const users = world.generator('users');
    const products = world.generator('products');
    this.sessionIds = new RecordCache((i) => this.sessions.idOf(i), this.parents, 4096);
    this.userIds = new RecordCache((i) => users.idOf(i), users.population);
    this.productIds = new RecordCache((i) => products.idOf(i), products.population);
  }

  protected childCount(session: number): number {
    // Counted from the plan's first draws alone: the child index counts every session.
    return this.sessions.eventCount(session);
  }

  protected child(session: number, k: number): ClickstreamEvent {
    const plan = this.sessions.plan(session);
    const event = this.sessions.script(session)[k];
    if (!event) throw new RangeError(`session ${session} has no event ${k}`);
    return {
      event_id: this.ids.uuid(session, k + 1),
      session_id: this.sessionIds.get(session),
      user_id: plan.user >= 0 ? this.userIds.get(plan.user) : null,
      event_type: event.type,
      page_url: event.url,
      product_id: event.product >= 0 ? this.productIds.get(event.product) : null,
      search_query: event.query,
      order_id: event.type === 'PURCHASE' ? this.world.generator('orders').idOf(plan.order) : null,
      sequence_number: k + 1,
      occurred_at: iso(event.at),
    };
  }

  /** Event ids are keyed by (session, position), like order lines. */
  override idOf(i: number): string {
    const [session, k] = this.locate(i);
    return this.ids.uuid(session, k + 1);
  }
}
