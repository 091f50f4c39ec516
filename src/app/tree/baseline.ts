/**
 * The previous default-branch result, for the trend ("was N, now M"). What the comparison needs is small:
 * the identity of every deprecated use (site key) and of every error-level finding (fingerprint). It is
 * kept in the App's cache per commit and also embedded in the check run's `output.text` as an HTML
 * comment, so that it survives a restart and is shared by instances without Redis.
 *
 * In the check run it is packed: the first 48 bits of each (hex) key, deflated, base64: 8 characters per
 * use, so about 7,000 uses fit GitHub's 65,535-character limit. Beyond that only the counts are kept, and
 * the trend falls back to comparing counts.
 */
import { deflateRawSync, inflateRawSync } from 'node:zlib';
import type { Finding } from '../../analysis/model.js';
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
}

const MARKER = 'kmap-review:tree-baseline';
const PREFIX_HEX = 12;
const MARKER_RE = new RegExp(`<!-- ${MARKER} 1 ([0-9a-f]{7,64}) ([bj-]) (\\d+) (\\d+) ([A-Za-z0-9+/=]+|-) -->`);

export function baselineOf(commit: string, sites: readonly ScanSite[], findings: readonly Finding[]): CompactBaseline {
  const errors = findings.filter((f) => f.severity === 'error').map((f) => f.fingerprint);
  return { commit, sites: sites.map((s) => s.key), errors, siteCount: sites.length, errorCount: errors.length, complete: true };
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
  return marker.length <= maxChars ? marker : countsOnly;
}

/** The baseline embedded in a check run's text, if any (and well-formed). */
export function decodeBaselineMarker(text: string | null | undefined): CompactBaseline | undefined {
  const m = text ? MARKER_RE.exec(text) : null;
  if (!m) return undefined;
  const [, commit, format, ns, ne, payload] = m as unknown as [string, string, string, string, string, string];
  const siteCount = Number(ns);
  const errorCount = Number(ne);
  if (format === '-' || payload === '-') return { commit, sites: [], errors: [], siteCount, errorCount, complete: false };
  try {
    const raw = inflateRawSync(Buffer.from(payload, 'base64'), { maxOutputLength: 16 << 20 });
    if (format === 'b') {
      const width = PREFIX_HEX / 2;
      if (raw.length !== (siteCount + errorCount) * width) return undefined;
      const keys: string[] = [];
      for (let i = 0; i < raw.length; i += width) keys.push(raw.toString('hex', i, i + width));
      return { commit, sites: keys.slice(0, siteCount), errors: keys.slice(siteCount), siteCount, errorCount, complete: true };
    }
    const [sites, errors] = JSON.parse(raw.toString('utf8')) as [unknown, unknown];
    if (!Array.isArray(sites) || !Array.isArray(errors) || !sites.every((s) => typeof s === 'string') || !errors.every((s) => typeof s === 'string')) {
      return undefined;
    }
    return { commit, sites, errors, siteCount: sites.length, errorCount: errors.length, complete: true };
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
  return {
    sites: expand(b.sites, sites.map((s) => s.key)).map((key) => ({ key })),
    findings: expand(b.errors, findings.map((f) => f.fingerprint)).map((fingerprint) => ({ fingerprint })),
  };
}

/** The trend when only counts survived: no list of new uses, a rise in the count is what fails. */
export function compareCounts(b: CompactBaseline, sites: readonly ScanSite[]): BaselineComparison {
  return { was: b.siteCount, now: sites.length, converted: Math.max(0, b.siteCount - sites.length), added: [], newErrors: [], addedInSkipped: [] };
}
