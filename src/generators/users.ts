import type { User } from '../schemas/user.js';
import { EntityGenerator } from './entity.js';
import { Rng, decimal } from './random.js';
import { DAY, MINUTE, iso, isoDate, laterBy } from './time.js';
import { SHOP_UTC_OFFSET_HOURS, Timeline, countBy, placeOn } from './timeline.js';
import type { Place } from './locale.js';
import { SEGMENTS, type CustomerSegmentGenerator } from './customer-segments.js';
import { expectedOrderRatio } from './orders.js';
import type { World } from './world.js';
import type { FieldSource, FieldWriter } from '../formats/index.js';


const handleLists = new WeakMap<readonly string[], readonly string[]>();

/** Names as lower-case ASCII handles for user names and e-mail local parts, by list position. */
function handlesOf(names: readonly string[]): readonly string[] {
  let handles = handleLists.get(names);
  if (!handles) {
    handles = names.map((name) => name.normalize('NFKD').toLowerCase().replace(/[^a-z]/g, '') || 'user');
    handleLists.set(names, handles);
  }
  return handles;
}

/** The fields of a user in the order {@link UserGenerator.fields} writes them (the schema's order). */
const USER_COLUMNS: readonly string[] = [
  'user_id', 'email', 'username', 'first_name', 'last_name', 'date_of_birth', 'phone_number', 'address', 'city',
  'state', 'postal_code', 'country', 'created_at', 'updated_at', 'is_active', 'marketing_opt_in', 'loyalty_points',
  'segment_id',
];

/** Index of each segment in the fixed list (customer-segments.ts): the same in every world. */
const segmentIndex = (code: string): number => {
  const index = SEGMENTS.findIndex((s) => s.code === code);
  if (index < 0) throw new RangeError(`no segment ${code}`);
  return index;
};
const SEGMENT_COUNT = SEGMENTS.length;
const SEGMENT_INDEX: Readonly<Record<'vip' | 'loyal' | 'new' | 'regular' | 'occasional' | 'churned', number>> = {
  vip: segmentIndex('vip'),
  loyal: segmentIndex('loyal'),
  new: segmentIndex('new'),
  regular: segmentIndex('regular'),
  occasional: segmentIndex('occasional'),
  churned: segmentIndex('churned'),
};

/** The vip and loyal index bounds by population (a function of it alone): see {@link orderBoundsOf}. */
const orderBounds = new Map<number, { readonly vip: number; readonly loyal: number }>();

/**
 * The first user indexes below which expected orders are 3× and 1.5× the average (the vip and
 * loyal bounds). Expected orders fall with the index (the loyal long tail favours low indexes),
 * so each bound is found by bisection: O(log population), where a scan of the population
 * blocked the event loop for seconds in large worlds. Kept by population: every unseeded
 * request builds a new world of the same population.
 */
function orderBoundsOf(n: number): { readonly vip: number; readonly loyal: number } {
  let bounds = orderBounds.get(n);
  if (bounds === undefined) {
    const firstBelow = (ratio: number) => {
      let lo = 0;
      let hi = n;
      while (lo < hi) {
        const mid = Math.floor((lo + hi) / 2);
        if (expectedOrderRatio(mid, n) < ratio) hi = mid;
        else lo = mid + 1;
      }
      return lo;
    };
    bounds = { vip: firstBelow(3), loyal: firstBelow(1.5) };
    if (orderBounds.size >= 64) orderBounds.clear();
    orderBounds.set(n, bounds);
  }
  return bounds;
}

/** What an order copies from its customer: the shipping address and the sales tax rate. */
export interface UserShipping {
  readonly address: string;
  readonly city: string;
  readonly state: string;
  readonly postal_code: string;
  readonly country: string;
  readonly taxRate: number;
}

/** Sign-ups happen until this long before the window ends (room for an order after the last). */
const LAST_SIGNUP_BEFORE_END = 30 * MINUTE;
/**
 * The customer base grows like x^GROWTH over the window (x = elapsed share): a shop with an
 * existing base (many sign-ups in the first days) that keeps growing, more slowly over time.
 */
const GROWTH = 0.625;

/**
 * Customers, numbered in sign-up order: user i+1 never signed up before user i. Sign-ups are
 * skewed towards the start of the window (a shop with an existing base that keeps growing) and
 * follow the daily curve in the shop's local time, the week and the season (see timeline.ts).
 *
 * @example
 * new UserGenerator(world).record(0).email; // 'olivia.jones0@gmail.com'-like, unique per index
 */
