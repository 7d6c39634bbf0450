import type { Supplier } from '../schemas/supplier.js';
import { DEPARTMENTS, slugify } from './catalogue.js';
import { EntityGenerator, RecordCache } from './entity.js';
import { fillPattern, localeProfile, type LocaleProfile } from './locale.js';
import { Rng, WeightedChoice, tagOf } from './random.js';
import { busyMoment, iso } from './time.js';
import { CATALOGUE_HISTORY_MS } from './vendors.js';
import type { World } from './world.js';

/** Where a supplier can be: its people, towns, company names, phone format and transit times. */
interface SupplierCountry {
  readonly code: string;
  readonly cities: readonly string[];
  /** Company name stems (family names or trade names), ASCII. */
  readonly stems: readonly string[];
  /** Builds the registered name from a stem, a trade word and a city. */
  readonly name: (rng: Rng, stem: string, trade: string, city: string) => string;
  readonly firstNames: readonly string[];
  readonly lastNames: readonly string[];
  readonly tld: string;
  /** International phone pattern (see fillPattern). */
  readonly phone: string;
  /** Typical lead time in days, [min, max], to a shop in the US and in GB. */
  readonly lead: Readonly<Record<'US' | 'GB', readonly [number, number]>>;
  /** Set for the US and the UK: names, towns and phone numbers then come from that locale. */
  readonly profile?: LocaleProfile;
}

const suffixed = (...suffixes: string[]) => (rng: Rng, stem: string, trade: string) => `${stem} ${trade} ${rng.pick(suffixes)}`;

const GERMAN_NAMES = ['Mueller', 'Schmidt', 'Schneider', 'Fischer', 'Weber', 'Meyer', 'Wagner', 'Becker', 'Hoffmann', 'Koch', 'Richter', 'Brandt'];

