/**
 * Tree scans as queue jobs: a scan travels through the review queue as a job of kind 'tree' with pull
 * number 0, so one scan per repository runs at a time and a newer push replaces a pending one.
 */
import type { Context } from 'probot';
import { addOrForget } from '../enqueue.js';
import type { ReviewJob } from '../queue/types.js';
import type { ReviewScheduler, ScheduleResult } from '../scheduler.js';

export interface TreeRequest {
  installationId: number | null;
  owner: string;
  repo: string;
  headSha: string;
  /** The default branch's previous head (the push's `before`), for the trend; null when none. */
  before: string | null;
  trigger: string;
  force: boolean;
  deliveryId: string;
  /** When the push happened (ms): orders pushes that arrive out of order. */
  updatedAt: number;
}

/** A push's `before` for a new branch: no previous head. */
export const ZERO_SHA = /^0+$/;

export function treeJob(r: TreeRequest): ReviewJob {
  return {
    kind: 'tree', installationId: r.installationId, owner: r.owner, repo: r.repo, pullNumber: 0,
    headSha: r.headSha, baseSha: r.before && !ZERO_SHA.test(r.before) ? r.before : '', draft: false,
    updatedAt: r.updatedAt, trigger: r.trigger, force: r.force, deliveryId: r.deliveryId, attempt: 1,
  };
}

export function isTreeJob(job: ReviewJob): boolean {
  return job.kind === 'tree';
}

type AnyContext = Pick<Context, 'id' | 'log' | 'payload'>;

/**
 * Deduplicates the delivery (under its own key: the PR handlers of the same event, e.g.
 * check_suite.rerequested, mark the plain delivery id) and enqueues the scan.
 */
export async function enqueueTreeScan(context: AnyContext, scheduler: ReviewScheduler, req: Omit<TreeRequest, 'installationId' | 'deliveryId'>): Promise<ScheduleResult | 'duplicate-delivery'> {
  if (!(await scheduler.firstDelivery(`${context.id}:tree`))) {
    context.log.info({ delivery: context.id }, 'duplicate delivery: dropped');
    return 'duplicate-delivery';
  }
  const inst = (context.payload as { installation?: { id?: unknown } | null }).installation;
  const result = await addOrForget(scheduler, `${context.id}:tree`, () => scheduler.queue.add(treeJob({ ...req, installationId: typeof inst?.id === 'number' ? inst.id : null, deliveryId: context.id })));
  context.log.info({ repo: `${req.owner}/${req.repo}`, sha: req.headSha, result }, 'tree scan enqueued');
  return result;
}
