import type { SupportTicket } from '../schemas/support-ticket.js';
import { TICKET_CATEGORIES, TICKET_CHANNELS, TICKET_PRIORITIES } from '../schemas/support-ticket.js';
import { ChildGenerator } from './child-index.js';
import { fill, laterWithin, nounOf } from './engagement-text.js';
import type { OrderGenerator, OrderPlan } from './orders.js';
import { Rng, WeightedChoice, tagOf } from './random.js';
import { DAY, HOUR, MINUTE, busyMoment, iso } from './time.js';
import type { World } from './world.js';

type Category = (typeof TICKET_CATEGORIES)[number];
type Priority = (typeof TICKET_PRIORITIES)[number];
type Channel = (typeof TICKET_CHANNELS)[number];

/** Tickets not about an order (account, technical, general product questions) per user. */
const UNLINKED_PER_USER = 0.06;
const SALT_RAISE = tagOf('ticket-raised');

const CHANNEL = new WeightedChoice<Channel>([['email', 38], ['chat', 30], ['phone', 15], ['web_form', 12], ['social', 5]]);
/** How quickly an agent first replies, by channel: [min, max] ms. */
const FIRST_REPLY: Record<Channel, readonly [number, number]> = {
  email: [20 * MINUTE, 2 * DAY],
  chat: [MINUTE, 20 * MINUTE],
  phone: [0, 5 * MINUTE],
  web_form: [30 * MINUTE, 2 * DAY],
  social: [10 * MINUTE, DAY],
};
const PRIORITIES: Record<Category, WeightedChoice<Priority>> = {
  delivery: new WeightedChoice<Priority>([['low', 10], ['medium', 55], ['high', 30], ['urgent', 5]]),
  refund: new WeightedChoice<Priority>([['low', 8], ['medium', 50], ['high', 35], ['urgent', 7]]),
  payment: new WeightedChoice<Priority>([['low', 5], ['medium', 40], ['high', 42], ['urgent', 13]]),
  order_change: new WeightedChoice<Priority>([['low', 10], ['medium', 45], ['high', 40], ['urgent', 5]]),
  product_question: new WeightedChoice<Priority>([['low', 55], ['medium', 40], ['high', 5], ['urgent', 0]]),
  account: new WeightedChoice<Priority>([['low', 35], ['medium', 45], ['high', 17], ['urgent', 3]]),
  technical: new WeightedChoice<Priority>([['low', 25], ['medium', 50], ['high', 20], ['urgent', 5]]),
};
const UNLINKED = new WeightedChoice<Category>([['account', 40], ['technical', 28], ['product_question', 32]]);

const SUBJECTS: Record<Category, readonly string[]> = {
  delivery: ['Where is my order {order}?', 'Order {order} has not arrived yet', 'Tracking for {order} has not updated', 'Still waiting for order {order}'],
  refund: ['Refund for order {order}', 'When will I get my refund for {order}?', 'Refund status for order {order}', 'Money back for {order}?'],
  payment: ['Payment declined for order {order}', 'Card payment failed on {order}', 'Why was my payment for {order} refused?'],
  order_change: ['Change delivery address for {order}', 'Can I cancel order {order}?', 'Add an item to order {order}', 'Change delivery option on {order}'],
  product_question: ['Question about the {noun}', 'Does the {noun} come with a warranty?', 'How do I set up the {noun}?', 'Is the {noun} available in other sizes?'],
  account: ['Cannot log in to my account', 'Password reset email not received', 'Please update my email address', 'Please close my account', 'Unsubscribe me from marketing emails'],
  technical: ['Checkout page keeps loading', 'App crashes when I open my {basket}', 'Discount code not applied at checkout', 'Error when adding items to my {basket}', 'Website very slow on mobile'],
};
const CHARGED_TWICE = ['I was charged twice for {order}', 'Payment taken twice for order {order}'];
const ARRIVED_LATE = ['Order {order} arrived late', 'Order {order} arrived days after the promised date'];

/** Satisfaction by how long the customer waited for a resolution. */
const SATISFACTION = {
  fast: new WeightedChoice<number>([[5, 55], [4, 28], [3, 9], [2, 4], [1, 4]]),
  slow: new WeightedChoice<number>([[5, 25], [4, 28], [3, 20], [2, 12], [1, 15]]),
  refused: new WeightedChoice<number>([[5, 8], [4, 12], [3, 20], [2, 25], [1, 35]]),
};

