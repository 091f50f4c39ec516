/** Renders the `kmap-review` check run: conclusion, a ten-second summary, details and annotations. */
import type { Finding, Report, Severity } from '../analysis/model.js';
import {
  GITHUB_TEXT_LIMIT, SEVERITY_ICON, cell, code, location, plural, renderTrace, truncate,
} from './markdown.js';
import { annotationMessage } from './plain-message.js';
import { summaryLine } from './review.js';

export type Conclusion = 'success' | 'neutral' | 'failure';
export type AnnotationLevel = 'notice' | 'warning' | 'failure';

export interface Annotation {
  path: string;
  start_line: number;
  end_line: number;
  annotation_level: AnnotationLevel;
  title: string;
  message: string;
  raw_details?: string;
}

export interface InlineOutcome {
  /** New inline comments posted by this run. */
  posted: number;
  /** Findings already commented by an earlier run (same fingerprint). */
  alreadyPosted: number;
  /** Earlier comments whose finding is gone, resolved or answered now. */
  resolved: number;
  /** Findings on lines that are not part of the diff (GitHub refuses comments there). */
  outsideDiff: Finding[];
  /** Findings over the per-review comment cap. */
  overCap: Finding[];
  /** Set when posting the review failed: everything is in this summary instead. */
  reviewError?: string;
}

export interface CheckRunInput {
  report: Report;
  headSha: string;
  conclusionPolicy: Record<Severity, Conclusion>;
  configProblems: string[];
  /** Files of the pull request that are not C/H (not analysed, by design). */
  ignoredFiles: number;
  /** Extra notes on what was analysed ("GitHub lists at most 3,000 files..."). */
  notes: string[];
  inline: InlineOutcome;
  /** Caps hit for this pull request ("files per pull request (max_files = 300): 12 C/H files not analysed"). */
  limitsHit?: string[];
  /** Set when a cap stopped the analysis early: the result is partial and must say so. */
  partial?: string;
}

export interface CheckRunOutput {
  conclusion: Conclusion;
  title: string;
  summary: string;
  text: string;
  annotations: Annotation[];
}

export const ANNOTATIONS_PER_REQUEST = 50;
export const MAX_ANNOTATIONS = 500;
const LEVEL: Record<Severity, AnnotationLevel> = { error: 'failure', warning: 'warning', notice: 'notice' };
const RANK: Record<Conclusion, number> = { success: 0, neutral: 1, failure: 2 };
const SEV_ORDER: Severity[] = ['error', 'warning', 'notice'];

export function conclusionFor(findings: Finding[], policy: Record<Severity, Conclusion>): Conclusion {
  let c: Conclusion = 'success';
  for (const f of findings) {
    if (f.preExisting) continue;
    const p = policy[f.severity];
    if (RANK[p] > RANK[c]) c = p;
  }
  return c;
}

function countBy<T>(items: T[], key: (t: T) => string): Map<string, T[]> {
  const m = new Map<string, T[]>();
  for (const it of items) {
    const k = key(it);
    const arr = m.get(k);
    if (arr) arr.push(it);
    else m.set(k, [it]);
  }
  return m;
}

function severityCounts(findings: Finding[]): string {
  const parts = SEV_ORDER.map((s) => {
    const n = findings.filter((f) => f.severity === s).length;
    return n ? plural(n, s) : '';
  }).filter(Boolean);
  return parts.join(', ');
}

function sortFindings(fs: Finding[]): Finding[] {
  return [...fs].sort(
    (a, b) => SEV_ORDER.indexOf(a.severity) - SEV_ORDER.indexOf(b.severity) || a.path.localeCompare(b.path) || a.line - b.line,
  );
}

function listWithCap(lines: string[], cap: number): string {
  const shown = lines.slice(0, cap);
  if (lines.length > cap) shown.push(`- … and ${lines.length - cap} more`);
  return shown.join('\n');
}

