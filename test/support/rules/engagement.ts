import type { RuleGroup } from './rule.js';

/** Business rules of the engagement entities (see rule.ts). */
export const engagementRules: RuleGroup[] = [];
