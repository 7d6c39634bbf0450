import type { TObject, TSchema } from '@sinclair/typebox';
import { CategorySchema } from '../schemas/category.js';
import { InventorySchema } from '../schemas/inventory.js';
import { OrderItemSchema, OrderSchema } from '../schemas/order.js';
import { PaymentSchema } from '../schemas/payment.js';
import { ProductSchema } from '../schemas/product.js';
import { ReturnSchema } from '../schemas/return.js';
import { ShipmentSchema } from '../schemas/shipment.js';
import { UserSchema } from '../schemas/user.js';
import { VendorSchema } from '../schemas/vendor.js';
import { WarehouseSchema } from '../schemas/warehouse.js';
import { CategoryGenerator } from './categories.js';
import type { EntityGenerator } from './entity.js';
import { InventoryGenerator } from './inventory.js';
import { OrderItemGenerator } from './order-items.js';
import { OrderGenerator } from './orders.js';
import { PaymentGenerator } from './payments.js';
import { ProductGenerator } from './products.js';
import { ReturnGenerator } from './returns.js';
import { ShipmentGenerator } from './shipping.js';
import { UserGenerator } from './users.js';
import { VendorGenerator } from './vendors.js';
import { WarehouseGenerator } from './warehouses.js';
import type { World } from './world.js';
import { CustomerSegmentSchema } from '../schemas/customer-segment.js';
import { CustomerSegmentGenerator } from './customer-segments.js';
import { PromotionSchema } from '../schemas/promotion.js';
import { PromotionGenerator } from './promotions.js';
// @imports-segments
// @imports-engagement
// @imports-supply
// @imports-behaviour
// @imports-performance

/** What the rest of the service needs to know about an entity, in one place. */
export interface EntityDefinition<G extends EntityGenerator = EntityGenerator> {
  readonly schema: TObject;
  /**
   * Query parameters of this entity only (e.g. `days` for performance-events), as TypeBox
   * properties. Validated on its GET route and sink requests; their values reach the generator
   * as `world.params`, and they are part of the world's identity.
   */
  readonly params?: Readonly<Record<string, TSchema>>;
  readonly primaryKey: string;
  /** Foreign-key columns and the entity each one references (by its primary key). */
  readonly foreignKeys: Readonly<Record<string, string>>;
  /** XML element names: the plural root and the singular record element. */
  readonly xml: { readonly root: string; readonly item: string };
  /** Swagger tag. */
  readonly group: 'Customers' | 'Catalogue' | 'Orders' | 'Engagement' | 'Supply' | 'Behaviour' | 'Observability';
  readonly summary: string;
  readonly description: string;
  readonly create: (world: World) => G;
}

const define = <G extends EntityGenerator>(d: EntityDefinition<G>) => d;

/**
 * Every entity, in dependency order (an entity only references entities listed before it).
 * The URL segment is the key: `GET /api/v1/<key>`.
 */
