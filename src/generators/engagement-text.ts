/**
 * Small pieces shared by the engagement generators (reviews, support tickets, wishlists,
 * notifications): the product noun a customer would write, readable dates and money, and
 * time draws clamped to the window.
 */
import { DEPARTMENTS } from './catalogue.js';
import type { Rng } from './random.js';
import { DAY } from './time.js';

// Every product name ends with one of these nouns (plus an optional model code like " B7").
const NOUNS: readonly string[] = [...new Set(DEPARTMENTS.flatMap((d) => d.subcategories.flatMap((s) => s.nouns)))].sort(
  (a, b) => b.length - a.length,
);
const MODEL_SUFFIX = /\s[A-Z][1-9]$/;
const nounCache = new Map<string, string>();

/** How a customer names the product in a sentence: "kettle", "air fryer", "vinyl LP". */
function spoken(noun: string): string {
  return noun
    .split(' ')
    .map((word) => (word.length > 1 && word === word.toUpperCase() ? word : word.toLowerCase()))
    .join(' ');
}

/** The spoken noun of a product name ("Kitchenly Pro Air Fryer B7" -> "air fryer"). */
export function nounOf(productName: string): string {
  let noun = nounCache.get(productName);
  if (noun === undefined) {
    const bare = productName.replace(MODEL_SUFFIX, '');
    noun = spoken(NOUNS.find((n) => bare.endsWith(` ${n}`)) ?? 'item');
    if (nounCache.size > 100_000) nounCache.clear();
    nounCache.set(productName, noun);
  }
  return noun;
}

/** "this kettle" or "these trainers". */
export function thisNoun(noun: string): string {
  return `${isPlural(noun) ? 'these' : 'this'} ${noun}`;
}

export function isPlural(noun: string): boolean {
  return noun.endsWith('s') && !noun.endsWith('ss');
}

/**
 * Fills a template for a singular or plural noun: `{noun}`, `{this}`/`{This}` (this/these +
 * noun), `{is}` (is/are), `{it}`/`{It}` (it/they), `{them}` (it/them), `{s}` (a verb's third-person s), and `extra` keys.
 */
export function fill(template: string, noun: string, extra: Readonly<Record<string, string>> = {}): string {
  const plural = isPlural(noun);
  return template.replace(/\{(\w+)\}/g, (_, key: string) => {
    if (key === 'noun') return noun;
    if (key === 'this') return thisNoun(noun);
    if (key === 'This') return capitalise(thisNoun(noun));
    if (key === 's') return plural ? '' : 's';
    if (key === 'is') return plural ? 'are' : 'is';
    if (key === 'it') return plural ? 'they' : 'it';
    if (key === 'It') return plural ? 'They' : 'It';
    if (key === 'them') return plural ? 'them' : 'it';
    return extra[key] ?? `{${key}}`;
  });
}

/** Capitalises the first letter. */
export function capitalise(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}

const MONTHS = ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September', 'October', 'November', 'December'];

/** A calendar day as a customer reads it: "March 18" (US) or "18 March" (GB), UTC. */
export function spokenDate(ms: number, country: string): string {
  const date = new Date(Math.floor(ms / DAY) * DAY);
  const month = MONTHS[date.getUTCMonth()] as string;
  return country === 'GB' ? `${date.getUTCDate()} ${month}` : `${month} ${date.getUTCDate()}`;
}

/** An amount with its currency sign: "$84.96", "£12.50". */
export function spokenMoney(amount: number, currency: string): string {
  return `${currency === 'GBP' ? '£' : '$'}${amount.toFixed(2)}`;
}

/**
 * A moment `minMs` to `maxMs` after `from` (skewed towards the short end, like `laterBy`), but
 * always before `end`: the span shrinks when the window closes first. Requires from < end.
 */
export function laterWithin(rng: Rng, from: number, minMs: number, maxMs: number, end: number): number {
  const hi = Math.min(from + maxMs, end - 1);
  const lo = Math.min(from + minMs, hi);
  const u = rng.next();
  return lo + Math.floor(u * u * (hi - lo));
}
