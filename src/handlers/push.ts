/**
 * The repo-wide status (`kmap-review / tree`): a push to the default branch, a check suite requested or
 * re-requested on it, and Re-run / the run's button on a tree check run queue a scan of that commit.
 */
import type { Context, Probot } from 'probot';
import { RECHECK_ACTION } from '../app/check-runs.js';
import type { ReviewScheduler } from '../app/scheduler.js';
import { TREE_CHECK_NAME } from '../app/tree/check-run.js';
import { enqueueTreeScan } from '../app/tree/jobs.js';

const ZERO = /^0+$/;

function time(v: unknown): number {
  if (typeof v === 'number') return v < 1e12 ? v * 1000 : v; // push payloads give pushed_at in seconds
  const t = typeof v === 'string' ? Date.parse(v) : NaN;
  return Number.isFinite(t) ? t : Date.now();
}

export function registerTreeEvents(app: Probot, scheduler: ReviewScheduler): void {
  app.on('push', async (context: Context<'push'>) => {
    const p = context.payload;
    const branch = p.repository.default_branch;
    if (p.deleted || !p.after || ZERO.test(p.after) || p.ref !== `refs/heads/${branch}`) return;
    const { owner, repo } = context.repo();
    await enqueueTreeScan(context, scheduler, {
      owner, repo, headSha: p.after, before: p.before, trigger: `push to ${branch}`, force: false, updatedAt: time(p.repository.pushed_at),
    });
  });

  app.on(['check_suite.requested', 'check_suite.rerequested'], async (context: Context<'check_suite'>) => {
    const suite = context.payload.check_suite;
    const branch = context.payload.repository.default_branch;
    if (suite.head_branch !== branch) return;
    const { owner, repo } = context.repo();
    const rerun = context.payload.action === 'rerequested';
    await enqueueTreeScan(context, scheduler, {
      owner, repo, headSha: suite.head_sha, before: suite.before, trigger: `check_suite.${context.payload.action}`,
      force: rerun, updatedAt: time(suite.updated_at),
    });
  });

  app.on(['check_run.rerequested', 'check_run.requested_action'], async (context: Context<'check_run'>) => {
    const run = context.payload.check_run;
    if (run.name !== TREE_CHECK_NAME) return;
    if (context.payload.action === 'requested_action' && context.payload.requested_action?.identifier !== RECHECK_ACTION.identifier) return;
    const { owner, repo } = context.repo();
    await enqueueTreeScan(context, scheduler, {
      owner, repo, headSha: run.head_sha, before: run.check_suite?.before ?? null, trigger: `check_run.${context.payload.action}`,
      force: true, updatedAt: Date.now(),
    });
  });
}
