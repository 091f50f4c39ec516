#!/usr/bin/env node
/**
 * `npm run receive -- -e EVENT -p payload.json` (= `node dist/app/receive.js`): one webhook event through the
 * App without a server (CI, or replaying a delivery), and waits until the work it queued is finished.
 * Authenticates with GITHUB_TOKEN (like an Action) or, without it, APP_ID + PRIVATE_KEY[_PATH] (read from the
 * environment or `.env`); no WEBHOOK_SECRET is needed (nothing is received over HTTP). GHE_HOST as for the
 * server. Exit status: 0 when every job it started finished (reviewed, or nothing to do), 1 when one could
 * not be published (the reason is printed: GitHub's answer, or a network failure named as such), 2 for bad
 * usage, a bad setting (settings.ts) or an unreadable payload.
 */
import { readFileSync } from 'node:fs';
import { Probot, ProbotOctokit } from 'probot';
import { createApp } from './index.js';
import { readPrivateKey } from './server.js';
import { processEnvironment, readSettings, SettingsError, type AppSettings } from './settings.js';
import { loadDotEnv } from './start.js';

const USAGE = 'usage: kmap-review-app receive -e EVENT -p PAYLOAD.json   (GITHUB_TOKEN, or APP_ID + PRIVATE_KEY)';

export interface ReceiveResult { status: number; lines: string[] }

export function parseReceiveArgs(argv: string[]): { event: string; payloadPath: string } | string {
  let event: string | undefined;
  let payloadPath: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '-e' || a === '--event') event = argv[++i];
    else if (a === '-p' || a === '--payload-path') payloadPath = argv[++i];
    else if (a === 'receive' && i === 0) continue;
    else return `unknown argument ${JSON.stringify(a)}\n${USAGE}`;
  }
  if (!event || !/^[a-z_]+(\.[a-z_]+)?$/.test(event)) return `-e EVENT is required (e.g. pull_request)\n${USAGE}`;
  if (!payloadPath) return `-p PAYLOAD.json is required\n${USAGE}`;
  return { event, payloadPath };
}

export async function receive(argv: string[], env: NodeJS.ProcessEnv = processEnvironment()): Promise<ReceiveResult> {
  const args = parseReceiveArgs(argv);
  if (typeof args === 'string') return { status: 2, lines: [args] };
  let payload: unknown;
  try {
    payload = JSON.parse(readFileSync(args.payloadPath, 'utf8'));
  } catch (err) {
    return { status: 2, lines: [`cannot read the payload ${args.payloadPath}: ${(err as Error).message.split('\n')[0]}`] };
  }
  if (typeof payload !== 'object' || payload === null || Array.isArray(payload)) {
    return { status: 2, lines: [`${args.payloadPath}: the payload must be a JSON object`] };
  }
  let settings: AppSettings;
  try {
    settings = readSettings(env);
  } catch (err) {
    if (err instanceof SettingsError) return { status: 2, lines: [err.message] };
    throw err;
  }
  const s = settings.server;
  const token = s.githubToken;
  const privateKey = token ? undefined : readPrivateKey(s);
  if (!token && !(s.appId && privateKey)) {
    return { status: 2, lines: [`GITHUB_TOKEN (or APP_ID and PRIVATE_KEY) is required\n${USAGE}`] };
  }
  const probot = new Probot({
    ...(token ? { githubToken: token } : { appId: s.appId!, privateKey: privateKey! }),
    baseUrl: s.baseUrl, logLevel: s.logLevel ?? 'info',
    logFormat: s.logFormat ?? 'pretty',
    // No request-level retries: the job's own (KMAP_REVIEW_ATTEMPTS) decide, so a dead network fails in
    // seconds rather than after Octokit's retries of every request of every attempt.
    Octokit: ProbotOctokit.defaults({ retry: { enabled: false } }),
  });
  const failed: string[] = [];
  const outcomes: string[] = [];
  let close: (() => Promise<void>) | undefined;
  let idle: (() => Promise<void>) | undefined;
  await probot.load(createApp({
    settings,
    onRuntime: (r) => { close = () => r.close(); idle = () => r.queue.onIdle(); },
    onOutcome: (job, outcome) => {
      const what = job.pullNumber ? `${job.owner}/${job.repo}#${job.pullNumber}` : `${job.owner}/${job.repo}@${job.headSha.slice(0, 12)}`;
      outcomes.push(`${what}: ${job.kind ?? 'review'} ${outcome}`);
      if (outcome === 'failed') failed.push(what);
    },
  }));
  // The reason of a failure is in the log line "... failed" (retry.ts); a token has no installation id.
  const id = `receive-${Date.now()}`;
  // The queue's retry timers do not hold the process open (a server has its socket for that): this does.
  const keepAlive = setInterval(() => undefined, 60_000);
  try {
    await probot.receive({ id, name: args.event as never, payload: payload as never });
    await idle?.();
  } catch (err) {
    return { status: 1, lines: [`the event could not be handled: ${(err as Error).message.split('\n')[0]}`] };
  } finally {
    clearInterval(keepAlive);
    await close?.();
  }
  const lines = outcomes.length ? outcomes : [`${args.event}: nothing to do for this event`];
  if (failed.length) lines.push(`could not publish: ${failed.join(', ')} (see the error above)`);
  return { status: failed.length ? 1 : 0, lines };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  try {
    loadDotEnv(process.cwd());
    const r = await receive(process.argv.slice(2));
    for (const l of r.lines) (r.status ? console.error : console.log)(`kmap-review: ${l}`);
    process.exit(r.status);
  } catch (err) {
    console.error(`kmap-review: ${err instanceof Error ? err.message : String(err)}`);
    process.exit(1);
  }
}
