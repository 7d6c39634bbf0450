import type { RuleGroup } from './rule.js';

/** Business rules of the behaviour entities (see rule.ts). */
export const behaviourRules: RuleGroup[] = [];
