/**
 * `kmap-review fix`: table-driven before/after pairs for each rewrite, and the refusals. Fixtures are
 * small kernel-style functions written for these tests.
 */
import { KmapApi } from '../kmap-api.js';
import { DEFAULT_CONFIG } from '../model.js';
import { applyHunks } from '../patch/apply.js';
import { parsePatchLines } from '../patch/diff.js';
import { unifiedDiff } from '../patch/unified-diff.js';
import { scanFile } from '../scan/classify.js';
import { initParser } from '../syntax/parser.js';
import { buildPatches, fixFile, fixPatchForSites, recheckLayout, renderSeries, type FixOptions } from './fix.js';
import { displayWidth, layoutText, wrapLine } from './layout.js';

const api = new KmapApi();
const opts: FixOptions = { api, config: DEFAULT_CONFIG };

interface Case {
  name: string;
  before: string;
  /** Expected output; omitted when the file must be left unchanged (a refusal). */
  after?: string;
  /** For refusals: a substring of the reason given for the first site. */
  refused?: string;
  options?: Partial<FixOptions>;
}

const cases: Case[] = [
  {
    name: 'kmap_atomic pair: renamed',
    before: `static u32 sum_page(struct page *page)
{
	u32 *p = kmap_atomic(page);
	u32 s = p[0] + p[1];

	kunmap_atomic(p);
	return s;
}
`,
    after: `static u32 sum_page(struct page *page)
{
	u32 *p = kmap_local_page(page);
	u32 s = p[0] + p[1];

	kunmap_local(p);
	return s;
}
`,
  },
  {
    name: 'kmap() into a local: kunmap(page) becomes kunmap_local(address)',
    before: `static int read_block(struct page *page)
{
	char *p = kmap(page);
	int ret = parse(p);

	kunmap(page);
	return ret;
}
`,
    after: `static int read_block(struct page *page)
{
	char *p = kmap_local_page(page);
	int ret = parse(p);

	kunmap_local(p);
	return ret;
}
`,
  },
  {
    name: 'kmap(page); with page_address(): a variable is introduced at the top of the block',
    before: `static void wipe(struct page *page, int n)
{
	int i;

	kmap(page);
	for (i = 0; i < n; i++)
		scrub(page_address(page) + i);
	kunmap(page);
}
`,
    after: `static void wipe(struct page *page, int n)
{
	int i;
	void *kaddr;

	kaddr = kmap_local_page(page);
	for (i = 0; i < n; i++)
		scrub(kaddr + i);
	kunmap_local(kaddr);
}
`,
  },
  {
    name: 'kmap() as an argument in a block without declarations: declaration, blank line, own statement',
    before: `static void tell(struct page *page)
{
	if (page) {
		report(kmap(page), PAGE_SIZE);
		kunmap(page);
	}
}
`,
    after: `static void tell(struct page *page)
{
	if (page) {
		void *kaddr;

		kaddr = kmap_local_page(page);
		report(kaddr, PAGE_SIZE);
		kunmap_local(kaddr);
	}
}
`,
  },
  {
    name: 'open-coded copy out of a page: memcpy_from_page(), the declaration goes too',
    before: `static void read_name(struct page *page, unsigned int off, char *name, size_t len)
{
	char *kaddr;

	kaddr = kmap_atomic(page);
	memcpy(name, kaddr + off, len);
	kunmap_atomic(kaddr);
}
`,
    after: `static void read_name(struct page *page, unsigned int off, char *name, size_t len)
{
	memcpy_from_page(name, page, off, len);
}
`,
  },
  {
    name: 'open-coded copy into a page with its flush: memcpy_to_page() (which flushes)',
    before: `static int put_tail(struct page *page, size_t off, const char *buf, size_t n)
{
	void *vaddr = kmap_atomic(page);
	memcpy(vaddr + off, buf, n);
	kunmap_atomic(vaddr);
	flush_dcache_page(page);
	return 0;
}
`,
    after: `static int put_tail(struct page *page, size_t off, const char *buf, size_t n)
{
	memcpy_to_page(page, off, buf, n);
	return 0;
}
`,
  },
  {
    name: 'memset 0 with a flush: memzero_page()',
    before: `static void zero_tail(struct page *page, unsigned int off)
{
	char *kaddr = kmap(page);
	memset(kaddr + off, 0, PAGE_SIZE - off);
	flush_dcache_page(page);
	kunmap(page);
}
`,
    after: `static void zero_tail(struct page *page, unsigned int off)
{
	memzero_page(page, off, PAGE_SIZE - off);
}
`,
  },
  {
    name: 'two nested maps around one copy: memcpy_page()',
    before: `static void dup_page(struct page *dst, struct page *src)
{
	char *d = kmap_atomic(dst);
	char *s = kmap_atomic(src);
	memcpy(d, s, PAGE_SIZE);
	kunmap_atomic(s);
	kunmap_atomic(d);
}
`,
    after: `static void dup_page(struct page *dst, struct page *src)
{
	memcpy_page(dst, 0, src, 0, PAGE_SIZE);
}
`,
  },
  {
    name: '--no-helpers: the open-coded copy is only renamed',
    options: { helpers: false },
    before: `static void read_name(struct page *page, unsigned int off, char *name, size_t len)
{
	char *kaddr;

	kaddr = kmap_atomic(page);
	memcpy(name, kaddr + off, len);
	kunmap_atomic(kaddr);
}
`,
    after: `static void read_name(struct page *page, unsigned int off, char *name, size_t len)
{
	char *kaddr;

	kaddr = kmap_local_page(page);
	memcpy(name, kaddr + off, len);
	kunmap_local(kaddr);
}
`,
  },
  {
    name: 'non-LIFO unmaps next to each other: reordered',
    before: `static int same(struct page *a, struct page *b)
{
	char *x, *y;
	int ret;

	x = kmap_atomic(a);
	y = kmap_atomic(b);
	ret = memcmp(x, y, PAGE_SIZE);
	kunmap_atomic(x);
	kunmap_atomic(y);
	return ret;
}
`,
    after: `static int same(struct page *a, struct page *b)
{
	char *x, *y;
	int ret;

	x = kmap_local_page(a);
	y = kmap_local_page(b);
	ret = memcmp(x, y, PAGE_SIZE);
	kunmap_local(y);
	kunmap_local(x);
	return ret;
}
`,
  },
  {
    name: 'kmap() pair unmapped in map order: reordered for kmap_local_page()',
    before: `static int cmp_pages(struct page *a, struct page *b)
{
	char *x = kmap(a);
	char *y = kmap(b);
	int ret = memcmp(x, y, PAGE_SIZE);

	kunmap(a);
	kunmap(b);
	return ret;
}
`,
    after: `static int cmp_pages(struct page *a, struct page *b)
{
	char *x = kmap_local_page(a);
	char *y = kmap_local_page(b);
	int ret = memcmp(x, y, PAGE_SIZE);

	kunmap_local(y);
	kunmap_local(x);
	return ret;
}
`,
  },
  {
    name: 'refused: the section relies on page faults being disabled',
    before: `static int fill(struct page *page, const char __user *ubuf)
{
	char *v;
	unsigned long left;

	v = kmap_atomic(page);
	left = __copy_from_user_inatomic(v, ubuf, PAGE_SIZE);
	kunmap_atomic(v);
	return left ? -EFAULT : 0;
}
`,
    refused: '__copy_from_user_inatomic',
  },
  {
    name: '--add-pagefault-disable: the explicit pair inside the mapping',
    options: { addPagefaultDisable: true },
    before: `static int fill(struct page *page, const char __user *ubuf)
{
	char *v;
	unsigned long left;

	v = kmap_atomic(page);
	left = __copy_from_user_inatomic(v, ubuf, PAGE_SIZE);
	kunmap_atomic(v);
	return left ? -EFAULT : 0;
}
`,
    after: `static int fill(struct page *page, const char __user *ubuf)
{
	char *v;
	unsigned long left;

	v = kmap_local_page(page);
	pagefault_disable();
	left = __copy_from_user_inatomic(v, ubuf, PAGE_SIZE);
	pagefault_enable();
	kunmap_local(v);
	return left ? -EFAULT : 0;
}
`,
  },
  {
    name: 'refused: the kmap() address is stored where other threads can reach it',
    before: `static void attach(struct buf *b, struct page *page)
{
	b->vaddr = kmap(page);
	b->page = page;
}
`,
    refused: 'outlives the function',
  },
  {
    name: 'refused: the mapping is released in another function',
    before: `static void *get_map(struct page *page)
{
	return kmap_atomic(page);
}
`,
    refused: 'returned',
  },
  {
    name: 'refused: per-CPU data inside the former atomic section',
    before: `static void count_page(struct page *page)
{
	char *v = kmap_atomic(page);

	__this_cpu_add(stats, v[0]);
	kunmap_atomic(v);
}
`,
    refused: 'preempt',
  },
];

