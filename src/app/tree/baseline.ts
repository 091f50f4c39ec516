/**
 * The previous default-branch result, for the trend ("was N, now M"). What the comparison needs is small:
 * the identity of every deprecated use (site key) and of every error-level finding (fingerprint). It is
 * kept in the App's cache per commit and also embedded in the check run's `output.text` as an HTML
 * comment, so that it survives a restart and is shared by instances without Redis.
 *
 * In the check run it is packed: the first 48 bits of each (hex) key, deflated, base64: 8 characters per
 * use, so about 7,000 uses fit GitHub's 65,535-character limit. Beyond that only the counts are kept, and
 * the trend falls back to comparing counts. The files not analysed (too large, analysis failed) are kept
 * with their lexical counts, in a second comment; the path of each use only in the cache (no room).
 */
import { deflateRawSync, inflateRawSync } from 'node:zlib';
import type { Finding, SkippedFile } from '../../analysis/model.js';
import type { ScanSite } from '../../analysis/scan/classify.js';
import type { BaselineComparison, BaselineInput } from '../../analysis/scan/totals.js';

export interface CompactBaseline {
  /** The commit the result is for. */
  commit: string;
  /** Site keys (full, or 12-hex-digit prefixes when read back from a check run). */
  sites: string[];
  /** Fingerprints of error-level findings (same). */
  errors: string[];
  siteCount: number;
  errorCount: number;
  /** False when only the counts survived (the keys did not fit in the check run). */
  complete: boolean;
  /**
   * The path of each site, as runs of consecutive sites in one file (`[path, sites]`, in the order of
   * `sites`): kept in the cache only (the check run has no room).
   */
  paths?: Array<[string, number]>;
  /** The files not analysed, with the lexical count of their deprecated calls when they had any. */
  skipped?: Array<{ path: string; uses?: number }>;
}

const MARKER = 'kmap-review:tree-baseline';
const PREFIX_HEX = 12;
const MARKER_RE = new RegExp(`<!-- ${MARKER} 1 ([0-9a-f]{7,64}) ([bj-]) (\\d+) (\\d+) ([A-Za-z0-9+/=]+|-) -->`);

export function baselineOf(commit: string, sites: readonly ScanSite[], findings: readonly Finding[], skipped: readonly SkippedFile[] = []): CompactBaseline {
  const errors = findings.filter((f) => f.severity === 'error').map((f) => f.fingerprint);
  return {
    commit, sites: sites.map((s) => s.key), errors, siteCount: sites.length, errorCount: errors.length, complete: true,
    paths: pathRuns(sites), skipped: skipped.map((f) => ({ path: f.path, ...(f.uses !== undefined ? { uses: f.uses } : {}) })),
  };
}

function pathRuns(sites: readonly ScanSite[]): Array<[string, number]> {
  const runs: Array<[string, number]> = [];
  for (const s of sites) {
    const last = runs.at(-1);
    if (last && last[0] === s.path) last[1]++;
    else runs.push([s.path, 1]);
  }
  return runs;
}

/** The path of each site from its runs; undefined when they do not add up (an older or damaged entry). */
function sitePaths(b: CompactBaseline): string[] | undefined {
  if (!Array.isArray(b.paths)) return undefined;
  const out: string[] = [];
  for (const run of b.paths) {
    if (!Array.isArray(run) || typeof run[0] !== 'string' || !Number.isSafeInteger(run[1]) || run[1] < 1) return undefined;
    for (let i = 0; i < run[1]; i++) out.push(run[0]);
  }
  return out.length === b.sites.length ? out : undefined;
}

const SKIPPED_MARKER = 'kmap-review:tree-skipped';
const SKIPPED_RE = new RegExp(`<!-- ${SKIPPED_MARKER} 1 ([A-Za-z0-9+/=]+) -->`);

/** The second comment: the files not analysed, `[[path, uses], ...]` deflated; none when there are none. */
function encodeSkipped(b: CompactBaseline): string {
  if (!b.skipped?.length) return '';
  const raw = Buffer.from(JSON.stringify(b.skipped.map((f) => [f.path, f.uses ?? 0])));
  return `<!-- ${SKIPPED_MARKER} 1 ${deflateRawSync(raw, { level: 9 }).toString('base64')} -->`;
}

function decodeSkipped(text: string): CompactBaseline['skipped'] {
  const m = SKIPPED_RE.exec(text);
  if (!m) return undefined;
  try {
    const v = JSON.parse(inflateRawSync(Buffer.from(m[1]!, 'base64'), { maxOutputLength: 4 << 20 }).toString('utf8')) as unknown;
    if (!Array.isArray(v) || !v.every((e) => Array.isArray(e) && typeof e[0] === 'string' && Number.isSafeInteger(e[1]) && e[1] >= 0)) return undefined;
    return (v as Array<[string, number]>).map(([path, uses]) => ({ path, ...(uses ? { uses } : {}) }));
  } catch {
    return undefined; // corrupted: the files are then not compared (the trend says so)
  }
}

const isHex = (s: string) => s.length >= PREFIX_HEX && /^[0-9a-f]+$/.test(s);

