/**
 * Where the Kconfig reach meets the findings: a finding of a rule whose findings are cleanups without
 * HIGHMEM (RuleTraits.cleanupWithoutHighmem), in a file the tree builds only without HIGHMEM, becomes a
 * warning with a note naming the dependency. Applied after the rules (by the engine for `check --tree`, by
 * the tree scan once its files are analysed): the rules themselves never read the tree, and a scan's result
 * cache keeps the findings as the file alone decides them (a Kconfig change must not need a re-analysis).
 */
import type { Finding } from '../model.js';
import { noHighmemArch } from '../replay/query.js';
import { findRule } from '../rules/index.js';
import type { Restriction } from './reach.js';

/** What the findings need of a reach: KconfigReach, or CachedReach (reach-cache.ts) for a scan with a cache. */
export interface ReachOf {
  reachOf(path: string): Restriction | null;
}

/** The note of a restricted finding: the dependency first, then why that makes it a cleanup. */
export function reachNote(r: Restriction): string {
  return `a cleanup, not a runtime bug: built only without HIGHMEM (${r.evidence.join('; ')}), where kmap_local_page() is page_address() and kunmap_local() does nothing`;
}

/**
 * Whether the reach can change a finding: an error of a rule whose findings are cleanups without HIGHMEM.
 * Only errors: the reach's one effect is an error becoming a warning (the note says why). A warning or a
 * notice stays as it is, without the note - asking about it would read every Kconfig file of the tree
 * (~0.1 s) to change no severity and no exit status, and a `check --tree` of one patch would pay it.
 */
export function reachCanChange(f: Finding): boolean {
  return f.severity === 'error' && !!findRule(f.rule)?.meta.traits?.cleanupWithoutHighmem && !noHighmemArch(f.path);
}

/**
 * The findings with the reach applied: new objects for the findings it changes (the inputs may be cached
 * elsewhere), the others as they were. An error becomes a warning with a note naming the dependency.
 */
export function applyKconfigReach(findings: readonly Finding[], reach: ReachOf): Finding[] {
  return findings.map((f) => {
    // An architecture without HIGHMEM (noHighmemArch): the rule's own Reach has said so already.
    if (!reachCanChange(f)) return f;
    const r = reach.reachOf(f.path);
    if (!r) return f;
    const note = reachNote(r);
    return { ...f, severity: 'warning', note: f.note ? `${f.note}; ${note}` : note };
  });
}
