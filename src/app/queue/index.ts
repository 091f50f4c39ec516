/** Picks the queue backend: BullMQ on Redis when REDIS_URL is set, the embedded queue otherwise. */
import { retryPolicyFromEnv } from '../retry.js';
import { EmbeddedQueue } from './embedded.js';
import type { QueueLogger, WorkQueue } from './types.js';

export * from './types.js';
export { EmbeddedQueue } from './embedded.js';

function int(env: NodeJS.ProcessEnv, name: string, dflt: number): number {
  const v = Number.parseInt(env[name] ?? '', 10);
  return Number.isFinite(v) && v > 0 ? v : dflt;
}

export async function createQueue(log: QueueLogger, env: NodeJS.ProcessEnv = process.env): Promise<WorkQueue> {
  const common = {
    concurrency: int(env, 'KMAP_REVIEW_CONCURRENCY', 2),
    maxBacklog: int(env, 'KMAP_REVIEW_MAX_BACKLOG', 1000),
    maxAttempts: retryPolicyFromEnv(env).attempts,
    log,
  };
  if (env.REDIS_URL) {
    // Loaded only when used: the embedded default does not pay for BullMQ and ioredis.
    const { BullMqQueue } = await import('./bullmq.js');
    return new BullMqQueue({ ...common, redisUrl: env.REDIS_URL, lockMs: int(env, 'KMAP_REVIEW_LOCK_MS', 30_000),
      ...(env.KMAP_REVIEW_QUEUE ? { name: env.KMAP_REVIEW_QUEUE } : {}) });
  }
  return new EmbeddedQueue(common);
}
