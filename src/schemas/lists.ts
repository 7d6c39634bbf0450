/**
 * The comma-list query parameters (`fields`, `types`, `entities`): the pattern of one item, from
 * which each schema's whole-list pattern is made, and by which a refused list's first bad item is
 * named (src/plugins/errors.ts). No imports: the error handler reads it too.
 */
export const LIST_ITEMS = {
  fields: { pattern: '@?[a-z_][a-z0-9_]*', what: 'a field name' },
  types: { pattern: '[a-z_]+\\.[a-z_]+', what: 'an event type' },
  entities: { pattern: '[a-z/-]+', what: 'an entity name' },
} as const;

/** The pattern of a whole comma list of `item`s (one at least, no empty item). */
export const commaList = (item: string): string => `^${item}(,${item})*$`;
