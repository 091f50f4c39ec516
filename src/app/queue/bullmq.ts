/**
 * The Redis backend (BullMQ): every App instance adds to and works on one queue, so a burst is shared,
 * and jobs survive a restart (a job whose instance died is "stalled" and BullMQ hands it to another
 * worker once its lock expires).
 *
 * What BullMQ does not do is done with a few Redis keys under the same prefix:
 * - `delivery:<id>`: SET NX, so a delivery id is accepted once across instances;
 * - `head:<owner/repo#n>`: the newest head enqueued, so a job for an older head stops (supersede);
 * - `lock:<owner/repo#n>`: one worker per pull request at a time, refreshed while the job runs, so two
 *   instances never post to the same pull request concurrently (the no-duplicate guarantee reads, then
 *   writes). A job that finds the lock taken is delayed without using up an attempt.
 * Job ids are `<owner/repo#n>@<head>` (plus the delivery for forced rechecks): adding the same head twice
 * is a no-op.
 *
 * Command jobs (comment commands, Checks re-runs: command-job.ts) are keyed by pull request and delivery
 * (pullKey), so their job id is unique. They take no `head:` or `lock:` key: nothing supersedes them, a
 * review of the same pull request is not held up by them, and no per-delivery key is left in Redis (the
 * review a command schedules goes through the pull request's keys as usual).
 */
import { randomUUID } from 'node:crypto';
import { DelayedError, Queue, Worker, type ConnectionOptions, type Job } from 'bullmq';
import { RetryLater } from '../retry.js';
import {
  isCommandJob, pullKey, type AddResult, type JobProcessor, type QueueLogger, type QueueStats, type ReviewJob, type WorkQueue,
} from './types.js';

export interface BullMqQueueOptions {
  redisUrl: string;
  /** Queue name; instances sharing work must use the same. */
  name?: string;
  prefix?: string;
  concurrency?: number;
  maxBacklog?: number;
  maxAttempts?: number;
  /** How long a worker's claim on a job (and on its pull request) lasts without renewal. */
  lockMs?: number;
  log?: QueueLogger;
}

/** What the queue needs of an ioredis client. */
interface RedisClientLike {
  set(...args: (string | number)[]): Promise<string | null>;
  get(key: string): Promise<string | null>;
  del(key: string): Promise<number>;
  eval: (script: string, numKeys: number, ...args: (string | number)[]) => Promise<unknown>;
}