const FOREIGN: readonly SupplierCountry[] = [
  {
    code: 'CN',
    cities: ['Shenzhen', 'Guangzhou', 'Shanghai', 'Ningbo', 'Dongguan', 'Yiwu', 'Xiamen', 'Suzhou', 'Hangzhou', 'Qingdao'],
    stems: ['Huaxin', 'Jinlong', 'Hongda', 'Tianli', 'Xinda', 'Mingyang', 'Haitian', 'Fuda', 'Longsheng', 'Everwin', 'Sunrise', 'Goldstar'],
    name: (rng, stem, trade, city) => `${city} ${stem} ${trade}${!trade.includes(' ') && rng.chance(0.3) ? ' Trading' : ''} Co., Ltd.`,
    firstNames: ['Wei', 'Li', 'Jing', 'Min', 'Hui', 'Lei', 'Yan', 'Jun', 'Xin', 'Tao', 'Hong', 'Ying'],
    lastNames: ['Wang', 'Li', 'Zhang', 'Liu', 'Chen', 'Yang', 'Huang', 'Zhao', 'Wu', 'Zhou', 'Xu', 'Sun'],
    tld: 'com.cn',
    phone: '+86 !## #### ####',
    lead: { US: [28, 45], GB: [30, 50] },
  },
  {
    code: 'TW',
    cities: ['Taipei', 'Taichung', 'Kaohsiung', 'Hsinchu', 'Tainan'],
    stems: ['Formosa', 'Hsin Yuan', 'Chung Hwa', 'Tai Ping', 'Evergood', 'Jade Mountain', 'Asia Pacific'],
    name: suffixed('Co., Ltd.', 'Corp.'),
    firstNames: ['Chia-Hao', 'Yu-Ting', 'Chih-Wei', 'Hsin-Yi', 'Wen-Chieh', 'Mei-Ling', 'Chun-Hung', 'Pei-Shan'],
    lastNames: ['Chen', 'Lin', 'Huang', 'Chang', 'Lee', 'Wang', 'Wu', 'Tsai'],
    tld: 'com.tw',
    phone: '+886 !-#### ####',
    lead: { US: [24, 40], GB: [28, 45] },
  },
  {
    code: 'VN',
    cities: ['Ho Chi Minh City', 'Hanoi', 'Hai Phong', 'Da Nang', 'Binh Duong'],
    stems: ['Saigon', 'Viet Phat', 'Hoang Long', 'Thanh Cong', 'An Phu', 'Minh Long'],
    name: suffixed('JSC', 'Co., Ltd.'),
    firstNames: ['Anh', 'Minh', 'Huong', 'Duc', 'Lan', 'Tuan', 'Linh', 'Quang'],
    lastNames: ['Nguyen', 'Tran', 'Le', 'Pham', 'Hoang', 'Vu', 'Dang', 'Bui'],
    tld: 'com.vn',
    phone: '+84 !# #### ####',
    lead: { US: [30, 48], GB: [32, 50] },
  },
  {
    code: 'IN',
    cities: ['Mumbai', 'Bengaluru', 'Chennai', 'Tiruppur', 'Ludhiana', 'New Delhi', 'Ahmedabad'],
    stems: ['Shakti', 'Lakshmi', 'Ganesh', 'Sundaram', 'Bharat', 'Surya', 'Kaveri', 'Indus'],
    name: suffixed('Pvt. Ltd.', 'Exports Pvt. Ltd.'),
    firstNames: ['Aarav', 'Priya', 'Rahul', 'Ananya', 'Vikram', 'Sneha', 'Arjun', 'Kavya', 'Rohan', 'Neha'],
    lastNames: ['Sharma', 'Patel', 'Gupta', 'Singh', 'Reddy', 'Iyer', 'Mehta', 'Nair', 'Kumar', 'Shah'],
    tld: 'co.in',
    phone: '+91 !# #### ####',
    lead: { US: [30, 50], GB: [25, 42] },
  },
  {
    code: 'JP',
    cities: ['Osaka', 'Tokyo', 'Nagoya', 'Yokohama', 'Kobe'],
    stems: ['Nippon', 'Yamato', 'Sakura', 'Fuji', 'Kansai', 'Asahi', 'Hokuto'],
    name: suffixed('Co., Ltd.', 'K.K.'),
    firstNames: ['Haruto', 'Yui', 'Sota', 'Aoi', 'Ren', 'Hina', 'Takumi', 'Sakura', 'Kenji', 'Yuki'],
    lastNames: ['Sato', 'Suzuki', 'Takahashi', 'Tanaka', 'Watanabe', 'Ito', 'Yamamoto', 'Nakamura', 'Kobayashi', 'Kato'],
    tld: 'co.jp',
    phone: '+81 !-#### ####',
    lead: { US: [20, 35], GB: [28, 45] },
  },
  {
    code: 'KR',
    cities: ['Seoul', 'Busan', 'Incheon', 'Suwon', 'Daegu'],
    stems: ['Hanil', 'Daesung', 'Samhwa', 'Dongyang', 'Kukje', 'Taeyang'],
    name: suffixed('Co., Ltd.', 'Corp.'),
    firstNames: ['Min-jun', 'Seo-yeon', 'Ji-ho', 'Ha-eun', 'Do-yun', 'Ji-woo', 'Hyun-woo', 'Soo-ah'],
    lastNames: ['Kim', 'Lee', 'Park', 'Choi', 'Jung', 'Kang', 'Cho', 'Yoon'],
    tld: 'co.kr',
    phone: '+82 !-#### ####',
    lead: { US: [22, 38], GB: [28, 45] },
  },
  {
    code: 'MX',
    cities: ['Monterrey', 'Guadalajara', 'Tijuana', 'Mexico City', 'Puebla', 'Queretaro'],
    stems: ['Hernandez', 'Garcia', 'Martinez', 'Lopez', 'Gonzalez', 'Rodriguez', 'Azteca', 'Del Norte'],
    name: suffixed('S.A. de C.V.'),
    firstNames: ['Alejandro', 'Maria', 'Jose', 'Guadalupe', 'Juan', 'Fernanda', 'Luis', 'Sofia', 'Carlos', 'Valeria'],
    lastNames: ['Hernandez', 'Garcia', 'Martinez', 'Lopez', 'Gonzalez', 'Rodriguez', 'Perez', 'Sanchez', 'Ramirez', 'Flores'],
    tld: 'com.mx',
    phone: '+52 !# #### ####',
    lead: { US: [6, 14], GB: [25, 40] },
  },
  {
    code: 'CA',
    cities: ['Toronto', 'Montreal', 'Vancouver', 'Mississauga', 'Calgary', 'Winnipeg'],
    stems: ['Tremblay', 'Gagnon', 'MacDonald', 'Northern', 'Maple Leaf', 'Great Lakes', 'Campbell'],
    name: suffixed('Ltd.', 'Inc.'),
    firstNames: ['Liam', 'Olivia', 'Noah', 'Emma', 'Ethan', 'Chloe', 'Lucas', 'Charlotte'],
    lastNames: ['Tremblay', 'Roy', 'Gagnon', 'Smith', 'Brown', 'MacDonald', 'Wilson', 'Campbell'],
    tld: 'ca',
    phone: '+1 !##-!##-####',
    lead: { US: [5, 12], GB: [18, 30] },
  },
  {
    code: 'DE',
    cities: ['Hamburg', 'Munich', 'Stuttgart', 'Cologne', 'Dusseldorf', 'Frankfurt', 'Nuremberg'],
    stems: GERMAN_NAMES,
    name: suffixed('GmbH', 'GmbH', 'AG', 'GmbH & Co. KG'),
    firstNames: ['Lukas', 'Anna', 'Jonas', 'Lena', 'Felix', 'Laura', 'Maximilian', 'Julia', 'Tobias', 'Katharina'],
    lastNames: GERMAN_NAMES,
    tld: 'de',
    phone: '+49 !## #######',
    lead: { US: [18, 30], GB: [4, 10] },
  },
  {
    code: 'NL',
    cities: ['Rotterdam', 'Eindhoven', 'Amsterdam', 'Utrecht', 'Tilburg'],
    stems: ['de Jong', 'Jansen', 'de Vries', 'van den Berg', 'Bakker', 'Visser', 'Smit', 'Meijer'],
    name: suffixed('B.V.'),
    firstNames: ['Daan', 'Emma', 'Sem', 'Julia', 'Lucas', 'Sophie', 'Bram', 'Lotte'],
    lastNames: ['de Jong', 'Jansen', 'de Vries', 'van den Berg', 'Bakker', 'Visser', 'Smit', 'Meijer'],
    tld: 'nl',
    phone: '+31 !# ### ####',
    lead: { US: [18, 30], GB: [3, 8] },
  },
  {
    code: 'FR',
    cities: ['Lyon', 'Paris', 'Lille', 'Toulouse', 'Nantes', 'Grenoble'],
    stems: ['Martin', 'Bernard', 'Dubois', 'Durand', 'Lefebvre', 'Moreau', 'Rhone', 'Atlantique'],
    name: suffixed('SAS', 'SA'),
    firstNames: ['Louis', 'Camille', 'Gabriel', 'Lea', 'Hugo', 'Manon', 'Arthur', 'Chloe'],
    lastNames: ['Martin', 'Bernard', 'Dubois', 'Thomas', 'Robert', 'Richard', 'Petit', 'Durand'],
    tld: 'fr',
    phone: '+33 ! ## ## ## ##',
    lead: { US: [18, 32], GB: [4, 10] },
  },
  {
    code: 'IT',
    cities: ['Milan', 'Bologna', 'Turin', 'Florence', 'Prato', 'Vicenza'],
    stems: ['Rossi', 'Russo', 'Ferrari', 'Esposito', 'Bianchi', 'Romano', 'Colombo', 'Ricci'],
    name: suffixed('S.p.A.', 'S.r.l.'),
    firstNames: ['Marco', 'Giulia', 'Luca', 'Francesca', 'Alessandro', 'Chiara', 'Matteo', 'Sara'],
    lastNames: ['Rossi', 'Russo', 'Ferrari', 'Esposito', 'Bianchi', 'Romano', 'Colombo', 'Ricci'],
    tld: 'it',
    phone: '+39 0! #######',
    lead: { US: [20, 34], GB: [5, 12] },
  },
  {
    code: 'PL',
    cities: ['Poznan', 'Wroclaw', 'Lodz', 'Gdansk', 'Krakow', 'Katowice'],
    stems: ['Nowak', 'Kowalski', 'Wisniewski', 'Wojcik', 'Kowalczyk', 'Lewandowski', 'Baltic', 'Vistula'],
    name: suffixed('Sp. z o.o.', 'S.A.'),
    firstNames: ['Jakub', 'Zuzanna', 'Kacper', 'Julia', 'Szymon', 'Maja', 'Filip', 'Zofia'],
    lastNames: ['Nowak', 'Kowalski', 'Wisniewski', 'Wojcik', 'Kowalczyk', 'Kaminski', 'Lewandowski', 'Zielinski'],
    tld: 'pl',
    phone: '+48 !# ### ## ##',
    lead: { US: [20, 34], GB: [5, 12] },
  },
  {
    code: 'ES',
    cities: ['Barcelona', 'Valencia', 'Madrid', 'Bilbao', 'Zaragoza'],
    stems: ['Garcia', 'Fernandez', 'Lopez', 'Martinez', 'Iberica', 'Levante', 'Mediterranea'],
    name: suffixed('S.L.', 'S.A.'),
    firstNames: ['Hugo', 'Lucia', 'Martin', 'Paula', 'Pablo', 'Carmen', 'Daniel', 'Laura'],
    lastNames: ['Garcia', 'Rodriguez', 'Gonzalez', 'Fernandez', 'Lopez', 'Martinez', 'Sanchez', 'Perez'],
    tld: 'es',
    phone: '+34 9## ### ###',
    lead: { US: [18, 32], GB: [5, 12] },
  },
  {
    code: 'TR',
    cities: ['Istanbul', 'Bursa', 'Izmir', 'Denizli', 'Gaziantep'],
    stems: ['Yilmaz', 'Kaya', 'Demir', 'Sahin', 'Celik', 'Anadolu', 'Marmara', 'Bosphorus'],
    name: suffixed('A.S.', 'Ltd. Sti.'),
    firstNames: ['Mehmet', 'Ayse', 'Mustafa', 'Fatma', 'Emre', 'Zeynep', 'Burak', 'Elif'],
    lastNames: ['Yilmaz', 'Kaya', 'Demir', 'Sahin', 'Celik', 'Yildiz', 'Aydin', 'Ozturk'],
    tld: 'com.tr',
    phone: '+90 !## ### ## ##',
    lead: { US: [22, 36], GB: [8, 18] },
  },
];

