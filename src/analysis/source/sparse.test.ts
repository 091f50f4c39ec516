/**
 * Hunks of one function reviewed without the tree are one sparse function: what the hunks show in full is
 * reported, what depends on the lines between them is a note (issue 18, section 1).
 */
import { analyze } from '../engine.js';
import type { Report } from '../model.js';
import { loadChangeSets } from '../patch/load.js';
import { initParser } from '../syntax/parser.js';
import { locateFunctionsInSparseImage, unseenWords } from './sparse.js';

beforeAll(async () => {
  await initParser();
});

interface H {
  /** Old-side start line; the new side starts there too unless `newStart` says otherwise. */
  at: number;
  newStart?: number;
  heading: string;
  /** Diff lines: ' ', '-' or '+' then the text. */
  lines: string[];
}

/** A git-style patch of one file made of the given hunks (counts computed). */
function patchOf(path: string, hunks: H[]): string {
  const out = [`diff --git a/${path} b/${path}`, `--- a/${path}`, `+++ b/${path}`];
  for (const h of hunks) {
    const old = h.lines.filter((l) => l[0] !== '+').length;
    const neu = h.lines.filter((l) => l[0] !== '-').length;
    out.push(`@@ -${h.at},${old} +${h.newStart ?? h.at},${neu} @@${h.heading ? ` ${h.heading}` : ''}`, ...h.lines);
  }
  return `${out.join('\n')}\n`;
}

const review = async (patch: string): Promise<Report> => {
  const [cs] = loadChangeSets([{ name: 'p.patch', content: Buffer.from(patch) }]);
  return analyze(cs!);
};
const found = (r: Report) => r.findings.filter((f) => !f.preExisting).map((f) => `${f.rule}/${f.severity}@${f.line}`);
const notes = (r: Report) => r.gaps.map((g) => g.reason).join('\n');

const COPY = 'static int foo_copy(struct foo *f, struct page *page)';

/**
 * Map in hunk 1 (line 13), the given unmap lines in hunk 2 (from line 33), the function's heading on both;
 * with `jump`, hunk 1 also jumps to the label hunk 2 shows: a path from the map to the unmap seen in full.
 */
const twoHunks = (map: string[], unmap: string[], jump = false) =>
  patchOf('drivers/demo/foo.c', [
    { at: 10, heading: COPY, lines: [' \tint ret;', ' ', ' \tf->busy = 1;', ...map, ' \tret = foo_fill(f, len);', ' \tif (ret)', jump ? ' \t\tgoto out;' : ' \t\tf->err = ret;'] },
    { at: 30, heading: COPY, lines: [' \tfoo_sum(f, len);', ' \tret = 0;', ' out:', ...unmap, ' \treturn ret;', ' }', ' '] },
  ]);

