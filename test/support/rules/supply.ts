import type { RuleGroup } from './rule.js';

/** Business rules of the supply entities (see rule.ts). */
export const supplyRules: RuleGroup[] = [];
