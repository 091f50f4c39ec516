import { describe, expect, it } from '@jest/globals';
import { applyHunks } from './apply.js';
import { parsePatchLines, type Hunk } from './diff.js';
import { AlreadyAppliedError, InputError } from './errors.js';
import { splitLines } from './text.js';

const lines = (...l: string[]) => `${l.join('\n')}\n`;
const hunksOf = (...body: string[]): Hunk[] =>
  parsePatchLines('t.patch', splitLines(lines('--- a/f.c', '+++ b/f.c', ...body)).lines)[0]!.hunks;

/** A kernel-style file of n numbered statements. */
const numbered = (n: number) => Array.from({ length: n }, (_, i) => `\tstep(${i + 1});`);
const PRE = lines(...numbered(30));

describe('applyHunks', () => {
  it('applies hunks and reports added and removed line numbers', () => {
    const hunks = hunksOf(
      '@@ -2,3 +2,4 @@',
      ' \tstep(2);',
      '-\tstep(3);',
      '+\tnew_a();',
      '+\tnew_b();',
      ' \tstep(4);',
      '@@ -20,2 +21,1 @@',
      '-\tstep(20);',
      ' \tstep(21);',
    );
    const res = applyHunks('f.c', PRE, hunks);
    const post = res.text.split('\n');
    expect(post.slice(0, 6)).toEqual(['\tstep(1);', '\tstep(2);', '\tnew_a();', '\tnew_b();', '\tstep(4);', '\tstep(5);']);
    expect([...res.addedLines]).toEqual([3, 4]);
    expect([...res.removedLines]).toEqual([3, 20]);
    expect(post[20]).toBe('\tstep(21);');
    expect(res.text.endsWith('\tstep(30);\n')).toBe(true);
  });

  it('finds a hunk at an offset (the tree gained lines above it) and carries the offset on', () => {
    const pre = lines('/* new header line */', '/* another */', ...numbered(30));
    const hunks = hunksOf('@@ -10,3 +10,3 @@', ' \tstep(10);', '-\tstep(11);', '+\tSTEP(11);', ' \tstep(12);', '@@ -25 +25 @@', '-\tstep(25);', '+\tSTEP(25);');
    const res = applyHunks('f.c', pre, hunks);
    expect([...res.removedLines]).toEqual([13, 27]);
    expect([...res.addedLines]).toEqual([13, 27]);
    expect(res.text.split('\n')[12]).toBe('\tSTEP(11);');
  });

  it('finds a hunk at a negative offset', () => {
    const pre = lines(...numbered(30).slice(5));
    const res = applyHunks('f.c', pre, hunksOf('@@ -20,2 +20,2 @@', '-\tstep(20);', '+\tSTEP(20);', ' \tstep(21);'));
    expect([...res.removedLines]).toEqual([15]);
  });

  it('prefers the match nearest to the stated line', () => {
    const pre = lines('x', 'dup', 'y', 'y', 'y', 'y', 'dup', 'y');
    const res = applyHunks('f.c', pre, hunksOf('@@ -6 +6 @@', '-dup', '+DUP'));
    expect([...res.removedLines]).toEqual([7]);
  });

  it('adds a file from an empty pre-image and keeps a missing final newline', () => {
    const res = applyHunks('n.c', '', hunksOf('@@ -0,0 +1,2 @@', '+int a;', '+int b;', '\\ No newline at end of file'));
    expect(res.text).toBe('int a;\nint b;');
    expect([...res.addedLines]).toEqual([1, 2]);
  });

  it('adds and removes the final newline as the markers say', () => {
    const add = applyHunks('f.c', 'a\nb', hunksOf('@@ -1,2 +1,2 @@', ' a', '-b', '\\ No newline at end of file', '+b'));
    expect(add.text).toBe('a\nb\n');
    const drop = applyHunks('f.c', 'a\nb\n', hunksOf('@@ -1,2 +1,2 @@', ' a', '-b', '+b', '\\ No newline at end of file'));
    expect(drop.text).toBe('a\nb');
  });

  it('matches a CRLF pre-image against an LF patch (both are stripped)', () => {
    const res = applyHunks('f.c', 'a\r\nb\r\nc\r\n', hunksOf('@@ -2 +2 @@', '-b', '+B'));
    expect(res.text).toBe('a\nB\nc\n');
  });

  it.each<[string, string, string[], RegExp]>([
    [
      'a context line differs',
      PRE,
      ['@@ -5,2 +5,2 @@', ' \tstep(5);', '-\tstep(99);', '+\tx();'],
      /^f\.c: hunk 1 \(@@ -5,2 \+5,2 @@\) does not apply: line 6 is "\\tstep\(6\);" but the hunk expects "\\tstep\(99\);" \(no match elsewhere either\)$/,
    ],
    [
      'the second hunk does not match',
      PRE,
      ['@@ -1 +1 @@', '-\tstep(1);', '+\tx();', '@@ -10,2 +10,2 @@ static void f(void)', ' \tstep(10);', '-\tkmap(page);', '+\tkmap_local_page(page);'],
      /^f\.c: hunk 2 \(@@ -10,2 \+10,2 @@ static void f\(void\)\) does not apply: line 11 is "\\tstep\(11\);" but the hunk expects "\\tkmap\(page\);"/,
    ],
    [
      'the file is too short',
      lines('a', 'b'),
      ['@@ -5,2 +5,2 @@', ' x', '-y', '+z'],
      /^f\.c: hunk 1 \(@@ -5,2 \+5,2 @@\) does not apply: .*the file has only 2 lines/,
    ],
    [
      'an insertion past the end',
      lines('a', 'b'),
      ['@@ -7,0 +8 @@', '+z'],
      /^f\.c: hunk 1 .* does not apply: it starts at line 8 but the file has only 2 lines/,
    ],
    [
      'no fuzz on whitespace',
      lines('\tfoo();'),
      ['@@ -1 +1 @@', '-    foo();', '+\tbar();'],
      /line 1 is "\\tfoo\(\);" but the hunk expects "    foo\(\);"/,
    ],
  ])('throws when %s', (_what, pre, body, message) => {
    expect(() => applyHunks('f.c', pre, hunksOf(...body))).toThrow(InputError);
    expect(() => applyHunks('f.c', pre, hunksOf(...body))).toThrow(message);
  });

  it('is fast on a big file with a hunk that matches nowhere', () => {
    const pre = `y\n${'x\n'.repeat(200_000)}`; // 'y' exists, so every position is really tried
    const body = ['@@ -100000,1001 +100000,1001 @@', ...Array.from({ length: 1000 }, () => ' x'), '-y', '+z'];
    const t0 = Date.now();
    expect(() => applyHunks('f.c', pre, hunksOf(...body))).toThrow(/does not apply/);
    expect(Date.now() - t0).toBeLessThan(2000);
  });
});

