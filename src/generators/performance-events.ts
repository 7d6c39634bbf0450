import {
  ENDPOINTS,
  SERVICES,
  TRANSACTION_TYPES,
  type ErrorCode,
  type IncidentType,
  type PerformanceEvent,
  type PerformanceIncident,
  type ServiceName,
} from '../schemas/performance-event.js';
import { precomputed } from './child-index.js';
import { EntityGenerator, scramble } from './entity.js';
import { Rng, WeightedChoice, cumulative, drawIndex, tagOf } from './random.js';
import { DAY, HOUR, MINUTE, iso, isoDate, parseDate } from './time.js';
import type { World } from './world.js';

// ---------------------------------------------------------------------------------------------
// Parameters

/** The resolved parameters of a performance-events world (see PerformanceParams). */
export interface PerformanceSettings {
  readonly days: number;
  /** Undefined: 2 or 3 drawn per day. */
  readonly incidentsPerDay: number | undefined;
  readonly baseTps: number;
  readonly peakMultiplier: number;
  readonly errorRateNormal: number;
  /** Undefined: drawn from 0.25-0.40 per incident. */
  readonly errorRateIncident: number | undefined;
  /** 'demo': the reference demo's three pinned incidents instead of drawn ones. */
  readonly scenario: 'random' | 'demo';
}

export const PERFORMANCE_DEFAULTS = { days: 7, baseTps: 20, peakMultiplier: 2.5, errorRateNormal: 0.015 } as const;

/** The largest population a world may hold (mirrors MAX_POPULATION in world.ts, which imports the registry). */
const MAX_EVENTS = 1_000_000_000;

const numberParam = (params: Readonly<Record<string, unknown>>, name: string): number | undefined => {
  const value = params[name];
  return typeof value === 'number' && Number.isFinite(value) ? value : undefined;
};

/** Reads the entity parameters (already validated by the route schema), with the defaults. */
export function performanceSettings(params: Readonly<Record<string, unknown>>): PerformanceSettings {
  return {
    days: numberParam(params, 'days') ?? PERFORMANCE_DEFAULTS.days,
    incidentsPerDay: numberParam(params, 'incidents_per_day'),
    baseTps: numberParam(params, 'base_tps') ?? PERFORMANCE_DEFAULTS.baseTps,
    peakMultiplier: numberParam(params, 'peak_multiplier') ?? PERFORMANCE_DEFAULTS.peakMultiplier,
    errorRateNormal: numberParam(params, 'error_rate_normal') ?? PERFORMANCE_DEFAULTS.errorRateNormal,
    errorRateIncident: numberParam(params, 'error_rate_incident'),
    scenario: params.scenario === 'demo' ? 'demo' : 'random',
  };
}

/**
 * The range of performance-events is start_date + days. With end_date (and no start_date) it
 * is the `days` days up to end_date instead: the query with the start that gives it, for
 * routes to build the world from, after performanceQueryProblem has checked the query as
 * given. Relative dates (`today`) must be resolved before.
 */
export function performanceQuery<Q extends Readonly<Record<string, unknown>>>(query: Q): Q {
  const end = query.end_date;
  const days = numberParam(query, 'days') ?? PERFORMANCE_DEFAULTS.days;
  if (typeof query.start_date === 'string' && end === undefined) {
    // The world's window must end after its start, wherever start_date lies.
    const startMs = parseDate(query.start_date, false);
    return startMs === undefined ? query : { ...query, end_date: new Date(startMs + days * DAY).toISOString() };
  }
  if (typeof end !== 'string' || query.start_date !== undefined) return query;
  const endMs = parseDate(end, true);
  if (endMs === undefined) return query; // worldSpecFrom names the bad end_date
  const startMs = endMs - days * DAY;
  const dateOnly = /^\d{4}-\d{2}-\d{2}$/.test(end);
  // end_date stays: the world's window must still end after its start.
  return { ...query, start_date: dateOnly ? isoDate(startMs) : new Date(startMs).toISOString() };
}

/**
 * What the query schema cannot say about performance-events: `end_date` does not apply (the
 * range is start_date + days), and the parameters must not ask for more events than a world
 * may hold. Returns the offending parameter and why, or undefined.
 */
export function performanceQueryProblem(query: Readonly<Record<string, unknown>>): { parameter: string; reason: string } | undefined {
  if (query.end_date !== undefined && query.start_date !== undefined) {
    return {
      parameter: 'end_date',
      reason: 'give start_date or end_date, not both: the range is `days` days (default 7) from start_date, or up to end_date',
    };
  }
  const s = performanceSettings(query);
  if (s.scenario === 'demo' && s.days < 3) return { parameter: 'days', reason: `scenario=demo places incidents on the last three days of the range: needs days >= 3, got ${s.days}` };
  if (s.scenario === 'demo' && s.incidentsPerDay !== undefined) return { parameter: 'incidents_per_day', reason: 'does not apply with scenario=demo (exactly three pinned incidents)' };
  const upper = s.days * (DAY / 1000) * peakRate(s) * 1.25;
  if (upper > MAX_EVENTS) {
    return {
      parameter: 'base_tps',
      reason: `days=${s.days}, base_tps=${s.baseTps} and peak_multiplier=${s.peakMultiplier} could make over ${MAX_EVENTS.toLocaleString('en-US')} events, more than a world may hold; lower one of them`,
    };
  }
  return undefined;
}

