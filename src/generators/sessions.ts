import type { Session } from '../schemas/session.js';
import { LEAF_CATEGORY_INDEXES } from './catalogue.js';
import { EntityGenerator, RecordCache, longTail } from './entity.js';
import type { OrderGenerator } from './orders.js';
import type { ProductGenerator } from './products.js';
import { Rng, WeightedChoice, tagOf } from './random.js';
import { iso } from './time.js';
import type { UserGenerator } from './users.js';
import { drawClient, drawIp, homeIp, type Client } from './web.js';
import type { World } from './world.js';

/** Browsing sessions per order: sessions = 5 x orders, so one session in five converts. */
export const BROWSING_SESSIONS_PER_ORDER = 4;
/** Sessions per order: block o (sessions 5o..5o+4) holds order o's checkout session. */
export const SESSIONS_PER_ORDER = 1 + BROWSING_SESSIONS_PER_ORDER;
/** Share of browsing sessions that are logged in: with the checkout sessions, 60% overall. */
const BROWSING_LOGGED_IN = 0.5;

export type ClickstreamEventType = 'PAGE_VIEW' | 'SEARCH' | 'PRODUCT_VIEW' | 'CART_ADD' | 'CART_REMOVE' | 'CHECKOUT' | 'PURCHASE';
type Landing = 'home' | 'category' | 'product';

/**
 * The skeleton of session i: who, when, where it came from and how many events of each kind
 * it has, decided from a dozen keyed draws (and, for a checkout session, its order's plan).
 * The clickstream's per-session event count is read from it, so it must stay cheap.
 */
export interface SessionPlan {
  /** The order placed in the session (checkout sessions: order i), or -1. */
  readonly order: number;
  /** The logged-in user, or -1 for a guest. */
  readonly user: number;
  readonly startedAt: number;
  /** The last event (a checkout session's PURCHASE, at the order's created_at). */
  readonly lastEventAt: number;
  readonly endedAt: number;
  readonly channel: number;
  readonly landing: Landing;
  /** Category PAGE_VIEWs and SEARCHes before the products. */
  readonly pages: number;
  readonly searches: number;
  /** Products of the order: viewed, added to the cart and bought. */
  readonly lines: number;
  /** Other products added to the cart; the first `removes` of them are removed again. */
  readonly extras: number;
  readonly removes: number;
  /** Products only viewed. */
  readonly views: number;
  /** A CHECKOUT event (always in checkout sessions; abandoned checkouts in browsing ones). */
  readonly checkout: boolean;
  /** Number of clickstream events. */
  readonly events: number;
}

/** One clickstream event of a session, before ids are attached. */
export interface ScriptEvent {
  readonly type: ClickstreamEventType;
  readonly url: string;
  /** Product index, or -1. */
  readonly product: number;
  readonly query: string | null;
  readonly at: number;
}

interface Channel {
  readonly weight: number;
  readonly landing: WeightedChoice<Landing>;
}

// Where visits come from: direct, organic search, paid search, social, e-mail, affiliate, referral.
const CHANNELS: readonly Channel[] = [
  { weight: 30, landing: new WeightedChoice<Landing>([['home', 70], ['product', 18], ['category', 12]]) },
  { weight: 27, landing: new WeightedChoice<Landing>([['product', 50], ['category', 35], ['home', 15]]) },
  { weight: 12, landing: new WeightedChoice<Landing>([['product', 65], ['category', 35]]) },
  { weight: 12, landing: new WeightedChoice<Landing>([['product', 60], ['category', 30], ['home', 10]]) },
  { weight: 11, landing: new WeightedChoice<Landing>([['category', 50], ['product', 40], ['home', 10]]) },
  { weight: 5, landing: new WeightedChoice<Landing>([['product', 80], ['category', 20]]) },
  { weight: 3, landing: new WeightedChoice<Landing>([['product', 60], ['home', 40]]) },
];
const CHANNEL = new WeightedChoice(CHANNELS.map((c, k) => [k, c.weight] as const));
const [DIRECT, ORGANIC, PAID, SOCIAL, EMAIL, AFFILIATE] = [0, 1, 2, 3, 4, 5];

