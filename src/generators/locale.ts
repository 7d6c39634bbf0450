import { Faker, base, en, en_GB, en_US, type LocaleDefinition, type Randomizer } from '@faker-js/faker';
import { WeightedChoice, decimal, decimal5, type Rng } from './random.js';
import type { FieldWriter } from '../formats/fields.js';

/** A place a customer, vendor or warehouse can be: city, region, postcode rule, sales tax. */
export interface Place {
  readonly city: string;
  /** US state code, or the UK county/region. */
  readonly state: string;
  readonly postcode: (rng: Rng) => string;
  /** The same draws and text as {@link postcode}, written as a text field of `w`. */
  readonly writePostcode: (rng: Rng, w: FieldWriter) => void;
  /** Sales tax of the state (US, state + average local rate) or VAT (UK) applied to orders shipped here. */
  readonly taxRate: number;
}

/** Everything locale-specific that generators draw from, built once per locale. */
export interface LocaleProfile {
  readonly code: LocaleCode;
  readonly country: string;
  readonly currency: string;
  readonly places: WeightedChoice<Place>;
  readonly firstNamesFemale: readonly string[];
  readonly firstNamesMale: readonly string[];
  readonly lastNames: readonly string[];
  readonly streetSuffixes: readonly string[];
  readonly emailDomains: readonly string[];
  /** A phone number in the locale's national format. */
  readonly phone: (rng: Rng) => string;
  /** The same draws and text as {@link phone}, written as a text field of `w` (a 14-character concatenation is a rope V8 reads slowly char by char). */
  readonly writePhone: (rng: Rng, w: FieldWriter) => void;
  /** Faker's locale chain, for the rarer fields drawn through faker. */
  readonly fakerLocales: LocaleDefinition[];
}

export const LOCALES = ['en_US', 'en_GB'] as const;

/** Zero-padded numbers 0000-9999, built once (phone numbers and postcodes use them per record). */
const PAD4: string[] = Array.from({ length: 10_000 }, (_, k) => String(k).padStart(4, '0'));

/**
 * The digits of a whole number 0 <= n < 10^width, zero-padded to `width`, into an open field of
 * `w`: the text of `PAD4[n]` or `decimal5(n)` without reading one of 10,000 table strings, which
 * sit apart in the heap and missed the processor's caches on most reads (users written field by
 * field ~15% faster with the phone, building and ZIP code written this way, in-process).
 */
function writePadded(w: FieldWriter, n: number, width: number): void {
  for (let bound = 10 ** (width - 1); bound > 1 && n < bound; bound /= 10) w.piece('0');
  w.digits(n);
}
export type LocaleCode = (typeof LOCALES)[number];

/** Fills a faker-style pattern: `#` any digit, `!` a digit 2-9, `?` an upper-case letter. */
export function fillPattern(rng: Rng, pattern: string, letters = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ'): string {
  let out = '';
  for (let k = 0; k < pattern.length; k++) {
    const ch = pattern[k];
    if (ch === '#') out += String.fromCharCode(48 + rng.int(10));
    else if (ch === '!') out += String.fromCharCode(50 + rng.int(8));
    else if (ch === '?') out += letters[rng.int(letters.length)];
    else out += ch;
  }
  return out;
}

/**
 * Sales tax per state: the state rate plus the state's average local rate (one rate per state,
 * so every address of a state pays the same; Oregon has none, DC is its own jurisdiction).
 */
export const US_STATE_SALES_TAX: Readonly<Record<string, number>> = {
  AZ: 0.0852, CA: 0.0885, CO: 0.0781, DC: 0.06, FL: 0.07, GA: 0.0742, IL: 0.0886, IN: 0.07, KY: 0.06,
  MA: 0.0625, MD: 0.06, MI: 0.06, MN: 0.0804, MO: 0.084, NC: 0.07, NE: 0.0697, NM: 0.0762, NV: 0.0824,
  NY: 0.0853, OH: 0.0724, OR: 0, PA: 0.0634, TN: 0.0956, TX: 0.082, UT: 0.0725, WA: 0.0938, WI: 0.057,
};