// ---------------------------------------------------------------------------------------------
// Traffic schedule

/**
 * The daily shape of traffic, in "peak units": 0 is the night floor (base_tps / 2), 1 the
 * nominal peak (peak_multiplier x base_tps); the evening high reaches 1.25. At the defaults
 * (20 TPS, x2.5) the shape reads: night ~10 TPS, morning ramp 15-30, business 30-40, lunch
 * peak to 50, afternoon 35-40, evening peak to 60, decline to ~12 by midnight.
 * Knots are (hour of day, shape), linearly interpolated.
 */
const SHAPE_KNOTS: ReadonlyArray<readonly [number, number]> = [
  [0, 0.05], [3, 0], [6, 0], [7, 0.125], [9, 0.5], [10.5, 0.675], [11.5, 0.75], [12, 0.875], [12.75, 1.0],
  [14, 0.75], [15, 0.625], [16.5, 0.7], [17, 0.75], [18.5, 1.125], [19.25, 1.25], [20, 0.875], [21, 0.5],
  [22.5, 0.2], [24, 0.05],
];
const MAX_SHAPE = 1.25;

/** The schedule's shape at an hour of the day, [0, 24). */
export function shapeAt(hour: number): number {
  for (let k = 1; k < SHAPE_KNOTS.length; k++) {
    const [h1, s1] = SHAPE_KNOTS[k] as readonly [number, number];
    if (hour <= h1) {
      const [h0, s0] = SHAPE_KNOTS[k - 1] as readonly [number, number];
      return s0 + ((s1 - s0) * (hour - h0)) / (h1 - h0);
    }
  }
  return (SHAPE_KNOTS[SHAPE_KNOTS.length - 1] as readonly [number, number])[1];
}

/** Mean transactions per second of the schedule at a shape value. */
const rateAt = (s: PerformanceSettings, shape: number) => s.baseTps * (0.5 + (s.peakMultiplier - 0.5) * shape);
const peakRate = (s: PerformanceSettings) => rateAt(s, MAX_SHAPE);

// Monday..Sunday: weekend evenings are a little busier for a consumer shop.
const WEEKDAY = [1.0, 0.99, 1.0, 1.01, 1.03, 1.06, 1.04];
/** Relative spread of a minute's count around the schedule. */
const MINUTE_JITTER = 0.04;

// ---------------------------------------------------------------------------------------------
// Transactions and services

interface TransactionKind {
  readonly type: (typeof TRANSACTION_TYPES)[number];
  readonly service: ServiceName;
  readonly method: 'GET' | 'POST';
  readonly endpoint: (typeof ENDPOINTS)[number];
  readonly okStatus: number;
  /** Median latency in normal operation, ms. */
  readonly median: number;
  readonly share: number;
}

const KINDS: readonly TransactionKind[] = [
  { type: 'search', service: 'search-service', method: 'GET', endpoint: '/api/v1/search', okStatus: 200, median: 260, share: 22 },
  { type: 'product_view', service: 'product-service', method: 'GET', endpoint: '/api/v1/products/{product_id}', okStatus: 200, median: 210, share: 28 },
  { type: 'cart_add', service: 'cart-service', method: 'POST', endpoint: '/api/v1/cart/items', okStatus: 201, median: 280, share: 12 },
  { type: 'checkout', service: 'checkout-service', method: 'POST', endpoint: '/api/v1/checkout', okStatus: 201, median: 520, share: 7 },
  { type: 'payment', service: 'payment-service', method: 'POST', endpoint: '/api/v1/payments/authorize', okStatus: 200, median: 560, share: 6 },
  { type: 'order_status', service: 'order-service', method: 'GET', endpoint: '/api/v1/orders/{order_id}', okStatus: 200, median: 230, share: 8 },
  { type: 'inventory_check', service: 'inventory-service', method: 'GET', endpoint: '/api/v1/inventory/{sku}', okStatus: 200, median: 200, share: 8 },
  { type: 'login', service: 'user-service', method: 'POST', endpoint: '/api/v1/auth/login', okStatus: 200, median: 320, share: 5 },
  { type: 'shipping_quote', service: 'shipping-service', method: 'POST', endpoint: '/api/v1/shipping/quote', okStatus: 200, median: 400, share: 4 },
];
const KIND_CHOICE = new WeightedChoice(KINDS.map((kind, k) => [k, kind.share] as const));
const KIND_SHARE_TOTAL = KINDS.reduce((sum, kind) => sum + kind.share, 0);
/** The reference demo's evidence: about this many payment timeout errors in its first scenario. */
export const DEMO_PAYMENT_TIMEOUTS = 65;
const SERVICE_INDEX = new Map<ServiceName, number>(SERVICES.map((name, k) => [name, k]));
const serviceIndex = (name: ServiceName) => SERVICE_INDEX.get(name) as number;
const KIND_SERVICE = KINDS.map((kind) => serviceIndex(kind.service));
/** Pods per service. */
const REPLICAS = SERVICES.map((name) => (name === 'search-service' || name === 'product-service' ? 4 : 3));