const counts = (weights: readonly number[]) => new WeightedChoice(weights.map((w, k) => [k, w] as const));
const CHECKOUT_PAGES = counts([35, 30, 20, 10, 5]);
const CHECKOUT_SEARCHES = counts([50, 35, 15]);
const CHECKOUT_VIEWS = counts([30, 25, 20, 12, 8, 5]);
const BROWSE_PAGES = counts([25, 30, 22, 13, 10]);
const BROWSE_SEARCHES = counts([60, 28, 12]);
const BROWSE_PRODUCTS = counts([0, 22, 22, 18, 13, 10, 7, 5, 3]);

// Seconds spent on a page before the next event, by the kind of page (scaled by a draw).
const DWELL: Record<ClickstreamEventType, number> = {
  PAGE_VIEW: 40, SEARCH: 25, PRODUCT_VIEW: 60, CART_ADD: 12, CART_REMOVE: 10, CHECKOUT: 150, PURCHASE: 30,
};

const SEASONAL = [
  'january_sale', 'valentines', 'spring_sale', 'easter', 'spring_deals', 'summer_sale',
  'summer_sale', 'back_to_school', 'autumn_collection', 'halloween', 'black_friday', 'christmas_gifts',
];

interface Referrals {
  readonly engines: WeightedChoice<readonly [referrer: string, source: string]>;
  readonly social: WeightedChoice<readonly [referrer: string, source: string]>;
  readonly affiliates: readonly (readonly [referrer: string, source: string])[];
  readonly sites: readonly string[];
}

const REFERRALS: Record<'GB' | 'US', Referrals> = {
  GB: {
    engines: new WeightedChoice([[['https://www.google.co.uk/', 'google'], 85], [['https://www.bing.com/', 'bing'], 10], [['https://duckduckgo.com/', 'duckduckgo'], 5]] as const),
    social: new WeightedChoice([[['https://www.facebook.com/', 'facebook'], 40], [['https://www.instagram.com/', 'instagram'], 35], [['https://www.tiktok.com/', 'tiktok'], 20], [['https://uk.pinterest.com/', 'pinterest'], 5]] as const),
    affiliates: [['https://www.hotukdeals.com/', 'hotukdeals'], ['https://www.quidco.com/', 'quidco'], ['https://www.topcashback.co.uk/', 'topcashback']],
    sites: ['https://www.reddit.com/', 'https://www.which.co.uk/', 'https://www.theguardian.com/'],
  },
  US: {
    engines: new WeightedChoice([[['https://www.google.com/', 'google'], 85], [['https://www.bing.com/', 'bing'], 10], [['https://duckduckgo.com/', 'duckduckgo'], 5]] as const),
    social: new WeightedChoice([[['https://www.facebook.com/', 'facebook'], 40], [['https://www.instagram.com/', 'instagram'], 35], [['https://www.tiktok.com/', 'tiktok'], 20], [['https://www.pinterest.com/', 'pinterest'], 5]] as const),
    affiliates: [['https://slickdeals.net/', 'slickdeals'], ['https://www.rakuten.com/', 'rakuten'], ['https://www.retailmenot.com/', 'retailmenot']],
    sites: ['https://www.reddit.com/', 'https://www.nytimes.com/wirecutter/', 'https://www.consumerreports.org/'],
  },
};

const SALT_PLAN = tagOf('plan');
const SALT_SCRIPT = tagOf('script');

/** An event without its time yet (set once the whole session is laid out). */
function event(type: ClickstreamEventType, url: string, product = -1, query: string | null = null): ScriptEvent {
  return { type, url, product, query, at: 0 };
}

const floorSec = (ms: number) => Math.floor(ms / 1000) * 1000;
const ceilSec = (ms: number) => Math.ceil(ms / 1000) * 1000;

/** What a shopper types to find a product: its noun, maybe with the brand or adjective. */
function searchQuery(rng: Rng, product: { readonly name: string; readonly brand: string }): string {
  const rest = product.name.slice(product.brand.length + 1).replace(/ [A-Z][1-9]$/, '');
  const space = rest.indexOf(' ');
  const noun = rest.slice(space + 1);
  const u = rng.next();
  const query = u < 0.5 ? noun : u < 0.8 ? `${product.brand} ${noun}` : rest;
  return query.toLowerCase();
}