// US: [city, state, first ZIP, last ZIP, weight ~ population in millions]
const US_PLACES: ReadonlyArray<readonly [string, string, number, number, number]> = [
  ['New York', 'NY', 10001, 10292, 8.3],
  ['Los Angeles', 'CA', 90001, 90089, 3.9],
  ['Chicago', 'IL', 60601, 60661, 2.7],
  ['Houston', 'TX', 77001, 77099, 2.3],
  ['Phoenix', 'AZ', 85001, 85055, 1.6],
  ['Philadelphia', 'PA', 19102, 19154, 1.6],
  ['San Antonio', 'TX', 78201, 78266, 1.5],
  ['San Diego', 'CA', 92101, 92199, 1.4],
  ['Dallas', 'TX', 75201, 75398, 1.3],
  ['San Jose', 'CA', 95110, 95196, 1.0],
  ['Austin', 'TX', 78701, 78759, 1.0],
  ['Jacksonville', 'FL', 32099, 32277, 0.95],
  ['Columbus', 'OH', 43085, 43235, 0.9],
  ['Charlotte', 'NC', 28201, 28299, 0.9],
  ['Indianapolis', 'IN', 46201, 46298, 0.88],
  ['San Francisco', 'CA', 94102, 94188, 0.87],
  ['Seattle', 'WA', 98101, 98199, 0.75],
  ['Denver', 'CO', 80201, 80299, 0.72],
  ['Washington', 'DC', 20001, 20099, 0.7],
  ['Nashville', 'TN', 37201, 37250, 0.69],
  ['Boston', 'MA', 2108, 2137, 0.68],
  ['Portland', 'OR', 97201, 97299, 0.65],
  ['Las Vegas', 'NV', 89101, 89199, 0.64],
  ['Detroit', 'MI', 48201, 48288, 0.63],
  ['Memphis', 'TN', 38101, 38197, 0.63],
  ['Louisville', 'KY', 40201, 40299, 0.62],
  ['Baltimore', 'MD', 21201, 21298, 0.58],
  ['Milwaukee', 'WI', 53201, 53295, 0.57],
  ['Albuquerque', 'NM', 87101, 87199, 0.56],
  ['Sacramento', 'CA', 94203, 94299, 0.52],
  ['Atlanta', 'GA', 30301, 30399, 0.5],
  ['Kansas City', 'MO', 64101, 64199, 0.5],
  ['Omaha', 'NE', 68101, 68198, 0.48],
  ['Raleigh', 'NC', 27601, 27699, 0.47],
  ['Miami', 'FL', 33101, 33299, 0.45],
  ['Minneapolis', 'MN', 55401, 55488, 0.43],
  ['Tampa', 'FL', 33601, 33694, 0.4],
  ['Cleveland', 'OH', 44101, 44199, 0.37],
  ['Pittsburgh', 'PA', 15201, 15295, 0.3],
  ['Salt Lake City', 'UT', 84101, 84199, 0.2],
];

