import { afterAll, describe, expect, it } from '@jest/globals';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { InputError } from './errors.js';
import { loadChangeSets, loadEach, nothingToReview, type PatchInput } from './load.js';

const FIXTURES = path.resolve(process.cwd(), 'test/fixtures/patches');
const FIXTURE_TREE = path.join(FIXTURES, 'tree');
const SERIES = fs.readFileSync(path.join(FIXTURES, 'series-v2.mbox'));
const BASE_C = fs.readFileSync(path.join(FIXTURE_TREE, 'fs/demo/page_copy.c'), 'utf8');
const RESULT_C = fs.readFileSync(path.join(FIXTURES, 'page_copy.series-result.c'), 'utf8');

const lines = (...l: string[]) => `${l.join('\n')}\n`;
const input = (name: string, text: string | Buffer): PatchInput => ({ name, content: Buffer.isBuffer(text) ? text : Buffer.from(text) });
const sorted = (s: ReadonlySet<number>) => [...s].sort((a, b) => a - b);

const tmpDirs: string[] = [];
afterAll(() => tmpDirs.forEach((d) => fs.rmSync(d, { recursive: true, force: true })));

/** A fresh directory holding `tree/` (with the given files) and `outside/secret.c`. */
function makeTree(files: Record<string, string>): { tree: string; outside: string } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kmap-review-load-'));
  tmpDirs.push(dir);
  const tree = path.join(dir, 'tree');
  const outside = path.join(dir, 'outside');
  fs.mkdirSync(outside);
  fs.writeFileSync(path.join(outside, 'secret.c'), 'int secret;\n');
  for (const [rel, text] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(tree, rel)), { recursive: true });
    fs.writeFileSync(path.join(tree, rel), text);
  }
  fs.mkdirSync(tree, { recursive: true });
  return { tree, outside };
}

/** Patch 2 of the series alone, as a plain patch (its first hunk only matches after patch 1). */
const PATCH2_MAIL = SERIES.toString('utf8').split(/^(?=From [0-9a-f]{40} )/m)[2]!;
const PATCH2_ALONE = PATCH2_MAIL.slice(PATCH2_MAIL.indexOf('diff --git'));