/** A supplier in the US or the UK, drawn from that locale's own names, towns and phone format. */
function homeCountry(profile: LocaleProfile): SupplierCountry {
  const gb = profile.country === 'GB';
  return {
    code: profile.country,
    profile,
    cities: [],
    stems: profile.lastNames,
    name: gb ? suffixed('Ltd', 'Ltd', 'Ltd', 'PLC') : suffixed('Inc.', 'LLC', 'Corp.', 'Co.'),
    firstNames: profile.firstNamesFemale,
    lastNames: profile.lastNames,
    tld: gb ? 'co.uk' : 'com',
    phone: '',
    lead: gb ? { US: [14, 26], GB: [2, 6] } : { US: [2, 8], GB: [14, 26] },
  };
}

const US_HOME = homeCountry(localeProfile('en_US'));
const GB_HOME = homeCountry(localeProfile('en_GB'));
const byCode = (code: string) => {
  const country = FOREIGN.find((c) => c.code === code);
  if (!country) throw new Error(`no supplier country ${code}`);
  return country;
};

/** Where a US or a UK shop buys: about 40% at home, most of the rest in Asia and Europe. */
const MIX: Record<'US' | 'GB', WeightedChoice<SupplierCountry>> = {
  US: new WeightedChoice<SupplierCountry>([
    [US_HOME, 40], [byCode('CN'), 18], [byCode('MX'), 8], [byCode('CA'), 7], [byCode('VN'), 5], [byCode('IN'), 5],
    [byCode('TW'), 4], [byCode('DE'), 4], [byCode('JP'), 3], [byCode('KR'), 3], [byCode('IT'), 3],
  ]),
  GB: new WeightedChoice<SupplierCountry>([
    [GB_HOME, 38], [byCode('CN'), 14], [byCode('DE'), 9], [byCode('NL'), 6], [byCode('FR'), 5], [byCode('IT'), 5],
    [byCode('PL'), 5], [byCode('IN'), 4], [byCode('TR'), 4], [US_HOME, 4], [byCode('ES'), 3], [byCode('VN'), 3],
  ]),
};

