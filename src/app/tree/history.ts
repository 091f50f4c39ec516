/**
 * The bounded history of the `kmap-review / tree` runs on a repository's default branch (for the trend
 * in the check run), kept in the App's cache next to the previous result.
 */
import type { SiteClass } from '../../analysis/convert/plan.js';
import type { TreeScan } from '../../analysis/scan/tree.js';
import type { TreeRunPoint } from '../../comments/tree-trend.js';

/** Runs kept per repository. */
export const TREE_HISTORY_RUNS = 20;

export const historyKey = (owner: string, repo: string) => `tree-history:${owner}/${repo}`;

function isPoint(v: unknown): v is TreeRunPoint {
  const p = v as TreeRunPoint | null;
  return !!p && typeof p.commit === 'string' && typeof p.total === 'number' && !!p.byClass && typeof p.byClass === 'object' && !!p.bySubsystem && typeof p.bySubsystem === 'object';
}

export function runPointOf(commit: string, scan: Pick<TreeScan, 'totals'>, date: Date = new Date()): TreeRunPoint {
  const t = scan.totals;
  const byClass: Record<SiteClass, number> = { ...t.byClass };
  return { commit, date: date.toISOString(), total: t.sites, byClass, bySubsystem: Object.fromEntries((t.bySubsystem ?? t.byDirectory).map((g) => [g.name, g.total])) };
}

/**
 * The kept runs with `point` appended (a re-run of the same commit replaces its entry), at most `max`,
 * oldest first. Whatever the cache held that is not a history is ignored.
 */
export function appendRun(kept: unknown, point: TreeRunPoint, max = TREE_HISTORY_RUNS): TreeRunPoint[] {
  const runs = Array.isArray(kept) ? kept.filter(isPoint).filter((p) => p.commit !== point.commit) : [];
  return [...runs, point].slice(-max);
}
