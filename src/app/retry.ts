/**
 * Which failures are worth another attempt, and when. A review job is idempotent (it reuses its
 * in-progress check run and never posts a finding twice), so the whole job is retried rather than single
 * requests: a retry after the analysis is cheap because the result is cached.
 */

export interface RetryPolicy {
  /** Attempts in all, the first included. */
  attempts: number;
  /** First delay; doubled on every attempt (with ±20 % jitter so a burst does not retry in lockstep). */
  baseDelayMs: number;
  maxDelayMs: number;
}

export const DEFAULT_RETRY: RetryPolicy = { attempts: 4, baseDelayMs: 2_000, maxDelayMs: 120_000 };

export interface Classified {
  retryable: boolean;
  /** What GitHub asked for (Retry-After, or the rate-limit reset), when it said. */
  retryAfterMs?: number;
  /** One line for the logs and the check run ("GitHub answered 502", "request timed out"). */
  reason: string;
}

interface ErrorLike {
  name?: string;
  message?: string;
  status?: number;
  code?: string;
  response?: { headers?: Record<string, string | number | undefined>; data?: unknown };
}

function header(err: ErrorLike, name: string): string | undefined {
  const v = err.response?.headers?.[name];
  return v === undefined ? undefined : String(v);
}

const NETWORK_CODES = new Set(['ECONNRESET', 'ECONNREFUSED', 'EPIPE', 'ETIMEDOUT', 'UND_ERR_SOCKET', 'UND_ERR_CONNECT_TIMEOUT', 'EAI_AGAIN',
  'ENOTFOUND', 'EAI_FAIL', 'EHOSTUNREACH', 'ENETUNREACH', 'ENETDOWN', 'EHOSTDOWN', 'ECONNABORTED']);
/** Name lookups that failed: retried like any network failure, but named as what they are. */
const DNS_CODES = new Set(['ENOTFOUND', 'EAI_AGAIN', 'EAI_FAIL']);

/** The first network error code in the error's cause chain (fetch wraps it: RequestError -> TypeError -> Error). */
function networkCode(err: ErrorLike & { cause?: unknown }): string | undefined {
  let e: unknown = err;
  for (let depth = 0; depth < 5 && typeof e === 'object' && e !== null; depth++) {
    const code = (e as ErrorLike).code;
    if (code && NETWORK_CODES.has(code)) return code;
    e = (e as { cause?: unknown }).cause;
  }
  return undefined;
}

function networkReason(code: string, message: string): string {
  const detail = message.includes(code) ? message : `${code}: ${message}`;
  return DNS_CODES.has(code) ? `the GitHub host name could not be resolved (${detail})` : `the connection to GitHub failed (${detail})`;
}