export function connectionFromUrl(url: string): ConnectionOptions {
  const u = new URL(url);
  if (u.protocol !== 'redis:' && u.protocol !== 'rediss:') throw new Error(`REDIS_URL must be redis:// or rediss:// (got ${u.protocol})`);
  const db = Number(u.pathname.replace(/^\//, '') || '0');
  return {
    host: u.hostname || '127.0.0.1',
    port: Number(u.port || 6379),
    ...(u.username ? { username: decodeURIComponent(u.username) } : {}),
    ...(u.password ? { password: decodeURIComponent(u.password) } : {}),
    ...(Number.isInteger(db) && db > 0 ? { db } : {}),
    ...(u.protocol === 'rediss:' ? { tls: {} } : {}),
    maxRetriesPerRequest: null,
  };
}

/** Records the newest head by event time; returns 0 when a newer event was already recorded. */
const SET_HEAD = `local nt = tonumber(ARGV[1])
local cur = redis.call('get', KEYS[1])
if cur then
  local sep = string.find(cur, '|', 1, true)
  local t = tonumber(string.sub(cur, 1, sep - 1))
  if string.sub(cur, sep + 1) ~= ARGV[2] and nt < t then return 0 end
  if nt < t then nt = t end
end
redis.call('set', KEYS[1], string.format('%d', nt) .. '|' .. ARGV[2], 'EX', ARGV[3])
return 1`;
const RELEASE = `if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end`;
const RENEW = `if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('pexpire', KEYS[1], ARGV[2]) else return 0 end`;

export class BullMqQueue implements WorkQueue {
  readonly kind = 'redis' as const;
  readonly #queue: Queue<ReviewJob>;
  readonly #connection: ConnectionOptions;
  readonly #name: string;
  readonly #prefix: string;
  readonly #concurrency: number;
  readonly #maxBacklog: number;
  readonly #maxAttempts: number;
  readonly #lockMs: number;
  readonly #log: QueueLogger | undefined;
  #worker: Worker<ReviewJob> | undefined;
  #running = 0;

  constructor(options: BullMqQueueOptions) {
    this.#connection = connectionFromUrl(options.redisUrl);
    this.#name = options.name ?? 'kmap-review';
    this.#prefix = options.prefix ?? 'kmap-review';
    this.#concurrency = Math.max(1, options.concurrency ?? 2);
    this.#maxBacklog = Math.max(1, options.maxBacklog ?? 10_000);
    this.#maxAttempts = Math.max(1, options.maxAttempts ?? 4);
    this.#lockMs = Math.max(1000, options.lockMs ?? 30_000);
    this.#log = options.log;
    this.#queue = new Queue<ReviewJob>(this.#name, { connection: this.#connection, prefix: this.#prefix });
    this.#queue.on('error', (err) => this.#log?.error({ err }, 'redis queue error'));
  }

  /** The queue's Redis connection (shared with the result cache). */
  async client(): Promise<RedisClientLike> {
    return (await this.#queue.client) as unknown as RedisClientLike;
  }

  #k(kind: string, id: string): string {
    return `${this.#prefix}:${this.#name}:kmap:${kind}:${id}`;
  }

  async firstDelivery(deliveryId: string): Promise<boolean> {
    const ok = await (await this.client()).set(this.#k('delivery', deliveryId), '1', 'EX', 7 * 24 * 3600, 'NX');
    return ok === 'OK';
  }

  async forgetDelivery(deliveryId: string): Promise<void> {
    await (await this.client()).del(this.#k('delivery', deliveryId));
  }

  async add(job: ReviewJob): Promise<AddResult> {
    const key = pullKey(job);
    const command = isCommandJob(job);
    const jobId = (command ? key : `${key}@${job.headSha}${job.force ? `+${job.deliveryId}` : ''}`).replace(/:/g, '_');
    // Finished jobs are removed (removeOnComplete/removeOnFail): a job still there is pending or running.
    // Both reads at once: every round trip here is part of the webhook's answer time.
    const [existing, counts] = await Promise.all([this.#queue.getJob(jobId), this.#queue.getJobCounts('wait', 'delayed', 'prioritized')]);
    if (existing) return 'duplicate';
    if ((counts.wait ?? 0) + (counts.delayed ?? 0) + (counts.prioritized ?? 0) >= this.#maxBacklog) {
      this.#log?.warn({ key }, 'review backlog full: event refused');
      return 'backlog-full';
    }
    if (!command) {
      const client = await this.client();
      const fresh = await client.eval(SET_HEAD, 1, this.#k('head', key), job.updatedAt, job.headSha, 30 * 24 * 3600);
      if (fresh === 0) return 'stale';
    }
    await this.#queue.add(job.kind ?? 'review', { ...job, attempt: job.attempt ?? 1 }, { jobId, removeOnComplete: true, removeOnFail: true });
    return 'queued';
  }

  start(processor: JobProcessor): void {
    if (this.#worker) return;
    this.#worker = new Worker<ReviewJob>(this.#name, (job, token) => this.#process(processor, job, token), {
      connection: this.#connection,
      prefix: this.#prefix,
      concurrency: this.#concurrency,
      lockDuration: this.#lockMs,
      stalledInterval: Math.max(1000, Math.floor(this.#lockMs / 2)),
      // A job whose worker died is run again (it is idempotent); one that keeps killing workers is not.
      maxStalledCount: 3,
    });
    this.#worker.on('error', (err) => this.#log?.error({ err }, 'redis worker error'));
    this.#worker.on('failed', (job, err) => {
      if (!(err instanceof DelayedError)) this.#log?.error({ err, job: job?.id }, 'review job failed');
    });
  }

  async #process(processor: JobProcessor, job: Job<ReviewJob>, token: string | undefined): Promise<void> {
    const data = job.data;
    const key = pullKey(data);
    const command = isCommandJob(data);
    const client = await this.client();
    const lockKey = this.#k('lock', key);
    const owner = randomUUID();
    // A command job's key is its own (BullMQ's job lock is enough): no pull-request lock.
    if (!command) {
      const got = await client.set(lockKey, owner, 'PX', this.#lockMs, 'NX');
      if (got !== 'OK') {
        // Another instance is reviewing this pull request: come back shortly, without using an attempt.
        await job.moveToDelayed(Date.now() + 500 + Math.floor(Math.random() * 1000), token);
        throw new DelayedError();
      }
    }
    const renew = command ? undefined : setInterval(() => {
      client.eval(RENEW, 1, lockKey, owner, this.#lockMs).catch(() => undefined);
    }, Math.max(250, Math.floor(this.#lockMs / 3)));
    this.#running++;
    const attempt = data.attempt ?? 1;
    try {
      await processor(data, {
        attempt,
        maxAttempts: this.#maxAttempts,
        // A stalled job's worker died mid-run: its check run may be in progress.
        resumed: attempt > 1 || (job.stalledCounter ?? 0) > 0,
        isSuperseded: async () => {
          if (command) return false;
          const cur = await client.get(this.#k('head', key));
          return cur !== null && cur.slice(cur.indexOf('|') + 1) !== data.headSha;
        },
      });
    } catch (err) {
      if (!(err instanceof RetryLater)) throw err;
      this.#log?.info({ key, attempt, delayMs: err.delayMs, reason: err.reason }, 'review job will be retried');
      await job.updateData({ ...data, attempt: err.countsAsAttempt ? attempt + 1 : attempt });
      await job.moveToDelayed(Date.now() + err.delayMs, token);
      throw new DelayedError();
    } finally {
      if (renew) clearInterval(renew);
      this.#running--;
      if (!command) await client.eval(RELEASE, 1, lockKey, owner).catch(() => undefined);
    }
  }

  async stats(): Promise<QueueStats> {
    const c = await this.#queue.getJobCounts('wait', 'active', 'delayed', 'prioritized');
    return { pending: (c.wait ?? 0) + (c.prioritized ?? 0), running: c.active ?? 0, delayed: c.delayed ?? 0 };
  }

  /** Polls Redis: idle when no job of any instance is waiting, active or delayed. */
  async onIdle(): Promise<void> {
    for (;;) {
      const s = await this.stats();
      if (s.pending + s.running + s.delayed === 0 && this.#running === 0) return;
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  async close(): Promise<void> {
    await this.#worker?.close();
    await this.#queue.close();
  }

  /** Removes everything of this queue from Redis (tests). */
  async obliterate(): Promise<void> {
    await this.#queue.obliterate({ force: true });
  }
}
