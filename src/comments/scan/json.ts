/** `scan --format json`: the versioned scan document (schema/scan-v1.schema.json); also a baseline for the next scan. */
import type { TreeScan } from '../../analysis/scan/tree.js';

export const SCAN_JSON_VERSION = 1;

export function renderScanJson(scan: TreeScan, toolVersion: string): string {
  const doc = {
    version: SCAN_JSON_VERSION,
    tool: { name: 'kmap-review', version: toolVersion, engineVersion: scan.engineVersion },
    tree: { name: scan.name, commit: scan.commit },
    sites: scan.sites,
    findings: scan.findings,
    totals: scan.totals,
    files: scan.files,
    baseline: scan.baseline && {
      was: scan.baseline.was,
      now: scan.baseline.now,
      converted: scan.baseline.converted,
      added: scan.baseline.added,
      newErrors: scan.baseline.newErrors,
      ...(scan.baseline.addedInSkipped.length ? { addedInSkipped: scan.baseline.addedInSkipped } : {}),
    },
    elapsedMs: scan.elapsedMs,
  };
  return JSON.stringify(doc, null, 2);
}
