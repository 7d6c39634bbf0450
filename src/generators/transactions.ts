import type { Transaction } from '../schemas/transaction.js';
import { TRANSACTION_PAYMENT_METHODS, TRANSACTION_STATUSES } from '../schemas/transaction.js';
import { EntityGenerator, longTail, money } from './entity.js';
import type { ProductGenerator } from './products.js';
import { WeightedChoice } from './random.js';
import type { SessionGenerator } from './sessions.js';
import type { ShopGenerator } from './shops.js';
import { DAY, iso } from './time.js';
import type { World } from './world.js';

type PaymentMethod = (typeof TRANSACTION_PAYMENT_METHODS)[number];
type Status = (typeof TRANSACTION_STATUSES)[number];

const QUANTITY = new WeightedChoice([[1, 70], [2, 18], [3, 7], [4, 3], [5, 2]] as const);
const PAYMENT = new WeightedChoice<PaymentMethod>([
  ['debit_card', 42], ['credit_card', 24], ['paypal', 12], ['apple_pay', 11], ['google_pay', 5], ['klarna', 6],
]);
const STATUS = new WeightedChoice<Status>([['completed', 92], ['failed', 3], ['refunded', 3], ['pending', 2]]);

/**
 * The UK store's transaction feed, numbered in time order: one product sold through an active
 * shop at the last event of a logged-in session of the customer (so user_agent and ip_address
 * are the session's, and the timestamp lies inside it). unit_price is the product's price at
 * the timestamp; subtotal = quantity x unit_price; tax is the VAT (or US sales tax) of the shop's city on the subtotal; total = subtotal + tax.
 * The endpoint serves en_GB (GBP, 20% VAT) unless the request names a locale.
 *
 * @example
 * const t = world.generator('transactions').record(0);
 * t.total === t.subtotal + t.tax; // to the penny
 */
export class TransactionGenerator extends EntityGenerator<Transaction> {
  readonly population: number;
  private readonly sessions: SessionGenerator;
  private readonly products: ProductGenerator;
  private readonly shops: ShopGenerator;

  constructor(world: World) {
    super(world, 'transactions');
    this.population = world.sizes.transactions;
    this.sessions = world.generator('sessions');
    this.products = world.generator('products');
    this.shops = world.generator('shops');
    // As orders do: render workers share this thread's price table instead of filling one each.
    this.products.sharePrices();
  }

  /**
   * The logged-in session of transaction i: spread evenly over the sessions (i's share of the
   * session index range, jittered by u ∈ [0, 1)), then the first logged-in session from there.
   * Non-decreasing in i: both steps are monotone. Every block of five sessions has a checkout
   * session, which is always logged in, so the walk is short.
   */
  private sessionOf(i: number, u: number): number {
    const sessions = this.sessions.population;
    let s = Math.min(sessions - 1, Math.floor(((i + u) * sessions) / this.population));
    while (s < sessions && this.sessions.plan(s).user < 0) s++;
    if (s < sessions) return s;
    s = sessions - 1;
    while (s > 0 && this.sessions.plan(s).user < 0) s--;
    return s;
  }

  record(i: number): Transaction {
    const { window, profile } = this.world;
    const rng = this.keyed(i);
    const session = this.sessionOf(i, rng.next());
    const plan = this.sessions.plan(session);
    // The sale is the session's last event: sessions are numbered by it, so time runs with i.
    const timestamp = plan.lastEventAt;

    // Shops sell in proportion to a long tail (the flagship first); closed shops sell nothing.
    let shop = longTail(rng.next(), this.shops.population);
    let basics = this.shops.basics(shop);
    for (let attempt = 0; !basics.active && attempt < 8; attempt++) {
      shop = rng.int(this.shops.population);
      basics = this.shops.basics(shop);
    }
    if (!basics.active) {
      shop = 0;
      basics = this.shops.basics(0);
    }

    const product = this.products.popularIndex(rng.next());
    const unit = this.products.priceAt(product, timestamp);
    const quantity = QUANTITY.draw(rng);
    const subtotal = unit * quantity;
    const tax = Math.round(subtotal * basics.place.taxRate);
    const drawn = STATUS.draw(rng);
    // Settlement takes up to a day: only the last day's transactions can still be pending.
    const status = drawn === 'pending' && timestamp < window.end - DAY ? 'completed' : drawn;
    const { client, ip } = this.sessions.client(session);
    return {
      transaction_id: this.idOf(i),
      customer_id: this.world.generator('users').idOf(plan.user),
      product_id: this.products.idOf(product),
      shop_id: this.shops.idOf(shop),
      quantity,
      unit_price: money(unit),
      subtotal: money(subtotal),
      tax: money(tax),
      total: money(subtotal + tax),
      payment_method: PAYMENT.draw(rng),
      status,
      timestamp: iso(timestamp),
      session_id: this.sessions.idOf(session),
      user_agent: client.userAgent,
      ip_address: ip,
      currency: profile.currency as Transaction['currency'],
    };
  }
}
