import type { CustomerSegment } from '../schemas/customer-segment.js';
import { EntityGenerator } from './entity.js';
import type { World } from './world.js';

interface SegmentDefinition {
  readonly code: string;
  readonly name: string;
  readonly description: string;
  readonly rule: string;
  readonly perk: number;
}

/** The fixed segments, most valuable first; users.ts assigns them by the same rules. */
export const SEGMENTS: readonly SegmentDefinition[] = [
  { code: 'vip', name: 'VIP', description: 'The few customers who buy far more than anyone else.', rule: 'active, and expected orders at least 3x the average customer', perk: 0.15 },
  { code: 'loyal', name: 'Loyal', description: 'Frequent repeat buyers.', rule: 'active, and expected orders 1.5x-3x the average customer', perk: 0.1 },
  { code: 'new', name: 'New', description: 'Signed up in the last 45 days of the window.', rule: 'active, signed up in the last 45 days of the date window', perk: 0.1 },
  { code: 'regular', name: 'Regular', description: 'Steady customers with typical order volume.', rule: 'active, with loyalty points of 500 or more', perk: 0.05 },
  { code: 'occasional', name: 'Occasional', description: 'Customers who buy now and then.', rule: 'active, all other customers', perk: 0.05 },
  { code: 'churned', name: 'Churned', description: 'Closed accounts.', rule: 'is_active is false', perk: 0 },
];

export type SegmentCode = (typeof SEGMENTS)[number]['code'];

/**
 * Customer segments: a fixed list; only the ids depend on the seed.
 *
 * @example
 * new CustomerSegmentGenerator(world).record(0).code; // 'vip'
 */
export class CustomerSegmentGenerator extends EntityGenerator<CustomerSegment> {
  readonly population = SEGMENTS.length;

  constructor(world: World) {
    super(world, 'customer-segments');
  }

  /** Index of a segment by code. */
  indexOf(code: string): number {
    const index = SEGMENTS.findIndex((s) => s.code === code);
    if (index < 0) throw new RangeError(`no segment ${code}`);
    return index;
  }

  record(i: number): CustomerSegment {
    const segment = SEGMENTS[i];
    if (!segment) throw new RangeError(`customer segment ${i} does not exist`);
    return {
      segment_id: this.idOf(i),
      code: segment.code,
      name: segment.name,
      description: segment.description,
      rule: segment.rule,
      perk_discount_rate: segment.perk,
      priority: i + 1,
    };
  }
}
