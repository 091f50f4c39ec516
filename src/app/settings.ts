/**
 * Every setting of the App, from the operator's environment: kmap-review's own KMAP_REVIEW_* variables
 * and the names Probot uses (APP_ID, WEBHOOK_SECRET, PORT, ...). Parsed and validated once, when the App
 * starts (main.ts, receive.ts, startServer(), createApp()): a bad value stops the start with one message
 * naming every bad variable, its value and what it should be, never a crash or a silent default later.
 * An unset or empty variable takes its default. This is the only module of src/app that reads
 * process.env; docs/github-app.md's tables are checked against SETTINGS (test/settings-doc.test.ts).
 */
import { DEFAULT_LIMITS, type Limits } from './limits.js';
import { DEFAULT_RETRY, type RetryPolicy } from './retry.js';
import type { TreeOptions } from './tree/options.js';

/** The process's environment. main.ts and receive.ts load `.env` into it before reading settings. */
export function processEnvironment(): NodeJS.ProcessEnv {
  return process.env;
}

/** One variable: how its value is read, what a valid one is, its default (as the guide shows it). */
export interface Setting<T> {
  name: string;
  /** What a valid value is, for the error message. */
  expect: string;
  /** The default in the guide's words ("5 MiB", "unset"). */
  shown: string;
  fallback: T;
  /** The value, or undefined when `raw` is not a valid one. */
  parse(raw: string): T | undefined;
}

const INTEGER = /^\d+$/;
const NUMBER = /^\d+(\.\d+)?$/;

function wholeNumber<T extends number | undefined>(name: string, fallback: T, shown: string, min = 1): Setting<number | T> {
  return {
    name, fallback, shown, expect: min > 0 ? 'a whole number above 0' : 'a whole number, 0 or more',
    parse: (raw) => (INTEGER.test(raw) && Number(raw) >= min && Number.isSafeInteger(Number(raw)) ? Number(raw) : undefined),
  };
}

function seconds(name: string, fallback: number, shown: string): Setting<number> {
  return { name, fallback, shown, expect: 'a number of seconds above 0', parse: (raw) => (NUMBER.test(raw) && Number(raw) > 0 ? Number(raw) : undefined) };
}

function flag(name: string, fallback: boolean, shown: string): Setting<boolean> {
  return { name, fallback, shown, expect: '1 (on) or 0 (off)', parse: (raw) => (raw === '1' ? true : raw === '0' ? false : undefined) };
}

function text<T extends string | undefined>(name: string, fallback: T, shown: string, expect = 'any text', valid: (raw: string) => boolean = () => true): Setting<string | T> {
  return { name, fallback, shown, expect, parse: (raw) => (valid(raw) ? raw : undefined) };
}

function oneOf<const V extends string>(name: string, values: readonly V[], shown: string): Setting<V | undefined> {
  return { name, fallback: undefined, shown, expect: `one of ${values.join(', ')}`, parse: (raw) => (values as readonly string[]).includes(raw) ? (raw as V) : undefined };
}

const MiB = 1024 * 1024;