interface BackgroundError {
  readonly code: ErrorCode;
  readonly status: number;
  readonly message: string;
  readonly weight: number;
  /** Latency of such an error: [min, max) ms, or null for the usual latency. */
  readonly latency: readonly [number, number] | null;
}

/** The errors of normal operation: a steady trickle, none of them slow enough to look like an incident. */
const BACKGROUND_ERRORS: readonly BackgroundError[] = [
  { code: 'INTERNAL_ERROR', status: 500, message: 'Internal server error: unexpected exception while handling the request', weight: 40, latency: null },
  { code: 'DEPENDENCY_TIMEOUT', status: 504, message: 'Timed out after 2000 ms waiting for a downstream dependency', weight: 25, latency: [2000, 4500] },
  { code: 'SERVICE_UNAVAILABLE', status: 503, message: 'Service temporarily unavailable: instance draining, retry later', weight: 20, latency: null },
  { code: 'RATE_LIMITED', status: 429, message: 'Too many requests: client rate limit exceeded', weight: 15, latency: [5, 60] },
];
const BACKGROUND_CHOICE = new WeightedChoice(BACKGROUND_ERRORS.map((e, k) => [k, e.weight] as const));

// ---------------------------------------------------------------------------------------------
// Incident types

/** Host metrics: CPU %, memory %, GC pause ms, DB pool usage %. */
interface Metrics {
  cpu: number;
  memory: number;
  gc: number;
  pool: number;
}

interface IncidentKind {
  readonly type: IncidentType;
  readonly weight: number;
  readonly affected: readonly ServiceName[];
  readonly code: ErrorCode;
  readonly status: number;
  /** The culprit named in messages: one drawn per incident. */
  readonly culprits: readonly string[];
  readonly message: (culprit: string, detail: number) => string;
  readonly rootCause: (culprit: string) => string;
  /** A number that makes the message concrete (queue length, failures, heap size), per incident. */
  readonly detail: readonly [number, number];
  /** Latency in the active phase, 5,000-35,000 ms; `progress` runs 0..1 across the phase. */
  readonly latency: (rng: Rng, error: boolean, progress: number) => number;
  /** Host metrics at the height of the incident (before blending with normal values). */
  readonly metrics: (rng: Rng, normal: Metrics, progress: number) => Metrics;
}

const clampLatency = (ms: number) => Math.min(35_000, Math.max(5_000, Math.round(ms)));

