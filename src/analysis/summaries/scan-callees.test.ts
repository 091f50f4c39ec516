import { join } from 'node:path';
import { DEFAULT_CONFIG } from '../model.js';
import { scanTree } from '../scan/tree.js';
import { initParser } from '../syntax/parser.js';

/** fs/demo/fill.c maps with kmap_atomic() and calls demo_copy_in() of lib/demo_copy.c, which calls raw_copy_from_user(). */
const FIXTURE = join(import.meta.dirname ?? '.', '..', '..', '..', 'test', 'fixtures', 'callee-tree');

beforeAll(async () => {
  await initParser();
});

const sitesOf = (scan: Awaited<ReturnType<typeof scanTree>>, fn: string) => scan.sites.filter((s) => s.function === fn).map((s) => `${s.line}:${s.api}:${s.class}`);

describe('the tree scan with callee summaries', () => {
  it('follows a call inside a kmap_atomic() section into another file and names the chain', async () => {
    const scan = await scanTree({ kind: 'dir', root: FIXTURE }, { config: DEFAULT_CONFIG, jobs: 1 });
    expect(sitesOf(scan, 'demo_fill_page')).toEqual(['7:kmap_atomic:needs-care', '10:kunmap_atomic:needs-care']);
    const reason = scan.sites.find((s) => s.function === 'demo_fill_page')!.reason;
    expect(reason).toContain('raw_copy_from_user() (through demo_copy_in() -> demo_copyin()) now runs with page faults enabled');
    expect(scan.sites.find((s) => s.function === 'demo_fill_page')!.rule).toBe('lost-pagefault-disable');
    // A callee (a header's static inline) that needs nothing: still ready.
    expect(sitesOf(scan, 'demo_zero_page')).toEqual(['16:kmap_atomic:ready', '19:kunmap_atomic:ready']);
    expect(scan.summaries).toMatchObject({ reanalysed: 1, relevant: 1 });
    expect(scan.summaries!.index!.names).toBeGreaterThanOrEqual(3);
  });

  it('without them (file-local summaries, as the App scans) the same section is ready', async () => {
    const scan = await scanTree({ kind: 'dir', root: FIXTURE }, { config: DEFAULT_CONFIG, jobs: 1, treeSummaries: false });
    expect(sitesOf(scan, 'demo_fill_page')).toEqual(['7:kmap_atomic:ready', '10:kunmap_atomic:ready']);
    expect(scan.summaries).toBeUndefined();
  });
});

describe('check --tree with callee summaries (one patch, the tree indexed on demand)', () => {
  const patch = `--- a/fs/demo/fill.c
+++ b/fs/demo/fill.c
@@ -4,9 +4,9 @@
 
 size_t demo_fill_page(struct page *page, const void __user *ubuf, size_t len)
 {
-	char *kaddr = kmap_atomic(page);
+	char *kaddr = kmap_local_page(page);
 	size_t left = demo_copy_in(kaddr, ubuf, len);
 
-	kunmap_atomic(kaddr);
+	kunmap_local(kaddr);
 	return len - left;
 }
`;

  it('reports the lost context with the callee chain in the trace', async () => {
    const { loadChangeSets } = await import('../patch/load.js');
    const { analyze } = await import('../engine.js');
    const { KmapApi } = await import('../kmap-api.js');
    const { OnDemandTree } = await import('./on-demand.js');
    const [cs] = loadChangeSets([{ name: 'p.patch', content: Buffer.from(patch) }], { tree: FIXTURE });
    const tree = new OnDemandTree(FIXTURE, new KmapApi());
    const report = await analyze(cs!, DEFAULT_CONFIG, { tree });
    expect(tree.indexed).toBe(true);
    const f = report.findings.find((x) => x.rule === 'lost-pagefault-disable');
    expect(f?.message).toBe('raw_copy_from_user() (through demo_copy_in() -> demo_copyin()) now runs with page faults enabled');
    expect(f?.trace.map((t) => t.note)).toContain('demo_copy_in() -> demo_copyin() -> raw_copy_from_user(): must not fault: without might_fault() it is relied on to fail and return the bytes left (lib/demo_copy.c:8)');
    // Without the tree's summaries the same patch looks clean: the callee is in another file.
    const local = await analyze(cs!, DEFAULT_CONFIG);
    expect(local.findings.filter((x) => x.rule === 'lost-pagefault-disable')).toEqual([]);
  });

  it('never reads the tree for a patch whose sections call nothing of another file', async () => {
    const { loadChangeSets } = await import('../patch/load.js');
    const { analyze } = await import('../engine.js');
    const { KmapApi } = await import('../kmap-api.js');
    const { OnDemandTree } = await import('./on-demand.js');
    const zero = patch.replace(/demo_copy_in\(kaddr, ubuf, len\)/g, 'len');
    const [cs] = loadChangeSets([{ name: 'p.patch', content: Buffer.from(zero) }]);
    const tree = new OnDemandTree(FIXTURE, new KmapApi());
    await analyze(cs!, DEFAULT_CONFIG, { tree });
    expect(tree.indexed).toBe(false);
  });
});
