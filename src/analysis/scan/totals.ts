/**
 * The repo-wide picture: totals per class, API, directory and subsystem, and the trend against a
 * previous result (a ratchet like netdev CI's "was N, now M": new uses of the deprecated API fail).
 */
import type { SiteClass } from '../convert/plan.js';
import type { Finding } from '../model.js';
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
}

/** The fields of a previous JSON result that the comparison needs. */
export interface BaselineInput {
  sites: Array<Pick<ScanSite, 'key'>>;
  findings?: Array<Pick<Finding, 'fingerprint'>>;
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

export function compareWithBaseline(sites: readonly ScanSite[], findings: readonly Finding[], baseline: BaselineInput): BaselineComparison {
  const was = new Set(baseline.sites.map((s) => s.key));
  const now = new Set(sites.map((s) => s.key));
  const oldFindings = new Set((baseline.findings ?? []).map((f) => f.fingerprint));
  return {
    was: baseline.sites.length,
    now: sites.length,
    converted: [...was].filter((k) => !now.has(k)).length,
    added: sites.filter((s) => !was.has(s.key)),
    newErrors: findings.filter((f) => f.severity === 'error' && !oldFindings.has(f.fingerprint)),
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
  const d = data as { sites?: unknown; findings?: unknown };
  if (!d || typeof d !== 'object' || !Array.isArray(d.sites) || !d.sites.every((s) => s && typeof (s as { key?: unknown }).key === 'string')) {
    throw new Error(`${name}: not a scan result (no "sites" with "key"; expected the output of \`kmap-review scan --format json\`)`);
  }
  const findings = Array.isArray(d.findings) ? d.findings.filter((f): f is { fingerprint: string } => !!f && typeof (f as { fingerprint?: unknown }).fingerprint === 'string') : [];
  return { sites: d.sites as Array<{ key: string }>, findings };
}