const INCIDENT_KINDS: readonly IncidentKind[] = [
  {
    type: 'payment_gateway_timeout',
    weight: 35,
    affected: ['payment-service', 'checkout-service'],
    code: 'PAYMENT_GATEWAY_TIMEOUT',
    status: 504,
    culprits: ['adyen-gateway', 'stripe-gateway', 'braintree-gateway', 'worldpay-gateway'],
    detail: [25_000, 25_000],
    message: (gw, ms) => `Payment gateway timeout: no response from ${gw} within ${ms} ms`,
    rootCause: (gw) => `${gw} stopped answering; payment authorisations waited for the 25 s gateway timeout and the wait cascaded into checkout`,
    // Errors are the timeouts themselves; the successes got an answer, late.
    latency: (rng, error) => clampLatency(error ? 25_000 + rng.next() * 3_000 : 5_000 + 18_000 * rng.next() ** 2),
    metrics: (rng, n) => ({ cpu: 22 + rng.next() * 14, memory: n.memory + 10, gc: n.gc, pool: 78 + rng.next() * 17 }),
  },
  {
    type: 'database_connection_pool_exhaustion',
    weight: 20,
    affected: ['order-service', 'inventory-service'],
    code: 'DB_POOL_EXHAUSTED',
    status: 503,
    culprits: ['orders-db-primary', 'inventory-db-primary'],
    detail: [80, 220],
    message: (db, waiting) => `Connection pool exhausted: could not acquire a connection to ${db} within 30000 ms (active 50/50, waiting ${waiting})`,
    rootCause: (db) => `Slow queries on ${db} held every pooled connection; requests queued for a connection until they timed out`,
    latency: (rng, error) => clampLatency(error ? 30_000 + rng.next() * 1_500 : 5_000 + 20_000 * rng.next() ** 1.5),
    metrics: (rng, n) => ({ cpu: 42 + rng.next() * 16, memory: n.memory + 5, gc: n.gc, pool: 100 }),
  },
  {
    type: 'memory_pressure',
    weight: 15,
    affected: ['checkout-service'],
    code: 'GC_OVERHEAD_LIMIT',
    status: 500,
    culprits: ['checkout-service'],
    detail: [2048, 4096],
    message: (svc, heap) => `java.lang.OutOfMemoryError: GC overhead limit exceeded (${svc}, heap ${heap} MB)`,
    rootCause: (svc) => `Memory leak in the ${svc} session cache: the heap filled, GC pauses grew and requests stalled until the pods restarted`,
    // Gradual degradation: latency climbs through the incident.
    latency: (rng, _error, progress) => clampLatency(5_000 + 28_000 * progress ** 1.3 * (0.8 + 0.4 * rng.next())),
    metrics: (rng, _n, progress) => ({
      cpu: 84 + rng.next() * 14,
      memory: 88 + 11 * progress + rng.next(),
      gc: 900 + 3_600 * progress * (0.7 + 0.3 * rng.next()),
      pool: 40 + rng.next() * 20,
    }),
  },
  {
    type: 'circuit_breaker_activation',
    weight: 15,
    affected: ['cart-service', 'product-service'],
    code: 'CIRCUIT_BREAKER_OPEN',
    status: 503,
    culprits: ['pricing-service', 'recommendation-service', 'inventory-service'],
    detail: [20, 50],
    message: (dep, failures) => `Circuit breaker OPEN for ${dep}: failing fast after ${failures} consecutive failures`,
    rootCause: (dep) => `${dep} slowed down; calls timed out until the circuit breaker opened, and half-open probes kept timing out`,
    latency: (rng, error) => clampLatency(error ? 5_000 + rng.next() * 3_000 : 6_000 + 14_000 * rng.next()),
    metrics: (rng, n) => ({ cpu: 64 + rng.next() * 20, memory: n.memory + 8, gc: n.gc * 2, pool: 50 + rng.next() * 20 }),
  },
  {
    type: 'upstream_service_degradation',
    weight: 15,
    affected: ['shipping-service', 'checkout-service'],
    code: 'UPSTREAM_DEGRADED',
    status: 502,
    culprits: ['carrier-rates-api', 'address-validation-api', 'tax-calculation-api'],
    detail: [3, 3],
    message: (api, retries) => `Upstream ${api} degraded: 503 Service Unavailable after ${retries} retries`,
    rootCause: (api) => `The third-party ${api} degraded; calls were retried with backoff and the retries piled up latency`,
    latency: (rng, error) => clampLatency(error ? 15_000 + rng.next() * 20_000 : 12_000 * Math.exp(0.4 * rng.normal())),
    metrics: (rng, n) => ({ cpu: 30 + rng.next() * 15, memory: n.memory + 6, gc: n.gc, pool: 60 + rng.next() * 25 }),
  },
];
const INCIDENT_CHOICE = new WeightedChoice(INCIDENT_KINDS.map((kind, k) => [k, kind.weight] as const));

/** An incident as the generator uses it; minutes count from the start of the range. */
interface Incident {
  readonly id: string;
  readonly kind: IncidentKind;
  readonly start: number;
  /** End of the active phase (exclusive), start of recovery. */
  readonly end: number;
  /** End of recovery (exclusive). */
  readonly recoveryEnd: number;
  readonly errorRate: number;
  readonly message: string;
  readonly rootCause: string;
  /** 1 for each service index the incident affects. */
  readonly affects: Uint8Array;
}

const SALT_MINUTE = tagOf('minute');
const SALT_DAY = tagOf('incidents');
const SALT_HOSTS = tagOf('hosts');

const HEX2 = Array.from({ length: 256 }, (_, k) => k.toString(16).padStart(2, '0'));
const hex8 = (x: number) => (HEX2[x >>> 24] as string) + HEX2[(x >>> 16) & 255] + HEX2[(x >>> 8) & 255] + HEX2[x & 255];
const PAD3 = Array.from({ length: 1000 }, (_, k) => String(k).padStart(3, '0'));
const PAD2 = Array.from({ length: 100 }, (_, k) => String(k).padStart(2, '0'));

/** ISO 8601 with milliseconds: `2025-01-01T14:25:00.000Z`. */
export function isoMillis(ms: number): string {
  const whole = Math.floor(ms / 1000) * 1000;
  return iso(whole).slice(0, 19) + '.' + PAD3[ms - whole] + 'Z';
}

const round1 = (x: number) => Math.round(Math.min(100, Math.max(0, x)) * 10) / 10;

