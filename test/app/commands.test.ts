import { ProbotOctokit, type Logger } from 'probot';
import { CommandWorker, replyMarker } from '../../src/app/command-job.js';
import type { GitHub } from '../../src/app/collect.js';
import { EmbeddedQueue } from '../../src/app/queue/embedded.js';
import type { JobContext, JobProcessor, ReviewJob } from '../../src/app/queue/types.js';
import { RetryLater } from '../../src/app/retry.js';
import type { ScheduleRequest, ScheduleResult } from '../../src/app/scheduler.js';
import { parseCommand } from '../../src/handlers/issue-comment.js';
import { GitHubMock, useGitHubMock } from './helpers/github-mock.js';
import { RULES, fakeAnalyzer, makeProbot } from './helpers/harness.js';
import {
  BASE_SHA, HEAD_SHA, KERNEL_FILE, OWNER, PR_NUMBER, REPO, checkRunEvent, checkSuiteEvent, contentResponse, fixture,
  issueCommentEvent, prFile, pullRequestEvent, pullResponse,
} from './helpers/payloads.js';

const R = `/repos/${OWNER}/${REPO}`;
const COMMENT_ID = 444500041;

let gh: GitHubMock;
useGitHubMock((m) => (gh = m));

/**
 * A full forced run on the current head. Rechecks always run; the worker still looks for an in-progress
 * run on the head (its own from an earlier attempt) so that a retried job does not add a second one.
 */
function mockForcedRun(): void {
  gh.on('GET', `${R}/pulls/${PR_NUMBER}`, () => pullResponse())
    .config(OWNER, REPO)
    .on('GET', `${R}/commits/${HEAD_SHA}/check-runs`, () => ({
      total_count: 1, check_runs: [{ id: 5, name: 'kmap-review', status: 'completed', conclusion: 'success', started_at: new Date().toISOString() }],
    }))
    .on('POST', `${R}/check-runs`, () => [201, { id: 88 }])
    .on('GET', `${R}/pulls/${PR_NUMBER}/files`, () => [prFile(KERNEL_FILE, fixture('kernel/xor-pages.clean.patch'))])
    .on('GET', `${R}/contents/${encodeURIComponent(KERNEL_FILE)}`, (_b, uri) =>
      contentResponse(KERNEL_FILE, fixture(uri.includes(BASE_SHA) ? 'kernel/xor-pages.base.c' : 'kernel/xor-pages.clean.c')), 2)
    .on('GET', `${R}/pulls/${PR_NUMBER}/comments`, () => [])
    .on('PATCH', `${R}/check-runs/88`, () => ({ id: 88 }));
}

const eyes = () => gh.on('POST', `${R}/issues/comments/${COMMENT_ID}/reactions`, (body) => {
  expect(body).toEqual({ content: 'eyes' });
  return [201, { id: 1, content: 'eyes' }];
});

describe('parseCommand', () => {
  it('finds the first line-anchored command, ignores code blocks and prose', () => {
    expect(parseCommand('/kmap-review recheck')).toEqual({ verb: 'recheck' });
    expect(parseCommand('Thanks!\n\n  /kmap-review explain unmap-order  \nmore')).toEqual({ verb: 'explain', arg: 'unmap-order' });
    expect(parseCommand('/KMAP-REVIEW Help')).toEqual({ verb: 'help' });
    expect(parseCommand('/kmap-review')).toEqual({ verb: 'help' });
    expect(parseCommand('please run /kmap-review recheck')).toBeUndefined();
    expect(parseCommand('```\n/kmap-review recheck\n```')).toBeUndefined();
    expect(parseCommand('/kmap-reviewer recheck')).toBeUndefined();
  });
});

