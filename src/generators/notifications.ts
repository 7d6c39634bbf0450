import type { Notification } from '../schemas/notification.js';
import { NOTIFICATION_CHANNELS, NOTIFICATION_TYPES } from '../schemas/notification.js';
import type { User } from '../schemas/user.js';
import { DEPARTMENTS } from './catalogue.js';
import { ChildGenerator } from './child-index.js';
import { isPlural, laterWithin, nounOf, spokenDate, spokenMoney } from './engagement-text.js';
import { RecordCache } from './entity.js';
import type { OrderGenerator } from './orders.js';
import { Rng, WeightedChoice, tagOf } from './random.js';
import { DAY, HOUR, MINUTE, iso, laterBy } from './time.js';
import type { UserGenerator } from './users.js';
import type { WishlistGenerator } from './wishlists.js';
import type { World } from './world.js';

type Type = (typeof NOTIFICATION_TYPES)[number];
type Channel = (typeof NOTIFICATION_CHANNELS)[number];

/** The review request goes out this long after delivery. */
export const REVIEW_REQUEST_DELAY = 3 * DAY;
/** Marketing campaigns: the first 4 days into the window at 10:00, then every two weeks. */
const CAMPAIGN_OFFSET = 4 * DAY + 10 * HOUR;
const CAMPAIGN_EVERY = 14 * DAY;

const SALT_USER = tagOf('user-notifications');
const SALT_CAMPAIGN = tagOf('campaign');

const one = (channel: Channel) => new WeightedChoice<Channel>([[channel, 1]]);
const CHANNELS: Record<Type, WeightedChoice<Channel>> = {
  order_confirmation: one('email'),
  payment_failed: new WeightedChoice<Channel>([['email', 70], ['push', 20], ['sms', 10]]),
  order_cancelled: one('email'),
  shipping_update: new WeightedChoice<Channel>([['email', 50], ['push', 35], ['sms', 15]]),
  delivered: new WeightedChoice<Channel>([['push', 45], ['email', 30], ['sms', 25]]),
  return_update: one('email'),
  review_request: new WeightedChoice<Channel>([['email', 80], ['in_app', 20]]),
  welcome: one('email'),
  password_reset: one('email'),
  promotion: new WeightedChoice<Channel>([['email', 70], ['push', 20], ['in_app', 10]]),
  back_in_stock: new WeightedChoice<Channel>([['email', 55], ['push', 45]]),
};
/** Chance the customer opens it, and the longest delay before they do. */
const READ: Record<Channel, readonly [chance: number, within: number]> = {
  email: [0.55, 3 * DAY],
  sms: [0.9, 2 * HOUR],
  push: [0.65, 12 * HOUR],
  in_app: [0.75, 4 * DAY],
};
const THEMES = ['Spring sale', 'Summer sale', 'Weekend deals', 'Flash sale', 'New season favourites', 'Members-only offers', 'Clearance', 'Just for you'];

type Slot = readonly [type: Type, at: number];

/**
 * Notifications sent to customers, as children of orders and then of users (O(1) per record).
 * An order yields one notification per lifecycle event of its plan, sent at exactly that
 * moment: order_confirmation at checkout, payment_failed (declined payments), order_cancelled,
 * shipping_update at shipping, delivered at delivery, return_update at the return request, and
 * a review_request three days after delivery (unless a return came first). A user yields a
 * welcome at sign-up, sometimes a password_reset and, only with marketing_opt_in, every
 * fortnightly promotion campaign after sign-up and a back_in_stock alert for a product on their
 * wishlist. read_at is null or after sent_at, inside the window.
 *
 * @example
 * const n = new NotificationGenerator(world).record(0); // 'order_confirmation' at orders[0].created_at
 */
export class NotificationGenerator extends ChildGenerator<Notification> {
  protected readonly parents: number;
  private readonly orders: OrderGenerator;
  private readonly users: UserGenerator;
  private readonly wishlists: WishlistGenerator;
  private readonly orderCount: number;
  private readonly userRecords: RecordCache<User>;
  private readonly lookupRng = new Rng();
  private readonly campaignRng = new Rng();
  private readonly slotBuffer: Slot[] = [];

  constructor(world: World) {
    super(world, 'notifications');
    this.orders = world.generator('orders');
    this.users = world.generator('users');
    this.wishlists = world.generator('wishlists');
    this.orderCount = this.orders.population;
    this.parents = this.orderCount + this.users.population;
    this.userRecords = new RecordCache((j) => this.users.record(j), this.users.population, 16_384);
  }

