#!/usr/bin/env node
/**
 * `node dist/app/main.js`: the App behind the hardened webhook server (server.ts), with the same
 * environment as `probot run` (APP_ID, PRIVATE_KEY[_PATH], WEBHOOK_SECRET, PORT, HOST, GHE_HOST, REDIS_URL,
 * LOG_LEVEL). SIGTERM/SIGINT stop accepting webhooks and let running reviews finish (at most
 * KMAP_REVIEW_SHUTDOWN_SECONDS, default 25 s: Docker's stop timeout is 10 s unless raised).
 */
import { startServer } from './server.js';

try {
  const running = await startServer();
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    running.probot.log.info({ signal }, 'shutting down: finishing running reviews');
    const limit = (Number(process.env.KMAP_REVIEW_SHUTDOWN_SECONDS) || 25) * 1000;
    setTimeout(() => process.exit(0), limit).unref();
    running.close().then(() => process.exit(0), () => process.exit(1));
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
} catch (err) {
  // One line, no stack: the usual cause is a missing variable.
  console.error(`kmap-review: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
}