export function renderCheckRun(input: CheckRunInput): CheckRunOutput {
  const { report } = input;
  const current = sortFindings(report.findings.filter((f) => !f.preExisting));
  const preExisting = report.findings.filter((f) => f.preExisting);
  let conclusion = conclusionFor(report.findings, input.conclusionPolicy);
  // A partial result is never a pass: what was not analysed may hold the error.
  if (input.partial && conclusion === 'success') conclusion = 'neutral';
  const files = new Set(current.map((f) => f.path));
  const functions = report.files.reduce((n, f) => n + f.functionsAnalysed, 0);

  const fullTitle =
    current.length === 0
      ? report.files.length === 0
        ? 'No C files to analyse'
        : `No problems found in ${plural(report.files.length, 'file')}`
      : `${severityCounts(current)} in ${plural(files.size, 'file')}`;
  const title = input.partial ? `Partial: ${fullTitle} (time limit reached)` : fullTitle;

  const s: string[] = [];
  const icon = input.partial ? '⚠️' : current.length === 0 ? '✅' : SEVERITY_ICON[current[0]!.severity];
  s.push(`## ${icon} ${title}`);
  if (input.partial) {
    s.push(`> **Partial result:** ${input.partial}. The findings below cover only what was analysed; ` +
      'this is not a complete review. Split the pull request or raise the limit, then re-run.');
  }

  if (current.length > 0) {
    const byRule = countBy(current, (f) => f.rule);
    s.push(
      ['| rule | severity | findings | files |', '|---|---|---:|---:|',
        ...[...byRule].map(([rule, fs]) =>
          `| ${code(rule)} | ${fs[0]!.severity} | ${fs.length} | ${new Set(fs.map((f) => f.path)).size} |`),
      ].join('\n'),
    );
    const byFile = countBy(current, (f) => f.path);
    const fileRows = [...byFile].map(([path, fs]) => {
      const n = (sev: Severity) => fs.filter((f) => f.severity === sev).length;
      return `| ${cell(path)} | ${n('error')} | ${n('warning')} | ${n('notice')} |`;
    });
    s.push(['| file | errors | warnings | notices |', '|---|---:|---:|---:|', ...fileRows.slice(0, 30)].join('\n') +
      (fileRows.length > 30 ? `\n\n… and ${fileRows.length - 30} more files` : ''));
  }

  const analysed = [`**Analysed:** ${plural(report.files.length, 'C/H file')}, ${plural(functions, 'function')}`];
  if (input.ignoredFiles > 0) analysed.push(`${plural(input.ignoredFiles, 'other file')} ignored (not C)`);
  s.push(`${analysed.join('; ')}.`);
  for (const note of input.notes) s.push(`> ${note}`);
  if (input.limitsHit && input.limitsHit.length > 0) {
    s.push(`**Limits reached:**\n${input.limitsHit.map((l) => `- ${l}`).join('\n')}`);
  }

  if (report.skipped.length > 0) {
    s.push(`**Skipped (${report.skipped.length}):**\n${listWithCap(report.skipped.map((k) => `- ${code(k.path)}: ${k.reason}`), 20)}`);
  }
  if (report.gaps.length === 0) {
    s.push('**Replay:** complete (every changed function was checked).');
  } else {
    s.push(`**Replay:** incomplete, ${plural(report.gaps.length, 'gap')}:\n` +
      listWithCap(report.gaps.map((g) => `- ${code(g.function ? `${g.path}: ${g.function}()` : g.path)}: ${g.reason}`), 20));
  }

  const inl = input.inline;
  if (inl.reviewError) {
    s.push(`**Inline review:** could not be posted (${inl.reviewError}); all findings are listed below.`);
  } else {
    const bits = [`${plural(inl.posted, 'new comment')}`];
    if (inl.alreadyPosted) bits.push(`${inl.alreadyPosted} already commented earlier`);
    if (inl.resolved) bits.push(`${plural(inl.resolved, 'earlier comment')} marked fixed`);
    s.push(`**Inline review:** ${bits.join(', ')}.`);
  }
  const notInline = inl.reviewError ? current : [...inl.outsideDiff, ...inl.overCap];
  if (notInline.length > 0) {
    const lines = [
      ...(inl.reviewError ? [] : inl.outsideDiff).map((f) => `- ${summaryLine(f)} _(outside the diff)_`),
      ...(inl.reviewError ? current : inl.overCap).map((f) => `- ${summaryLine(f)}${inl.reviewError ? '' : ' _(over the comment cap)_'}`),
    ];
    s.push(`**Not commented inline (${notInline.length}):**\n${listWithCap(lines, 50)}`);
  }
  if (preExisting.length > 0) {
    s.push(`**Pre-existing (${preExisting.length}, not counted):** the base already had ${preExisting.length === 1 ? 'this finding' : 'these findings'}.\n` +
      listWithCap(preExisting.map((f) => `- ${summaryLine(f)}`), 10));
  }
  if (input.configProblems.length > 0) {
    s.push(`**Configuration:** \`.github/kmap-review.yml\` has problems; the defaults apply for them:\n` +
      input.configProblems.map((p) => `- ${p}`).join('\n'));
  }
  const summary = truncate(s.join('\n\n'), GITHUB_TEXT_LIMIT, '*(summary truncated at GitHub\'s 65,535-character limit; see the annotations and the details)*');

  const t: string[] = [];
  for (const f of current) {
    const block = [`### ${SEVERITY_ICON[f.severity]} ${code(location(f))} ${code(f.rule)}`, f.message];
    if (f.detail) block.push(f.detail);
    if (f.note) block.push(`> ${f.note}`);
    if (f.trace.length > 0) block.push(renderTrace(f));
    if (f.fix) block.push(`**Fix:** ${f.fix.description}`);
    t.push(block.join('\n\n'));
  }
  const text = truncate(t.join('\n\n'), GITHUB_TEXT_LIMIT, '*(details truncated at GitHub\'s 65,535-character limit)*');

  const annotations = current.slice(0, MAX_ANNOTATIONS).map((f): Annotation => {
    const a: Annotation = {
      path: f.path,
      start_line: f.line,
      end_line: Math.max(f.line, f.endLine),
      annotation_level: LEVEL[f.severity],
      title: `kmap-review: ${f.rule}`.slice(0, 255),
      message: truncate(annotationMessage(f), 60_000, '(truncated)'),
    };
    if (f.trace.length > 0) {
      a.raw_details = truncate(f.trace.map((st) => `${st.path}:${st.line}: ${st.note}`).join('\n'), 60_000, '(truncated)');
    }
    return a;
  });
  return { conclusion, title, summary, text, annotations };
}