/** What suppliers of each department call their trade (keyed by department name). */
const TRADES: Readonly<Record<string, readonly string[]>> = {
  Electronics: ['Electronics', 'Technology', 'Digital', 'Components'],
  Fashion: ['Apparel', 'Textiles', 'Garments', 'Fashion'],
  'Home & Kitchen': ['Homeware', 'Housewares', 'Furnishings', 'Kitchenware'],
  'Beauty & Health': ['Cosmetics', 'Personal Care', 'Health Products', 'Beauty'],
  'Sports & Outdoors': ['Sporting Goods', 'Outdoor', 'Sports', 'Fitness'],
  'Books & Media': ['Publishing', 'Media', 'Books', 'Distribution'],
  'Toys & Games': ['Toys', 'Games', 'Playthings', 'Toy Manufacturing'],
  'Grocery & Gourmet': ['Foods', 'Food Products', 'Provisions', 'Beverages'],
};
/** Books and groceries are mostly bought at home. */
const MOSTLY_DOMESTIC: ReadonlySet<string> = new Set(['Books & Media', 'Grocery & Gourmet']);

const SALT_ACTIVE = tagOf('active');
const clamp = (x: number, lo: number, hi: number) => Math.min(hi, Math.max(lo, x));
const round2 = (x: number) => Math.round(x * 100) / 100;

