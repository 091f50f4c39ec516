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
import type { KconfigReach, Restriction } from './reach.js';

/** The note of a restricted finding: the dependency first, then why that makes it a cleanup. */
export function reachNote(r: Restriction): string {
  return `a cleanup, not a runtime bug: built only without HIGHMEM (${r.evidence.join('; ')}), where kmap_local_page() is page_address() and kunmap_local() does nothing`;
}

/**
 * The findings with the reach applied: new objects for the findings it changes (the inputs may be cached
 * elsewhere), the others as they were. An error becomes a warning; other severities stay (a rule configured
 * down to `notice` is not raised).
 */
export function applyKconfigReach(findings: readonly Finding[], reach: KconfigReach): Finding[] {
  return findings.map((f) => {
    if (!findRule(f.rule)?.meta.traits?.cleanupWithoutHighmem) return f;
    // An architecture without HIGHMEM: the rule's own Reach has said so already.
    if (noHighmemArch(f.path)) return f;
    const r = reach.reachOf(f.path);
    if (!r) return f;
    const note = reachNote(r);
    return { ...f, severity: f.severity === 'error' ? 'warning' : f.severity, note: f.note ? `${f.note}; ${note}` : note };
  });
}