describe('loadChangeSets: mbox series', () => {
  it('applies a series in order on an in-memory overlay of the tree', () => {
    const sets = loadChangeSets([input('series-v2.mbox', SERIES)], { tree: FIXTURE_TREE });
    expect(sets.map((s) => s.name)).toEqual([
      '1/3 demo: use kmap_local_page() in demo_copy_page()',
      '2/3 demo: document the mapping order in demo_copy_page()',
      '3/3 demo: use kmap_local_page() in demo_sum_page()',
    ]);
    const [p1, p2, p3] = sets.map((s) => s.files[0]!);
    expect(p1).toMatchObject({ oldPath: 'fs/demo/page_copy.c', newPath: 'fs/demo/page_copy.c', complete: true, oldText: BASE_C });
    expect(sorted(p1!.removedLines)).toEqual([10, 11, 13, 14]);
    expect(sorted(p1!.addedLines)).toEqual([10, 11, 13, 14]);
    // Patch 2 changes a line patch 1 added: its pre-image is patch 1's post-image.
    expect(p2!.oldText).toBe(p1!.newText);
    expect(p2!.oldText.split('\n')[9]).toBe('\tvsrc = kmap_local_page(src);');
    expect(sorted(p2!.addedLines)).toEqual([10]);
    expect(p3!.oldText).toBe(p2!.newText);
    expect(p3!.newText).toBe(RESULT_C);
    // The tree itself is untouched.
    expect(fs.readFileSync(path.join(FIXTURE_TREE, 'fs/demo/page_copy.c'), 'utf8')).toBe(BASE_C);
  });

  it('gives sparse images with real line numbers without a tree', () => {
    const sets = loadChangeSets([input('series-v2.mbox', SERIES)], {});
    const p2 = sets[1]!.files[0]!;
    expect(p2.complete).toBe(false);
    const oldLines = p2.oldText.split('\n');
    const newLines = p2.newText.split('\n');
    expect(oldLines[9]).toBe('\tvsrc = kmap_local_page(src);');
    expect(newLines[9]).toBe('\tvsrc = kmap_local_page(src);\t/* mapped first, unmapped last */');
    expect(oldLines.slice(0, 6)).toEqual(['', '', '', '', '', '']); // before the hunk
    expect(oldLines[6]).toBe('{');
    expect(sorted(p2.addedLines)).toEqual([10]);
    expect(sorted(p2.removedLines)).toEqual([10]);
    const p3 = sets[2]!.files[0]!;
    expect(p3.newText.split('\n')[18]).toBe('\tu8 *p = kmap_local_page(page);');
    expect(sorted(p3.addedLines)).toEqual([19, 24]);
  });

  it('reports a patch of the series that does not apply, naming the patch, file and hunk', () => {
    // Patch 2 against the base tree, without patch 1 before it.
    expect(() => loadChangeSets([input('p2.patch', PATCH2_ALONE)], { tree: FIXTURE_TREE })).toThrow(
      /^p2\.patch: fs\/demo\/page_copy\.c: hunk 1 \(@@ -7,7 \+7,7 @@ static void demo_copy_page\(struct page \*dst, struct page \*src\)\) does not apply: line 10 is "\\tvsrc = kmap_atomic\(src\);" but the hunk expects "\\tvsrc = kmap_local_page\(src\);"/,
    );
    // As a mail, the message names the patch.
    expect(() => loadChangeSets([input('p2.mbox', PATCH2_MAIL)], { tree: FIXTURE_TREE })).toThrow(
      /^p2\.mbox \(2\/3 demo: document the mapping order in demo_copy_page\(\)\): fs\/demo\/page_copy\.c: hunk 1 /,
    );
    // In a series too.
    const broken = SERIES.toString('utf8').replace('-\tkunmap(page);', '-\tkunmap(pages);');
    expect(() => loadChangeSets([input('s.mbox', broken)], { tree: FIXTURE_TREE })).toThrow(
      /^s\.mbox \(3\/3 demo: use kmap_local_page\(\) in demo_sum_page\(\)\): fs\/demo\/page_copy\.c: hunk 1 .* does not apply: line 24 is "\\tkunmap\(page\);" but the hunk expects "\\tkunmap\(pages\);"/,
    );
  });

  it.each<[string, string, RegExp]>([
    ['a quoted-printable HTML body', lines('From 1234567 Mon Sep 17 00:00:00 2001', 'Subject: [PATCH] x', 'Content-Type: text/html', 'Content-Transfer-Encoding: quoted-printable', '', 'a=3Db'), /^q\.mbox:1: message 1 \("\[PATCH\] x"\): a quoted-printable body of type "text\/html" is not supported/],
    ['a broken hunk in a quoted-printable body', lines('From 1234567 Mon Sep 17 00:00:00 2001', 'Subject: [PATCH] x', 'Content-Transfer-Encoding: quoted-printable', '', '--- a/a.c', '+++ b/a.c', '@@ -1,2 +1,2 @@', '-a'), /^q\.mbox \(message 1, quoted-printable body decoded\):4: a\.c: hunk 1 \(@@ -1,2 \+1,2 @@\) is truncated/],
    ['a patch message without a diff', SERIES.toString('utf8').replace(/^diff --git[^]*?^-- $/m, '-- '), /^q\.mbox:19: message 2 "\[PATCH v2 1\/3\] demo: use kmap_local_page\(\) in demo_copy_page\(\)" holds no diff/],
    ['an mbox with only a cover letter', lines('From 1234567 Mon Sep 17 00:00:00 2001', 'Subject: [PATCH 0/2] x', '', 'blurb'), /^q\.mbox: no diff found/],
  ])('refuses %s', (_what, text, message) => {
    expect(() => loadChangeSets([input('q.mbox', text)], {})).toThrow(message);
  });

  it.each([
    ['quoted-printable', (body: string) => body.replace(/=/g, '=3D').replace(/\t/g, '=09').replace(/^(.{20})(.+)$/gm, '$1=\n$2')],
    ['base64', (body: string) => Buffer.from(body).toString('base64').replace(/(.{76})/g, '$1\n')],
  ])('decodes a %s body', (encoding, encode) => {
    const body = lines('--- a/fs/a.c', '+++ b/fs/a.c', '@@ -1,2 +1,2 @@', ' int x = 1;', '-\tvoid *p = kmap(page);', '+\tvoid *p = kmap_local_page(page);');
    const mbox = lines('From 1234567 Mon Sep 17 00:00:00 2001', 'Subject: [PATCH] demo', 'Content-Type: text/plain; charset=UTF-8', `Content-Transfer-Encoding: ${encoding}`, '', encode(body));
    const [cs] = loadChangeSets([input('e.mbox', mbox)], {});
    expect(cs!.files[0]!.newText).toBe(lines('int x = 1;', '\tvoid *p = kmap_local_page(page);'));
  });

  it('says when a patch of a series changes a file an earlier one deleted', () => {
    const { tree } = makeTree({ 'fs/a.c': 'int a;\n' });
    const msg = (n: number, body: string) => lines('From 1234567 Mon Sep 17 00:00:00 2001', `Subject: [PATCH ${n}/2] demo`, '', body);
    const mbox =
      msg(1, lines('--- a/fs/a.c', '+++ /dev/null', '@@ -1 +0,0 @@', '-int a;')) +
      msg(2, lines('--- a/fs/a.c', '+++ b/fs/a.c', '@@ -1 +1 @@', '-int a;', '+int b;'));
    expect(() => loadChangeSets([input('d.mbox', mbox)], { tree })).toThrow(
      'd.mbox (2/2 demo): fs/a.c: an earlier patch of the series deleted or renamed it, but this patch changes it',
    );
  });

  it('decodes RFC 2047 subjects and ignores replies', () => {
    const mbox = lines(
      'From 1234567 Mon Sep 17 00:00:00 2001',
      'Subject: =?UTF-8?q?=5BPATCH=5D_d=C3=A9mo:_convert?=',
      '',
      'diff --git a/a.c b/a.c',
      '--- a/a.c',
      '+++ b/a.c',
      '@@ -1 +1 @@',
      '-a',
      '+b',
      'From 1234567 Mon Sep 17 00:00:00 2001',
      'Subject: Re: [PATCH] démo: convert',
      '',
      '> diff --git a/a.c b/a.c',
      'Looks good.',
    );
    const sets = loadChangeSets([input('m.mbox', mbox)], {});
    expect(sets.map((s) => s.name)).toEqual(['démo: convert']);
  });
});

