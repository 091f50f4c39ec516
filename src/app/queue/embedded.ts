/**
 * The embedded queue: in process, nothing to set up. At most `concurrency` pull requests are reviewed at
 * once, one job at a time per pull request, and at most `maxBacklog` jobs wait (more are refused rather
 * than growing memory without bound). A pull request has at most one pending job: a newer head replaces
 * the pending one, and a running job for an older head sees `isSuperseded()`.
 *
 * Command jobs (comment commands, Checks re-runs) have a key of their own, the pull request's plus the
 * delivery id (pullKey): they share the concurrency and the backlog but never replace, supersede or
 * deduplicate a review of their pull request.
 *
 * Work lives in memory: a crash loses what was pending. Check runs left in progress are completed as
 * cancelled, with a re-run button, by the recovery at the next start (recovery.ts).
 */
import { RetryLater } from '../retry.js';
import {
  isCommandJob, pullKey, type AddResult, type JobProcessor, type QueueLogger, type QueueStats, type ReviewJob, type WorkQueue,
} from './types.js';

export interface EmbeddedQueueOptions {
  concurrency?: number;
  maxBacklog?: number;
  maxAttempts?: number;
  /** Delivery ids remembered for de-duplication. */
  deliveryMemory?: number;
  log?: QueueLogger;
}

interface Delayed {
  job: ReviewJob;
  timer: NodeJS.Timeout;
}

export class EmbeddedQueue implements WorkQueue {
  readonly kind = 'embedded' as const;
  readonly #concurrency: number;
  readonly #maxBacklog: number;
  readonly #maxAttempts: number;
  readonly #deliveryMemory: number;
  readonly #log: QueueLogger | undefined;
  #processor: JobProcessor | undefined;
  readonly #pending = new Map<string, ReviewJob>();
  readonly #ready: string[] = [];
  readonly #running = new Map<string, ReviewJob>();
  readonly #delayed = new Map<string, Delayed>();
  /** The newest head enqueued per pull request (by the event's time), for `isSuperseded()`. */
  readonly #latest = new Map<string, { sha: string; t: number }>();
  readonly #deliveries = new Set<string>();
  #idleWaiters: (() => void)[] = [];
  #closed = false;
  /** Clean-up runs of superseded jobs that had started before (see #cleanup). */
  #detached = 0;

  constructor(options: EmbeddedQueueOptions = {}) {
    this.#concurrency = Math.max(1, options.concurrency ?? 2);
    this.#maxBacklog = Math.max(1, options.maxBacklog ?? 1000);
    this.#maxAttempts = Math.max(1, options.maxAttempts ?? 4);
    this.#deliveryMemory = Math.max(1, options.deliveryMemory ?? 10_000);
    this.#log = options.log;
  }