describe('two hunks of one function', () => {
  it.each([
    ['kunmap(page) left after a converted kmap()', ['-\tkaddr = kmap(page);', '+\tkaddr = kmap_local_page(page);'], [' \tkunmap(page);'], ['mismatched-unmap/error@33']],
    ['kunmap(page) written for a kmap_local_page() mapping', [' \tkaddr = kmap_local_page(page);'], ['-\tkunmap_local(kaddr);', '+\tkunmap_local_page(page);'.replace('_local_page', '')], ['deprecated-api/warning@33', 'mismatched-unmap/error@33']],
    ['kunmap_atomic() left after a converted kmap_atomic()', ['-\tkaddr = kmap_atomic(page);', '+\tkaddr = kmap_local_page(page);'], [' \tkunmap_atomic(kaddr);'], ['mismatched-unmap/error@33']],
  ])('%s: the mismatched unmap in hunk 2 is found, and its note names the unseen lines', async (_name, map, unmap, want) => {
    const r = await review(twoHunks(map, unmap));
    expect(found(r)).toEqual(want);
    const f = r.findings.find((x) => x.rule === 'mismatched-unmap')!;
    expect(f.note).toMatch(/^the patch does not show lines 17-29, between the map at line 13 and this unmap: this holds unless they map /);
    expect(f.fix).toBeNull();
    expect(notes(r)).toMatch(/lines 10-35 were analysed as one sparse function foo_copy\(\), from 2 hunks; the patch does not show lines 17-29:/);
  });

  it('a goto in hunk 1 to a label in hunk 2 is a path the patch shows in full: the finding needs no note', async () => {
    const r = await review(twoHunks(['-\tkaddr = kmap(page);', '+\tkaddr = kmap_local_page(page);'], [' \tkunmap(page);'], true));
    expect(found(r)).toEqual(['mismatched-unmap/error@33']);
    expect(r.findings[0]!.note).toBeUndefined();
    // No exact fix: the lines not shown between the map and the unmap may have changed kaddr.
    expect(r.findings[0]!.fix).toBeNull();
  });

  it('a mismatch inside hunk 2 of a sparse function gets its exact fix', async () => {
    const r = await review(twoHunks([' \tf->mode = 1;'], ['-\tkaddr = kmap(page);', '+\tkaddr = kmap_local_page(page);', ' \tfoo_sum(f, len);', ' \tkunmap(page);']));
    expect(found(r)).toEqual(['mismatched-unmap/error@35']);
    expect(r.findings[0]!.fix?.edits[0]!.replacement).toBe('\tkunmap_local(kaddr);');
  });

  it('a mismatch the patch changes neither side of is a note, not a finding', async () => {
    // Both the map and the unmap are context: the patch converts a use in between.
    const r = await review(twoHunks([' \tkaddr = kmap_local_page(page);', '-\tmemset(kaddr, 0, 8);', '+\tmemzero(kaddr, 8);'], [' \tkunmap(page);']));
    expect(found(r)).toEqual([]);
    expect(notes(r)).toMatch(/mismatched-unmap: line 33: which mapping kunmap\(page\) releases depends on lines 18-29, which the patch does not show, and the patch changes neither/);
  });

  it('the right unmap across the stretch is clean, and so is the fragment-era false leak', async () => {
    const r = await review(twoHunks(['-\tkaddr = kmap(page);', '+\tkaddr = kmap_local_page(page);'], ['-\tkunmap(page);', '+\tkunmap_local(kaddr);']));
    expect(found(r)).toEqual([]);
  });

  it.each([
    ['a return in hunk 2 with no unmap before it', ['-\tkaddr = kmap(page);', '+\tkaddr = kmap_local_page(page);'], [' \tfoo_put(f);']],
    ['an early return added in hunk 2', ['-\tkaddr = kmap(page);', '+\tkaddr = kmap_local_page(page);'], ['+\tif (f->bad)', '+\t\treturn -EIO;', ' \tkunmap_local(kaddr);']],
  ])('%s: the leak depends on the unseen lines (they may unmap): a note, never an error', async (_name, map, unmap) => {
    const r = await review(twoHunks(map, unmap));
    expect(found(r)).toEqual([]);
    expect(notes(r)).toMatch(/mapping-leak: line 3\d: not reported, as it depends on lines 17-29, which the patch does not show: kaddr \(mapped at line 13\) is still mapped/);
  });

  it('an order mistake that depends on the unseen lines is a note', async () => {
    const patch = patchOf('drivers/demo/foo.c', [
      { at: 10, heading: COPY, lines: [' \tf->busy = 1;', '-\ta = kmap_atomic(page);', '-\tb = kmap_atomic(f->page);', '+\ta = kmap_local_page(page);', '+\tb = kmap_local_page(f->page);', ' \tfoo_fill(f, a, b);'] },
      { at: 30, heading: COPY, lines: [' \tfoo_sum(f, a, b);', '-\tkunmap_atomic(b);', '-\tkunmap_atomic(a);', '+\tkunmap_local(a);', '+\tkunmap_local(b);', ' \treturn 0;', ' }'] },
    ]);
    const r = await review(patch);
    expect(found(r)).toEqual([]);
    expect(notes(r)).toMatch(/unmap-order: line 31: not reported, as it depends on lines 14-29, which the patch does not show: kunmap_local\(a\) releases a while b/);
  });

  it('an order mistake fully inside one hunk of a sparse function is still an error', async () => {
    const patch = patchOf('drivers/demo/foo.c', [
      { at: 10, heading: COPY, lines: [' \tf->busy = 1;', '-\tfoo_prep(f);', '+\tfoo_prep(f, page);', ' \tfoo_fill(f);'] },
      { at: 30, heading: COPY, lines: ['-\ta = kmap_atomic(page);', '-\tb = kmap_atomic(f->page);', '+\ta = kmap_local_page(page);', '+\tb = kmap_local_page(f->page);', ' \tfoo_sum(f, a, b);', '-\tkunmap_atomic(b);', '-\tkunmap_atomic(a);', '+\tkunmap_local(a);', '+\tkunmap_local(b);', ' \treturn 0;', ' }'] },
    ]);
    expect(found(await review(patch))).toEqual(['unmap-order/error@33']);
  });
});