export const ENTITIES = {
  'customer-segments': define({
    schema: CustomerSegmentSchema,
    primaryKey: 'segment_id',
    foreignKeys: {},
    xml: { root: 'customer_segments', item: 'customer_segment' },
    group: 'Customers',
    summary: 'Customer segments',
    description: 'The six marketing segments (vip, loyal, new, regular, occasional, churned) with their assignment rules; every user carries one in segment_id. Fixed: only ids depend on the seed.',
    create: (w) => new CustomerSegmentGenerator(w),
  }),
  // @segments
  users: define({
    schema: UserSchema,
    primaryKey: 'user_id',
    foreignKeys: { segment_id: 'customer-segments' },
    xml: { root: 'users', item: 'user' },
    group: 'Customers',
    summary: 'Customers',
    description: 'Registered customers with contact details and address. Population: 1,000 x scale (`users=` overrides).',
    create: (w) => new UserGenerator(w),
  }),
  categories: define({
    schema: CategorySchema,
    primaryKey: 'category_id',
    foreignKeys: { parent_id: 'categories' },
    xml: { root: 'categories', item: 'category' },
    group: 'Catalogue',
    summary: 'Product categories',
    description: 'The fixed two-level category tree: 8 departments and their subcategories (48 rows; only ids depend on the seed).',
    create: (w) => new CategoryGenerator(w),
  }),
  vendors: define({
    schema: VendorSchema,
    primaryKey: 'vendor_id',
    foreignKeys: {},
    xml: { root: 'vendors', item: 'vendor' },
    group: 'Catalogue',
    summary: 'Vendors',
    description: 'Companies supplying the products. Population: 50 x sqrt(scale) (`vendors=` overrides).',
    create: (w) => new VendorGenerator(w),
  }),
  warehouses: define({
    schema: WarehouseSchema,
    primaryKey: 'warehouse_id',
    foreignKeys: {},
    xml: { root: 'warehouses', item: 'warehouse' },
    group: 'Catalogue',
    summary: 'Warehouses',
    description: 'Fulfilment centres that hold stock and ship orders. Population: 10 x sqrt(scale) (`warehouses=` overrides).',
    create: (w) => new WarehouseGenerator(w),
  }),
  products: define({
    schema: ProductSchema,
    primaryKey: 'product_id',
    foreignKeys: { category_id: 'categories', vendor_id: 'vendors' },
    xml: { root: 'products', item: 'product' },
    group: 'Catalogue',
    summary: 'Products',
    description:
      'Catalogue products filed under subcategories; prices cluster per category, cost < price, stock_quantity = sum of inventory. Population: 500 x scale (`products=` overrides).',
    create: (w) => new ProductGenerator(w),
  }),
  // @supply-catalogue
  promotions: define({
    schema: PromotionSchema,
    primaryKey: 'promotion_id',
    foreignKeys: { target_category_id: 'categories', target_product_id: 'products' },
    xml: { root: 'promotions', item: 'promotion' },
    group: 'Engagement',
    summary: 'Promotion codes',
    description:
      'Codes with a percentage or fixed discount, a validity window and a target (the whole order, a category or a product). An order carrying a code got exactly its discount. Population: 30 x sqrt(orders / 5,000).',
    create: (w) => new PromotionGenerator(w),
  }),
  // @promotions
  inventory: define({
    schema: InventorySchema,
    primaryKey: 'inventory_id',
    foreignKeys: { product_id: 'products', warehouse_id: 'warehouses' },
    xml: { root: 'inventory', item: 'stock_level' },
    group: 'Catalogue',
    summary: 'Stock per product and warehouse',
    description: 'One row per (product, warehouse): products x warehouses rows, product-major.',
    create: (w) => new InventoryGenerator(w),
  }),
  orders: define({
    schema: OrderSchema,
    primaryKey: 'order_id',
    foreignKeys: { user_id: 'users', promotion_id: 'promotions' },
    xml: { root: 'orders', item: 'order' },
    group: 'Orders',
    summary: 'Orders with their lines',
    description:
      'Customer orders with lines nested under `items` (served flat by /order-items). total = subtotal - discount + tax + shipping_cost. Population: 5,000 x scale (`orders=` overrides).',
    create: (w) => new OrderGenerator(w),
  }),
  'order-items': define({
    schema: OrderItemSchema,
    primaryKey: 'order_item_id',
    foreignKeys: { order_id: 'orders', product_id: 'products' },
    xml: { root: 'order_items', item: 'order_item' },
    group: 'Orders',
    summary: 'Order lines, flat',
    description: 'The lines nested in /orders, one row each with its order_id, in order of the orders.',
    create: (w) => new OrderItemGenerator(w),
  }),
  payments: define({
    schema: PaymentSchema,
    primaryKey: 'payment_id',
    foreignKeys: { order_id: 'orders', user_id: 'users' },
    xml: { root: 'payments', item: 'payment' },
    group: 'Orders',
    summary: 'Payments',
    description: 'Exactly one payment per order (payment i pays order i); amount = order total.',
    create: (w) => new PaymentGenerator(w),
  }),
  shipping: define({
    schema: ShipmentSchema,
    primaryKey: 'shipment_id',
    foreignKeys: { order_id: 'orders', warehouse_id: 'warehouses' },
    xml: { root: 'shipments', item: 'shipment' },
    group: 'Orders',
    summary: 'Shipments',
    description: 'One shipment per shipped or delivered order; cancelled and unpaid orders ship nothing.',
    create: (w) => new ShipmentGenerator(w),
  }),
  returns: define({
    schema: ReturnSchema,
    primaryKey: 'return_id',
    foreignKeys: { order_id: 'orders', order_item_id: 'order-items', product_id: 'products', user_id: 'users' },
    xml: { root: 'returns', item: 'return' },
    group: 'Orders',
    summary: 'Returns',
    description: 'Returns of a line of a delivered order, requested after delivery; refund never exceeds what was paid.',
    create: (w) => new ReturnGenerator(w),
  }),
  // @engagement
  // @supply
  // @behaviour
  // @performance
} as const;

export type EntityRegistry = typeof ENTITIES;
export type EntityName = keyof EntityRegistry;
export type GeneratorOf<N extends EntityName> = ReturnType<EntityRegistry[N]['create']>;

/** Entity names in dependency order. */
export const ENTITY_NAMES = Object.keys(ENTITIES) as EntityName[];

export function isEntityName(name: string): name is EntityName {
  return Object.hasOwn(ENTITIES, name);
}

export function entityDefinition(name: EntityName): EntityDefinition {
  return ENTITIES[name];
}