// ---------------------------------------------------------------------------------------------
// The generator

/** The per-minute schedule's arrays in the world's precomputed store (see PerformanceEventGenerator.schedule). */
const PREFIX_KEY = 'performance-events.prefix';
const ERROR_RATE_KEY = 'performance-events.error-rate';
const LOAD_KEY = 'performance-events.load';

/** CPU of the per-minute schedule of a new world's performance-events, in ms (an upper bound measured here, 3 µs a minute). */
export function performanceScheduleMs(params: Readonly<Record<string, unknown>>): number {
  return (performanceSettings(params).days * 1440 * 3) / 1000;
}

/**
 * E-commerce service telemetry for search and observability demos: one event per request,
 * following a daily traffic schedule, with 2-3 incidents a day (five types) during which the
 * affected services slow to 5-35 s and fail 25-40% of the time, then recover.
 *
 * The range is [window start, + `days` days). Per-minute event counts are drawn once per
 * world from the schedule (cheap: 10,080 minutes for a week) and kept as prefix sums, so event
 * i is found by binary search over minutes in O(log n); its second within the minute and its
 * incident state follow from the minute. Events are in time order.
 *
 * @example
 * const events = world.generator('performance-events');
 * events.population;          // ~16 million for a week at the defaults
 * events.incidents()[0];      // { incident_id: 'INC-20250101-01', incident_type: 'payment_gateway_timeout', … }
 * events.record(12_345_678);  // found in O(log n), the same from every page
 */
export class PerformanceEventGenerator extends EntityGenerator<PerformanceEvent> {
  readonly population: number;
  readonly settings: PerformanceSettings;
  /** First moment of the range (epoch ms): the world's window start. */
  readonly rangeStart: number;
  /** End of the range (exclusive): rangeStart + days. */
  readonly rangeEnd: number;
  private readonly minutes: number;
  /** prefix[m] = events before minute m; prefix[minutes] = population. */
  private readonly prefix: Float64Array;
  /** Incident index per minute (active or recovery), or -1. */
  private readonly minuteIncident: Int32Array;
  /** Error rate of normal operation per minute. */
  private readonly minuteErrorRate: Float64Array;
  /** Traffic per minute relative to the nominal peak (drives host metrics). */
  private readonly minuteLoad: Float64Array;
  private readonly incidentPlans: Incident[] = [];
  private readonly hosts: string[][];
  /** Memory baseline offset per host, so each pod has its own level. */
  private readonly hostMemory: number[][];
  private readonly txnSeed: number;
  private hint = 0;
  private secondCached = -1;
  private secondText = '';

  constructor(world: World) {
    super(world, 'performance-events');
    const s = performanceSettings(world.params);
    this.settings = s;
    this.rangeStart = world.window.start;
    this.rangeEnd = world.window.start + s.days * DAY;
    this.minutes = s.days * 1440;
    this.txnSeed = (world.seed ^ this.tag) >>> 0;

    const rng = new Rng();
    this.hosts = SERVICES.map((name, k) => {
      rng.key(world.seed, this.tag, k, SALT_HOSTS);
      const hash = hex8(rng.u32()).slice(0, 6);
      return Array.from({ length: REPLICAS[k] as number }, (_, r) => `${name}-${hash}-${r}`);
    });
    this.hostMemory = SERVICES.map((_, k) => {
      rng.key(world.seed, this.tag, k, SALT_HOSTS + 1);
      return Array.from({ length: REPLICAS[k] as number }, () => -5 + 10 * rng.next());
    });

    // Per-minute counts, normal error rates and load, then prefix sums: from the world's
    // precomputed store when a precompute thread built them (src/precompute/prepare.ts), else
    // built here and kept there (render workers are handed them).
    const M = this.minutes;
    const store = precomputed(world);
    const kept = [store.get(PREFIX_KEY), store.get(ERROR_RATE_KEY), store.get(LOAD_KEY)];
    if (kept.every((array) => array instanceof Float64Array)) [this.prefix, this.minuteErrorRate, this.minuteLoad] = kept as [Float64Array, Float64Array, Float64Array];
    else {
      [this.prefix, this.minuteErrorRate, this.minuteLoad] = this.schedule(rng);
      store.set(PREFIX_KEY, this.prefix).set(ERROR_RATE_KEY, this.minuteErrorRate).set(LOAD_KEY, this.minuteLoad);
    }
    const total = this.prefix[M] as number;
    if (total > MAX_EVENTS) throw new RangeError(`performance-events: ${total} events exceed the ${MAX_EVENTS} a world may hold`);
    this.population = total;

    this.minuteIncident = new Int32Array(M).fill(-1);
    if (s.scenario === 'demo') this.planDemo();
    else for (let d = 0; d < s.days; d++) this.planDay(d, rng);
    this.incidentPlans.forEach((incident, k) => this.minuteIncident.fill(k, incident.start, incident.recoveryEnd));
  }

