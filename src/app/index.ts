/**
 * The kmap-review GitHub App (Probot 14). `probot run ./dist/app/index.js` loads the default export;
 * `node dist/app/main.js` runs it behind the hardened webhook server (server.ts).
 * Handlers (src/handlers) validate and enqueue, without a single GitHub call; workers run the jobs by kind:
 * reviews (review-job.ts) analyse and post, commands and re-runs (command-job.ts) react, check
 * permissions, reply and schedule reviews, tree scans (tree-job.ts) scan the default branch; the
 * engine runs in worker threads.
 */
import type { ApplicationFunction, Probot } from 'probot';
import { registerCheckRun } from '../handlers/check-run.js';
import { registerInstallation } from '../handlers/installation.js';
import { registerIssueComment } from '../handlers/issue-comment.js';
import { registerPullRequest } from '../handlers/pull-request.js';
import { registerTreeEvents } from '../handlers/push.js';
import { LruCache, RedisCache, type RedisLike, type ResultCache } from './cache.js';
import { CommandWorker } from './command-job.js';
import { engineVersion, loadEngineRules } from './engine.js';
import type { GitHub } from './collect.js';
import type { Limits } from './limits.js';
import { createQueue, isCommandJob, type ReviewJob, type WorkQueue } from './queue/index.js';
import { recoverInterrupted } from './recovery.js';
import type { RetryPolicy } from './retry.js';
import { ReviewWorker } from './review-job.js';
import { defaultRunner, type AnalysisRunner } from './runner.js';
import { ReviewScheduler, type RuleCatalog } from './scheduler.js';
import { TreeWorker } from './tree-job.js';
import type { TreeCache } from './tree/blob-cache.js';
import { isTreeJob } from './tree/jobs.js';
import type { TreeOptions } from './tree/options.js';
import { checkWebhookSecret, readSettings, type AppSettings } from './settings.js';

export interface AppOptions {
  /** The operator's settings (default: read from the environment when the App loads; settings.ts). */
  settings?: AppSettings;
  runner?: AnalysisRunner;
  queue?: WorkQueue;
  /** The rule registry (defaults to the engine's src/analysis/rules). */
  rules?: RuleCatalog;
  cache?: ResultCache;
  limits?: Limits;
  retry?: RetryPolicy;
  /** Timeout of one GitHub request (default: the settings' KMAP_REVIEW_GITHUB_TIMEOUT_MS). */
  requestTimeoutMs?: number;
  /** Production checks: WEBHOOK_SECRET required outside development, recovery at start. */
  production?: boolean;
  /** Receives the running App's parts (the server closes them on shutdown; tests await the queue). */
  onRuntime?: (runtime: AppRuntime) => void;
  /** Each job's final outcome ('done', 'failed', ...; not called for an attempt that will be retried). */
  onOutcome?: (job: ReviewJob, outcome: string) => void;
  now?: () => number;
  /** Waits of a job's failure report (tests record them instead of sleeping). */
  sleep?: (ms: number) => Promise<void>;
  /** Engine + tool version for the result cache (tests with a fake engine pass their own). */
  engineVersion?: () => Promise<string>;
  /** The repo-wide scan (`kmap-review / tree`): per-blob results, and its tuning (tree/options.ts). */
  treeCache?: TreeCache;
  tree?: Partial<TreeOptions>;
}

export interface AppRuntime {
  queue: WorkQueue;
  scheduler: ReviewScheduler;
  runner: AnalysisRunner;
  cache: ResultCache;
  /** Resolves with the recovery's counts (production only). */
  recovery?: Promise<unknown>;
  close(): Promise<void>;
}

/**
 * Every GitHub request gets a timeout (a stalled connection must not hold a worker forever), and writes
 * are not retried request by request: a POST that timed out may have been applied, so the whole job is
 * retried instead, and it reads back what exists before writing.
 */