describe('applyHunks like patch(1): fuzz, placements, already applied', () => {
  const hunk = hunksOf('@@ -10,7 +10,7 @@', ' \tstep(7);', ' \tstep(8);', ' \tstep(9);', '-\tstep(10);', '+\tSTEP(10);', ' \tstep(11);', ' \tstep(12);', ' \tstep(13);');

  it('reports an exact hunk at its stated line as placed there with no fuzz', () => {
    const pre = lines(...numbered(30).slice(0, 6), '\tstep(7);', ...numbered(30).slice(7));
    const h = hunksOf('@@ -7,7 +7,7 @@', ' \tstep(7);', ' \tstep(8);', ' \tstep(9);', '-\tstep(10);', '+\tSTEP(10);', ' \tstep(11);', ' \tstep(12);', ' \tstep(13);');
    expect(applyHunks('f.c', pre, h).placements).toEqual([{ hunk: 1, header: '@@ -7,7 +7,7 @@', statedLine: 7, line: 7, fuzz: 0 }]);
  });

  it('ignores up to 2 differing context lines at the ends (fuzz), never a changed line', () => {
    const pre = numbered(30);
    pre[6] = '\tstep(7); /* edited */'; // first context line of the hunk (stated line 10 is step(10)... shifted)
    const res = applyHunks('f.c', lines(...pre), hunksOf('@@ -7,7 +7,7 @@', ' \tstep(7);', ' \tstep(8);', ' \tstep(9);', '-\tstep(10);', '+\tSTEP(10);', ' \tstep(11);', ' \tstep(12);', ' \tstep(13);'));
    expect(res.placements[0]).toMatchObject({ line: 7, fuzz: 1 });
    expect(res.text.split('\n')[6]).toBe('\tstep(7); /* edited */'); // the file's line is kept
    expect(res.text.split('\n')[9]).toBe('\tSTEP(10);');
    expect([...res.removedLines]).toEqual([10]);
    const changed = numbered(30);
    changed[9] = '\tstep(10); /* edited */';
    expect(() => applyHunks('f.c', lines(...changed), hunk)).toThrow(/does not apply/);
  });

  it('needs fuzz 2 when two lines at one end differ, and refuses three', () => {
    const h = hunksOf('@@ -7,7 +7,7 @@', ' \tstep(7);', ' \tstep(8);', ' \tstep(9);', '-\tstep(10);', '+\tSTEP(10);', ' \tstep(11);', ' \tstep(12);', ' \tstep(13);');
    const two = numbered(30);
    two[11] = '\tx();';
    two[12] = '\ty();';
    expect(applyHunks('f.c', lines(...two), h).placements[0]).toMatchObject({ fuzz: 2 });
    const three = [...two];
    three[10] = '\tz();';
    expect(() => applyHunks('f.c', lines(...three), h)).toThrow(InputError);
  });

  it('prefers an exact match farther away to a fuzzy one nearby', () => {
    const pre = [...numbered(30)];
    const res = applyHunks('f.c', lines('/* a */', '/* b */', ...pre), hunksOf('@@ -7,7 +7,7 @@', ' \tstep(7);', ' \tstep(8);', ' \tstep(9);', '-\tstep(10);', '+\tSTEP(10);', ' \tstep(11);', ' \tstep(12);', ' \tstep(13);'));
    expect(res.placements[0]).toMatchObject({ statedLine: 7, line: 9, fuzz: 0 });
  });

  it('says "already applied" when the hunks apply in reverse', () => {
    const post = numbered(30);
    post[9] = '\tSTEP(10);';
    const h = hunksOf('@@ -7,7 +7,7 @@', ' \tstep(7);', ' \tstep(8);', ' \tstep(9);', '-\tstep(10);', '+\tSTEP(10);', ' \tstep(11);', ' \tstep(12);', ' \tstep(13);');
    expect(() => applyHunks('f.c', lines(...post), h)).toThrow(AlreadyAppliedError);
    expect(() => applyHunks('f.c', lines(...post), h)).toThrow(/already applied/);
    // A file that has neither side is a plain mismatch.
    const neither = [...post];
    neither[9] = '\tother(10);';
    let err: unknown;
    try {
      applyHunks('f.c', lines(...neither), h);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(InputError);
    expect(err).not.toBeInstanceOf(AlreadyAppliedError);
  });
});
