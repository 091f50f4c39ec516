import { parseCommand } from '../../src/handlers/issue-comment.js';
import { GitHubMock, useGitHubMock } from './helpers/github-mock.js';
import { fakeAnalyzer, makeProbot } from './helpers/harness.js';
import {
  BASE_SHA, HEAD_SHA, KERNEL_FILE, OWNER, PR_NUMBER, REPO, checkRunEvent, checkSuiteEvent, contentResponse, fixture,
  issueCommentEvent, prFile, pullResponse,
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
    const { probot } = makeProbot(fakeAnalyzer([]));
    eyes();
    gh.on('POST', `${R}/issues/${PR_NUMBER}/comments`, () => [201, { id: 2 }]);
    await probot.receive({ id: 'c4', name: 'issue_comment', payload: issueCommentEvent('/kmap-review explain unmap-order') as never });
    expect(gh.find('issues/create-comment')[0]!.body.body).toContain('### `unmap-order`: kunmap_local() calls must be in reverse order');

    eyes();
    gh.on('POST', `${R}/issues/${PR_NUMBER}/comments`, () => [201, { id: 3 }]);
    await probot.receive({ id: 'c5', name: 'issue_comment', payload: issueCommentEvent('/kmap-review explain nope') as never });
    expect(gh.find('issues/create-comment')[1]!.body.body).toContain("I don't know the rule `nope`");
    expect(gh.find('issues/create-comment')[1]!.body.body).toContain('- `mismatched-unmap`');
  });

  it('help replies with the commands', async () => {
    const { probot } = makeProbot(fakeAnalyzer([]));
    eyes();
    gh.on('POST', `${R}/issues/${PR_NUMBER}/comments`, () => [201, { id: 2 }]);
    await probot.receive({ id: 'c6', name: 'issue_comment', payload: issueCommentEvent('/kmap-review help') as never });
    expect(gh.find('issues/create-comment')[0]!.body.body).toContain('`/kmap-review recheck`');
  });

  it('ignores bots, plain issues and comments without a command (no API call at all)', async () => {
    const { probot } = makeProbot(fakeAnalyzer([]));
    await probot.receive({ id: 'c7', name: 'issue_comment', payload: issueCommentEvent('/kmap-review recheck', { userType: 'Bot', login: 'x[bot]' }) as never });
    await probot.receive({ id: 'c8', name: 'issue_comment', payload: issueCommentEvent('/kmap-review recheck', { onPullRequest: false }) as never });
    await probot.receive({ id: 'c9', name: 'issue_comment', payload: issueCommentEvent('LGTM') as never });
    expect(gh.calls).toEqual([]);
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
