/** The settings module: defaults, what each kind of variable accepts, and a bad value stopping the start. */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Probot } from 'probot';
import { createApp } from '../../src/app/index.js';
import { EmbeddedQueue } from '../../src/app/queue/embedded.js';
import { InProcessRunner } from '../../src/app/runner.js';
import { readSettings, SettingsError } from '../../src/app/settings.js';
import { receive } from '../../src/app/receive.js';
import { startServer } from '../../src/app/server.js';
import { RULES, TestOctokit, fakeAnalyzer } from './helpers/harness.js';

it('an empty environment gives the documented defaults', () => {
  const s = readSettings({});
  expect(s.limits).toEqual({ maxFiles: 300, maxFileBytes: 5 * 1024 * 1024, maxAnalysisMs: 120_000 });
  expect(s.retry).toEqual({ attempts: 4, baseDelayMs: 2000, maxDelayMs: 120_000 });
  expect(s.queue).toEqual({ concurrency: 2, maxBacklog: 1000, maxAttempts: 4, lockMs: 30_000 });
  expect(s.runner).toEqual({ inProcess: false });
  expect(s.tree).toEqual({ inProcess: false, jobs: 2, tarballThreshold: 200, blobConcurrency: 8, maxAnnotations: 500, scanBatchBytes: 32 << 20, tarballTimeoutMs: 1_200_000 });
  expect(s.server).toMatchObject({ port: 3000, host: 'localhost', webhookPath: '/api/github/webhooks', baseUrl: 'https://api.github.com', shutdownMs: 25_000, sharedThrottle: false });
  expect(s.recovery).toBe(true);
  expect([s.cacheEntries, s.treeCacheEntries, s.githubTimeoutMs]).toEqual([500, 200_000, 30_000]);
});

it('reads every kind of value (an empty one is unset)', () => {
  const s = readSettings({
    KMAP_REVIEW_WORKERS: '3', KMAP_REVIEW_MAX_ANALYSIS_SECONDS: '2.5', KMAP_REVIEW_RETRY_BASE_MS: '0', KMAP_REVIEW_IN_PROCESS: '1',
    KMAP_REVIEW_RECOVERY: '0', KMAP_REVIEW_QUEUE: 'load-1', REDIS_URL: 'redis://127.0.0.1:6379', KMAP_REVIEW_SHARED_THROTTLE: '1',
    GHE_HOST: 'ghe.example.com:8443', GHE_PROTOCOL: 'http', LOG_LEVEL: 'warn', KMAP_REVIEW_MAX_FILES: '', PORT: ' 8080 ',
  });
  expect(s.runner).toEqual({ inProcess: true, workers: 3 });
  expect(s.tree.jobs).toBe(1);
  expect(s.limits.maxAnalysisMs).toBe(2500);
  expect(s.limits.maxFiles).toBe(300);
  expect(s.retry.baseDelayMs).toBe(0);
  expect(s.recovery).toBe(false);
  expect(s.queue).toMatchObject({ name: 'load-1', redisUrl: 'redis://127.0.0.1:6379' });
  expect(s.server).toMatchObject({ baseUrl: 'http://ghe.example.com:8443/api/v3', logLevel: 'warn', sharedThrottle: true, port: 8080 });
});

