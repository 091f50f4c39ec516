/**
 * The `kmap-review / tree` check run's text (and `scan --format markdown`): totals, the trend against
 * the previous result, the top directories, and the sites that need a human, linked to the code.
 * GitHub caps a check run's summary and text at 65,535 characters; lists are cut well before that.
 */
import type { Finding } from '../../analysis/model.js';
import type { ScanSite } from '../../analysis/scan/classify.js';
import type { GroupTotal } from '../../analysis/scan/totals.js';
import type { TreeScan } from '../../analysis/scan/tree.js';
import { plural } from '../markdown.js';

export interface ScanMarkdownOptions {
  /** Prefix for links to code, e.g. https://github.com/o/r/blob/<sha>; plain paths when absent. */
  linkBase?: string;
  /** Items per list (default 50). */
  maxItems?: number;
  /** Rows per table (default 10). */
  maxRows?: number;
}

export const GITHUB_TEXT_LIMIT = 65535;

function escapeMd(s: string): string {
  return s.replace(/[|<>*_`[\]]/g, (c) => `\\${c}`);
}

function location(path: string, line: number, o: ScanMarkdownOptions): string {
  const label = `${path}:${line}`;
  if (!o.linkBase) return `\`${label}\``;
  const url = `${o.linkBase.replace(/\/$/, '')}/${path.split('/').map(encodeURIComponent).join('/')}#L${line}`;
  return `[\`${label}\`](${url})`;
}

function table(rows: readonly GroupTotal[], title: string, max: number): string[] {
  if (!rows.length) return [];
  const out = [`| ${title} | uses | ready | needs care | blocked |`, '|---|---:|---:|---:|---:|'];
  for (const r of rows.slice(0, max)) out.push(`| ${escapeMd(r.name)} | ${r.total} | ${r.ready} | ${r.needsCare} | ${r.blocked} |`);
  if (rows.length > max) out.push(`| … ${rows.length - max} more | | | | |`);
  return out;
}

function siteList(sites: readonly ScanSite[], o: ScanMarkdownOptions, max: number): string[] {
  const out = sites.slice(0, max).map((s) => `- ${location(s.path, s.line, o)} \`${s.api}()\`${s.function ? ` in \`${s.function}()\`` : ''}: ${escapeMd(s.reason)}${s.rule ? ` (\`${s.rule}\`)` : ''}`);
  if (sites.length > max) out.push(`- … and ${sites.length - max} more (run \`kmap-review scan\` for the full list)`);
  return out;
}

function findingList(findings: readonly Finding[], o: ScanMarkdownOptions, max: number): string[] {
  const out = findings.slice(0, max).map((f) => `- ${location(f.path, f.line, o)} **${f.severity}** \`${f.rule}\`: ${escapeMd(f.message)}`);
  if (findings.length > max) out.push(`- … and ${findings.length - max} more`);
  return out;
}

/** One line for a check run's title. */
export function scanTitle(scan: TreeScan): string {
  const t = scan.totals;
  const trend = scan.baseline ? ` (was ${scan.baseline.was})` : '';
  return `${t.sites} deprecated kmap uses${trend}: ${t.byClass.ready} ready, ${t.byClass['needs-care']} need care, ${t.byClass.blocked} blocked`;
}

export function renderScanMarkdown(scan: TreeScan, options: ScanMarkdownOptions = {}): string {
  const max = options.maxItems ?? 50;
  const rows = options.maxRows ?? 10;
  const t = scan.totals;
  const out: string[] = [];
  out.push(`**${t.sites}** uses of \`kmap_atomic()\`/\`kmap()\` and their unmaps in ${scan.files.analysed} files: **${t.byClass.ready}** ready to convert, **${t.byClass['needs-care']}** need care, **${t.byClass.blocked}** blocked.`);
  if (scan.baseline) {
    const b = scan.baseline;
    out.push('', `Trend: was **${b.was}**, now **${b.now}**: ${b.converted} converted or removed, **${b.added.length} new**.`);
    for (const f of b.addedInSkipped ?? []) out.push('', `**New uses in a file not analysed:** \`${f.path}\`: ${f.now} deprecated calls (lexically), was ${f.was} (${f.reason}).`);
    if (b.added.length) out.push('', '### New uses since the previous result', '', ...siteList(b.added, options, max));
    if (b.newErrors.length) out.push('', '### New errors since the previous result', '', ...findingList(b.newErrors, options, max));
  }
  out.push('', '### Top directories', '', ...table(t.byDirectory, 'directory', rows));
  if (t.bySubsystem) out.push('', '### By subsystem (MAINTAINERS)', '', ...table(t.bySubsystem, 'subsystem', rows));
  const care = scan.sites.filter((s) => s.class === 'needs-care');
  const blocked = scan.sites.filter((s) => s.class === 'blocked');
  if (care.length) out.push('', `### Needs care (${care.length})`, '', 'These sections rely on what `kmap_atomic()` did (page faults or preemption disabled) or cannot be paired mechanically:', '', ...siteList(care, options, max));
  if (blocked.length) out.push('', `### Blocked (${blocked.length})`, '', 'The mapping outlives its function or thread: `kmap_local_page()` cannot replace it without a redesign.', '', ...siteList(blocked, options, max));
  if (scan.findings.length) out.push('', `### Bugs in existing mapping code (${scan.findings.length})`, '', ...findingList(scan.findings, options, max));
  if (scan.files.skipped.length) out.push('', `${plural(scan.files.skipped.length, 'file was', 'files were')} not analysed: ${scan.files.skipped.slice(0, 5).map((s) => `\`${s.path}\` (${escapeMd(s.reason)})`).join(', ')}${scan.files.skipped.length > 5 ? ', …' : ''}`);
  let md = out.join('\n') + '\n';
  if (md.length > GITHUB_TEXT_LIMIT) md = md.slice(0, GITHUB_TEXT_LIMIT - 200) + '\n\n… (cut to fit GitHub\'s limit; run `kmap-review scan` for everything)\n';
  return md;
}
