/** The production plumbing on its own: embedded queue, retry classification, result cache, time budget. */
import type { ChangeSet, Report } from '../../src/analysis/model.js';
import { LruCache, analysisKey } from '../../src/app/cache.js';
import { AnalysisTimeout, analyzeWithinBudget, effectiveLimits } from '../../src/app/limits.js';
import { DEFAULT_APP_CONFIG } from '../../src/config/repo-config.js';
import { EmbeddedQueue } from '../../src/app/queue/embedded.js';
import { pullKey, type JobContext, type ReviewJob } from '../../src/app/queue/types.js';
import { RetryLater, classifyError, retryDelay, retryLaterOrGiveUp, withRetry } from '../../src/app/retry.js';
import type { AnalysisRunner } from '../../src/app/runner.js';

const job = (over: Partial<ReviewJob> = {}): ReviewJob => ({
  installationId: 1, owner: 'o', repo: 'r', pullNumber: 1, headSha: 'a'.repeat(40), baseSha: 'b'.repeat(40),
  draft: false, updatedAt: 1000, trigger: 'test', force: false, deliveryId: 'd', ...over,
});

function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

describe('EmbeddedQueue', () => {
  it('accepts a delivery id once, and forgets the oldest beyond its memory', async () => {
    const q = new EmbeddedQueue({ deliveryMemory: 2 });
    expect(await q.firstDelivery('x')).toBe(true);
    expect(await q.firstDelivery('x')).toBe(false);
    await q.firstDelivery('y');
    await q.firstDelivery('z');
    expect(await q.firstDelivery('x')).toBe(true);
  });

  it('a newer head replaces the pending job and marks the running one superseded; the same head is a duplicate', async () => {
    const q = new EmbeddedQueue({ concurrency: 1 });
    const gate = deferred();
    const seen: { sha: string; superseded: boolean }[] = [];
    q.start(async (j, ctx) => {
      if (j.headSha === 'a'.repeat(40)) await gate.promise;
      seen.push({ sha: j.headSha[0]!, superseded: await ctx.isSuperseded() });
    });
    expect(await q.add(job())).toBe('queued');
    expect(await q.add(job({ deliveryId: 'd2' }))).toBe('duplicate');
    expect(await q.add(job({ headSha: 'b'.repeat(40), updatedAt: 2000 }))).toBe('queued');
    expect(await q.add(job({ headSha: 'c'.repeat(40), updatedAt: 3000 }))).toBe('queued');
    // An event older than the newest one seen (out-of-order arrival) is refused.
    expect(await q.add(job({ headSha: 'e'.repeat(40), updatedAt: 1500 }))).toBe('stale');
    expect(await q.stats()).toEqual({ pending: 1, running: 1, delayed: 0 });
    gate.resolve();
    await q.onIdle();
    // 'b' never ran: 'c' replaced it. 'a' learnt it was superseded.
    expect(seen).toEqual([{ sha: 'a', superseded: true }, { sha: 'c', superseded: false }]);
  });

  it('runs one job per pull request at a time, up to `concurrency` pull requests', async () => {
    const q = new EmbeddedQueue({ concurrency: 2 });
    let running = 0;
    let peak = 0;
    const order: string[] = [];
    q.start(async (j) => {
      running++;
      peak = Math.max(peak, running);
      order.push(`start ${j.pullNumber}${j.force ? 'f' : ''}`);
      await new Promise((r) => setTimeout(r, 5));
      order.push(`end ${j.pullNumber}${j.force ? 'f' : ''}`);
      running--;
    });
    await q.add(job({ pullNumber: 1 }));
    await q.add(job({ pullNumber: 1, force: true, deliveryId: 'recheck' }));
    await q.add(job({ pullNumber: 2 }));
    await q.add(job({ pullNumber: 3 }));
    await q.onIdle();
    expect(peak).toBe(2);
    expect(order.indexOf('end 1')).toBeLessThan(order.indexOf('start 1f'));
  });

  it('a job waiting for its retry when a newer head arrives runs once more, told it is superseded (to close its check run)', async () => {
    const q = new EmbeddedQueue();
    const runs: string[] = [];
    q.start(async (j, ctx) => {
      runs.push(`${j.headSha[0]} resumed=${ctx.resumed} superseded=${await ctx.isSuperseded()}`);
      if (j.headSha[0] === 'a' && !ctx.resumed) throw new RetryLater(60_000, 'GitHub answered 502');
    });
    await q.add(job());
    while ((await q.stats()).delayed === 0) await new Promise((r) => setTimeout(r, 1));
    await q.add(job({ headSha: 'b'.repeat(40), updatedAt: 2000 }));
    await q.onIdle();
    expect(runs.sort()).toEqual(['a resumed=false superseded=false', 'a resumed=true superseded=true', 'b resumed=false superseded=false']);
  });

  it('refuses work beyond the backlog instead of growing', async () => {
    const q = new EmbeddedQueue({ maxBacklog: 2 });
    expect(await q.add(job({ pullNumber: 1 }))).toBe('queued');
    expect(await q.add(job({ pullNumber: 2 }))).toBe('queued');
    expect(await q.add(job({ pullNumber: 3 }))).toBe('backlog-full');
  });

  it('runs a job again after RetryLater, with the attempt number; a newer head replaces the retry', async () => {
    const q = new EmbeddedQueue({ maxAttempts: 3 });
    const attempts: number[] = [];
    q.start(async (j, ctx: JobContext) => {
      attempts.push(ctx.attempt);
      if (ctx.attempt < 3) throw new RetryLater(1, 'GitHub answered 502');
    });
    await q.add(job());
    await q.onIdle();
    expect(attempts).toEqual([1, 2, 3]);

    const q2 = new EmbeddedQueue();
    const ran: string[] = [];
    q2.start(async (j, ctx) => {
      ran.push(`${j.headSha[0]}${await ctx.isSuperseded() ? ' (clean-up only)' : ''}`);
      if (j.headSha[0] === 'a' && !(await ctx.isSuperseded())) throw new RetryLater(50, 'x');
    });
    await q2.add(job());
    await new Promise((r) => setTimeout(r, 10));
    await q2.add(job({ headSha: 'b'.repeat(40), updatedAt: 2000 }));
    await q2.onIdle();
    expect(ran.sort()).toEqual(['a', 'a (clean-up only)', 'b']);
  });
});