it.each([
  ['KMAP_REVIEW_MAX_FILES', 'lots', 'KMAP_REVIEW_MAX_FILES="lots" is not a whole number above 0'],
  ['KMAP_REVIEW_CONCURRENCY', '0', 'KMAP_REVIEW_CONCURRENCY="0" is not a whole number above 0'],
  ['KMAP_REVIEW_TREE_BATCH_BYTES', '32MiB', 'KMAP_REVIEW_TREE_BATCH_BYTES="32MiB" is not a whole number above 0'],
  ['KMAP_REVIEW_RETRY_MAX_MS', '-1', 'KMAP_REVIEW_RETRY_MAX_MS="-1" is not a whole number, 0 or more'],
  ['KMAP_REVIEW_MAX_ANALYSIS_SECONDS', '2m', 'KMAP_REVIEW_MAX_ANALYSIS_SECONDS="2m" is not a number of seconds above 0'],
  ['KMAP_REVIEW_IN_PROCESS', 'true', 'KMAP_REVIEW_IN_PROCESS="true" is not 1 (on) or 0 (off)'],
  ['KMAP_REVIEW_QUEUE', 'a:b', 'KMAP_REVIEW_QUEUE="a:b" is not a name without colons or spaces'],
  ['REDIS_URL', 'localhost:6379', 'REDIS_URL="localhost:6379" is not a redis:// or rediss:// URL'],
  ['LOG_LEVEL', 'verbose', 'LOG_LEVEL="verbose" is not one of trace, debug, info, warn, error, fatal'],
  ['PORT', '80a', 'PORT="80a" is not a whole number above 0'],
  ['APP_ID', 'my-app', 'APP_ID="my-app" is not the App\'s numeric id'],
])('%s=%s is refused, naming the variable and the value', (name, value, message) => {
  expect(() => readSettings({ [name]: value })).toThrow(new SettingsError([message]));
});

it('names every bad variable at once, and a setting that needs another', () => {
  let err: unknown;
  try {
    readSettings({ KMAP_REVIEW_WORKERS: 'four', KMAP_REVIEW_LOCK_MS: '1.5', KMAP_REVIEW_SHARED_THROTTLE: '1' });
  } catch (e) {
    err = e;
  }
  expect(err).toBeInstanceOf(SettingsError);
  expect((err as SettingsError).problems).toEqual([
    'KMAP_REVIEW_WORKERS="four" is not a whole number above 0',
    'KMAP_REVIEW_LOCK_MS="1.5" is not a whole number above 0',
    'KMAP_REVIEW_SHARED_THROTTLE=1 needs REDIS_URL (the throttling is shared through Redis)',
  ]);
  expect((err as Error).message).toMatch(/^bad settings: KMAP_REVIEW_WORKERS="four" is not a whole number above 0; /);
});

describe('a bad setting stops the start', () => {
  const saved = process.env.KMAP_REVIEW_MAX_BACKLOG;
  afterEach(() => {
    if (saved === undefined) delete process.env.KMAP_REVIEW_MAX_BACKLOG;
    else process.env.KMAP_REVIEW_MAX_BACKLOG = saved;
  });

  it('when the App loads (probot run), before any event', async () => {
    process.env.KMAP_REVIEW_MAX_BACKLOG = 'none';
    const probot = new Probot({ githubToken: 'test', Octokit: TestOctokit, logLevel: 'fatal' });
    await expect(probot.load(createApp({ runner: new InProcessRunner(fakeAnalyzer([])), queue: new EmbeddedQueue({}), rules: RULES })))
      .rejects.toThrow('bad setting: KMAP_REVIEW_MAX_BACKLOG="none" is not a whole number above 0');
  });

  it('when the server starts, from its environment', async () => {
    await expect(startServer({ env: { APP_ID: '1', PRIVATE_KEY: 'x', WEBHOOK_SECRET: 's', KMAP_REVIEW_MAX_BODY_BYTES: '5M' } }))
      .rejects.toThrow('bad setting: KMAP_REVIEW_MAX_BODY_BYTES="5M" is not a whole number above 0');
  });

  it('when one event is replayed (receive): exit 2 with the message, nothing received', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kmap-settings-'));
    try {
      writeFileSync(join(dir, 'event.json'), '{}');
      const r = await receive(['-e', 'pull_request', '-p', join(dir, 'event.json')], { GITHUB_TOKEN: 'ghs_test', KMAP_REVIEW_ATTEMPTS: 'many' });
      expect(r).toEqual({ status: 2, lines: ['bad setting: KMAP_REVIEW_ATTEMPTS="many" is not a whole number above 0'] });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