  async firstDelivery(deliveryId: string): Promise<boolean> {
    if (this.#deliveries.has(deliveryId)) return false;
    this.#deliveries.add(deliveryId);
    // A Set iterates in insertion order: drop the oldest ids beyond the memory.
    while (this.#deliveries.size > this.#deliveryMemory) this.#deliveries.delete(this.#deliveries.values().next().value!);
    return true;
  }

  async forgetDelivery(deliveryId: string): Promise<void> {
    this.#deliveries.delete(deliveryId);
  }

  async add(job: ReviewJob): Promise<AddResult> {
    if (this.#closed) return 'backlog-full';
    const key = pullKey(job);
    const latest = this.#latest.get(key);
    if (latest && latest.sha !== job.headSha && job.updatedAt < latest.t) return 'stale';
    const running = this.#running.get(key);
    const pending = this.#pending.get(key);
    if (running && running.headSha === job.headSha && !job.force && !pending) return 'duplicate';
    if (pending) {
      if (pending.headSha === job.headSha && (!job.force || pending.force)) return 'duplicate';
      // A newer head (or a forced recheck of the same one) replaces the pending job: only the latest counts.
      this.#pending.set(key, { ...job, force: job.force || (pending.headSha === job.headSha && pending.force) });
      this.#latest.set(key, { sha: job.headSha, t: Math.max(job.updatedAt, latest?.t ?? 0) });
      return 'queued';
    }
    const delayed = this.#delayed.get(key);
    if (delayed) {
      if (delayed.job.headSha === job.headSha && !job.force) return 'duplicate';
      clearTimeout(delayed.timer);
      this.#delayed.delete(key);
      if (delayed.job.headSha !== job.headSha) this.#cleanup(delayed.job);
    }
    if (this.#pending.size + this.#delayed.size >= this.#maxBacklog) {
      this.#log?.warn({ key, backlog: this.#pending.size }, 'review backlog full: event refused');
      return 'backlog-full';
    }
    this.#latest.set(key, { sha: job.headSha, t: Math.max(job.updatedAt, latest?.t ?? 0) });
    this.#pending.set(key, job);
    if (!this.#running.has(key)) this.#ready.push(key);
    this.#pump();
    return 'queued';
  }

  start(processor: JobProcessor): void {
    this.#processor = processor;
    this.#pump();
  }

  async stats(): Promise<QueueStats> {
    return { pending: this.#pending.size, running: this.#running.size, delayed: this.#delayed.size };
  }

  onIdle(): Promise<void> {
    if (this.#isIdle()) return Promise.resolve();
    return new Promise((resolve) => this.#idleWaiters.push(resolve));
  }

  /** Stops taking work, drops pending and delayed jobs, waits for running ones. */
  async close(): Promise<void> {
    this.#closed = true;
    for (const d of this.#delayed.values()) clearTimeout(d.timer);
    this.#delayed.clear();
    this.#pending.clear();
    this.#ready.length = 0;
    await this.onIdle();
  }

  #isIdle(): boolean {
    return this.#running.size === 0 && this.#pending.size === 0 && this.#delayed.size === 0 && this.#detached === 0;
  }

  /**
   * A job waiting for its retry when a newer head arrives has already started once and may have left its
   * check run in progress: it runs once more, told it is superseded, so it completes that run and stops.
   */
  #cleanup(job: ReviewJob): void {
    if (!this.#processor) return;
    const attempt = (job.attempt ?? 1) + 1;
    this.#detached++;
    this.#processor({ ...job, attempt }, { attempt, maxAttempts: this.#maxAttempts, resumed: true, isSuperseded: async () => true })
      .catch((err) => this.#log?.error({ err }, 'clean-up of a superseded job failed'))
      .finally(() => {
        this.#detached--;
        this.#pump();
      });
  }

  #pump(): void {
    if (!this.#processor) return;
    while (this.#running.size < this.#concurrency && this.#ready.length > 0) {
      const key = this.#ready.shift()!;
      const job = this.#pending.get(key);
      if (!job || this.#running.has(key)) continue;
      this.#pending.delete(key);
      this.#running.set(key, job);
      void this.#run(key, job);
    }
    if (this.#isIdle()) for (const w of this.#idleWaiters.splice(0)) w();
  }

  async #run(key: string, job: ReviewJob): Promise<void> {
    const attempt = job.attempt ?? 1;
    try {
      await this.#processor!(job, {
        attempt,
        maxAttempts: this.#maxAttempts,
        resumed: attempt > 1,
        // A command job has a key of its own (types.ts): nothing supersedes it.
        isSuperseded: async () => !isCommandJob(job) && this.#latest.get(key)?.sha !== job.headSha,
      });
    } catch (err) {
      if (err instanceof RetryLater && !this.#closed) this.#retry(key, job, err, attempt);
      else this.#log?.error({ err, key }, 'review job failed');
    } finally {
      this.#running.delete(key);
      if (this.#pending.has(key)) this.#ready.push(key);
      else if (!this.#delayed.has(key)) this.#latest.delete(key);
      this.#pump();
    }
  }

  #retry(key: string, job: ReviewJob, err: RetryLater, attempt: number): void {
    const waiting = this.#pending.get(key);
    if (waiting) {
      // A job for this pull request is waiting: for the same head it covers this one (and reuses its check
      // run); for a newer head, this one only has to complete the check run it started.
      if (waiting.headSha !== job.headSha) this.#cleanup(job);
      return;
    }
    this.#log?.info({ key, attempt, delayMs: err.delayMs, reason: err.reason }, 'review job will be retried');
    const next: ReviewJob = { ...job, attempt: err.countsAsAttempt ? attempt + 1 : attempt };
    const timer = setTimeout(() => {
      this.#delayed.delete(key);
      if (!this.#pending.has(key) && this.#latest.get(key)?.sha === job.headSha) {
        this.#pending.set(key, next);
        if (!this.#running.has(key)) this.#ready.push(key);
      } else if (this.#latest.get(key)?.sha !== job.headSha) {
        this.#cleanup(next);
      }
      this.#pump();
    }, err.delayMs);
    timer.unref();
    this.#delayed.set(key, { job: next, timer });
  }
}
