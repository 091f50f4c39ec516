/** The rule registry: every rule the engine runs, in the order findings are documented. */
import { deprecatedApi } from './deprecated-api.js';
import type { Rule } from './rule.js';

export const allRules: readonly Rule[] = [deprecatedApi];

export function findRule(id: string): Rule | undefined {
  return allRules.find((r) => r.meta.id === id);
}
