/**
 * SARIF 2.1.0 for GitHub code scanning (`scan --format sarif`, uploaded with
 * github/codeql-action/upload-sarif). What code scanning needs: tool.driver with rule metadata and help
 * text, results with a ruleId, a level, a message, a physical location relative to the repository root
 * and partialFingerprints that stay put when lines move (it tracks alerts across commits by them).
 */
import type * as Sarif from 'sarif';
import type { Finding, Severity } from '../../analysis/model.js';
import { allRules } from '../../analysis/rules/index.js';
import type { ScanSite } from '../../analysis/scan/classify.js';
import type { TreeScan } from '../../analysis/scan/tree.js';
import { annotationMessage } from '../plain-message.js';

const LEVEL: Record<Severity, Sarif.ReportingConfiguration.level> = { error: 'error', warning: 'warning', notice: 'note' };

/** Sites are reported under the deprecated-api rule; their class decides the level. */
const SITE_LEVEL: Record<ScanSite['class'], Sarif.Result.level> = { blocked: 'warning', 'needs-care': 'warning', ready: 'note' };

/**
 * Where the scanned paths are: `prefix` is the scanned directory relative to the repository root (code
 * scanning resolves URIs against the root: `fs/` scanned alone must give `fs/afs/mntpt.c`, not
 * `afs/mntpt.c`); `srcRoot` the root's absolute path, declared as %SRCROOT% in originalUriBaseIds.
 */
export interface SarifPlace { prefix?: string; srcRoot?: string }

type Locate = (path: string, line: number, endLine?: number) => Sarif.Location;

const locator = (place: SarifPlace): Locate => (path, line, endLine = line) => {
  const full = place.prefix ? `${place.prefix.replace(/\/+$/, '')}/${path}` : path;
  return { physicalLocation: { artifactLocation: { uri: full.split('/').map(encodeURIComponent).join('/'), uriBaseId: '%SRCROOT%' }, region: { startLine: line, endLine } } };
};

function findingResult(f: Finding, ruleIndex: Map<string, number>, location: Locate): Sarif.Result {
  return {
    ruleId: f.rule,
    ruleIndex: ruleIndex.get(f.rule),
    level: LEVEL[f.severity],
    message: { text: annotationMessage(f) },
    locations: [location(f.path, f.line, f.endLine)],
    partialFingerprints: { 'kmapReviewFinding/v1': f.fingerprint },
    ...(f.trace.length
      ? { codeFlows: [{ threadFlows: [{ locations: f.trace.map((t) => ({ location: { ...location(t.path, t.line), message: { text: t.note } } })) }] }] }
      : {}),
  };
}

function siteResult(s: ScanSite, ruleIndex: Map<string, number>, location: Locate): Sarif.Result {
  return {
    ruleId: 'deprecated-api',
    ruleIndex: ruleIndex.get('deprecated-api'),
    level: SITE_LEVEL[s.class],
    message: { text: `${s.api}() is deprecated; conversion to kmap_local_page() is ${s.class}: ${s.reason}` },
    locations: [location(s.path, s.line)],
    partialFingerprints: { 'kmapReviewSite/v1': s.key },
    properties: { class: s.class, ...(s.rule ? { decidedBy: s.rule } : {}), ...(s.function ? { function: s.function } : {}) },
  };
}

export function renderScanSarif(scan: TreeScan, toolVersion: string, where: SarifPlace = {}): string {
  const location = locator(where);
  const rules: Sarif.ReportingDescriptor[] = allRules.map((r) => ({
    id: r.meta.id,
    name: r.meta.id.replace(/(^|-)(\w)/g, (_m, _d, c: string) => c.toUpperCase()),
    shortDescription: { text: r.meta.summary },
    fullDescription: { text: r.meta.summary },
    help: { text: r.meta.doc, markdown: r.meta.doc },
    defaultConfiguration: { level: LEVEL[r.meta.severity] },
    properties: { tags: ['kmap', 'highmem'] },
  }));
  const ruleIndex = new Map(rules.map((r, i) => [r.id, i]));
  const log: Sarif.Log = {
    $schema: 'https://json.schemastore.org/sarif-2.1.0.json',
    version: '2.1.0',
    runs: [
      {
        tool: { driver: { name: 'kmap-review', semanticVersion: toolVersion, version: toolVersion, informationUri: 'https://www.kernel.org/doc/html/latest/mm/highmem.html', rules } },
        results: [...scan.sites.map((s) => siteResult(s, ruleIndex, location)), ...scan.findings.map((f) => findingResult(f, ruleIndex, location))],
        columnKind: 'utf16CodeUnits',
        ...(where.srcRoot
          ? { originalUriBaseIds: { '%SRCROOT%': { uri: `file://${where.srcRoot.split('/').map(encodeURIComponent).join('/').replace(/\/?$/, '/')}` } } }
          : {}),
      },
    ],
  };
  return JSON.stringify(log, null, 2);
}
