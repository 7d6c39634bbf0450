import type { RuleGroup } from './rule.js';

/** Business rules of the catalogue entities (see rule.ts). */
export const catalogueRules: RuleGroup[] = [];