/**
 * Website and app sessions, numbered in the order of their last event (for a checkout session,
 * the purchase): session i+1 never ends its browsing before session i. Sessions come in blocks
 * of five per order: block o (sessions 5o..5o+4) holds order o's checkout session (logged in
 * as the order's customer, its PURCHASE at the order's created_at, ending shortly after) and
 * four browsing sessions whose last events share order o's slot on the orders timeline, so
 * traffic follows the orders' daily curve, week and season. The checkout session's place in
 * its block follows where the order fell in its slot. Half the browsing sessions are logged in
 * (60% overall), as a customer who had signed up before the session started; they never
 * purchase. Every time is a whole second inside the window.
 *
 * @example
 * const s = world.generator('sessions');
 * s.record(s.checkoutSessionOf(0)).order_id === world.generator('orders').idOf(0);
 */
export class SessionGenerator extends EntityGenerator<Session> {
  readonly population: number;
  private readonly orders: OrderGenerator;
  private readonly users: UserGenerator;
  private readonly products: ProductGenerator;
  private readonly planRng = new Rng();
  private readonly lookupRng = new Rng();
  private readonly scriptRng = new Rng();
  private readonly plans: RecordCache<SessionPlan>;
  private readonly scripts: RecordCache<readonly ScriptEvent[]>;
  private readonly categoryUrls: readonly string[];
  private readonly productUrls: RecordCache<string>;
  /** Scratch: the draws of a plan up to its event count (see drawShape). */
  private readonly shape = {
    block: 0, slot: 0, checkoutSession: false, channel: 0, landing: 'home' as Landing, pages: 0, searches: 0, lines: 0,
    extras: 0, removes: 0, views: 0, checkout: false, bounce: false, events: 0,
  };
  /** Scratch space for event times while a script is laid out. */
  private offsets = new Float64Array(64);
  private readonly firstSecond: number;
  private readonly lastSecond: number;

  constructor(world: World) {
    super(world, 'sessions');
    this.orders = world.generator('orders');
    this.users = world.generator('users');
    this.products = world.generator('products');
    this.population = this.orders.population * SESSIONS_PER_ORDER;
    this.plans = new RecordCache((i) => this.buildPlan(i), this.population, 8192);
    this.scripts = new RecordCache((i) => this.buildScript(i), this.population, 512);
    const categories = world.generator('categories');
    this.categoryUrls = LEAF_CATEGORY_INDEXES.map((j) => `/c/${categories.record(j).slug}`);
    this.productUrls = new RecordCache((p) => `/products/${this.products.facts(p).sku.toLowerCase()}`, this.products.population);
    this.firstSecond = ceilSec(world.window.start);
    this.lastSecond = ceilSec(world.window.end) - 1000;
  }

  /** The skeleton of session i (cached). */
  plan(i: number): SessionPlan {
    return this.plans.get(i);
  }

  /** The events of session i, in order (cached). */
  script(i: number): readonly ScriptEvent[] {
    return this.scripts.get(i);
  }

  /** The index of the checkout session of order `order`. */
  checkoutSessionOf(order: number): number {
    return order * SESSIONS_PER_ORDER + this.checkoutSlot(order);
  }

  /** Device, browser, User-Agent and IP address of session i, without the rest of the record. */
  client(i: number): { client: Client; ip: string } {
    return this.clientFrom(this.lookupRng.key(this.world.seed, this.tag, i), this.plan(i));
  }

  // The record stream starts with the client: device, browser, User-Agent, then the IP (a
  // logged-in customer at home on a computer or tablet often shows their home address).
  private clientFrom(rng: Rng, plan: SessionPlan): { client: Client; ip: string } {
    const client = drawClient(rng);
    const atHome = plan.user >= 0 && client.device !== 'mobile' && rng.chance(0.65);
    return { client, ip: atHome ? homeIp(this.world.seed, plan.user) : drawIp(rng) };
  }

  /** The earliest whole second a session of `user` may start at: after sign-up, inside the window. */
  private earliest(user: number): number {
    if (user < 0) return this.firstSecond;
    return Math.max(this.firstSecond, floorSec(this.users.createdAt(user)) + 1000);
  }

