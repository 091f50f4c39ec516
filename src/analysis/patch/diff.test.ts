import { describe, expect, it } from '@jest/globals';
import { parsePatchLines, MAX_LINE_NUMBER } from './diff.js';
import { InputError } from './errors.js';
import { splitLines } from './text.js';

const parse = (text: string) => parsePatchLines('t.patch', splitLines(text).lines);
const lines = (...l: string[]) => `${l.join('\n')}\n`;

const MODIFY = lines(
  'diff --git a/fs/demo/a.c b/fs/demo/a.c',
  'index 1111111..2222222 100644',
  '--- a/fs/demo/a.c',
  '+++ b/fs/demo/a.c',
  '@@ -3,4 +3,4 @@ static int demo(struct page *page)',
  ' {',
  '-\tvoid *p = kmap(page);',
  '+\tvoid *p = kmap_local_page(page);',
  ' \tint ret;',
  ' ',
  '@@ -20,3 +20,3 @@ static int demo(struct page *page)',
  ' \tret = check(p);',
  '-\tkunmap(page);',
  '+\tkunmap_local(p);',
  ' \treturn ret;',
);

describe('parsePatchLines', () => {
  it('parses a git diff with several hunks', () => {
    const [fp, ...rest] = parse(MODIFY);
    expect(rest).toEqual([]);
    expect(fp).toMatchObject({ oldPath: 'fs/demo/a.c', newPath: 'fs/demo/a.c', status: 'modified', binary: false, inputLine: 1 });
    expect(fp!.hunks.map((h) => [h.index, h.oldStart, h.oldLines, h.newStart, h.newLines, h.inputLine])).toEqual([
      [1, 3, 4, 3, 4, 5],
      [2, 20, 3, 20, 3, 11],
    ]);
    expect(fp!.hunks[0]!.lines[1]).toEqual({ kind: '-', text: '\tvoid *p = kmap(page);' });
    expect(fp!.hunks[0]!.lines[3]).toEqual({ kind: ' ', text: '\tint ret;' });
  });

  it('parses a pure rename and keeps the path pairing', () => {
    const [fp] = parse(lines(
      'diff --git a/drivers/demo/old.c b/drivers/demo/new.c',
      'similarity index 100%',
      'rename from drivers/demo/old.c',
      'rename to drivers/demo/new.c',
    ));
    expect(fp).toMatchObject({ oldPath: 'drivers/demo/old.c', newPath: 'drivers/demo/new.c', status: 'renamed', hunks: [] });
  });

  it('parses a rename with a content change', () => {
    const [fp] = parse(lines(
      'diff --git a/a/x.c b/b/y.c',
      'similarity index 80%',
      'rename from a/x.c',
      'rename to b/y.c',
      'index 1..2 100644',
      '--- a/a/x.c',
      '+++ b/b/y.c',
      '@@ -1 +1 @@',
      '-int x;',
      '+int y;',
    ));
    expect(fp).toMatchObject({ oldPath: 'a/x.c', newPath: 'b/y.c', status: 'renamed' });
    expect(fp!.hunks).toHaveLength(1);
  });

  it('parses a new file, a deletion, a copy and a mode change', () => {
    const fps = parse(lines(
      'diff --git a/new.h b/new.h',
      'new file mode 100644',
      'index 0000000..1234567',
      '--- /dev/null',
      '+++ b/new.h',
      '@@ -0,0 +1,2 @@',
      '+#define DEMO 1',
      '+#define DEMO2 2',
      'diff --git a/gone.c b/gone.c',
      'deleted file mode 100644',
      'index 1234567..0000000',
      '--- a/gone.c',
      '+++ /dev/null',
      '@@ -1 +0,0 @@',
      '-int gone;',
      'diff --git a/src.c b/dst.c',
      'similarity index 100%',
      'copy from src.c',
      'copy to dst.c',
      'diff --git a/run.sh b/run.sh',
      'old mode 100644',
      'new mode 100755',
      'diff --git a/empty.c b/empty.c',
      'new file mode 100644',
      'index 0000000..e69de29',
    ));
    expect(fps.map((f) => [f.status, f.oldPath, f.newPath, f.hunks.length])).toEqual([
      ['added', null, 'new.h', 1],
      ['deleted', 'gone.c', null, 1],
      ['copied', 'src.c', 'dst.c', 0],
      ['modified', 'run.sh', 'run.sh', 0],
      ['added', null, 'empty.c', 0],
    ]);
    expect(fps[3]).toMatchObject({ oldMode: '100644', newMode: '100755' });
  });

  it('marks binary patches (GIT binary patch and Binary files ... differ)', () => {
    const fps = parse(lines(
      'diff --git a/logo.bin b/logo.bin',
      'index 87ae6b6..22f6b3b 100644',
      'GIT binary patch',
      'literal 8',
      'PcmYew%wtF_sx$%s42c4`',
      '',
      'literal 7',
      'OcmYew%wtF_sssQD(E^45',
      '',
      'diff --git a/fw.bin b/fw.bin',
      'index 1..2 100644',
      'Binary files a/fw.bin and b/fw.bin differ',
      'diff --git a/a.c b/a.c',
      '--- a/a.c',
      '+++ b/a.c',
      '@@ -1 +1 @@',
      '-a',
      '+b',
    ));
    expect(fps.map((f) => [f.newPath, f.binary])).toEqual([['logo.bin', true], ['fw.bin', true], ['a.c', false]]);
  });

  it('parses plain diff -u and diff -ruN output (timestamps, -p1 prefixes, epoch = missing file)', () => {
    const fps = parse(lines(
      'diff -ruN linux.orig/fs/a.c linux/fs/a.c',
      '--- linux.orig/fs/a.c\t2024-01-01 10:00:00.000000000 +0100',
      '+++ linux/fs/a.c\t2024-01-02 10:00:00.000000000 +0100',
      '@@ -1 +1 @@',
      '-a',
      '+b',
      'diff -ruN linux.orig/fs/n.c linux/fs/n.c',
      '--- linux.orig/fs/n.c\t1970-01-01 01:00:00.000000000 +0100',
      '+++ linux/fs/n.c\t2024-01-02 10:00:00.000000000 +0100',
      '@@ -0,0 +1 @@',
      '+new',
      '--- demo.c.orig',
      '+++ demo.c',
      '@@ -1 +1 @@',
      '-x',
      '+y',
    ));
    expect(fps.map((f) => [f.status, f.oldPath, f.newPath])).toEqual([
      ['modified', 'fs/a.c', 'fs/a.c'],
      ['added', null, 'fs/n.c'],
      ['modified', 'demo.c', 'demo.c'],
    ]);
  });

  it('handles "\\ No newline at end of file" on either side', () => {
    const [fp] = parse(lines(
      'diff --git a/a.c b/a.c',
      '--- a/a.c',
      '+++ b/a.c',
      '@@ -1,2 +1,2 @@',
      ' int a;',
      '-int b;',
      '\\ No newline at end of file',
      '+int c;',
    ));
    expect(fp!.hunks[0]).toMatchObject({ oldNoNewline: true, newNoNewline: false });
    expect(fp!.hunks[0]!.lines.map((l) => l.kind)).toEqual([' ', '-', '+']);
  });

  it('accepts CRLF input and empty context lines whose space was lost', () => {
    const crlf = MODIFY.replace(/\n/g, '\r\n');
    const text = splitLines(crlf);
    expect(text.crlf).toBe(true);
    const [fp] = parsePatchLines('t.patch', text.lines);
    expect(fp!.hunks[0]!.lines[1]!.text).toBe('\tvoid *p = kmap(page);');
    const [fp2] = parse(MODIFY.replace('\n \n@@ -20', '\n\n@@ -20'));
    expect(fp2!.hunks[0]!.lines[4]).toEqual({ kind: ' ', text: '' });
  });

  it('unquotes C-quoted paths', () => {
    const [fp] = parse(lines(
      'diff --git "a/d\\303\\251mo.c" "b/d\\303\\251mo.c"',
      '--- "a/d\\303\\251mo.c"',
      '+++ "b/d\\303\\251mo.c"',
      '@@ -1 +1 @@',
      '-a',
      '+b',
    ));
    expect(fp!.newPath).toBe('démo.c');
  });

  it('skips mail text, diffstats and signatures around the diff', () => {
    const fps = parse(lines('Subject: x', '', 'Some text --- with dashes', '---', ' a.c | 2 +-', '', MODIFY.trimEnd(), '-- ', '2.39.5'));
    expect(fps).toHaveLength(1);
  });

  it('returns [] when there is no diff', () => {
    expect(parse('just some text\n--- not a diff\n')).toEqual([]);
  });

  const HDR = ['diff --git a/fs/a.c b/fs/a.c', '--- a/fs/a.c', '+++ b/fs/a.c'];
  it.each<[string, string, RegExp]>([
    ['malformed hunk header', lines(...HDR, '@@ -1,x +1 @@', '-a', '+b'), /^t\.patch:4: fs\/a\.c: malformed hunk header "@@ -1,x \+1 @@"/],
    ['hunk header without @@ end', lines(...HDR, '@@ -1 +1', '-a', '+b'), /^t\.patch:4: fs\/a\.c: malformed hunk header/],
    ['combined diff', lines('diff --cc fs/a.c', '@@@ -1,1 -1,1 +1,1 @@@'), /^t\.patch:1: combined \(merge\) diffs are not supported/],
    ['truncated hunk (input ends)', lines(...HDR, '@@ -1,3 +1,3 @@', ' a', '-b'), /^t\.patch:6: fs\/a\.c: hunk 1 \(@@ -1,3 \+1,3 @@\) is truncated: the header says 3 old and 3 new lines, the input ends after 2 old and 1 new/],
    ['truncated hunk (other text follows)', lines(...HDR, '@@ -1,3 +1,3 @@', ' a', 'garbage', ' c'), /^t\.patch:6: fs\/a\.c: hunk 1 \(@@ -1,3 \+1,3 @@\) is truncated: .* after 1 old and 1 new comes "garbage"/],
    ['truncated second hunk', lines(...HDR, '@@ -1 +1 @@', '-a', '+b', '@@ -10,2 +10,2 @@', ' x'), /^t\.patch:8: fs\/a\.c: hunk 2 \(@@ -10,2 \+10,2 @@\) is truncated/],
    ['a hunk cut off from its file by a blank line', lines(...HDR, '@@ -1 +1 @@', '-a', '+b', '', '@@ -10 +10 @@', '-c', '+d'), /^t\.patch:8: hunk "@@ -10 \+10 @@" is not attached to a file/],
    ['body longer than the header', lines(...HDR, '@@ -1 +1 @@', '-a', '+b', '+c'), /^t\.patch:7: fs\/a\.c: hunk 1 \(@@ -1 \+1 @@\) has more lines than its header says \(-1 \+1\): unexpected "\+c"/],
    ['body with too many removed lines', lines(...HDR, '@@ -1 +1,2 @@', '-a', '-b', '+c'), /^t\.patch:6: fs\/a\.c: hunk 1 .* body does not match the header's line counts/],
    ['overlapping hunks', lines(...HDR, '@@ -5,2 +5,2 @@', ' a', ' b', '@@ -6 +6 @@', ' b'), /^t\.patch:7: fs\/a\.c: hunk 2 .* starts before hunk 1 ends/],
    ['--- without +++', lines('diff --git a/fs/a.c b/fs/a.c', '--- a/fs/a.c', '@@ -1 +1 @@'), /^t\.patch:3: expected a '\+\+\+ ' line/],
    ['hunk without ---/+++', lines('diff --git a/fs/a.c b/fs/a.c', 'index 1..2 100644', '@@ -1 +1 @@', '-a', '+b'), /^t\.patch:3: hunk without '--- a\/\.\.\.'/],
    ['implausible line number', lines(...HDR, '@@ -1999999999,1 +1,1 @@', '-a', '+b'), /implausible line number 1999999999/],
    ['line number over the cap', lines(...HDR, `@@ -${MAX_LINE_NUMBER},2 +1 @@`, '-a', '-b', '+b'), /over the limit of 2000000 lines/],
    ['-0 with lines', lines(...HDR, '@@ -0,2 +1 @@', '-a', '-b', '+b'), /-0 with a non-zero line count/],
    ['marker before any line', lines(...HDR, '@@ -1 +1 @@', '\\ No newline at end of file', '-a', '+b'), /'\\ No newline at end of file' before any line/],
    ['added file with old lines', lines('diff --git a/n.c b/n.c', 'new file mode 100644', '--- /dev/null', '+++ b/n.c', '@@ -1 +1 @@', '-a', '+b'), /^t\.patch:1: n\.c: the patch adds this file but a hunk has old lines/],
    ['unterminated quoted path', lines('diff --git a/x b/x', '--- "a/x', '+++ b/x', '@@ -1 +1 @@', '-a', '+b'), /^t\.patch:2: unterminated quoted path/],
    ['absolute path', lines('--- /etc/passwd', '+++ /etc/passwd', '@@ -1 +1 @@', '-a', '+b'), /^t\.patch:1: refusing path "\/etc\/passwd": it is an absolute path/],
    ['.. component', lines('diff --git a/../../x.c b/../../x.c', '--- a/../../x.c', '+++ b/../../x.c', '@@ -1 +1 @@', '-a', '+b'), /^t\.patch:1: refusing path "\.\.\/\.\.\/x\.c": it has a '\.\.' component/],
    ['.. in a rename', lines('diff --git a/x.c b/y.c', 'rename from x.c', 'rename to sub/../../y.c'), /refusing path "sub\/\.\.\/\.\.\/y\.c"/],
    ['NUL in a path', lines('diff --git a/x\0.c b/x\0.c', '--- a/x\0.c', '+++ b/x\0.c', '@@ -1 +1 @@', '-a', '+b'), /refusing path "x\\u0000\.c": it contains a NUL byte/],
  ])('refuses %s', (_what, text, message) => {
    expect(() => parse(text)).toThrow(InputError);
    expect(() => parse(text)).toThrow(message);
  });

  it('is linear on a huge hunk count claim with a short body', () => {
    const t0 = Date.now();
    expect(() => parse(lines(...HDR, '@@ -1,1999990 +1,1999990 @@', ' a'))).toThrow(/is truncated/);
    expect(Date.now() - t0).toBeLessThan(1000);
  });
});
