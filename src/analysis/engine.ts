/**
 * The pipeline: a ChangeSet in, a Report out. For every changed C file it locates the functions the
 * patch touches in both images, runs the rules on each post-image function and on its pre-image
 * version, and marks as pre-existing what the pre-image already had.
 */
import { isCPath, KmapApi } from './kmap-api.js';
import type { AnalysisGap, ChangeSet, ChangedFile, EngineConfig, FileSummary, Finding, Report } from './model.js';
import { DEFAULT_CONFIG } from './model.js';
import { attachConversionFixes } from './convert/conversion-fixes.js';
import { applyKconfigReach, type ReachOf } from './kconfig/apply.js';
import { activeRules, checkFunction, type ActiveRule } from './rules/runner.js';
import { initParser } from './syntax/parser.js';
import { FRAGMENT_NAME, functionsTouching, locateFunctions, pairFunctions, type CFunction } from './source/functions.js';
import { locateFunctionsInSparseImage, unseenWords, type SeenHunk } from './source/sparse.js';
import type { CalleeRun, OnDemandTree } from './summaries/on-demand.js';

export const ENGINE_VERSION = '1';

export { isCPath } from './kmap-api.js';

function byName(fns: CFunction[]): Map<string, CFunction> {
  const m = new Map<string, CFunction>();
  for (const f of fns) if (!f.fragment) m.set(f.name, f);
  return m;
}

function analyseFile(file: ChangedFile, api: KmapApi, config: EngineConfig, rules: ActiveRule[], gaps: AnalysisGap[], callees: CalleeRun = {}): { findings: Finding[]; summary: FileSummary } {
  const path = file.newPath ?? file.oldPath!;
  const seen = (side: 'old' | 'new'): SeenHunk[] | undefined => file.hunks?.flatMap((h) => (h[side] ? [{ lines: h[side]!, heading: h.heading }] : []));
  const locate = (text: string, touched: ReadonlySet<number>, side: 'old' | 'new') => (file.complete ? locateFunctions(text) : locateFunctionsInSparseImage(text, touched, seen(side)));
  // Only files that mention the API can have findings: skip parsing the rest.
  const relevant = api.mentionsMapping(file.newText) || api.mentionsMapping(file.oldText);
  if (!relevant) return { findings: [], summary: { path, functionsAnalysed: 0 } };
  const preFns = file.oldPath ? locate(file.oldText, file.removedLines, 'old') : [];
  const postFns = file.newPath ? locate(file.newText, file.addedLines, 'new') : [];
  const pairs = pairFunctions(preFns, postFns, functionsTouching(preFns, file.removedLines), functionsTouching(postFns, file.addedLines));
  const preByName = byName(preFns);
  const postByName = byName(postFns);
  const findings: Finding[] = [];
  let analysed = 0;
  for (const { pre, post } of pairs) {
    if (!post) continue;
    if (!api.mentionsMapping(post.text) && !(pre && api.mentionsMapping(pre.text))) continue;
    analysed++;
    // The stretches between hunks (a hunk that ends inside a block also has one after it, the block's unseen rest).
    const between = post.unseen?.filter((g) => g.from > post.line && g.to < post.endLine) ?? [];
    if (between.length) {
      const name = post.name === FRAGMENT_NAME ? '' : ` ${post.name}()`;
      gaps.push({ path, reason: `lines ${post.line}-${post.endLine} were analysed as one sparse function${name}, from ${between.length + 1} hunks; the patch does not show ${unseenWords(between)}: what depends on them is a note here, not a finding (give --tree for whole-function checks)` });
      if (post.hasErrors || post.cut) gaps.push({ path, reason: `lines ${post.line}-${post.endLine} do not parse as whole statements (a hunk starts or ends inside one): the statements cut off were not checked` });
    } else if (post.fragment) {
      gaps.push({ path, reason: `lines ${post.line}-${post.endLine} were analysed as a fragment: the enclosing function is not in the diff (give --tree for whole-function checks)` });
      // A hunk cut inside a statement still gets its lines checked; what the cut hides is said, not guessed.
      if (post.hasErrors || post.cut) gaps.push({ path, reason: `lines ${post.line}-${post.endLine} do not parse as whole statements (the hunk starts or ends inside one): the statements cut off were not checked` });
    }
    const postFindings = checkFunction(post, { path, source: file.newText, image: 'post', isChanged: (l) => file.addedLines.has(l), api, rules, fileFunctions: postByName, gaps, ...callees, ...(pre ? { counterpart: pre } : {}) });
    if (pre && postFindings.length) {
      const before = new Set(checkFunction(pre, { path, source: file.oldText, image: 'pre', isChanged: () => true, api, rules, fileFunctions: preByName, ...callees }).map((f) => f.fingerprint));
      for (const f of postFindings) f.preExisting = before.has(f.fingerprint);
    }
    attachConversionFixes(postFindings, post, { path, source: file.newText, api, config });
    findings.push(...postFindings);
  }
  return { findings, summary: { path, functionsAnalysed: analysed } };
}

export interface AnalyzeOptions {
  /**
   * The Kconfig reach of the tree the patch applies to (`check --tree`): findings in files that tree builds
   * only without HIGHMEM become warnings (kconfig/apply.ts). Without it (a bare patch) nothing changes.
   */
  reach?: ReachOf;
  /** The tree the patch applies to, for callee summaries across its files (check --tree); none: each file's own functions. */
  tree?: OnDemandTree;
}

export async function analyze(changeSet: ChangeSet, config: EngineConfig = DEFAULT_CONFIG, options: AnalyzeOptions = {}): Promise<Report> {
  await initParser();
  const api = new KmapApi(config);
  const rules = activeRules(config);
  const findings: Finding[] = [];
  const files: FileSummary[] = [];
  const gaps: AnalysisGap[] = [];
  const skipped = [...changeSet.skipped];
  for (const file of changeSet.files) {
    const path = file.newPath ?? file.oldPath ?? '';
    if (!isCPath(path)) {
      skipped.push({ path, reason: 'not a C source or header' });
      continue;
    }
    const run = (o: CalleeRun) => {
      const own: AnalysisGap[] = [];
      return { ...analyseFile(file, api, config, rules, own, o), gaps: own };
    };
    const r = options.tree ? options.tree.run(path, run) : run({});
    gaps.push(...r.gaps);
    findings.push(...(options.reach ? applyKconfigReach(r.findings, options.reach) : r.findings));
    files.push(r.summary);
  }
  findings.sort((a, b) => a.path.localeCompare(b.path) || a.line - b.line || a.rule.localeCompare(b.rule));
  return { name: changeSet.name, findings, files, skipped, gaps, ...(changeSet.preImages ? { preImages: changeSet.preImages } : {}) };
}

/** Exit status semantics shared by the CLI and the App: an error the patch introduces fails the review. */
export function hasBlockingFinding(report: Report): boolean {
  return report.findings.some((f) => f.severity === 'error' && !f.preExisting);
}
