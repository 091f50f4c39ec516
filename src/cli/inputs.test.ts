/**
 * check's inputs: a patch changing no C file (exit 0, "nothing to review"), several PATCH files with a bad
 * one (the others reviewed, the bad one named, exit 2), pre-existing findings marked in text output, and
 * the one line an internal error prints (exit 3).
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Finding } from '../analysis/model.js';
import { renderFindingText } from '../comments/text.js';
import { internalErrorLine } from './cli.js';
import { runCaptured } from '../../test/helpers/cli.js';

const root = join(import.meta.dirname ?? '.', '..', '..');
const dir = mkdtempSync(join(tmpdir(), 'kmap-inputs-'));

const cli = (args: string[]) => runCaptured(args, { cwd: root });

function file(name: string, content: string): string {
  const p = join(dir, name);
  writeFileSync(p, content);
  return p;
}

// Introduces kmap_atomic(): an error-level finding (deprecated API) on line 3.
const kernelPatch = `--- a/mm/demo.c
+++ b/mm/demo.c
@@ -1,6 +1,6 @@
 static void demo(struct page *page, void *buf)
 {
-	void *v = kmap_local_page(page);
+	void *v = kmap_atomic(page);
 	memcpy(buf, v, 16);
 	kunmap_local(v);
 }
`;
const docsPatch = `diff --git a/Documentation/mm/highmem.rst b/Documentation/mm/highmem.rst
--- a/Documentation/mm/highmem.rst
+++ b/Documentation/mm/highmem.rst
@@ -1 +1 @@
-Use kmap_atomic().
+Use kmap_local_page().
`;
const truncated = `--- a/mm/other.c
+++ b/mm/other.c
@@ -1,5 +1,5 @@
-a
+b
`;

it('a valid patch touching no C file: exit 0, "nothing to review", naming what was skipped', async () => {
  const r = await cli(['check', file('docs.patch', docsPatch)]);
  expect(r.code).toBe(0);
  expect(r.out).toMatch(/^kmap-review: nothing to review: no change to a \.c or \.h file; skipped: Documentation\/mm\/highmem\.rst \(/);
  expect(r.err).toBe('');
});

it('several PATCH files with a bad one: the others are reviewed, the bad one named, exit 2 at the end', async () => {
  const good = file('good.patch', kernelPatch);
  const bad = file('bad.patch', truncated);
  const r = await cli(['check', bad, good, join(dir, 'missing.patch')]);
  expect(r.code).toBe(2);
  expect(r.out).toMatch(/^mm\/demo\.c:\d+: error: /m);
  expect(r.err).toContain(`kmap-review: ${bad}:5: mm/other.c: hunk 1`);
  expect(r.err).toContain(`kmap-review: cannot read ${join(dir, 'missing.patch')}: no such file`);
  expect(r.err).toContain('2 of 3 inputs could not be reviewed (exit 2)');
  // Alone, the good one exits by its findings; alone, the bad one is bad input as before.
  expect((await cli(['check', good])).code).toBe(1);
  const alone = await cli(['check', bad]);
  expect(alone.code).toBe(2);
  expect(alone.out).toBe('');
});

it('pre-existing findings are marked in text output, new ones are not', () => {
  const f = { rule: 'deprecated-api', severity: 'error', message: 'kmap_atomic() is deprecated', path: 'mm/demo.c', line: 3, trace: [] } as unknown as Finding;
  expect(renderFindingText({ ...f, preExisting: true })).toBe('mm/demo.c:3: error (pre-existing): kmap_atomic() is deprecated [deprecated-api, pre-existing]');
  expect(renderFindingText(f)).toBe('mm/demo.c:3: error: kmap_atomic() is deprecated [deprecated-api]');
});

it('an internal error is one line naming the command and its input', () => {
  const line = internalErrorLine(['check', 'x.patch'], new TypeError('cannot read properties of undefined\n    at foo (bar.js:1:1)'));
  expect(line).toBe("kmap-review: internal error (a bug in kmap-review, not in your input) in 'kmap-review check x.patch': " +
    'cannot read properties of undefined; please report it with that input (--debug prints the stack)');
  expect(line).not.toContain('\n');
});

it('a module the installation lacks is named as an incomplete installation, not as a bug to report', () => {
  const line = internalErrorLine(['scan', 'fs'], new Error("Cannot find module 'tree-sitter-c/tree-sitter-c.wasm'\nRequire stack: x"));
  expect(line).toBe("kmap-review: the installation is incomplete: 'tree-sitter-c/tree-sitter-c.wasm' cannot be found (run 'npm ci' in kmap-review's directory, or reinstall it)");
});
