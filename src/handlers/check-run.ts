/**
 * The Checks tab: "Re-run" (check_run.rerequested, check_suite.rerequested) and the check run's
 * "Re-run kmap-review" button (check_run.requested_action) review the pull request's current head again.
 * The handler only enqueues a command job with the commit and the pull requests the event names: the job
 * (src/app/command-job.ts) finds the open pull requests of the commit when the event names none (a fork),
 * reads each one's current head and schedules the forced review. No GitHub call happens here.
 */
import type { Context, Probot } from 'probot';
import { RECHECK_ACTION } from '../app/check-runs.js';
import { CHECK_NAME } from '../config/repo-config.js';
import { enqueueCommand, firstDelivery } from '../app/enqueue.js';
import type { ReviewScheduler } from '../app/scheduler.js';

async function recheck(
  context: Context<'check_run' | 'check_suite'>, scheduler: ReviewScheduler, sha: string, known: { number: number }[], trigger: string,
): Promise<void> {
  if (!(await firstDelivery(context, scheduler))) return;
  const { owner, repo } = context.repo();
  const pullNumbers = [...new Set(known.map((p) => p.number))];
  await enqueueCommand(context, scheduler, {
    owner, repo, pullNumber: pullNumbers[0] ?? 0, headSha: sha, trigger, command: { type: 'rerun', pullNumbers },
  });
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
