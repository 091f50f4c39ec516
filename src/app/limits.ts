/**
 * Caps on what one pull request may cost: files analysed, bytes per file, and the total analysis time.
 * The operator sets ceilings in the environment (settings.ts); a repository's `.github/kmap-review.yml` may only lower
 * them. When the time cap stops an analysis, the files not analysed are listed and the result is marked
 * partial: it is never presented as complete.
 */
import type { ChangeSet, ChangedFile, EngineConfig, Report } from '../analysis/model.js';
import type { AppConfig } from '../config/repo-config.js';
import type { AnalysisRunner } from './runner.js';

export interface Limits {
  maxFiles: number;
  maxFileBytes: number;
  maxAnalysisMs: number;
}

export const DEFAULT_LIMITS: Limits = { maxFiles: 300, maxFileBytes: 5 * 1024 * 1024, maxAnalysisMs: 120_000 };

/** The repository's values, never above the operator's. */
export function effectiveLimits(operator: Limits, config: AppConfig): Limits {
  return {
    maxFiles: Math.min(operator.maxFiles, config.maxFiles),
    maxFileBytes: Math.min(operator.maxFileBytes, config.maxFileBytes),
    maxAnalysisMs: Math.min(operator.maxAnalysisMs, config.maxAnalysisSeconds * 1000),
  };
}

export interface BudgetedReport {
  report: Report;
  /** Set when the time cap stopped the analysis: what to tell the reader. */
  partial?: string;
}

/** Files per engine call: small pull requests are one call; big ones can stop between batches. */
export const FILES_PER_BATCH = 8;

/**
 * Runs the engine on `changeSet` in batches of files until the budget is spent. Files are independent in
 * the engine (each is analysed on its own), so batching changes nothing but where it can stop.
 */
export async function analyzeWithinBudget(
  runner: AnalysisRunner, changeSet: ChangeSet, config: EngineConfig, budgetMs: number, now: () => number = Date.now,
): Promise<BudgetedReport> {
  const deadline = now() + budgetMs;
  const merged: Report = { name: changeSet.name, findings: [], files: [], skipped: [], gaps: [] };
  const files = changeSet.files;
  const batches: ChangedFile[][] = [];
  for (let i = 0; i < files.length; i += FILES_PER_BATCH) batches.push(files.slice(i, i + FILES_PER_BATCH));
  if (batches.length === 0) batches.push([]);
  let done = 0;
  let calls = 0;
  for (const batch of batches) {
    const remaining = deadline - now();
    if (remaining <= 0) break;
    let report: Report;
    try {
      // The engine sees the skipped files once, with the first batch, as it did with the whole set.
      report = await runner.analyze({ name: changeSet.name, files: batch, skipped: calls === 0 ? changeSet.skipped : [] }, config, { timeoutMs: remaining });
    } catch (err) {
      if (err instanceof AnalysisTimeout) break;
      throw err;
    }
    calls++;
    merged.findings.push(...report.findings);
    merged.files.push(...report.files);
    merged.skipped.push(...report.skipped);
    merged.gaps.push(...report.gaps);
    done += batch.length;
  }
  if (calls === 0) merged.skipped.push(...changeSet.skipped);
  if (done === files.length) return { report: merged };
  const left: ChangedFile[] = files.slice(done);
  const seconds = Math.round(budgetMs / 100) / 10;
  for (const f of left) {
    merged.skipped.push({ path: f.newPath ?? f.oldPath ?? '', reason: `not analysed: the ${seconds} s analysis-time limit was reached` });
  }
  return {
    report: merged,
    partial: `the analysis stopped at the ${seconds} s time limit (max_analysis_seconds): ${left.length} of ${files.length} C/H files were not analysed`,
  };
}

/** The runner's answer when a call's time is up (the worker thread doing it is replaced). */
export class AnalysisTimeout extends Error {
  constructor(ms: number) {
    super(`analysis timed out after ${ms} ms`);
    this.name = 'AnalysisTimeout';
  }
}
