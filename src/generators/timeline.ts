import { DAY, HOUR, monthOfDay, type DateWindow } from './time.js';

/**
 * Shop traffic by hour of the shop's local day: quiet nights, a morning ramp, a lunch peak and a
 * larger evening peak (the same curve `busyMoment` uses).
 */
export const HOURLY_TRAFFIC: readonly number[] = [
  1.0, 0.6, 0.4, 0.3, 0.3, 0.5, 1.2, 2.4, 3.6, 4.2, 4.6, 5.2, 6.4, 6.2, 5.0, 4.6, 4.6, 5.2, 6.2,
  7.2, 7.6, 6.6, 4.4, 2.2,
];
const FULL_DAY = HOURLY_TRAFFIC.reduce((a, b) => a + b, 0);

/** Monday..Sunday: weekends a little busier for a consumer shop. */
export const WEEKDAY_TRAFFIC: readonly number[] = [1.0, 0.96, 0.98, 1.0, 1.06, 1.18, 1.12];

/** January..December: a post-holiday lull, a summer sale, Black Friday and Christmas. */
export const MONTH_TRAFFIC: readonly number[] = [0.88, 0.84, 0.93, 0.95, 0.98, 0.97, 1.0, 0.97, 0.94, 1.0, 1.22, 1.36];

/**
 * Hours from UTC of the shop's clock, on which the daily curve runs. One clock for every locale:
 * a world's times do not depend on its locale, so an en_GB download (transactions' default) and
 * an en_US one (every other entity's) of the same seed share sessions, sign-ups and orders, and
 * their keys resolve across endpoints. UTC is the UK shop's local (winter) time.
 */
export const SHOP_UTC_OFFSET_HOURS = 0;

/**
 * How busy a day is before the daily curve is applied: `from`..`to` is the part of the local day
 * inside the window (epoch ms). Returns a density per full day (any positive scale).
 */
export type DayLevel = (from: number, to: number) => number;

/**
 * A time-varying intensity over a date window (day level × weekday × month × the hour of the
 * shop's day) and its inverse cumulative distribution, so that record i of an entity with
 * population n can be placed at `timeAt((i + u) / n)` with u in [0, 1): the i-th of n points of
 * a process with this intensity, non-decreasing in i, each a pure O(log days) function of i.
 *
 * @example
 * const t = new Timeline(window, 0, () => 1);
 * t.timeAt(0.5); // the moment by which half the window's traffic has happened
 * t.fractionBefore(t.timeAt(0.5)); // 0.5
 */
export class Timeline {
  readonly start: number;
  readonly end: number;
  private readonly offsetMs: number;
  /** Local day number (days since 1970-01-01 in shop time) of the window's first day. */
  private readonly firstDay: number;
  /** Weight of each local day (level × weekday × month × share of the hourly curve inside). */
  private readonly dayWeight: Float64Array;
  /** Multiplier of the hourly curve on each day (the day's weight ÷ its hourly mass). */
  private readonly dayFactor: Float64Array;
  /** cum[k] = total weight of days 0..k-1. */
  private readonly cum: Float64Array;
  readonly total: number;

  constructor(window: DateWindow, offsetHours: number, level: DayLevel) {
    this.start = window.start;
    this.end = window.end;
    this.offsetMs = offsetHours * HOUR;
    this.firstDay = Math.floor((window.start + this.offsetMs) / DAY);
    const lastDay = Math.floor((window.end - 1 + this.offsetMs) / DAY);
    const days = lastDay - this.firstDay + 1;
    this.dayWeight = new Float64Array(days);
    this.dayFactor = new Float64Array(days);
    this.cum = new Float64Array(days + 1);
    let total = 0;
    for (let k = 0; k < days; k++) {
      const localDay = this.firstDay + k;
      const dayStart = localDay * DAY - this.offsetMs;
      const from = Math.max(dayStart, window.start);
      const to = Math.min(dayStart + DAY, window.end);
      let mass = 0;
      for (let h = 0; h < 24; h++) mass += (HOURLY_TRAFFIC[h] as number) * overlap(dayStart + h * HOUR, from, to);
      const weekday = (((localDay + 3) % 7) + 7) % 7; // 1970-01-01 was a Thursday (Monday = 0)
      const month = monthOfDay(localDay);
      const factor = Math.max(0, level(from, to)) * (WEEKDAY_TRAFFIC[weekday] as number) * (MONTH_TRAFFIC[month] as number) / FULL_DAY;
      this.dayFactor[k] = factor;
      this.dayWeight[k] = factor * mass;
      total += factor * mass;
      this.cum[k + 1] = total;
    }
    this.total = total;
  }