describe('fix: before/after', () => {
  beforeAll(initParser);
  it.each(cases.map((c) => [c.name, c] as const))('%s', (_n, c) => {
    const r = fixFile('drivers/demo/demo.c', c.before, { ...opts, ...c.options });
    if (c.after !== undefined) {
      expect(r.after).toBe(c.after);
      expect(r.sites.every((s) => s.converted)).toBe(true);
      // The output re-analysed with all rules draws nothing, and parses.
      expect(recheckLayout('drivers/demo/demo.c', c.before, r.after, api, DEFAULT_CONFIG)).toEqual([]);
    } else {
      expect(r.after).toBe(c.before);
      expect(r.sites.length).toBeGreaterThan(0);
      expect(r.sites.some((s) => s.converted)).toBe(false);
      expect(r.sites[0].detail).toContain(c.refused ?? '');
      expect(r.sites[0].class).not.toBe('ready');
    }
  });

  it('fix converts exactly the sites scan classifies ready', () => {
    const all = cases.filter((c) => !c.options).map((c) => c.before).join('\n');
    const scan = scanFile('drivers/demo/demo.c', all, { api, config: DEFAULT_CONFIG });
    const fixed = fixFile('drivers/demo/demo.c', all, opts);
    expect(fixed.sites.map((s) => [s.line, s.converted])).toEqual(scan.sites.map((s) => [s.line, s.class === 'ready']));
  });
});

