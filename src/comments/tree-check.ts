/**
 * The `kmap-review / tree` check run around the scan's own rendering (comments/scan/markdown.ts): the
 * conclusion from the trend, the title, notes on where the result came from, and the annotations.
 */
import type { Finding, SkippedFile } from '../analysis/model.js';
import type { ScanSite } from '../analysis/scan/classify.js';
import type { TreeScan } from '../analysis/scan/tree.js';
import type { Annotation, Conclusion } from './check-run.js';
import { GITHUB_TEXT_LIMIT, code, plural, truncate } from './markdown.js';
import { annotationMessage } from './plain-message.js';
import { renderScanMarkdown, scanTitle } from './scan/markdown.js';
import { renderTreeTrend, type TreeRunPoint } from './tree-trend.js';

export interface TreeTrendInfo {
  /** The commit the baseline belongs to; null when there was none. */
  commit: string | null;
  /** How it was found: the push's previous head, or the last default-branch result when that had none. */
  source: 'before' | 'latest' | null;
  /** The previous result only kept counts (too many uses for the check run): trend by count. */
  countsOnly: boolean;
  /** The push's previous head, to say why another commit was used. */
  before: string | null;
  /** Files not analysed now, with deprecated calls, that the previous result gives nothing to compare with. */
  notCompared?: readonly SkippedFile[];
}

export interface TreeSourceStats {
  /** C/H files selected in the tree. */
  listed: number;
  /** Results reused from the cache (unchanged blobs). */
  cached: number;
  /** Files read from the repository tarball (first run, or many changes). */
  fromTarball: number;
  /** Files fetched one by one from the blobs API. */
  fromBlobs: number;
}

export interface TreeCheckInput {
  scan: TreeScan;
  owner: string;
  repo: string;
  headSha: string;
  /** https://github.com (or a GHE host): links are `${htmlBase}/${owner}/${repo}/blob/${sha}/${path}#L${line}`. */
  htmlBase: string;
  trend: TreeTrendInfo;
  stats: TreeSourceStats;
  configProblems: string[];
  maxAnnotations: number;
  maxItems?: number;
  /** Extra text for the check run's `text` (the machine-readable baseline). */
  text: string;
  /** The `kmap-review fix` patch for one directory's ready sites, or only its name when no text was at hand. */
  readyPatch?: ReadyPatch | null;
  /** The last default-branch runs, oldest first, this one last: the trend block and the report command. */
  history?: readonly TreeRunPoint[];
}

export interface ReadyPatch {
  directory: string;
  sites: number;
  /** An mbox series for `git am`, or null: then the summary gives the command that makes it. */
  patch: string | null;
}

/** The offer of a patch for the ready sites of a directory, if it fits in `room` characters. */
function readyPatchBlock(p: ReadyPatch, room: number): string {
  const command = `\`kmap-review fix ${p.directory}\``;
  if (p.patch) {
    const block = `<details><summary>Patch for the ${p.sites} ready sites in ${code(p.directory)} (\`git am\`, made by \`kmap-review fix\`, every function re-analysed)</summary>\n\n\`\`\`diff\n${p.patch.trimEnd()}\n\`\`\`\n\n</details>`;
    if (block.length <= room) return block;
  }
  return `**Ready to convert:** ${code(p.directory)} has ${p.sites} ready sites; ${command} in a checkout writes the patch series.`;
}

export interface TreeCheckOutput {
  conclusion: Conclusion;
  title: string;
  summary: string;
  text: string;
  annotations: Annotation[];
  /** Annotations left out by the cap. */
  annotationsDropped: number;
}

/**
 * failure for new deprecated uses, new error findings or more deprecated calls in a file not analysed
 * (as `scan --baseline` fails); neutral without a baseline, or when files not analysed could not be
 * compared (they may hide new uses: not a success); success otherwise.
 */
export function treeConclusion(scan: TreeScan, trend: TreeTrendInfo): Conclusion {
  const b = scan.baseline;
  if (!b) return 'neutral';
  const failed = trend.countsOnly ? b.now > b.was : b.added.length > 0 || b.newErrors.length > 0 || b.addedInSkipped.length > 0;
  if (failed) return 'failure';
  return trend.notCompared?.length ? 'neutral' : 'success';
}

