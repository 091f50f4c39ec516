/**
 * Mailing-list patches against a scratch git repository whose tree has moved on since the patches' base
 * (scratch.ts): exact pre-images from blobs, patch-style offsets and fuzz, "already applied", the
 * checkpatch / b4 / email formats. In-process (runCli); b4.test.ts drives the built command as b4 does.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DEMO_C, makeScratch, patchFile, plainCopy, type Scratch } from './scratch.js';
import { runCaptured } from '../helpers/cli.js';

let s: Scratch;
beforeAll(() => {
  s = makeScratch();
});
afterAll(() => s.cleanup());

const cli = (args: string[], opts: { cwd?: string; stdin?: string } = {}) => runCaptured(args, { cwd: opts.cwd ?? s.dir, stdin: opts.stdin });

/** rule@line of each finding line of a checkpatch-format output. */
const findings = (out: string) => out.split('\n').filter(Boolean).map((l) => `${/\[([a-z-]+)\]$/.exec(l)?.[1]}@${/^[^:]+:(\d+):/.exec(l)?.[1]}`);

describe('--tree a git repository: the exact pre-image', () => {
  it('reads the blob the patch names although the tree moved on, and says so', async () => {
    const { code, out } = await cli(['check', '--tree', s.repo, patchFile(s, 'leak')]);
    expect(code).toBe(1);
    const blob = /^index ([0-9a-f]+)\.\./m.exec(s.patches.leak)![1]!;
    expect(out).toContain(`drivers/demo/demo.c: pre-image from blob ${blob.slice(0, 7)}`);
    // Line numbers are the patch's (base + patch), not the moved-on tree's.
    expect(out).toMatch(/^drivers\/demo\/demo\.c:11: error: .*\[mismatched-unmap\]$/m);
    expect(out).not.toMatch(/applied at line/);
  });

  it('gives the blob ids in the JSON report (schema reviews[].preImages)', async () => {
    const { out } = await cli(['check', '--format', 'json', '--tree', s.repo, patchFile(s, 'leak')]);
    const doc = JSON.parse(out);
    const pre = doc.reviews[0].preImages[0];
    expect(pre.source).toBe('blob');
    expect(pre.blob).toMatch(new RegExp(`^${/^index ([0-9a-f]+)\.\./m.exec(s.patches.leak)![1]}[0-9a-f]+$`));
  });

  it('falls back to the working tree, with offsets, when the blob is not in the repository', async () => {
    const forged = s.patches.leak.replace(/^index [0-9a-f]+\.\./m, 'index 1234567..');
    const p = join(s.dir, 'forged.mbox');
    writeFileSync(p, forged);
    const { code, out } = await cli(['check', '--tree', s.repo, p]);
    expect(code).toBe(1);
    expect(out).not.toContain('pre-image from blob');
    // The tree changed the hunk's last context line too: fuzz 1.
    expect(out).toMatch(/^drivers\/demo\/demo\.c: hunk 1 applied at line 9 with fuzz 1 \(offset 3 lines\)$/m);
    expect(out).toMatch(/^drivers\/demo\/demo\.c:14: error: .*\[mismatched-unmap\]$/m);
  });

  it('reports a patch the tree already has as "already applied", exit 2', async () => {
    execFileSync('git', ['am', '-q', patchFile(s, 'clean')], { cwd: s.repo });
    try {
      const { code, err, out } = await cli(['check', '--tree', s.repo, patchFile(s, 'clean')]);
      expect(code).toBe(2);
      expect(out).toBe('');
      expect(err).toMatch(/drivers\/demo\/demo\.c: already applied: the tree already has this patch's changes/);
      expect(err).not.toMatch(/does not apply/);
    } finally {
      execFileSync('git', ['reset', '-q', '--hard', 'HEAD~1'], { cwd: s.repo });
    }
  });
});

describe('--tree a plain directory: applied like patch(1)', () => {
  it('applies with fuzz 1 and an offset, and reports it per hunk', async () => {
    const tree = plainCopy(s, 'fuzz-tree');
    // The last context line of the hunk differs: patch(1) applies with fuzz 1.
    const f = join(tree, 'drivers/demo/demo.c');
    writeFileSync(f, readFileSync(f, 'utf8').replace('\tmemcpy(kaddr, src, len);\n\tkunmap(page);\n\treturn 0; /* always succeeds */', '\tmemcpy(kaddr, src, len);\n\tkunmap(page);\n\treturn 0; /* always succeeds */ /* !! */'));
    const { code, out } = await cli(['check', '--tree', tree, patchFile(s, 'leak')]);
    expect(code).toBe(1);
    expect(out).toMatch(/^drivers\/demo\/demo\.c: hunk 1 applied at line 9 with fuzz 1 \(offset 3 lines\)$/m);
    expect(out).toMatch(/\[mismatched-unmap\]/);
  });

  it('refuses a hunk whose changed lines differ, naming the line', async () => {
    const tree = plainCopy(s, 'bad-tree');
    const f = join(tree, 'drivers/demo/demo.c');
    writeFileSync(f, readFileSync(f, 'utf8').replace('\tkaddr = kmap(page);\n\tmemcpy', '\tkaddr = kmap(pg);\n\tmemcpy'));
    const { code, err } = await cli(['check', '--tree', tree, patchFile(s, 'leak')]);
    expect(code).toBe(2);
    expect(err).toMatch(/hunk 1 .* does not apply/);
  });

  it('reports an already-applied patch in a plain tree too', async () => {
    const tree = plainCopy(s, 'applied-tree');
    const f = join(tree, 'drivers/demo/demo.c');
    writeFileSync(f, readFileSync(f, 'utf8').replace('\tkaddr = kmap(page);\n\tmemcpy', '\tkaddr = kmap_local_page(page);\n\tmemcpy'));
    const { code, err } = await cli(['check', '--tree', tree, patchFile(s, 'leak')]);
    expect(code).toBe(2);
    expect(err).toContain('already applied');
  });
});

describe('--format checkpatch', () => {
  it('prints one terse line per finding, and nothing for a clean patch', async () => {
    const bad = await cli(['check', '--format', 'checkpatch'], { cwd: s.repo, stdin: s.patches.leak });
    expect(bad.code).toBe(1);
    expect(bad.err).toBe('');
    expect(bad.out).toMatch(/^drivers\/demo\/demo\.c:11: ERROR: kunmap\(page\) .* \[mismatched-unmap\]\n$/);
    const clean = await cli(['check', '--format', 'checkpatch'], { cwd: s.repo, stdin: s.patches.clean });
    expect(clean).toEqual({ code: 0, out: '', err: '' });
  });

  it('says nothing about a patch that changes no C file', async () => {
    expect(await cli(['check', '--format', 'checkpatch'], { cwd: s.repo, stdin: s.patches.docs })).toEqual({ code: 0, out: '', err: '' });
  });

  // Several patches per case (one hunk, a hunk starting inside its function, two hunks of one function:
  // right, leaking, half converted), each against a tree that has moved on since the patch's base.
  it.each([
    ['leak', ['mismatched-unmap']],
    ['clean', []],
    ['multiHunk', ['mismatched-unmap']],
    ['multiHunkClean', []],
    ['multiHunkLeak', ['mapping-leak']],
    ['partialUnmap', ['mismatched-unmap']],
  ] as const)('%s: the same findings with and without the tree where the hunks show enough', async (k, rules) => {
    // The cases are what they say: two hunks of one function; one hunk that does not show its signature.
    if (k.startsWith('multiHunk')) expect(s.patches[k].match(/^@@ .* @@ static int demo_fill/gm)).toHaveLength(2);
    if (k === 'partialUnmap') expect(s.patches[k]).not.toMatch(/^ static void demo_zero/m);
    const withTree = await cli(['check', '--format', 'checkpatch', '--tree', s.repo, patchFile(s, k)]);
    const noTree = await cli(['check', '--format', 'checkpatch', patchFile(s, k)], { cwd: s.dir }); // s.dir: not a git repository
    expect(findings(withTree.out).map((f) => f.split('@')[0])).toEqual([...rules]);
    expect(findings(noTree.out)).toEqual(findings(withTree.out));
  });

  it('finds the wrong unmap in the second hunk of a two-hunk function', async () => {
    expect(s.patches.multiHunk.match(/^@@ .* @@ static int demo_fill/gm)).toHaveLength(2);
    const { code, out } = await cli(['check', '--format', 'checkpatch'], { cwd: s.repo, stdin: s.patches.multiHunk });
    expect(code).toBe(1);
    const unmapLine = DEMO_C.split('\n').indexOf('\tkunmap(page);', DEMO_C.split('\n').indexOf('static int demo_fill(struct page *page, int pattern, size_t len)')) + 1;
    expect(findings(out)).toEqual([`mismatched-unmap@${unmapLine}`]);
  });

  // Without a tree the two hunks of demo_fill() are one sparse function (source/sparse.ts): 'p', declared
  // above the hunks, is not taken for a global, and the lines between them are unseen code. The map (hunk 1)
  // and the wrong unmap (hunk 2) are both changed or shown, so the mismatch is found as with the tree, with
  // a note naming the lines not seen; what the hunks alone give must never be contradicted by the tree.
  it('without the tree, a two-hunk function draws no finding the tree does not confirm (section 1)', async () => {
    const withTree = await cli(['check', '--format', 'checkpatch', '--tree', s.repo, patchFile(s, 'multiHunk')]);
    const noTree = await cli(['check', '--format', 'checkpatch', patchFile(s, 'multiHunk')], { cwd: s.dir });
    const confirmed = new Set(findings(withTree.out));
    expect(findings(withTree.out).length).toBeGreaterThan(0);
    expect(findings(noTree.out).filter((f) => !confirmed.has(f))).toEqual([]);
    expect(findings(noTree.out)).toEqual(findings(withTree.out));
    const text = await cli(['check', patchFile(s, 'multiHunk')], { cwd: s.dir });
    expect(text.out).toMatch(/were analysed as one sparse function demo_fill\(\), from 2 hunks; the patch does not show lines \d+-\d+:/);
    expect(text.out).toMatch(/note: the patch does not show lines \d+-\d+, between the map at line \d+ and this unmap/);
    expect(text.out).not.toContain('global');
  });
});

describe('--format b4', () => {
  it('is one JSON array: fail with the finding, pass for a clean patch, [] for no C file', async () => {
    const bad = JSON.parse((await cli(['check', '--format', 'b4'], { cwd: s.repo, stdin: s.patches.leak })).out);
    expect(bad).toHaveLength(1);
    expect(bad[0]).toMatchObject({ tool: 'kmap-review', status: 'fail' });
    expect(bad[0].summary).toMatch(/^1 error, 0 warnings: drivers\/demo\/demo\.c:11: kunmap\(page\)/);
    expect(bad[0].details).toContain('kunmap_local(kaddr)');
    expect(JSON.parse((await cli(['check', '--format', 'b4'], { cwd: s.repo, stdin: s.patches.clean })).out)).toEqual([
      { tool: 'kmap-review', status: 'pass', summary: expect.stringMatching(/^no kmap issues found/), details: '' },
    ]);
    expect((await cli(['check', '--format', 'b4'], { cwd: s.repo, stdin: s.patches.docs })).out).toBe('[]\n');
  });

  it('turns bad input into a fail entry on stdout', async () => {
    const r = await cli(['check', '--format', 'b4'], { cwd: s.repo, stdin: 'not a patch\n' });
    expect(r.code).toBe(2);
    const doc = JSON.parse(r.out);
    expect(doc[0]).toMatchObject({ tool: 'kmap-review', status: 'fail' });
    expect(doc[0].summary).toMatch(/no diff found/);
  });
});

describe('--format email', () => {
  it('refuses a --from that is not an address', async () => {
    const r = await cli(['check', '--format', 'email', '--from', 'nobody', patchFile(s, 'leak')]);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/--from expects/);
  });

  it('needs a sender: --from or git user.email', async () => {
    const r = await cli(['check', '--format', 'email', patchFile(s, 'leak')], { cwd: s.repo });
    expect(r.code).toBe(1);
    expect(r.out).toMatch(/^From: Mai Ntainer <maintainer@example\.org>$/m);
  });

  it('replies once per patch of a series that has findings, none for a clean patch', async () => {
    const r = await cli(['check', '--format', 'email', '--from', 'Rev Iewer <rev@example.net>', '--tree', s.repo, patchFile(s, 'series')]);
    const messages = r.out.split(/^(?=From kmap-review )/m).filter(Boolean);
    expect(messages).toHaveLength(2); // 1/3 is clean; 2/3 and 3/3 have findings
    expect(messages[0]).toMatch(/^Subject: Re: \[PATCH 2\/3\] demo: use kmap_local_page\(\) in demo_copy\(\)$/m);
    expect(messages[1]).toMatch(/^Subject: Re: \[PATCH 3\/3\] demo: unmap demo_copy\(\) by address$/m);
    const clean = await cli(['check', '--format', 'email', '--from', 'r@example.net', '--email-clean', patchFile(s, 'clean')]);
    expect(clean.out).toMatch(/^No kmap issues found in this patch/m);
  });
});
