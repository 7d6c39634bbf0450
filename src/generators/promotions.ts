import type { Promotion } from '../schemas/promotion.js';
import { CATEGORY_NODES, LEAF_CATEGORY_INDEXES } from './catalogue.js';
import { EntityGenerator, RecordCache, money } from './entity.js';
import { DAY, busyMoment, iso } from './time.js';
import type { World } from './world.js';

/** A promotion as orders use it: numbers and indexes, not display strings. */
export interface PromotionTerms {
  readonly type: 'percentage' | 'fixed';
  /** Percent, or cents off. */
  readonly value: number;
  readonly minSubtotalCents: number;
  readonly target: 'order' | 'category' | 'product';
  /** Leaf category index or product index of the target; -1 for whole-order promotions. */
  readonly targetIndex: number;
  readonly startsAt: number;
  readonly endsAt: number;
}

const THEMES = ['Spring', 'Summer', 'Autumn', 'Winter', 'Flash', 'Weekend', 'Welcome', 'Members', 'Clearance', 'Holiday'];

/**
 * Promotion codes running inside the window. Orders try codes at checkout and carry one when it
 * applied (see OrderGenerator): the order's discount is exactly {@link PromotionGenerator.discountCents}.
 *
 * @example
 * new PromotionGenerator(world).record(0).code; // 'SPRING15-01'-like, unique
 */
export class PromotionGenerator extends EntityGenerator<Promotion> {
  readonly population: number;
  private readonly terms: RecordCache<PromotionTerms>;

  constructor(world: World) {
    super(world, 'promotions');
    this.population = Math.max(1, Math.round(30 * Math.sqrt(world.sizes.orders / 5000)));
    this.terms = new RecordCache((j) => this.buildTerms(j), this.population);
  }

  /** The terms of promotion j (cheap; cached). */
  termsOf(j: number): PromotionTerms {
    return this.terms.get(j);
  }

  /**
   * The discount in cents a promotion gives an order placed at `at` with these lines, or -1
   * when it does not apply (outside its window, below the minimum, or nothing eligible).
   */
  discountCents(
    terms: PromotionTerms,
    at: number,
    subtotalCents: number,
    lines: ReadonlyArray<{ product: number; category: number; totalCents: number }>,
  ): number {
    if (at < terms.startsAt || at >= terms.endsAt || subtotalCents < terms.minSubtotalCents) return -1;
    let eligible = 0;
    for (const line of lines) {
      if (terms.target === 'order' || (terms.target === 'category' ? line.category : line.product) === terms.targetIndex) {
        eligible += line.totalCents;
      }
    }
    if (eligible === 0) return -1;
    return terms.type === 'percentage' ? Math.round((eligible * terms.value) / 100) : Math.min(eligible, terms.value);
  }

  private buildTerms(j: number): PromotionTerms {
    const { start, end } = this.world.window;
    const rng = this.keyed(j);
    const span = end - start;
    // One promotion in six runs the whole window (a welcome code); the rest run 1-6 weeks.
    const evergreen = j % 6 === 0;
    const length = evergreen ? span : Math.min(span, rng.between(7, 42) * DAY);
    const startsAt = evergreen ? start : Math.floor(busyMoment(rng, start, end - length + 1) / DAY) * DAY;
    const type = rng.chance(0.7) ? 'percentage' : 'fixed';
    const targetDraw = rng.next();
    const target = evergreen || targetDraw < 0.45 ? 'order' : targetDraw < 0.85 ? 'category' : 'product';
    const targetIndex =
      target === 'category'
        ? rng.pick(LEAF_CATEGORY_INDEXES)
        : target === 'product'
          ? rng.int(this.world.sizes.products)
          : -1;
    return {
      type,
      value: type === 'percentage' ? rng.pick([5, 10, 10, 15, 20, 25, 30]) : rng.pick([500, 1000, 1500, 2000]),
      minSubtotalCents: target === 'order' ? rng.pick([0, 2000, 5000, 7500]) * (type === 'fixed' ? 2 : 1) : 0,
      target,
      targetIndex,
      startsAt: Math.max(start, startsAt),
      endsAt: Math.min(end, Math.max(start, startsAt) + length),
    };
  }

  record(j: number): Promotion {
    const terms = this.termsOf(j);
    const theme = THEMES[j % THEMES.length] as string;
    const amount = terms.type === 'percentage' ? `${terms.value}%` : `${money(terms.value)} ${this.world.profile.currency}`;
    const what =
      terms.target === 'category'
        ? (CATEGORY_NODES[terms.targetIndex]?.name ?? 'selected lines')
        : terms.target === 'product'
          ? 'a featured product'
          : 'your order';
    const code = `${theme.toUpperCase()}${terms.type === 'percentage' ? terms.value : money(terms.value)}-${String(j + 1).padStart(2, '0')}`;
    return {
      promotion_id: this.idOf(j),
      code,
      name: `${theme} ${terms.type === 'percentage' ? 'sale' : 'saver'}: ${amount} off ${what}`,
      description: `${amount} off ${what}${terms.minSubtotalCents > 0 ? ` on orders of ${money(terms.minSubtotalCents)} or more` : ''}, ${iso(terms.startsAt).slice(0, 10)} to ${iso(terms.endsAt - 1).slice(0, 10)}.`,
      discount_type: terms.type,
      discount_value: terms.type === 'percentage' ? terms.value : money(terms.value),
      min_order_amount: money(terms.minSubtotalCents),
      target_type: terms.target,
      target_category_id: terms.target === 'category' ? this.world.generator('categories').idOf(terms.targetIndex) : null,
      target_product_id: terms.target === 'product' ? this.world.generator('products').idOf(terms.targetIndex) : null,
      starts_at: iso(terms.startsAt),
      ends_at: iso(terms.endsAt),
      is_active: terms.endsAt >= this.world.window.end,
    };
  }
}