describe('comment commands', () => {
  it('a maintainer\'s /kmap-review recheck: 👀, permission check, a new run on the current head', async () => {
    const analyze = fakeAnalyzer([]);
    const { probot, queue } = makeProbot(analyze);
    eyes();
    gh.on('GET', `${R}/collaborators/maintainer/permission`, () => ({ permission: 'write', role_name: 'maintain', user: null }));
    mockForcedRun();
    await probot.receive({ id: 'c1', name: 'issue_comment', payload: issueCommentEvent('/kmap-review recheck') as never });
    await queue.onIdle();
    expect(analyze.calls).toHaveLength(1);
    expect(gh.find('checks/create')[0]!.body.output.summary).toContain('/kmap-review recheck by @maintainer');
    expect(gh.find('checks/update')[0]!.body.conclusion).toBe('success');
  });

  it('a reader\'s recheck gets a polite reply and nothing runs (author_association is not trusted)', async () => {
    const analyze = fakeAnalyzer([]);
    const { probot, queue } = makeProbot(analyze);
    eyes();
    gh.on('GET', `${R}/collaborators/reader/permission`, () => ({ permission: 'read', role_name: 'triage', user: null }))
      .on('POST', `${R}/issues/${PR_NUMBER}/comments`, (body) => [201, { id: 2, body: body.body }]);
    const payload = issueCommentEvent('/kmap-review recheck', { login: 'reader' });
    payload.comment.author_association = 'OWNER';
    await probot.receive({ id: 'c2', name: 'issue_comment', payload: payload as never });
    await queue.onIdle();
    expect(analyze.calls).toHaveLength(0);
    expect(gh.find('issues/create-comment')[0]!.body.body).toContain('Sorry @reader');
    expect(gh.find('checks/create')).toHaveLength(0);
  });

  it('a non-collaborator (404) is refused too', async () => {
    const { probot, queue } = makeProbot(fakeAnalyzer([]));
    eyes();
    gh.on('GET', `${R}/collaborators/stranger/permission`, () => [404, { message: 'Not Found' }])
      .on('POST', `${R}/issues/${PR_NUMBER}/comments`, () => [201, { id: 2 }]);
    await probot.receive({ id: 'c3', name: 'issue_comment', payload: issueCommentEvent('/kmap-review recheck', { login: 'stranger' }) as never });
    await queue.onIdle();
    expect(gh.find('issues/create-comment')[0]!.body.body).toContain('(yours: none)');
  });

  it('explain RULE replies with the rule\'s doc; an unknown rule lists the rules', async () => {
    const { probot, queue } = makeProbot(fakeAnalyzer([]));
    eyes();
    gh.on('POST', `${R}/issues/${PR_NUMBER}/comments`, () => [201, { id: 2 }]);
    await probot.receive({ id: 'c4', name: 'issue_comment', payload: issueCommentEvent('/kmap-review explain unmap-order') as never });
    await queue.onIdle();
    expect(gh.find('issues/create-comment')[0]!.body.body).toContain('### `unmap-order`: kunmap_local() calls must be in reverse order');

    eyes();
    gh.on('POST', `${R}/issues/${PR_NUMBER}/comments`, () => [201, { id: 3 }]);
    await probot.receive({ id: 'c5', name: 'issue_comment', payload: issueCommentEvent('/kmap-review explain nope') as never });
    await queue.onIdle();
    expect(gh.find('issues/create-comment')[1]!.body.body).toContain("I don't know the rule `nope`");
    expect(gh.find('issues/create-comment')[1]!.body.body).toContain('- `mismatched-unmap`');
  });

  it('help replies with the commands', async () => {
    const { probot, queue } = makeProbot(fakeAnalyzer([]));
    eyes();
    gh.on('POST', `${R}/issues/${PR_NUMBER}/comments`, () => [201, { id: 2 }]);
    await probot.receive({ id: 'c6', name: 'issue_comment', payload: issueCommentEvent('/kmap-review help') as never });
    await queue.onIdle();
    expect(gh.find('issues/create-comment')[0]!.body.body).toContain('`/kmap-review recheck`');
  });

  it('ignores bots, plain issues and comments without a command (no API call at all)', async () => {
    const { probot, queue } = makeProbot(fakeAnalyzer([]));
    await probot.receive({ id: 'c7', name: 'issue_comment', payload: issueCommentEvent('/kmap-review recheck', { userType: 'Bot', login: 'x[bot]' }) as never });
    await probot.receive({ id: 'c8', name: 'issue_comment', payload: issueCommentEvent('/kmap-review recheck', { onPullRequest: false }) as never });
    await probot.receive({ id: 'c9', name: 'issue_comment', payload: issueCommentEvent('LGTM') as never });
    await queue.onIdle();
    expect(gh.calls).toEqual([]);
    expect(await queue.stats()).toEqual({ pending: 0, running: 0, delayed: 0 });
  });
});