function treeTitle(scan: TreeScan, conclusion: Conclusion, trend: TreeTrendInfo): string {
  const b = scan.baseline;
  const base = scanTitle(scan);
  if (!b || conclusion !== 'failure') return base;
  const news: string[] = [];
  if (trend.countsOnly) news.push(`${b.now - b.was} more`);
  else {
    if (b.added.length) news.push(`${b.added.length} new`);
    if (b.newErrors.length) news.push(plural(b.newErrors.length, 'new error'));
    if (b.addedInSkipped.length) news.push(`new uses in ${plural(b.addedInSkipped.length, 'file')} not analysed`);
  }
  return `${news.join(', ')}: ${base}`;
}

function siteAnnotation(s: ScanSite, level: Annotation['annotation_level'], title: string, message: string): Annotation {
  return { path: s.path, start_line: s.line, end_line: s.line, annotation_level: level, title: title.slice(0, 255), message: truncate(message, 60_000, '(truncated)') };
}

function findingAnnotation(f: Finding, level: Annotation['annotation_level']): Annotation {
  const a: Annotation = {
    path: f.path, start_line: f.line, end_line: Math.max(f.line, f.endLine), annotation_level: level,
    title: `kmap-review: ${f.rule}`.slice(0, 255), message: truncate(annotationMessage(f), 60_000, '(truncated)'),
  };
  if (f.trace.length) a.raw_details = truncate(f.trace.map((t) => `${t.path}:${t.line}: ${t.note}`).join('\n'), 60_000, '(truncated)');
  return a;
}

/**
 * New uses and new errors first (failure), then the other error findings (warning when a baseline shows
 * they are old), blocked sites (warning) and needs-care sites (notice). Ready sites are in the totals only.
 */
export function treeAnnotations(scan: TreeScan, trend: TreeTrendInfo): Annotation[] {
  const b = scan.baseline;
  const since = trend.commit ? ` since ${trend.commit.slice(0, 12)}` : '';
  const added = new Set(b && !trend.countsOnly ? b.added.map((s) => s.key) : []);
  const newErrors = new Set(b && !trend.countsOnly ? b.newErrors.map((f) => f.fingerprint) : []);
  const out: Annotation[] = [];
  for (const f of b && !trend.countsOnly ? b.addedInSkipped : []) {
    out.push({
      path: f.path, start_line: 1, end_line: 1, annotation_level: 'failure', title: 'kmap-review: new uses in a file not analysed',
      message: truncate(`${f.now} deprecated calls (counted lexically), ${f.was} before${since}; the file was not analysed: ${f.reason}`, 60_000, '(truncated)'),
    });
  }
  for (const s of scan.sites) {
    if (added.has(s.key)) out.push(siteAnnotation(s, 'failure', `kmap-review: new ${s.api}() use`, `New use of the deprecated ${s.api}()${since} (${s.class}): ${s.reason}`));
  }
  const errors = scan.findings.filter((f) => f.severity === 'error');
  for (const f of errors) if (newErrors.has(f.fingerprint)) out.push(findingAnnotation(f, 'failure'));
  for (const f of errors) if (!newErrors.has(f.fingerprint)) out.push(findingAnnotation(f, b && !trend.countsOnly ? 'warning' : 'failure'));
  for (const s of scan.sites) {
    if (!added.has(s.key) && s.class === 'blocked') out.push(siteAnnotation(s, 'warning', `kmap-review: ${s.api}() blocked`, `${s.api}() cannot become kmap_local_page() as it is: ${s.reason}`));
  }
  for (const s of scan.sites) {
    if (!added.has(s.key) && s.class === 'needs-care') out.push(siteAnnotation(s, 'notice', `kmap-review: ${s.api}() needs care`, `${s.api}() needs care to convert: ${s.reason}`));
  }
  return out;
}

/** "larger than N bytes" stays as it is; the analysis errors, each its own message, are counted as one kind. */
const reasonKind = (reason: string) => (reason.startsWith('not analysed:') ? 'the analysis failed' : reason);

/** How many files were not analysed and why, and their deprecated calls (counted lexically) that keep counting. */
function notAnalysedNote(skipped: readonly SkippedFile[]): string {
  const byKind = new Map<string, number>();
  for (const f of skipped) byKind.set(reasonKind(f.reason), (byKind.get(reasonKind(f.reason)) ?? 0) + 1);
  const why = [...byKind].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0])).map(([k, n]) => `${n} ${k}`).join(', ');
  const calls = skipped.reduce((sum, f) => sum + (f.uses ?? 0), 0);
  const counted = skipped.filter((f) => f.uses !== undefined).length;
  return `**Not analysed:** ${plural(skipped.length, 'file')} (${why})${counted ? `; ${plural(calls, 'deprecated call')} in ${counted === skipped.length ? 'them' : plural(counted, 'of them', 'of them')}, counted lexically, keep counting in the trend` : ''}.`;
}