export class UserGenerator extends EntityGenerator<User> {
  readonly population: number;
  /** A second cursor on the same per-user stream, for lookups from other generators. */
  private readonly lookupRng = new Rng();

  /** Segment ids by index, made on first use (see segmentId), and the index bounds of the vip and loyal segments (see segmentOf). */
  private readonly segmentIds: (string | undefined)[];
  private readonly segment = SEGMENT_INDEX;
  private readonly vipBelow: number;
  private readonly loyalBelow: number;
  /** Lower-case handles of the locale's name lists (see handlesOf), looked up once per world. */
  private readonly femaleHandles: readonly string[];
  private readonly maleHandles: readonly string[];
  private readonly lastHandles: readonly string[];
  /** When sign-ups happen: user i signs up at `timeline.timeAt((i + u) / population)`. */
  readonly timeline: Timeline;

  constructor(world: World) {
    super(world, 'users');
    this.population = world.sizes.users;
    const { start, end } = world.window;
    const last = Math.max(start + MINUTE, end - LAST_SIGNUP_BEFORE_END);
    const span = last - start;
    const grown = (t: number) => Math.pow((t - start) / span, GROWTH);
    // A function of the window alone: shared by the worlds of this window (see World.byWindow).
    this.timeline = world.byWindow('users.signups', () =>
      new Timeline({ start, end: last }, SHOP_UTC_OFFSET_HOURS, (from, to) => (to > from ? (grown(to) - grown(from)) / ((to - from) / DAY) : 0)),
    );
    const { profile } = world;
    this.femaleHandles = handlesOf(profile.firstNamesFemale);
    this.maleHandles = handlesOf(profile.firstNamesMale);
    this.lastHandles = handlesOf(profile.lastNames);
    // Segment ids are made when first written (a 10-user page writes two or three of the six).
    this.segmentIds = new Array<string | undefined>(SEGMENT_COUNT);
    const bounds = orderBoundsOf(this.population);
    this.vipBelow = bounds.vip;
    this.loyalBelow = bounds.loyal;
  }

  /** The id of segment k, made once per world. */
  private segmentId(k: number): string {
    return (this.segmentIds[k] ??= (this.world.generator('customer-segments') as CustomerSegmentGenerator).idOf(k));
  }

  /** The segment index of user i, by the rules listed in customer-segments.ts. */
  private segmentOf(i: number, active: boolean, created: number, points: number): number {
    if (!active) return this.segment.churned;
    if (i < this.vipBelow) return this.segment.vip;
    if (i < this.loyalBelow) return this.segment.loyal;
    if (created >= this.world.window.end - 45 * DAY) return this.segment.new;
    return points >= 500 ? this.segment.regular : this.segment.occasional;
  }

  // A user's stream starts with where they live, then when they signed up: orders read those
  // two draws (for tax and for time order) without generating the rest of the user.
  private placeFrom(rng: Rng): Place {
    return this.world.profile.places.draw(rng);
  }

  private signupFrom(rng: Rng, i: number): number {
    return placeOn(this.timeline, i, this.population, rng.next());
  }

  /** How many users (0..k-1) had signed up at or before moment t. */
  signedUpBy(t: number): number {
    let k = countBy(this.timeline, this.population, t);
    while (k > 0 && this.createdAt(k - 1) > t) k--;
    return k;
  }

  /** Where user i lives (the place decides postcode and sales tax). */
  place(i: number): Place {
    return this.placeFrom(this.lookupRng.key(this.world.seed, this.tag, i));
  }

  /** Sign-up time of user i (epoch ms), without generating the rest of the record. */
  createdAt(i: number): number {
    const rng = this.lookupRng.key(this.world.seed, this.tag, i);
    this.placeFrom(rng);
    return this.signupFrom(rng, i);
  }

  /**
   * Where user i's orders are shipped (address, city, state, postcode, country) and the place's
   * sales tax, exactly the record's, without building the record: every order needs these, and
   * building (and caching) whole users for them was the largest source of garbage in orders.
   * It replays the record's draws in the same order (see {@link UserGenerator.record}); a test
   * holds the two together.
   */
  shippingOf(i: number): UserShipping {
    const { profile } = this.world;
    const rng = this.lookupRng.key(this.world.seed, this.tag, i);
    const place = this.placeFrom(rng);
    rng.next(); // sign-up moment
    // first-name list, first name, last name, age, day of birth, building
    rng.u32();
    rng.u32();
    rng.u32();
    rng.u32();
    rng.u32();
    const building = profile.country === 'GB' ? rng.between(1, 220) : rng.between(100, 9999);
    if (!rng.chance(0.3)) rng.u32(); // loyalty points
    rng.u32(); // active
    rng.u32(); // e-mail domain
    profile.phone(rng);
    return {
      address: this.addressFrom(rng, building),
      city: place.city,
      state: place.state,
      postal_code: place.postcode(rng),
      country: profile.country,
      taxRate: place.taxRate,
    };
  }