describe('EmbeddedQueue: command jobs', () => {
  const command = (deliveryId: string): ReviewJob => job({
    kind: 'command', deliveryId, headSha: '', baseSha: '', updatedAt: 0, trigger: '/kmap-review recheck by @m',
    command: { type: 'comment', verb: 'recheck', commentId: 1, login: 'm' },
  });

  it('have a key of their own: a review of the same pull request is neither replaced, superseded, deduplicated nor held up by them', async () => {
    expect(pullKey(command('c1'))).toBe('o/r#1!command:c1');
    expect(pullKey(job())).toBe('o/r#1');
    const q = new EmbeddedQueue({ concurrency: 2 });
    const gate = deferred();
    const commandsRan = deferred();
    const seen: string[] = [];
    q.start(async (j, ctx) => {
      if (j.kind !== 'command' && j.headSha[0] === 'a') await gate.promise;
      seen.push(`${j.kind ?? 'review'}:${j.kind === 'command' ? j.deliveryId : j.headSha[0]} superseded=${await ctx.isSuperseded()}`);
      if (seen.filter((x) => x.startsWith('command')).length === 2) commandsRan.resolve();
    });
    expect(await q.add(job())).toBe('queued'); // running, held
    expect(await q.add(job({ headSha: 'b'.repeat(40), updatedAt: 2000 }))).toBe('queued'); // pending
    // A command (updatedAt 0, no head) of the same pull request: not stale, not a duplicate, does not replace 'b'.
    expect(await q.add(command('c1'))).toBe('queued');
    expect(await q.add(command('c1'))).toBe('duplicate');
    expect(await q.add(command('c2'))).toBe('queued');
    // Reviews still deduplicate and order among themselves.
    expect(await q.add(job({ headSha: 'b'.repeat(40), updatedAt: 2000, deliveryId: 'again' }))).toBe('duplicate');
    expect(await q.add(job({ headSha: 'e'.repeat(40), updatedAt: 1500 }))).toBe('stale');
    // The commands run while the pull request's review is running (one job per key, not per pull request).
    await commandsRan.promise;
    expect(seen).toEqual(['command:c1 superseded=false', 'command:c2 superseded=false']);
    gate.resolve();
    await q.onIdle();
    expect(seen.slice(2)).toEqual(['review:a superseded=true', 'review:b superseded=false']);
  });

  it('are retried after RetryLater under their own key, without disturbing the review', async () => {
    const q = new EmbeddedQueue({ maxAttempts: 3 });
    const runs: string[] = [];
    q.start(async (j, ctx) => {
      runs.push(`${j.kind ?? 'review'} attempt=${ctx.attempt} resumed=${ctx.resumed} superseded=${await ctx.isSuperseded()}`);
      if (j.kind === 'command' && ctx.attempt < 2) throw new RetryLater(5, 'GitHub answered 502');
    });
    expect(await q.add(command('c1'))).toBe('queued');
    expect(await q.add(job())).toBe('queued');
    await q.onIdle();
    expect(runs.sort()).toEqual([
      'command attempt=1 resumed=false superseded=false', 'command attempt=2 resumed=true superseded=false', 'review attempt=1 resumed=false superseded=false',
    ]);
  });
});

