/** The rule registry: every rule the engine runs, in the order findings are documented. */
import { deprecatedApi } from './deprecated-api.js';
import { mismatchedUnmap } from './mismatched-unmap.js';
import { unmapPage } from './unmap-page.js';
import { useHelper } from './use-helper.js';
import { pageAddressOfLocalMap } from './page-address-of-local-map.js';
import { lostPagefaultDisable } from './lost-pagefault-disable.js';
import { lostPreemptDisable } from './lost-preempt-disable.js';
import { sleepInAtomic } from './sleep-in-atomic.js';
import { mappingEscapes } from './mapping-escapes.js';
import { unmapOrder } from './unmap-order.js';
import { mappingLeak } from './mapping-leak.js';
import { doubleUnmap } from './double-unmap.js';
import { useAfterUnmap } from './use-after-unmap.js';
import { stackDepth } from './stack-depth.js';
import { unmapOutsidePage } from './unmap-outside-page.js';
import type { Rule } from './rule.js';

export const allRules: readonly Rule[] = [deprecatedApi, mismatchedUnmap, unmapPage, useHelper, pageAddressOfLocalMap, lostPagefaultDisable, lostPreemptDisable, sleepInAtomic, mappingEscapes, unmapOrder, mappingLeak, doubleUnmap, useAfterUnmap, stackDepth, unmapOutsidePage];

export function findRule(id: string): Rule | undefined {
  return allRules.find((r) => r.meta.id === id);
}
