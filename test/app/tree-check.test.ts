/**
 * The repo-wide status (`kmap-review / tree`) end to end through Probot: real push / check_suite payloads,
 * GitHub mocked with nock (every request validated against GitHub's OpenAPI description), a real git
 * repository behind the trees, blobs and tarball answers, and the real scan engine.
 */
import nock from 'nock';
import { GitHubMock } from './helpers/github-mock.js';
import { fakeAnalyzer, makeProbot } from './helpers/harness.js';
import { KernelRepo, checkSuiteEvent, pushEvent } from './helpers/tree-repo.js';
import type { TreeOptions } from '../../src/app/tree/options.js';

const OWNER = 'kmap-test';
const REPO = 'linux';
const R = `/repos/${OWNER}/${REPO}`;
const EARLIER = 'a'.repeat(40);

const RING = `// SPDX-License-Identifier: GPL-2.0
#include <linux/highmem.h>
#include <linux/uaccess.h>

static u32 demo_ring_sum(struct page *page)
{
	u32 *p = kmap_atomic(page);
	u32 sum = p[0] + p[1];

	kunmap_atomic(p);
	return sum;
}

static int demo_ring_fill(struct page *page, const void __user *src, size_t len)
{
	char *dst = kmap_atomic(page);
	unsigned long left;

	left = __copy_from_user_inatomic(dst, src, len);
	kunmap_atomic(dst);
	return left ? -EFAULT : 0;
}

struct demo_buf {
	void *vaddr;
};

static void demo_buf_hold(struct demo_buf *b, struct page *page)
{
	b->vaddr = kmap(page);
}
`;

/** The second push adds one more kmap_atomic()/kunmap_atomic() pair. */
const RING_MORE = `${RING}
static u8 demo_ring_peek(struct page *page, unsigned int off)
{
	u8 *p = kmap_atomic(page);
	u8 v = p[off];

	kunmap_atomic(p);
	return v;
}
`;

const LOCAL = `// SPDX-License-Identifier: GPL-2.0
#include <linux/highmem.h>

static void demo_local_zero(struct page *page)
{
	char *p = kmap_local_page(page);

	memset(p, 0, PAGE_SIZE);
	kunmap_local(page);
}
`;

const PLAIN = `// SPDX-License-Identifier: GPL-2.0
int demo_plain_add(int a, int b)
{
	return a + b;
}
`;

/** More than 100 characters of path: git archive writes a pax header for it. */
const LONG_PATH = 'drivers/demo/a-directory-with-a-rather-long-name-for-testing/and-another-level-that-is-also-long/bounce.h';
const BOUNCE = `/* SPDX-License-Identifier: GPL-2.0 */
static inline void demo_bounce_copy(struct page *dst, const void *src, size_t len)
{
	void *d = kmap_atomic(dst);

	memcpy(d, src, len);
	kunmap_atomic(d);
}
`;

const MAINTAINERS = `List of maintainers

DEMO FILESYSTEM
M:	Some One <someone@example.com>
S:	Maintained
F:	fs/demo/

DEMO RING DRIVER
M:	Someone Else <else@example.com>
S:	Maintained
F:	drivers/demo/
`;

let repo: KernelRepo;
let head1: string;
let head2: string;
beforeAll(() => {
  repo = new KernelRepo();
  head1 = repo.commit({
    'drivers/demo/ring.c': RING, 'fs/demo/local.c': LOCAL, 'lib/demo/plain.c': PLAIN, [LONG_PATH]: BOUNCE,
    MAINTAINERS, 'Documentation/demo.txt': 'kmap_atomic() is deprecated\n',
  }, 'demo tree');
  head2 = repo.commit({ 'drivers/demo/ring.c': RING_MORE }, 'demo: add demo_ring_peek');
});
afterAll(() => repo.remove());

let gh: GitHubMock;
let codeload: nock.Scope;
beforeEach(() => {
  nock.disableNetConnect();
  gh = new GitHubMock();
  codeload = nock('https://codeload.github.com');
});
afterEach(() => {
  expect(gh.invalid).toEqual([]);
  expect(gh.pending()).toEqual([]);
  expect(codeload.pendingMocks()).toEqual([]);
  nock.cleanAll();
  nock.enableNetConnect();
});

