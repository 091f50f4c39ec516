/**
 * The tree scan's result, published: compared with the previous default-branch result (the trend; new
 * uses fail the run), kept as the next push's baseline and in the run history, rendered
 * (comments/tree-check.ts) and completed on the check run with its annotations.
 */
import type { EngineConfig } from '../../analysis/model.js';
import type { TreeScan } from '../../analysis/scan/tree.js';
import { renderTreeCheckRun, type TreeCheckOutput, type TreeTrendInfo } from '../../comments/tree-check.js';
import { stopIfSuperseded } from '../check-job.js';
import { completeCheckRun } from '../check-runs.js';
import type { GitHub } from '../collect.js';
import { loadScanner } from '../engine.js';
import type { JobContext } from '../queue/types.js';
import { GITHUB_TEXT_LIMIT } from '../../comments/markdown.js';
import type { TreeRunPoint } from '../../comments/tree-trend.js';
import { baselineOf, compareTreeResult, encodeBaselineMarker, type CompactBaseline } from './baseline.js';
import type { TreeCache } from './blob-cache.js';
import { htmlBaseOf } from './check-run.js';
import { appendRun, encodeHistoryMarker, historyKey, runPointOf } from './history.js';
import type { TreeOptions } from './options.js';
import { findBaseline, storeBaseline } from './previous-result.js';
import { offerReadyPatch } from './ready-patch.js';
import type { RepositoryScan } from './scan-repository.js';

const BASELINE_TEXT = 'The baseline below lets the next push of the default branch report its trend (was N, now M).';

/** The check run's machine-readable text: the baseline first (the trend needs it), the history in the room left. */
function checkRunText(mine: CompactBaseline, history: readonly TreeRunPoint[]): string {
  const room = GITHUB_TEXT_LIMIT - BASELINE_TEXT.length - 200;
  const baseline = encodeBaselineMarker(mine, room);
  const runs = encodeHistoryMarker(history, room - baseline.length - 1);
  return `${BASELINE_TEXT}\n\n${baseline}${runs ? `\n${runs}` : ''}`;
}

export interface TreePublication {
  octokit: GitHub;
  cache: TreeCache;
  options: TreeOptions;
  ctx: Pick<JobContext, 'isSuperseded'>;
  owner: string;
  repo: string;
  headSha: string;
  /** The push's previous head; null when none. */
  before: string | null;
  checkRunId: number;
  engineConfig: EngineConfig;
  configProblems: string[];
  /** When the job started (ms), for the scan's elapsed time. */
  started: number;
}

export async function publishTreeResult(p: TreePublication, result: RepositoryScan): Promise<{ scan: TreeScan; out: TreeCheckOutput }> {
  const { octokit, cache, owner, repo, headSha, before } = p;
  const { scan: partial, stats, readyTexts } = result;
  const found = await findBaseline(octokit, cache, owner, repo, headSha, before);
  const { compareWithBaseline } = await loadScanner();
  const compared = found ? compareTreeResult(compareWithBaseline, found.baseline, partial.sites, partial.findings, partial.files.skipped) : null;
  const scan: TreeScan = { ...partial, baseline: compared?.comparison ?? null, elapsedMs: Date.now() - p.started };
  const mine = baselineOf(headSha, scan.sites, scan.findings, scan.files.skipped);
  await storeBaseline(cache, owner, repo, mine);
  // Without the cache's (a restart without Redis, another instance), the one kept in the previous run.
  const kept = await cache.get(historyKey(owner, repo));
  const history = appendRun(Array.isArray(kept) ? kept : found?.history, runPointOf(headSha, scan));
  await cache.set(historyKey(owner, repo), history);
  await stopIfSuperseded(p.ctx);

  const trend: TreeTrendInfo = {
    commit: found?.baseline.commit ?? null, source: found?.source ?? null, countsOnly: found ? !found.baseline.complete : false, before,
    notCompared: compared?.notCompared ?? [],
  };
  const readyPatch = await offerReadyPatch(partial, readyTexts, p.engineConfig);
  const out = renderTreeCheckRun({
    readyPatch, history,
    scan, owner, repo, headSha, htmlBase: htmlBaseOf(octokit), trend, stats, configProblems: p.configProblems,
    maxAnnotations: p.options.maxAnnotations, ...(p.options.maxItems !== undefined ? { maxItems: p.options.maxItems } : {}),
    text: checkRunText(mine, history),
  });
  await completeCheckRun(octokit, owner, repo, p.checkRunId, out);
  return { scan, out };
}
