/**
 * The handlers' side of the queue: turns an event into a review job and enqueues it. No GitHub call
 * happens here, so a webhook is answered in milliseconds whatever the analysis is doing; the worker
 * (review-job.ts) reads the configuration, starts the check run, analyses and posts.
 */
import type { RuleLookup } from '../comments/review.js';
import type { PullRef } from './collect.js';
import type { AddResult, WorkQueue } from './queue/types.js';

export interface RuleCatalog {
  find: RuleLookup;
  ids(): string[];
}

export interface PullRequestState extends PullRef {
  draft: boolean;
  /** The pull request's `updated_at` in ms (orders events that arrive out of order); 0 if unknown. */
  updatedAt: number;
}

export interface ScheduleRequest {
  /** payload.installation.id; null when the App runs with a plain token (`probot receive`). */
  installationId: number | null;
  /** X-GitHub-Delivery. */
  deliveryId: string;
  pr: PullRequestState;
  /** What started it, for the logs and the in-progress summary ("pull_request.synchronize"). */
  trigger: string;
  /** Re-run even if this head was already reviewed, and even for a draft (recheck, Re-run). */
  force: boolean;
}

export type ScheduleResult = AddResult;

export class ReviewScheduler {
  constructor(readonly queue: WorkQueue) {}

  /** False when this delivery id was already handled (GitHub's Redeliver, a proxy's retry). */
  firstDelivery(deliveryId: string): Promise<boolean> {
    return this.queue.firstDelivery(deliveryId);
  }

  schedule(req: ScheduleRequest): Promise<ScheduleResult> {
    const { pr } = req;
    return this.queue.add({
      installationId: req.installationId,
      owner: pr.owner, repo: pr.repo, pullNumber: pr.pullNumber, headSha: pr.headSha, baseSha: pr.baseSha,
      draft: pr.draft, updatedAt: pr.updatedAt, trigger: req.trigger, force: req.force, deliveryId: req.deliveryId,
      attempt: 1,
    });
  }
}

/** A refused event: the handler throws it and the server answers 503 (GitHub shows a failed delivery). */
export class BacklogFull extends Error {
  readonly status = 503;
  constructor() {
    super('kmap-review is overloaded: the review queue is full');
    this.name = 'BacklogFull';
  }
}
