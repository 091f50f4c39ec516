import { GitHubMock, useGitHubMock } from './helpers/github-mock.js';
import { fakeAnalyzer, finding, makeProbot } from './helpers/harness.js';
import {
  BASE_SHA, HEAD_SHA, KERNEL_FILE, OWNER, PR_NUMBER, REPO, contentResponse, fixture, prFile, pullRequestEvent,
} from './helpers/payloads.js';

const R = `/repos/${OWNER}/${REPO}`;
const base = fixture('kernel/xor-pages.base.c');
const wrong = fixture('kernel/xor-pages.wrong-order.c');
const wrongPatch = fixture('kernel/xor-pages.wrong-order.patch');
const encoded = encodeURIComponent(KERNEL_FILE);

let gh: GitHubMock;
useGitHubMock((m) => (gh = m));

/** The calls of a review run up to the analysis: check run, files, contents, existing comments. */
function mockRunStart(o: { existingCheck?: unknown; files?: unknown[]; comments?: unknown[] | false; head?: string } = {}): void {
  gh.config(OWNER, REPO)
    .on('GET', `${R}/commits/${HEAD_SHA}/check-runs`, () => ({ total_count: o.existingCheck ? 1 : 0, check_runs: o.existingCheck ? [o.existingCheck] : [] }))
    .on('POST', `${R}/check-runs`, () => [201, { id: 77, name: 'kmap-review', head_sha: HEAD_SHA, status: 'in_progress' }])
    .on('GET', `${R}/pulls/${PR_NUMBER}/files`, () => o.files ?? [prFile(KERNEL_FILE, wrongPatch), prFile('Documentation/mm/highmem.rst', '@@ -1 +1 @@\n-a\n+b')])
    .on('GET', `${R}/contents/${encoded}`, (_b, uri) => contentResponse(KERNEL_FILE, uri.includes(BASE_SHA) ? base : (o.head ?? wrong)), 2);
  if (o.comments !== false) gh.on('GET', `${R}/pulls/${PR_NUMBER}/comments`, () => o.comments || []);
}