describe('use after unmap across hunks', () => {
  it.each([
    ['the unmap and the use both in hunk 2', [' \tkaddr = kmap_local_page(page);'], ['-\tkunmap_local(kaddr);', '-\tfoo_done(f);', '+\tkunmap_local(kaddr);', '+\tfoo_done(f, kaddr[0]);'], 'use-after-unmap/error@34'],
    ['a kmap() converted in hunk 1, the use after the unmap in hunk 2', ['-\tkaddr = kmap(page);', '+\tkaddr = kmap_local_page(page);'], ['-\tkunmap(page);', '+\tkunmap_local(kaddr);', '+\tf->sum = *(u32 *)kaddr;'], 'use-after-unmap/error@34'],
  ])('%s: nothing unseen between the unmap and the use, so it is reported', async (_name, map, unmap, want) => {
    expect(found(await review(twoHunks(map, unmap)))).toContain(want);
  });

  it('an unmap in hunk 1 and a use in hunk 2: the unseen lines may map it again, a note', async () => {
    const patch = patchOf('drivers/demo/foo.c', [
      { at: 10, heading: COPY, lines: [' \tf->busy = 1;', '-\tkaddr = kmap_atomic(page);', '+\tkaddr = kmap_local_page(page);', ' \tfoo_fill(f, kaddr);', '-\tkunmap_atomic(kaddr);', '+\tkunmap_local(kaddr);', ' \tfoo_wait(f);'] },
      { at: 30, heading: COPY, lines: [' \tfoo_sum(f);', '-\tf->sum = kaddr[0];', '+\tf->sum = kaddr[1];', ' \treturn 0;', ' }'] },
    ]);
    const r = await review(patch);
    expect(found(r)).toEqual([]);
    expect(notes(r)).toMatch(/use-after-unmap: line 31: not reported, as it depends on lines 15-29, which the patch does not show: kaddr is used after kunmap_local\(kaddr\) at line 13/);
  });
});

describe('hunks that are not of one function stay apart', () => {
  const BAR = 'static void bar_zero(struct page *page)';
  it.each([
    ['another heading on hunk 2', (h: H[]) => ((h[1].heading = BAR), h)],
    ['hunk 1 shows the function close', (h: H[]) => (h[0].lines.push(' }', ' ', ` ${BAR}`, ' {'), h)],
    ['hunk 2 starts at file level (a declaration before its code)', (h: H[]) => (h[1].lines.unshift(' static DEFINE_MUTEX(foo_lock);', ' '), h)],
    ['no heading on hunk 2 (plain diff -u)', (h: H[]) => ((h[1].heading = ''), h)],
  ])('%s: each hunk is its own fragment and no finding joins them', async (_name, edit) => {
    const hunks: H[] = [
      { at: 10, heading: COPY, lines: [' \tf->busy = 1;', '-\tkaddr = kmap(page);', '+\tkaddr = kmap_local_page(page);', ' \tfoo_fill(f, kaddr);'] },
      { at: 30, heading: COPY, lines: [' \tfoo_sum(f);', ' \tkunmap(page);', '-\treturn 1;', '+\treturn 0;'] },
    ];
    const r = await review(patchOf('drivers/demo/foo.c', edit(hunks)));
    expect(found(r)).toEqual([]);
    expect(notes(r)).not.toMatch(/sparse function/);
    expect(notes(r)).toMatch(/were analysed as a fragment/);
  });
});

