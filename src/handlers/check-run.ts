/**
 * The Checks tab: "Re-run" (check_run.rerequested, check_suite.rerequested) and the check run's
 * "Re-run kmap-review" button (check_run.requested_action) review the pull request's current head again.
 */
import type { Context, Probot } from 'probot';
import { RECHECK_ACTION } from '../app/check-runs.js';
import { CHECK_NAME } from '../app/config.js';
import { enqueueReview, firstDelivery } from '../app/enqueue.js';
import { currentPull, pullsForSha } from '../app/pull-state.js';
import type { ReviewScheduler } from '../app/scheduler.js';

async function recheck(
  context: Context<'check_run' | 'check_suite'>, scheduler: ReviewScheduler, sha: string, known: { number: number }[], trigger: string,
): Promise<void> {
  if (!(await firstDelivery(context, scheduler))) return;
  const { owner, repo } = context.repo();
  const numbers = await pullsForSha(context.octokit, owner, repo, sha, known);
  if (numbers.length === 0) context.log.info({ sha }, 'no open pull request for this commit: nothing to re-run');
  for (const n of numbers) {
    const pr = await currentPull(context.octokit, owner, repo, n);
    if (!pr) continue;
    await enqueueReview(context, scheduler, pr, trigger, true);
  }
}

export function registerCheckRun(app: Probot, scheduler: ReviewScheduler): void {
  app.on('check_run.rerequested', async (context) => {
    const run = context.payload.check_run;
    if (run.name !== CHECK_NAME) return;
    await recheck(context, scheduler, run.head_sha, run.pull_requests, 'check_run.rerequested');
  });
  app.on('check_run.requested_action', async (context) => {
    const run = context.payload.check_run;
    if (run.name !== CHECK_NAME || context.payload.requested_action?.identifier !== RECHECK_ACTION.identifier) return;
    await recheck(context, scheduler, run.head_sha, run.pull_requests, 'check_run.requested_action');
  });
  app.on('check_suite.rerequested', async (context) => {
    const suite = context.payload.check_suite;
    await recheck(context, scheduler, suite.head_sha, suite.pull_requests, 'check_suite.rerequested');
  });
}