/**
 * Suppliers the shop buys stock from. Supplier j specialises in department j mod 8 (its name
 * says so), is at home about 40% of the time and abroad otherwise (China, Mexico and Canada
 * for a US shop; China and the EU for a UK one), with lead times that grow with the distance
 * and reliability that shrinks with it. Onboarded before the window, like the catalogue.
 *
 * @example
 * new SupplierGenerator(world).record(0).country; // 'US', 'CN', 'MX', … (en_US); 'GB', 'CN', 'DE', … (en_GB)
 */
export class SupplierGenerator extends EntityGenerator<Supplier> {
  readonly population: number;
  private readonly cache: RecordCache<Supplier>;
  private readonly activeRng = new Rng();

  constructor(world: World) {
    super(world, 'suppliers');
    this.population = world.sizes.suppliers;
    this.cache = new RecordCache((j) => this.build(j), this.population, 16_384);
  }

  /** The department (index into DEPARTMENTS) supplier j specialises in. */
  static departmentOf(j: number): number {
    return j % DEPARTMENTS.length;
  }

  /** Whether supplier j is still active, without generating the record. */
  isActive(j: number): boolean {
    return this.activeRng.key(this.world.seed, this.tag, j, SALT_ACTIVE).chance(0.9);
  }

  /** Supplier j, memoised: product-suppliers and restocks look suppliers up again and again. */
  record(j: number): Supplier {
    return this.cache.get(j);
  }

  private build(j: number): Supplier {
    const { profile, window } = this.world;
    const shop = profile.country === 'GB' ? 'GB' : 'US';
    const home = shop === 'GB' ? GB_HOME : US_HOME;
    const rng = this.keyed(j);
    const department = DEPARTMENTS[SupplierGenerator.departmentOf(j)]?.name ?? '';
    const country = MOSTLY_DOMESTIC.has(department) && rng.chance(0.6) ? home : MIX[shop].draw(rng);
    const trade = rng.pick(TRADES[department] ?? ['Trading']);
    const stem = rng.pick(country.stems);

    let city: string;
    let phone: string;
    let contact: string;
    const local = country.profile;
    if (local) {
      city = local.places.draw(rng).city;
      const national = local.phone(rng);
      // Abroad, a national number gets its country code (and loses the UK trunk 0).
      phone = country === home ? national : country === US_HOME ? `+1 ${national}` : `+44 ${national.slice(1)}`;
      const first = rng.chance(0.5) ? local.firstNamesFemale : local.firstNamesMale;
      contact = `${rng.pick(first)} ${rng.pick(local.lastNames)}`;
    } else {
      city = rng.pick(country.cities);
      phone = fillPattern(rng, country.phone);
      contact = `${rng.pick(country.firstNames)} ${rng.pick(country.lastNames)}`;
    }
    const name = country.name(rng, stem, trade, city);
    const domain = `${slugify(`${stem} ${trade}`).slice(0, 28).replace(/-$/, '')}.${country.tld}`;
    const mailbox = country === home ? rng.pick(['sales', 'orders', 'wholesale']) : rng.pick(['export', 'sales', 'info']);

    const [minLead, maxLead] = country.lead[shop];
    const lead = rng.between(minLead, maxLead);
    // Long supply chains slip more often: reliability falls with lead time.
    const reliability = round2(clamp(0.94 - lead * 0.0025 + rng.normal() * 0.05, 0.5, 0.99));
    const onTime = round2(clamp(reliability - 0.04 + rng.normal() * 0.04, 0.3, 1));
    const rating = Math.round(clamp(2.2 + 2.6 * reliability + rng.normal() * 0.3, 1, 5) * 10) / 10;
    return {
      supplier_id: this.idOf(j),
      name,
      contact_name: contact,
      email: `${mailbox}@${domain}`,
      phone_number: phone,
      country: country.code,
      city,
      lead_time_days: lead,
      reliability_score: reliability,
      on_time_rate: onTime,
      rating,
      created_at: iso(busyMoment(rng, window.start - CATALOGUE_HISTORY_MS, window.start)),
      is_active: this.isActive(j),
    };
  }
}