/** What an order's ticket is about and the event it cannot precede. */
interface Raised {
  readonly category: Category;
  /** The ticket is created after this moment (epoch ms, inside the window). */
  readonly after: number;
  /** How long after `after` the customer gets in touch: [min, max] ms. */
  readonly delay: readonly [number, number];
  /** The ticket is created no later than this (an order change before shipping). */
  readonly before?: number;
}

/**
 * Customer support tickets. First, at most one ticket per order, raised with a chance that
 * follows what went wrong (a return: usually a refund ticket after the request; a declined
 * payment; a parcel past its promised date; otherwise a small chance of a question, a change
 * before shipping, or a "where is it" after shipping): about 8-9% of orders. Then tickets with
 * no order (0.06 per user: account, technical, product questions) after the customer's sign-up.
 * Status is where the ticket stands at the window end; resolved_at is set only when resolved.
 *
 * @example
 * const t = new SupportTicketGenerator(world).record(0); // t.order_id !== null, t.created_at >= order.created_at
 */
export class SupportTicketGenerator extends ChildGenerator<SupportTicket> {
  protected readonly parents: number;
  private readonly orders: OrderGenerator;
  private readonly orderCount: number;
  private readonly lookupRng = new Rng();

  constructor(world: World) {
    super(world, 'support-tickets');
    this.orders = world.generator('orders');
    this.orderCount = this.orders.population;
    this.parents = this.orderCount + Math.round(world.sizes.users * UNLINKED_PER_USER);
  }

  protected childCount(parent: number): number {
    return parent >= this.orderCount || this.raised(parent) !== null ? 1 : 0;
  }

  /** Whether order o raised a ticket, about what, and after which event (a replayable keyed draw). */
  private raised(order: number): Raised | null {
    const plan = this.orders.plan(order);
    const rng = this.lookupRng.key(this.world.seed, this.tag, order, SALT_RAISE);
    const u = rng.next();
    if (plan.returnLine >= 0 && u < 0.45) return { category: 'refund', after: plan.returnRequestedAt, delay: [HOUR, 12 * DAY] };
    if (plan.paymentStatus === 'failed' && u < 0.3) return { category: 'payment', after: plan.paymentAt as number, delay: [2 * MINUTE, DAY] };
    if (plan.cancelledAt !== null && plan.paymentStatus === 'refunded' && u < 0.12) {
      return { category: 'refund', after: plan.cancelledAt, delay: [DAY, 8 * DAY] };
    }
    if (this.overdue(plan) && u < 0.2) return { category: 'delivery', after: plan.estimatedDeliveryAt, delay: [HOUR, 3 * DAY] };
    if (u >= 0.035) return null;
    // A small share of ordinary orders: what the customer asks depends on how far the order got.
    const v = rng.next();
    if (plan.shippedAt === null || v < 0.25) {
      if (plan.cancelledAt !== null) return { category: 'product_question', after: plan.createdAt, delay: [MINUTE, HOUR] };
      return { category: 'order_change', after: plan.createdAt, delay: [2 * MINUTE, 4 * HOUR], before: plan.shippedAt ?? undefined };
    }
    if (v < 0.55) return { category: 'delivery', after: plan.shippedAt, delay: [HOUR, 2 * DAY] };
    if (v < 0.85) return { category: 'product_question', after: plan.deliveredAt ?? plan.shippedAt, delay: [HOUR, 10 * DAY] };
    return { category: 'payment', after: plan.paymentAt as number, delay: [HOUR, 5 * DAY] };
  }

  /** Shipped and past the promised date: delivered late, or still on its way after it. */
  private overdue(plan: OrderPlan): boolean {
    if (plan.shippedAt === null) return false;
    if (plan.deliveredAt !== null) return plan.deliveredAt > plan.estimatedDeliveryAt + HOUR;
    return plan.estimatedDeliveryAt + HOUR < this.world.window.end;
  }

