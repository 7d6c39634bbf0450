import type { Shop } from '../schemas/shop.js';
import { SHOP_TYPES } from '../schemas/shop.js';
import { slugify } from './catalogue.js';
import { EntityGenerator } from './entity.js';
import { fillPattern, type Place } from './locale.js';
import { Rng, WeightedChoice } from './random.js';
import { DAY, busyMoment, iso } from './time.js';
import type { World } from './world.js';

export type ShopType = (typeof SHOP_TYPES)[number];

const YEAR = 365.25 * DAY;

// Shop 0 is the flagship, in the locale's largest city; the rest are mostly high-street stores.
const TYPES = new WeightedChoice<ShopType>([['high_street', 50], ['concession', 22], ['outlet', 14], ['online_partner', 14]]);
/** Stands in for an Rng whose next draw is 0: a WeightedChoice then gives its first (largest) option. */
const FIRST_OPTION = { next: () => 0 } as unknown as Rng;

interface ShopStyle {
  readonly streets: readonly string[];
  readonly hosts: readonly string[];
  readonly partners: readonly string[];
  readonly outletPark: string;
  readonly domain: string;
  readonly hours: Readonly<Record<Exclude<ShopType, 'online_partner'>, readonly string[]>>;
}

// UK Sunday trading: a large shop may open six hours between 10:00 and 18:00.
const GB: ShopStyle = {
  streets: ['High Street', 'Market Street', 'King Street', 'Church Street', 'Bridge Street', 'Station Road', 'Queen Street', 'George Street', 'Market Place', 'Broad Street'],
  hosts: ['John Lewis', 'Selfridges', 'House of Fraser', 'Fenwick', 'Harvey Nichols', 'Frasers'],
  partners: ['Amazon UK', 'eBay UK', 'OnBuy', 'Very', 'ASOS Marketplace', 'Zalando', 'Not On The High Street', 'Fruugo'],
  outletPark: 'Retail Park',
  domain: 'stores.example.co.uk',
  hours: {
    flagship: ['Mon-Sat 09:00-20:00, Sun 11:00-17:00', 'Mon-Sat 10:00-21:00, Sun 12:00-18:00'],
    high_street: ['Mon-Sat 09:00-17:30, Sun 10:00-16:00', 'Mon-Sat 09:00-18:00, Sun 10:00-16:00', 'Mon-Sat 09:30-17:30, Sun 11:00-17:00', 'Mon-Fri 09:00-18:00, Sat 09:00-17:30, Sun closed'],
    outlet: ['Mon-Sat 10:00-18:00, Sun 11:00-17:00', 'Mon-Sat 10:00-20:00, Sun 10:00-16:00'],
    concession: ['Mon-Sat 09:30-20:00, Sun 11:30-17:30', 'Mon-Sat 10:00-19:00, Sun 11:00-17:00'],
  },
};
const US: ShopStyle = {
  streets: ['Main Street', 'Market Street', 'Broadway', 'Oak Street', 'Elm Street', 'Park Avenue', 'Washington Street', '5th Avenue', 'State Street', 'Central Avenue'],
  hosts: ["Macy's", 'Nordstrom', "Bloomingdale's", 'Saks Fifth Avenue', "Dillard's", 'Neiman Marcus'],
  partners: ['Amazon', 'eBay', 'Walmart Marketplace', 'Target Plus', 'Wayfair', 'Etsy', 'Newegg', 'Best Buy Marketplace'],
  outletPark: 'Premium Outlets',
  domain: 'stores.example.com',
  hours: {
    flagship: ['Mon-Sat 10:00-21:00, Sun 11:00-19:00', 'Mon-Sat 09:00-21:00, Sun 10:00-19:00'],
    high_street: ['Mon-Sat 10:00-20:00, Sun 11:00-18:00', 'Mon-Sat 10:00-21:00, Sun 11:00-19:00', 'Mon-Fri 09:00-19:00, Sat 10:00-18:00, Sun 12:00-17:00'],
    outlet: ['Mon-Sun 10:00-20:00', 'Mon-Sat 10:00-21:00, Sun 10:00-19:00'],
    concession: ['Mon-Sat 10:00-21:00, Sun 11:00-19:00', 'Mon-Sat 10:00-20:00, Sun 12:00-18:00'],
  },
};

// UK dialling codes of the post towns in locale.ts: shops give a landline.
const UK_DIALLING: Readonly<Record<string, string>> = {
  London: '020', Birmingham: '0121', Leeds: '0113', Glasgow: '0141', Sheffield: '0114', Manchester: '0161',
  Bradford: '01274', Edinburgh: '0131', Liverpool: '0151', Bristol: '0117', Coventry: '024', Cardiff: '029',
  Leicester: '0116', Belfast: '028', Nottingham: '0115', 'Newcastle upon Tyne': '0191', Brighton: '01273',
  Plymouth: '01752', 'Stoke-on-Trent': '01782', Southampton: '023', Derby: '01332', Swansea: '01792',
  'Milton Keynes': '01908', York: '01904', Aberdeen: '01224', Reading: '0118', Oxford: '01865',
  Cambridge: '01223', Norwich: '01603', Exeter: '01392',
};

