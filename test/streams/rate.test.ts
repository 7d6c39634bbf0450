import t from 'tap';
import { CURVE_MAX, CURVE_MIN, TokenBucket, dailyFactor, expectedEvents, localHour, rateAt, zoneOffsetMinutes } from '../../src/streams/rate.js';

t.test('the daily curve: 0.4 at 03:00, 1.4 at 15:00, smooth, mean 0.9', async (t) => {
  const r9 = (x: number) => Math.round(x * 1e9) / 1e9;
  t.equal(r9(dailyFactor(3)), CURVE_MIN);
  t.equal(r9(dailyFactor(15)), CURVE_MAX);
  let biggestStep = 0;
  let sum = 0;
  let min = Infinity;
  let max = -Infinity;
  for (let k = 0; k < 24 * 60; k++) {
    const f = dailyFactor(k / 60);
    sum += f;
    min = Math.min(min, f);
    max = Math.max(max, f);
    biggestStep = Math.max(biggestStep, Math.abs(f - dailyFactor((k + 1) / 60)));
  }
  t.ok(biggestStep < 0.003, `no jump: at most ${biggestStep} from one minute to the next`);
  t.ok(min >= CURVE_MIN - 1e-9 && max <= CURVE_MAX + 1e-9, 'within 0.4..1.4');
  t.equal(Math.round((sum / (24 * 60)) * 1e6) / 1e6, 0.9, 'mean 0.9');
  t.ok(dailyFactor(12) > dailyFactor(9) && dailyFactor(21) < dailyFactor(18), 'rises to the afternoon, falls in the evening');
});

t.test("local hour in the shop's time zone, daylight saving included", async (t) => {
  const winter = Date.UTC(2026, 0, 15, 12, 30);
  const summer = Date.UTC(2026, 6, 15, 12, 30);
  t.equal(zoneOffsetMinutes(winter, 'Europe/London'), 0);
  t.equal(zoneOffsetMinutes(summer, 'Europe/London'), 60);
  t.equal(zoneOffsetMinutes(winter, 'America/New_York'), -300);
  t.equal(zoneOffsetMinutes(summer, 'America/New_York'), -240);
  t.equal(localHour(winter, 'Europe/London'), 12.5);
  t.equal(localHour(summer, 'Europe/London'), 13.5);
  t.equal(localHour(winter, 'America/New_York'), 7.5);
  t.equal(localHour(Date.UTC(2026, 0, 15, 2), 'America/New_York'), 21, 'the previous local day');
  const spec = { eventsPerSecond: 1000, dailyCurve: true, timeZone: 'Europe/London' };
  t.equal(Math.round(rateAt(spec, Date.UTC(2026, 0, 15, 3))), 400, '03:00 London in winter: 0.4x');
  t.equal(Math.round(rateAt(spec, Date.UTC(2026, 6, 15, 14))), 1400, '15:00 London in summer is 14:00 UTC: 1.4x');
  t.equal(rateAt({ ...spec, dailyCurve: false }, Date.UTC(2026, 0, 15, 3)), 1000, 'curve off: the base rate');
});

t.test('expected events integrate the curve', async (t) => {
  const spec = { eventsPerSecond: 100, dailyCurve: true, timeZone: 'UTC' };
  const day = Date.UTC(2026, 2, 1);
  t.equal(Math.round(expectedEvents(spec, day, day + 86_400_000)), Math.round(100 * 0.9 * 86_400), 'a whole day: 0.9 x base x 86,400 s');
  t.equal(expectedEvents({ ...spec, dailyCurve: false }, day, day + 60_000), 6000, 'flat: rate x seconds');
});

t.test('token bucket: starts full at burst, refills at the rate, never above burst', async (t) => {
  const bucket = new TokenBucket(() => 1000, 50, 0);
  t.equal(bucket.available(0), 50, 'starts with the burst');
  t.equal(bucket.take(80, 0), 50, 'takes at most what is there');
  t.equal(bucket.available(0), 0);
  t.equal(bucket.waitFor(10, 0), 10, '10 tokens at 1000/s: 10 ms');
  t.equal(bucket.available(10), 10);
  t.equal(bucket.available(10_000), 50, 'capped at burst however long it rests');
  // Over a minute of taking everything available every 20 ms, exactly rate x time (+ the initial burst).
  const fresh = new TokenBucket(() => 1000, 50, 0);
  let taken = 0;
  for (let ms = 0; ms <= 60_000; ms += 20) taken += fresh.take(Infinity, ms);
  t.equal(taken, 60_000 + 50, 'a minute at 1,000/s: 60,000 plus the burst');
  t.equal(new TokenBucket(() => 0, 5, 0).waitFor(6, 0), 0, 'asking more than the burst waits for a full bucket (already full)');
  t.equal(new TokenBucket(() => 0, 5, 0).take(5, 0), 5);
});
