import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Ajv from 'ajv';
import { runCaptured } from '../../test/helpers/cli.js';

const root = join(import.meta.dirname ?? '.', '..', '..');
const example = join(root, 'examples', 'kmap-demo-conversion.patch');
const exampleTree = join(root, 'examples', 'tree');

const cli = (args: string[], stdin = '') => runCaptured(args, { cwd: root, stdin });

function tmpFile(name: string, content: string | Buffer): string {
  const dir = mkdtempSync(join(tmpdir(), 'kmap-cli-'));
  const p = join(dir, name);
  writeFileSync(p, content);
  return p;
}

const smallPatch = `--- a/mm/demo.c
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

describe('kmap-review CLI', () => {
  it('reviews the bundled example against its tree, with compiler-style lines', async () => {
    const { code, out } = await cli(['check', '--tree', exampleTree, example]);
    expect(out).toMatch(/^drivers\/misc\/kmap_demo\.c:\d+: (error|warning|notice): .+ \[[a-z-]+\]$/m);
    expect([0, 1]).toContain(code);
  });

  it('emits JSON that validates against the published schema', async () => {
    const { out } = await cli(['check', '--format', 'json', '--tree', exampleTree, example]);
    const schema = JSON.parse(readFileSync(join(root, 'schema', 'report-v1.schema.json'), 'utf8'));
    const validate = new Ajv.default({ allErrors: true, strict: false }).compile(schema);
    const doc = JSON.parse(out);
    expect(validate.errors ?? []).toEqual([]);
    expect(validate(doc)).toBe(true);
    expect(doc.reviews).toHaveLength(1);
  });

  it('reads a patch from stdin without a tree, and says which checks were limited', async () => {
    const { code, out } = await cli(['check', '-'], smallPatch);
    expect(out).toContain("mm/demo.c:3: warning: Deprecated use of 'kmap_atomic()'");
    expect(code === 0 || code === 1).toBe(true);
  });

  it('applies --rule overrides and rejects unknown rules', async () => {
    const off = await cli(['check', '--rule', 'deprecated-api=off', '-'], smallPatch);
    expect(off.out).not.toContain('deprecated-api');
    const bad = await cli(['check', '--rule', 'no-such-rule=off', '-'], smallPatch);
    expect(bad.code).toBe(2);
    expect(bad.err).toContain("unknown rule 'no-such-rule'");
  });

  it('--config include/exclude: files it leaves out are skipped (with the reason), as in the App', async () => {
    const excluding = tmpFile('kmap-review.yml', 'exclude: ["mm/**"]\n');
    const out = await cli(['check', '--format', 'json', '--config', excluding, '-'], smallPatch);
    const json = JSON.parse(out.out);
    expect(json.findings).toEqual([]);
    expect(json.reviews[0].skipped).toEqual([{ path: 'mm/demo.c', reason: `not selected by include/exclude in ${excluding}` }]);
    const including = tmpFile('kmap-review.yml', 'include: ["mm/*.c"]\n');
    expect((await cli(['check', '--config', including, '-'], smallPatch)).out).toContain("mm/demo.c:3: warning: Deprecated use of 'kmap_atomic()'");
  });

  it.each([
    [['check'], 'at least one PATCH'],
    [['check', '--format', 'xml', 'x.patch'], '--format must be one of text, json, checkpatch, b4, email'],
    [['check', '--bogus'], "Unknown option '--bogus'"],
    [['check', '/nonexistent/file.patch'], 'no such file'],
    [['check', '--map-fn', 'bad name', '-'], '--map-fn expects NAME'],
    [['check', '--max-bytes=-5', '-'], '--max-bytes expects a positive'],
    [['explain', 'nope'], "unknown rule 'nope'"],
    [['frobnicate'], "unknown command 'frobnicate'"],
  ])('usage error %j exits 2 with a clear message', async (args, message) => {
    const { code, err } = await cli(args as string[]);
    expect(code).toBe(2);
    expect(err).toContain(message);
    expect(err).not.toMatch(/\n\s+at /); // no stack trace
  });

  it('rejects bad input with exit 2 and no stack trace', async () => {
    const binary = tmpFile('bin.patch', Buffer.from([0x2d, 0x2d, 0x2d, 0x20, 0xff, 0xfe, 0x00, 0x0a]));
    const r = await cli(['check', binary]);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/^kmap-review: /);
    expect(r.err).not.toMatch(/\n\s+at /);
  });

  it('explains a rule with every doc section, and lists the rules', async () => {
    const { code, out } = await cli(['explain', 'deprecated-api']);
    expect(code).toBe(0);
    for (const s of ['## What it finds', '## Why it matters', '## Example', '## Fix']) expect(out).toContain(s);
    const list = await cli(['rules']);
    expect(list.out).toMatch(/^deprecated-api\s+warning\s+/m);
  });

  it('takes wrapper names from --map-fn / --unmap-fn', async () => {
    const patch = `--- a/fs/zfs_demo.c
+++ b/fs/zfs_demo.c
@@ -1,6 +1,6 @@
 static void demo(struct page *page, void *buf)
 {
 	void *v = zfs_kmap_local(page);
 	memcpy(buf, v, 16);
-	zfs_kunmap_local(v);
+	kunmap_atomic(v);
 }
`;
    const plain = await cli(['check', '--rule', 'deprecated-api=off', '--format', 'json', '-'], patch);
    expect(JSON.parse(plain.out).findings).toEqual([]);
    const wrapped = await cli(['check', '--map-fn', 'zfs_kmap_local', '--unmap-fn', 'zfs_kunmap_local', '--rule', 'deprecated-api=off', '--format', 'json', '-'], patch);
    expect(JSON.parse(wrapped.out).findings.map((f: { rule: string }) => f.rule)).toContain('mismatched-unmap');
  });
});
