import { analyticsRules } from './analytics.js';
import { behaviourRules } from './behaviour.js';
import { catalogueRules } from './catalogue.js';
import { engagementRules } from './engagement.js';
import { performanceRules } from './performance.js';
import { supplyRules } from './supply.js';
import type { RuleGroup } from './rule.js';

export type { Rule, RuleGroup, WindowSql } from './rule.js';

/** Rule groups of the entities added after the foundation, one file per area. */
export const RULE_GROUPS: readonly RuleGroup[] = [
  ...catalogueRules,
  ...engagementRules,
  ...supplyRules,
  ...behaviourRules,
  ...performanceRules,
  ...analyticsRules,
];