describe('hunks with unbalanced braces', () => {
  it.each([
    [
      'hunk 1 opens a block hunk 2 closes',
      [{ at: 10, heading: COPY, lines: [' \t}', ' \tif (f->mode) {', '-\t\tkaddr = kmap(page);', '+\t\tkaddr = kmap_local_page(page);', ' \t\tfoo_fill(f, kaddr);'] },
        { at: 30, heading: COPY, lines: [' \t\tfoo_sum(f, kaddr);', ' \t\tkunmap(page);', ' \t}', '-\treturn 1;', '+\treturn 0;', ' }'] }],
      ['mismatched-unmap/error@31'],
    ],
    [
      'hunk 2 starts inside a loop the unseen lines opened, and closes it',
      [{ at: 10, heading: COPY, lines: [' \tint i;', ' ', '-\tkaddr = kmap_atomic(page);', '+\tkaddr = kmap_local_page(page);'] },
        { at: 30, heading: COPY, lines: [' \t\t\tfoo_sum(f, kaddr, i);', ' \t\t}', ' \t}', ' \tkunmap_atomic(kaddr);', ' \treturn 0;', ' }'] }],
      ['mismatched-unmap/error@33'],
    ],
  ])('%s: parsed as one function, and the mistake across it found', async (_name, hunks, want) => {
    const r = await review(patchOf('drivers/demo/foo.c', hunks as H[]));
    expect(found(r)).toEqual(want);
    expect(notes(r)).toMatch(/one sparse function foo_copy\(\)/);
    expect(notes(r)).not.toMatch(/do not parse/);
  });

  it('a loop hunk 1 leaves open does not loop back over hunk 1 alone (no remap-in-loop finding)', async () => {
    const patch = patchOf('drivers/demo/foo.c', [
      { at: 10, heading: COPY, lines: [' \tfor (i = 0; i < n; i++) {', '-\t\tkaddr = kmap_atomic(pages[i]);', '+\t\tkaddr = kmap_local_page(pages[i]);', ' \t\tfoo_fill(f, kaddr);'] },
      { at: 30, heading: COPY, lines: ['-\t\tkunmap_atomic(kaddr);', '+\t\tkunmap_local(kaddr);', ' \t}', ' \treturn 0;', ' }'] },
    ]);
    const r = await review(patch);
    expect(found(r)).toEqual([]);
  });

  it('a hunk cut inside a statement: the cut is said, nothing crashes, the stretch still counts as unseen', async () => {
    const patch = patchOf('drivers/demo/foo.c', [
      { at: 10, heading: COPY, lines: [' \tf->busy = 1;', '-\tkaddr = kmap(page);', '+\tkaddr = kmap_local_page(page);', ' \tret = foo_fill(f, len,'] },
      { at: 30, heading: COPY, lines: [' \t\t\t   len);', ' \tfoo_sum(f);', ' \treturn ret;', ' }'] },
    ]);
    const r = await review(patch);
    expect(found(r)).toEqual([]);
    expect(notes(r)).toMatch(/do not parse as whole statements/);
    expect(notes(r)).toMatch(/mapping-leak: line 32: not reported, as it depends on lines 13-29/);
  });
});

