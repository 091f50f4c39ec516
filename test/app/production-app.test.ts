/**
 * The App under GitHub's failures and limits, with nock (every request validated against GitHub's
 * OpenAPI description): retries, the final failure text, supersede, the result cache, caps and partial
 * results, the configuration size cap, and the start-up recovery.
 */
import type { AnalyzeFn } from '../../src/app/runner.js';
import { recoverInterrupted } from '../../src/app/recovery.js';
import type { GitHub } from '../../src/app/collect.js';
import type { ReviewJob, WorkQueue } from '../../src/app/queue/types.js';
import { EmbeddedQueue } from '../../src/app/queue/embedded.js';
import { GitHubMock, useGitHubMock } from './helpers/github-mock.js';
import { fakeAnalyzer, finding, makeProbot } from './helpers/harness.js';
import {
  BASE_SHA, HEAD_SHA, KERNEL_FILE, OWNER, PR_NUMBER, REPO, checkRunEvent, contentResponse, fixture, prFile, pullRequestEvent, pullResponse,
} from './helpers/payloads.js';

const R = `/repos/${OWNER}/${REPO}`;
const NEW_SHA = '9'.repeat(40);
const base = fixture('kernel/xor-pages.base.c');
const wrong = fixture('kernel/xor-pages.wrong-order.c');
const wrongPatch = fixture('kernel/xor-pages.wrong-order.patch');
const encoded = encodeURIComponent(KERNEL_FILE);

let gh: GitHubMock;
useGitHubMock((m) => (gh = m));

const noRun = () => ({ total_count: 0, check_runs: [] });
const inProgress = (id: number) => () => ({ total_count: 1, check_runs: [{ id, name: 'kmap-review', status: 'in_progress', conclusion: null, started_at: new Date().toISOString() }] });

/** Files and contents of one attempt (contents carry blob SHAs: the cache keys on them). */
function mockCollect(times = 1, head = HEAD_SHA): void {
  gh.on('GET', `${R}/pulls/${PR_NUMBER}/files`, () => [prFile(KERNEL_FILE, wrongPatch)], times)
    .on('GET', `${R}/contents/${encoded}`, (_b, uri) =>
      uri.includes(BASE_SHA) ? contentResponse(KERNEL_FILE, base, '1'.repeat(40)) : contentResponse(KERNEL_FILE, wrong, uri.includes(head) ? '2'.repeat(40) : '3'.repeat(40)), 2 * times);
}

/** Answers `replies` in turn, the last one for every further call. */
function sequence(...replies: unknown[]): () => unknown {
  let i = 0;
  return () => replies[Math.min(i++, replies.length - 1)];
}

