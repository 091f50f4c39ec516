/**
 * The work queue between the webhook handlers (which validate and enqueue) and the workers (which
 * analyse and post). Two backends share this interface: `EmbeddedQueue` (in process, nothing to set up)
 * and `BullMqQueue` (Redis: several App instances share the work and jobs survive a restart).
 *
 * Jobs are keyed by repository + pull request. A newer head supersedes pending work for an older one, a
 * delivery id is accepted once, and one pull request is reviewed by one worker at a time. Command jobs
 * (kind 'command') are the exception: each has its own key (the pull request's plus its delivery id), so
 * it neither supersedes nor is deduplicated against the reviews of its pull request; the review it may
 * schedule goes through the pull request's key like any other.
 */

/**
 * What a webhook handler hands to the command worker (command-job.ts), as plain JSON:
 * - 'comment': `/kmap-review VERB [ARG]` in a pull-request comment (the job's pullNumber is the PR);
 * - 'rerun': the Checks tab's Re-run or the check run's button on the job's headSha, with the pull
 *   requests the event named (empty for a fork: the worker looks them up by head SHA).
 */
export type CommandPayload =
  | {
    type: 'comment';
    verb: string;
    arg?: string;
    commentId: number;
    /** The commenter, whose permission `recheck` needs. */
    login: string;
    /** The comment's created_at (ISO): a resumed job looks for its reply among the comments since. */
    createdAt?: string;
  }
  | { type: 'rerun'; pullNumbers: number[] };

/** Everything a worker needs, as plain JSON (it goes through Redis). */
export interface ReviewJob {
  /**
   * 'tree': the repo-wide scan of a default-branch commit (tree-check.ts; pullNumber 0, baseSha = the push's `before`).
   * 'command': a comment command or a Checks re-run (command-job.ts; `command` says which).
   */
  kind?: 'review' | 'tree' | 'command';
  installationId: number | null;
  owner: string;
  repo: string;
  pullNumber: number;
  headSha: string;
  baseSha: string;
  draft: boolean;
  /**
   * The pull request's `updated_at` (ms) when the event was sent: events can arrive out of order, so the
   * newest head is the one with the latest time, not the last to arrive. 0 when unknown (recovery).
   */
  updatedAt: number;
  /** What started it ("pull_request.synchronize", "/kmap-review recheck by @x", "recovery"). */
  trigger: string;
  /** Review even if this head already has a completed check run, and even a draft. */
  force: boolean;
  /** X-GitHub-Delivery of the event (or a synthetic id for recovery). */
  deliveryId: string;
  /** 1 for the first run; retries increment it. */
  attempt?: number;
  /** Kind 'command' only. */
  command?: CommandPayload;
}

export type AddResult =
  | 'queued'
  /** The same head is already pending or running. */
  | 'duplicate'
  /** An event older than the newest one seen for this pull request (arrived out of order). */
  | 'stale'
  /** The backlog is full: the event is refused (the handler answers 503, GitHub shows a failed delivery). */
  | 'backlog-full';

export interface JobContext {
  /** 1-based; the job decides on its last attempt to report failure instead of asking for a retry. */
  attempt: number;
  maxAttempts: number;
  /**
   * The job may have run before (a retry, or a re-run after its worker died) and left a check run in
   * progress: even a superseded job must then look for it and complete it.
   */
  resumed: boolean;
  /** True once a newer head of the same pull request was enqueued: stop and say so. */
  isSuperseded(): Promise<boolean>;
}

/** Runs one job. Throw `RetryLater` to be run again after a delay; any other error is logged and dropped. */
export type JobProcessor = (job: ReviewJob, ctx: JobContext) => Promise<void>;

export interface QueueLogger {
  info(obj: unknown, msg?: string): void;
  warn(obj: unknown, msg?: string): void;
  error(obj: unknown, msg?: string): void;
}

export interface QueueStats {
  pending: number;
  running: number;
  delayed: number;
}

export interface WorkQueue {
  readonly kind: 'embedded' | 'redis';
  /** True the first time a delivery id is seen (GitHub's "Redeliver" and retries send the same id). */
  firstDelivery(deliveryId: string): Promise<boolean>;
  /**
   * Forgets a delivery id again: an event the queue refused (full, or Redis failing) is answered with an
   * error, and GitHub's redelivery of it must then be taken, not dropped as a duplicate.
   */
  forgetDelivery(deliveryId: string): Promise<void>;
  add(job: ReviewJob): Promise<AddResult>;
  /** Starts the workers; jobs added before wait for it. */
  start(processor: JobProcessor): void;
  /** Resolves when nothing is pending, running or waiting for a retry (tests, graceful shutdown). */
  onIdle(): Promise<void>;
  stats(): Promise<QueueStats>;
  close(): Promise<void>;
}

export function isCommandJob(job: Pick<ReviewJob, 'kind'>): boolean {
  return job.kind === 'command';
}

/**
 * The queue key: the pull request (`owner/repo#n`; #0 for the repository's tree scan), so pending work
 * for it is replaced and one job per pull request runs at a time. A command job's key adds its delivery
 * id: it is independent of the pull request's reviews (see the header).
 */
export function pullKey(job: Pick<ReviewJob, 'owner' | 'repo' | 'pullNumber'> & Partial<Pick<ReviewJob, 'kind' | 'deliveryId'>>): string {
  const key = `${job.owner}/${job.repo}#${job.pullNumber}`;
  return job.kind === 'command' ? `${key}!command:${job.deliveryId ?? ''}` : key;
}