describe('retry classification', () => {
  const httpError = (status: number, message = 'x', headers: Record<string, string> = {}) =>
    Object.assign(new Error(message), { status, response: { headers, data: {} } });

  it('retries 5xx, timeouts, dropped connections and rate limits; not 4xx', () => {
    expect(classifyError(httpError(502))).toMatchObject({ retryable: true, reason: 'GitHub answered 502' });
    expect(classifyError(httpError(500, 'other side closed'))).toMatchObject({ retryable: true });
    expect(classifyError(Object.assign(new Error('The operation was aborted due to timeout'), { name: 'TimeoutError' }))).toMatchObject({ retryable: true });
    expect(classifyError(Object.assign(new Error('socket'), { code: 'ECONNRESET' }))).toMatchObject({ retryable: true });
    expect(classifyError(httpError(403, 'You have exceeded a secondary rate limit', { 'retry-after': '7' })))
      .toMatchObject({ retryable: true, retryAfterMs: 7000 });
    expect(classifyError(httpError(403, 'API rate limit exceeded', { 'x-ratelimit-remaining': '0', 'x-ratelimit-reset': '1010' }), 1_000_000))
      .toMatchObject({ retryable: true, retryAfterMs: 10_000 });
    expect(classifyError(httpError(403, 'Resource not accessible by integration'))).toMatchObject({ retryable: false });
    expect(classifyError(httpError(422, 'Validation Failed'))).toMatchObject({ retryable: false });
    expect(classifyError(new Error('parser exploded'))).toMatchObject({ retryable: false, reason: 'parser exploded' });
  });

  it('names a request that got no answer as a network failure, never "GitHub answered 500"', () => {
    // What @octokit/request throws when fetch fails: status 500, the cause's message, the cause chained.
    const fetchFailure = (code: string, message: string) => Object.assign(new Error(message), {
      status: 500, cause: Object.assign(new TypeError('fetch failed'), { cause: Object.assign(new Error(message), { code }) }),
    });
    const dns = classifyError(fetchFailure('ENOTFOUND', 'getaddrinfo ENOTFOUND api.github.com'));
    expect(dns).toMatchObject({ retryable: true, reason: 'the GitHub host name could not be resolved (getaddrinfo ENOTFOUND api.github.com)' });
    const refused = classifyError(fetchFailure('ECONNREFUSED', 'connect ECONNREFUSED 127.0.0.1:9'));
    expect(refused.reason).toBe('the connection to GitHub failed (connect ECONNREFUSED 127.0.0.1:9)');
    expect(classifyError(fetchFailure('EHOSTUNREACH', 'connect EHOSTUNREACH 10.0.0.1:443')).reason).toMatch(/^the connection to GitHub failed/);
    // A real 500 from GitHub stays one.
    expect(classifyError(httpError(500, 'Internal Server Error')).reason).toBe('GitHub answered 500');
  });

  it('backs off exponentially, never shorter than Retry-After, capped', () => {
    const policy = { attempts: 5, baseDelayMs: 1000, maxDelayMs: 60_000 };
    const mid = () => 0.5;
    expect(retryDelay(policy, 1, { retryable: true, reason: '' }, mid)).toBe(1000);
    expect(retryDelay(policy, 3, { retryable: true, reason: '' }, mid)).toBe(4000);
    expect(retryDelay(policy, 1, { retryable: true, reason: '', retryAfterMs: 30_000 }, mid)).toBe(30_000);
    expect(retryDelay(policy, 1, { retryable: true, reason: '', retryAfterMs: 3_600_000 }, mid)).toBe(60_000);
  });

  it('withRetry retries transient failures only', async () => {
    let n = 0;
    const sleep = async () => {};
    await expect(withRetry(async () => {
      if (++n < 3) throw Object.assign(new Error('bad gateway'), { status: 502 });
      return 'ok';
    }, { attempts: 3, baseDelayMs: 1, maxDelayMs: 1 }, sleep)).resolves.toBe('ok');
    n = 0;
    await expect(withRetry(async () => {
      n++;
      throw Object.assign(new Error('nope'), { status: 404 });
    }, { attempts: 3, baseDelayMs: 1, maxDelayMs: 1 }, sleep)).rejects.toThrow('nope');
    expect(n).toBe(1);
  });
});