export function withRequestPolicy(octokit: GitHub, timeoutMs: number): GitHub {
  octokit.hook.wrap('request', async (request, options) => {
    const get = (options.method ?? 'GET').toUpperCase() === 'GET';
    const inner = (options.request as { fetch?: typeof fetch } | undefined)?.fetch ?? ((...a: Parameters<typeof fetch>) => globalThis.fetch(...a));
    // The timeout is set per fetch, so each request-level retry of a GET gets its own full time.
    const timedFetch: typeof fetch = (input, init) => {
      const timeout = AbortSignal.timeout(timeoutMs);
      return inner(input, { ...init, signal: init?.signal ? AbortSignal.any([init.signal, timeout]) : timeout });
    };
    // Assigned on the options object itself, not a copy: @octokit/plugin-retry decides from the same
    // object (its hooks may sit outside or inside this one), and must see `retries: 0` for writes.
    options.request = { ...options.request, fetch: timedFetch, ...(get ? {} : { retries: 0 }) };
    return request(options);
  });
  return octokit;
}

export function createApp(options: AppOptions = {}): ApplicationFunction {
  return async (app: Probot) => {
    // Bad settings stop the start here, with every bad variable named (SettingsError).
    const settings = options.settings ?? readSettings();
    if (options.production) checkWebhookSecret(settings.server);
    const startedAt = Date.now();
    const queue = options.queue ?? (await createQueue(app.log, settings.queue));
    const runner = options.runner ?? defaultRunner(settings.runner);
    const limits = options.limits ?? settings.limits;
    const retry = options.retry ?? settings.retry;
    let catalog: Promise<RuleCatalog> | undefined = options.rules ? Promise.resolve(options.rules) : undefined;
    const rules = () => (catalog ??= loadEngineRules());
    const cache = options.cache ?? (queue.kind === 'redis' && 'client' in queue
      ? new RedisCache(() => (queue as unknown as { client(): Promise<RedisLike> }).client())
      : new LruCache(settings.cacheEntries));
    const timeoutMs = options.requestTimeoutMs ?? settings.githubTimeoutMs;
    const octokitFor = async (id: number | null) => withRequestPolicy((await app.auth(id ?? undefined)) as GitHub, timeoutMs);
    const worker = new ReviewWorker({
      runner, rules, cache, octokitFor, log: app.log, engineVersion: options.engineVersion ?? engineVersion,
      limits, retry,
      ...(options.now ? { now: options.now } : {}),
      ...(options.sleep ? { sleep: options.sleep } : {}),
    });
    const treeCache: TreeCache = options.treeCache ?? (queue.kind === 'redis' && 'client' in queue
      ? new RedisCache(() => (queue as unknown as { client(): Promise<RedisLike> }).client(), 'kmap-review:tree:', 30 * 24 * 3600)
      : new LruCache(settings.treeCacheEntries));
    const treeWorker = new TreeWorker({
      octokitFor, rules, cache: treeCache, log: app.log, engineVersion: options.engineVersion ?? engineVersion,
      limits, retry,
      options: { ...settings.tree, ...options.tree },
      ...(options.sleep ? { sleep: options.sleep } : {}),
    });
    const scheduler = new ReviewScheduler(queue);
    const commandWorker = new CommandWorker({
      octokitFor, rules, scheduler, log: app.log, retry,
    });

    registerPullRequest(app, scheduler);
    registerIssueComment(app, scheduler);
    registerCheckRun(app, scheduler);
    registerTreeEvents(app, scheduler);
    registerInstallation(app);
    queue.start(async (job, ctx) => {
      const outcome = isTreeJob(job) ? await treeWorker.process(job, ctx)
        : isCommandJob(job) ? await commandWorker.process(job, ctx)
          : await worker.process(job, ctx);
      options.onOutcome?.(job, outcome);
    });

    const runtime: AppRuntime = {
      queue, scheduler, runner, cache,
      async close() {
        await queue.close();
        await runner.close();
      },
    };
    if (options.production && settings.recovery) {
      // In the background: the server answers webhooks while the scan runs.
      runtime.recovery = (async () => {
        try {
          return await recoverInterrupted({
            appOctokit: (await app.auth()) as GitHub, octokitFor: (id) => octokitFor(id), queue, log: app.log, startedAt,
          });
        } catch (err) {
          app.log.warn({ err }, 'recovery of interrupted reviews failed');
          return undefined;
        }
      })();
    }
    options.onRuntime?.(runtime);
    app.log.info({ queue: queue.kind }, 'kmap-review loaded');
  };
}

const kmapReview: ApplicationFunction = createApp({ production: true });
export default kmapReview;
