/**
 * Without a tree the engine sees only the hunks. What they show is analysed; nothing may be reported that
 * depends on what they do not show (issue 18, section 1), and nothing they show may be skipped silently.
 */
import { analyze } from './engine.js';
import { loadChangeSets } from './patch/load.js';
import { missingBraces } from './source/functions.js';
import { initParser } from './syntax/parser.js';

beforeAll(async () => {
  await initParser();
});

const review = async (patch: string) => {
  const [cs] = loadChangeSets([{ name: 'p.patch', content: Buffer.from(patch) }]);
  return analyze(cs!);
};
const rulesOf = (r: Awaited<ReturnType<typeof review>>) => r.findings.map((f) => `${f.rule}@${f.line}`);

const TWO_HUNKS = `diff --git a/drivers/demo/foo.c b/drivers/demo/foo.c
--- a/drivers/demo/foo.c
+++ b/drivers/demo/foo.c
@@ -10,7 +10,7 @@ static int foo_copy(struct foo *f, struct page *page)
 	int ret;
 
 	f->busy = 1;
-	kaddr = kmap(page);
+	kaddr = kmap_local_page(page);
 	ret = foo_fill(f, kaddr);
 	if (ret)
 		goto out;
@@ -30,7 +30,7 @@ static int foo_copy(struct foo *f, struct page *page)
 	foo_sum(f, kaddr);
 	ret = 0;
 out:
-	kunmap(page);
+	kunmap_local(kaddr);
 	return ret;
 }
 
`;

const CUT = (map: string) => `diff --git a/drivers/demo/bar.c b/drivers/demo/bar.c
--- a/drivers/demo/bar.c
+++ b/drivers/demo/bar.c
@@ -20,6 +20,6 @@ static void bar_zero(struct page *page)
 	}
 	len = bar_len(page);
-	vaddr = kmap_local_page(page);
+	vaddr = ${map}(page);
 	memset(vaddr, 0, len);
 	kunmap_atomic(vaddr);
 	bar_done(page, len,
`;

const RETURN_LEAK = `diff --git a/drivers/demo/baz.c b/drivers/demo/baz.c
--- a/drivers/demo/baz.c
+++ b/drivers/demo/baz.c
@@ -40,5 +40,6 @@ static int baz_fill(struct page *page)
 	kaddr = kmap_local_page(page);
 	if (baz_bad(kaddr))
+		return -EIO;
 	memset(kaddr, 0, PAGE_SIZE);
 	kunmap_local(kaddr);
 	return 0;
`;

describe('hunks without their function', () => {
  it('a name declared above the hunk is not a global, and the end of a hunk is not the end of the function', async () => {
    const r = await review(TWO_HUNKS);
    expect(rulesOf(r)).toEqual([]);
    // Both hunks are of foo_copy(): one sparse function (source/sparse.test.ts), the lines between them unseen.
    expect(r.gaps.map((g) => g.reason).join('\n')).toMatch(/lines 10-35 were analysed as one sparse function foo_copy\(\), from 2 hunks; the patch does not show lines 17-29:/);
  });

  it('a return the hunk shows is still an exit: the leak on it is reported', async () => {
    expect(rulesOf(await review(RETURN_LEAK))).toEqual(['mapping-leak@42']);
  });

  it('a hunk cut inside a block still gets its line rules, and the cut is said', async () => {
    const r = await review(CUT('kmap_atomic'));
    expect(rulesOf(r)).toContain('deprecated-api@22');
    expect(r.files[0]!.functionsAnalysed).toBe(1);
    expect(r.gaps.map((g) => g.reason).join('\n')).toMatch(/lines 20-26 do not parse as whole statements/);
  });

  it('missingBraces counts what a hunk lacks on each side, ignoring braces in comments and strings', () => {
    expect(missingBraces('\t}\n\tx = 1;\n')).toEqual({ open: 1, close: 0 });
    expect(missingBraces('\tif (a) {\n\t\tb();\n')).toEqual({ open: 0, close: 1 });
    expect(missingBraces('\t} else {\n\t\tc("}");\n\t/* { */\n')).toEqual({ open: 1, close: 1 });
    expect(missingBraces('\tf();\n')).toEqual({ open: 0, close: 0 });
  });
});