// UK: [post town, county or region, postcode areas, first district, last district, weight]
const UK_PLACES: ReadonlyArray<readonly [string, string, readonly string[], number, number, number]> = [
  ['London', 'Greater London', ['E', 'N', 'NW', 'SE', 'SW', 'W'], 1, 11, 9.0],
  ['Birmingham', 'West Midlands', ['B'], 1, 48, 1.1],
  ['Leeds', 'West Yorkshire', ['LS'], 1, 29, 0.8],
  ['Glasgow', 'Glasgow City', ['G'], 1, 84, 0.63],
  ['Sheffield', 'South Yorkshire', ['S'], 1, 36, 0.58],
  ['Manchester', 'Greater Manchester', ['M'], 1, 46, 0.55],
  ['Bradford', 'West Yorkshire', ['BD'], 1, 24, 0.54],
  ['Edinburgh', 'City of Edinburgh', ['EH'], 1, 55, 0.52],
  ['Liverpool', 'Merseyside', ['L'], 1, 40, 0.5],
  ['Bristol', 'Bristol', ['BS'], 1, 16, 0.47],
  ['Coventry', 'West Midlands', ['CV'], 1, 8, 0.37],
  ['Cardiff', 'Cardiff', ['CF'], 3, 24, 0.36],
  ['Leicester', 'Leicestershire', ['LE'], 1, 19, 0.35],
  ['Belfast', 'County Antrim', ['BT'], 1, 17, 0.34],
  ['Nottingham', 'Nottinghamshire', ['NG'], 1, 22, 0.32],
  ['Newcastle upon Tyne', 'Tyne and Wear', ['NE'], 1, 15, 0.3],
  ['Brighton', 'East Sussex', ['BN'], 1, 3, 0.29],
  ['Plymouth', 'Devon', ['PL'], 1, 9, 0.26],
  ['Stoke-on-Trent', 'Staffordshire', ['ST'], 1, 12, 0.26],
  ['Southampton', 'Hampshire', ['SO'], 14, 19, 0.25],
  ['Derby', 'Derbyshire', ['DE'], 1, 24, 0.25],
  ['Swansea', 'Swansea', ['SA'], 1, 9, 0.24],
  ['Milton Keynes', 'Buckinghamshire', ['MK'], 1, 19, 0.23],
  ['York', 'North Yorkshire', ['YO'], 1, 32, 0.2],
  ['Aberdeen', 'Aberdeen City', ['AB'], 10, 25, 0.2],
  ['Reading', 'Berkshire', ['RG'], 1, 6, 0.17],
  ['Oxford', 'Oxfordshire', ['OX'], 1, 4, 0.15],
  ['Cambridge', 'Cambridgeshire', ['CB'], 1, 5, 0.14],
  ['Norwich', 'Norfolk', ['NR'], 1, 14, 0.14],
  ['Exeter', 'Devon', ['EX'], 1, 6, 0.13],
];

/**
 * UK mobile numbers are 07 then 1-5 or 7-9 (070 is personal numbering, 076 pagers): 11 digits,
 * written 07xxx xxxxxx.
 */
const UK_MOBILE_THIRD_DIGITS = ['1', '2', '3', '4', '5', '7', '8', '9'] as const;

/**
 * Ofcom's ranges reserved for drama (never allocated to a subscriber), as fillPattern patterns:
 * 11 digits with the leading 0, in the national written form.
 */
export const UK_DRAMA_LANDLINES = [
  '020 7946 0###', // London
  '0113 496 0###', // Leeds
  '0114 496 0###', // Sheffield
  '0115 496 0###', // Nottingham
  '0116 496 0###', // Leicester
  '0117 496 0###', // Bristol
  '0118 496 0###', // Reading
  '0121 496 0###', // Birmingham
  '0131 496 0###', // Edinburgh
  '0141 496 0###', // Glasgow
  '0151 496 0###', // Liverpool
  '0161 496 0###', // Manchester
  '0191 498 0###', // Tyneside
  '028 9649 6###', // Northern Ireland
  '029 2018 0###', // Cardiff
  '01632 960###', // no area
] as const;

// The inward code's two letters never use C, I, K, M, O or V (Royal Mail rule).
const INWARD_LETTERS = 'ABDEFGHJLNPQRSTUWXYZ';

function usPlaces(): WeightedChoice<Place> {
  return new WeightedChoice(
    US_PLACES.map(([city, state, first, last, weight]) => {
      const taxRate = US_STATE_SALES_TAX[state];
      if (taxRate === undefined) throw new Error(`no sales tax for state ${state}`);
      const place: Place = {
        city,
        state,
        taxRate,
        // Five digits, zero-padded (from digit tables: no number-to-string per record).
        postcode: (rng) => decimal5(rng.between(first, last)),
        writePostcode: (rng, w) => {
          w.open();
          writePadded(w, rng.between(first, last), 5);
          w.close();
        },
      };
      return [place, weight] as const;
    }),
  );
}

