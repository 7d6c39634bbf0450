import type { RuleGroup } from './rule.js';

/** Business rules of the performance entities (see rule.ts). */
export const performanceRules: RuleGroup[] = [];
