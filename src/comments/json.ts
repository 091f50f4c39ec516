/** The versioned JSON report (schema/report-v1.schema.json), for scripts and CI systems. */
import { ENGINE_VERSION } from '../analysis/engine.js';
import type { Report } from '../analysis/model.js';
import { countFindings } from './text.js';

export const JSON_REPORT_VERSION = 1;

export function renderReportsJson(reports: readonly Report[], toolVersion: string): string {
  const all = reports.flatMap((r) => r.findings.map((f) => ({ ...f, review: r.name })));
  const doc = {
    version: JSON_REPORT_VERSION,
    tool: { name: 'kmap-review', version: toolVersion, engineVersion: ENGINE_VERSION },
    findings: all,
    reviews: reports.map((r) => ({ name: r.name, files: r.files, skipped: r.skipped, gaps: r.gaps, summary: countFindings(r.findings), ...(r.preImages ? { preImages: r.preImages } : {}) })),
    summary: countFindings(all),
  };
  return JSON.stringify(doc, null, 2);
}
