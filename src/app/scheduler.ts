/**
 * The handlers' side of the queue: turns an event into a job and enqueues it. No GitHub call happens
 * here, nor in any handler, so a webhook is answered in milliseconds whatever the analysis is doing:
 * - a review job: the worker (review-job.ts) reads the configuration, starts the check run, analyses and posts;
 * - a command job (comment commands, Checks re-runs): the worker (command-job.ts) reacts, checks the
 *   commenter's permission, replies, looks up the pull request(s) and schedules the forced review here,
 *   through `schedule()`, so supersede and locking stay keyed by pull request.
 */
import type { RuleLookup } from '../comments/review.js';
import type { PullRef } from './collect.js';
import type { AddResult, CommandPayload, WorkQueue } from './queue/types.js';

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

export interface CommandRequest {
  installationId: number | null;
  /** X-GitHub-Delivery: part of the command job's queue key. */
  deliveryId: string;
  owner: string;
  repo: string;
  /** The pull request of a comment command; for a re-run the first one the event named, or 0. */
  pullNumber: number;
  /** The re-run's commit; '' for a comment command (the worker reads the current head). */
  headSha: string;
  /** "/kmap-review recheck by @x", "check_run.rerequested": becomes the forced review's trigger. */
  trigger: string;
  command: CommandPayload;
}

export class ReviewScheduler {
  constructor(readonly queue: WorkQueue) {}

  /** False when this delivery id was already handled (GitHub's Redeliver, a proxy's retry). */
  firstDelivery(deliveryId: string): Promise<boolean> {
    return this.queue.firstDelivery(deliveryId);
  }

  forgetDelivery(deliveryId: string): Promise<void> {
    return this.queue.forgetDelivery(deliveryId);
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

  /** Enqueues a command job (its own queue key: it never replaces or supersedes a review). */
  scheduleCommand(req: CommandRequest): Promise<ScheduleResult> {
    return this.queue.add({
      kind: 'command', installationId: req.installationId, owner: req.owner, repo: req.repo, pullNumber: req.pullNumber,
      headSha: req.headSha, baseSha: '', draft: false, updatedAt: 0, trigger: req.trigger, force: false,
      deliveryId: req.deliveryId, attempt: 1, command: req.command,
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
