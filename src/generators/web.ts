import type { BROWSERS, DEVICE_TYPES, OPERATING_SYSTEMS } from '../schemas/session.js';
import { WeightedChoice, mix32, type Rng } from './random.js';

export type DeviceType = (typeof DEVICE_TYPES)[number];
export type OperatingSystem = (typeof OPERATING_SYSTEMS)[number];
export type Browser = (typeof BROWSERS)[number];

/** What a visitor browses with; `userAgent` is consistent with the other three. */
export interface Client {
  readonly device: DeviceType;
  readonly os: OperatingSystem;
  readonly browser: Browser;
  readonly userAgent: string;
}

// 2025 shares, roughly: phones take most visits, tablets few.
const DEVICES = new WeightedChoice<DeviceType>([['mobile', 56], ['desktop', 37], ['tablet', 7]]);
const OS_BY_DEVICE: Record<DeviceType, WeightedChoice<OperatingSystem>> = {
  desktop: new WeightedChoice<OperatingSystem>([['Windows', 66], ['macOS', 27], ['Linux', 4], ['ChromeOS', 3]]),
  mobile: new WeightedChoice<OperatingSystem>([['Android', 52], ['iOS', 48]]),
  tablet: new WeightedChoice<OperatingSystem>([['iPadOS', 64], ['Android', 36]]),
};
const BROWSER_BY_OS: Record<OperatingSystem, WeightedChoice<Browser>> = {
  Windows: new WeightedChoice<Browser>([['Chrome', 64], ['Edge', 23], ['Firefox', 10], ['Opera', 3]]),
  macOS: new WeightedChoice<Browser>([['Safari', 47], ['Chrome', 44], ['Firefox', 6], ['Edge', 3]]),
  Linux: new WeightedChoice<Browser>([['Chrome', 62], ['Firefox', 38]]),
  ChromeOS: new WeightedChoice<Browser>([['Chrome', 1]]),
  iOS: new WeightedChoice<Browser>([['Safari', 86], ['Chrome', 14]]),
  iPadOS: new WeightedChoice<Browser>([['Safari', 90], ['Chrome', 10]]),
  Android: new WeightedChoice<Browser>([['Chrome', 74], ['Samsung Internet', 21], ['Firefox', 5]]),
};
const ANDROID_PHONES = ['SM-S928B', 'SM-S921B', 'SM-A546B', 'SM-A156B', 'Pixel 8', 'Pixel 9', 'K'];
const ANDROID_TABLETS = ['SM-X710', 'SM-X210', 'SM-P620', 'Lenovo TB-X606F'];

/** The WebKit/Blink build strings of the current browsers: major versions of 2025. */
function chromeVersion(rng: Rng): number {
  return rng.between(131, 142);
}