const TREE: Partial<TreeOptions> = { jobs: 1, inProcess: true, tarballThreshold: 3 };

function app(tree: Partial<TreeOptions> = TREE) {
  return makeProbot(fakeAnalyzer([]), undefined, { tree });
}

/** The calls every scan starts with: no run on the head yet, a new one, no configuration, the tree. */
function mockStart(head: string, runId: number): void {
  gh.on('GET', `${R}/commits/${head}/check-runs`, () => ({ total_count: 0, check_runs: [] }))
    .on('POST', `${R}/check-runs`, () => [201, { id: runId, name: 'kmap-review / tree', head_sha: head, status: 'in_progress' }])
    .config(OWNER, REPO)
    .on('GET', `${R}/git/trees/${head}`, (_b, uri) => {
      expect(new URL(uri, 'http://x').searchParams.get('recursive')).toBe('1');
      return repo.tree(head, true);
    });
}

function mockTarball(head: string): void {
  const location = `https://codeload.github.com/${OWNER}/${REPO}/legacy.tar.gz/${head}`;
  gh.on('GET', `${R}/tarball/${head}`, () => [302, '', { location }]);
  codeload.get(`/${OWNER}/${REPO}/legacy.tar.gz/${head}`).reply(200, repo.tarball(head, OWNER, REPO), { 'content-type': 'application/x-gzip' });
}

function mockNoEarlierRun(sha: string): void {
  gh.on('GET', `${R}/commits/${sha}/check-runs`, () => ({ total_count: 0, check_runs: [] }));
}

function completed(runId: number): any {
  const updates = gh.find('checks/update').filter((c) => c.path.endsWith(`/check-runs/${runId}`));
  const last = updates.at(-1)!.body;
  expect(last.status).toBe('completed');
  return { ...last, annotations: updates.flatMap((u) => u.body.output.annotations ?? []) };
}

async function push(probot: any, queue: any, id: string, before: string, after: string): Promise<void> {
  await probot.receive({ id, name: 'push', payload: pushEvent(OWNER, REPO, { before, after }) as never });
  await queue.onIdle();
}

/** First push: everything is read from the tarball once. */
async function firstPush(probot: any, queue: any): Promise<any> {
  mockStart(head1, 91);
  mockTarball(head1);
  mockNoEarlierRun(EARLIER);
  gh.on('PATCH', `${R}/check-runs/91`, () => ({ id: 91 }));
  await push(probot, queue, 'p1', EARLIER, head1);
  return completed(91);
}