/** kmap-review's own variables (the guide's "kmap-review's own" table). */
export const KMAP_SETTINGS = {
  workers: wholeNumber('KMAP_REVIEW_WORKERS', undefined, 'min(4, CPUs − 1), at least 1'),
  concurrency: wholeNumber('KMAP_REVIEW_CONCURRENCY', 2, '2'),
  inProcess: flag('KMAP_REVIEW_IN_PROCESS', false, 'unset'),
  maxBacklog: wholeNumber('KMAP_REVIEW_MAX_BACKLOG', 1000, '1000'),
  attempts: wholeNumber('KMAP_REVIEW_ATTEMPTS', DEFAULT_RETRY.attempts, String(DEFAULT_RETRY.attempts)),
  retryBaseMs: wholeNumber('KMAP_REVIEW_RETRY_BASE_MS', DEFAULT_RETRY.baseDelayMs, String(DEFAULT_RETRY.baseDelayMs), 0),
  retryMaxMs: wholeNumber('KMAP_REVIEW_RETRY_MAX_MS', DEFAULT_RETRY.maxDelayMs, String(DEFAULT_RETRY.maxDelayMs), 0),
  githubTimeoutMs: wholeNumber('KMAP_REVIEW_GITHUB_TIMEOUT_MS', 30_000, '30000'),
  maxFiles: wholeNumber('KMAP_REVIEW_MAX_FILES', DEFAULT_LIMITS.maxFiles, String(DEFAULT_LIMITS.maxFiles)),
  maxFileBytes: wholeNumber('KMAP_REVIEW_MAX_FILE_BYTES', DEFAULT_LIMITS.maxFileBytes, '5 MiB'),
  maxAnalysisSeconds: seconds('KMAP_REVIEW_MAX_ANALYSIS_SECONDS', DEFAULT_LIMITS.maxAnalysisMs / 1000, String(DEFAULT_LIMITS.maxAnalysisMs / 1000)),
  cacheEntries: wholeNumber('KMAP_REVIEW_CACHE_ENTRIES', 500, '500'),
  maxBodyBytes: wholeNumber('KMAP_REVIEW_MAX_BODY_BYTES', 5 * MiB, '5 MiB'),
  lockMs: wholeNumber('KMAP_REVIEW_LOCK_MS', 30_000, '30000'),
  // BullMQ refuses a queue name with a colon (its key separator).
  queue: text('KMAP_REVIEW_QUEUE', undefined, '`kmap-review`', 'a name without colons or spaces', (raw) => /^[^:\s]+$/.test(raw)),
  recovery: flag('KMAP_REVIEW_RECOVERY', true, 'on'),
  shutdownSeconds: seconds('KMAP_REVIEW_SHUTDOWN_SECONDS', 25, '25'),
  treeTarballThreshold: wholeNumber('KMAP_REVIEW_TREE_TARBALL_THRESHOLD', 200, '200'),
  treeBlobConcurrency: wholeNumber('KMAP_REVIEW_TREE_BLOB_CONCURRENCY', 8, '8'),
  treeMaxAnnotations: wholeNumber('KMAP_REVIEW_TREE_MAX_ANNOTATIONS', 500, '500'),
  treeBatchBytes: wholeNumber('KMAP_REVIEW_TREE_BATCH_BYTES', 32 * MiB, '32 MiB'),
  treeTarballTimeoutSeconds: seconds('KMAP_REVIEW_TREE_TARBALL_TIMEOUT_SECONDS', 1200, '1200'),
  sharedThrottle: flag('KMAP_REVIEW_SHARED_THROTTLE', false, 'unset'),
  treeCacheEntries: wholeNumber('KMAP_REVIEW_TREE_CACHE_ENTRIES', 200_000, '200000'),
} as const;

const validUrl = (protocols: string[]) => (raw: string) => {
  try {
    return protocols.includes(new URL(raw).protocol);
  } catch {
    return false;
  }
};

/** The names Probot uses, read the way `probot run` reads them (the guide's first table). */
export const PROBOT_SETTINGS = {
  appId: text('APP_ID', undefined, 'unset', 'the App\'s numeric id', (raw) => INTEGER.test(raw)),
  privateKey: text('PRIVATE_KEY', undefined, 'unset'),
  privateKeyPath: text('PRIVATE_KEY_PATH', undefined, 'unset'),
  webhookSecret: text('WEBHOOK_SECRET', undefined, 'unset'),
  githubToken: text('GITHUB_TOKEN', undefined, 'unset'),
  port: wholeNumber('PORT', 3000, '3000'),
  host: text('HOST', 'localhost', 'localhost'),
  webhookPath: text('WEBHOOK_PATH', '/api/github/webhooks', '/api/github/webhooks', 'a path starting with /', (raw) => raw.startsWith('/')),
  logLevel: oneOf('LOG_LEVEL', ['trace', 'debug', 'info', 'warn', 'error', 'fatal'], 'info'),
  logFormat: oneOf('LOG_FORMAT', ['json', 'pretty'], 'json'),
  gheHost: text('GHE_HOST', undefined, 'unset', 'a host name, with :port if needed', (raw) => /^[\w.-]+(:\d+)?$/.test(raw)),
  gheProtocol: oneOf('GHE_PROTOCOL', ['https', 'http'], 'https'),
  webhookProxyUrl: text('WEBHOOK_PROXY_URL', undefined, 'unset', 'an http(s) URL', validUrl(['http:', 'https:'])),
  redisUrl: text('REDIS_URL', undefined, 'unset', 'a redis:// or rediss:// URL', validUrl(['redis:', 'rediss:'])),
  nodeEnv: text('NODE_ENV', undefined, 'unset'),
} as const;

export interface QueueSettings {
  concurrency: number;
  maxBacklog: number;
  maxAttempts: number;
  lockMs: number;
  /** BullMQ's queue name (its default when unset). */
  name?: string;
  /** The queue on Redis when set, embedded otherwise. */
  redisUrl?: string;
}

export interface ServerSettings {
  appId?: string;
  privateKey?: string;
  privateKeyPath?: string;
  webhookSecret?: string;
  githubToken?: string;
  nodeEnv?: string;
  port: number;
  host: string;
  webhookPath: string;
  webhookProxyUrl?: string;
  logLevel?: 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'fatal';
  logFormat?: 'json' | 'pretty';
  /** The REST API: api.github.com, or `${GHE_PROTOCOL}://${GHE_HOST}/api/v3`. */
  baseUrl: string;
  maxBodyBytes: number;
  /** Probot's request throttling shared through Redis (needs REDIS_URL). */
  sharedThrottle: boolean;
  shutdownMs: number;
}

