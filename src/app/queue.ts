/**
 * The embedded job queue: webhook handlers enqueue and return, so GitHub gets its answer at once.
 * Jobs with the same key (one pull request) run one after another, in order; at most `concurrency` jobs
 * run at a time overall. Work is in memory: a restart loses queued jobs (a maintainer re-runs the check).
 */
export interface QueueLogger {
  error(obj: unknown, msg?: string): void;
}

export type Job = () => Promise<void>;

export class JobQueue {
  readonly #concurrency: number;
  readonly #log: QueueLogger | undefined;
  /** Pending jobs per key, in order; a key is present while one of its jobs runs. */
  readonly #byKey = new Map<string, Job[]>();
  readonly #ready: string[] = [];
  #running = 0;
  #idleWaiters: (() => void)[] = [];

  constructor(options: { concurrency?: number; log?: QueueLogger } = {}) {
    this.#concurrency = Math.max(1, options.concurrency ?? 2);
    this.#log = options.log;
  }

  /** Adds a job; it runs after the earlier jobs with the same key. Errors are logged, never thrown. */
  push(key: string, job: Job): void {
    const pending = this.#byKey.get(key);
    if (pending) {
      pending.push(job);
      return;
    }
    this.#byKey.set(key, [job]);
    this.#ready.push(key);
    this.#pump();
  }

  get size(): number {
    let n = 0;
    for (const jobs of this.#byKey.values()) n += jobs.length;
    return n + this.#running;
  }

  /** Resolves when nothing is queued or running (tests, graceful shutdown). */
  onIdle(): Promise<void> {
    if (this.#running === 0 && this.#byKey.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.#idleWaiters.push(resolve));
  }

  #pump(): void {
    while (this.#running < this.#concurrency && this.#ready.length > 0) {
      const key = this.#ready.shift()!;
      const jobs = this.#byKey.get(key)!;
      const job = jobs.shift()!;
      this.#running++;
      void (async () => {
        try {
          await job();
        } catch (err) {
          this.#log?.error({ err, key }, 'queued job failed');
        } finally {
          this.#running--;
          if (jobs.length > 0) this.#ready.push(key);
          else this.#byKey.delete(key);
          this.#pump();
          if (this.#running === 0 && this.#byKey.size === 0) {
            for (const w of this.#idleWaiters.splice(0)) w();
          }
        }
      })();
    }
  }
}
