import { createHash } from 'node:crypto';
import { FORMATS } from '../formats/index.js';
import { ENTITIES, type EntityName } from '../generators/registry.js';
import { World, type WorldSpec } from '../generators/world.js';
import { formatContext, renderBatch } from '../render/batch.js';

export interface EntityChecksum {
  entity: EntityName;
  /** The locale it was hashed in (the world's: every entity serves the request's locale). */
  locale: string;
  population: number;
  csv_bytes: number;
  csv_sha256: string;
}

export interface ManifestTotals {
  order_revenue: number;
  order_revenue_all: number;
  units_sold: number;
  discounts: number;
  tax: number;
  payments_completed: number;
  refunds: number;
}

/** Streams the canonical CSV of a whole population through SHA-256 in batches (flat memory). */
function checksum(world: World, entity: EntityName): EntityChecksum {
  const hash = createHash('sha256');
  const columns = Object.keys(ENTITIES[entity].schema.properties);
  const context = formatContext(entity, columns);
  const population = world.generator(entity).population;
  let bytes = 0;
  const add = (text: string | Uint8Array) => {
    const chunk = typeof text === 'string' ? Buffer.from(text, 'utf8') : text;
    bytes += chunk.length;
    hash.update(chunk);
  };
  add(FORMATS.csv.open(context));
  const spec = world.spec;
  for (let start = 0; start < population; start += 4096) {
    const end = Math.min(population, start + 4096);
    add(renderBatch({ spec, entity, format: 'csv', columns, projected: false, start, end, first: start === 0 }));
  }
  add(FORMATS.csv.close(context, population === 0));
  return { entity, locale: world.locale, population, csv_bytes: bytes, csv_sha256: hash.digest('hex') };
}

function totalsOf(world: World): ManifestTotals {
  const orders = world.generator('orders');
  let revenue = 0;
  let revenueAll = 0;
  let units = 0;
  let discounts = 0;
  let tax = 0;
  for (const order of orders.range(0, orders.population)) {
    const total = Math.round(order.total * 100);
    revenueAll += total;
    discounts += Math.round(order.discount * 100);
    tax += Math.round(order.tax * 100);
    if (order.status !== 'cancelled') {
      revenue += total;
      for (const line of order.items) units += line.quantity;
    }
  }
  let paid = 0;
  for (const payment of world.generator('payments').range(0, orders.population)) {
    if (payment.status === 'completed') paid += Math.round(payment.amount * 100);
  }
  let refunds = 0;
  const returns = world.generator('returns');
  for (const item of returns.range(0, returns.population)) refunds += Math.round(item.refund_amount * 100);
  return {
    order_revenue: revenue / 100,
    order_revenue_all: revenueAll / 100,
    units_sold: units,
    discounts: discounts / 100,
    tax: tax / 100,
    payments_completed: paid / 100,
    refunds: refunds / 100,
  };
}

/**
 * The key sums and per-entity CSV checksums of a world: every record of the listed entities is
 * generated once. Seconds of CPU at scale 1, so it runs on a precompute thread, never on the
 * server's event loop (see src/precompute/pool.ts).
 */
export function manifestData(spec: WorldSpec, entities: readonly EntityName[]): { totals: ManifestTotals; entities: EntityChecksum[] } {
  const world = World.of(spec);
  return { totals: totalsOf(world), entities: entities.map((entity) => checksum(world, entity)) };
}