describe('result cache', () => {
  const cfg = { rules: {}, mapFunctions: {}, unmapFunctions: {} };
  const files = [{ oldPath: 'a.c', newPath: 'a.c', baseSha: '1', headSha: '2' }];
  it('keys on blob SHAs, engine version and configuration, not on order', () => {
    const k = analysisKey(files, [], '1+0.1.0', cfg)!;
    expect(analysisKey([...files], [], '1+0.1.0', { ...cfg })).toBe(k);
    expect(analysisKey([{ ...files[0]!, headSha: '3' }], [], '1+0.1.0', cfg)).not.toBe(k);
    expect(analysisKey(files, [], '2+0.1.0', cfg)).not.toBe(k);
    expect(analysisKey(files, [], '1+0.1.0', { ...cfg, rules: { 'use-helper': 'off' } })).not.toBe(k);
    expect(analysisKey([{ ...files[0]!, headSha: null }], [], '1', cfg)).toBeUndefined();
    const two = [files[0]!, { oldPath: null, newPath: 'b.c', baseSha: null, headSha: '9' }];
    expect(analysisKey(two, [], '1', cfg)).toBe(analysisKey([...two].reverse(), [], '1', cfg));
  });

  it('LRU: bounded, most recently used kept, copies out', async () => {
    const c = new LruCache(2);
    const r = (name: string): Report => ({ name, findings: [], files: [], skipped: [], gaps: [] });
    await c.set('a', r('a'));
    await c.set('b', r('b'));
    await c.get('a');
    await c.set('c', r('c'));
    expect(await c.get('b')).toBeUndefined();
    const a = (await c.get('a'))!;
    a.name = 'changed';
    expect((await c.get('a'))!.name).toBe('a');
    expect(c.size).toBe(2);
  });
});

