import type { Faker } from '@faker-js/faker';
import type { Vendor } from '../schemas/vendor.js';
import { slugify } from './catalogue.js';
import { EntityGenerator } from './entity.js';
import { seededFaker } from './locale.js';
import { DAY, busyMoment, iso } from './time.js';
import type { World } from './world.js';

/** How long before the date window the catalogue (vendors, warehouses, products) was built. */
export const CATALOGUE_HISTORY_MS = 730 * DAY;

/**
 * Vendors supplying the catalogue, onboarded in the two years before the window.
 *
 * @example
 * new VendorGenerator(world).record(3).name; // 'Hartley, Grant and Fox'-like
 */
export class VendorGenerator extends EntityGenerator<Vendor> {
  readonly population: number;
  private readonly faker: Faker;

  constructor(world: World) {
    super(world, 'vendors');
    this.population = world.sizes.vendors;
    this.faker = seededFaker(world.profile, this.rng);
  }

  record(i: number): Vendor {
    const { profile, window } = this.world;
    const rng = this.keyed(i);
    const name = this.faker.company.name();
    const domain = `${slugify(name).replace(/-/g, '').slice(0, 24) || 'vendor'}.com`;
    const place = profile.places.draw(rng);
    const building = profile.country === 'GB' ? rng.between(1, 300) : rng.between(100, 9999);
    return {
      vendor_id: this.idOf(i),
      name,
      contact_name: `${rng.pick(profile.firstNamesFemale.concat(profile.firstNamesMale))} ${rng.pick(profile.lastNames)}`,
      email: `sales@${domain}`,
      phone_number: profile.phone(rng),
      website: `https://www.${domain}`,
      address: `${building} ${rng.pick(profile.lastNames)} ${rng.pick(profile.streetSuffixes)}`,
      city: place.city,
      state: place.state,
      postal_code: place.postcode(rng),
      country: profile.country,
      rating: Math.round(Math.min(5, Math.max(1, 4.3 + rng.normal() * 0.45)) * 10) / 10,
      commission_rate: rng.between(5, 20) / 100,
      created_at: iso(busyMoment(rng, window.start - CATALOGUE_HISTORY_MS, window.start)),
      is_active: rng.chance(0.94),
    };
  }
}