/** Splits annotations into GitHub's batches of at most 50 per request. */
export function annotationBatches(annotations: Annotation[]): Annotation[][] {
  const out: Annotation[][] = [];
  for (let i = 0; i < annotations.length; i += ANNOTATIONS_PER_REQUEST) out.push(annotations.slice(i, i + ANNOTATIONS_PER_REQUEST));
  return out;
}

export function renderInProgress(headSha: string, trigger: string): { title: string; summary: string } {
  return { title: 'Analysing the kmap conversion…', summary: `Analysing ${code(headSha.slice(0, 12))} (${trigger}).` };
}

/** A newer push made this run pointless: said plainly, so nobody waits for it. */
export function renderSuperseded(headSha: string): { title: string; summary: string } {
  return {
    title: 'Superseded by a newer push',
    summary: `The review of ${code(headSha.slice(0, 12))} was stopped: the pull request has a newer head, which is reviewed instead.`,
  };
}

/** Completed by the recovery at start-up: the App stopped while this run was in progress. */
export function renderInterrupted(headSha: string): { title: string; summary: string } {
  return {
    title: 'Interrupted: kmap-review restarted',
    summary: `kmap-review stopped while reviewing ${code(headSha.slice(0, 12))}, so this review was not finished and nothing ` +
      'was concluded. Use **Re-run kmap-review** (or comment `/kmap-review recheck`) to review it now.',
  };
}

export function renderFailed(headSha: string, reason: string): { title: string; summary: string } {
  return {
    title: 'kmap-review could not finish',
    summary: truncate(`The analysis of ${code(headSha.slice(0, 12))} failed: ${reason}\n\nUse **Re-run** or comment \`/kmap-review recheck\` to try again.`,
      GITHUB_TEXT_LIMIT, '*(truncated)*'),
  };
}