/** [min, max] years before the window a shop of each type opened; commission band. */
const AGE_YEARS: Record<ShopType, readonly [number, number]> = {
  flagship: [5, 20], high_street: [0.5, 15], outlet: [1, 10], concession: [0.5, 8], online_partner: [0.2, 6],
};
const COMMISSION: Record<ShopType, readonly [number, number]> = {
  flagship: [0.02, 0.05], high_street: [0.02, 0.06], outlet: [0.03, 0.08], concession: [0.15, 0.3], online_partner: [0.08, 0.2],
};

/** The part of a shop other generators need: where it is, what it is, whether it trades. */
export interface ShopBasics {
  readonly place: Place;
  readonly type: ShopType;
  readonly active: boolean;
}

/**
 * The store's shops: shop 0 is the flagship; the rest are high-street stores, concessions in
 * department stores, outlets and online marketplace partners, in the locale's cities, opened
 * before the window. Transactions are sold through active shops.
 *
 * @example
 * new ShopGenerator(world).record(0).type; // 'flagship'
 */
export class ShopGenerator extends EntityGenerator<Shop> {
  readonly population: number;
  private readonly lookupRng = new Rng();

  constructor(world: World) {
    super(world, 'shops');
    this.population = world.sizes.shops;
  }

  // A shop's stream starts with place, type and whether it is open: lookups read only those.
  private basicsFrom(rng: Rng, i: number): ShopBasics {
    const drawnPlace = this.world.profile.places.draw(rng);
    const drawnType = TYPES.draw(rng);
    const open = rng.chance(0.92);
    if (i === 0) return { place: this.world.profile.places.draw(FIRST_OPTION), type: 'flagship', active: true };
    return { place: drawnPlace, type: drawnType, active: open };
  }

  /** Place, type and trading state of shop i, without the rest of the record. */
  basics(i: number): ShopBasics {
    return this.basicsFrom(this.lookupRng.key(this.world.seed, this.tag, i), i);
  }

  private phone(rng: Rng, city: string): string {
    const { profile } = this.world;
    const code = profile.country === 'GB' ? UK_DIALLING[city] : undefined;
    if (code === undefined) return profile.phone(rng);
    if (code.length === 3) return `${code} ${fillPattern(rng, '!###')} ${fillPattern(rng, '####')}`;
    if (code.length === 4) return `${code} ${fillPattern(rng, '!##')} ${fillPattern(rng, '####')}`;
    return `${code} ${fillPattern(rng, '!#####')}`;
  }

  record(i: number): Shop {
    const { profile, window } = this.world;
    const rng = this.keyed(i);
    const { place, type, active } = this.basicsFrom(rng, i);
    const style = profile.country === 'GB' ? GB : US;
    const street = rng.pick(style.streets);
    const building = profile.country === 'GB' ? rng.between(1, 180) : rng.between(100, 2999);
    const host = rng.pick(style.hosts);
    const partner = rng.pick(style.partners);
    let name: string;
    let address = `${building} ${street}`;
    if (type === 'flagship') name = `${place.city} Flagship`;
    else if (type === 'high_street') name = `${place.city} ${street}`;
    else if (type === 'outlet') {
      name = `${place.city} Outlet`;
      address = `Unit ${rng.between(1, 60)}, ${place.city} ${style.outletPark}`;
    } else if (type === 'concession') name = `${host} ${place.city} Concession`;
    else name = `${partner} Store`;
    const [minYears, maxYears] = AGE_YEARS[type];
    const created = busyMoment(rng, window.start - maxYears * YEAR, window.start - minYears * YEAR);
    const [minCommission, maxCommission] = COMMISSION[type];
    const rating = Math.min(5, Math.max(2.5, 4.2 + 0.35 * rng.normal()));
    const firstNames = rng.chance(0.5) ? profile.firstNamesFemale : profile.firstNamesMale;
    return {
      shop_id: this.idOf(i),
      name,
      type,
      city: place.city,
      address,
      postcode: place.postcode(rng),
      phone: this.phone(rng, place.city),
      email: `${slugify(type === 'online_partner' ? partner : place.city)}.${String(i + 1).padStart(4, '0')}@${style.domain}`,
      manager: `${rng.pick(firstNames)} ${rng.pick(profile.lastNames)}`,
      opening_hours: type === 'online_partner' ? 'Online 24/7' : rng.pick(style.hours[type]),
      commission_rate: Math.round(rng.uniform(minCommission, maxCommission) * 1000) / 1000,
      rating: Math.round(rating * 10) / 10,
      created_at: iso(created),
      is_active: active,
    };
  }
}