describe('kmap-review / tree', () => {
  it('a first push to the default branch reads the tarball once and completes the run with totals', async () => {
    const { probot, queue } = app();
    const done = await firstPush(probot, queue);

    expect(gh.find('checks/create')[0]!.body).toMatchObject({ name: 'kmap-review / tree', head_sha: head1, status: 'in_progress' });
    expect(gh.find('repos/download-tarball-archive')).toHaveLength(1);
    expect(gh.find('git/get-blob')).toHaveLength(0);
    // No earlier result: neutral, and the result is the next push's baseline.
    expect(done.conclusion).toBe('neutral');
    expect(done.output.title).toBe('7 deprecated kmap uses: 4 ready, 2 need care, 1 blocked');
    const summary: string = done.output.summary;
    expect(summary).toContain('**7** uses');
    expect(summary).toContain('### Top directories');
    expect(summary).toContain('### By subsystem (MAINTAINERS)');
    expect(summary).toContain('DEMO RING DRIVER');
    expect(summary).toContain(`[\`drivers/demo/ring.c:16\`](https://github.com/${OWNER}/${REPO}/blob/${head1}/drivers/demo/ring.c#L16)`);
    expect(summary).toContain('### Blocked (1)');
    expect(summary).toContain('4 C/H files in the tree, 0 unchanged (cached), 4 read from the repository tarball; 3 mention the mapping API');
    expect(summary).toContain('No earlier `kmap-review / tree` result');
    // The patch for the ready sites of the directory read in this run, made by `kmap-review fix`.
    expect(summary).toMatch(/<details><summary>Patch for the \d+ ready sites in `drivers\/demo`/);
    expect(summary).toMatch(/^\+.*kmap_local_page\(/m);
    expect(summary).toMatch(/^-.*kmap_atomic\(/m);
    expect(done.output.text).toMatch(/<!-- kmap-review:tree-baseline 1 [0-9a-f]{40} b 7 \d+ [A-Za-z0-9+/=]+ -->/);
    // needs-care and blocked sites and error findings, as annotations.
    expect(done.annotations).toEqual(expect.arrayContaining([
      expect.objectContaining({ path: 'drivers/demo/ring.c', start_line: 16, annotation_level: 'notice', title: 'kmap-review: kmap_atomic() needs care' }),
      expect.objectContaining({ path: 'drivers/demo/ring.c', start_line: 30, annotation_level: 'warning', title: 'kmap-review: kmap() blocked' }),
    ]));
    expect(done.annotations.every((a: any) => a.path !== 'lib/demo/plain.c')).toBe(true);
    expect(done.actions[0].identifier).toBe('recheck');
  });

  it('the next push fetches only the changed blob, and a new kmap_atomic() use fails the run: was N, now M', async () => {
    const { probot, queue } = app();
    await firstPush(probot, queue);
    gh.calls.length = 0;

    const changed = repo.blobSha(head2, 'drivers/demo/ring.c');
    mockStart(head2, 92);
    gh.on('GET', `${R}/git/blobs/${changed}`, () => repo.blob(changed))
      .on('PATCH', `${R}/check-runs/92`, () => ({ id: 92 }));
    // No tarball interceptor: a tarball request would fail the test (nock refuses, and pending() stays clean).
    await push(probot, queue, 'p2', head1, head2);

    expect(gh.find('repos/download-tarball-archive')).toHaveLength(0);
    expect(gh.find('git/get-blob').map((c) => c.path)).toEqual([`${R}/git/blobs/${changed}`]);
    const done = completed(92);
    expect(done.conclusion).toBe('failure');
    expect(done.output.title).toBe('2 new: 9 deprecated kmap uses (was 7): 6 ready, 2 need care, 1 blocked');
    expect(done.output.summary).toContain('Trend: was **7**, now **9**: 0 converted or removed, **2 new**.');
    expect(done.output.summary).toContain('### New uses since the previous result');
    expect(done.output.summary).toContain(`Compared with \`${head1.slice(0, 12)}\``);
    expect(done.output.summary).toContain('3 unchanged (cached)');
    expect(done.output.summary).toContain('1 fetched as blobs');
    // Only the changed file was read: the offered patch covers what it has ready, or names the command.
    expect(done.output.summary).toMatch(/Patch for the \d+ ready sites in `drivers\/demo`|`kmap-review fix drivers\/demo`/);
    const news = done.annotations.filter((a: any) => a.annotation_level === 'failure' && a.title.startsWith('kmap-review: new'));
    expect(news.map((a: any) => [a.path, a.start_line, a.title])).toEqual([
      ['drivers/demo/ring.c', 35, 'kmap-review: new kmap_atomic() use'],
      ['drivers/demo/ring.c', 38, 'kmap-review: new kunmap_atomic() use'],
    ]);
  });

  it('reads the trend from the previous check run when the cache does not have it (another instance, a restart)', async () => {
    const first = app();
    const text = (await firstPush(first.probot, first.queue)).output.text;
    gh.calls.length = 0;

    // A fresh App: empty cache. Few files, so blobs rather than the tarball.
    const { probot, queue } = app({ jobs: 1, inProcess: true, tarballThreshold: 100 });
    mockStart(head2, 93);
    for (const path of ['drivers/demo/ring.c', 'fs/demo/local.c', 'lib/demo/plain.c', LONG_PATH, 'MAINTAINERS']) {
      const sha = repo.blobSha(head2, path);
      gh.on('GET', `${R}/git/blobs/${sha}`, () => repo.blob(sha));
    }
    gh.on('GET', `${R}/commits/${head1}/check-runs`, (_b, uri) => {
      expect(new URL(uri, 'http://x').searchParams.get('check_name')).toBe('kmap-review / tree');
      return { total_count: 1, check_runs: [{ id: 91, name: 'kmap-review / tree', head_sha: head1, status: 'completed', conclusion: 'neutral', output: { title: 't', summary: 's', text, annotations_count: 0, annotations_url: '' } }] };
    }).on('PATCH', `${R}/check-runs/93`, () => ({ id: 93 }));
    await push(probot, queue, 'p3', head1, head2);

    expect(gh.find('repos/download-tarball-archive')).toHaveLength(0);
    expect(gh.find('git/get-blob')).toHaveLength(5);
    const done = completed(93);
    expect(done.conclusion).toBe('failure');
    expect(done.output.summary).toContain('Trend: was **7**, now **9**: 0 converted or removed, **2 new**.');
    // The run history came back with it: the trend of the last runs, and the subsystems of the previous one.
    expect(text).toMatch(/<!-- kmap-review:tree-history 1 [A-Za-z0-9+/=]+ -->/);
    expect(done.output.summary).toContain(`\`▁█\` 7 → 9 (+2 over 2 runs; +2 since \`${head1.slice(0, 12)}\`)`);
    expect(done.output.summary).toContain('| DEMO RING DRIVER | 7 | 9 | +2 |');
  });

  it('a push that converts uses succeeds with the trend', async () => {
    const { probot, queue } = app();
    await firstPush(probot, queue);
    gh.calls.length = 0;
    const head3 = repo.commit({ 'drivers/demo/ring.c': RING.replace('kmap_atomic(page);\n\tu32 sum', 'kmap_local_page(page);\n\tu32 sum').replace('kunmap_atomic(p);\n\treturn sum', 'kunmap_local(p);\n\treturn sum') }, 'convert');
    try {
      const changed = repo.blobSha(head3, 'drivers/demo/ring.c');
      mockStart(head3, 94);
      gh.on('GET', `${R}/git/blobs/${changed}`, () => repo.blob(changed)).on('PATCH', `${R}/check-runs/94`, () => ({ id: 94 }));
      // The push's `before` (head2) was never scanned: the last default-branch result (head1) is used.
      mockNoEarlierRun(head2);
      await push(probot, queue, 'p4', head2, head3);
      const done = completed(94);
      expect(done.conclusion).toBe('success');
      expect(done.output.summary).toContain('Trend: was **7**, now **5**: 2 converted or removed, **0 new**.');
      expect(done.output.summary).toContain(`the last analysed default-branch commit (\`${head2.slice(0, 12)}\` has no result)`);
      // The bounded history of default-branch runs: head1 (7 uses), then head3 (5).
      expect(done.output.summary).toContain('`█▁` 7 → 5 (−2 over 2 runs; −2 since');
      expect(done.output.summary).toContain('| DEMO RING DRIVER | 7 | 5 | −2 |');
      expect(done.output.summary.trimEnd().endsWith(`\`kmap-review scan --format html --git ${head3} > report.html\``)).toBe(true);
    } finally {
      repo.git('reset', '-q', '--hard', head2);
    }
  });

  it('walks subtrees when GitHub truncates the recursive listing', async () => {
    const { probot, queue } = app();
    const full = repo.tree(head1, true);
    gh.on('GET', `${R}/commits/${head1}/check-runs`, () => ({ total_count: 0, check_runs: [] }))
      .on('POST', `${R}/check-runs`, () => [201, { id: 95 }])
      .config(OWNER, REPO);
    const drivers = repo.treeSha(head1, 'drivers');
    const demo = repo.treeSha(head1, 'drivers/demo');
    // Truncated at the root and again in drivers/: each is opened one level and its children listed.
    gh.on('GET', `${R}/git/trees/${head1}`, (_b, uri) => (new URL(uri, 'http://x').searchParams.get('recursive')
      ? { ...full, tree: full.tree.slice(0, 2), truncated: true }
      : repo.tree(head1, false)), 2);
    gh.on('GET', `${R}/git/trees/${drivers}`, (_b, uri) => (new URL(uri, 'http://x').searchParams.get('recursive')
      ? { ...repo.tree(drivers, true), truncated: true }
      : repo.tree(drivers, false)), 2);
    for (const dir of ['Documentation', 'fs', 'lib']) {
      const sha = repo.treeSha(head1, dir);
      gh.on('GET', `${R}/git/trees/${sha}`, () => repo.tree(sha, true));
    }
    gh.on('GET', `${R}/git/trees/${demo}`, () => repo.tree(demo, true));
    mockTarball(head1);
    mockNoEarlierRun(EARLIER);
    gh.on('PATCH', `${R}/check-runs/95`, () => ({ id: 95 }));
    await push(probot, queue, 'p5', EARLIER, head1);
    const done = completed(95);
    expect(done.output.title).toBe('7 deprecated kmap uses: 4 ready, 2 need care, 1 blocked');
    expect(done.output.summary).toContain('4 C/H files in the tree');
    expect(gh.find('git/get-tree')).toHaveLength(8);
  });

  it('check_suite.requested on the default branch scans; the push of the same commit then finds it done', async () => {
    const { probot, queue } = app();
    mockStart(head1, 96);
    mockTarball(head1);
    mockNoEarlierRun(EARLIER);
    gh.on('PATCH', `${R}/check-runs/96`, () => ({ id: 96 }));
    await probot.receive({ id: 's1', name: 'check_suite', payload: checkSuiteEvent(OWNER, REPO, 'requested', { head: head1, before: EARLIER }) as never });
    await queue.onIdle();
    expect(completed(96).conclusion).toBe('neutral');

    gh.on('GET', `${R}/commits/${head1}/check-runs`, () => ({
      total_count: 1, check_runs: [{ id: 96, name: 'kmap-review / tree', status: 'completed', conclusion: 'neutral' }],
    }));
    await push(probot, queue, 'p6', EARLIER, head1);
    expect(gh.find('checks/create')).toHaveLength(1);
  });

  it('caps the annotations and says so', async () => {
    const { probot, queue } = app({ ...TREE, maxAnnotations: 2 });
    const done = await firstPush(probot, queue);
    expect(done.annotations).toHaveLength(2);
    // Error findings first (no baseline: they all count), then blocked and needs-care sites. kunmap_local(page)
    // is one finding (unmap-page), not also a leak of the mapping it failed to release.
    expect(done.annotations.map((a: any) => a.annotation_level)).toEqual(['failure', 'warning']);
    expect(done.output.summary).toMatch(/\*\*Annotations:\*\* the first 2 of 4 \(capped at 2\)/);
  });

  it('a failed tarball download is retried: the in-progress run is reused and completed', async () => {
    const { probot, queue } = app();
    gh.on('GET', `${R}/commits/${head1}/check-runs`, () => ({ total_count: 0, check_runs: [] }))
      .on('POST', `${R}/check-runs`, () => [201, { id: 97 }])
      .config(OWNER, REPO)
      .on('GET', `${R}/git/trees/${head1}`, () => repo.tree(head1, true));
    gh.on('GET', `${R}/tarball/${head1}`, () => [302, '', { location: `https://codeload.github.com/${OWNER}/${REPO}/legacy.tar.gz/${head1}` }]);
    codeload.get(`/${OWNER}/${REPO}/legacy.tar.gz/${head1}`).reply(502, 'bad gateway');
    // Second attempt.
    gh.on('GET', `${R}/commits/${head1}/check-runs`, () => ({ total_count: 1, check_runs: [{ id: 97, name: 'kmap-review / tree', status: 'in_progress', conclusion: null }] }))
      .config(OWNER, REPO)
      .on('GET', `${R}/git/trees/${head1}`, () => repo.tree(head1, true));
    mockTarball(head1);
    mockNoEarlierRun(EARLIER);
    gh.on('PATCH', `${R}/check-runs/97`, () => ({ id: 97 }));
    await push(probot, queue, 'p7', EARLIER, head1);
    expect(gh.find('checks/create')).toHaveLength(1);
    expect(completed(97).output.title).toBe('7 deprecated kmap uses: 4 ready, 2 need care, 1 blocked');
  });

  it('ignores pushes to other branches, tags, deleted branches, and check suites of other branches', async () => {
    const { probot, queue } = app();
    const events: [string, Record<string, any>][] = [
      ['push', pushEvent(OWNER, REPO, { before: EARLIER, after: head1, ref: 'refs/heads/feature' })],
      ['push', pushEvent(OWNER, REPO, { before: EARLIER, after: head1, ref: 'refs/tags/v6.12' })],
      ['push', pushEvent(OWNER, REPO, { before: head1, after: '0'.repeat(40), deleted: true })],
      ['check_suite', checkSuiteEvent(OWNER, REPO, 'requested', { head: head1, before: EARLIER, branch: 'feature' })],
    ];
    let n = 0;
    for (const [name, payload] of events) await probot.receive({ id: `i${n++}`, name, payload } as never);
    await queue.onIdle();
    expect(gh.calls).toEqual([]);
    expect(await queue.stats()).toEqual({ pending: 0, running: 0, delayed: 0 });
  });
});

it('the last attempt ends on a rate limit: the tree run\'s failure update waits for its Retry-After first (the review\'s life cycle)', async () => {
  const waits: { ms: number; updatesBefore: number }[] = [];
  const { probot, queue } = makeProbot(fakeAnalyzer([]), undefined, {
    tree: TREE, sleep: async (ms) => { waits.push({ ms, updatesBefore: gh.find('checks/update').length }); },
  });
  const limited = [403, { message: 'You have exceeded a secondary rate limit. Please wait a few minutes before you try again.' }, { 'retry-after': '3' }];
  gh.on('GET', `${R}/commits/${head1}/check-runs`, () => ({ total_count: 0, check_runs: [] }))
    .on('POST', `${R}/check-runs`, () => [201, { id: 98 }])
    .on('GET', `${R}/commits/${head1}/check-runs`, () => ({ total_count: 1, check_runs: [{ id: 98, name: 'kmap-review / tree', status: 'in_progress', conclusion: null }] }), 2);
  for (let i = 0; i < 3; i++) gh.config(OWNER, REPO).on('GET', `${R}/git/trees/${head1}`, () => limited);
  gh.on('PATCH', `${R}/check-runs/98`, () => ({ id: 98 }));
  await push(probot, queue, 'p8', EARLIER, head1);
  expect(waits).toEqual([{ ms: 3000, updatesBefore: 0 }]);
  const done = completed(98);
  expect(done.conclusion).toBe('neutral');
  expect(done.output.title).toBe('kmap-review could not scan the tree');
  expect(done.output.summary).toContain('Retry-After 3 s');
  expect(gh.find('checks/create')).toHaveLength(1);
});

describe('files not analysed (over max_file_bytes) keep counting, as `scan --baseline` counts them', () => {
  const CAP = 500;
  const YAML = `max_file_bytes: ${CAP}\n`;

  function mockStartWithCap(head: string, runId: number): void {
    gh.on('GET', `${R}/commits/${head}/check-runs`, () => ({ total_count: 0, check_runs: [] }))
      .on('POST', `${R}/check-runs`, () => [201, { id: runId, name: 'kmap-review / tree', head_sha: head, status: 'in_progress' }])
      .config(OWNER, REPO, YAML)
      .on('GET', `${R}/git/trees/${head}`, () => repo.tree(head, true));
  }

  it('the summary says how many and why, with their lexical count; the next push fails on new uses there', async () => {
    // ring.c is over the cap, the other files under it.
    expect(Buffer.byteLength(RING)).toBeGreaterThan(CAP);
    for (const t of [LOCAL, PLAIN, BOUNCE]) expect(Buffer.byteLength(t)).toBeLessThan(CAP);
    const { probot, queue } = app();
    mockStartWithCap(head1, 101);
    mockTarball(head1);
    mockNoEarlierRun(EARLIER);
    gh.on('PATCH', `${R}/check-runs/101`, () => ({ id: 101 }));
    await push(probot, queue, 'c1', EARLIER, head1);
    const first = completed(101);
    expect(first.conclusion).toBe('neutral');
    expect(first.output.title).toBe('2 deprecated kmap uses: 2 ready, 0 need care, 0 blocked');
    expect(first.output.summary).toContain(`**Not analysed:** 1 file (1 larger than ${CAP} bytes); 5 deprecated calls in them, counted lexically, keep counting in the trend.`);
    expect(first.output.summary).toContain(`1 file was not analysed: \`drivers/demo/ring.c\` (larger than ${CAP} bytes)`);
    // The next push's baseline in the check run carries the file and its count.
    expect(first.output.text).toMatch(/<!-- kmap-review:tree-skipped 1 [A-Za-z0-9+/=]+ -->/);
    gh.calls.length = 0;

    // ring.c gains a kmap_atomic()/kunmap_atomic() pair: fetched (over the cap, but counted), and it fails.
    const changed = repo.blobSha(head2, 'drivers/demo/ring.c');
    mockStartWithCap(head2, 102);
    gh.on('GET', `${R}/git/blobs/${changed}`, () => repo.blob(changed)).on('PATCH', `${R}/check-runs/102`, () => ({ id: 102 }));
    await push(probot, queue, 'c2', head1, head2);
    const done = completed(102);
    expect(done.conclusion).toBe('failure');
    expect(done.output.title).toBe('new uses in 1 file not analysed: 2 deprecated kmap uses (was 2): 2 ready, 0 need care, 0 blocked');
    expect(done.output.summary).toContain(`**New uses in a file not analysed:** \`drivers/demo/ring.c\`: 7 deprecated calls (lexically), was 5 (larger than ${CAP} bytes).`);
    expect(done.output.summary).toContain('Trend: was **2**, now **2**: 0 converted or removed, **0 new**.');
    expect(done.annotations[0]).toMatchObject({ path: 'drivers/demo/ring.c', start_line: 1, annotation_level: 'failure', title: 'kmap-review: new uses in a file not analysed' });
  });

  it('a file analysed before and over the cap now is compared with its sites then, from the cache: not "converted", no new uses', async () => {
    const { probot, queue } = app();
    await firstPush(probot, queue);
    gh.calls.length = 0;
    // The same files under a cap (on a new commit: a re-run of the same one would be skipped as done).
    const head3 = repo.commit({ 'drivers/demo/ring.c': RING, 'lib/demo/plain.c': `${PLAIN}\n` }, 'head1\'s ring.c, plain: newline');
    try {
      // Another cap is another cache: the files are read again (from the tarball).
      mockStartWithCap(head3, 103);
      mockTarball(head3);
      mockNoEarlierRun(head2);
      gh.on('PATCH', `${R}/check-runs/103`, () => ({ id: 103 }));
      await push(probot, queue, 'c3', head2, head3);
      const done = completed(103);
      // ring.c's 5 sites then are not converted: it still has 5 deprecated calls, just not analysed.
      expect(done.output.summary).toContain('Trend: was **7**, now **2**: 0 converted or removed, **0 new**.');
      expect(done.output.summary).not.toContain('New uses in a file not analysed');
      expect(done.output.summary).not.toContain('Not compared');
      expect(done.conclusion).toBe('success');
    } finally {
      repo.git('reset', '-q', '--hard', head2);
    }
  });

  it('the same, with the previous result read back from its check run (no per-file counts there): not compared, said, neutral', async () => {
    const first = app();
    const text = (await firstPush(first.probot, first.queue)).output.text;
    gh.calls.length = 0;
    const { probot, queue } = app({ jobs: 1, inProcess: true, tarballThreshold: 100 });
    mockStartWithCap(head2, 104);
    for (const path of ['drivers/demo/ring.c', 'fs/demo/local.c', 'lib/demo/plain.c', LONG_PATH, 'MAINTAINERS']) {
      const sha = repo.blobSha(head2, path);
      gh.on('GET', `${R}/git/blobs/${sha}`, () => repo.blob(sha));
    }
    gh.on('GET', `${R}/commits/${head1}/check-runs`, () => ({
      total_count: 1, check_runs: [{ id: 91, name: 'kmap-review / tree', head_sha: head1, status: 'completed', conclusion: 'neutral', output: { title: 't', summary: 's', text, annotations_count: 0, annotations_url: '' } }],
    })).on('PATCH', `${R}/check-runs/104`, () => ({ id: 104 }));
    await push(probot, queue, 'c4', head1, head2);
    const done = completed(104);
    expect(done.conclusion).toBe('neutral');
    expect(done.output.summary).toContain('**Not compared:** 1 file not analysed now, with deprecated calls counted lexically: `drivers/demo/ring.c` (7 now).');
    expect(done.output.summary).not.toContain('New uses in a file not analysed');
  });
});