  /**
   * The draws of session i's plan up to its event count, into {@link shape} (scratch, read
   * before the next call): what the clickstream's per-session count needs, without the times,
   * the user or a plan object. The plan's draws go on from the Rng it returns, so the count and
   * the plan come from one sequence of draws.
   */
  private drawShape(i: number): Rng {
    const rng = this.planRng.key(this.world.seed, this.tag, i, SALT_PLAN);
    const d = this.shape;
    d.channel = CHANNEL.draw(rng);
    d.landing = (CHANNELS[d.channel] as Channel).landing.draw(rng);
    const catalogue = this.world.sizes.products;
    const block = Math.floor(i / SESSIONS_PER_ORDER);
    d.block = block;
    d.slot = i - block * SESSIONS_PER_ORDER;
    d.checkoutSession = d.slot === this.checkoutSlot(block);
    if (d.checkoutSession) {
      const lines = this.orders.plan(block).lines;
      d.lines = lines;
      d.extras = lines < catalogue && rng.chance(0.15) ? 1 : 0;
      d.removes = d.extras;
      d.views = Math.min(catalogue - lines - d.extras, CHECKOUT_VIEWS.draw(rng));
      d.pages = CHECKOUT_PAGES.draw(rng);
      d.searches = CHECKOUT_SEARCHES.draw(rng);
      d.checkout = true;
      d.bounce = false;
      d.events = eventCount(d.landing, d.pages, d.searches, lines, d.extras, d.extras, d.views, true, true);
      return rng;
    }
    let pages = 0;
    let searches = 0;
    let products = d.landing === 'product' ? 1 : 0;
    let extras = 0;
    let removes = 0;
    let checkout = false;
    const bounce = rng.chance(0.38);
    if (!bounce) {
      pages = BROWSE_PAGES.draw(rng);
      searches = BROWSE_SEARCHES.draw(rng);
      products = Math.min(catalogue, BROWSE_PRODUCTS.draw(rng));
      if (rng.chance(0.3)) extras = rng.between(1, Math.min(3, products));
      if (extras > 0 && rng.chance(0.3)) removes = rng.between(1, extras);
      checkout = extras > removes && rng.chance(0.25);
    }
    d.lines = 0;
    d.pages = pages;
    d.searches = searches;
    d.extras = extras;
    d.removes = removes;
    d.views = products - extras;
    d.checkout = checkout;
    d.bounce = bounce;
    d.events = eventCount(d.landing, pages, searches, 0, extras, removes, d.views, checkout, false);
    return rng;
  }

  /**
   * How many clickstream events session i has: the plan's count from the draws before it
   * (the clickstream's child index counts every session; the rest of the plan is not needed).
   */
  eventCount(i: number): number {
    this.drawShape(i);
    return this.shape.events;
  }

  private buildPlan(i: number): SessionPlan {
    const rng = this.drawShape(i);
    const { block, slot, channel, landing, pages, searches, lines, extras, removes, views, checkout, events, bounce } = this.shape;
    if (this.shape.checkoutSession) {
      // Browsing and filling in the checkout before the order, a confirmation page after it.
      const order = this.orders.plan(block);
      const purchaseAt = floorSec(order.createdAt);
      const before = 1000 * Math.round((events - 2) * rng.uniform(15, 75) + rng.uniform(60, 300));
      const startedAt = Math.min(purchaseAt, Math.max(this.earliest(order.user), purchaseAt - before));
      const endedAt = Math.max(startedAt + 1000, Math.min(this.lastSecond, purchaseAt + 1000 * rng.between(10, 120)));
      return {
        order: block, user: order.user, startedAt, lastEventAt: purchaseAt, endedAt, channel, landing,
        pages, searches, lines, extras, removes, views, checkout: true, events,
      };
    }
    // Time on pages, then the session's end after a last look.
    const offset = 1000 * Math.round((events - 1) * rng.uniform(15, 75) + (checkout ? rng.uniform(60, 300) : 0));
    const length = offset + 1000 * rng.between(5, bounce ? 90 : 180);
    // The last event falls in this session's share of its order's slot on the orders timeline,
    // after the checkout session if its slot comes later (see the class comment).
    const lastEventAt = Math.max(this.firstSecond, floorSec(this.orders.momentAt(block + (slot + rng.next()) / SESSIONS_PER_ORDER)));
    let startedAt = Math.max(this.firstSecond, lastEventAt - offset);
    const endedAt = Math.min(this.lastSecond, lastEventAt + (length - offset));
    if (endedAt - startedAt < 1000) startedAt = Math.max(this.firstSecond, endedAt - 1000);

    // Half the visitors are logged in, as one of the customers who had signed up by then.
    const known = this.users.signedUpBy(startedAt - 1000);
    const loggedIn = rng.chance(BROWSING_LOGGED_IN) && known > 0;
    const user = loggedIn ? (rng.chance(0.8) ? rng.int(known) : longTail(rng.next(), known)) : -1;
    return {
      order: -1, user, startedAt, lastEventAt, endedAt, channel, landing,
      pages, searches, lines: 0, extras, removes, views, checkout, events,
    };
  }