/** The HTML comment for the check run's text; counts only when the keys would exceed `maxChars`. */
export function encodeBaselineMarker(b: CompactBaseline, maxChars: number): string {
  const head = `<!-- ${MARKER} 1 ${b.commit} `;
  const counts = `${b.siteCount} ${b.errorCount}`;
  const countsOnly = `${head}- ${counts} - -->`;
  if (!b.complete) return countsOnly;
  let format: 'b' | 'j';
  let raw: Buffer;
  if ([...b.sites, ...b.errors].every(isHex)) {
    format = 'b';
    raw = Buffer.from([...b.sites, ...b.errors].map((k) => k.slice(0, PREFIX_HEX)).join(''), 'hex');
  } else {
    format = 'j';
    raw = Buffer.from(JSON.stringify([b.sites, b.errors]));
  }
  const marker = `${head}${format} ${counts} ${deflateRawSync(raw, { level: 9 }).toString('base64')} -->`;
  if (marker.length > maxChars) return countsOnly;
  const skipped = encodeSkipped(b);
  // Without room for the files not analysed, the next push does not compare them (and says so).
  return skipped && marker.length + 1 + skipped.length <= maxChars ? `${marker}\n${skipped}` : marker;
}

/** The baseline embedded in a check run's text, if any (and well-formed). */
export function decodeBaselineMarker(text: string | null | undefined): CompactBaseline | undefined {
  const m = text ? MARKER_RE.exec(text) : null;
  if (!m) return undefined;
  const [, commit, format, ns, ne, payload] = m as unknown as [string, string, string, string, string, string];
  const siteCount = Number(ns);
  const errorCount = Number(ne);
  if (format === '-' || payload === '-') return { commit, sites: [], errors: [], siteCount, errorCount, complete: false };
  const skipped = decodeSkipped(text!);
  const withSkipped = <T extends CompactBaseline>(b: T): T => (skipped ? { ...b, skipped } : b);
  try {
    const raw = inflateRawSync(Buffer.from(payload, 'base64'), { maxOutputLength: 16 << 20 });
    if (format === 'b') {
      const width = PREFIX_HEX / 2;
      if (raw.length !== (siteCount + errorCount) * width) return undefined;
      const keys: string[] = [];
      for (let i = 0; i < raw.length; i += width) keys.push(raw.toString('hex', i, i + width));
      return withSkipped({ commit, sites: keys.slice(0, siteCount), errors: keys.slice(siteCount), siteCount, errorCount, complete: true });
    }
    const [sites, errors] = JSON.parse(raw.toString('utf8')) as [unknown, unknown];
    if (!Array.isArray(sites) || !Array.isArray(errors) || !sites.every((s) => typeof s === 'string') || !errors.every((s) => typeof s === 'string')) {
      return undefined;
    }
    return withSkipped({ commit, sites, errors, siteCount: sites.length, errorCount: errors.length, complete: true });
  } catch {
    return undefined; // a corrupted marker: no trend rather than a wrong one
  }
}

/**
 * The engine's BaselineInput for `compareWithBaseline`: prefixes read from a check run are mapped to the
 * current full keys they abbreviate (a prefix with no current match stays as is: a converted use).
 */
export function toBaselineInput(b: CompactBaseline, sites: readonly ScanSite[], findings: readonly Finding[]): BaselineInput {
  const expand = (keys: string[], current: string[]) => {
    if (!keys.some((k) => k.length === PREFIX_HEX)) return keys;
    const byPrefix = new Map<string, string>();
    for (const k of current) if (isHex(k)) byPrefix.set(k.slice(0, PREFIX_HEX), k);
    return keys.map((k) => (k.length === PREFIX_HEX ? byPrefix.get(k) ?? k : k));
  };
  const paths = sitePaths(b);
  return {
    sites: expand(b.sites, sites.map((s) => s.key)).map((key, i) => (paths ? { key, path: paths[i]! } : { key })),
    findings: expand(b.errors, findings.map((f) => f.fingerprint)).map((fingerprint) => ({ fingerprint })),
    ...(b.skipped?.length ? { skipped: b.skipped } : {}),
  };
}

type Compare = (sites: readonly ScanSite[], findings: readonly Finding[], baseline: BaselineInput, skipped?: readonly SkippedFile[]) => BaselineComparison;

export interface TreeComparison {
  comparison: BaselineComparison;
  /** Files not analysed now, with deprecated calls, that the previous result gives nothing to compare with. */
  notCompared: SkippedFile[];
}

/**
 * The trend, with the files not analysed counted as `scan --baseline` counts them (`compare` is the
 * engine's compareWithBaseline): a file not analysed now keeps counting by its lexical count, against its
 * sites then or its own count if it was not analysed then either. Its sites then are known by path only
 * from the cache (the check run has no room for paths): for a file analysed then, skipped now, and a
 * previous result read back from the check run, nothing decides, so the file is listed as not compared
 * rather than failed or passed on a guess.
 */
export function compareTreeResult(compare: Compare, b: CompactBaseline, sites: readonly ScanSite[], findings: readonly Finding[], skipped: readonly SkippedFile[]): TreeComparison {
  const counted = skipped.filter((f) => f.uses !== undefined);
  if (!b.complete) return { comparison: compareCounts(b, sites), notCompared: counted };
  const input = toBaselineInput(b, sites, findings);
  const hasPaths = input.sites.every((s) => s.path !== undefined);
  const skippedThen = new Set((b.skipped ?? []).map((f) => f.path));
  const decidable = hasPaths ? skipped : skipped.filter((f) => skippedThen.has(f.path));
  const notCompared = counted.filter((f) => !decidable.includes(f));
  return { comparison: compare(sites, findings, input, decidable), notCompared };
}

/** The trend when only counts survived: no list of new uses, a rise in the count is what fails. */
export function compareCounts(b: CompactBaseline, sites: readonly ScanSite[]): BaselineComparison {
  return { was: b.siteCount, now: sites.length, converted: Math.max(0, b.siteCount - sites.length), added: [], newErrors: [], addedInSkipped: [] };
}