describe('retries', () => {
  it('a 502 on posting the review: the job is retried, reuses its check run, analyses once (cache), posts once', async () => {
    const analyze = fakeAnalyzer([finding({ line: 15 })]);
    const { probot, queue } = makeProbot(analyze);
    gh.config(OWNER, REPO).config(OWNER, REPO)
      .on('GET', `${R}/commits/${HEAD_SHA}/check-runs`, sequence(noRun(), inProgress(77)()), 2)
      .on('POST', `${R}/check-runs`, () => [201, { id: 77 }]);
    mockCollect(2);
    gh.on('GET', `${R}/pulls/${PR_NUMBER}/comments`, () => [], 2)
      .on('POST', `${R}/pulls/${PR_NUMBER}/reviews`, sequence([502, { message: 'Bad Gateway' }], [200, { id: 1 }]), 2)
      .on('PATCH', `${R}/check-runs/77`, () => ({ id: 77 }));
    await probot.receive({ id: 'r1', name: 'pull_request', payload: pullRequestEvent('opened') as never });
    await queue.onIdle();
    expect(gh.find('checks/create')).toHaveLength(1);
    expect(analyze.calls).toHaveLength(1);
    expect(gh.find('pulls/create-review')).toHaveLength(2);
    expect(gh.find('checks/update')[0]!.body).toMatchObject({ status: 'completed', conclusion: 'failure' });
  });

  it('a secondary rate limit (403, Retry-After) on creating the check run: retried, one check run', async () => {
    const analyze = fakeAnalyzer([]);
    const { probot, queue } = makeProbot(analyze);
    gh.config(OWNER, REPO).config(OWNER, REPO)
      .on('GET', `${R}/commits/${HEAD_SHA}/check-runs`, noRun, 2)
      .on('POST', `${R}/check-runs`, sequence(
        [403, { message: 'You have exceeded a secondary rate limit. Please wait a few minutes before you try again.' }, { 'retry-after': '1' }],
        [201, { id: 78 }]), 2);
    mockCollect(1);
    gh.on('GET', `${R}/pulls/${PR_NUMBER}/comments`, () => [])
      .on('PATCH', `${R}/check-runs/78`, () => ({ id: 78 }));
    await probot.receive({ id: 'r2', name: 'pull_request', payload: pullRequestEvent('opened') as never });
    await queue.onIdle();
    expect(gh.find('checks/update').map((c) => c.body.conclusion)).toEqual(['success']);
  });

  it('GitHub keeps failing: after the last attempt the check run is completed with a clear failure text', async () => {
    const { probot, queue } = makeProbot(fakeAnalyzer([]));
    gh.config(OWNER, REPO).config(OWNER, REPO).config(OWNER, REPO)
      .on('GET', `${R}/commits/${HEAD_SHA}/check-runs`, sequence(noRun(), inProgress(79)()), 3)
      .on('POST', `${R}/check-runs`, () => [201, { id: 79 }])
      .on('GET', `${R}/pulls/${PR_NUMBER}/files`, () => [500, { message: 'Server Error' }], 3)
      .on('PATCH', `${R}/check-runs/79`, () => ({ id: 79 }));
    await probot.receive({ id: 'r3', name: 'pull_request', payload: pullRequestEvent('opened') as never });
    await queue.onIdle();
    expect(gh.find('checks/create')).toHaveLength(1);
    const done = gh.find('checks/update')[0]!.body;
    expect(done).toMatchObject({ status: 'completed', conclusion: 'neutral' });
    expect(done.output.title).toBe('kmap-review could not finish');
    expect(done.output.summary).toContain('GitHub answered 500, and kept failing after 3 attempts');
    expect(done.actions[0].identifier).toBe('recheck');
  });
});

it('the last attempt ends on a rate limit: the "could not finish" update waits for its Retry-After first', async () => {
  const waits: { ms: number; updatesBefore: number }[] = [];
  const { probot, queue } = makeProbot(fakeAnalyzer([]), undefined, {
    sleep: async (ms) => { waits.push({ ms, updatesBefore: gh.find('checks/update').length }); },
  });
  const limited = [403, { message: 'You have exceeded a secondary rate limit. Please wait a few minutes before you try again.' }, { 'retry-after': '3' }];
  gh.config(OWNER, REPO).config(OWNER, REPO).config(OWNER, REPO)
    .on('GET', `${R}/commits/${HEAD_SHA}/check-runs`, sequence(noRun(), inProgress(80)()), 3)
    .on('POST', `${R}/check-runs`, () => [201, { id: 80 }])
    .on('GET', `${R}/pulls/${PR_NUMBER}/files`, () => limited, 3)
    .on('PATCH', `${R}/check-runs/80`, () => ({ id: 80 }));
  await probot.receive({ id: 'r3b', name: 'pull_request', payload: pullRequestEvent('opened') as never });
  await queue.onIdle();
  expect(waits).toEqual([{ ms: 3000, updatesBefore: 0 }]);
  const done = gh.find('checks/update')[0]!.body;
  expect(done.output.title).toBe('kmap-review could not finish');
  expect(done.output.summary).toContain('Retry-After 3 s');
});