  /** Which of the five sessions of block `order` is that order's checkout session. */
  private checkoutSlot(order: number): number {
    return Math.min(SESSIONS_PER_ORDER - 1, Math.floor(this.orders.plan(order).position * SESSIONS_PER_ORDER));
  }

  /** A product index not in `taken` (a session does not view one product twice). */
  private freshProduct(rng: Rng, taken: number[]): number {
    const n = this.products.population;
    let p = this.products.popularIndex(rng.next());
    for (let attempt = 0; taken.includes(p) && attempt < 8; attempt++) p = rng.int(n);
    while (taken.includes(p)) p = (p + 1) % n;
    taken.push(p);
    return p;
  }

  private buildScript(i: number): ScriptEvent[] {
    const plan = this.plan(i);
    const rng = this.scriptRng.key(this.world.seed, this.tag, i, SALT_SCRIPT);
    const products = this.products;

    // The products of the session in viewing order, and whether each was added and removed.
    const taken: number[] = plan.order >= 0 ? this.orders.lineProducts(plan.order).slice() : [];
    const lines = taken.length;
    for (let k = 0; k < plan.extras + plan.views; k++) this.freshProduct(rng, taken);
    const order = taken.map((_, k) => k);
    for (let k = order.length - 1; k > 0; k--) {
      const j = rng.int(k + 1);
      const swap = order[k] as number;
      order[k] = order[j] as number;
      order[j] = swap;
    }
    // Block b is taken[b]: order lines first, then extras (the first `removes` removed), then views.
    const added = (b: number) => b < lines + plan.extras;
    const removed = (b: number) => b >= lines && b < lines + plan.removes;

    const events: ScriptEvent[] = [];
    let next = 0;
    if (plan.landing === 'product') this.viewBlock(events, taken, order[next++] as number, added);
    else events.push(event('PAGE_VIEW', plan.landing === 'home' ? '/' : this.categoryUrl(rng)));
    for (let k = 0; k < plan.pages; k++) events.push(event('PAGE_VIEW', this.categoryUrl(rng)));
    for (let k = 0; k < plan.searches; k++) {
      // A search finds one of the products viewed next (or one the shopper did not open).
      const b = order[next + k];
      const target = b === undefined ? products.popularIndex(rng.next()) : (taken[b] as number);
      const query = searchQuery(rng, products.facts(target));
      events.push(event('SEARCH', `/search?q=${encodeURIComponent(query).replace(/%20/g, '+')}`, -1, query));
    }
    for (; next < order.length; next++) this.viewBlock(events, taken, order[next] as number, added);
    if (plan.lines + plan.extras > 0 && (plan.removes > 0 || plan.checkout)) {
      events.push(event('PAGE_VIEW', '/cart'));
      for (const b of order) if (removed(b)) events.push(event('CART_REMOVE', '/cart', taken[b] as number));
    }
    if (plan.checkout) events.push(event('CHECKOUT', '/checkout'));
    if (plan.order >= 0) events.push(event('PURCHASE', '/checkout/confirmation'));
    if (events.length !== plan.events) throw new Error(`session ${i}: ${events.length} events, planned ${plan.events}`);

    // Times: cumulative dwell per page, scaled onto [startedAt, lastEventAt] in whole seconds.
    const n = events.length;
    if (this.offsets.length < n) this.offsets = new Float64Array(2 * n);
    const at = this.offsets;
    at[0] = 0;
    for (let k = 1; k < n; k++) at[k] = (at[k - 1] as number) + DWELL[(events[k - 1] as ScriptEvent).type] * (0.4 + rng.next());
    const total = at[n - 1] as number;
    const span = (plan.lastEventAt - plan.startedAt) / 1000;
    for (let k = 0; k < n; k++) {
      (events[k] as { at: number }).at = plan.startedAt + (total > 0 ? Math.round(((at[k] as number) / total) * span) * 1000 : 0);
    }
    return events;
  }

