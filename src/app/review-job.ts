/**
 * The worker side of a review: everything slow or GitHub-heavy happens here, never in a webhook handler.
 * A job is idempotent: it reuses the head's in-progress check run (its own, from an earlier attempt),
 * skips a head already reviewed, and publishReview() never posts a fingerprint twice. So a retry, a
 * duplicate job or a job re-run after a crash posts nothing twice.
 */
import type { Logger } from 'probot';
import { renderCheckRun, renderSuperseded } from '../comments/check-run.js';
import { analysisKey, type ResultCache } from './cache.js';
import { closeCheckRun, completeCheckRun, failCheckRun, findCheckRun, startCheckRun } from './check-runs.js';
import { collectPullRequest, type GitHub, type PullRef } from './collect.js';
import { loadRepoConfig } from './config-loader.js';
import { toEngineConfig } from '../config/repo-config.js';
import { analyzeWithinBudget, effectiveLimits, type Limits } from './limits.js';
import { publishReview } from './publish-review.js';
import type { JobContext, ReviewJob } from './queue/types.js';
import { classifyError, retryLaterOrGiveUp, withRetry, type RetryPolicy } from './retry.js';
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

export class ReviewWorker {
  constructor(readonly services: WorkerServices) {}

  async process(job: ReviewJob, ctx: JobContext): Promise<JobOutcome> {
    const s = this.services;
    const log = s.log.child({ pr: `${job.owner}/${job.repo}#${job.pullNumber}`, sha: job.headSha.slice(0, 12), attempt: ctx.attempt });
    const pr: PullRef = { owner: job.owner, repo: job.repo, pullNumber: job.pullNumber, headSha: job.headSha, baseSha: job.baseSha };
    if (await ctx.isSuperseded()) {
      log.info('superseded by a newer head before it started: skipped');
      if (ctx.resumed) await this.#closeLeftover(job, pr, log);
      return 'superseded';
    }
    let octokit: GitHub | undefined;
    let checkRunId: number | undefined;
    const started = Date.now();
    try {
      octokit = await s.octokitFor(job.installationId);
      const catalog = await s.rules();
      const loaded = await loadRepoConfig(octokit, job.owner, job.repo, catalog.ids());
      if (job.draft && !loaded.config.drafts && !job.force) {
        log.info('draft pull request: skipped (set `drafts: true` to analyse drafts)');
        return 'draft';
      }
      const existing = await findCheckRun(octokit, job.owner, job.repo, job.headSha);
      if (!job.force && existing?.status === 'completed' && existing.conclusion !== 'cancelled') {
        log.info({ checkRun: existing.id }, 'this head was already reviewed: skipping');
        return 'already-reviewed';
      }
      // An in-progress run on this head is this job's own from an earlier attempt (one job per pull
      // request runs at a time), or one a crash left behind: either way, finish it rather than add one.
      checkRunId = existing && existing.status !== 'completed'
        ? existing.id
        : await startCheckRun(octokit, job.owner, job.repo, job.headSha, job.trigger);

      const limits = effectiveLimits(s.limits, loaded.config);
      const config = { ...loaded.config, maxFiles: limits.maxFiles, maxFileBytes: limits.maxFileBytes };
      const collected = await collectPullRequest(octokit, pr, config);
      if (await this.#stopIfSuperseded(ctx, octokit, pr, checkRunId, log)) return 'superseded';

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
      if (await this.#stopIfSuperseded(ctx, octokit, pr, checkRunId, log)) return 'superseded';

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
    } catch (err) {
      const classified = classifyError(err);
      const reason = retryLaterOrGiveUp(err, ctx, s.retry, log, 'kmap-review', classified);
      await this.#reportFailure(octokit, job, checkRunId, reason, log, classified.retryAfterMs);
      return 'failed';
    }
  }

  /** A superseded job that ran before may have left its check run in progress: complete it. */
  async #closeLeftover(job: ReviewJob, pr: PullRef, log: Logger): Promise<void> {
    try {
      const octokit = await this.services.octokitFor(job.installationId);
      const policy = { attempts: 3, baseDelayMs: Math.min(1000, this.services.retry.baseDelayMs), maxDelayMs: 10_000 };
      await withRetry(async () => {
        const existing = await findCheckRun(octokit, pr.owner, pr.repo, pr.headSha);
        if (existing && existing.status !== 'completed') {
          await closeCheckRun(octokit, pr.owner, pr.repo, existing.id, 'cancelled', renderSuperseded(pr.headSha));
        }
      }, policy);
    } catch (err) {
      log.warn({ err }, 'could not complete the superseded check run');
    }
  }

  async #stopIfSuperseded(ctx: JobContext, octokit: GitHub, pr: PullRef, checkRunId: number, log: Logger): Promise<boolean> {
    if (!(await ctx.isSuperseded())) return false;
    log.info('superseded by a newer head: stopping');
    await closeCheckRun(octokit, pr.owner, pr.repo, checkRunId, 'cancelled', renderSuperseded(pr.headSha));
    return true;
  }

  /**
   * Never leaves the check run in progress: completes it (creating it if needed) with the reason. When a
   * rate limit ended the last attempt, its Retry-After is honoured before the first request of this report
   * too (capped like every retry delay, at least 10 s allowed), as withRetry honours it between requests.
   */
  async #reportFailure(octokit: GitHub | undefined, job: ReviewJob, checkRunId: number | undefined, reason: string, log: Logger, retryAfterMs?: number): Promise<void> {
    if (!octokit) return;
    const policy = { attempts: 3, baseDelayMs: Math.min(1000, this.services.retry.baseDelayMs), maxDelayMs: 10_000 };
    const sleep = this.services.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
    try {
      if (retryAfterMs !== undefined && retryAfterMs > 0) {
        const wait = Math.min(retryAfterMs, Math.max(policy.maxDelayMs, this.services.retry.maxDelayMs));
        log.info({ delayMs: wait }, 'waiting for the rate limit before reporting the failure');
        await sleep(wait);
      }
      const id = checkRunId ?? (await withRetry(async () => {
        const existing = await findCheckRun(octokit, job.owner, job.repo, job.headSha);
        return existing && existing.status !== 'completed' ? existing.id : startCheckRun(octokit, job.owner, job.repo, job.headSha, job.trigger);
      }, policy, sleep));
      await withRetry(() => failCheckRun(octokit, log, job.owner, job.repo, id, job.headSha, reason, true), policy, sleep);
    } catch (err) {
      // Left in progress only if GitHub refuses even this; the recovery at the next start completes it.
      log.error({ err }, 'could not complete the check run with the failure');
    }
  }
}
