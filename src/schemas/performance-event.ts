import { Type, type Static } from '@sinclair/typebox';
import { Nullable, OneOf, Uuid } from './common.js';

/** The services of the shop's platform, each answering one kind of transaction. */
export const SERVICES = [
  'search-service',
  'product-service',
  'cart-service',
  'checkout-service',
  'payment-service',
  'order-service',
  'inventory-service',
  'user-service',
  'shipping-service',
] as const;
export type ServiceName = (typeof SERVICES)[number];

export const TRANSACTION_TYPES = [
  'search',
  'product_view',
  'cart_add',
  'checkout',
  'payment',
  'order_status',
  'inventory_check',
  'login',
  'shipping_quote',
] as const;
export type TransactionType = (typeof TRANSACTION_TYPES)[number];

/** Route templates, as an APM agent groups them. */
export const ENDPOINTS = [
  '/api/v1/search',
  '/api/v1/products/{product_id}',
  '/api/v1/cart/items',
  '/api/v1/checkout',
  '/api/v1/payments/authorize',
  '/api/v1/orders/{order_id}',
  '/api/v1/inventory/{sku}',
  '/api/v1/auth/login',
  '/api/v1/shipping/quote',
] as const;

export const INCIDENT_TYPES = [
  'payment_gateway_timeout',
  'database_connection_pool_exhaustion',
  'memory_pressure',
  'circuit_breaker_activation',
  'upstream_service_degradation',
] as const;
export type IncidentType = (typeof INCIDENT_TYPES)[number];

export const INCIDENT_PHASES = ['active', 'recovery'] as const;

/** Error codes: the incident ones (one per incident type) and the background noise of normal operation. */
export const ERROR_CODES = [
  'PAYMENT_GATEWAY_TIMEOUT',
  'DB_POOL_EXHAUSTED',
  'GC_OVERHEAD_LIMIT',
  'CIRCUIT_BREAKER_OPEN',
  'UPSTREAM_DEGRADED',
  'INTERNAL_ERROR',
  'DEPENDENCY_TIMEOUT',
  'SERVICE_UNAVAILABLE',
  'RATE_LIMITED',
] as const;
export type ErrorCode = (typeof ERROR_CODES)[number];

/** `INC-<day of the range, YYYYMMDD>-<ordinal that day>`. */
export const INCIDENT_ID_PATTERN = '^INC-[0-9]{8}-[0-9]{2}$';

const Percent = (description: string, example: number) =>
  Type.Number({ minimum: 0, maximum: 100, description: `${description} (percent, 1 decimal)`, examples: [example] });

/**
 * One request served by the shop's platform, as an APM agent would index it: when, which
 * transaction on which service and host, how it ended and how long it took, the host's
 * infrastructure metrics at that moment, and the incident it was caught in (null otherwise).
 * Field names follow OpenSearch/ECS habits: the time field is `@timestamp`.
 *
 * @example
 * { "event_id": "…", "@timestamp": "2025-01-01T14:27:31.418Z", "transaction_id": "txn-5be0c0de", "transaction_type": "payment",
 *   "service_name": "payment-service", "status": "error", "response_time_ms": 30412, "error_code": "PAYMENT_GATEWAY_TIMEOUT",
 *   "incident_id": "INC-20250101-02", "incident_type": "payment_gateway_timeout", "incident_phase": "active", … }
 */
export const PerformanceEventSchema = Type.Object(
  {
    event_id: Uuid('Primary key; also the document _id in bulk output'),
    '@timestamp': Type.String({
      format: 'date-time',
      description: 'When the request arrived, UTC with milliseconds; non-decreasing in record order',
      examples: ['2025-01-01T14:27:31.418Z'],
    }),
    transaction_id: Type.String({ pattern: '^txn-[0-9a-f]{8}$', description: 'APM transaction id, unique in the world', examples: ['txn-5be0c0de'] }),
    transaction_type: OneOf(TRANSACTION_TYPES, 'What the customer was doing'),
    service_name: OneOf(SERVICES, 'The service that handled the request'),
    host_name: Type.String({
      pattern: '^[a-z]+-service-[0-9a-f]{6}-[0-9]$',
      description: 'The pod that served it (service, replica-set hash, replica)',
      examples: ['payment-service-5c7d9f-2'],
    }),
    http_method: OneOf(['GET', 'POST'] as const, 'HTTP method'),
    endpoint: OneOf(ENDPOINTS, 'Route template of the request'),
    http_status: Type.Integer({ minimum: 100, maximum: 599, description: 'HTTP status code returned', examples: [200] }),
    status: OneOf(['success', 'error'] as const, "'error' for 4xx/5xx responses"),
    response_time_ms: Type.Integer({
      minimum: 1,
      description: 'Latency: 200-800 ms in normal operation, 5,000-35,000 ms inside an active incident',
      examples: [412],
    }),
    error_code: Nullable(OneOf(ERROR_CODES, 'Error code; the same for every error of one incident')),
    error_message: Nullable(Type.String({ description: 'Error message; the same for every error of one incident', examples: ['Payment gateway timeout: no response from adyen-gateway within 30000 ms'] })),
    cpu_percent: Percent("CPU usage of the host", 41.3),
    memory_percent: Percent('Heap/memory usage of the host', 58.2),
    gc_pause_ms: Type.Integer({ minimum: 0, description: 'Garbage-collection pause time of the host over the last second', examples: [14] }),
    db_pool_usage_percent: Percent("Share of the host's database connection pool in use", 27.5),
    incident_id: Nullable(Type.String({ pattern: INCIDENT_ID_PATTERN, description: 'The incident this request was caught in (see /performance-events/incidents), else null', examples: ['INC-20250101-02'] })),
    incident_type: Nullable(OneOf(INCIDENT_TYPES, 'Type of that incident, else null')),
    incident_phase: Nullable(OneOf(INCIDENT_PHASES, "'active' during the incident, 'recovery' while the service recovers, else null")),
  },
  {
    $id: 'PerformanceEvent',
    additionalProperties: false,
    description: 'A request served by the shop platform, with latency, outcome, host metrics and incident ground truth',
  },
);
export type PerformanceEvent = Static<typeof PerformanceEventSchema>;