/** GitHub 5xx, timeouts, dropped connections, primary and secondary rate limits are transient. */
export function classifyError(e: unknown, now = Date.now()): Classified {
  const err = (typeof e === 'object' && e !== null ? e : { message: String(e) }) as ErrorLike & { cause?: ErrorLike };
  const message = (err.message ?? String(e)).split('\n')[0]!;
  const cause = err.cause;
  if (err.name === 'TimeoutError' || err.name === 'AbortError' || cause?.name === 'TimeoutError' || /\b(timed? ?out|aborted due to timeout)\b/i.test(message)) {
    return { retryable: true, reason: 'a GitHub request timed out' };
  }
  // Before the status: @octokit/request reports a request that never got an answer as status 500.
  const code = networkCode(err);
  if (code) return { retryable: true, reason: networkReason(code, message) };
  const status = err.status;
  if (status === 403 || status === 429) {
    const retryAfter = Number(header(err, 'retry-after'));
    const remaining = header(err, 'x-ratelimit-remaining');
    const reset = Number(header(err, 'x-ratelimit-reset'));
    if (Number.isFinite(retryAfter) && retryAfter >= 0 && header(err, 'retry-after') !== undefined) {
      return { retryable: true, retryAfterMs: retryAfter * 1000, reason: `GitHub's rate limit (${status}, Retry-After ${retryAfter} s)` };
    }
    if (remaining === '0' && Number.isFinite(reset)) {
      return { retryable: true, retryAfterMs: Math.max(0, reset * 1000 - now), reason: `GitHub's rate limit (${status}, resets at ${new Date(reset * 1000).toISOString()})` };
    }
    if (/secondary rate limit|abuse/i.test(message)) {
      return { retryable: true, retryAfterMs: 60_000, reason: `GitHub's secondary rate limit (${status})` };
    }
    return { retryable: false, reason: `GitHub answered ${status}: ${message}` };
  }
  if (typeof status === 'number' && status >= 500) {
    // @octokit/request reports network failures as status 500 with the cause's message.
    const net = /fetch failed|socket|other side closed|ECONNRESET|ECONNREFUSED|ENOTFOUND|getaddrinfo|terminated/i.test(message);
    return { retryable: true, reason: net ? `the connection to GitHub failed (${message})` : `GitHub answered ${status}` };
  }
  if (/fetch failed|other side closed|socket hang up|terminated/i.test(message)) {
    return { retryable: true, reason: `the connection to GitHub failed (${message})` };
  }
  return { retryable: false, reason: typeof status === 'number' ? `GitHub answered ${status}: ${message}` : message };
}

/** Delay before attempt `attempt + 1` (attempt counts from 1), honouring what GitHub asked for. */
export function retryDelay(policy: RetryPolicy, attempt: number, c: Classified, random = Math.random): number {
  const exp = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** Math.max(0, attempt - 1));
  const jittered = exp * (0.8 + 0.4 * random());
  // Retry-After is a floor, never shortened; a huge value is still capped so a job cannot sleep for hours.
  return Math.round(Math.min(Math.max(jittered, c.retryAfterMs ?? 0), Math.max(policy.maxDelayMs, 1)));
}

/** Thrown by a job to ask its queue to run it again later (the queue, not the job, owns the timer). */
export class RetryLater extends Error {
  constructor(readonly delayMs: number, readonly reason: string, readonly countsAsAttempt = true) {
    super(`retry in ${delayMs} ms: ${reason}`);
    this.name = 'RetryLater';
  }
}

/**
 * What a queued job does with the error that ended an attempt: a transient one before the last attempt
 * throws RetryLater (the queue runs the job again after the policy's delay); otherwise the failure is
 * logged and its reason returned, for the job to report ("GitHub answered 502, and kept failing after 4
 * attempts"). `classified` overrides the classification (a job's own transient conditions).
 */
export function retryLaterOrGiveUp(
  err: unknown, attempt: { attempt: number; maxAttempts: number }, policy: RetryPolicy,
  log: { warn(o: object, m: string): void; error(o: object, m: string): void }, what: string, classified: Classified = classifyError(err),
): string {
  const c = classified;
  if (c.retryable && attempt.attempt < attempt.maxAttempts) {
    const delay = retryDelay(policy, attempt.attempt, c);
    log.warn({ reason: c.reason, delayMs: delay }, `${what}: transient failure, will be retried`);
    throw new RetryLater(delay, c.reason);
  }
  log.error({ err, reason: c.reason }, `${what} failed`);
  return c.retryable ? `${c.reason}, and kept failing after ${attempt.attempt} attempt${attempt.attempt === 1 ? '' : 's'}` : c.reason;
}

/** Runs `fn` up to `attempts` times for transient failures, sleeping in between (short, inline retries). */
export async function withRetry<T>(fn: () => Promise<T>, policy: RetryPolicy, sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn();
    } catch (err) {
      const c = classifyError(err);
      if (!c.retryable || attempt >= policy.attempts) throw err;
      await sleep(retryDelay(policy, attempt, c));
    }
  }
}