describe('supersede, duplicates, cache', () => {
  // The cancel of the old run is answered by `cancels` in turn: at once, or refused once first (it is then
  // retried: a superseded run is never left in progress).
  it.each([
    ['the old run is completed as superseded, the new head reviewed', [{ id: 80 }]],
    ['GitHub refuses the first cancel: it is retried, the old run still completed as superseded', [[502, { message: 'Bad Gateway' }], { id: 80 }]],
  ])('a push while the older head is analysed: %s', async (_what, cancels) => {
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    let entered!: () => void;
    const inAnalysis = new Promise<void>((r) => (entered = r));
    const inner = fakeAnalyzer([]);
    const analyze: AnalyzeFn = async (cs, cfg) => {
      if (inner.calls.length === 0) {
        entered();
        await gate;
      }
      return inner(cs, cfg);
    };
    const { probot, queue } = makeProbot(analyze);
    gh.config(OWNER, REPO).config(OWNER, REPO)
      .on('GET', `${R}/commits/${HEAD_SHA}/check-runs`, noRun)
      .on('GET', `${R}/commits/${NEW_SHA}/check-runs`, noRun)
      .on('POST', `${R}/check-runs`, (body) => [201, { id: body.head_sha === HEAD_SHA ? 80 : 81 }], 2)
      .on('GET', `${R}/pulls/${PR_NUMBER}/files`, () => [prFile(KERNEL_FILE, wrongPatch)], 2)
      .on('GET', `${R}/contents/${encoded}`, (_b, uri) => contentResponse(KERNEL_FILE, uri.includes(BASE_SHA) ? base : wrong), 4)
      .on('GET', `${R}/pulls/${PR_NUMBER}/comments`, () => [])
      .on('PATCH', `${R}/check-runs/80`, sequence(...cancels), cancels.length)
      .on('PATCH', `${R}/check-runs/81`, () => ({ id: 81 }));
    await probot.receive({ id: `s1-${cancels.length}`, name: 'pull_request', payload: pullRequestEvent('opened') as never });
    await inAnalysis;
    await probot.receive({ id: `s2-${cancels.length}`, name: 'pull_request', payload: pullRequestEvent('synchronize', { headSha: NEW_SHA }) as never });
    release();
    await queue.onIdle();
    const updates = gh.find('checks/update');
    const olds = updates.filter((u) => u.path.endsWith('/80'));
    expect(olds).toHaveLength(cancels.length);
    const old = olds[olds.length - 1]!.body;
    expect(old).toMatchObject({ status: 'completed', conclusion: 'cancelled' });
    expect(old.output.title).toBe('Superseded by a newer push');
    expect(updates.find((u) => u.path.endsWith('/81'))!.body).toMatchObject({ status: 'completed', conclusion: 'success' });
  });


  it('a push while the older head waits for a retry: the check run it started is completed as superseded', async () => {
    const { probot, queue } = makeProbot(fakeAnalyzer([]), undefined, { retry: { attempts: 3, baseDelayMs: 60_000, maxDelayMs: 60_000 } });
    gh.config(OWNER, REPO).config(OWNER, REPO)
      .on('GET', `${R}/commits/${HEAD_SHA}/check-runs`, sequence(noRun(), inProgress(87)()), 2)
      .on('GET', `${R}/commits/${NEW_SHA}/check-runs`, noRun)
      .on('POST', `${R}/check-runs`, (body) => [201, { id: body.head_sha === HEAD_SHA ? 87 : 88 }], 2)
      .on('GET', `${R}/pulls/${PR_NUMBER}/files`, sequence([502, { message: 'Bad Gateway' }], [prFile(KERNEL_FILE, wrongPatch)]), 2)
      .on('GET', `${R}/contents/${encoded}`, (_b, uri) => contentResponse(KERNEL_FILE, uri.includes(BASE_SHA) ? base : wrong), 2)
      .on('GET', `${R}/pulls/${PR_NUMBER}/comments`, () => [])
      .on('PATCH', `${R}/check-runs/87`, () => ({ id: 87 }))
      .on('PATCH', `${R}/check-runs/88`, () => ({ id: 88 }));
    await probot.receive({ id: 'w1', name: 'pull_request', payload: pullRequestEvent('opened') as never });
    while ((await queue.stats()).delayed === 0) await new Promise((r) => setTimeout(r, 5));
    await probot.receive({ id: 'w2', name: 'pull_request', payload: pullRequestEvent('synchronize', { headSha: NEW_SHA }) as never });
    await queue.onIdle();
    const updates = gh.find('checks/update');
    expect(updates.find((u) => u.path.endsWith('/87'))!.body).toMatchObject({ status: 'completed', conclusion: 'cancelled', output: { title: 'Superseded by a newer push' } });
    expect(updates.find((u) => u.path.endsWith('/88'))!.body).toMatchObject({ status: 'completed', conclusion: 'success' });
  });

  it('a duplicate delivery id is dropped before any work', async () => {
    const analyze = fakeAnalyzer([]);
    const { probot, queue } = makeProbot(analyze);
    // As if delivery 'dup' had been handled already; GitHub's "Redeliver" sends the same id again.
    expect(await queue.firstDelivery('dup')).toBe(true);
    await probot.receive({ id: 'dup', name: 'pull_request', payload: pullRequestEvent('opened') as never });
    await queue.onIdle();
    expect(analyze.calls).toHaveLength(0);
    expect(gh.calls).toEqual([]);
  });

  it('a recheck of an unchanged pull request does no parsing (cached by blob SHAs, engine version, config)', async () => {
    const analyze = fakeAnalyzer([finding({ line: 15 })]);
    const { probot, queue } = makeProbot(analyze);
    gh.config(OWNER, REPO).config(OWNER, REPO)
      .on('GET', `${R}/commits/${HEAD_SHA}/check-runs`, sequence(noRun(), { total_count: 1, check_runs: [{ id: 82, name: 'kmap-review', status: 'completed', conclusion: 'failure', started_at: null }] }), 2)
      .on('POST', `${R}/check-runs`, sequence([201, { id: 82 }], [201, { id: 83 }]), 2)
      .on('GET', `${R}/pulls/${PR_NUMBER}`, () => pullResponse());
    mockCollect(2);
    gh.on('GET', `${R}/pulls/${PR_NUMBER}/comments`, sequence([], [{ id: 5, path: KERNEL_FILE, body: 'x\n<!-- kmap-review:fp=fp-unmap-order-15 -->', user: { type: 'Bot' } }]), 2)
      .on('POST', `${R}/pulls/${PR_NUMBER}/reviews`, () => ({ id: 1 }))
      .on('PATCH', /\/check-runs\/8[23]$/, () => ({ id: 1 }), 2);
    await probot.receive({ id: 'c1', name: 'pull_request', payload: pullRequestEvent('opened') as never });
    await queue.onIdle();
    await probot.receive({ id: 'c2', name: 'check_run', payload: checkRunEvent('rerequested') as never });
    await queue.onIdle();
    expect(analyze.calls).toHaveLength(1);
    const [first, second] = gh.find('checks/update').map((c) => c.body);
    expect(second.conclusion).toBe(first.conclusion);
    expect(second.output.annotations).toEqual(first.output.annotations);
    expect(gh.find('pulls/create-review')).toHaveLength(1);
  });
});