describe('analysis time budget', () => {
  const cs = (n: number): ChangeSet => ({
    name: 'PR #1', skipped: [{ path: 'x.bin', reason: 'binary file' }],
    files: Array.from({ length: n }, (_, i) => ({ oldPath: `f${i}.c`, newPath: `f${i}.c`, oldText: '', newText: '', addedLines: new Set<number>(), removedLines: new Set<number>(), complete: true })),
  });

  it('stops between batches when the time is spent and lists what was not analysed', async () => {
    let clock = 0;
    let calls = 0;
    const runner: AnalysisRunner = {
      async analyze(c, _cfg, opts) {
        calls++;
        if (calls === 1) {
          clock += 700; // the first batch "took" 0.7 s of the 1 s budget
          return { name: c.name, findings: [], files: c.files.map((f) => ({ path: f.newPath!, functionsAnalysed: 1 })), skipped: c.skipped, gaps: [] };
        }
        expect(opts?.timeoutMs).toBe(300);
        throw new AnalysisTimeout(300);
      },
      async close() {},
    };
    const { report, partial } = await analyzeWithinBudget(runner, cs(10), { rules: {}, mapFunctions: {}, unmapFunctions: {} }, 1000, () => clock);
    expect(partial).toContain('2 of 10 C/H files were not analysed');
    expect(report.files).toHaveLength(8);
    expect(report.skipped.map((s) => s.path)).toEqual(['x.bin', 'f8.c', 'f9.c']);
    expect(report.skipped[1]!.reason).toContain('analysis-time limit');
  });

  it('is complete when everything fits; repository values never exceed the operator\'s', async () => {
    const runner: AnalysisRunner = {
      analyze: async (c) => ({ name: c.name, findings: [], files: c.files.map((f) => ({ path: f.newPath!, functionsAnalysed: 1 })), skipped: c.skipped, gaps: [] }),
      close: async () => {},
    };
    const out = await analyzeWithinBudget(runner, cs(9), { rules: {}, mapFunctions: {}, unmapFunctions: {} }, 1000);
    expect(out.partial).toBeUndefined();
    expect(out.report.files).toHaveLength(9);
    expect(out.report.skipped).toEqual([{ path: 'x.bin', reason: 'binary file' }]);
    const limits = effectiveLimits({ maxFiles: 10, maxFileBytes: 100, maxAnalysisMs: 5000 }, { ...DEFAULT_APP_CONFIG, maxFiles: 50, maxFileBytes: 10, maxAnalysisSeconds: 1 });
    expect(limits).toEqual({ maxFiles: 10, maxFileBytes: 10, maxAnalysisMs: 1000 });
  });
});

describe('the App never runs code from the repository under review', () => {
  it('no App module can start a process or evaluate code', async () => {
    const { readdirSync, readFileSync } = await import('node:fs');
    const root = new URL('../../src/', import.meta.url);
    const offenders: string[] = [];
    for (const dir of ['app', 'app/queue', 'app/tree', 'handlers', 'comments', 'comments/scan']) {
      for (const f of readdirSync(new URL(`${dir}/`, root))) {
        if (!f.endsWith('.ts')) continue;
        const text = readFileSync(new URL(`${dir}/${f}`, root), 'utf8');
        if (/from 'node:(child_process|vm)'|require\('(node:)?child_process'\)|\bnew Function\(|(^|[^.\w])eval\(/m.test(text)) offenders.push(`${dir}/${f}`);
      }
    }
    expect(offenders).toEqual([]);
  });
});

describe('retryLaterOrGiveUp', () => {
  const policy = { attempts: 3, baseDelayMs: 1000, maxDelayMs: 10_000 };
  const logged: string[] = [];
  const log = { warn: (_o: object, m: string) => void logged.push(`warn ${m}`), error: (_o: object, m: string) => void logged.push(`error ${m}`) };
  const bad = Object.assign(new Error('Bad Gateway'), { status: 502 });
  const gone = Object.assign(new Error('Not Found'), { status: 404 });

  it.each([
    ['a transient error before the last attempt is retried later', bad, 1, 'retry'],
    ['a transient error on the last attempt is given up, saying how often it failed', bad, 3, 'GitHub answered 502, and kept failing after 3 attempts'],
    ['a permanent error is given up at once', gone, 1, 'GitHub answered 404'],
  ])('%s', (_name, err, attempt, expected) => {
    logged.length = 0;
    const run = () => retryLaterOrGiveUp(err, { attempt, maxAttempts: 3 }, policy, log, 'job');
    if (expected === 'retry') {
      expect(run).toThrow(RetryLater);
      expect(logged).toEqual(['warn job: transient failure, will be retried']);
    } else {
      expect(run()).toContain(expected);
      expect(logged).toEqual(['error job failed']);
    }
  });
});