export interface AppSettings {
  limits: Limits;
  retry: RetryPolicy;
  queue: QueueSettings;
  /** Analysis results kept in memory without Redis. */
  cacheEntries: number;
  /** The tree scan's per-file results kept in memory without Redis. */
  treeCacheEntries: number;
  githubTimeoutMs: number;
  /** The start-up scan for check runs left in progress. */
  recovery: boolean;
  runner: { inProcess: boolean; workers?: number };
  tree: TreeOptions;
  server: ServerSettings;
}

/** Bad settings: every bad variable, its value and what it should be, in one message. */
export class SettingsError extends Error {
  constructor(readonly problems: string[]) {
    super(`bad setting${problems.length === 1 ? '' : 's'}: ${problems.join('; ')}`);
    this.name = 'SettingsError';
  }
}

/** Reads and validates every setting; throws SettingsError naming all the bad ones. */
export function readSettings(env: NodeJS.ProcessEnv = processEnvironment()): AppSettings {
  const problems: string[] = [];
  const get = <T>(s: Setting<T>): T => {
    const raw = env[s.name]?.trim();
    if (raw === undefined || raw === '') return s.fallback;
    const v = s.parse(raw);
    if (v !== undefined) return v;
    problems.push(`${s.name}=${JSON.stringify(env[s.name])} is not ${s.expect}`);
    return s.fallback;
  };
  const k = KMAP_SETTINGS;
  const p = PROBOT_SETTINGS;
  const inProcess = get(k.inProcess);
  const workers = get(k.workers);
  const retry: RetryPolicy = { attempts: get(k.attempts), baseDelayMs: get(k.retryBaseMs), maxDelayMs: get(k.retryMaxMs) };
  const redisUrl = get(p.redisUrl);
  const sharedThrottle = get(k.sharedThrottle);
  const gheHost = get(p.gheHost);
  const queueName = get(k.queue);
  const settings: AppSettings = {
    limits: { maxFiles: get(k.maxFiles), maxFileBytes: get(k.maxFileBytes), maxAnalysisMs: Math.floor(get(k.maxAnalysisSeconds) * 1000) },
    retry,
    queue: {
      concurrency: get(k.concurrency), maxBacklog: get(k.maxBacklog), maxAttempts: retry.attempts, lockMs: get(k.lockMs),
      ...(queueName !== undefined ? { name: queueName } : {}), ...(redisUrl !== undefined ? { redisUrl } : {}),
    },
    cacheEntries: get(k.cacheEntries),
    treeCacheEntries: get(k.treeCacheEntries),
    githubTimeoutMs: get(k.githubTimeoutMs),
    recovery: get(k.recovery),
    runner: { inProcess, ...(workers !== undefined ? { workers } : {}) },
    tree: {
      inProcess,
      // The scan's own default (2), not the pool's: a tree scan runs beside the reviews.
      jobs: inProcess ? 1 : workers ?? 2,
      tarballThreshold: get(k.treeTarballThreshold),
      blobConcurrency: get(k.treeBlobConcurrency),
      maxAnnotations: get(k.treeMaxAnnotations),
      scanBatchBytes: get(k.treeBatchBytes),
      tarballTimeoutMs: Math.floor(get(k.treeTarballTimeoutSeconds) * 1000),
    },
    server: {
      port: get(p.port), host: get(p.host), webhookPath: get(p.webhookPath),
      baseUrl: gheHost ? `${get(p.gheProtocol) ?? 'https'}://${gheHost}/api/v3` : 'https://api.github.com',
      maxBodyBytes: get(k.maxBodyBytes), sharedThrottle, shutdownMs: Math.floor(get(k.shutdownSeconds) * 1000),
    },
  };
  const optional = {
    appId: get(p.appId), privateKey: get(p.privateKey), privateKeyPath: get(p.privateKeyPath), webhookSecret: get(p.webhookSecret),
    githubToken: get(p.githubToken), nodeEnv: get(p.nodeEnv), webhookProxyUrl: get(p.webhookProxyUrl), logLevel: get(p.logLevel), logFormat: get(p.logFormat),
  };
  for (const [key, v] of Object.entries(optional)) if (v !== undefined) (settings.server as unknown as Record<string, unknown>)[key] = v;
  if (sharedThrottle && !redisUrl) problems.push('KMAP_REVIEW_SHARED_THROTTLE=1 needs REDIS_URL (the throttling is shared through Redis)');
  if (problems.length) throw new SettingsError(problems);
  return settings;
}

/** WEBHOOK_SECRET is required unless NODE_ENV=development (Probot would fall back to "development"). */
export function checkWebhookSecret(server: Pick<ServerSettings, 'nodeEnv' | 'webhookSecret'>): void {
  if (server.nodeEnv !== 'development' && !server.webhookSecret) {
    throw new Error('WEBHOOK_SECRET is required (unset only with NODE_ENV=development): unsigned webhooks would be accepted');
  }
}