  /**
   * Every minute's event count (as prefix sums), normal error rate and load: one keyed draw a
   * minute, ~1.5-3 µs each on this machine (a week: 10,080 minutes, 15-30 ms; 90 days, the most,
   * ~0.3 s), which is why a precompute thread builds them for a new world.
   */
  private schedule(rng: Rng): [prefix: Float64Array, errorRate: Float64Array, load: Float64Array] {
    const s = this.settings;
    const M = this.minutes;
    const prefix = new Float64Array(M + 1);
    const errorRate = new Float64Array(M);
    const load = new Float64Array(M);
    const nominalPeak = s.baseTps * s.peakMultiplier;
    let total = 0;
    for (let m = 0; m < M; m++) {
      const mid = this.rangeStart + m * MINUTE + MINUTE / 2;
      const day = Math.floor(mid / DAY);
      const weekday = WEEKDAY[(day + 3) % 7] as number; // 1970-01-01 was a Thursday (Monday = 0)
      const rate = rateAt(s, shapeAt((mid - day * DAY) / HOUR)) * weekday;
      rng.key(this.world.seed, this.tag, m, SALT_MINUTE);
      const expected = rate * 60 * (1 + MINUTE_JITTER * rng.normal());
      const count = Math.max(0, Math.floor(expected + rng.next()));
      errorRate[m] = s.errorRateNormal * (0.7 + 0.6 * rng.next());
      load[m] = rate / nominalPeak;
      prefix[m] = total;
      total += count;
    }
    prefix[M] = total;
    return [prefix, errorRate, load];
  }

  /**
   * The reference demo's incidents, pinned on the last three days of the range (UTC): memory
   * pressure two days before the last, 18:30-18:45, degrading gradually; database connection
   * pool exhaustion the day before, 12:15-12:25 in the lunch peak; a payment gateway timeout on
   * the last day, 14:25-14:35, whose error rate is set so that about 65 requests fail with the
   * timeout, until the circuit breaker opens.
   */
  private planDemo(): void {
    const last = (this.settings.days - 1) * 1440;
    const kind = (type: IncidentType) => INCIDENT_KINDS.find((k) => k.type === type) as IncidentKind;
    const pins = [
      { day: last - 2 * 1440, at: 18 * 60 + 30, duration: 15, recovery: 10, kind: kind('memory_pressure'), culprit: 'checkout-service', detail: 3584, errors: 0 },
      { day: last - 1440, at: 12 * 60 + 15, duration: 10, recovery: 8, kind: kind('database_connection_pool_exhaustion'), culprit: 'orders-db-primary', detail: 184, errors: 0 },
      { day: last, at: 14 * 60 + 25, duration: 10, recovery: 7, kind: kind('payment_gateway_timeout'), culprit: 'adyen-gateway', detail: 25_000, errors: DEMO_PAYMENT_TIMEOUTS },
    ];
    for (const pin of pins) {
      const start = pin.day + pin.at;
      const end = start + pin.duration;
      const affects = new Uint8Array(SERVICES.length);
      for (const name of pin.kind.affected) affects[serviceIndex(name)] = 1;
      // Expected requests of the affected services in the active phase: the error rate that makes `errors` of them fail.
      const share = KINDS.reduce((sum, k, j) => sum + (affects[KIND_SERVICE[j] as number] === 1 ? k.share : 0), 0) / KIND_SHARE_TOTAL;
      const exposed = ((this.prefix[end] as number) - (this.prefix[start] as number)) * share;
      const errorRate = pin.errors > 0 && exposed > 0 ? Math.min(0.4, Math.round((pin.errors / exposed) * 1000) / 1000) : 0.32;
      const rootCause =
        pin.kind.type === 'payment_gateway_timeout'
          ? `${pin.culprit} stopped answering at 14:25; about ${pin.errors} payment authorisations failed with the 25 s gateway timeout and the wait cascaded into checkout, until the circuit breaker on ${pin.culprit} opened at 14:35 and payments failed over to the backup gateway`
          : pin.kind.rootCause(pin.culprit);
      this.incidentPlans.push({
        id: `INC-${isoDate(this.rangeStart + pin.day * MINUTE).replace(/-/g, '')}-01`,
        kind: pin.kind,
        start,
        end,
        recoveryEnd: end + pin.recovery,
        errorRate,
        message: pin.kind.message(pin.culprit, pin.detail),
        rootCause,
        affects,
      });
    }
  }