describe('Checks tab re-runs', () => {
  it('check_run.rerequested re-runs the current head', async () => {
    const analyze = fakeAnalyzer([]);
    const { probot, queue } = makeProbot(analyze);
    mockForcedRun();
    await probot.receive({ id: 'k1', name: 'check_run', payload: checkRunEvent('rerequested') as never });
    await queue.onIdle();
    expect(analyze.calls).toHaveLength(1);
    expect(gh.find('checks/create')[0]!.body.head_sha).toBe(HEAD_SHA);
  });

  it('the requested_action button re-runs; an unknown action identifier does nothing', async () => {
    const analyze = fakeAnalyzer([]);
    const { probot, queue } = makeProbot(analyze);
    mockForcedRun();
    await probot.receive({ id: 'k2', name: 'check_run', payload: checkRunEvent('requested_action') as never });
    await probot.receive({ id: 'k3', name: 'check_run', payload: checkRunEvent('requested_action', { identifier: 'lgtm|26764' }) as never });
    await queue.onIdle();
    expect(analyze.calls).toHaveLength(1);
  });

  it('check_suite.rerequested from a fork (no pull_requests) finds the PR by head SHA', async () => {
    const analyze = fakeAnalyzer([]);
    const { probot, queue } = makeProbot(analyze);
    gh.on('GET', `${R}/pulls`, (_b, uri) => {
      expect(uri).toContain('state=open');
      return [pullResponse(), pullResponse({ number: 9, headSha: 'f'.repeat(40) })];
    });
    mockForcedRun();
    await probot.receive({ id: 'k4', name: 'check_suite', payload: checkSuiteEvent() as never });
    await queue.onIdle();
    expect(analyze.calls).toHaveLength(1);
  });
});

const quiet: Logger = { info() {}, warn() {}, error() {}, debug() {}, child: () => quiet } as unknown as Logger;

