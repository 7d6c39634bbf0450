import type { WishlistItem } from '../schemas/wishlist.js';
import { WISHLIST_PRIORITIES } from '../schemas/wishlist.js';
import { ChildGenerator } from './child-index.js';
import { RecordCache } from './entity.js';
import { Rng, WeightedChoice, tagOf } from './random.js';
import { MINUTE, busyMoment, iso } from './time.js';
import type { World } from './world.js';

/** One wishlist entry before formatting: which product, when, how wanted. */
export interface WishlistEntry {
  readonly product: number;
  readonly addedAt: number;
}

const SALT_LIST = tagOf('wishlist');
// Half the customers never use the wishlist; the rest keep a few items, a handful keep many.
const SIZE = new WeightedChoice([
  [0, 50], [1, 12], [2, 10], [3, 8], [4, 5.5], [5, 4], [6, 3], [7, 2], [8, 1.5], [10, 1.5], [12, 1], [15, 0.8], [20, 0.5], [25, 0.2],
] as const);
const PRIORITY = new WeightedChoice<(typeof WISHLIST_PRIORITIES)[number]>([['low', 30], ['medium', 48], ['high', 22]]);
const NOTES = [
  'Birthday gift idea',
  'Christmas list',
  'Wait for a sale',
  'For the new flat',
  'Check reviews first',
  'Gift for my sister',
  'Gift for a friend',
  'Maybe next month',
  'Compare with the other one',
  'Need this before the holiday',
] as const;

/**
 * Wishlists, one row per (user, product) entry, as children of the users: about half of the
 * customers keep one, with 1-25 distinct products (popular products are wished for more
 * often), each added after the customer signed up.
 *
 * @example
 * const w = new WishlistGenerator(world).record(0); // w.added_at > users[w.user_id].created_at
 */
export class WishlistGenerator extends ChildGenerator<WishlistItem> {
  protected readonly parents: number;
  private readonly lookupRng = new Rng();
  private readonly lists: RecordCache<readonly WishlistEntry[]>;

  constructor(world: World) {
    super(world, 'wishlists');
    this.parents = world.sizes.users;
    this.lists = new RecordCache((user) => this.build(user), this.parents, 4096);
  }

  /** Number of products on user j's wishlist (cheap: one keyed draw). */
  sizeOf(user: number): number {
    const rng = this.lookupRng.key(this.world.seed, this.tag, user, SALT_LIST);
    return Math.min(SIZE.draw(rng), this.world.sizes.products);
  }

  /** The entries of user j's wishlist, in list order. */
  entries(user: number): readonly WishlistEntry[] {
    return this.lists.get(user);
  }

  protected childCount(user: number): number {
    return this.sizeOf(user);
  }

  private build(user: number): readonly WishlistEntry[] {
    const n = this.sizeOf(user);
    if (n === 0) return [];
    const { end } = this.world.window;
    const products = this.world.generator('products');
    const signedUp = this.world.generator('users').createdAt(user);
    // The size draw positioned the stream; the entries continue on it.
    const rng = this.lookupRng;
    const chosen: number[] = [];
    const out: WishlistEntry[] = [];
    for (let k = 0; k < n; k++) {
      // Distinct products: redraw on a clash, then step to the next free index (bounded).
      let p = products.popularIndex(rng.next());
      for (let attempt = 0; chosen.includes(p) && attempt < 16; attempt++) p = rng.int(products.population);
      while (chosen.includes(p)) p = (p + 1) % products.population;
      chosen.push(p);
      out.push({ product: p, addedAt: busyMoment(rng, signedUp + MINUTE, end) });
    }
    return out;
  }

  protected child(user: number, k: number, i: number): WishlistItem {
    const entry = this.entries(user)[k];
    if (!entry) throw new RangeError(`user ${user} has no wishlist entry ${k}`);
    const rng = this.keyed(i);
    return {
      wishlist_item_id: this.idOf(i),
      user_id: this.world.generator('users').idOf(user),
      product_id: this.world.generator('products').idOf(entry.product),
      added_at: iso(entry.addedAt),
      priority: PRIORITY.draw(rng),
      note: rng.chance(0.18) ? rng.pick(NOTES) : null,
    };
  }
}