describe('request policy', () => {
  it('with Probot\'s retry plugin on, a failed write is not retried request by request (the job retries); a read is', async () => {
    const { ProbotOctokit } = await import('probot');
    const { withRequestPolicy } = await import('../../src/app/index.js');
    const octokit = withRequestPolicy(new ProbotOctokit({ auth: { token: 'test' }, throttle: { enabled: false }, retry: { retryAfterBaseValue: 1 } }) as unknown as GitHub, 5000);
    gh.on('POST', `${R}/check-runs`, () => [502, { message: 'Bad Gateway' }])
      .on('GET', `${R}/pulls/${PR_NUMBER}`, sequence([502, { message: 'Bad Gateway' }], pullResponse()), 2);
    await expect(octokit.rest.checks.create({ owner: OWNER, repo: REPO, name: 'kmap-review', head_sha: HEAD_SHA })).rejects.toMatchObject({ status: 502 });
    expect(gh.find('checks/create')).toHaveLength(1);
    expect((await octokit.rest.pulls.get({ owner: OWNER, repo: REPO, pull_number: PR_NUMBER })).data.number).toBe(PR_NUMBER);
    expect(gh.find('pulls/get')).toHaveLength(2);
  });
});

describe('limits', () => {
  function mockRun(id: number, files: unknown[], contents: Record<string, string>, yaml?: string): void {
    gh.config(OWNER, REPO, yaml)
      .on('GET', `${R}/commits/${HEAD_SHA}/check-runs`, noRun)
      .on('POST', `${R}/check-runs`, () => [201, { id }])
      .on('GET', `${R}/pulls/${PR_NUMBER}/files`, () => files);
    for (const [path, text] of Object.entries(contents)) {
      gh.on('GET', `${R}/contents/${encodeURIComponent(path)}`, () => contentResponse(path, text), 2);
    }
    gh.on('GET', `${R}/pulls/${PR_NUMBER}/comments`, () => []).on('PATCH', `${R}/check-runs/${id}`, () => ({ id }));
  }

  it('files per pull request: the cap is reported in the summary', async () => {
    const analyze = fakeAnalyzer([]);
    const { probot, queue } = makeProbot(analyze);
    mockRun(84, [prFile('a/one.c', '@@ -1 +1 @@\n-a\n+b'), prFile('a/two.c', '@@ -1 +1 @@\n-a\n+b')], { 'a/one.c': 'int x;\n' }, 'max_files: 1\n');
    await probot.receive({ id: 'l1', name: 'pull_request', payload: pullRequestEvent('opened') as never });
    await queue.onIdle();
    const summary = gh.find('checks/update')[0]!.body.output.summary;
    expect(summary).toContain('**Limits reached:**');
    expect(summary).toContain('files per pull request (max_files = 1): 1 C/H files not analysed');
  });

  it('analysis time: a result cut short is marked partial and never passes as complete', async () => {
    const { probot, queue } = makeProbot(() => new Promise(() => {}));
    mockRun(85, [prFile('a/one.c', '@@ -1 +1 @@\n-a\n+b')], { 'a/one.c': 'int x;\n' }, 'max_analysis_seconds: 1\n');
    await probot.receive({ id: 'l2', name: 'pull_request', payload: pullRequestEvent('opened') as never });
    await queue.onIdle();
    const done = gh.find('checks/update')[0]!.body;
    expect(done.conclusion).toBe('neutral');
    expect(done.output.title).toMatch(/^Partial: .*\(time limit reached\)$/);
    expect(done.output.summary).toContain('**Partial result:** the analysis stopped at the 1 s time limit');
    expect(done.output.summary).toContain('not analysed: the 1 s analysis-time limit was reached');
  });

  it('a configuration file over 64 KiB is not parsed: reported, defaults apply', async () => {
    const analyze = fakeAnalyzer([]);
    const { probot, queue } = makeProbot(analyze);
    mockRun(86, [prFile('a/one.c', '@@ -1 +1 @@\n-a\n+b')], { 'a/one.c': 'int x;\n' }, `drafts: true\n${'#'.repeat(70_000)}\n`);
    await probot.receive({ id: 'l3', name: 'pull_request', payload: pullRequestEvent('opened') as never });
    await queue.onIdle();
    expect(gh.find('checks/update')[0]!.body.output.summary).toContain('over the 65536-byte limit: ignored');
  });
});