/** An embedded queue whose workers start only when the test says: what the handlers did is all there is. */
class HeldQueue extends EmbeddedQueue {
  #processor: JobProcessor | undefined;
  override start(processor: JobProcessor): void {
    this.#processor = processor;
  }
  release(): void {
    super.start(this.#processor!);
  }
}

describe('the handlers only enqueue: every GitHub call happens in the queued job', () => {
  it('comment commands: no request at all until the queue runs, then 👀, permission, review and reply', async () => {
    const analyze = fakeAnalyzer([]);
    const queue = new HeldQueue({ concurrency: 2, maxAttempts: 3 });
    const { probot } = makeProbot(analyze, RULES, { queue });
    const help = issueCommentEvent('/kmap-review help');
    help.comment.id = COMMENT_ID + 1;
    await probot.receive({ id: 'h1', name: 'issue_comment', payload: issueCommentEvent('/kmap-review recheck') as never });
    await probot.receive({ id: 'h2', name: 'issue_comment', payload: help as never });
    // A redelivery of the same event is dropped by the handler, still without asking GitHub anything.
    await probot.receive({ id: 'h2', name: 'issue_comment', payload: help as never });
    expect(gh.calls).toEqual([]);
    expect(await queue.stats()).toEqual({ pending: 2, running: 0, delayed: 0 });

    eyes();
    gh.on('POST', `${R}/issues/comments/${COMMENT_ID + 1}/reactions`, () => [201, { id: 2, content: 'eyes' }])
      .on('GET', `${R}/collaborators/maintainer/permission`, () => ({ permission: 'admin', role_name: 'admin', user: null }))
      .on('POST', `${R}/issues/${PR_NUMBER}/comments`, (body) => [201, { id: 3, body: body.body }]);
    mockForcedRun();
    queue.release();
    await queue.onIdle();
    expect(analyze.calls).toHaveLength(1);
    expect(gh.find('checks/create')[0]!.body.output.summary).toContain('/kmap-review recheck by @maintainer');
    const replies = gh.find('issues/create-comment');
    expect(replies).toHaveLength(1);
    expect(replies[0]!.body.body).toContain('`/kmap-review recheck`');
    expect(replies[0]!.body.body).toContain(replyMarker(COMMENT_ID + 1));
  });

  it.each([
    ['check_run.rerequested', 'check_run', () => checkRunEvent('rerequested')],
    ['check_run.requested_action', 'check_run', () => checkRunEvent('requested_action')],
    ['check_suite.rerequested (a fork: the PR is found by head SHA)', 'check_suite', () => checkSuiteEvent()],
  ])('%s: no request until the queue runs, then the PR is resolved and reviewed', async (_label, name, payload) => {
    const analyze = fakeAnalyzer([]);
    const queue = new HeldQueue({ concurrency: 2, maxAttempts: 3 });
    const { probot } = makeProbot(analyze, RULES, { queue });
    await probot.receive({ id: 'k-held', name: name as 'check_run', payload: payload() as never });
    expect(gh.calls).toEqual([]);
    expect(await queue.stats()).toEqual({ pending: 1, running: 0, delayed: 0 });

    if (name === 'check_suite') gh.on('GET', `${R}/pulls`, () => [pullResponse(), pullResponse({ number: 9, headSha: 'f'.repeat(40) })]);
    mockForcedRun();
    queue.release();
    await queue.onIdle();
    expect(analyze.calls).toHaveLength(1);
    expect(gh.find('checks/create')[0]!.body.head_sha).toBe(HEAD_SHA);
  });

  it('a refused or failing command job never holds up the webhook: the handler has already returned', async () => {
    const queue = new HeldQueue({ concurrency: 1, maxAttempts: 1 });
    const { probot } = makeProbot(fakeAnalyzer([]), RULES, { queue, retry: { attempts: 1, baseDelayMs: 0, maxDelayMs: 0 } });
    await probot.receive({ id: 'f1', name: 'issue_comment', payload: issueCommentEvent('/kmap-review recheck') as never });
    expect(gh.calls).toEqual([]);
    // The only attempt: the permission look-up fails. The job gives up (logged); nothing is posted.
    eyes();
    gh.on('GET', `${R}/collaborators/maintainer/permission`, () => [502, { message: 'Bad Gateway' }]);
    queue.release();
    await queue.onIdle();
    expect(gh.find('issues/create-comment')).toHaveLength(0);
    expect(gh.find('checks/create')).toHaveLength(0);
  });

  it('an event refused with 503 (backlog full) is taken when GitHub redelivers it: refused work is not lost', async () => {
    const queue = new HeldQueue({ concurrency: 1, maxAttempts: 1, maxBacklog: 1 });
    const { probot } = makeProbot(fakeAnalyzer([]), RULES, { queue });
    await probot.receive({ id: 'full-1', name: 'pull_request', payload: pullRequestEvent('opened', { number: 7 }) as never });
    const refused = (id: string, name: 'pull_request' | 'issue_comment' | 'check_run', payload: object) =>
      probot.receive({ id, name, payload: payload as never }).then(() => 0, (e: { errors?: Array<{ status?: number }> }) => e.errors?.[0]?.status ?? -1);
    expect(await refused('full-2', 'pull_request', pullRequestEvent('opened'))).toBe(503);
    expect(await refused('full-3', 'issue_comment', issueCommentEvent('/kmap-review recheck'))).toBe(503);
    expect(await refused('full-4', 'check_run', checkRunEvent('rerequested'))).toBe(503);
    expect(await queue.stats()).toEqual({ pending: 1, running: 0, delayed: 0 });
    // The refused deliveries were forgotten: GitHub's "Redeliver" (same ids) will be taken, the accepted one not.
    expect(await queue.firstDelivery('full-1')).toBe(false);
    for (const id of ['full-2', 'full-3', 'full-4']) expect(await queue.firstDelivery(id)).toBe(true);
  });
});

describe('retried command jobs', () => {
  const reactions = () => gh.on('POST', `${R}/issues/comments/${COMMENT_ID}/reactions`, () => [200, { id: 1, content: 'eyes' }], 2);

  it('a reply GitHub stored although its POST answered 502 is found by the retry and not posted again', async () => {
    const { probot, queue } = makeProbot(fakeAnalyzer([]));
    const stored: { id: number; body: string }[] = [];
    reactions()
      .on('POST', `${R}/issues/${PR_NUMBER}/comments`, (body) => {
        stored.push({ id: 70, body: body.body });
        return [502, { message: 'Bad Gateway' }];
      })
      .on('GET', `${R}/issues/${PR_NUMBER}/comments`, (_b, uri) => {
        // Only the comments since the command are read back.
        expect(decodeURIComponent(uri)).toContain('since=');
        return [{ id: 69, body: 'LGTM' }, ...stored];
      });
    const payload = issueCommentEvent('/kmap-review help');
    await probot.receive({ id: 'r1', name: 'issue_comment', payload: payload as never });
    await queue.onIdle();
    expect(gh.ops()).toEqual(['reactions/create-for-issue-comment', 'issues/create-comment', 'reactions/create-for-issue-comment', 'issues/list-comments']);
    expect(stored).toHaveLength(1);
    expect(stored[0]!.body).toContain(replyMarker(COMMENT_ID));
  });

  it('a reply whose POST failed with 500 (not stored) is posted by the retry, once', async () => {
    const { probot, queue } = makeProbot(fakeAnalyzer([]));
    let posts = 0;
    reactions()
      .on('POST', `${R}/issues/${PR_NUMBER}/comments`, () => (++posts === 1 ? [500, { message: 'Server Error' }] : [201, { id: 71 }]), 2)
      .on('GET', `${R}/issues/${PR_NUMBER}/comments`, () => [{ id: 69, body: `an answer to another command ${replyMarker(COMMENT_ID - 1)}` }]);
    await probot.receive({ id: 'r2', name: 'issue_comment', payload: issueCommentEvent('/kmap-review explain unmap-order') as never });
    await queue.onIdle();
    expect(gh.ops()).toEqual([
      'reactions/create-for-issue-comment', 'issues/create-comment', 'reactions/create-for-issue-comment', 'issues/list-comments', 'issues/create-comment',
    ]);
    const bodies = gh.find('issues/create-comment').map((c) => c.body.body as string);
    expect(bodies[1]).toBe(bodies[0]);
    expect(bodies[1]).toContain('### `unmap-order`');
  });

  it('a recheck whose pull-request read fails with 502 is retried and reviews once', async () => {
    const analyze = fakeAnalyzer([]);
    const { probot, queue } = makeProbot(analyze);
    reactions()
      .on('GET', `${R}/collaborators/maintainer/permission`, () => ({ permission: 'write', role_name: 'write', user: null }), 2)
      .on('GET', `${R}/pulls/${PR_NUMBER}`, () => [502, { message: 'Bad Gateway' }]);
    mockForcedRun();
    await probot.receive({ id: 'r3', name: 'issue_comment', payload: issueCommentEvent('/kmap-review recheck') as never });
    await queue.onIdle();
    expect(analyze.calls).toHaveLength(1);
    expect(gh.find('checks/create')).toHaveLength(1);
    expect(gh.find('issues/create-comment')).toHaveLength(0);
  });

  it('a full review backlog retries the command job later (BacklogFull → RetryLater), then schedules', async () => {
    const octokit = new ProbotOctokit({ auth: { token: 'test' }, throttle: { enabled: false }, retry: { enabled: false } }) as unknown as GitHub;
    const answers: ScheduleResult[] = ['backlog-full', 'queued'];
    const scheduled: ScheduleRequest[] = [];
    const worker = new CommandWorker({
      octokitFor: async () => octokit,
      rules: async () => RULES,
      scheduler: { schedule: async (req) => (scheduled.push(req), answers.shift()!) },
      retry: { attempts: 3, baseDelayMs: 1000, maxDelayMs: 1000 },
      log: quiet,
    });
    const job: ReviewJob = {
      kind: 'command', installationId: 1, owner: OWNER, repo: REPO, pullNumber: PR_NUMBER, headSha: HEAD_SHA, baseSha: '',
      draft: false, updatedAt: 0, trigger: 'check_run.rerequested', force: false, deliveryId: 'bf', command: { type: 'rerun', pullNumbers: [PR_NUMBER] },
    };
    const ctx = (attempt: number): JobContext => ({ attempt, maxAttempts: 3, resumed: attempt > 1, isSuperseded: async () => false });
    gh.on('GET', `${R}/pulls/${PR_NUMBER}`, () => pullResponse(), 2);
    const first = worker.process(job, ctx(1));
    await expect(first).rejects.toBeInstanceOf(RetryLater);
    await expect(first).rejects.toMatchObject({ reason: 'the review queue is full' });
    expect(await worker.process(job, ctx(2))).toBe('scheduled');
    expect(scheduled.map((r) => [r.pr.pullNumber, r.pr.headSha, r.force, r.trigger, r.deliveryId]))
      .toEqual([[PR_NUMBER, HEAD_SHA, true, 'check_run.rerequested', 'bf'], [PR_NUMBER, HEAD_SHA, true, 'check_run.rerequested', 'bf']]);
  });

  it('a closed pull request: the recheck says so and nothing runs', async () => {
    const analyze = fakeAnalyzer([]);
    const { probot, queue } = makeProbot(analyze);
    eyes();
    gh.on('GET', `${R}/collaborators/maintainer/permission`, () => ({ permission: 'write', role_name: 'write', user: null }))
      .on('GET', `${R}/pulls/${PR_NUMBER}`, () => ({ ...pullResponse(), state: 'closed' }))
      .on('POST', `${R}/issues/${PR_NUMBER}/comments`, () => [201, { id: 2 }]);
    await probot.receive({ id: 'r4', name: 'issue_comment', payload: issueCommentEvent('/kmap-review recheck') as never });
    await queue.onIdle();
    expect(analyze.calls).toHaveLength(0);
    expect(gh.find('issues/create-comment')[0]!.body.body).toContain('This pull request is closed');
  });
});

describe('command jobs and the review jobs of the same pull request', () => {
  it('a pending review and a recheck of the same pull request are both queued: neither replaces, supersedes nor dedupes the other', async () => {
    const analyze = fakeAnalyzer([]);
    const queue = new HeldQueue({ concurrency: 1, maxAttempts: 3 });
    const { probot } = makeProbot(analyze, RULES, { queue });
    const { pullRequestEvent } = await import('./helpers/payloads.js');
    await probot.receive({ id: 'p1', name: 'pull_request', payload: pullRequestEvent('opened') as never });
    await probot.receive({ id: 'p2', name: 'issue_comment', payload: issueCommentEvent('/kmap-review recheck') as never });
    await probot.receive({ id: 'p3', name: 'check_run', payload: checkRunEvent('rerequested') as never });
    // A review event for the same head is still deduplicated against the pending review (not against the commands).
    await probot.receive({ id: 'p4', name: 'pull_request', payload: pullRequestEvent('reopened') as never });
    expect(gh.calls).toEqual([]);
    expect(await queue.stats()).toEqual({ pending: 3, running: 0, delayed: 0 });

    // One worker: the review, then the recheck (which schedules a forced review: nothing pending or running
    // for the pull request any more, so it is queued), then the re-run (its forced review of the same head
    // is pending already: deduplicated), then that forced review.
    gh.config(OWNER, REPO).config(OWNER, REPO);
    eyes();
    gh.on('GET', `${R}/collaborators/maintainer/permission`, () => ({ permission: 'write', role_name: 'write', user: null }))
      .on('GET', `${R}/pulls/${PR_NUMBER}`, () => pullResponse(), 2)
      .on('GET', `${R}/commits/${HEAD_SHA}/check-runs`, () => ({ total_count: 0, check_runs: [] }), 2)
      .on('POST', `${R}/check-runs`, () => [201, { id: 88 }], 2)
      .on('GET', `${R}/pulls/${PR_NUMBER}/files`, () => [prFile(KERNEL_FILE, fixture('kernel/xor-pages.clean.patch'))], 2)
      .on('GET', `${R}/contents/${encodeURIComponent(KERNEL_FILE)}`, (_b, uri) =>
        contentResponse(KERNEL_FILE, fixture(uri.includes(BASE_SHA) ? 'kernel/xor-pages.base.c' : 'kernel/xor-pages.clean.c')), 4)
      .on('GET', `${R}/pulls/${PR_NUMBER}/comments`, () => [], 2)
      .on('PATCH', `${R}/check-runs/88`, () => ({ id: 88 }), 2);
    queue.release();
    await queue.onIdle();
    // Two reviews (the forced one reuses the cached analysis of the unchanged head).
    expect(analyze.calls).toHaveLength(1);
    expect(gh.find('checks/update')).toHaveLength(2);
    expect(gh.find('checks/create').map((c) => c.body.output.summary as string).map((t) => /pull_request\.opened|\/kmap-review recheck by @maintainer|check_run/.exec(t)?.[0]))
      .toEqual(['pull_request.opened', '/kmap-review recheck by @maintainer']);
  });
});
