import { describe, expect, it } from '@jest/globals';
import { changedFileFromImages, diffLines } from './line-diff.js';

/** Length of a longest common subsequence, by dynamic programming (reference for small inputs). */
function lcsLength(a: readonly string[], b: readonly string[]): number {
  let prev = new Array<number>(b.length + 1).fill(0);
  for (let i = 1; i <= a.length; i++) {
    const cur = new Array<number>(b.length + 1).fill(0);
    for (let j = 1; j <= b.length; j++) cur[j] = a[i - 1] === b[j - 1] ? prev[j - 1]! + 1 : Math.max(prev[j]!, cur[j - 1]!);
    prev = cur;
  }
  return prev[b.length]!;
}

/** Deterministic PRNG so failures reproduce. */
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

const kept = (xs: readonly string[], marks: Uint8Array) => xs.filter((_, i) => !marks[i]);
const numbered = (n: number) => Array.from({ length: n }, (_, i) => `\tstep(${i + 1});`);
const text = (l: readonly string[]) => `${l.join('\n')}\n`;

describe('diffLines', () => {
  it.each<[string, string[], string[], number[], number[]]>([
    ['identical', ['a', 'b'], ['a', 'b'], [], []],
    ['both empty', [], [], [], []],
    ['all added', [], ['a', 'b'], [], [1, 2]],
    ['all removed', ['a', 'b'], [], [1, 2], []],
    ['one line changed', ['a', 'b', 'c'], ['a', 'B', 'c'], [2], [2]],
    ['insertion in the middle', ['a', 'c'], ['a', 'b', 'c'], [], [2]],
    ['deletion at the start', ['x', 'a', 'b'], ['a', 'b'], [1], []],
    ['moved line', ['a', 'b', 'c', 'd'], ['b', 'c', 'd', 'a'], [1], [4]],
  ])('%s', (_what, a, b, removed, added) => {
    const d = diffLines(a, b);
    expect([...d.removed].flatMap((v, i) => (v ? [i + 1] : []))).toEqual(removed);
    expect([...d.added].flatMap((v, j) => (v ? [j + 1] : []))).toEqual(added);
  });

  it('is minimal and consistent on random inputs (checked against a DP LCS)', () => {
    const rand = rng(42);
    for (let t = 0; t < 300; t++) {
      const alphabet = 1 + Math.floor(rand() * 6);
      const gen = () => Array.from({ length: Math.floor(rand() * 25) }, () => `l${Math.floor(rand() * alphabet)}`);
      const a = gen();
      const b = gen();
      const d = diffLines(a, b);
      const ka = kept(a, d.removed);
      const kb = kept(b, d.added);
      expect(ka).toEqual(kb); // the unmarked lines are a common subsequence
      expect(ka.length).toBe(lcsLength(a, b)); // ... and a longest one
    }
  });

  it('marks just the changed line in a 10k-line file, quickly', () => {
    const a = numbered(10_000);
    const b = [...a];
    b[4321] = '\tkmap_local_page(page);';
    const t0 = Date.now();
    const d = diffLines(a, b);
    expect(Date.now() - t0).toBeLessThan(500);
    expect([...d.removed].flatMap((v, i) => (v ? [i] : []))).toEqual([4321]);
    expect([...d.added].flatMap((v, i) => (v ? [i] : []))).toEqual([4321]);
  });

  it('is fast on two unrelated 10k-line files and on many scattered edits', () => {
    const a = numbered(10_000);
    const b = a.map((l) => `${l} /* changed */`);
    let t0 = Date.now();
    const d = diffLines(a, b);
    expect(d.removed.every((v) => v === 1) && d.added.every((v) => v === 1)).toBe(true);
    expect(Date.now() - t0).toBeLessThan(500);

    // Repetitive lines (braces, blanks) with 1000 scattered edits.
    const rep = Array.from({ length: 10_000 }, (_, i) => (i % 3 === 0 ? '}' : i % 3 === 1 ? '' : `\tcall(${i % 50});`));
    const rep2 = rep.map((l, i) => (i % 10 === 0 ? `\tedited(${i % 7});` : l));
    t0 = Date.now();
    const d2 = diffLines(rep, rep2);
    expect(Date.now() - t0).toBeLessThan(2000);
    expect(kept(rep, d2.removed)).toEqual(kept(rep2, d2.added));
  });

  it('stays bounded on adversarial input (random two-letter files), still giving a valid diff', () => {
    const rand = rng(7);
    const gen = () => Array.from({ length: 20_000 }, () => (rand() < 0.5 ? 'x' : 'y'));
    const a = gen();
    const b = gen();
    const t0 = Date.now();
    const d = diffLines(a, b);
    expect(Date.now() - t0).toBeLessThan(3000);
    expect(kept(a, d.removed)).toEqual(kept(b, d.added));
  });
});

describe('changedFileFromImages', () => {
  it('gives 1-based line sets and complete images', () => {
    const f = changedFileFromImages('a.c', 'a.c', text(['int a;', 'int b;', 'int c;']), text(['int a;', 'int B;', 'int c;', 'int d;']));
    expect(f).toMatchObject({ oldPath: 'a.c', newPath: 'a.c', complete: true });
    expect([...f.removedLines]).toEqual([2]);
    expect([...f.addedLines]).toEqual([2, 4]);
  });

  it('handles added and deleted files (null text)', () => {
    const added = changedFileFromImages(null, 'n.c', null, 'a\nb\n');
    expect(added).toMatchObject({ oldPath: null, oldText: '', newText: 'a\nb\n' });
    expect([...added.addedLines]).toEqual([1, 2]);
    const deleted = changedFileFromImages('d.c', null, 'a\n', null);
    expect([...deleted.removedLines]).toEqual([1]);
    expect(deleted.newText).toBe('');
  });

  it('ignores CRLF vs LF (line numbers unchanged, texts normalised to LF)', () => {
    const f = changedFileFromImages('a.c', 'a.c', 'a\r\nb\r\n', 'a\nB\n');
    expect([...f.removedLines]).toEqual([2]);
    expect([...f.addedLines]).toEqual([2]);
    expect(f.oldText).toBe('a\nb\n');
  });
});