  private addressFrom(rng: Rng, building: number): string {
    const { profile } = this.world;
    return decimal(building) + ' ' + rng.pick(profile.lastNames) + ' ' + rng.pick(profile.streetSuffixes);
  }

  /**
   * Users written field by field (see src/formats/fields.ts): the draws of {@link record}, in
   * the same order, written as they are drawn, with no record object and no field strings.
   * A test holds the bytes of both ways equal in every format and both locales.
   */
  readonly fields: FieldSource = {
    columns: USER_COLUMNS,
    write: (i, w) => this.writeFields(i, w),
  };

  /**
   * The draws both ways of writing a user start with, in their order: {@link record} and
   * {@link writeFields} continue from the same `rng`.
   */
  private drawn(i: number) {
    const { profile, window } = this.world;
    const rng = this.keyed(i);
    const place = this.placeFrom(rng);
    const created = this.signupFrom(rng, i);
    const female = rng.chance(0.5);
    const firstNames = female ? profile.firstNamesFemale : profile.firstNamesMale;
    const f = rng.int(firstNames.length);
    const l = rng.int(profile.lastNames.length);
    const years = rng.between(18, 80);
    const birth = window.start - years * 365.25 * DAY - rng.int(365) * DAY;
    const building = profile.country === 'GB' ? rng.between(1, 220) : rng.between(100, 9999);
    const points = rng.chance(0.3) ? 0 : Math.round(Math.exp(rng.uniform(2, 8.5)));
    const active = rng.chance(0.95);
    const handle = (female ? this.femaleHandles : this.maleHandles)[f] as string;
    return { rng, place, created, firstNames, f, l, handle, lastHandle: this.lastHandles[l] as string, birth, building, points, active };
  }

  private writeFields(i: number, w: FieldWriter): void {
    const { profile, window } = this.world;
    const { rng, place, created, firstNames, f, l, handle, lastHandle, birth, building, points, active } = this.drawn(i);
    w.begin();
    w.uuid(this.ids, i);
    w.open(); // email
    w.piece(handle);
    w.piece('.');
    w.piece(lastHandle);
    w.digits(i);
    w.piece('@');
    w.piece(rng.pick(profile.emailDomains));
    w.close();
    w.open(); // username
    w.piece(handle);
    w.piece('.');
    w.piece(lastHandle);
    w.digits(i);
    w.close();
    w.text(firstNames[f] as string);
    w.text(profile.lastNames[l] as string);
    w.date(Math.floor(birth / DAY));
    profile.writePhone(rng, w);
    w.open(); // address
    w.digits(building);
    w.piece(' ');
    w.piece(rng.pick(profile.lastNames));
    w.piece(' ');
    w.piece(rng.pick(profile.streetSuffixes));
    w.close();
    w.text(place.city);
    w.text(place.state);
    place.writePostcode(rng, w);
    w.text(profile.country);
    w.timestamp(created);
    w.timestamp(laterBy(rng, created, 0, window.end - 1 - created));
    w.bool(active);
    w.bool(rng.chance(0.42));
    w.number(points);
    w.safe(this.segmentId(this.segmentOf(i, active, created, points)));
    w.end();
  }

  record(i: number): User {
    const { profile, window } = this.world;
    const { rng, place, created, firstNames, f, l, handle, lastHandle, birth, building, points, active } = this.drawn(i);
    const first = firstNames[f] as string;
    const last = profile.lastNames[l] as string;
    const username = handle + '.' + lastHandle + i;
    return {
      user_id: this.idOf(i),
      email: `${username}@${rng.pick(profile.emailDomains)}`,
      username,
      first_name: first,
      last_name: last,
      date_of_birth: isoDate(birth),
      phone_number: profile.phone(rng),
      address: this.addressFrom(rng, building),
      city: place.city,
      state: place.state,
      postal_code: place.postcode(rng),
      country: profile.country,
      created_at: iso(created),
      updated_at: iso(laterBy(rng, created, 0, window.end - 1 - created)),
      is_active: active,
      marketing_opt_in: rng.chance(0.42),
      loyalty_points: points,
      segment_id: this.segmentId(this.segmentOf(i, active, created, points)),
    };
  }
}
