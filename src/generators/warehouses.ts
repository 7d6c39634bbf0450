import type { Warehouse } from '../schemas/warehouse.js';
import { EntityGenerator } from './entity.js';
import { iso } from './time.js';
import { CATALOGUE_HISTORY_MS } from './vendors.js';
import type { World } from './world.js';

/**
 * Fulfilment centres, opened before the window.
 *
 * @example
 * new WarehouseGenerator(world).record(0).code; // 'WH-01'
 */
export class WarehouseGenerator extends EntityGenerator<Warehouse> {
  readonly population: number;

  constructor(world: World) {
    super(world, 'warehouses');
    this.population = world.sizes.warehouses;
  }

  record(i: number): Warehouse {
    const { profile, window } = this.world;
    const rng = this.keyed(i);
    const place = profile.places.draw(rng);
    const kind = profile.country === 'GB' ? 'Fulfilment Centre' : 'Distribution Center';
    const building = profile.country === 'GB' ? rng.between(1, 120) : rng.between(1000, 9999);
    return {
      warehouse_id: this.idOf(i),
      code: `WH-${String(i + 1).padStart(2, '0')}`,
      name: `${place.city} ${kind} ${i + 1}`,
      address: `${building} ${rng.pick(['Industrial', 'Commerce', 'Logistics', 'Enterprise', 'Gateway'])} ${rng.pick(profile.streetSuffixes)}`,
      city: place.city,
      state: place.state,
      postal_code: place.postcode(rng),
      country: profile.country,
      capacity_units: rng.between(20, 500) * 1000,
      manager: `${rng.pick(profile.firstNamesFemale.concat(profile.firstNamesMale))} ${rng.pick(profile.lastNames)}`,
      created_at: iso(window.start - CATALOGUE_HISTORY_MS - rng.int(CATALOGUE_HISTORY_MS)),
      is_active: i === 0 || rng.chance(0.95),
    };
  }
}
