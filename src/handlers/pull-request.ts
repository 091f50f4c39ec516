/** pull_request opened / synchronize / reopened / ready_for_review → a review of the head commit, queued. */
import type { Context, Probot } from 'probot';
import { enqueueReview, firstDelivery } from '../app/enqueue.js';
import { pullState } from '../app/pull-state.js';
import type { ReviewScheduler } from '../app/scheduler.js';

export const PULL_REQUEST_EVENTS = [
  'pull_request.opened',
  'pull_request.synchronize',
  'pull_request.reopened',
  'pull_request.ready_for_review',
] as const;

export function registerPullRequest(app: Probot, scheduler: ReviewScheduler): void {
  app.on([...PULL_REQUEST_EVENTS], async (context: Context<'pull_request'>) => {
    if (!(await firstDelivery(context, scheduler))) return;
    const { owner, repo } = context.repo();
    const pr = context.payload.pull_request;
    const result = await enqueueReview(context, scheduler, pullState(owner, repo, pr), `pull_request.${context.payload.action}`, false);
    context.log.info({ pr: pr.number, result }, 'pull_request handled');
  });
}