/**
 * One incident of the ground truth: what happened, when, to which services, and where its
 * events are (`first_event_index`..`last_event_index`, usable as offset/limit).
 */
export const PerformanceIncidentSchema = Type.Object(
  {
    incident_id: Type.String({ pattern: INCIDENT_ID_PATTERN, examples: ['INC-20250101-02'] }),
    incident_type: OneOf(INCIDENT_TYPES, 'What went wrong'),
    started_at: Type.String({ format: 'date-time', description: 'Start of the active phase', examples: ['2025-01-01T14:25:00.000Z'] }),
    ended_at: Type.String({ format: 'date-time', description: 'End of the active phase (5-15 minutes after the start), start of recovery', examples: ['2025-01-01T14:36:00.000Z'] }),
    recovery_ended_at: Type.String({ format: 'date-time', description: 'Back to normal (5-10 minutes after ended_at)', examples: ['2025-01-01T14:43:00.000Z'] }),
    duration_minutes: Type.Integer({ minimum: 5, maximum: 15 }),
    recovery_minutes: Type.Integer({ minimum: 5, maximum: 10 }),
    peak_error_rate: Type.Number({ minimum: 0, maximum: 1, description: 'Error probability of affected requests during the active phase (3 decimals)', examples: [0.342] }),
    affected_services: Type.Array(OneOf(SERVICES, 'A service whose requests carry this incident'), { minItems: 1 }),
    error_code: OneOf(ERROR_CODES, 'Code of every error of this incident'),
    error_message: Type.String({ description: 'Message of every error of this incident' }),
    http_status: Type.Integer({ description: 'HTTP status of those errors', examples: [504] }),
    root_cause: Type.String({ description: 'What an investigation should conclude' }),
    first_event_index: Type.Integer({ minimum: 0, description: 'Index (offset) of the first event at or after started_at' }),
    last_event_index: Type.Integer({ minimum: -1, description: 'Index of the last event before recovery_ended_at (first_event_index - 1 if none)' }),
  },
  { $id: 'PerformanceIncident', additionalProperties: false, description: 'An incident of the ground truth behind performance-events' },
);
export type PerformanceIncident = Static<typeof PerformanceIncidentSchema>;

/** The query parameters of performance-events only (EntityDefinition.params). */
export const PerformanceParams = {
  days: Type.Integer({
    minimum: 1,
    maximum: 90,
    default: 7,
    description: 'Days of telemetry, from start_date, or up to end_date (its day included) when end_date is given instead, e.g. end_date=today. Default 7 (about 16 million events at the defaults).',
    examples: [7],
  }),
  incidents_per_day: Type.Integer({
    minimum: 0,
    maximum: 24,
    description: 'Incidents per day. Omitted: 2 or 3, drawn per day.',
    examples: [2],
  }),
  base_tps: Type.Number({
    exclusiveMinimum: 0,
    maximum: 1000,
    default: 20,
    description: 'Base transactions per second: the night floor is half of it; the schedule scales with it. Default 20.',
    examples: [20],
  }),
  peak_multiplier: Type.Number({
    minimum: 1,
    maximum: 10,
    default: 2.5,
    description: 'Lunch and evening peak traffic as a multiple of base_tps (the evening high runs 25% above it). Default 2.5: ~10 TPS at night, 50-60 TPS at peaks.',
    examples: [2.5],
  }),
  error_rate_normal: Type.Number({
    minimum: 0,
    maximum: 0.2,
    default: 0.015,
    description: 'Error rate outside incidents, as a fraction; each minute varies by ±30% around it. Default 0.015 (1-2%).',
    examples: [0.015],
  }),
  scenario: OneOf(
    ['random', 'demo'] as const,
    'random (default): 2-3 incidents a day, drawn by the seed. demo: exactly the three incidents of the reference demo, on the last three days of the range (end the range today with end_date=today): a payment gateway timeout on the last day 14:25-14:35 UTC (about 65 payment timeout errors, ended by the circuit breaker opening), a database connection pool exhaustion the day before, 12:15-12:25 at the lunch peak, and memory pressure two days before, 18:30-18:45, degrading gradually. Needs days >= 3; not with incidents_per_day.',
  ),
  error_rate_incident: Type.Number({
    minimum: 0,
    maximum: 1,
    description: 'Error rate of affected requests during an incident, as a fraction. Omitted: drawn from 0.25-0.40 per incident.',
    examples: [0.35],
  }),
};