describe('recovery at start', () => {
  const TREE_SHA = '7'.repeat(40);
  const leftAt = () => new Date(Date.now() - 3600_000).toISOString();
  function mockScan(treeRuns: object[] = []): void {
    gh.on('GET', '/app/installations', () => [{ id: 5, account: { login: OWNER } }])
      .on('GET', '/installation/repositories', () => ({ total_count: 1, repositories: [{ name: REPO, owner: { login: OWNER }, default_branch: 'main' }] }))
      .on('GET', `${R}/pulls`, () => [pullResponse()])
      .on('GET', `${R}/commits/${HEAD_SHA}/check-runs`, (_b, uri) => {
        expect(new URL(uri, 'http://x').searchParams.get('status')).toBe('in_progress');
        return { total_count: 1, check_runs: [{ id: 90, name: 'kmap-review', status: 'in_progress', head_sha: HEAD_SHA, started_at: leftAt() }] };
      })
      .on('GET', `${R}/commits/main/check-runs`, (_b, uri) => {
        const q = new URL(uri, 'http://x').searchParams;
        expect([q.get('check_name'), q.get('status')]).toEqual(['kmap-review / tree', 'in_progress']);
        return { total_count: treeRuns.length, check_runs: treeRuns };
      });
  }
  const treeRun = { id: 91, name: 'kmap-review / tree', status: 'in_progress', head_sha: TREE_SHA, started_at: leftAt() };

  it('embedded: a check run left in progress is completed as cancelled, with the re-run button', async () => {
    const { probot } = makeProbot(fakeAnalyzer([]));
    mockScan();
    gh.on('PATCH', `${R}/check-runs/90`, () => ({ id: 90 }));
    const octokit = (await probot.auth()) as GitHub;
    const result = await recoverInterrupted({ appOctokit: octokit, octokitFor: async () => octokit, queue: new EmbeddedQueue(), log: probot.log, startedAt: Date.now() });
    expect(result).toMatchObject({ found: 1, cancelled: 1, requeued: 0, errors: 0 });
    const body = gh.find('checks/update')[0]!.body;
    expect(body).toMatchObject({ status: 'completed', conclusion: 'cancelled', actions: [{ identifier: 'recheck' }] });
    expect(body.output.title).toBe('Interrupted: kmap-review restarted');
  });

  it('Redis: the review is queued again (the job will reuse the in-progress run)', async () => {
    const { probot } = makeProbot(fakeAnalyzer([]));
    mockScan();
    const added: ReviewJob[] = [];
    const queue = { kind: 'redis', add: async (j: ReviewJob) => (added.push(j), 'queued') } as unknown as WorkQueue;
    const octokit = (await probot.auth()) as GitHub;
    const result = await recoverInterrupted({ appOctokit: octokit, octokitFor: async () => octokit, queue, log: probot.log, startedAt: Date.now() });
    expect(result).toMatchObject({ found: 1, requeued: 1 });
    expect(added[0]).toMatchObject({ installationId: 5, owner: OWNER, repo: REPO, pullNumber: PR_NUMBER, headSha: HEAD_SHA, force: false, deliveryId: 'recovery-90' });
    expect(gh.find('checks/update')).toHaveLength(0);
  });

  it('the default branch\'s tree run too: cancelled with the re-run button (embedded), queued again as a tree scan (Redis)', async () => {
    const { probot } = makeProbot(fakeAnalyzer([]));
    mockScan([treeRun]);
    gh.on('PATCH', `${R}/check-runs/90`, () => ({ id: 90 })).on('PATCH', `${R}/check-runs/91`, () => ({ id: 91 }));
    const octokit = (await probot.auth()) as GitHub;
    const embedded = await recoverInterrupted({ appOctokit: octokit, octokitFor: async () => octokit, queue: new EmbeddedQueue(), log: probot.log, startedAt: Date.now() });
    expect(embedded).toMatchObject({ found: 2, cancelled: 2, errors: 0 });
    expect(gh.find('checks/update').map((c) => c.body.conclusion)).toEqual(['cancelled', 'cancelled']);
    expect(gh.find('checks/update')[1]!.body).toMatchObject({ actions: [{ identifier: 'recheck' }] });

    mockScan([treeRun, { ...treeRun, id: 92, started_at: new Date(Date.now() + 1000).toISOString() }]);
    const added: ReviewJob[] = [];
    const queue = { kind: 'redis', add: async (j: ReviewJob) => (added.push(j), 'queued') } as unknown as WorkQueue;
    const redis = await recoverInterrupted({ appOctokit: octokit, octokitFor: async () => octokit, queue, log: probot.log, startedAt: Date.now() });
    // Run 92 started after this process did: it is this process's own, left alone.
    expect(redis).toMatchObject({ found: 2, requeued: 2, errors: 0 });
    expect(added[1]).toMatchObject({ kind: 'tree', owner: OWNER, repo: REPO, pullNumber: 0, headSha: TREE_SHA, force: false, deliveryId: 'recovery-91' });
  });
});
