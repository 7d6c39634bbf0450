import type { Category } from '../schemas/category.js';
import { CATEGORY_NODES, slugify } from './catalogue.js';
import { EntityGenerator } from './entity.js';
import type { World } from './world.js';

/**
 * The fixed category tree (departments, then subcategories). Only the ids depend on the seed.
 *
 * @example
 * new CategoryGenerator(world).record(8).path; // 'Electronics > Smartphones'
 */
export class CategoryGenerator extends EntityGenerator<Category> {
  readonly population = CATEGORY_NODES.length;

  constructor(world: World) {
    super(world, 'categories');
  }

  record(i: number): Category {
    const node = CATEGORY_NODES[i];
    if (!node) throw new RangeError(`category ${i} does not exist`);
    const parent = node.parentIndex >= 0 ? CATEGORY_NODES[node.parentIndex] : undefined;
    const path = parent ? `${parent.name} > ${node.name}` : node.name;
    const nouns = node.subcategory?.nouns ?? node.department.subcategories.map((s) => s.name);
    return {
      category_id: this.idOf(i),
      parent_id: parent ? this.idOf(parent.index) : null,
      name: node.name,
      slug: slugify(path),
      level: parent ? 2 : 1,
      path,
      description: `${node.name}: ${nouns.slice(0, 3).join(', ').toLowerCase()} and more from ${node.department.brands
        .slice(0, 2)
        .join(' and ')}.`,
    };
  }
}
