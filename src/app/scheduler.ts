/**
 * Starts reviews. The webhook handler calls `schedule()`, which does the quick GitHub calls (configuration,
 * existing check run, new check run in_progress) and queues the slow part (file contents, analysis in a
 * worker thread, review, check-run completion) so the webhook is answered at once.
 */
import type { Logger } from 'probot';
import { renderCheckRun } from '../comments/check-run.js';
import type { RuleLookup } from '../comments/review.js';
import { completeCheckRun, failCheckRun, findCheckRun, startCheckRun } from './check-runs.js';
import { collectPullRequest, type GitHub, type PullRef } from './collect.js';
import { parseConfig, toEngineConfig, type LoadedConfig } from './config.js';
import { publishReview } from './publish-review.js';
import type { JobQueue } from './queue.js';
import type { AnalysisRunner } from './runner.js';

export interface RuleCatalog {
  find: RuleLookup;
  ids(): string[];
}

export interface Services {
  runner: AnalysisRunner;
  queue: JobQueue;
  rules: () => Promise<RuleCatalog>;
}

export interface PullRequestState extends PullRef {
  draft: boolean;
}

export interface ScheduleRequest {
  octokit: GitHub;
  log: Logger;
  pr: PullRequestState;
  /** What started it, for the logs and the in-progress summary ("pull_request.synchronize"). */
  trigger: string;
  /** Re-run even if this head was already reviewed, and even for a draft (recheck, Re-run). */
  force: boolean;
  /** Reads `.github/kmap-review.yml` from the default branch (Probot's context.config); null if absent. */
  loadConfig: () => Promise<unknown>;
}

export type ScheduleResult = 'queued' | 'duplicate' | 'draft' | 'already-reviewed';

/** A check run in progress longer than this is considered abandoned (e.g. the App restarted). */
const STALE_IN_PROGRESS_MS = 15 * 60 * 1000;

export class ReviewScheduler {
  readonly #services: Services;
  /** Heads being reviewed right now by this process: re-deliveries arriving meanwhile are dropped. */
  readonly #inFlight = new Set<string>();

  constructor(services: Services) {
    this.#services = services;
  }

  async loadConfig(req: Pick<ScheduleRequest, 'loadConfig' | 'log'>): Promise<LoadedConfig> {
    let raw: unknown;
    try {
      raw = await req.loadConfig();
    } catch (err) {
      req.log.warn({ err }, 'could not read .github/kmap-review.yml');
      const loaded = parseConfig(null);
      const msg = err instanceof Error ? err.message.split('\n')[0]! : String(err);
      return { ...loaded, source: 'file', problems: [`could not be read: ${msg}`] };
    }
    const catalog = await this.#services.rules();
    return parseConfig(raw, catalog.ids());
  }

  async schedule(req: ScheduleRequest): Promise<ScheduleResult> {
    const { octokit, log, pr } = req;
    const key = `${pr.owner}/${pr.repo}@${pr.headSha}`;
    if (this.#inFlight.has(key) && !req.force) {
      log.info({ key }, 'review of this head already in progress: skipping');
      return 'duplicate';
    }
    this.#inFlight.add(key);
    let queued = false;
    try {
      const loaded = await this.loadConfig(req);
      if (pr.draft && !loaded.config.drafts && !req.force) {
        log.info({ key }, 'draft pull request: skipped (set `drafts: true` to analyse drafts)');
        return 'draft';
      }
      if (!req.force) {
        const existing = await findCheckRun(octokit, pr.owner, pr.repo, pr.headSha);
        const fresh = existing?.status !== 'completed' && existing?.startedAt &&
          Date.now() - Date.parse(existing.startedAt) < STALE_IN_PROGRESS_MS;
        if (existing && (existing.status === 'completed' ? existing.conclusion !== 'cancelled' : fresh)) {
          log.info({ key, checkRun: existing.id }, 'this head was already reviewed: skipping');
          return 'already-reviewed';
        }
      }
      const checkRunId = await startCheckRun(octokit, pr.owner, pr.repo, pr.headSha, req.trigger);
      this.#services.queue.push(`${pr.owner}/${pr.repo}#${pr.pullNumber}`, async () => {
        try {
          await this.#review(octokit, log, pr, checkRunId, loaded);
        } finally {
          this.#inFlight.delete(key);
        }
      });
      queued = true;
      return 'queued';
    } finally {
      if (!queued) this.#inFlight.delete(key);
    }
  }

  async #review(octokit: GitHub, log: Logger, pr: PullRef, checkRunId: number, loaded: LoadedConfig): Promise<void> {
    const started = Date.now();
    try {
      const catalog = await this.#services.rules();
      const collected = await collectPullRequest(octokit, pr, loaded.config);
      const report = await this.#services.runner.analyze(collected.changeSet, toEngineConfig(loaded.config));
      const inline = await publishReview(octokit, log, { pr, report, collected, config: loaded.config, rules: catalog.find });
      const out = renderCheckRun({
        report, headSha: pr.headSha, conclusionPolicy: loaded.config.conclusion, configProblems: loaded.problems,
        ignoredFiles: collected.ignoredFiles, notes: collected.notes, inline,
      });
      await completeCheckRun(octokit, pr.owner, pr.repo, checkRunId, out);
      log.info({ pr: pr.pullNumber, sha: pr.headSha, findings: report.findings.length, posted: inline.posted,
        conclusion: out.conclusion, ms: Date.now() - started }, 'kmap-review done');
    } catch (err) {
      log.error({ err, pr: pr.pullNumber, sha: pr.headSha }, 'kmap-review failed');
      const reason = err instanceof Error ? err.message.split('\n')[0]! : String(err);
      await failCheckRun(octokit, log, pr.owner, pr.repo, checkRunId, pr.headSha, reason);
    }
  }
}
