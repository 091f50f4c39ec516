/**
 * The life cycle every check-run job shares: the pull request review (review-job.ts) and the tree scan
 * (tree-job.ts). A job is idempotent: it reuses the head's in-progress run (its own, from an earlier
 * attempt, or one a crash left behind), skips a head already done, cancels its run when a newer head
 * supersedes it, and on its last failed attempt completes the run with the reason instead of leaving it
 * spinning. What differs between the jobs (which check run, what the work is) comes in a CheckJobSpec.
 */
import type { Logger } from 'probot';
import type { ExistingCheck } from './check-runs.js';
import type { GitHub } from './collect.js';
import type { JobContext, ReviewJob } from './queue/types.js';
import { classifyError, retryLaterOrGiveUp, withRetry, type RetryPolicy } from './retry.js';

/** Thrown by a job's work when a newer head arrived: the skeleton cancels the run and stops. */
export class Superseded extends Error {}

/** Throws Superseded once the queue says a newer head was enqueued. */
export async function stopIfSuperseded(ctx: Pick<JobContext, 'isSuperseded'>): Promise<void> {
  if (await ctx.isSuperseded()) throw new Superseded();
}

/** One kind of check run: how it is found, started, completed as failed and as cancelled. */
export interface CheckRunKind {
  find(octokit: GitHub, job: ReviewJob): Promise<Pick<ExistingCheck, 'id' | 'status' | 'conclusion'> | undefined>;
  start(octokit: GitHub, job: ReviewJob): Promise<number>;
  fail(octokit: GitHub, job: ReviewJob, checkRunId: number, reason: string, log: Logger): Promise<void>;
  cancel(octokit: GitHub, job: ReviewJob, checkRunId: number): Promise<void>;
}

export interface CheckJobServices {
  /** An installation's client (Probot's app.auth), with the App's request timeout. */
  octokitFor: (installationId: number | null) => Promise<GitHub>;
  retry: RetryPolicy;
  /** Waits between requests of the failure report (tests pass a recorder). */
  sleep?: (ms: number) => Promise<void>;
}

export interface CheckJobWork<S> {
  octokit: GitHub;
  checkRunId: number;
  log: Logger;
  /** What `prepare` returned. */
  state: S;
}

export interface CheckJobSpec<S, O extends string> {
  /** The job in the logs ("kmap-review", "kmap-review tree scan"). */
  what: string;
  run: CheckRunKind;
  /** The outcome for a head whose run is already completed (and not cancelled). */
  alreadyDone: O;
  /** Before the run is looked at; `{ stop }` ends the job there (a draft). */
  prepare?: (octokit: GitHub, log: Logger) => Promise<{ stop: O } | { state: S }>;
  /** The job's work with its run in progress; the outcome it returns is the job's. May throw Superseded. */
  work: (w: CheckJobWork<S>) => Promise<O>;
}

const SHORT_RETRIES = (retry: RetryPolicy): RetryPolicy => ({ attempts: 3, baseDelayMs: Math.min(1000, retry.baseDelayMs), maxDelayMs: 10_000 });

/** What every check-run job can end with besides its own outcomes. */
export type CommonOutcome = 'superseded' | 'failed';

export async function runCheckJob<S, O extends string>(spec: CheckJobSpec<S, O>, job: ReviewJob, ctx: JobContext, s: CheckJobServices, log: Logger): Promise<O | CommonOutcome> {
  if (await ctx.isSuperseded()) {
    log.info(`${spec.what}: superseded by a newer head before it started: skipped`);
    if (ctx.resumed) await closeLeftover(spec, job, s, log);
    return 'superseded';
  }
  let octokit: GitHub | undefined;
  let checkRunId: number | undefined;
  try {
    octokit = await s.octokitFor(job.installationId);
    const prepared = spec.prepare ? await spec.prepare(octokit, log) : { state: undefined as S };
    if ('stop' in prepared) return prepared.stop;
    const existing = await spec.run.find(octokit, job);
    if (!job.force && existing?.status === 'completed' && existing.conclusion !== 'cancelled') {
      log.info({ checkRun: existing.id }, `${spec.what}: this head is already done: skipping`);
      return spec.alreadyDone;
    }
    checkRunId = existing && existing.status !== 'completed' ? existing.id : await spec.run.start(octokit, job);
    return await spec.work({ octokit, checkRunId, log, state: prepared.state });
  } catch (err) {
    if (err instanceof Superseded) {
      log.info(`${spec.what}: superseded by a newer head: stopping`);
      if (octokit && checkRunId !== undefined) {
        // Never left in progress: the cancel is retried like every request; if GitHub still refuses it, the
        // run is completed the way a failure is (reportFailure), not abandoned.
        const [o, id] = [octokit, checkRunId];
        try {
          await withRetry(() => spec.run.cancel(o, job, id), SHORT_RETRIES(s.retry), s.sleep);
        } catch (e) {
          log.warn({ err: e }, `${spec.what}: could not cancel the superseded check run: completing it as not finished`);
          await reportFailure(spec, job, s, o, id, 'a newer commit arrived while this one was reviewed, and the run could not be cancelled', log, classifyError(e).retryAfterMs);
        }
      }
      return 'superseded';
    }
    const classified = classifyError(err);
    const reason = retryLaterOrGiveUp(err, ctx, s.retry, log, spec.what, classified);
    await reportFailure(spec, job, s, octokit, checkRunId, reason, log, classified.retryAfterMs);
    return 'failed';
  }
}

/** A superseded job that ran before may have left its check run in progress: complete it. */
async function closeLeftover<S, O extends string>(spec: CheckJobSpec<S, O>, job: ReviewJob, s: CheckJobServices, log: Logger): Promise<void> {
  try {
    const octokit = await s.octokitFor(job.installationId);
    await withRetry(async () => {
      const existing = await spec.run.find(octokit, job);
      if (existing && existing.status !== 'completed') await spec.run.cancel(octokit, job, existing.id);
    }, SHORT_RETRIES(s.retry));
  } catch (err) {
    log.warn({ err }, `${spec.what}: could not complete the superseded check run`);
  }
}

/**
 * Never leaves the check run in progress: completes it (creating it if needed) with the reason. When a
 * rate limit ended the last attempt, its Retry-After is honoured before the first request of this report
 * too (capped like every retry delay, at least 10 s allowed), as withRetry honours it between requests.
 */
async function reportFailure<S, O extends string>(
  spec: CheckJobSpec<S, O>, job: ReviewJob, s: CheckJobServices, octokit: GitHub | undefined, checkRunId: number | undefined,
  reason: string, log: Logger, retryAfterMs?: number,
): Promise<void> {
  if (!octokit) return;
  const policy = SHORT_RETRIES(s.retry);
  const sleep = s.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  try {
    if (retryAfterMs !== undefined && retryAfterMs > 0) {
      const wait = Math.min(retryAfterMs, Math.max(policy.maxDelayMs, s.retry.maxDelayMs));
      log.info({ delayMs: wait }, 'waiting for the rate limit before reporting the failure');
      await sleep(wait);
    }
    const id = checkRunId ?? (await withRetry(async () => {
      const existing = await spec.run.find(octokit, job);
      return existing && existing.status !== 'completed' ? existing.id : spec.run.start(octokit, job);
    }, policy, sleep));
    await withRetry(() => spec.run.fail(octokit, job, id, reason, log), policy, sleep);
  } catch (err) {
    // Left in progress only if GitHub refuses even this; the recovery at the next start completes it.
    log.error({ err }, `${spec.what}: could not complete the check run with the failure`);
  }
}