  /**
   * The created_at of every ticket in index order (epoch ms, whole seconds, as the records show
   * it), with its parent and child number, from the same draws as the records without building
   * them: the change feed schedules tickets by it and addresses them by (parent, k) with
   * {@link recordAt}.
   */
  *createdTimes(): Generator<readonly [time: number, parent: number, k: number]> {
    const { end } = this.world.window;
    const users = this.world.generator('users');
    let i = 0;
    for (let parent = 0; parent < this.parents; parent++) {
      let createdAt: number;
      if (parent < this.orderCount) {
        const raised = this.raised(parent);
        if (raised === null) continue;
        createdAt = laterWithin(this.keyed(i), raised.after, raised.delay[0], raised.delay[1], Math.min(end, raised.before ?? end));
      } else {
        const rng = this.keyed(i);
        const user = rng.int(users.population);
        UNLINKED.draw(rng);
        createdAt = busyMoment(rng, users.createdAt(user) + MINUTE, end);
      }
      yield [Math.floor(createdAt / 1000) * 1000, parent, 0];
      i++;
    }
  }

  /** Ticket i, known to be child k of parent `parent` (no search of the index: see createdTimes). */
  recordAt(parent: number, k: number, i: number): SupportTicket {
    return this.child(parent, k, i);
  }

  protected child(parent: number, _k: number, i: number): SupportTicket {
    const { end } = this.world.window;
    const users = this.world.generator('users');
    const products = this.world.generator('products');
    const basket = this.world.profile.country === 'GB' ? 'basket' : 'cart';
    let user: number;
    let category: Category;
    let createdAt: number;
    let subject: string;
    let orderId: string | null = null;
    const rng = this.keyed(i);
    if (parent < this.orderCount) {
      const raised = this.raised(parent) as Raised;
      const plan = this.orders.plan(parent);
      const order = this.orders.record(parent);
      user = plan.user;
      category = raised.category;
      orderId = order.order_id;
      createdAt = laterWithin(rng, raised.after, raised.delay[0], raised.delay[1], Math.min(end, raised.before ?? end));
      const line = rng.int(plan.lines);
      const noun = nounOf(products.record(this.orders.lineProducts(parent)[line] as number).name);
      let template = rng.pick(SUBJECTS[category]);
      if (category === 'payment' && plan.paymentStatus !== 'failed') template = rng.pick(CHARGED_TWICE);
      if (category === 'delivery' && plan.deliveredAt !== null && plan.deliveredAt <= createdAt) template = rng.pick(ARRIVED_LATE);
      subject = fill(template, noun, { order: order.order_number, basket });
    } else {
      user = rng.int(users.population);
      category = UNLINKED.draw(rng);
      createdAt = busyMoment(rng, users.createdAt(user) + MINUTE, end);
      const noun = nounOf(products.record(products.popularIndex(rng.next())).name);
      subject = fill(rng.pick(SUBJECTS[category]), noun, { basket });
    }

    const channel = CHANNEL.draw(rng);
    const priority = PRIORITIES[category].draw(rng);
    const [minReply, maxReply] = FIRST_REPLY[channel];
    const replyAt = createdAt + minReply + Math.floor(rng.next() * (maxReply - minReply)) + 1000;
    // Urgent work is resolved sooner; a few tickets drag on for weeks.
    const slowest = priority === 'urgent' ? DAY : priority === 'high' ? 3 * DAY : rng.chance(0.1) ? 21 * DAY : 6 * DAY;
    const u = rng.next();
    const resolvedAt = replyAt + 10 * MINUTE + Math.floor(u * u * slowest);
    let status: SupportTicket['status'];
    // open: support's turn (new, or the customer answered); pending: waiting on the customer.
    if (replyAt >= end) status = 'open';
    else if (resolvedAt >= end) status = rng.chance(0.6) ? 'pending' : 'open';
    else status = resolvedAt + 3 * DAY < end && rng.chance(0.7) ? 'closed' : 'resolved';
    const done = status === 'resolved' || status === 'closed';
    let satisfaction: number | null = null;
    if (done && rng.chance(0.55)) {
      const refused = (category === 'refund' || category === 'payment') && rng.chance(0.15);
      satisfaction = (refused ? SATISFACTION.refused : resolvedAt - createdAt < DAY ? SATISFACTION.fast : SATISFACTION.slow).draw(rng);
    }
    return {
      ticket_id: this.idOf(i),
      ticket_number: `TKT-${String(i + 1).padStart(7, '0')}`,
      user_id: users.idOf(user),
      order_id: orderId,
      category,
      priority,
      status,
      channel,
      subject,
      created_at: iso(createdAt),
      first_response_at: replyAt < end ? iso(replyAt) : null,
      resolved_at: done ? iso(resolvedAt) : null,
      satisfaction_score: satisfaction,
    };
  }
}