  protected childCount(parent: number): number {
    return parent < this.orderCount ? this.orderSlots(parent).length : this.userSlots(parent - this.orderCount).count;
  }

  protected child(parent: number, k: number, i: number): Notification {
    return parent < this.orderCount ? this.orderNotification(parent, k, i) : this.userNotification(parent - this.orderCount, k, i);
  }

  /** The lifecycle events of order o that notify the customer, from its plan. */
  private orderSlots(order: number): readonly Slot[] {
    const { end } = this.world.window;
    const plan = this.orders.plan(order);
    const slots = this.slotBuffer;
    slots.length = 0;
    slots.push(['order_confirmation', plan.createdAt]);
    if (plan.paymentStatus === 'failed') slots.push(['payment_failed', plan.paymentAt as number]);
    else if (plan.cancelledAt !== null) slots.push(['order_cancelled', plan.cancelledAt]);
    if (plan.shippedAt !== null) slots.push(['shipping_update', plan.shippedAt]);
    if (plan.deliveredAt !== null) {
      slots.push(['delivered', plan.deliveredAt]);
      const ask = plan.deliveredAt + REVIEW_REQUEST_DELAY;
      if (ask < end && !(plan.returnLine >= 0 && plan.returnRequestedAt <= ask)) slots.push(['review_request', ask]);
    }
    if (plan.returnLine >= 0) slots.push(['return_update', plan.returnRequestedAt]);
    return slots;
  }

  /** Campaigns are shared by all recipients: campaign c's send time. */
  private campaignAt(c: number): number {
    return this.world.window.start + CAMPAIGN_OFFSET + c * CAMPAIGN_EVERY;
  }

  /** User j's own notifications: which kinds, and (for the random ones) when. */
  private userSlots(user: number): {
    count: number;
    reset: number | null;
    backInStock: number | null;
    firstCampaign: number;
    campaigns: number;
  } {
    const { end } = this.world.window;
    const signedUp = this.users.createdAt(user);
    const rng = this.lookupRng.key(this.world.seed, this.tag, user, SALT_USER);
    const reset = rng.chance(0.12) ? laterWithin(rng, signedUp, HOUR, 300 * DAY, end) : null;
    let backInStock: number | null = null;
    let firstCampaign = 0;
    let campaigns = 0;
    const wantsBackInStock = rng.chance(0.35);
    if (this.userRecords.get(user).marketing_opt_in) {
      const first = this.campaignAt(0);
      firstCampaign = signedUp < first ? 0 : Math.floor((signedUp - first) / CAMPAIGN_EVERY) + 1;
      const total = end <= first ? 0 : Math.ceil((end - first) / CAMPAIGN_EVERY);
      campaigns = Math.max(0, total - firstCampaign);
      const wished = this.wishlists.entries(user)[0];
      if (wished && wantsBackInStock) backInStock = laterBy(rng, wished.addedAt, HOUR, 20 * DAY);
      if (backInStock !== null && backInStock >= end) backInStock = null;
    }
    const count = 1 + (reset === null ? 0 : 1) + (backInStock === null ? 0 : 1) + campaigns;
    return { count, reset, backInStock, firstCampaign, campaigns };
  }

  private readAt(rng: Rng, channel: Channel, type: Type, sentAt: number): string | null {
    const [chance, within] = READ[channel];
    const p = type === 'promotion' ? chance * 0.4 : type === 'password_reset' ? 0.95 : chance;
    if (!rng.chance(p)) return null;
    const at = laterBy(rng, sentAt, 30_000, within);
    return at < this.world.window.end ? iso(at) : null;
  }

  /** The record both kinds of notification share; read_at is the last draw of the record. */
  private notification(
    i: number,
    rng: Rng,
    userId: string,
    orderId: string | null,
    productIndex: number | null,
    type: Type,
    channel: Channel,
    title: string,
    message: string,
    sentAt: number,
  ): Notification {
    return {
      notification_id: this.idOf(i),
      user_id: userId,
      order_id: orderId,
      product_id: productIndex === null ? null : this.world.generator('products').idOf(productIndex),
      type,
      channel,
      title,
      message,
      sent_at: iso(sentAt),
      read_at: this.readAt(rng, channel, type, sentAt),
    };
  }