  /** Draws day d's incidents: count, types, non-overlapping times weighted by traffic. */
  private planDay(d: number, rng: Rng): void {
    const s = this.settings;
    rng.key(this.world.seed, this.tag, d, SALT_DAY);
    const n = s.incidentsPerDay ?? (rng.chance(0.5) ? 3 : 2);
    if (n === 0) return;
    const dayStart = d * 1440;
    const drafts = Array.from({ length: n }, () => ({
      kind: INCIDENT_KINDS[INCIDENT_CHOICE.draw(rng)] as IncidentKind,
      duration: rng.between(5, 15),
      recovery: rng.between(5, 10),
      start: 0,
    }));
    const span = (x: (typeof drafts)[number]) => x.duration + x.recovery;
    // Incidents happen under load: start hours weighted by the traffic schedule.
    const hourly = cumulative(
      Array.from({ length: 24 }, (_, h) => {
        const mid = this.rangeStart + (dayStart + h * 60 + 30) * MINUTE;
        return 0.15 + shapeAt(((mid % DAY) + DAY) % DAY / HOUR);
      }),
    );
    const GAP = 10; // minutes of normal operation at least between two incidents
    let placed = false;
    for (let attempt = 0; attempt < 40 && n <= 6 && !placed; attempt++) {
      for (const x of drafts) x.start = Math.min(1440 - span(x) - 1, drawIndex(rng, hourly) * 60 + rng.int(60));
      drafts.sort((a, b) => a.start - b.start);
      placed = drafts.every((x, k) => k === 0 || x.start >= (drafts[k - 1] as (typeof drafts)[number]).start + span(drafts[k - 1] as (typeof drafts)[number]) + GAP);
    }
    if (!placed) {
      // Many incidents a day: one per equal slot of the day, at a random point inside it.
      const width = Math.floor(1440 / n);
      drafts.forEach((x, k) => {
        x.start = k * width + rng.int(Math.max(1, width - span(x) - 1));
      });
    }
    const date = isoDate(this.rangeStart + dayStart * MINUTE).replace(/-/g, '');
    drafts.forEach((x, k) => {
      const culprit = rng.pick(x.kind.culprits);
      const detail = rng.between(x.kind.detail[0], x.kind.detail[1]);
      const errorRate = Math.round((s.errorRateIncident ?? rng.uniform(0.25, 0.4)) * 1000) / 1000;
      const affects = new Uint8Array(SERVICES.length);
      for (const name of x.kind.affected) affects[serviceIndex(name)] = 1;
      const start = dayStart + x.start;
      this.incidentPlans.push({
        id: `INC-${date}-${PAD2[k + 1]}`,
        kind: x.kind,
        start,
        end: start + x.duration,
        recoveryEnd: start + x.duration + x.recovery,
        errorRate,
        message: x.kind.message(culprit, detail),
        rootCause: x.kind.rootCause(culprit),
        affects,
      });
    });
  }

  /** The ground truth: every incident of the range, in time order. */
  incidents(): PerformanceIncident[] {
    return this.incidentPlans.map((x) => ({
      incident_id: x.id,
      incident_type: x.kind.type,
      started_at: isoMillis(this.rangeStart + x.start * MINUTE),
      ended_at: isoMillis(this.rangeStart + x.end * MINUTE),
      recovery_ended_at: isoMillis(this.rangeStart + x.recoveryEnd * MINUTE),
      duration_minutes: x.end - x.start,
      recovery_minutes: x.recoveryEnd - x.end,
      peak_error_rate: x.errorRate,
      affected_services: [...x.kind.affected],
      error_code: x.kind.code,
      error_message: x.message,
      http_status: x.kind.status,
      root_cause: x.rootCause,
      first_event_index: this.prefix[x.start] as number,
      last_event_index: (this.prefix[x.recoveryEnd] as number) - 1,
    }));
  }

  /** Events in minute m of the range (for tests and tools). */
  eventsInMinute(m: number): number {
    return (this.prefix[m + 1] as number) - (this.prefix[m] as number);
  }