describe('pull_request events', () => {
  it('opened: in_progress check run, one review with an inline suggestion, a failed check with annotations', async () => {
    const analyze = fakeAnalyzer([
      finding({
        line: 15,
        fix: { description: 'Unmap vdst first', path: KERNEL_FILE, edits: [{ startLine: 15, endLine: 16, replacement: '\tkunmap_local(vdst);\n\tkunmap_local(vsrc);' }] },
      }),
      finding({ rule: 'mismatched-unmap', line: 3, message: 'outside the diff', severity: 'warning' }),
    ]);
    const { probot, queue } = makeProbot(analyze);
    mockRunStart();
    gh.on('POST', `${R}/pulls/${PR_NUMBER}/reviews`, () => ({ id: 1 }))
      .on('PATCH', `${R}/check-runs/77`, () => ({ id: 77 }));

    await probot.receive({ id: 'd1', name: 'pull_request', payload: pullRequestEvent('opened') as never });
    // The handler only enqueued: no GitHub call happened before it returned; the worker did the rest.
    expect(gh.calls).toEqual([]);
    await queue.onIdle();
    expect(gh.find('checks/create')[0]!.body).toMatchObject({ name: 'kmap-review', head_sha: HEAD_SHA, status: 'in_progress' });

    // Only the C file was fetched, at the exact base and head SHAs.
    const refs = gh.find('repos/get-content').filter((c) => c.path.includes(encoded)).map((c) => new URL(c.path, 'http://x').searchParams.get('ref'));
    expect(refs.sort()).toEqual([BASE_SHA, HEAD_SHA].sort());
    expect(analyze.calls[0]!.files.map((f) => f.newPath)).toEqual([KERNEL_FILE]);
    expect([...analyze.calls[0]!.files[0]!.addedLines].sort((a, b) => a - b)).toEqual([12, 13, 16, 17, 22]);

    const review = gh.find('pulls/create-review')[0]!.body;
    expect(review.event).toBe('COMMENT');
    expect(review.commit_id).toBe(HEAD_SHA);
    expect(review.comments).toHaveLength(1);
    const c = review.comments[0];
    expect(c).toMatchObject({ path: KERNEL_FILE, start_line: 15, line: 16, side: 'RIGHT', start_side: 'RIGHT' });
    expect(c.body).toContain('`unmap-order` (error)');
    expect(c.body).toContain('```suggestion\n\tkunmap_local(vdst);\n\tkunmap_local(vsrc);\n```');
    expect(c.body).toContain('<details>');
    expect(c.body).toContain('<!-- kmap-review:fp=fp-unmap-order-15 -->');
    expect(c.body).toContain('`mm/xor_pages.c:12` vsrc = kmap_local_page(src)');

    const done = gh.find('checks/update').at(-1)!.body;
    expect(done).toMatchObject({ status: 'completed', conclusion: 'failure' });
    expect(done.output.annotations).toEqual([
      expect.objectContaining({ path: KERNEL_FILE, start_line: 15, annotation_level: 'failure', title: 'kmap-review: unmap-order' }),
      expect.objectContaining({ start_line: 3, annotation_level: 'warning' }),
    ]);
    expect(done.output.summary).toContain('1 error, 1 warning in 1 file');
    expect(done.output.summary).toContain('1 other file ignored (not C)');
    expect(done.output.summary).toContain('_(outside the diff)_');
    expect(done.actions[0].identifier).toBe('recheck');
  });

  it('a re-delivery of the same event posts nothing (the head already has a completed check run)', async () => {
    const analyze = fakeAnalyzer([finding({ line: 15 })]);
    const { probot, queue } = makeProbot(analyze);
    gh.config(OWNER, REPO).on('GET', `${R}/commits/${HEAD_SHA}/check-runs`, () => ({
      total_count: 1, check_runs: [{ id: 77, name: 'kmap-review', status: 'completed', conclusion: 'failure', started_at: new Date().toISOString() }],
    }));
    await probot.receive({ id: 'd1', name: 'pull_request', payload: pullRequestEvent('opened') as never });
    await queue.onIdle();
    expect(analyze.calls).toHaveLength(0);
    expect(gh.ops()).toEqual(['repos/get-content', 'repos/get-content', 'checks/list-for-ref']);
  });

  it('two deliveries arriving together run once', async () => {
    const analyze = fakeAnalyzer([]);
    const { probot, queue } = makeProbot(analyze);
    mockRunStart();
    gh.on('PATCH', `${R}/check-runs/77`, () => ({ id: 77 }));
    await Promise.all([
      probot.receive({ id: 'd1', name: 'pull_request', payload: pullRequestEvent('opened') as never }),
      probot.receive({ id: 'd1', name: 'pull_request', payload: pullRequestEvent('opened') as never }),
    ]);
    await queue.onIdle();
    expect(analyze.calls).toHaveLength(1);
  });

  it('synchronize keeping a finding posts nothing twice, and resolves the thread of a fixed one', async () => {
    const analyze = fakeAnalyzer([finding({ line: 16, fingerprint: 'kept' })]);
    const { probot, queue } = makeProbot(analyze);
    mockRunStart({
      comments: [
        { id: 501, path: KERNEL_FILE, body: '🛑 **kmap-review** `unmap-order` (error): x\n<!-- kmap-review:fp=kept -->', user: { login: 'kmap-review[bot]', type: 'Bot' } },
        { id: 502, path: KERNEL_FILE, body: '🛑 **kmap-review** `mismatched-unmap` (error): y\n<!-- kmap-review:fp=gone -->', user: { login: 'kmap-review[bot]', type: 'Bot' } },
        { id: 503, path: KERNEL_FILE, body: 'I quote <!-- kmap-review:fp=human -->', user: { login: 'dev', type: 'User' } },
      ],
    });
    gh.on('POST', '/graphql', (body) => {
      if (String(body.query).includes('reviewThreads')) {
        return { data: { repository: { pullRequest: { reviewThreads: {
          pageInfo: { hasNextPage: false, endCursor: null },
          nodes: [
            { id: 'T_kept', isResolved: false, comments: { nodes: [{ databaseId: 501 }] } },
            { id: 'T_gone', isResolved: false, comments: { nodes: [{ databaseId: 502 }] } },
          ],
        } } } } };
      }
      expect(body.variables).toEqual({ threadId: 'T_gone' });
      return { data: { resolveReviewThread: { thread: { id: 'T_gone', isResolved: true } } } };
    }, 2);
    gh.on('PATCH', `${R}/check-runs/77`, () => ({ id: 77 }));

    await probot.receive({ id: 'd2', name: 'pull_request', payload: pullRequestEvent('synchronize') as never });
    await queue.onIdle();
    expect(gh.find('pulls/create-review')).toHaveLength(0);
    const summary = gh.find('checks/update').at(-1)!.body.output.summary;
    expect(summary).toContain('0 new comments, 1 already commented earlier, 1 earlier comment marked fixed');
  });

  it('replies instead when resolving through GraphQL is refused, and only once', async () => {
    const analyze = fakeAnalyzer([]);
    const { probot, queue } = makeProbot(analyze);
    mockRunStart({
      comments: [
        { id: 502, path: KERNEL_FILE, body: 'x <!-- kmap-review:fp=gone -->', user: { type: 'Bot' } },
        { id: 503, path: KERNEL_FILE, body: 'y <!-- kmap-review:fp=gone2 -->', user: { type: 'Bot' } },
        { id: 504, path: KERNEL_FILE, in_reply_to_id: 503, body: '✅ Fixed in `abc`\n<!-- kmap-review:fixed -->', user: { type: 'Bot' } },
      ],
    });
    gh.on('POST', '/graphql', () => [200, { errors: [{ type: 'FORBIDDEN', message: 'Resource not accessible by integration' }] }])
      .on('POST', `${R}/pulls/${PR_NUMBER}/comments/502/replies`, () => [201, { id: 600 }])
      .on('PATCH', `${R}/check-runs/77`, () => ({ id: 77 }));
    await probot.receive({ id: 'd3', name: 'pull_request', payload: pullRequestEvent('synchronize') as never });
    await queue.onIdle();
    const replies = gh.find('pulls/create-reply-for-review-comment');
    expect(replies.map((r) => r.path)).toEqual([`${R}/pulls/${PR_NUMBER}/comments/502/replies`]);
    expect(replies[0]!.body.body).toContain('Fixed in `ec26c3e57ca3`');
    expect(gh.find('checks/update').at(-1)!.body.conclusion).toBe('success');
  });

  it('a clean conversion: successful check run, no review at all', async () => {
    const analyze = fakeAnalyzer([]);
    const { probot, queue } = makeProbot(analyze);
    mockRunStart({ head: fixture('kernel/xor-pages.clean.c'), files: [prFile(KERNEL_FILE, fixture('kernel/xor-pages.clean.patch'))] });
    gh.on('PATCH', `${R}/check-runs/77`, () => ({ id: 77 }));
    await probot.receive({ id: 'd4', name: 'pull_request', payload: pullRequestEvent('reopened') as never });
    await queue.onIdle();
    const done = gh.find('checks/update')[0]!.body;
    expect(done).toMatchObject({ status: 'completed', conclusion: 'success' });
    expect(done.output.title).toBe('No problems found in 1 file');
    expect(done.output.annotations).toBeUndefined();
    expect(gh.find('pulls/create-review')).toHaveLength(0);
  });

  it('draft pull requests are skipped unless the config says drafts: true', async () => {
    const analyze = fakeAnalyzer([]);
    const { probot, queue } = makeProbot(analyze);
    gh.config(OWNER, REPO);
    await probot.receive({ id: 'd5', name: 'pull_request', payload: pullRequestEvent('opened', { draft: true }) as never });
    await queue.onIdle();
    expect(analyze.calls).toHaveLength(0);
    expect(gh.find('checks/create')).toHaveLength(0);
  });

  it('applies the repository config: drafts, REQUEST_CHANGES, rule severities, neutral for warnings; reports invalid keys', async () => {
    const analyze = fakeAnalyzer([finding({ line: 15 })]);
    const { probot, queue } = makeProbot(analyze);
    gh.config(OWNER, REPO, [
      'drafts: true',
      'review:',
      '  event: REQUEST_CHANGES',
      'rules:',
      '  mismatched-unmap: warning',
      '  no-such-rule: off',
      'conclusion:',
      '  error: neutral',
      'exclude: ["Documentation/**"]',
      'colour: blue',
    ].join('\n'));
    gh.on('GET', `${R}/commits/${HEAD_SHA}/check-runs`, () => ({ total_count: 0, check_runs: [] }))
      .on('POST', `${R}/check-runs`, () => [201, { id: 77 }])
      .on('GET', `${R}/pulls/${PR_NUMBER}/files`, () => [prFile(KERNEL_FILE, wrongPatch)])
      .on('GET', `${R}/contents/${encoded}`, (_b, uri) => contentResponse(KERNEL_FILE, uri.includes(BASE_SHA) ? base : wrong), 2)
      .on('GET', `${R}/pulls/${PR_NUMBER}/comments`, () => [])
      .on('POST', `${R}/pulls/${PR_NUMBER}/reviews`, () => ({ id: 1 }))
      .on('PATCH', `${R}/check-runs/77`, () => ({ id: 77 }));
    await probot.receive({ id: 'd6', name: 'pull_request', payload: pullRequestEvent('opened', { draft: true }) as never });
    await queue.onIdle();
    expect(analyze.configs[0]!.rules).toEqual({ 'mismatched-unmap': 'warning', 'no-such-rule': 'off' });
    expect(gh.find('pulls/create-review')[0]!.body.event).toBe('REQUEST_CHANGES');
    const done = gh.find('checks/update')[0]!.body;
    expect(done.conclusion).toBe('neutral');
    expect(done.output.summary).toContain('unknown key `colour`');
    expect(done.output.summary).toContain('unknown rule `no-such-rule`');
  });

  it('sends more than 50 annotations in batches of 50 and caps inline comments (overflow to the summary)', async () => {
    const many = Array.from({ length: 120 }, (_, i) => finding({ line: 9 + (i % 16), fingerprint: `fp${i}`, severity: 'warning' }));
    const analyze = fakeAnalyzer(many);
    const { probot, queue } = makeProbot(analyze);
    mockRunStart();
    gh.on('POST', `${R}/pulls/${PR_NUMBER}/reviews`, () => ({ id: 1 }))
      .on('PATCH', `${R}/check-runs/77`, () => ({ id: 77 }), 3);
    await probot.receive({ id: 'd7', name: 'pull_request', payload: pullRequestEvent('opened') as never });
    await queue.onIdle();
    const updates = gh.find('checks/update').map((c) => c.body);
    expect(updates.map((u) => u.output.annotations.length)).toEqual([50, 50, 20]);
    expect(updates.map((u) => u.status)).toEqual([undefined, undefined, 'completed']);
    expect(gh.find('pulls/create-review')[0]!.body.comments).toHaveLength(25);
    expect(updates[2].conclusion).toBe('success');
    expect(updates[2].output.summary).toContain('over the comment cap');
  });

  it('a 422 from the review API does not lose the findings: the check run lists them', async () => {
    const analyze = fakeAnalyzer([finding({ line: 15 })]);
    const { probot, queue } = makeProbot(analyze);
    mockRunStart();
    gh.on('POST', `${R}/pulls/${PR_NUMBER}/reviews`, () => [422, { message: 'Unprocessable Entity', errors: ['Pull request review thread line must be part of the diff'] }])
      .on('PATCH', `${R}/check-runs/77`, () => ({ id: 77 }));
    await probot.receive({ id: 'd8', name: 'pull_request', payload: pullRequestEvent('opened') as never });
    await queue.onIdle();
    const done = gh.find('checks/update')[0]!.body;
    expect(done.conclusion).toBe('failure');
    expect(done.output.summary).toContain('could not be posted (GitHub answered 422)');
    expect(done.output.summary).toContain('`mm/xor_pages.c:15`');
  });

  it('fetches files over 1 MB through the blobs API, and skips files over max_file_bytes', async () => {
    const analyze = fakeAnalyzer([]);
    const { probot, queue } = makeProbot(analyze);
    gh.config(OWNER, REPO)
      .on('GET', `${R}/commits/${HEAD_SHA}/check-runs`, () => ({ total_count: 0, check_runs: [] }))
      .on('POST', `${R}/check-runs`, () => [201, { id: 77 }])
      .on('GET', `${R}/pulls/${PR_NUMBER}/files`, () => [prFile(KERNEL_FILE, wrongPatch), prFile('drivers/huge.c', '@@ -1 +1 @@\n-a\n+b')])
      .on('GET', `${R}/contents/${encoded}`, (_b, uri) => ({ ...contentResponse(KERNEL_FILE, ''), size: 1_500_000, encoding: 'none', content: '', sha: uri.includes(BASE_SHA) ? '1'.repeat(40) : '2'.repeat(40) }), 2)
      .on('GET', /\/git\/blobs\/[12]{40}$/, (_b, uri) => ({ sha: 'x', size: 10, url: '', node_id: '', encoding: 'base64', content: Buffer.from(uri.includes('1111') ? base : wrong).toString('base64') }), 2)
      .on('GET', `${R}/contents/${encodeURIComponent('drivers/huge.c')}`, () => ({ ...contentResponse('drivers/huge.c', ''), size: 200_000_000, encoding: 'none', content: '' }), 2)
      .on('GET', `${R}/pulls/${PR_NUMBER}/comments`, () => [])
      .on('PATCH', `${R}/check-runs/77`, () => ({ id: 77 }));
    await probot.receive({ id: 'd9', name: 'pull_request', payload: pullRequestEvent('opened') as never });
    await queue.onIdle();
    expect(analyze.calls[0]!.files[0]!.newText).toBe(wrong);
    expect(analyze.calls[0]!.skipped).toEqual([{ path: 'drivers/huge.c', reason: expect.stringContaining('too large') }]);
    expect(gh.find('checks/update')[0]!.body.output.summary).toContain('**Skipped (1):**');
  });

  it('an engine failure completes the check run as neutral with the reason', async () => {
    const { probot, queue } = makeProbot(async () => { throw new Error('parser exploded'); });
    mockRunStart({ comments: false });
    gh.on('PATCH', `${R}/check-runs/77`, () => ({ id: 77 }));
    await probot.receive({ id: 'd10', name: 'pull_request', payload: pullRequestEvent('opened') as never });
    await queue.onIdle();
    const done = gh.find('checks/update')[0]!.body;
    expect(done).toMatchObject({ status: 'completed', conclusion: 'neutral' });
    expect(done.output.summary).toContain('parser exploded');
  });
});
