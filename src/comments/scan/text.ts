/**
 * `scan` text output: the totals and top directories as a table, then every site that is not ready
 * (compiler-style, so editors can jump to them), then the findings on existing mapping code.
 */
import type { ScanSite } from '../../analysis/scan/classify.js';
import type { GroupTotal } from '../../analysis/scan/totals.js';
import type { TreeScan } from '../../analysis/scan/tree.js';
import { renderFindingText } from '../text.js';

function table(rows: readonly GroupTotal[], title: string, limit: number): string[] {
  if (!rows.length) return [];
  const shown = rows.slice(0, limit);
  const width = Math.max(title.length, ...shown.map((r) => r.name.length));
  const out = [`${title.padEnd(width)}  ${'total'.padStart(6)} ${'ready'.padStart(6)} ${'care'.padStart(6)} ${'blocked'.padStart(8)}`];
  for (const r of shown) out.push(`${r.name.padEnd(width)}  ${String(r.total).padStart(6)} ${String(r.ready).padStart(6)} ${String(r.needsCare).padStart(6)} ${String(r.blocked).padStart(8)}`);
  if (rows.length > limit) out.push(`... ${rows.length - limit} more`);
  return out;
}

export function renderSiteText(s: ScanSite): string {
  return `${s.path}:${s.line}: ${s.class}: ${s.api}()${s.function ? ` in ${s.function}()` : ''}: ${s.reason}${s.rule ? ` [${s.rule}]` : ''}`;
}

export function renderScanText(scan: TreeScan, options: { verbose?: boolean; limit?: number } = {}): string {
  const t = scan.totals;
  const limit = options.limit ?? 15;
  const out: string[] = [];
  out.push(`kmap-review scan of ${scan.name}: ${t.sites} uses of kmap_atomic()/kmap() and their unmaps in ${scan.files.analysed} files (${scan.files.listed} C files listed, ${scan.files.matched} mention the API${scan.files.cached ? `, ${scan.files.cached} from the cache` : ''})`);
  out.push(`  ready: ${t.byClass.ready}   needs-care: ${t.byClass['needs-care']}   blocked: ${t.byClass.blocked}`);
  out.push(`  by API: ${Object.entries(t.byApi).sort((a, b) => b[1] - a[1]).map(([k, v]) => `${k} ${v}`).join(', ') || 'none'}`);
  if (scan.baseline) {
    const b = scan.baseline;
    out.push(`  trend: was ${b.was}, now ${b.now} (${b.converted} converted or removed, ${b.added.length} new${b.newErrors.length ? `, ${b.newErrors.length} new error findings` : ''})`);
    for (const f of b.addedInSkipped ?? []) out.push(`  new uses in a file not analysed: ${f.path}: ${f.now} deprecated calls (lexically), was ${f.was} (${f.reason})`);
  }
  out.push('');
  out.push(...table(t.byDirectory, 'directory', limit));
  if (t.bySubsystem) {
    out.push('');
    out.push(...table(t.bySubsystem, 'subsystem (MAINTAINERS)', limit));
  }
  const notReady = scan.sites.filter((s) => s.class !== 'ready' || options.verbose);
  if (notReady.length) {
    out.push('');
    for (const s of notReady) out.push(renderSiteText(s));
  }
  if (scan.baseline?.added.length) {
    out.push('', 'new since the baseline:');
    for (const s of scan.baseline.added) out.push(renderSiteText(s));
  }
  if (scan.findings.length) {
    out.push('', 'findings in existing mapping code:');
    for (const f of scan.findings) out.push(renderFindingText(f));
  }
  for (const s of scan.files.skipped) out.push(`${s.path}: skipped: ${s.reason}`);
  return out.join('\n') + '\n';
}