describe('locateFunctionsInSparseImage', () => {
  const image = (at: Record<number, string>, n = 40) => {
    const lines = Array<string>(n).fill('');
    for (const [l, t] of Object.entries(at)) lines[Number(l) - 1] = t;
    return lines.join('\n');
  };

  it('wraps hunk lines outside a complete function into a fragment with the right line numbers', () => {
    const text = image({ 10: '\tvaddr = kmap_atomic(page);', 11: '\tmemcpy(vaddr, buf, len);', 12: '\tkunmap_atomic(vaddr);', 13: '}' }, 20);
    const fns = locateFunctionsInSparseImage(text, new Set([10, 12]));
    expect(fns).toHaveLength(1);
    expect(fns[0].fragment).toBe(true);
    const call = fns[0].body.descendants('call_expression').find((c) => c.text.startsWith('kunmap_atomic'));
    expect(call?.line).toBe(12);
  });

  it('joins the hunks of a function shown from its signature to its close, keeping every line number', () => {
    const text = image({ 3: 'static int foo(struct page *page)', 4: '{', 5: '\tvoid *kaddr = kmap_local_page(page);', 20: '\tfoo_sum(kaddr);', 21: '\tkunmap(page);', 22: '\treturn 0;', 23: '}' });
    const fns = locateFunctionsInSparseImage(text, new Set([5]), [
      { lines: { from: 3, to: 5 }, heading: '' },
      { lines: { from: 20, to: 23 }, heading: 'static int foo(struct page *page)' },
    ]);
    expect(fns.map((f) => [f.name, f.line, f.endLine, f.unseen])).toEqual([['foo', 3, 23, [{ from: 6, to: 19 }]]]);
    // The function's own signature: its parameter is a parameter, not a name of unseen code.
    expect(fns[0].node.child('declarator')?.text).toBe('foo(struct page *page)');
    expect(fns[0].body.descendants('call_expression').find((c) => c.text === 'kunmap(page)')?.line).toBe(21);
  });

  it('a heading git cut at 80 bytes still names the line it was cut from', () => {
    const sig = 'static noinline int foo_copy_with_a_long_name(struct foo_device *dev, struct page *page, unsigned int len)';
    const text = image({ 3: sig, 4: '{', 5: '\tvoid *kaddr = kmap_local_page(page);', 20: '\tkunmap(page);', 21: '}' });
    const fns = locateFunctionsInSparseImage(text, new Set([5]), [
      { lines: { from: 3, to: 5 }, heading: '' },
      { lines: { from: 20, to: 21 }, heading: sig.slice(0, 79) },
    ]);
    expect(fns.map((f) => f.unseen)).toEqual([[{ from: 6, to: 19 }]]);
  });

  it('without hunks every line counts as seen and nothing is joined (callers that do not know the hunks)', () => {
    const text = image({ 3: 'static int foo(struct page *page)', 4: '{', 5: '\tvoid *kaddr = kmap_local_page(page);', 20: '\tkunmap_local(kaddr);', 21: '}' });
    const fns = locateFunctionsInSparseImage(text, new Set([5]));
    expect(fns.map((f) => [f.name, f.fragment, f.unseen])).toEqual([['foo', false, undefined]]);
  });

  it('a function spanning unseen lines is never taken as complete', () => {
    const text = image({ 3: 'static int foo(struct page *page)', 4: '{', 5: '\tvoid *kaddr = kmap_local_page(page);', 20: '\tkunmap_local(kaddr);', 21: '}' });
    // Hunk 2 has no heading: nothing says it is the same function, so both are fragments.
    const fns = locateFunctionsInSparseImage(text, new Set([5, 20]), [
      { lines: { from: 3, to: 5 }, heading: '' },
      { lines: { from: 20, to: 21 }, heading: '' },
    ]);
    expect(fns.map((f) => [f.fragment, f.line])).toEqual([[true, 3], [true, 20]]);
  });

  it('unseenWords', () => {
    expect(unseenWords([{ from: 18, to: 29 }])).toBe('lines 18-29');
    expect(unseenWords([{ from: 18, to: 18 }])).toBe('line 18');
    expect(unseenWords([{ from: 18, to: 29 }, { from: 41, to: 45 }])).toBe('lines 18-29 and 41-45');
    const many = Array.from({ length: 10 }, (_, i) => ({ from: 10 * i + 1, to: 10 * i + 5 }));
    expect(unseenWords(many)).toBe('lines 1-5, 11-15, 21-25, 31-35 and 6 more stretches up to line 95');
  });
});