function ukPlaces(): WeightedChoice<Place> {
  return new WeightedChoice(
    UK_PLACES.map(([city, county, areas, first, last, weight]) => {
      const postcode = (rng: Rng) =>
        rng.pick(areas) + decimal(rng.between(first, last)) + ' ' + decimal(rng.int(10)) + fillPattern(rng, '??', INWARD_LETTERS);
      const place: Place = {
        city,
        state: county,
        taxRate: 0.2,
        postcode,
        writePostcode: (rng, w) => w.text(postcode(rng)),
      };
      return [place, weight] as const;
    }),
  );
}

function namesOf(faker: Faker): Pick<LocaleProfile, 'firstNamesFemale' | 'firstNamesMale' | 'lastNames'> {
  const person = faker.definitions.person;
  const first = person.first_name;
  const last = person.last_name;
  return {
    firstNamesFemale: first.female ?? first.generic ?? [],
    firstNamesMale: first.male ?? first.generic ?? [],
    lastNames: last.generic ?? [],
  };
}

// Most UK customers give a mobile: 07xxx xxxxxx in the mobile ranges; landlines are Ofcom's
// drama numbers, so no real household's number is printed.
const ukPhone = (rng: Rng): string =>
  rng.chance(0.7) ? fillPattern(rng, `07${rng.pick(UK_MOBILE_THIRD_DIGITS)}## ######`) : fillPattern(rng, rng.pick(UK_DRAMA_LANDLINES));

function build(code: LocaleCode): LocaleProfile {
  if (code === 'en_GB') {
    const fakerLocales = [en_GB, en, base];
    const faker = new Faker({ locale: fakerLocales });
    return {
      code,
      country: 'GB',
      currency: 'GBP',
      places: ukPlaces(),
      ...namesOf(faker),
      streetSuffixes: faker.definitions.location.street_suffix,
      emailDomains: [...faker.definitions.internet.free_email, 'btinternet.com', 'outlook.com'],
      phone: ukPhone,
      writePhone: (rng, w) => w.text(ukPhone(rng)),
      fakerLocales,
    };
  }
  const fakerLocales = [en_US, en, base];
  const faker = new Faker({ locale: fakerLocales });
  return {
    code,
    country: 'US',
    currency: 'USD',
    places: usPlaces(),
    ...namesOf(faker),
    streetSuffixes: faker.definitions.location.street_suffix,
    emailDomains: [...faker.definitions.internet.free_email, 'outlook.com', 'icloud.com'],
    // (NXX) NXX-XXXX: area code and exchange never start with 0 or 1.
    phone: (rng) => '(' + decimal(rng.between(200, 999)) + ') ' + decimal(rng.between(200, 999)) + '-' + PAD4[rng.int(10_000)],
    writePhone: (rng, w) => {
      w.open();
      w.piece('(');
      w.digits(rng.between(200, 999));
      w.piece(') ');
      w.digits(rng.between(200, 999));
      w.piece('-');
      writePadded(w, rng.int(10_000), 4);
      w.close();
    },
    fakerLocales,
  };
}

const profiles = new Map<LocaleCode, LocaleProfile>();

/** The profile for a locale, built on first use and shared afterwards. */
export function localeProfile(code: LocaleCode): LocaleProfile {
  let profile = profiles.get(code);
  if (!profile) {
    profile = build(code);
    profiles.set(code, profile);
  }
  return profile;
}

/**
 * A faker instance whose every draw comes from `rng`: position `rng` at a record's key, then
 * call faker, and the value is a pure function of that key.
 */
export function seededFaker(profile: LocaleProfile, rng: Rng): Faker {
  const randomizer: Randomizer = {
    next: () => rng.next(),
    // Keys are set per record through the Rng; faker.seed() is never used.
    seed: () => undefined,
  };
  return new Faker({ locale: profile.fakerLocales, randomizer });
}