  /**
   * The products session i views (each once: one PRODUCT_VIEW event) and how many of the first
   * of them go into the cart (one CART_ADD each), exactly as its script has them, without
   * building the script (URLs, search queries, times): what the analytics aggregates count.
   * It replays the script's draws up to the products (see buildScript).
   */
  viewedProducts(i: number): { readonly products: readonly number[]; readonly added: number } {
    const plan = this.plan(i);
    const rng = this.scriptRng.key(this.world.seed, this.tag, i, SALT_SCRIPT);
    const taken: number[] = plan.order >= 0 ? this.orders.basket(plan.order).products.slice() : [];
    const lines = taken.length;
    for (let k = 0; k < plan.extras + plan.views; k++) this.freshProduct(rng, taken);
    return { products: taken, added: lines + plan.extras };
  }

  private categoryUrl(rng: Rng): string {
    return rng.pick(this.categoryUrls);
  }

  /** PRODUCT_VIEW of block b's product, then CART_ADD when it went into the cart. */
  private viewBlock(events: ScriptEvent[], taken: readonly number[], b: number, added: (b: number) => boolean): void {
    const p = taken[b] as number;
    const url = this.productUrls.get(p);
    events.push(event('PRODUCT_VIEW', url, p));
    if (added(b)) events.push(event('CART_ADD', url, p));
  }

  record(i: number): Session {
    const { profile } = this.world;
    const plan = this.plan(i);
    const script = this.script(i);
    const rng = this.keyed(i);
    const { client, ip } = this.clientFrom(rng, plan);
    const refs = REFERRALS[profile.country === 'GB' ? 'GB' : 'US'];
    const campaign = SEASONAL[new Date(plan.startedAt).getUTCMonth()] as string;
    let referrer: string | null = null;
    let source: string | null = null;
    let medium: string | null = null;
    let utmCampaign: string | null = null;
    switch (plan.channel) {
      case DIRECT:
        break;
      case ORGANIC:
        referrer = refs.engines.draw(rng)[0];
        break;
      case PAID:
        [referrer, source] = refs.engines.draw(rng);
        medium = 'cpc';
        utmCampaign = rng.chance(0.5) ? rng.pick(['brand', 'shopping', 'generic']) : campaign;
        break;
      case SOCIAL:
        [referrer, source] = refs.social.draw(rng);
        medium = 'social';
        utmCampaign = campaign;
        break;
      case EMAIL:
        source = 'newsletter';
        medium = 'email';
        utmCampaign = rng.chance(0.6) ? campaign : rng.pick(['weekly_picks', 'new_arrivals', 'back_in_stock']);
        break;
      case AFFILIATE:
        [referrer, source] = rng.pick(refs.affiliates);
        medium = 'affiliate';
        utmCampaign = 'deals';
        break;
      default:
        referrer = rng.pick(refs.sites);
    }
    const city = plan.user >= 0 && rng.chance(0.8) ? this.users.place(plan.user).city : profile.places.draw(rng).city;
    let pageViews = 0;
    for (const e of script) if (e.type === 'PAGE_VIEW' || e.type === 'PRODUCT_VIEW') pageViews++;
    return {
      session_id: this.idOf(i),
      user_id: plan.user >= 0 ? this.users.idOf(plan.user) : null,
      order_id: plan.order >= 0 ? this.orders.idOf(plan.order) : null,
      device_type: client.device,
      os: client.os,
      browser: client.browser,
      user_agent: client.userAgent,
      ip_address: ip,
      country: profile.country,
      city,
      started_at: iso(plan.startedAt),
      ended_at: iso(plan.endedAt),
      duration_seconds: (plan.endedAt - plan.startedAt) / 1000,
      page_views: pageViews,
      event_count: script.length,
      landing_page: (script[0] as ScriptEvent).url,
      referrer,
      utm_source: source,
      utm_medium: medium,
      utm_campaign: utmCampaign,
      converted: plan.order >= 0,
    };
  }
}

/**
 * Events of a session: the landing page (unless it is a product page, whose view is counted
 * with the products), category pages, searches, a view per product and an add per cart
 * product, the cart page with its removals, CHECKOUT and PURCHASE.
 */
function eventCount(
  landing: Landing, pages: number, searches: number, lines: number, extras: number, removes: number, views: number,
  checkout: boolean, purchase: boolean,
): number {
  const adds = lines + extras;
  const cartPage = adds > 0 && (removes > 0 || checkout) ? 1 : 0;
  return (landing === 'product' ? 0 : 1) + pages + searches + adds + views + adds + cartPage + removes + (checkout ? 1 : 0) + (purchase ? 1 : 0);
}