describe('complete functions in a sparse image', () => {
  it('an indented `if (...) {` is not a K&R signature when the real one is not shown', () => {
    const lines = Array<string>(20).fill('');
    // A hunk from inside a loop to the function's close: no signature seen.
    ['\t\tkunmap_local(kaddr);', '\t\tret = foo_get(f, &bh);', '\t\tif (unlikely(ret < 0)) {', '\t\t\tbrelse(bh);', '\t\t\treturn ret;', '\t\t}', '\t}', '\treturn 0;', '}'].forEach((t, i) => (lines[4 + i] = t));
    const fns = locateFunctionsInSparseImage(lines.join('\n'), new Set([5]), [{ lines: { from: 5, to: 13 }, heading: 'static int foo_scan(struct foo *f)' }]);
    expect(fns.map((f) => [f.fragment, f.line])).toEqual([[true, 5]]);
  });

  it('a whole function inside one hunk is still complete', () => {
    const lines = Array<string>(20).fill('');
    ['static void bar(struct page *page)', '{', '\tif (page) {', '\t\tbar_put(page);', '\t}', '}'].forEach((t, i) => (lines[4 + i] = t));
    const fns = locateFunctionsInSparseImage(lines.join('\n'), new Set([8]), [{ lines: { from: 5, to: 10 }, heading: '' }]);
    expect(fns.map((f) => [f.name, f.fragment, f.line])).toEqual([['bar', false, 5]]);
  });
});

describe('headings and rules that are not the replay', () => {
  it("git's default heading is the last column-0 line, a label too: a label hunk 1 shows still joins", async () => {
    const patch = patchOf('drivers/demo/foo.c', [
      { at: 10, heading: COPY, lines: [' \tif (!f)', ' \t\tgoto out;', '-\tkaddr = kmap(page);', '+\tkaddr = kmap_local_page(page);', ' \tfoo_fill(f, len);', ' out:', ' \tf->busy = 0;'] },
      { at: 30, heading: 'out:', lines: [' \tfoo_sum(f, len);', ' \tkunmap(page);', ' \treturn 0;', ' }'] },
    ]);
    const r = await review(patch);
    expect(found(r)).toEqual(['mismatched-unmap/error@31']);
    expect(notes(r)).toMatch(/one sparse function foo_copy\(\)/);
  });

  it('hunk 1 after a label (default heading) and hunk 2 with the same label heading: one function, name unknown', async () => {
    const patch = patchOf('drivers/demo/foo.c', [
      { at: 10, heading: 'repeat:', lines: [' \tf->busy = 1;', '-\tkaddr = kmap(page);', '+\tkaddr = kmap_local_page(page);', ' \tfoo_fill(f, len);'] },
      { at: 30, heading: 'repeat:', lines: [' \tfoo_sum(f, len);', ' \tkunmap(page);', ' \treturn 0;', ' }'] },
    ]);
    const r = await review(patch);
    expect(found(r)).toEqual(['mismatched-unmap/error@31']);
    expect(notes(r)).toMatch(/lines 10-33 were analysed as one sparse function, from 2 hunks/);
  });

  it('a label heading hunk 1 does not show may be any function: no join', async () => {
    const patch = patchOf('drivers/demo/foo.c', [
      { at: 10, heading: COPY, lines: [' \tf->busy = 1;', '-\tkaddr = kmap(page);', '+\tkaddr = kmap_local_page(page);', ' \tfoo_fill(f, len);'] },
      { at: 30, heading: 'out:', lines: [' \tfoo_sum(f, len);', ' \tkunmap(page);', ' \treturn 0;', ' }'] },
    ]);
    const r = await review(patch);
    expect(found(r)).toEqual([]);
    expect(notes(r)).not.toMatch(/sparse function/);
  });

  it('a rule outside the replay whose evidence spans the unseen lines is a note (sleep-in-atomic)', async () => {
    const patch = patchOf('drivers/demo/foo.c', [
      { at: 10, heading: COPY, lines: [' \tf->busy = 1;', ' \tkaddr = kmap_atomic(page);', ' \tfoo_fill(f, kaddr);'] },
      { at: 30, heading: COPY, lines: [' \tfoo_sum(f, len);', '+\tmutex_lock(&f->lock);', ' \treturn 0;', ' }'] },
    ]);
    const r = await review(patch);
    expect(found(r)).toEqual([]);
    expect(notes(r)).toMatch(/sleep-in-atomic: line 31: not reported, as it depends on lines 13-29, which the patch does not show/);
  });

  it('the same sleep inside one hunk is still reported', async () => {
    const patch = patchOf('drivers/demo/foo.c', [
      { at: 10, heading: COPY, lines: [' \tf->busy = 1;', ' \tfoo_fill(f, len);'] },
      { at: 30, heading: COPY, lines: [' \tkaddr = kmap_atomic(page);', '+\tmutex_lock(&f->lock);', ' \tkunmap_atomic(kaddr);', ' \treturn 0;', ' }'] },
    ]);
    expect(found(await review(patch))).toEqual(['sleep-in-atomic/error@31']);
  });
});

