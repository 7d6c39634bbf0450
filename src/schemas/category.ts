import { Type, type Static } from '@sinclair/typebox';
import { Nullable, Uuid } from './common.js';

/**
 * A node of the fixed two-level category tree (8 departments, their subcategories).
 *
 * @example
 * { "category_id": "…", "parent_id": "…", "name": "Smartphones", "level": 2, "path": "Electronics > Smartphones" }
 */
export const CategorySchema = Type.Object(
  {
    category_id: Uuid('Primary key'),
    parent_id: Nullable(Uuid('The department this subcategory belongs to; null for a department')),
    name: Type.String({ examples: ['Smartphones'] }),
    slug: Type.String({ description: 'URL slug, unique', examples: ['electronics-smartphones'] }),
    level: Type.Integer({ minimum: 1, maximum: 2, description: '1 for a department, 2 for a subcategory' }),
    path: Type.String({ description: 'Breadcrumb from the root', examples: ['Electronics > Smartphones'] }),
    description: Type.String({ examples: ['Unlocked phones from the leading brands.'] }),
  },
  { $id: 'Category', additionalProperties: false, description: 'A product category' },
);
export type Category = Static<typeof CategorySchema>;