function notes(input: TreeCheckInput, dropped: number, shown: number): string {
  const { trend, stats, scan } = input;
  const n: string[] = [];
  if (!scan.baseline) {
    n.push(trend.before
      ? `No earlier \`kmap-review / tree\` result for ${code(trend.before.slice(0, 12))} or any other default-branch commit: this result is the baseline for the next push.`
      : 'No earlier result to compare with: this result is the baseline for the next push.');
  } else {
    const which = trend.source === 'latest' && trend.before && trend.commit !== trend.before
      ? `${code(trend.commit!.slice(0, 12))}, the last analysed default-branch commit (${code(trend.before.slice(0, 12))} has no result)`
      : code(trend.commit!.slice(0, 12));
    n.push(`Compared with ${which}.${trend.countsOnly ? ' That result kept only its counts (too many uses to list), so the trend compares counts and new uses are not listed.' : ''}`);
  }
  const read = [`${plural(stats.listed, 'C/H file')} in the tree`, `${stats.cached} unchanged (cached)`];
  if (stats.fromTarball) read.push(`${stats.fromTarball} read from the repository tarball`);
  if (stats.fromBlobs) read.push(`${stats.fromBlobs} fetched as blobs`);
  n.push(`**Files:** ${read.join(', ')}; ${scan.files.matched} mention the mapping API.`);
  if (scan.files.skipped.length) n.push(notAnalysedNote(scan.files.skipped));
  if (trend.notCompared?.length) {
    const files = trend.notCompared.slice(0, 5).map((f) => `${code(f.path)} (${f.uses} now)`).join(', ') + (trend.notCompared.length > 5 ? ', …' : '');
    n.push(`**Not compared:** ${plural(trend.notCompared.length, 'file')} not analysed now, with deprecated calls counted lexically: ${files}. The previous result (read back from its check run) has no per-file counts to compare them with, so whether they grew is not known (hence not a success), and the converted count may include their uses; the next push compares them.`);
  }
  if (dropped > 0) n.push(`**Annotations:** the first ${shown} of ${shown + dropped} (capped at ${input.maxAnnotations}); the lists above have the rest.`);
  if (input.configProblems.length) {
    n.push(`**Configuration:** \`.github/kmap-review.yml\` has problems; the defaults apply for them:\n${input.configProblems.map((p) => `- ${p}`).join('\n')}`);
  }
  return n.join('\n\n');
}

export function renderTreeCheckRun(input: TreeCheckInput): TreeCheckOutput {
  const conclusion = treeConclusion(input.scan, input.trend);
  const all = treeAnnotations(input.scan, input.trend);
  const annotations = all.slice(0, Math.max(0, input.maxAnnotations));
  const dropped = all.length - annotations.length;
  const trendBlock = input.history?.length ? `\n\n${renderTreeTrend(input.history)}` : '';
  const tail = notes(input, dropped, annotations.length) + trendBlock;
  const linkBase = `${input.htmlBase.replace(/\/$/, '')}/${input.owner}/${input.repo}/blob/${input.headSha}`;
  const body = renderScanMarkdown(input.scan, { linkBase, ...(input.maxItems !== undefined ? { maxItems: input.maxItems } : {}) });
  // The notes are short and always shown: the scan's rendering gives way if the two do not fit.
  const room = GITHUB_TEXT_LIMIT - tail.length - 200;
  const cutBody = truncate(body.trimEnd(), Math.max(1000, room), '*(cut to fit GitHub\'s 65,535-character limit)*');
  // The patch offer takes what room is left; when the patch does not fit, the command that makes it.
  const offer = input.readyPatch ? `\n\n${readyPatchBlock(input.readyPatch, GITHUB_TEXT_LIMIT - cutBody.length - tail.length - 300)}` : '';
  const summary = `${cutBody}${offer}\n\n---\n\n${tail}`;
  return {
    conclusion,
    title: treeTitle(input.scan, conclusion, input.trend),
    summary: truncate(summary, GITHUB_TEXT_LIMIT, '*(truncated)*'),
    text: truncate(input.text, GITHUB_TEXT_LIMIT, ''),
    annotations,
    annotationsDropped: dropped,
  };
}