describe('loadChangeSets: plain patches against a tree', () => {
  const base = lines('int a;', 'int b;', 'int c;');
  const modify = (from: string, to: string, file = 'fs/a.c') =>
    lines(`diff --git a/${file} b/${file}`, `--- a/${file}`, `+++ b/${file}`, '@@ -1,3 +1,3 @@', ' int a;', `-${from}`, `+${to}`, ' int c;');

  it('reviews several patch files independently against the tree', () => {
    const { tree } = makeTree({ 'fs/a.c': base });
    const sets = loadChangeSets([input('one.patch', modify('int b;', 'int B;')), input('two.patch', modify('int b;', 'long b;'))], { tree });
    expect(sets.map((s) => [s.name, s.files[0]!.newText])).toEqual([
      ['one.patch', lines('int a;', 'int B;', 'int c;')],
      ['two.patch', lines('int a;', 'long b;', 'int c;')],
    ]);
  });

  it('handles a new file, a deletion, a pure rename and a rename with changes', () => {
    const { tree } = makeTree({ 'fs/gone.c': lines('int gone;'), 'fs/old.c': base, 'fs/moved.h': lines('#define M 1') });
    const patch = lines(
      'diff --git a/fs/new.c b/fs/new.c',
      'new file mode 100644',
      '--- /dev/null',
      '+++ b/fs/new.c',
      '@@ -0,0 +1,2 @@',
      '+#include "moved.h"',
      '+int n;',
      'diff --git a/fs/gone.c b/fs/gone.c',
      'deleted file mode 100644',
      '--- a/fs/gone.c',
      '+++ /dev/null',
      '@@ -1 +0,0 @@',
      '-int gone;',
      'diff --git a/fs/moved.h b/include/moved.h',
      'similarity index 100%',
      'rename from fs/moved.h',
      'rename to include/moved.h',
      'diff --git a/fs/old.c b/fs/renamed.c',
      'similarity index 70%',
      'rename from fs/old.c',
      'rename to fs/renamed.c',
      '--- a/fs/old.c',
      '+++ b/fs/renamed.c',
      '@@ -2 +2 @@',
      '-int b;',
      '+int bee;',
    );
    const [cs] = loadChangeSets([input('p.patch', patch)], { tree });
    const byPath = (p: string) => cs!.files.find((f) => (f.newPath ?? f.oldPath) === p)!;
    expect(byPath('fs/new.c')).toMatchObject({ oldPath: null, oldText: '', newText: lines('#include "moved.h"', 'int n;'), complete: true });
    expect(sorted(byPath('fs/new.c').addedLines)).toEqual([1, 2]);
    expect(byPath('fs/gone.c')).toMatchObject({ newPath: null, oldText: lines('int gone;'), newText: '' });
    expect(sorted(byPath('fs/gone.c').removedLines)).toEqual([1]);
    expect(byPath('include/moved.h')).toMatchObject({ oldPath: 'fs/moved.h', oldText: lines('#define M 1'), newText: lines('#define M 1') });
    expect(byPath('include/moved.h').addedLines.size + byPath('include/moved.h').removedLines.size).toBe(0);
    expect(byPath('fs/renamed.c')).toMatchObject({ oldPath: 'fs/old.c', newText: lines('int a;', 'int bee;', 'int c;') });
    expect(cs!.skipped).toEqual([]);
  });

  it('gives sparse images for a new file, a deletion and a pure rename without a tree', () => {
    const patch = lines(
      'diff --git a/fs/new.c b/fs/new.c', 'new file mode 100644', '--- /dev/null', '+++ b/fs/new.c', '@@ -0,0 +1 @@', '+int n;',
      'diff --git a/fs/gone.c b/fs/gone.c', 'deleted file mode 100644', '--- a/fs/gone.c', '+++ /dev/null', '@@ -1 +0,0 @@', '-int gone;',
      'diff --git a/fs/x.h b/fs/y.h', 'similarity index 100%', 'rename from fs/x.h', 'rename to fs/y.h',
    );
    const [cs] = loadChangeSets([input('p.patch', patch)], {});
    expect(cs!.files.map((f) => [f.oldPath, f.newPath, f.oldText, f.newText, f.complete])).toEqual([
      [null, 'fs/new.c', '', 'int n;\n', false],
      ['fs/gone.c', null, 'int gone;\n', '', false],
      ['fs/x.h', 'fs/y.h', '', '', false],
    ]);
  });

  it('accepts CRLF patches against LF trees and LF patches against CRLF trees', () => {
    const { tree } = makeTree({ 'fs/a.c': base, 'fs/dos.c': base.replace(/\n/g, '\r\n') });
    const crlfPatch = modify('int b;', 'int B;').replace(/\n/g, '\r\n');
    const [cs1] = loadChangeSets([input('crlf.patch', crlfPatch)], { tree });
    expect(cs1!.files[0]!.newText).toBe(lines('int a;', 'int B;', 'int c;'));
    const [cs2] = loadChangeSets([input('lf.patch', modify('int b;', 'int B;', 'fs/dos.c'))], { tree });
    expect(cs2!.files[0]!.oldText).toBe(base);
    expect(sorted(cs2!.files[0]!.addedLines)).toEqual([2]);
    // Without a tree, a CRLF patch gives clean sparse images too.
    const [cs3] = loadChangeSets([input('crlf.patch', crlfPatch)], {});
    expect(cs3!.files[0]!.newText).toBe(lines('int a;', 'int B;', 'int c;'));
  });

  it('handles "\\ No newline at end of file" against the tree', () => {
    const { tree } = makeTree({ 'fs/n.c': 'int a;\nint b;' });
    const patch = lines('--- a/fs/n.c', '+++ b/fs/n.c', '@@ -1,2 +1,2 @@', ' int a;', '-int b;', '\\ No newline at end of file', '+int c;');
    const [cs] = loadChangeSets([input('n.patch', patch)], { tree });
    expect(cs!.files[0]).toMatchObject({ oldText: 'int a;\nint b;', newText: 'int a;\nint c;\n' });
  });

  it('finds a hunk at an offset in the tree', () => {
    const { tree } = makeTree({ 'fs/a.c': lines('/* SPDX */', '', 'int a;', 'int b;', 'int c;') });
    const [cs] = loadChangeSets([input('o.patch', modify('int b;', 'int B;'))], { tree });
    expect(sorted(cs!.files[0]!.addedLines)).toEqual([4]);
  });

  it('skips binary and non-C files with a reason, and keeps reviewing the C files', () => {
    const patch = lines(
      'diff --git a/Documentation/mm/highmem.rst b/Documentation/mm/highmem.rst', '--- a/Documentation/mm/highmem.rst', '+++ b/Documentation/mm/highmem.rst', '@@ -1 +1 @@', '-old', '+new',
      'diff --git a/fw/blob.bin b/fw/blob.bin', 'index 1..2 100644', 'Binary files a/fw/blob.bin and b/fw/blob.bin differ',
      'diff --git a/scripts/run.sh b/scripts/run.sh', 'old mode 100644', 'new mode 100755',
      modify('int b;', 'int B;').trimEnd(),
    );
    const [cs] = loadChangeSets([input('p.patch', patch)], {});
    expect(cs!.files.map((f) => f.newPath)).toEqual(['fs/a.c']);
    expect(cs!.skipped).toEqual([
      { path: 'Documentation/mm/highmem.rst', reason: 'not a C source or header (.c/.h): not analysed' },
      { path: 'fw/blob.bin', reason: 'binary patch: not analysed' },
      { path: 'scripts/run.sh', reason: 'not a C source or header (.c/.h): not analysed' },
    ]);
  });

  it.each<[string, Record<string, string>, string, RegExp]>([
    ['a modified file missing from the tree', {}, modify('int b;', 'int B;'), /^m\.patch: fs\/a\.c: not found in the tree, but the patch modifies it \(--tree must be the source the patch applies to: /],
    ['a new file that already exists', { 'fs/n.c': 'x\n' }, lines('--- /dev/null', '+++ b/fs/n.c', '@@ -0,0 +1 @@', '+int n;'), /^m\.patch: fs\/n\.c: already exists in the tree, but the patch creates it/],
    ['a deletion that leaves lines behind', { 'fs/d.c': 'int d;\nint e;\n' }, lines('--- a/fs/d.c', '+++ /dev/null', '@@ -1 +0,0 @@', '-int d;'), /^m\.patch: fs\/d\.c: the patch deletes the file but some of the tree's lines would remain/],
    ['the same file twice in one patch', { 'fs/a.c': base }, modify('int b;', 'int B;') + modify('int b;', 'int B;'), /^m\.patch: fs\/a\.c is patched twice in the same patch \(again at input line 9\)/],
  ])('refuses %s', (_what, files, patch, message) => {
    const { tree } = makeTree(files);
    expect(() => loadChangeSets([input('m.patch', patch)], { tree })).toThrow(message);
  });
});

describe('loadChangeSets: hostile paths with --tree', () => {
  const patchFor = (p: string) => lines(`--- a/${p}`, `+++ b/${p}`, '@@ -1 +1 @@', '-int secret;', '+int leaked;');

  it('refuses a symlinked file pointing outside the tree, without reading it', () => {
    const { tree, outside } = makeTree({ 'fs/ok.c': 'int ok;\n' });
    fs.symlinkSync(path.join(outside, 'secret.c'), path.join(tree, 'fs/link.c'));
    expect(() => loadChangeSets([input('s.patch', patchFor('fs/link.c'))], { tree })).toThrow(
      /^s\.patch: fs\/link\.c: resolves outside the tree \(to .*outside\/secret\.c\) through a symlink; refusing to read it$/,
    );
  });

  it('refuses a path through a symlinked directory pointing outside the tree', () => {
    const { tree, outside } = makeTree({});
    fs.symlinkSync(outside, path.join(tree, 'escape'));
    expect(() => loadChangeSets([input('s.patch', patchFor('escape/secret.c'))], { tree })).toThrow(/escape\/secret\.c: resolves outside the tree/);
  });

  it('refuses a dangling symlink as the target of a new file', () => {
    const { tree, outside } = makeTree({});
    fs.symlinkSync(path.join(outside, 'nothing-here.c'), path.join(tree, 'new.c'));
    const patch = lines('--- /dev/null', '+++ b/new.c', '@@ -0,0 +1 @@', '+int n;');
    expect(() => loadChangeSets([input('s.patch', patch)], { tree })).toThrow(/new\.c: is a dangling symlink in the tree; refusing it/);
  });

  it('follows symlinks that stay inside the tree', () => {
    const { tree } = makeTree({ 'fs/real.c': 'int secret;\n' });
    fs.symlinkSync('real.c', path.join(tree, 'fs/alias.c'));
    const [cs] = loadChangeSets([input('s.patch', patchFor('fs/alias.c'))], { tree });
    expect(cs!.files[0]!.newText).toBe('int leaked;\n');
  });

  it.each<[string, string, RegExp]>([
    ['an absolute path', patchFor('/etc/passwd').replace('a//etc', '/etc').replace('b//etc', '/etc'), /^s\.patch:1: refusing path "\/etc\/passwd": it is an absolute path$/],
    ['a .. path', patchFor('../outside/secret.c'), /^s\.patch:1: refusing path "\.\.\/outside\/secret\.c": it has a '\.\.' component$/],
  ])('refuses %s with or without a tree', (_what, patch, message) => {
    const { tree } = makeTree({});
    expect(() => loadChangeSets([input('s.patch', patch)], { tree })).toThrow(message);
    expect(() => loadChangeSets([input('s.patch', patch)], {})).toThrow(message);
  });
});

describe('loadChangeSets: bad input', () => {
  it('rejects a 50 MB input by the size cap, quickly', () => {
    const big = Buffer.alloc(50 * 1024 * 1024, 0x61);
    const t0 = Date.now();
    expect(() => loadChangeSets([input('big.patch', big)], {})).toThrow(
      'big.patch: input is 50.0 MiB (52428800 bytes), over the size cap of 32.0 MiB (33554432 bytes); raise the cap with --max-bytes (option maxBytes) if this is intended',
    );
    expect(Date.now() - t0).toBeLessThan(500);
  });

  it('bounds the sparse images that forged high line numbers would need', () => {
    const files = Array.from({ length: 20 }, (_, i) => lines(`--- a/f${i}.c`, `+++ b/f${i}.c`, '@@ -1999990 +1999990 @@', '-a', '+b')).join('');
    const t0 = Date.now();
    expect(() => loadChangeSets([input('forged.patch', files)], {})).toThrow(
      /^forged\.patch: the hunks' line numbers add up to more than 10000000 lines of reconstructed files/,
    );
    expect(Date.now() - t0).toBeLessThan(500);
  });

  it('honours a raised or lowered cap', () => {
    const patch = lines('--- a/a.c', '+++ b/a.c', '@@ -1 +1 @@', '-a', '+b');
    expect(() => loadChangeSets([input('p.patch', patch)], { maxBytes: 10 })).toThrow(/over the size cap of 10 bytes/);
    expect(loadChangeSets([input('p.patch', patch)], { maxBytes: 1000 })).toHaveLength(1);
    expect(() => loadChangeSets([input('p.patch', patch)], { maxBytes: 0 })).toThrow(/--max-bytes: expected a positive number/);
  });

  it('applies the cap to tree files too', () => {
    const { tree } = makeTree({ 'a.c': 'x'.repeat(2000) + '\n' });
    const patch = lines('--- a/a.c', '+++ b/a.c', '@@ -1 +1 @@', '-a', '+b');
    expect(() => loadChangeSets([input('p.patch', patch)], { tree, maxBytes: 1000 })).toThrow(/^p\.patch: a\.c \(in the tree\): input is 2001 bytes/);
  });

  it('reports the line of the first non-UTF-8 byte', () => {
    const patch = Buffer.concat([Buffer.from(lines('--- a/a.c', '+++ b/a.c', '@@ -1 +1 @@', '-a')), Buffer.from([0x2b, 0x63, 0x61, 0x66, 0xe9, 0x0a])]);
    expect(() => loadChangeSets([input('latin1.patch', patch)], {})).toThrow(
      /^latin1\.patch:5: not valid UTF-8 \(byte 0xE9 at offset \d+\); re-encode the file as UTF-8/,
    );
  });

  it.each<[string, string | Buffer, RegExp]>([
    ['an empty input', '', /^e\.patch: no diff found \(expected "diff --git", "---"\/"\+\+\+" headers with "@@" hunks, or an mbox of patches\)$/],
    ['text without a diff', 'Hello,\n\nplease review.\n', /^e\.patch: no diff found/],
    ['a truncated overlong UTF-8 sequence', Buffer.from([0x61, 0x0a, 0x62, 0xc3]), /^e\.patch:2: not valid UTF-8 \(byte 0xC3 at offset 3\)/],
    ['a UTF-16 surrogate encoded in UTF-8', Buffer.from([0x0a, 0x0a, 0xed, 0xa0, 0x80]), /^e\.patch:3: not valid UTF-8 \(byte 0xED/],
    ['a malformed hunk header', lines('--- a/a.c', '+++ b/a.c', '@@ -1 +1 @@', '-a', '+b', '@@ garbage', '-c'), /^e\.patch:6: a\.c: malformed hunk header "@@ garbage"/],
    ['a truncated hunk', lines('--- a/a.c', '+++ b/a.c', '@@ -1,5 +1,5 @@', '-a', '+b'), /^e\.patch:5: a\.c: hunk 1 \(@@ -1,5 \+1,5 @@\) is truncated/],
  ])('refuses %s', (_what, text, message) => {
    expect(() => loadChangeSets([input('e.patch', text)], {})).toThrow(InputError);
    expect(() => loadChangeSets([input('e.patch', text)], {})).toThrow(message);
  });

  it('a valid patch changing no C file is not bad input: "nothing to review", listing what was skipped', () => {
    const patch = lines(
      'diff --git a/README b/README', '--- a/README', '+++ b/README', '@@ -1 +1 @@', '-a', '+b',
      'diff --git a/logo.png b/logo.png', 'index 1..2 100644', 'Binary files a/logo.png and b/logo.png differ',
    );
    const sets = loadChangeSets([input('docs.patch', patch)], {});
    expect(sets.map((s) => s.files.length)).toEqual([0]);
    expect(nothingToReview(sets)).toBe(
      'nothing to review: no change to a .c or .h file; skipped: README (not a C source or header (.c/.h): not analysed); logo.png (binary patch: not analysed)',
    );
    expect(nothingToReview(loadChangeSets([input('c.patch', '--- a/a.c\n+++ b/a.c\n@@ -1 +1 @@\n-a\n+b\n')], {}))).toBeUndefined();
  });

  it('loadEach: a bad input is reported in its place, the others are loaded', () => {
    const good = input('good.patch', '--- a/a.c\n+++ b/a.c\n@@ -1 +1 @@\n-a\n+b\n');
    const bad = input('bad.patch', lines('--- a/a.c', '+++ b/a.c', '@@ -1,5 +1,5 @@', '-a', '+b'));
    const r = loadEach([bad, good], {});
    expect('error' in r[0]! && r[0].error.message).toMatch(/^bad\.patch:5: a\.c: hunk 1/);
    expect('sets' in r[1]! && r[1].sets[0]!.files.map((f) => f.newPath)).toEqual(['a.c']);
    expect(() => loadChangeSets([bad, good], {})).toThrow(/^bad\.patch:5/);
  });

  it('refuses no inputs and a missing tree', () => {
    expect(() => loadChangeSets([], {})).toThrow(/^no input/);
    expect(() => loadChangeSets([input('p.patch', '--- a/a.c\n+++ b/a.c\n@@ -1 +1 @@\n-a\n+b\n')], { tree: '/nonexistent/kmap-tree' })).toThrow(
      '--tree /nonexistent/kmap-tree: no such directory',
    );
  });
});