  /** The moment (epoch ms, inside the window) by which a share q ∈ [0, 1) of the traffic has happened. */
  timeAt(q: number): number {
    const target = Math.min(Math.max(q, 0), 1) * this.total;
    // The last day whose cumulative start is <= target.
    let lo = 0;
    let hi = this.dayWeight.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >>> 1;
      if ((this.cum[mid] as number) <= target) lo = mid;
      else hi = mid - 1;
    }
    while (lo > 0 && (this.dayWeight[lo] as number) === 0) lo--;
    const dayStart = (this.firstDay + lo) * DAY - this.offsetMs;
    const from = Math.max(dayStart, this.start);
    const to = Math.min(dayStart + DAY, this.end);
    const factor = this.dayFactor[lo] as number;
    let rest = target - (this.cum[lo] as number);
    let t = to - 1;
    for (let h = 0; h < 24; h++) {
      const hourStart = Math.max(from, dayStart + h * HOUR);
      const hourEnd = Math.min(to, dayStart + (h + 1) * HOUR);
      if (hourEnd <= hourStart) continue;
      const weight = factor * (HOURLY_TRAFFIC[h] as number) * ((hourEnd - hourStart) / HOUR);
      if (rest < weight || h === 23) {
        t = hourStart + (weight > 0 ? Math.min(1, rest / weight) : 0) * (hourEnd - hourStart);
        break;
      }
      rest -= weight;
    }
    return Math.min(this.end - 1, Math.max(this.start, Math.floor(t)));
  }

  /** The share of the traffic that happens before moment t (0 before the window, 1 after it). */
  fractionBefore(t: number): number {
    if (t <= this.start) return 0;
    if (t >= this.end || this.total === 0) return 1;
    const k = Math.floor((t + this.offsetMs) / DAY) - this.firstDay;
    const dayStart = (this.firstDay + k) * DAY - this.offsetMs;
    const from = Math.max(dayStart, this.start);
    const to = Math.min(dayStart + DAY, this.end);
    const factor = this.dayFactor[k] as number;
    let acc = this.cum[k] as number;
    for (let h = 0; h < 24; h++) {
      const hourStart = Math.max(from, dayStart + h * HOUR);
      const hourEnd = Math.min(to, dayStart + (h + 1) * HOUR);
      if (hourEnd <= hourStart) continue;
      const weight = factor * (HOURLY_TRAFFIC[h] as number) * ((hourEnd - hourStart) / HOUR);
      if (t < hourEnd) {
        acc += weight * ((t - hourStart) / (hourEnd - hourStart));
        break;
      }
      acc += weight;
    }
    return Math.min(1, acc / this.total);
  }

  /** The expected number of records of a population of n that fall in [from, to). */
  expectedBetween(n: number, from: number, to: number): number {
    return n * (this.fractionBefore(to) - this.fractionBefore(from));
  }
}

/** Hours of the hour starting at `hourStart` that lie inside [from, to). */
function overlap(hourStart: number, from: number, to: number): number {
  return Math.max(0, Math.min(hourStart + HOUR, to) - Math.max(hourStart, from)) / HOUR;
}

/**
 * Places record i of n on a timeline: `timeAt((i + u) / n)` with u ∈ [0, 1) drawn from the
 * record's own stream. Non-decreasing in i whatever the draws, because (i + u) / n < (i + 1) / n.
 */
export function placeOn(timeline: Timeline, i: number, n: number, u: number): number {
  return timeline.timeAt((i + u) / n);
}

/**
 * How many of the n records placed on `timeline` by {@link placeOn} happen at or before t:
 * records 0..k-1 with k = floor(n × F(t)) certainly do (record k-1 sits below quantile k/n).
 * Exact up to floating point; callers that need a guarantee check record k-1 themselves.
 */
export function countBy(timeline: Timeline, n: number, t: number): number {
  return Math.min(n, Math.floor(n * timeline.fractionBefore(t)));
}
