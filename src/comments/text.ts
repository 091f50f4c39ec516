/**
 * Compiler-style text output for the CLI: `path:line: severity: message [rule]`, then the evidence
 * (the trace), then the fix as a small diff. Editors and `make`-style tooling parse the first line.
 */
import type { Finding, HunkPlacement, PreImage, Report } from '../analysis/model.js';

/** "hunk 2 applied at line 310 with fuzz 1 (offset 12 lines)"; null for a hunk applied exactly where it said. */
export function describePlacement(p: HunkPlacement): string | null {
  if (p.fuzz === 0 && p.line === p.statedLine) return null;
  const offset = p.line - p.statedLine;
  const parts = [`hunk ${p.hunk} applied at line ${p.line}`];
  if (p.fuzz) parts.push(`with fuzz ${p.fuzz}`);
  if (offset) parts.push(`(offset ${offset} line${Math.abs(offset) === 1 ? '' : 's'})`);
  return parts.join(' ');
}

/** The pre-image notes of a report: "path: pre-image from blob abc1234", then the hunks not applied exactly. */
export function preImageNotes(preImages: readonly PreImage[] | undefined): string[] {
  const out: string[] = [];
  for (const p of preImages ?? []) {
    if (p.source === 'blob' && p.blob) out.push(`${p.path}: pre-image from blob ${p.blob.slice(0, 7)}`);
    for (const h of p.hunks) {
      const d = describePlacement(h);
      if (d) out.push(`${p.path}: ${d}`);
    }
  }
  return out;
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

export function renderFindingText(f: Finding, postLines?: (path: string) => string[] | undefined): string {
  const tags = [f.rule, ...(f.preExisting ? ['pre-existing'] : [])].join(', ');
  const out = [`${f.path}:${f.line}: ${f.severity}${f.preExisting ? ' (pre-existing)' : ''}: ${f.message} [${tags}]`];
  // The why and the way out, on their own lines below the one-line verdict.
  if (f.detail) for (const l of f.detail.split('\n')) out.push(`    ${l}`);
  for (const step of f.trace) out.push(`    ${step.path === f.path ? '' : step.path + ':'}${step.line}: ${step.note}`);
  if (f.note) out.push(`    note: ${f.note}`);
  if (f.fix) {
    out.push(`    fix: ${f.fix.description}`);
    const lines = postLines?.(f.fix.path);
    for (const e of f.fix.edits) {
      if (lines) for (let l = e.startLine; l <= e.endLine; l++) out.push(`      -${lines[l - 1] ?? ''}`);
      if (e.replacement !== '') for (const r of e.replacement.split('\n')) out.push(`      +${r}`);
    }
  }
  return out.join('\n');
}

export interface Counts {
  error: number;
  warning: number;
  notice: number;
  preExisting: number;
}

export function countFindings(findings: readonly Finding[]): Counts {
  const c: Counts = { error: 0, warning: 0, notice: 0, preExisting: 0 };
  for (const f of findings) {
    if (f.preExisting) c.preExisting++;
    else c[f.severity]++;
  }
  return c;
}

export function renderReportText(report: Report, opts: { header: boolean; postLines?: (path: string) => string[] | undefined }): string {
  const out: string[] = [];
  if (opts.header) out.push(`== ${report.name} ==`);
  for (const f of report.findings) out.push(renderFindingText(f, opts.postLines));
  for (const s of report.skipped) out.push(`${s.path}: skipped: ${s.reason}`);
  for (const g of report.gaps) out.push(`${g.path}: note: ${g.function ? g.function + ': ' : ''}${g.reason}`);
  for (const n of preImageNotes(report.preImages)) out.push(n);
  const c = countFindings(report.findings);
  const analysed = report.files.reduce((n, f) => n + f.functionsAnalysed, 0);
  out.push(
    `${plural(c.error, 'error')}, ${plural(c.warning, 'warning')}, ${plural(c.notice, 'notice')}` +
      (c.preExisting ? ` (and ${c.preExisting} pre-existing)` : '') +
      ` in ${plural(report.files.length, 'file')}, ${plural(analysed, 'function')} analysed`,
  );
  return out.join('\n');
}
