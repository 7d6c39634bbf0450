/**
 * The rate of a stream: the daily curve over the base rate and a token bucket. Pure functions
 * of explicit times (milliseconds since the epoch), so they are tested with a fake clock.
 */
import type { LocaleCode } from '../generators/locale.js';

const HOUR_MS = 3_600_000;
const DAY_HOURS = 24;

/** The curve's lowest and highest multiple of the base rate, as the reference generator's. */
export const CURVE_MIN = 0.4;
export const CURVE_MAX = 1.4;
/** Local hour of the quietest moment; the busiest is twelve hours later (15:00). */
export const CURVE_LOW_HOUR = 3;

/** The shop's time zone when the request names none: the locale's country. */
export const DEFAULT_TIME_ZONE: Readonly<Record<LocaleCode, string>> = {
  en_US: 'America/New_York',
  en_GB: 'Europe/London',
};

/** Whether `zone` is an IANA time zone this runtime knows. */
export function isTimeZone(zone: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}

const offsetFormats = new Map<string, Intl.DateTimeFormat>();

/** Minutes the zone's wall clock is ahead of UTC at `ms` (daylight saving included). */
export function zoneOffsetMinutes(ms: number, zone: string): number {
  let format = offsetFormats.get(zone);
  if (format === undefined) {
    format = new Intl.DateTimeFormat('en-US', { timeZone: zone, hourCycle: 'h23', year: 'numeric', month: 'numeric', day: 'numeric', hour: 'numeric', minute: 'numeric', second: 'numeric' });
    offsetFormats.set(zone, format);
  }
  const parts = Object.fromEntries(format.formatToParts(new Date(ms)).map((p) => [p.type, p.value]));
  const asUtc = Date.UTC(Number(parts.year), Number(parts.month) - 1, Number(parts.day), Number(parts.hour), Number(parts.minute), Number(parts.second));
  return Math.round((asUtc - (ms - (ms % 1000))) / 60_000);
}

/** Fractional local hour of day (0 <= h < 24) at `ms` in `zone`. */
export function localHour(ms: number, zone: string): number {
  const local = ms + zoneOffsetMinutes(ms, zone) * 60_000;
  const h = (local % (DAY_HOURS * HOUR_MS)) / HOUR_MS;
  return h < 0 ? h + DAY_HOURS : h;
}

/**
 * The daily curve: a multiple of the base rate between 0.4 (03:00 local) and 1.4 (15:00
 * local), a cosine over the day so the rate never jumps; its mean over a day is 0.9.
 *
 * @example
 * dailyFactor(3) // 0.4
 * dailyFactor(15) // 1.4
 */
export function dailyFactor(hour: number): number {
  const mid = (CURVE_MIN + CURVE_MAX) / 2;
  const amplitude = (CURVE_MAX - CURVE_MIN) / 2;
  return mid - amplitude * Math.cos((2 * Math.PI * (hour - CURVE_LOW_HOUR)) / DAY_HOURS);
}

/** A stream's target rate over time. */
export interface RateSpec {
  /** Base rate, events per second (> 0). */
  readonly eventsPerSecond: number;
  /** Apply the daily curve (in `timeZone`). */
  readonly dailyCurve: boolean;
  readonly timeZone: string;
}

/** The target rate (events per second) at `ms`. */
export function rateAt(spec: RateSpec, ms: number): number {
  return spec.dailyCurve ? spec.eventsPerSecond * dailyFactor(localHour(ms, spec.timeZone)) : spec.eventsPerSecond;
}

/**
 * Expected events in [fromMs, toMs) at the target rate: the rate integrated by the midpoint
 * rule over one-minute steps (the curve moves by under 0.3% of its range within a minute).
 */
export function expectedEvents(spec: RateSpec, fromMs: number, toMs: number): number {
  if (!spec.dailyCurve) return (spec.eventsPerSecond * (toMs - fromMs)) / 1000;
  let total = 0;
  for (let t = fromMs; t < toMs; t += 60_000) {
    const end = Math.min(toMs, t + 60_000);
    total += (rateAt(spec, (t + end) / 2) * (end - t)) / 1000;
  }
  return total;
}

/**
 * A token bucket: tokens accrue at the target rate up to `burst`, and each event takes one.
 * A stream that fell behind may catch up at most `burst` events above the rate; past that,
 * what it could not send shows as lag rather than as a rate spike.
 */
export class TokenBucket {
  private tokens: number;
  private at: number;

  constructor(
    private readonly rate: (ms: number) => number,
    readonly burst: number,
    startMs: number,
  ) {
    this.tokens = burst;
    this.at = startMs;
  }

  /** Adds what accrued since the last call (the rate taken at the interval's midpoint). */
  private refill(ms: number): void {
    if (ms <= this.at) return;
    this.tokens = Math.min(this.burst, this.tokens + (this.rate((this.at + ms) / 2) * (ms - this.at)) / 1000);
    this.at = ms;
  }

  /** Tokens available at `ms`, whole ones only. */
  available(ms: number): number {
    this.refill(ms);
    return Math.floor(this.tokens);
  }

  /** Takes `n` tokens (at most what is available); returns how many were taken. */
  take(n: number, ms: number): number {
    this.refill(ms);
    const taken = Math.max(0, Math.min(n, Math.floor(this.tokens)));
    this.tokens -= taken;
    return taken;
  }

  /** Milliseconds from `ms` until `n` tokens are available (0 if they are; Infinity if never). */
  waitFor(n: number, ms: number): number {
    this.refill(ms);
    const missing = Math.min(n, this.burst) - this.tokens;
    if (missing <= 0) return 0;
    const rate = this.rate(ms);
    return rate > 0 ? Math.ceil((missing / rate) * 1000) : Infinity;
  }
}