  private orderNotification(order: number, k: number, i: number): Notification {
    const [type, sentAt] = this.orderSlots(order)[k] as Slot;
    const plan = this.orders.plan(order);
    const record = this.orders.record(order);
    const products = this.world.generator('products');
    const country = this.world.profile.country;
    const num = record.order_number;
    const rng = this.keyed(i);
    const channel = CHANNELS[type].draw(rng);
    let productIndex: number | null = null;
    let title: string;
    let message: string;
    switch (type) {
      case 'order_confirmation': {
        const items = plan.lines === 1 ? '1 item' : `${plan.lines} items`;
        title = `Order ${num} confirmed`;
        message = `Thanks for your order ${num} (${items}, ${spokenMoney(record.total, record.currency)}). We will let you know when it ships.`;
        break;
      }
      case 'payment_failed':
        title = `Payment failed for order ${num}`;
        message = `Your payment for order ${num} was declined, so the order has been cancelled. No money was taken.`;
        break;
      case 'order_cancelled':
        title = `Order ${num} cancelled`;
        message = `Your order ${num} has been cancelled. Your payment of ${spokenMoney(record.total, record.currency)} will be refunded within 5 working days.`;
        break;
      case 'shipping_update':
        title = `Order ${num} has shipped`;
        message = `Good news: order ${num} has shipped and should arrive by ${spokenDate(plan.estimatedDeliveryAt, country)}.`;
        break;
      case 'delivered':
        title = `Order ${num} delivered`;
        message = `Your order ${num} has been delivered. Enjoy your purchase!`;
        break;
      case 'return_update': {
        productIndex = this.orders.lineProducts(order)[plan.returnLine] as number;
        const name = products.facts(productIndex).name;
        title = `Return request received for ${num}`;
        message = `We have received your return request for the ${name} from order ${num}. We will email you once it has been processed.`;
        break;
      }
      default: {
        // review_request: about one of the delivered lines.
        productIndex = this.orders.lineProducts(order)[rng.int(plan.lines)] as number;
        const noun = nounOf(products.facts(productIndex).name);
        title = `What do you think of your ${noun}?`;
        message = `How are you getting on with your ${products.facts(productIndex).name}? Leave a review of order ${num} and help other customers choose.`;
      }
    }
    return this.notification(i, rng, record.user_id, record.order_id, productIndex, type, channel, title, message, sentAt);
  }

  private userNotification(user: number, k: number, i: number): Notification {
    const { end } = this.world.window;
    const slots = this.userSlots(user);
    const person = this.userRecords.get(user);
    const products = this.world.generator('products');
    const rng = this.keyed(i);
    let type: Type;
    let sentAt: number;
    let title: string;
    let message: string;
    let productIndex: number | null = null;
    let slot = k;
    if (slot === 0) {
      type = 'welcome';
      sentAt = this.users.createdAt(user);
      title = `Welcome, ${person.first_name}!`;
      message = `Welcome aboard, ${person.first_name}! Your account is ready: track orders, keep a wishlist and check out faster.`;
    } else if (slots.reset !== null && --slot === 0) {
      type = 'password_reset';
      sentAt = slots.reset;
      title = 'Reset your password';
      message = 'We received a request to reset your password. The link is valid for 30 minutes; if it was not you, ignore this message.';
    } else if (slots.backInStock !== null && --slot === 0) {
      type = 'back_in_stock';
      sentAt = slots.backInStock;
      productIndex = (this.wishlists.entries(user)[0] as { product: number }).product;
      const name = products.facts(productIndex).name;
      title = `Back in stock: ${name}`;
      message = `Good news: the ${name} on your wishlist ${isPlural(nounOf(name)) ? 'are' : 'is'} back in stock. Order soon, stock is limited.`;
    } else {
      type = 'promotion';
      const c = slots.firstCampaign + slot - 1;
      const at = this.campaignAt(c);
      // A campaign goes out in batches over two hours.
      sentAt = Math.min(end - 1, at + rng.int(2 * HOUR) + MINUTE);
      const campaign = this.campaignRng.key(this.world.seed, this.tag, c, SALT_CAMPAIGN);
      const theme = campaign.pick(THEMES);
      const department = campaign.pick(DEPARTMENTS).name;
      const percent = campaign.pick([10, 15, 20, 25, 30, 40]);
      title = `${theme}: up to ${percent}% off ${department}`;
      message = `${theme}! Save up to ${percent}% on ${department} until ${spokenDate(at + 4 * DAY, this.world.profile.country)}. Shop now while stocks last.`;
    }
    const channel = CHANNELS[type].draw(rng);
    return this.notification(i, rng, person.user_id, null, productIndex, type, channel, title, message, sentAt);
  }
}