/** A User-Agent string for the device, os and browser (the formats browsers sent in 2025). */
function userAgentOf(rng: Rng, device: DeviceType, os: OperatingSystem, browser: Browser): string {
  const chrome = chromeVersion(rng);
  const firefox = rng.between(134, 145);
  const safari = `18.${rng.between(0, 6)}`;
  const blink = `AppleWebKit/537.36 (KHTML, like Gecko) Chrome/${chrome}.0.0.0`;
  switch (os) {
    case 'Windows': {
      if (browser === 'Firefox') return `Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:${firefox}.0) Gecko/20100101 Firefox/${firefox}.0`;
      const base = `Mozilla/5.0 (Windows NT 10.0; Win64; x64) ${blink} Safari/537.36`;
      if (browser === 'Edge') return `${base} Edg/${chrome}.0.${rng.between(2000, 3500)}.${rng.between(10, 99)}`;
      if (browser === 'Opera') return `${base} OPR/${chrome - 15}.0.0.0`;
      return base;
    }
    case 'macOS':
      if (browser === 'Safari') return `Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/${safari} Safari/605.1.15`;
      if (browser === 'Firefox') return `Mozilla/5.0 (Macintosh; Intel Mac OS X 10.15; rv:${firefox}.0) Gecko/20100101 Firefox/${firefox}.0`;
      if (browser === 'Edge') return `Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) ${blink} Safari/537.36 Edg/${chrome}.0.${rng.between(2000, 3500)}.${rng.between(10, 99)}`;
      return `Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) ${blink} Safari/537.36`;
    case 'Linux':
      if (browser === 'Firefox') return `Mozilla/5.0 (X11; Ubuntu; Linux x86_64; rv:${firefox}.0) Gecko/20100101 Firefox/${firefox}.0`;
      return `Mozilla/5.0 (X11; Linux x86_64) ${blink} Safari/537.36`;
    case 'ChromeOS':
      return `Mozilla/5.0 (X11; CrOS x86_64 ${rng.between(15600, 16300)}.${rng.between(0, 90)}.0) ${blink} Safari/537.36`;
    case 'iOS':
    case 'iPadOS': {
      const ios = `18_${rng.between(0, 6)}`;
      const hardware = os === 'iOS' ? `iPhone; CPU iPhone OS ${ios} like Mac OS X` : `iPad; CPU OS ${ios} like Mac OS X`;
      if (browser === 'Chrome') return `Mozilla/5.0 (${hardware}) AppleWebKit/605.1.15 (KHTML, like Gecko) CriOS/${chrome}.0.0.0 Mobile/15E148 Safari/604.1`;
      return `Mozilla/5.0 (${hardware}) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/${ios.replace('_', '.')} Mobile/15E148 Safari/604.1`;
    }
    case 'Android': {
      const version = rng.between(12, 15);
      const phone = device === 'mobile';
      const model = rng.pick(phone ? ANDROID_PHONES : ANDROID_TABLETS);
      const mobile = phone ? 'Mobile ' : '';
      if (browser === 'Firefox') return `Mozilla/5.0 (Android ${version}; ${phone ? 'Mobile' : 'Tablet'}; rv:${firefox}.0) Gecko/${firefox}.0 Firefox/${firefox}.0`;
      if (browser === 'Samsung Internet') {
        return `Mozilla/5.0 (Linux; Android ${version}; ${model}) AppleWebKit/537.36 (KHTML, like Gecko) SamsungBrowser/${rng.between(26, 28)}.0 Chrome/${chrome - 6}.0.0.0 ${mobile}Safari/537.36`;
      }
      return `Mozilla/5.0 (Linux; Android ${version}; ${model}) ${blink} ${mobile}Safari/537.36`;
    }
  }
}

/**
 * Draws a visitor's device, operating system, browser and the matching User-Agent.
 *
 * @example
 * const c = drawClient(rng); // { device: 'mobile', os: 'iOS', browser: 'Safari', userAgent: 'Mozilla/5.0 (iPhone; …' }
 */
export function drawClient(rng: Rng): Client {
  const device = DEVICES.draw(rng);
  const os = (OS_BY_DEVICE[device] as WeightedChoice<OperatingSystem>).draw(rng);
  const browser = (BROWSER_BY_OS[os] as WeightedChoice<Browser>).draw(rng);
  return { device, os, browser, userAgent: userAgentOf(rng, device, os, browser) };
}

// First octets of public unicast blocks held by European (RIPE) and North American (ARIN)
// ISPs and mobile carriers; private, shared (100.64/10), loopback, link-local, documentation
// and multicast space never appear.
const FIRST_OCTETS = [
  2, 5, 31, 37, 46, 51, 62, 77, 78, 79, 80, 81, 82, 84, 86, 87, 88, 90, 92, 94, 95, 109, 151, 176, 178, 185, 188, 212, 213, 217,
  24, 47, 50, 63, 64, 65, 66, 67, 68, 69, 70, 71, 72, 73, 74, 75, 76, 96, 97, 98, 99, 104, 107, 108, 173, 174, 184, 206, 208, 209,
];

/** A public IPv4 address from 32 random bits and one more draw for the first octet. */
function ipFrom(word: number, firstOctet: number): string {
  const first = FIRST_OCTETS[firstOctet % FIRST_OCTETS.length] as number;
  return `${first}.${(word >>> 16) & 0xff}.${(word >>> 8) & 0xff}.${1 + ((word & 0xff) % 254)}`;
}

/** A fresh public IPv4 address (mobile networks, offices, cafés). */
export function drawIp(rng: Rng): string {
  return ipFrom(rng.u32(), rng.u32());
}

/** The home IPv4 address of user `user` in world `seed`: the same for all of their home visits. */
export function homeIp(seed: number, user: number): string {
  const word = mix32(mix32(seed ^ 0x2c1b3c6d) ^ Math.imul(user + 1, 0x9e3779b1));
  return ipFrom(mix32(word ^ 0x68e31da4), word);
}
