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
import { ProductAnalyticsSchema, UserAnalyticsSchema } from '../schemas/analytics.js';
import { ProductAnalyticsGenerator, UserAnalyticsGenerator } from './analytics.js';
// @imports-segments
import { ReviewSchema } from '../schemas/review.js';
import { SupportTicketSchema } from '../schemas/support-ticket.js';
import { WishlistItemSchema } from '../schemas/wishlist.js';
import { NotificationSchema } from '../schemas/notification.js';
import { ReviewGenerator } from './reviews.js';
import { SupportTicketGenerator } from './support-tickets.js';
import { WishlistGenerator } from './wishlists.js';
import { NotificationGenerator } from './notifications.js';
// @imports-engagement
import { InventoryMovementSchema } from '../schemas/inventory-movement.js';
import { ProductSupplierSchema, SupplierSchema } from '../schemas/supplier.js';
import { InventoryMovementGenerator } from './inventory-movements.js';
import { ProductSupplierGenerator } from './product-suppliers.js';
import { SupplierGenerator } from './suppliers.js';
// @imports-supply
import { PriceChangeSchema } from '../schemas/price-change.js';
import { PriceChangeGenerator } from './price-history.js';
import { ClickstreamEventSchema } from '../schemas/clickstream.js';
import { SessionSchema } from '../schemas/session.js';
import { ShopSchema } from '../schemas/shop.js';
import { TransactionSchema } from '../schemas/transaction.js';
import { ClickstreamGenerator } from './clickstream.js';
import type { LocaleCode } from './locale.js';
import { SessionGenerator } from './sessions.js';
import { ShopGenerator } from './shops.js';
import { TransactionGenerator } from './transactions.js';
// @imports-behaviour
import { PerformanceEventSchema, PerformanceParams } from '../schemas/performance-event.js';
import { PerformanceEventGenerator, performanceQuery, performanceQueryProblem, performanceScheduleMs } from './performance-events.js';
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
  /** The locale served when the request names none (the world default is en_US). */
  readonly defaultLocale?: LocaleCode;
  /**
   * Cross-parameter checks the query schema cannot express (run on the entity's routes):
   * returns the offending parameter and why, or undefined when the query is fine.
   */
  readonly queryProblem?: (query: Readonly<Record<string, unknown>>) => { readonly parameter: string; readonly reason: string } | undefined;
  /**
   * Rewrites the query into the world parameters it means, before the world is built (routes
   * resolve relative dates first): performance-events turns `end_date` into the start_date of
   * the `days` days up to it.
   */
  readonly resolveQuery?: <Q extends Readonly<Record<string, unknown>>>(query: Q) => Q;
  /**
   * CPU (ms) a new world spends building the entity from its own parameters before its first
   * record, beyond what grows with the world's sizes (src/generators/cost.ts): above a few ms it
   * is built on a precompute thread (src/precompute/prepare.ts). performance-events: its
   * per-minute schedule, `days` x 1,440 minutes.
   */
  readonly parameterMs?: (params: Readonly<Record<string, unknown>>) => number;
  /**
   * Opts the entity in to `format=bulk` (OpenSearch `_bulk` NDJSON, `_id` = primary key):
   * the default index name; `index=` overrides it per request.
   */
  readonly bulkIndex?: string;
  readonly primaryKey: string;
  /** Foreign-key columns and the entity each one references (by its primary key). */
  readonly foreignKeys: Readonly<Record<string, string>>;
  /** XML element names: the plural root and the singular record element. */
  readonly xml: { readonly root: string; readonly item: string };
  /** Swagger tag. */
  readonly group: 'Customers' | 'Catalogue' | 'Orders' | 'Engagement' | 'Supply' | 'Behaviour' | 'Observability' | 'Analytics';
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
  suppliers: define({
    schema: SupplierSchema,
    primaryKey: 'supplier_id',
    foreignKeys: {},
    xml: { root: 'suppliers', item: 'supplier' },
    group: 'Supply',
    summary: 'Suppliers',
    description:
      'Companies the shop buys stock from, at home (about 40%) or abroad, each specialised in one department, with typical lead time, reliability, on-time rate and rating; onboarded before the window. Population: 40 x sqrt(scale) (`suppliers=` overrides).',
    create: (w) => new SupplierGenerator(w),
  }),
  'product-suppliers': define({
    schema: ProductSupplierSchema,
    primaryKey: 'product_supplier_id',
    foreignKeys: { product_id: 'products', supplier_id: 'suppliers' },
    xml: { root: 'product_suppliers', item: 'product_supplier' },
    group: 'Supply',
    summary: 'Suppliers of each product',
    description:
      "1-3 distinct suppliers per product, in product order, exactly one preferred; unit cost around the product's cost and below its price, lead time around the supplier's.",
    create: (w) => new ProductSupplierGenerator(w),
  }),
  // @supply-catalogue
  'price-changes': define({
    schema: PriceChangeSchema,
    primaryKey: 'change_id',
    foreignKeys: { product_id: 'products' },
    xml: { root: 'price_changes', item: 'price_change' },
    group: 'Catalogue',
    summary: 'Product price changes',
    description:
      "Every change of a product's price over the window, numbered in time order: promotions (a 5-30% cut and, 3-21 days later, back to the regular price), cost increases (+2-10%) and competitor matches (-3-10%), at the currency's price points. A product's changes chain (each previous_price is the new_price before it) and its last new_price is its price in /products; order lines and transactions are priced at the product's price at their time. About `price_change_rate` (default 0.5) changes per product per 30 days.",
    create: (w) => new PriceChangeGenerator(w),
  }),
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
    description: 'One payment per order (payment i pays order i), in order of the orders; amount = order total. With `payment_ratio` < 1 only that share of orders has a payment (the others stay pending).',
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
    description:
      "Returns of a line of a delivered order, requested after delivery. The refund of an approved or refunded return is what the customer paid for the returned units: the line's pro-rata share of subtotal - discount + tax (shipping is not refunded), rounded down to the cent, less a 10% restocking fee for change-of-mind returns; it never exceeds the payment.",
    create: (w) => new ReturnGenerator(w),
  }),
  reviews: define({
    schema: ReviewSchema,
    primaryKey: 'review_id',
    foreignKeys: { product_id: 'products', user_id: 'users', order_id: 'orders', order_item_id: 'order-items' },
    xml: { root: 'reviews', item: 'review' },
    group: 'Engagement',
    summary: 'Product reviews',
    description:
      'Verified reviews of delivered order lines by the customer who bought them, written after delivery (about 11% of delivered lines; more for late parcels and returned lines), then unverified reviews without an order (up to 0.25 x users). One review per customer and product (a second purchase is not reviewed again), and a review is verified exactly when its author ordered the product before writing it: an unverified review is never about a product its author ordered. Ratings 1-5 are J-shaped (mostly 5, a bump at 1) and drop with a bad experience; title and body agree with the rating.',
    create: (w) => new ReviewGenerator(w),
  }),
  'support-tickets': define({
    schema: SupportTicketSchema,
    primaryKey: 'ticket_id',
    foreignKeys: { user_id: 'users', order_id: 'orders' },
    xml: { root: 'support_tickets', item: 'support_ticket' },
    group: 'Engagement',
    summary: 'Customer support tickets',
    description:
      "Tickets about an order (about 8-9% of orders, more when something went wrong: refund tickets after a return request, payment tickets after a declined payment, delivery tickets past the promised date), then tickets without an order (0.06 x users: account, technical, product questions). Status is where each stands at the window end; resolved_at only when resolved or closed.",
    create: (w) => new SupportTicketGenerator(w),
  }),
  wishlists: define({
    schema: WishlistItemSchema,
    primaryKey: 'wishlist_item_id',
    foreignKeys: { user_id: 'users', product_id: 'products' },
    xml: { root: 'wishlists', item: 'wishlist_item' },
    group: 'Engagement',
    summary: 'Wishlist entries',
    description:
      'One row per (user, product) on a wishlist, grouped by user: about half of the customers keep one, with 1-25 distinct products (popular products more often), added after sign-up.',
    create: (w) => new WishlistGenerator(w),
  }),
  notifications: define({
    schema: NotificationSchema,
    primaryKey: 'notification_id',
    foreignKeys: { user_id: 'users', order_id: 'orders', product_id: 'products' },
    xml: { root: 'notifications', item: 'notification' },
    group: 'Engagement',
    summary: 'Customer notifications',
    description:
      'E-mail, SMS, push and in-app messages: one per order lifecycle event, sent exactly at it (confirmation at checkout, payment failure, cancellation, shipping, delivery, return request, a review request 3 days after delivery), then per user a welcome at sign-up, sometimes a password reset and, only for marketing_opt_in users, the fortnightly promotions after sign-up and a back-in-stock alert for a wishlist product.',
    create: (w) => new NotificationGenerator(w),
  }),
  // @engagement
  'inventory-movements': define({
    schema: InventoryMovementSchema,
    primaryKey: 'movement_id',
    foreignKeys: {
      product_id: 'products',
      warehouse_id: 'warehouses',
      order_item_id: 'order-items',
      return_id: 'returns',
      supplier_id: 'suppliers',
    },
    xml: { root: 'inventory_movements', item: 'inventory_movement' },
    group: 'Supply',
    summary: 'Stock movements',
    description:
      "Every change of stock per product and warehouse, in three segments: SALE (one per line of each shipped or delivered order: -quantity, the shipment's warehouse, at shipped_at), RETURN (one per approved or refunded return: +quantity into that warehouse, at resolved_at), then per inventory row 1-4 RESTOCK deliveries of its reorder_quantity from one of the product's suppliers (the last at last_restocked_at), and the odd DAMAGE (-) or ADJUSTMENT (+/-), and last a period-close stock count (ADJUSTMENT at the window's last second). The ledger balances: the row's opening stock (see /api/v1/events, inventory.opened) + its movements = quantity_on_hand.",
    create: (w) => new InventoryMovementGenerator(w),
  }),
  // @supply
  shops: define({
    schema: ShopSchema,
    primaryKey: 'shop_id',
    foreignKeys: {},
    xml: { root: 'shops', item: 'shop' },
    group: 'Supply',
    summary: 'Shops',
    description:
      "The store's shops: shop 0 is the flagship, then high-street stores, outlets, department-store concessions and online marketplace partners in the locale's cities, opened before the window; inactive shops sell nothing. Population: 25 x sqrt(scale) (`shops=` overrides).",
    create: (w) => new ShopGenerator(w),
  }),
  sessions: define({
    schema: SessionSchema,
    primaryKey: 'session_id',
    foreignKeys: { user_id: 'users', order_id: 'orders' },
    xml: { root: 'sessions', item: 'session' },
    group: 'Behaviour',
    summary: 'Web and app sessions',
    description:
      "Visits to the web shop with device, browser, os, a matching user_agent, ip_address and geo. Sessions 0..orders-1 are the checkout sessions of orders 0..orders-1 (logged in as the order's customer, containing the order's created_at); the rest browse and never buy. About 60% are logged in, always after the user signed up. Population: 5 x orders (25,000 x scale).",
    create: (w) => new SessionGenerator(w),
  }),
  clickstream: define({
    schema: ClickstreamEventSchema,
    primaryKey: 'event_id',
    foreignKeys: { session_id: 'sessions', user_id: 'users', product_id: 'products', order_id: 'orders' },
    xml: { root: 'clickstream', item: 'event' },
    group: 'Behaviour',
    summary: 'Clickstream events',
    description:
      "Events of the sessions, in session order: PAGE_VIEW, SEARCH, PRODUCT_VIEW, CART_ADD, CART_REMOVE, CHECKOUT, PURCHASE. Times never decrease along sequence_number and stay inside the session. A checkout session adds every product of its order to the cart and ends with a PURCHASE carrying the order_id at the order's created_at; browsing sessions never purchase. Population: the sum of sessions.event_count (about 6 per session, ~150,000 x scale).",
    create: (w) => new ClickstreamGenerator(w),
  }),
  transactions: define({
    schema: TransactionSchema,
    primaryKey: 'transaction_id',
    foreignKeys: { customer_id: 'users', product_id: 'products', shop_id: 'shops', session_id: 'sessions' },
    xml: { root: 'transactions', item: 'transaction' },
    group: 'Behaviour',
    summary: 'Store transactions (the UK simulator feed)',
    description:
      "The store's transaction feed (the UK e-commerce simulator's): one product sold through an active shop, in a logged-in session of the customer (user_agent and ip_address copied from it, timestamp inside it). unit_price = the product's price at the timestamp in the same world (see /price-changes), subtotal = quantity x unit_price, tax = the shop's VAT or state sales tax on the subtotal, total = subtotal + tax. Like every entity it follows the world's locale: `locale=en_GB` gives the UK shop (GBP, 20% VAT, UK shops) — pass it to products, shops and transactions alike for the simulator's workflow (see docs/uk-store.md). Population: 10,000 x scale (`transactions=` overrides).",
    create: (w) => new TransactionGenerator(w),
  }),
  // @behaviour
  'performance-events': define({
    schema: PerformanceEventSchema,
    params: PerformanceParams,
    queryProblem: performanceQueryProblem,
    resolveQuery: performanceQuery,
    parameterMs: performanceScheduleMs,
    bulkIndex: 'ecommerce_performance_demo',
    primaryKey: 'event_id',
    foreignKeys: {},
    xml: { root: 'performance_events', item: 'performance_event' },
    group: 'Observability',
    summary: 'Service telemetry with incidents',
    description:
      'One event per request to the shop platform (search, product, cart, checkout, payment, order, inventory, user and shipping services), in time order: a daily traffic schedule (~10 TPS at night, lunch and evening peaks to ~60 TPS at the defaults), 1-2% errors at 200-800 ms normally, and 2-3 incidents a day (payment gateway timeout, database connection pool exhaustion, memory pressure, circuit breaker activation, upstream service degradation) during which the affected services answer in 5-35 s and fail 25-40% of the time for 5-15 minutes, then recover over 5-10 minutes. The range is start_date + `days`, or the `days` days up to end_date when end_date is given instead (`end_date=today` ends it today; the response reports the range in X-Date-Window); scale, sizes and locale do not change it. `scenario=demo` places exactly the three incidents of the reference demo on the last three days. Population: the events of that schedule, ~16 million for a week at the defaults. `format=bulk` gives OpenSearch `_bulk` NDJSON for index `ecommerce_performance_demo` (`index=` overrides); the index mapping is at /api/v1/performance-events/mapping and the ground-truth incidents at /api/v1/performance-events/incidents.',
    create: (w) => new PerformanceEventGenerator(w),
  }),
  // @performance
  'analytics/users': define({
    schema: UserAnalyticsSchema,
    primaryKey: 'user_id',
    foreignKeys: { user_id: 'users' },
    xml: { root: 'user_analytics', item: 'user' },
    group: 'Analytics',
    summary: 'Per-customer aggregates',
    description:
      'One row per user, computed from the records of the same world (orders, returns, reviews, sessions), never drawn: each row equals the aggregate of the raw endpoints. The first request for a world computes all rows in one pass (cached per world; see README for the cost).',
    create: (w) => new UserAnalyticsGenerator(w),
  }),
  'analytics/products': define({
    schema: ProductAnalyticsSchema,
    primaryKey: 'product_id',
    foreignKeys: { product_id: 'products' },
    xml: { root: 'product_analytics', item: 'product' },
    group: 'Analytics',
    summary: 'Per-product aggregates',
    description:
      'One row per product: units sold, revenue, orders, returns and return rate, reviews and average rating, views, cart adds and conversion from the clickstream — all computed from the records of the same world.',
    create: (w) => new ProductAnalyticsGenerator(w),
  }),
} as const;

export type EntityRegistry = typeof ENTITIES;
export type EntityName = keyof EntityRegistry;
export type GeneratorOf<N extends EntityName> = ReturnType<EntityRegistry[N]['create']>;

/** Entity names in dependency order. */
export const ENTITY_NAMES = Object.keys(ENTITIES) as EntityName[];

/**
 * The entities of "the whole world" when a request names none (manifest, sinks), in dependency
 * order: all but performance-events, whose population is huge, so it is sent only when named.
 */
export const WORLD_ENTITIES: readonly EntityName[] = ENTITY_NAMES.filter((name) => name !== 'performance-events');

export function isEntityName(name: string): name is EntityName {
  return Object.hasOwn(ENTITIES, name);
}

export function entityDefinition(name: EntityName): EntityDefinition {
  return ENTITIES[name];
}