  /** The minute of event i: the largest m with prefix[m] <= i (O(1) when streaming, else binary search). */
  private minuteOf(i: number): number {
    const prefix = this.prefix;
    const h = this.hint;
    if (i >= (prefix[h] as number) && i < (prefix[h + 1] as number)) return h;
    if (i >= (prefix[h + 1] as number) && h + 2 <= this.minutes && i < (prefix[h + 2] as number)) return (this.hint = h + 1);
    let lo = 0;
    let hi = this.minutes - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >>> 1;
      if ((prefix[mid] as number) <= i) lo = mid;
      else hi = mid - 1;
    }
    return (this.hint = lo);
  }

  /** `YYYY-MM-DDTHH:MM:SS.mmmZ`, formatting each second once. */
  private timestamp(ms: number): string {
    const second = Math.floor(ms / 1000);
    if (second !== this.secondCached) {
      this.secondCached = second;
      this.secondText = iso(second * 1000).slice(0, 19) + '.';
    }
    return this.secondText + PAD3[ms - second * 1000] + 'Z';
  }

  record(i: number): PerformanceEvent {
    const m = this.minuteOf(i);
    const first = this.prefix[m] as number;
    const n = (this.prefix[m + 1] as number) - first;
    const rng = this.keyed(i);
    // Event k of n in the minute sits in the k-th n-th of it: times never go backwards.
    const at = this.rangeStart + m * MINUTE + Math.floor(((i - first + rng.next()) * MINUTE) / n);

    const kindIndex = KIND_CHOICE.draw(rng);
    const kind = KINDS[kindIndex] as TransactionKind;
    const svc = KIND_SERVICE[kindIndex] as number;
    const replica = rng.int(REPLICAS[svc] as number);
    const load = this.minuteLoad[m] as number;
    const normalRate = this.minuteErrorRate[m] as number;

    // Normal operation: log-normal latency around the transaction's median, a little slower under load.
    let latency = kind.median * (1 + 0.2 * load) * Math.exp(0.3 * rng.normal());
    // Host metrics, normal values first (plain locals: most events never need an object).
    let cpu = 15 + 40 * load + 8 * (rng.next() - 0.5);
    let memory = 52 + 8 * load + ((this.hostMemory[svc] as number[])[replica] as number) + 3 * (rng.next() - 0.5);
    let gc = 6 + 20 * load + 12 * rng.next();
    let pool = 10 + 35 * load + 10 * (rng.next() - 0.5);
    let status = kind.okStatus;
    let code: ErrorCode | null = null;
    let message: string | null = null;
    let incident: Incident | null = null;
    let phase: 'active' | 'recovery' | null = null;

    const incidentIndex = this.minuteIncident[m] as number;
    const candidate = incidentIndex >= 0 ? (this.incidentPlans[incidentIndex] as Incident) : null;
    const errorDraw = rng.next();
    if (candidate && candidate.affects[svc] === 1) {
      incident = candidate;
      const minuteFraction = (at - this.rangeStart) / MINUTE;
      if (m < candidate.end) {
        phase = 'active';
        const progress = (minuteFraction - candidate.start) / (candidate.end - candidate.start);
        const error = errorDraw < candidate.errorRate;
        latency = candidate.kind.latency(rng, error, progress);
        const peak = candidate.kind.metrics(rng, { cpu, memory, gc, pool }, progress);
        cpu = peak.cpu;
        memory = peak.memory;
        gc = peak.gc;
        pool = peak.pool;
        if (error) {
          status = candidate.kind.status;
          code = candidate.kind.code;
          message = candidate.message;
        }
      } else {
        // Recovery: latency, errors and metrics fall back towards normal.
        phase = 'recovery';
        const progress = (minuteFraction - candidate.end) / (candidate.recoveryEnd - candidate.end);
        const left = (1 - progress) ** 2;
        latency += (4_500 - latency) * left * (0.6 + 0.4 * rng.next());
        const peak = candidate.kind.metrics(rng, { cpu, memory, gc, pool }, 1);
        cpu += (peak.cpu - cpu) * left;
        memory += (peak.memory - memory) * left;
        gc += (peak.gc - gc) * left;
        pool += (peak.pool - pool) * left;
        const lingering = (candidate.errorRate - normalRate) * left;
        if (errorDraw < lingering) {
          status = candidate.kind.status;
          code = candidate.kind.code;
          message = candidate.message;
        } else if (errorDraw < lingering + normalRate) {
          const background = BACKGROUND_ERRORS[BACKGROUND_CHOICE.draw(rng)] as BackgroundError;
          status = background.status;
          code = background.code;
          message = background.message;
        }
      }
    } else if (errorDraw < normalRate) {
      const background = BACKGROUND_ERRORS[BACKGROUND_CHOICE.draw(rng)] as BackgroundError;
      status = background.status;
      code = background.code;
      message = background.message;
      if (background.latency) latency = background.latency[0] + rng.next() * (background.latency[1] - background.latency[0]);
    }
    if (phase !== 'active') latency = Math.min(4_900, latency);

    return {
      event_id: this.idOf(i),
      '@timestamp': this.timestamp(at),
      transaction_id: 'txn-' + hex8(scramble(this.txnSeed, i)),
      transaction_type: kind.type,
      service_name: kind.service,
      host_name: (this.hosts[svc] as string[])[replica] as string,
      http_method: kind.method,
      endpoint: kind.endpoint,
      http_status: status,
      status: code === null ? 'success' : 'error',
      response_time_ms: Math.max(1, Math.round(latency)),
      error_code: code,
      error_message: message,
      cpu_percent: round1(cpu),
      memory_percent: round1(memory),
      gc_pause_ms: Math.max(0, Math.round(gc)),
      db_pool_usage_percent: round1(pool),
      incident_id: incident === null ? null : incident.id,
      incident_type: incident === null ? null : incident.kind.type,
      incident_phase: phase,
    };
  }
}
