/** Picks the queue backend: BullMQ on Redis when REDIS_URL is set, the embedded queue otherwise. */
import type { QueueSettings } from '../settings.js';
import { EmbeddedQueue } from './embedded.js';
import type { QueueLogger, WorkQueue } from './types.js';

export * from './types.js';
export { EmbeddedQueue } from './embedded.js';

export async function createQueue(log: QueueLogger, settings: QueueSettings): Promise<WorkQueue> {
  const common = { concurrency: settings.concurrency, maxBacklog: settings.maxBacklog, maxAttempts: settings.maxAttempts, log };
  if (settings.redisUrl) {
    // Loaded only when used: the embedded default does not pay for BullMQ and ioredis.
    const { BullMqQueue } = await import('./bullmq.js');
    return new BullMqQueue({ ...common, redisUrl: settings.redisUrl, lockMs: settings.lockMs, ...(settings.name ? { name: settings.name } : {}) });
  }
  return new EmbeddedQueue(common);
}
