/**
 * The repo-wide picture: totals per class, API, directory and subsystem, and the trend against a
 * previous result (a ratchet like netdev CI's "was N, now M": new uses of the deprecated API fail).
 */
import type { SiteClass } from '../convert/plan.js';
import type { Finding, SkippedFile } from '../model.js';
import type { ScanSite } from './classify.js';
import type { MaintainersIndex } from './maintainers.js';

export interface GroupTotal {
  name: string;
  ready: number;
  needsCare: number;
  blocked: number;
  total: number;
}

export interface ScanTotals {
  sites: number;
  byClass: Record<SiteClass, number>;
  byApi: Record<string, number>;
  /** Two path components (`fs/btrfs`, `mm/...` files count under `mm`), most sites first. */
  byDirectory: GroupTotal[];
  /** MAINTAINERS entries, most sites first; null when the tree has no MAINTAINERS file. */
  bySubsystem: GroupTotal[] | null;
  findings: Record<string, number>;
}

export interface BaselineComparison {
  /** Deprecated uses in the baseline and now. */
  was: number;
  now: number;
  /** Uses in the baseline that are gone (converted or deleted). */
  converted: number;
  /** Uses that are new since the baseline: these fail the status. */
  added: ScanSite[];
  /** Error-level findings new since the baseline (by fingerprint). */
  newErrors: Finding[];
  /**
   * Files skipped now (too large, analysis failed) whose lexical count of deprecated calls is higher than
   * the baseline's for that path (its sites, or its own count if it was skipped then too): these fail too.
   */
  addedInSkipped: Array<{ path: string; was: number; now: number; reason: string }>;
}

/** The fields of a previous JSON result that the comparison needs. */
export interface BaselineInput {
  sites: Array<Pick<ScanSite, 'key'> & { path?: string }>;
  findings?: Array<Pick<Finding, 'fingerprint'>>;
  /** The baseline's skipped files, with their lexical counts when it had them. */
  skipped?: Array<{ path: string; uses?: number }>;
}

export function directoryOf(path: string): string {
  const parts = path.split('/');
  return parts.length <= 2 ? parts[0] : `${parts[0]}/${parts[1]}`;
}

function grouped(sites: readonly ScanSite[], keyOf: (s: ScanSite) => string): GroupTotal[] {
  const m = new Map<string, GroupTotal>();
  for (const s of sites) {
    const k = keyOf(s);
    const g = m.get(k) ?? { name: k, ready: 0, needsCare: 0, blocked: 0, total: 0 };
    if (s.class === 'ready') g.ready++;
    else if (s.class === 'needs-care') g.needsCare++;
    else g.blocked++;
    g.total++;
    m.set(k, g);
  }
  return [...m.values()].sort((a, b) => b.total - a.total || a.name.localeCompare(b.name));
}

export function computeTotals(sites: readonly ScanSite[], findings: readonly Finding[], maintainers: MaintainersIndex | null): ScanTotals {
  const byClass: Record<SiteClass, number> = { ready: 0, 'needs-care': 0, blocked: 0 };
  const byApi: Record<string, number> = {};
  for (const s of sites) {
    byClass[s.class]++;
    byApi[s.api] = (byApi[s.api] ?? 0) + 1;
  }
  const f: Record<string, number> = {};
  for (const x of findings) f[`${x.rule}:${x.severity}`] = (f[`${x.rule}:${x.severity}`] ?? 0) + 1;
  return {
    sites: sites.length,
    byClass,
    byApi,
    byDirectory: grouped(sites, (s) => directoryOf(s.path)),
    bySubsystem: maintainers ? grouped(sites, (s) => maintainers.subsystemOf(s.path) ?? '(no MAINTAINERS entry)') : null,
    findings: f,
  };
}

export function compareWithBaseline(
  sites: readonly ScanSite[], findings: readonly Finding[], baseline: BaselineInput, skipped: readonly SkippedFile[] = [],
): BaselineComparison {
  const was = new Set(baseline.sites.map((s) => s.key));
  const now = new Set(sites.map((s) => s.key));
  const oldFindings = new Set((baseline.findings ?? []).map((f) => f.fingerprint));
  // A file skipped now is not known to have lost its uses: its baseline sites are not "converted".
  const skippedNow = new Map(skipped.map((f) => [f.path, f]));
  const baselineCount = (path: string): number => {
    const n = baseline.sites.filter((s) => s.path === path).length;
    return n || (baseline.skipped ?? []).find((f) => f.path === path)?.uses || 0;
  };
  const addedInSkipped: BaselineComparison['addedInSkipped'] = [];
  for (const f of skippedNow.values()) {
    if (f.uses === undefined) continue;
    const before = baselineCount(f.path);
    if (f.uses > before) addedInSkipped.push({ path: f.path, was: before, now: f.uses, reason: f.reason });
  }
  const converted = baseline.sites.filter((s) => !now.has(s.key) && !(s.path !== undefined && skippedNow.has(s.path))).length;
  return {
    was: baseline.sites.length,
    now: sites.length,
    converted,
    added: sites.filter((s) => !was.has(s.key)),
    newErrors: findings.filter((f) => f.severity === 'error' && !oldFindings.has(f.fingerprint)),
    addedInSkipped,
  };
}

/** Reads a baseline from a previous `scan --format json` result, with a clear error for anything else. */
export function parseBaseline(text: string, name: string): BaselineInput {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch {
    throw new Error(`${name}: not JSON (expected the output of \`kmap-review scan --format json\`)`);
  }
  const d = data as { sites?: unknown; findings?: unknown; files?: { skipped?: unknown } };
  if (!d || typeof d !== 'object' || !Array.isArray(d.sites) || !d.sites.every((s) => s && typeof (s as { key?: unknown }).key === 'string')) {
    throw new Error(`${name}: not a scan result (no "sites" with "key"; expected the output of \`kmap-review scan --format json\`)`);
  }
  const findings = Array.isArray(d.findings) ? d.findings.filter((f): f is { fingerprint: string } => !!f && typeof (f as { fingerprint?: unknown }).fingerprint === 'string') : [];
  const skipped = Array.isArray(d.files?.skipped)
    ? (d.files.skipped as unknown[]).filter((f): f is { path: string; uses?: number } => !!f && typeof (f as { path?: unknown }).path === 'string')
      .map((f) => ({ path: f.path, ...(typeof f.uses === 'number' ? { uses: f.uses } : {}) }))
    : [];
  // Kept whole (class, api, path...): the comparison and the HTML report read more than the key.
  const sites = d.sites as Array<{ key: string; path?: string }>;
  return { sites, findings, ...(skipped.length ? { skipped } : {}) };
}
