/**
 * The bounded history of the `kmap-review / tree` runs on a repository's default branch (for the trend
 * in the check run), kept in the App's cache next to the previous result, and in the check run's text
 * too (an HTML comment, as the baseline is), so that a restart without Redis or another instance keeps
 * the trend: it is read back from the previous commit's run when the cache does not have it.
 */
import { deflateRawSync, inflateRawSync } from 'node:zlib';
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

const MARKER = 'kmap-review:tree-history';
const MARKER_RE = new RegExp(`<!-- ${MARKER} 1 ([A-Za-z0-9+/=]+) -->`);

/**
 * The runs as an HTML comment of at most `maxChars` ('' when not even the last two fit). Only the last
 * run keeps its subsystems (the trend compares the last two, and this one is the next run's previous);
 * the oldest runs are dropped first when it does not fit. About 100 bytes a run, plus the subsystems.
 */
export function encodeHistoryMarker(runs: readonly TreeRunPoint[], maxChars: number): string {
  const light = runs.map((p, i) => (i === runs.length - 1 ? p : { ...p, bySubsystem: {} }));
  // At least the last two (or the only one): fewer make no trend.
  for (let from = 0; from === 0 || light.length - from >= 2; from++) {
    const kept = light.slice(from);
    if (!kept.length) return '';
    const marker = `<!-- ${MARKER} 1 ${deflateRawSync(Buffer.from(JSON.stringify(kept)), { level: 9 }).toString('base64')} -->`;
    if (marker.length <= maxChars) return marker;
  }
  return '';
}

/** The runs embedded in a check run's text, if any (whatever is not a run is left out). */
export function decodeHistoryMarker(text: string | null | undefined): TreeRunPoint[] | undefined {
  const m = text ? MARKER_RE.exec(text) : null;
  if (!m) return undefined;
  try {
    const v = JSON.parse(inflateRawSync(Buffer.from(m[1]!, 'base64'), { maxOutputLength: 4 << 20 }).toString('utf8')) as unknown;
    return Array.isArray(v) ? v.filter(isPoint).slice(-TREE_HISTORY_RUNS) : undefined;
  } catch {
    return undefined; // corrupted: the trend starts again from this run
  }
}