describe('bad input', () => {
  it('hundreds of hunks of one function: one sparse function, found what the hunks show, a message of bounded length', async () => {
    const hunks: H[] = [{ at: 10, heading: COPY, lines: [' \tf->busy = 1;', '-\tkaddr = kmap(page);', '+\tkaddr = kmap_local_page(page);', ' \tfoo_fill(f, len);'] }];
    for (let k = 1; k < 300; k++) hunks.push({ at: 10 + 40 * k, heading: COPY, lines: [' \tfoo_sum(f, len);', '-\tfoo_x(f);', '+\tfoo_y(f);', ' \tfoo_z(f);'] });
    hunks.push({ at: 20000, heading: COPY, lines: [' \tfoo_sum(f, len);', ' \tkunmap(page);', ' \treturn 0;', ' }'] });
    const r = await review(patchOf('drivers/demo/foo.c', hunks));
    expect(found(r)).toEqual(['mismatched-unmap/error@20001']);
    expect(notes(r)).toMatch(/from 301 hunks; the patch does not show lines 13-49, 53-89, 93-129, 133-169 and 296 more stretches up to line 19999:/);
    expect(Math.max(...r.gaps.map((g) => g.reason.length), r.findings[0]!.note!.length)).toBeLessThan(400);
  });
});

describe('hunks cut inside a comment', () => {
  it.each([
    ['hunk 2 starts inside a comment the unseen lines opened', [' \t * changed, and reset the cache if so.', ' \t */', ' \tfoo_sum(f, len);', ' \tkunmap(page);', ' \treturn 0;', ' }']],
    ['hunk 1 ends inside a comment', null],
  ])('%s: still one function, the mismatch found', async (name, second) => {
    const first = [' \tf->busy = 1;', '-\tkaddr = kmap(page);', '+\tkaddr = kmap_local_page(page);', ' \tfoo_fill(f, len);', ...(second ? [] : [' \t/*', ' \t * Sum it { later.'])];
    const patch = patchOf('drivers/demo/foo.c', [
      { at: 10, heading: COPY, lines: first },
      { at: 30, heading: COPY, lines: second ?? [' \tfoo_sum(f, len);', ' \tkunmap(page);', ' \treturn 0;', ' }'] },
    ]);
    const r = await review(patch);
    expect({ name, found: found(r) }).toEqual({ name, found: [`mismatched-unmap/error@${second ? 33 : 31}`] });
    expect(notes(r)).not.toMatch(/do not parse/);
  });
});

