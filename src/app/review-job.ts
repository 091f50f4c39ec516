/**
 * The worker side of a review: everything slow or GitHub-heavy happens here, never in a webhook handler.
 * The life cycle (check run reused, skipped, cancelled, completed on failure) is check-job.ts's.
 * A job is idempotent: it reuses the head's in-progress check run (its own, from an earlier attempt),
 * skips a head already reviewed, and publishReview() never posts a fingerprint twice. So a retry, a
 * duplicate job or a job re-run after a crash posts nothing twice.
 */
import type { Logger } from 'probot';
import { renderCheckRun, renderSuperseded } from '../comments/check-run.js';
import { analysisKey, type ResultCache } from './cache.js';
import { runCheckJob, stopIfSuperseded, type CheckRunKind } from './check-job.js';
import { closeCheckRun, completeCheckRun, failCheckRun, findCheckRun, startCheckRun } from './check-runs.js';
import { collectPullRequest, type GitHub, type PullRef } from './collect.js';
import { loadRepoConfig } from './config-loader.js';
import { toEngineConfig, type LoadedConfig } from '../config/repo-config.js';
import { analyzeWithinBudget, effectiveLimits, type Limits } from './limits.js';
import { publishReview } from './publish-review.js';
import type { JobContext, ReviewJob } from './queue/types.js';
import type { RetryPolicy } from './retry.js';
import type { AnalysisRunner } from './runner.js';
import type { RuleCatalog } from './scheduler.js';

export interface WorkerServices {
  runner: AnalysisRunner;
  rules: () => Promise<RuleCatalog>;
  /** An installation's client (Probot's app.auth), with the App's request timeout. */
  octokitFor: (installationId: number | null) => Promise<GitHub>;
  cache: ResultCache;
  limits: Limits;
  retry: RetryPolicy;
  log: Logger;
  /** Engine + tool version, part of the cache key. */
  engineVersion: () => Promise<string>;
  now?: () => number;
  /** Waits between requests of the failure report (tests pass a recorder). */
  sleep?: (ms: number) => Promise<void>;
}

export type JobOutcome = 'done' | 'superseded' | 'already-reviewed' | 'draft' | 'failed';

/** The `kmap-review` check run on the pull request's head. */
const REVIEW_RUN: CheckRunKind = {
  find: (octokit, job) => findCheckRun(octokit, job.owner, job.repo, job.headSha),
  start: (octokit, job) => startCheckRun(octokit, job.owner, job.repo, job.headSha, job.trigger),
  fail: (octokit, job, id, reason, log) => failCheckRun(octokit, log, job.owner, job.repo, id, job.headSha, reason, true),
  cancel: (octokit, job, id) => closeCheckRun(octokit, job.owner, job.repo, id, 'cancelled', renderSuperseded(job.headSha)),
};

export class ReviewWorker {
  constructor(readonly services: WorkerServices) {}

  async process(job: ReviewJob, ctx: JobContext): Promise<JobOutcome> {
    const s = this.services;
    const log = s.log.child({ pr: `${job.owner}/${job.repo}#${job.pullNumber}`, sha: job.headSha.slice(0, 12), attempt: ctx.attempt });
    const pr: PullRef = { owner: job.owner, repo: job.repo, pullNumber: job.pullNumber, headSha: job.headSha, baseSha: job.baseSha };
    const started = Date.now();
    return runCheckJob<{ catalog: RuleCatalog; loaded: LoadedConfig }, JobOutcome>({
      what: 'kmap-review', run: REVIEW_RUN, alreadyDone: 'already-reviewed',
      prepare: async (octokit) => {
        const catalog = await s.rules();
        const loaded = await loadRepoConfig(octokit, job.owner, job.repo, catalog.ids());
        if (job.draft && !loaded.config.drafts && !job.force) {
          log.info('draft pull request: skipped (set `drafts: true` to analyse drafts)');
          return { stop: 'draft' };
        }
        return { state: { catalog, loaded } };
      },
      work: async ({ octokit, checkRunId, state: { catalog, loaded } }) => {
        const limits = effectiveLimits(s.limits, loaded.config);
        const config = { ...loaded.config, maxFiles: limits.maxFiles, maxFileBytes: limits.maxFileBytes };
        const collected = await collectPullRequest(octokit, pr, config);
        await stopIfSuperseded(ctx);

        const engineConfig = toEngineConfig(config);
        const key = analysisKey(collected.blobs, collected.changeSet.skipped, await s.engineVersion(), engineConfig);
        let report = key ? await s.cache.get(key) : undefined;
        let partial: string | undefined;
        const cached = report !== undefined;
        if (!report) {
          ({ report, partial } = await analyzeWithinBudget(s.runner, collected.changeSet, engineConfig, limits.maxAnalysisMs, s.now));
          // A partial result is never cached: a re-run with more time must analyse again.
          if (key && !partial) await s.cache.set(key, report);
        }
        await stopIfSuperseded(ctx);

        const inline = await publishReview(octokit, log, { pr, report, collected, config, rules: catalog.find });
        const out = renderCheckRun({
          report, headSha: job.headSha, conclusionPolicy: config.conclusion, configProblems: loaded.problems,
          ignoredFiles: collected.ignoredFiles, notes: collected.notes, inline,
          limitsHit: collected.limitsHit, ...(partial ? { partial } : {}),
        });
        await completeCheckRun(octokit, job.owner, job.repo, checkRunId, out);
        log.info({ findings: report.findings.length, posted: inline.posted, conclusion: out.conclusion, cached,
          partial: partial !== undefined, ms: Date.now() - started }, 'kmap-review done');
        return 'done';
      },
    }, job, ctx, s, log);
  }
}
