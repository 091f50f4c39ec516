#!/usr/bin/env node
/**
 * `npm start` = `node dist/app/main.js`. Reads `.env` in the current directory (the environment wins), then
 * (start.ts): with APP_ID and PRIVATE_KEY[_PATH], the App behind the hardened webhook server (server.ts;
 * WEBHOOK_SECRET, PORT, HOST, GHE_HOST, REDIS_URL, LOG_LEVEL as under `probot run`); without them, Probot's
 * setup (manifest) flow to register the App, except with NODE_ENV=production, where that is an error.
 * SIGTERM/SIGINT stop accepting webhooks and let running reviews finish (at most
 * KMAP_REVIEW_SHUTDOWN_SECONDS, default 25 s: Docker's stop timeout is 10 s unless raised).
 */
import { run } from 'probot';
import { startServer } from './server.js';
import { processEnvironment, readSettings } from './settings.js';
import { loadDotEnv, setupLine, startMode } from './start.js';

try {
  const env = processEnvironment();
  loadDotEnv(process.cwd(), env);
  // Every setting checked before anything starts: a bad one is the one line below, exit 1.
  const { server } = readSettings(env);
  const mode = startMode(server);
  if (mode.mode === 'error') throw new Error(mode.message);
  if (mode.mode === 'setup') {
    console.log(setupLine(server));
    // Probot's own setup server (manifest flow from app.yml); it never loads the App itself.
    await run(() => undefined, { env });
  } else {
    const running = await startServer({ env });
    if (server.webhookProxyUrl) {
      running.probot.log.info(`WEBHOOK_PROXY_URL is set; this server does not read it: forward with ` +
        `npx smee-client -u ${server.webhookProxyUrl} -t http://localhost:${running.port}${server.webhookPath}`);
    }
    let stopping = false;
    const stop = (signal: string) => {
      if (stopping) return;
      stopping = true;
      running.probot.log.info({ signal }, 'shutting down: finishing running reviews');
      setTimeout(() => process.exit(0), server.shutdownMs).unref();
      running.close().then(() => process.exit(0), () => process.exit(1));
    };
    process.on('SIGTERM', () => stop('SIGTERM'));
    process.on('SIGINT', () => stop('SIGINT'));
  }
} catch (err) {
  // One line, no stack: the usual cause is a missing variable.
  console.error(`kmap-review: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
}