describe('fix: layout', () => {
  it('wraps a rewritten line over the width after a comma, under the open parenthesis', () => {
    const line = '\t\tmemcpy_from_page(some_long_destination_buffer, page, offset_in_page(pos), bytes);';
    const out = wrapLine(line, 80);
    expect(out).toEqual(['\t\tmemcpy_from_page(some_long_destination_buffer, page,', '\t\t\t\t offset_in_page(pos), bytes);']);
    expect(out.every((l) => displayWidth(l) <= 80)).toBe(true);
  });

  it('leaves untouched lines alone, even long ones', () => {
    const long = `\t${'x'.repeat(120)};`;
    const src = `${long}\n\tkunmap_atomic(v);\n`;
    expect(layoutText(src, [{ line: 2, column: 1, length: 'kunmap_atomic'.length, text: 'kunmap_local' }])).toBe(`${long}\n\tkunmap_local(v);\n`);
  });
});

describe('fix: patches', () => {
  beforeAll(initParser);
  const before = cases[0].before;

  it('writes a git diff that applies back to the output', () => {
    const r = fixFile('drivers/demo/demo.c', before, opts);
    const diff = unifiedDiff('drivers/demo/demo.c', r.before, r.after);
    expect(diff.startsWith('diff --git a/drivers/demo/demo.c b/drivers/demo/demo.c\n--- a/drivers/demo/demo.c\n+++ b/drivers/demo/demo.c\n@@ -1,8 +1,8 @@')).toBe(true);
    const [fp] = parsePatchLines('demo.patch', diff.split('\n'));
    expect(applyHunks('drivers/demo/demo.c', before, fp!.hunks).text).toBe(r.after);
  });

  it('one patch per file with a maintainer-style commit message; the App gets the same text', () => {
    const files = [
      { path: 'drivers/demo/a.c', text: cases[0].before },
      { path: 'drivers/demo/b.c', text: cases[2].before },
      { path: 'drivers/demo/c.c', text: cases[11].before },
    ];
    const fixed = files.map((f) => fixFile(f.path, f.text, opts));
    const patches = buildPatches(fixed);
    expect(patches.map((p) => p.subject)).toEqual(['demo: Replace kmap_atomic() with kmap_local_page()', 'demo: Replace kmap() with kmap_local_page()']);
    expect(patches[0].body.replace(/\s+/g, ' ')).toContain('in sum_page() does not depend on the above-mentioned side effects');
    expect(patches[1].body.replace(/\s+/g, ' ')).toContain('The mappings in wipe() are used only by the thread');
    const series = renderSeries(patches);
    expect(series).toContain('Subject: [PATCH 1/2] demo: Replace kmap_atomic()');
    expect(fixPatchForSites(files, opts)).toEqual({ patch: series, converted: 4, files: 2 });
    expect(buildPatches(fixed, () => 'DEMO DRIVER')).toHaveLength(1);
  });
});