describe('hunks cut inside a statement are mended to parse', () => {
  it.each([
    ['hunk 1 ends inside the arguments of a call, hunk 2 starts with the rest', [' \tif (!foo_ok(f))', ' \t\tfoo_warn(f->dev,'], [' \t\t\t "%s: bad %d\\n",', ' \t\t\t __func__, f->id);', ' \telse', ' \t\tfoo_sum(f, len);', ' \tkunmap(page);', ' \treturn 0;', ' }'], 'mismatched-unmap/error@34'],
    ['hunk 1 ends inside a condition, hunk 2 continues it with an operator', [' \tif (f->mode &&'], [' \t    || f->force)', ' \t\tfoo_sum(f, len);', ' \tkunmap(page);', ' \treturn 0;', ' }'], 'mismatched-unmap/error@32'],
    [
      'an if whose call runs on through the stretch, then its else',
      [' \tdesc = foo_desc(f, group, f->bh, kaddr);', ' \tif (!foo_clear(lock, off))', ' \t\tfoo_warn(f->sb,'],
      [' \t\t\t  __func__, f->ino,', ' \t\t\t  (unsigned long long)f->nr);', ' \telse', ' \t\tfoo_add(desc, lock, 1);', ' ', ' \tkunmap(page);', ' \tfoo_dirty(f->bh);', ' }'],
      'mismatched-unmap/error@35',
    ],
  ])('%s: one function, the statements cut said, the mismatch found', async (_name, end1, start2, want) => {
    const patch = patchOf('drivers/demo/foo.c', [
      // kaddr goes to a function not shown: only an unmap found after it (through the mended cut) keeps it followed.
      { at: 10, heading: COPY, lines: [' \tf->busy = 1;', '-\tkaddr = kmap(page);', '+\tkaddr = kmap_local_page(page);', ' \tfoo_fill(f, kaddr);', ...end1] },
      { at: 30, heading: COPY, lines: start2 },
    ]);
    const r = await review(patch);
    expect(found(r)).toEqual([want]);
    expect(notes(r)).toMatch(/one sparse function foo_copy\(\)/);
    expect(notes(r)).toMatch(/do not parse as whole statements/);
  });
});

describe('an else at the start of a hunk', () => {
  it('hunk 2 starts with `} else {` of an if the unseen lines hold: it still parses, and the mistake in the else is found', async () => {
    const patch = patchOf('drivers/demo/foo.c', [
      { at: 10, heading: COPY, lines: [' \tf->busy = 1;', '-\tkaddr = kmap(page);', '+\tkaddr = kmap_local_page(page);', ' \tif (f->prev) {', ' \t\tret = foo_get(f, &bh);', ' \t\tif (ret < 0)'] },
      { at: 30, heading: COPY, lines: [' \t} else {', ' \t\tfoo_sum(f, len);', ' \t}', ' \tkunmap(page);', ' \treturn 0;', ' }'] },
    ]);
    const r = await review(patch);
    expect(found(r)).toEqual(['mismatched-unmap/error@33']);
    expect(notes(r)).toMatch(/one sparse function foo_copy\(\)/);
    expect(notes(r)).not.toMatch(/do not parse/);
  });
});

describe('a hunk that starts inside a block the unseen lines opened', () => {
  it('a goto in that block ends only its own path: the mistake after the block is still found', async () => {
    const patch = patchOf('drivers/demo/foo.c', [
      { at: 10, heading: COPY, lines: [' \tfor (i = 0; i < n; i++) {', ' \t\tif (foo_full(f, i)) {', '-\t\t\tkunmap_atomic(kaddr);', '+\t\t\tkunmap_local(kaddr);', ' \t\t\tret = foo_flush(f, i);'] },
      { at: 30, heading: COPY, lines: [' \t\t\t\tgoto out;', ' \t\t\t}', '-\t\t\tkaddr = kmap_atomic(page);', '+\t\t\tkaddr = kmap_local_page(page);', ' \t\t}', ' \t}', ' \tkunmap_atomic(kaddr);', ' \treturn 0;'] },
    ]);
    expect(found(await review(patch))).toEqual(['mismatched-unmap/error@35']);
  });
});

describe('a hunk that starts at the end of a do-while', () => {
  it('`} while (true);` of a loop the unseen lines may leave: what follows is still reached', async () => {
    const patch = patchOf('drivers/demo/foo.c', [
      { at: 10, heading: COPY, lines: [' \tdo {', '-\t\tfoo_x(f);', '+\t\tfoo_y(f);', ' \t\tfoo_next(f);'] },
      { at: 30, heading: COPY, lines: [' \t} while (true);', '-\tkaddr = kmap_atomic(page);', '+\tkaddr = kmap_local_page(page);', ' \tfoo_sum(f, kaddr);', ' \tkunmap_atomic(kaddr);', ' \treturn 0;'] },
    ]);
    expect(found(await review(patch))).toEqual(['mismatched-unmap/error@33']);
  });
});
