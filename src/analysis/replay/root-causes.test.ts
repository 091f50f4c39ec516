/**
 * The shortcuts that silenced the replay (issue "Replay you can trust"), each as the reproduction that
 * used to draw nothing (or the wrong thing), run through every rule the engine has: the findings are
 * compared whole, so a fix that adds noise fails as surely as one that misses.
 */
import { KmapApi } from '../kmap-api.js';
import { DEFAULT_CONFIG, type AnalysisGap, type EngineConfig } from '../model.js';
import { allRules } from '../rules/index.js';
import { checkFunction } from '../rules/runner.js';
import { scanFile } from '../scan/classify.js';
import { locateFunctions } from '../source/functions.js';
import { initParser } from '../syntax/parser.js';

beforeAll(initParser);

function review(code: string, config: Partial<EngineConfig> = {}, path = 'fs/demo/file.c'): { findings: string[]; gaps: string[]; messages: string[]; notes: string[] } {
  const api = new KmapApi({ mapFunctions: config.mapFunctions ?? {}, unmapFunctions: config.unmapFunctions ?? {} });
  const fns = locateFunctions(code);
  const fileFunctions = new Map(fns.map((f) => [f.name, f]));
  const gaps: AnalysisGap[] = [];
  const rules = allRules.filter((r) => r.meta.id !== 'deprecated-api').map((rule) => ({ rule, severity: rule.meta.severity }));
  const found = fns.flatMap((fn) => checkFunction(fn, { path, source: code, image: 'pre', isChanged: () => true, api, rules, fileFunctions, gaps }));
  return {
    findings: found.map((f) => `${f.rule}@${f.line}`),
    gaps: gaps.map((g) => g.reason),
    messages: found.map((f) => f.message),
    notes: found.map((f) => f.note ?? ''),
  };
}

interface Case {
  name: string;
  code: string;
  findings: string[];
  config?: Partial<EngineConfig>;
}

const cases: Record<string, Case[]> = {
  '1. functions are not judged by their name or the comment above them': [
    {
      name: 'a kernel-doc saying "mapped" does not make a function a map helper',
      code: `/*
 * Writes the page out; the temporary page is mapped while it is written.
 */
int write_page_out(struct page *page)
{
	struct page *tmp = alloc_page(GFP_USER);
	char *virt;
	int rc;

	if (!tmp)
		return -ENOMEM;
	virt = kmap_local_page(tmp);
	if (fatal_signal_pending(current))
		return -EINTR;
	rc = write_lower(page, virt, PAGE_SIZE);
	kunmap_local(virt);
	__free_page(tmp);
	return rc;
}`,
      findings: ['mapping-leak@14'],
    },
    {
      name: 'a device-mapper style .map callback leaks like any other function',
      code: `static int flakey_map(struct dm_target *ti, struct bio *bio)
{
	struct bio_vec bvec = bio_iovec(bio);
	char *data = kmap_local_page(bvec.bv_page);

	if (bio_data_dir(bio) != WRITE)
		return DM_MAPIO_REMAPPED;
	data[bvec.bv_offset] ^= 1;
	kunmap_local(data);
	return DM_MAPIO_REMAPPED;
}`,
      findings: ['mapping-leak@7'],
    },
    {
      name: 'a *_kaddr function that returns the address on one path and leaks it on another',
      code: `static void *entry_kaddr(struct page *page, int idx)
{
	void *kaddr = kmap_local_page(page);

	if (idx < 0)
		return NULL;
	return kaddr + idx * 32;
}`,
      findings: ['mapping-leak@6'],
    },
  ],
  '2. a branch that unmaps and returns does not guard the other path': [
    {
      name: 'the success path leaks after the error path unmaps',
      code: `static int fill_page(struct page *page, struct iov_iter *from)
{
	void *kaddr = kmap_local_page(page);

	if (copy_from_iter(kaddr, PAGE_SIZE, from) != PAGE_SIZE) {
		kunmap_local(kaddr);
		return -EFAULT;
	}
	return 0;
}`,
      findings: ['mapping-leak@9'],
    },
  ],
  '3. a pointer derived from the mapping does not hide it': [
    {
      name: 'the duplicated unmap is found with su = get(kaddr) in between',
      code: `void mark_usage(struct inode *inode, struct buffer_head *bh, int bad)
{
	struct usage *su;
	void *kaddr;

	kaddr = kmap_local_page(bh->b_page);
	su = block_get_usage(inode, bh, kaddr);
	if (bad) {
		kunmap_local(kaddr);
		kunmap_local(kaddr);
		return;
	}
	usage_set_dirty(su);
	kunmap_local(kaddr);
}`,
      findings: ['double-unmap@10'],
    },
  ],
  '4. aliases and chained assignments are followed': [
    {
      name: 'save = addr = kmap_local_page(p), released through save with the wrong API',
      code: `static void chained(struct page *p, const char *buf)
{
	char *save, *addr;

	save = addr = kmap_local_page(p);
	memcpy(addr, buf, 16);
	kunmap_atomic(save);
}`,
      findings: ['mismatched-unmap@7'],
    },
    {
      name: 'page_addr = from; both unmapped',
      code: `static void copy_one(struct page *a, char *dst)
{
	char *from, *page_addr;

	from = kmap_local_page(a);
	page_addr = from;
	memcpy(dst, page_addr, 64);
	kunmap_local(page_addr);
	kunmap_local(from);
}`,
      findings: ['double-unmap@9'],
    },
  ],
  '6. conditions are correlated through the flags computed from them': [
    {
      name: 'unmap flags computed from each other (vmwgfx blit shape): no order violation on an impossible path',
      code: `static int blit_line(struct blit *d, u32 dst_page, u32 src_page)
{
	while (d->left) {
		bool unmap_dst = d->dst_addr && dst_page != d->mapped_dst;
		bool unmap_src = d->src_addr && (src_page != d->mapped_src || unmap_dst);

		if (unmap_src) {
			kunmap_local(d->src_addr);
			d->src_addr = NULL;
		}
		if (unmap_dst) {
			kunmap_local(d->dst_addr);
			d->dst_addr = NULL;
		}
		if (!d->dst_addr) {
			d->dst_addr = kmap_local_page(d->dst_pages[dst_page]);
			d->mapped_dst = dst_page;
		}
		if (!d->src_addr) {
			d->src_addr = kmap_local_page(d->src_pages[src_page]);
			d->mapped_src = src_page;
		}
		d->left -= copy_some(d);
		dst_page++;
		src_page++;
	}
	return 0;
}`,
      findings: [],
    },
    {
      name: 'if (x) ... if (x) on an unchanged flag',
      code: `static void maybe(struct page *p, bool highmem)
{
	void *v = NULL;
	bool mapped = highmem && p;

	if (mapped)
		v = kmap_local_page(p);
	work(p);
	if (mapped)
		kunmap_local(v);
}`,
      findings: [],
    },
  ],
  '7. an unmap address outside the mapped page': [
    {
      name: 'an offset the function does not show, then PAGE_SIZE more: past the page whatever the offset',
      code: `static bool has_magic(struct scatterlist *sg)
{
	char *buf = kmap_local_page(sg_page(sg)) + sg->offset;
	bool found = buf[0] == 'C';

	buf += PAGE_SIZE;
	kunmap_local(buf);
	return found;
}`,
      findings: ['unmap-outside-page@7'],
    },
    {
      name: 'an offset the function does not show, unmapped as it is or a few bytes on: not decided',
      code: `static bool has_magic(struct scatterlist *sg)
{
	char *buf = kmap_local_page(sg_page(sg)) + sg->offset;
	char *p = buf + 8;
	bool found = buf[0] == 'C';

	kunmap_local(p);
	return found;
}`,
      findings: [],
    },
    {
      name: 'the address folio_zero_tail() returns is one to unmap (its kernel-doc), even given the page end',
      code: `static int read_folio_data(struct folio *folio)
{
	void *buf = kmap_local_folio(folio, 0);

	fill(buf, PAGE_SIZE);
	buf = folio_zero_tail(folio, PAGE_SIZE, buf + PAGE_SIZE);
	kunmap_local(buf);
	return 0;
}`,
      findings: [],
    },
    {
      name: 'the address folio_zero_tail() returned, advanced by PAGE_SIZE',
      code: `static int read_folio_data(struct folio *folio)
{
	void *buf = kmap_local_folio(folio, 0);
	size_t n = fill(buf);

	buf = folio_zero_tail(folio, n, buf + n);
	buf += PAGE_SIZE;
	kunmap_local(buf);
	return 0;
}`,
      findings: ['unmap-outside-page@8'],
    },
    {
      name: 'the base advanced by PAGE_SIZE',
      code: `static void zero_two(struct page *p)
{
	char *kaddr = kmap_local_page(p);

	memset(kaddr, 0, PAGE_SIZE);
	kaddr += PAGE_SIZE;
	kunmap_local(kaddr);
}`,
      findings: ['unmap-outside-page@7'],
    },
    {
      name: 'a cursor advanced by at most the rest of the page',
      code: `static size_t copy_in(struct page *p, size_t off, const char *src, size_t len)
{
	char *dst = kmap_local_page(p) + off;
	size_t n = min_t(size_t, len, PAGE_SIZE - off);

	memcpy(dst, src, n);
	dst += n;
	kunmap_local(dst);
	return n;
}`,
      findings: ['unmap-outside-page@8'],
    },
    {
      name: 'a loop with a constant trip count over the whole page',
      code: `static void fill_words(struct page *p, u32 v)
{
	u32 *w = kmap_local_page(p);
	int i;

	for (i = 0; i < PAGE_SIZE / 4; i++)
		*w++ = v;
	kunmap_local(w);
}`,
      findings: ['unmap-outside-page@8'],
    },
    {
      name: 'an offset masked into the page and a cursor that stays inside',
      code: `static void set_byte(struct page *p, loff_t pos)
{
	char *kaddr = kmap_local_page(p);
	char *c = kaddr + (pos & ~PAGE_MASK);

	*c = 1;
	kunmap_local(c);
}`,
      findings: [],
    },
    {
      name: 'the base unmapped after a cursor walked the page',
      code: `static void fill(struct page *p, size_t len, const char *src)
{
	char *kaddr = kmap_local_page(p);
	char *dst = kaddr;

	while (len >= 8) {
		memcpy(dst, src, 8);
		dst += 8;
		src += 8;
		len -= 8;
	}
	kunmap_local(kaddr);
}`,
      findings: [],
    },
    {
      name: 'an unsigned counter stepped before the last byte is added: at least one byte past the page',
      code: `static void tail(struct page *p, size_t n)
{
	char *kaddr = kmap_local_page(p);

	n++;
	kunmap_local(kaddr + PAGE_SIZE - 1 + n);
}`,
      findings: ['unmap-outside-page@6'],
    },
    {
      name: 'the same with a signed ssize_t counter, which may be negative: not decided',
      code: `static void tail(struct page *p, ssize_t n)
{
	char *kaddr = kmap_local_page(p);

	n++;
	kunmap_local(kaddr + PAGE_SIZE - 1 + n);
}`,
      findings: [],
    },
    {
      name: 'an advance the function does not bound is not decided',
      code: `static void skip(struct page *p, size_t len)
{
	char *kaddr = kmap_local_page(p);

	kaddr += len;
	kunmap_local(kaddr);
}`,
      findings: [],
    },
  ],
  '8. wrappers count in helper summaries': [
    {
      name: 'a local put_addr() that calls the configured unmap wrapper releases the mapping',
      config: { mapFunctions: { zfs_kmap_local: 'kmap_local_page' }, unmapFunctions: { zfs_kunmap_local: 'kunmap_local' } },
      code: `static void put_addr(void *addr)
{
	zfs_kunmap_local(addr);
}

static int checksum_page(struct page *p, u64 *out)
{
	void *addr = zfs_kmap_local(p);

	*out = fletcher(addr, PAGE_SIZE);
	put_addr(addr);
	return 0;
}`,
      findings: [],
    },
    {
      name: 'whatever the helper is called',
      config: { mapFunctions: { zfs_kmap_local: 'kmap_local_page' }, unmapFunctions: { zfs_kunmap_local: 'kunmap_local' } },
      code: `static void finish(void *buf, bool dirty)
{
	if (dirty)
		flush_buf(buf);
	zfs_kunmap_local(buf);
}

static int scrub_page(struct page *p, bool dirty)
{
	void *buf = zfs_kmap_local(p);

	if (scrub(buf) < 0) {
		finish(buf, dirty);
		return -EIO;
	}
	finish(buf, dirty);
	return 0;
}`,
      findings: [],
    },
    {
      name: 'and a second put_addr() is a double unmap through it',
      config: { mapFunctions: { zfs_kmap_local: 'kmap_local_page' }, unmapFunctions: { zfs_kunmap_local: 'kunmap_local' } },
      code: `static void put_addr(void *addr)
{
	zfs_kunmap_local(addr);
}

static void twice(struct page *p)
{
	void *addr = zfs_kmap_local(p);

	put_addr(addr);
	kunmap_local(addr);
}`,
      findings: ['double-unmap@11'],
    },
  ],
  '11. one mistake, one finding': [
    {
      name: 'kmap_local_page() released with kunmap(page): mismatched-unmap only, not a leak as well',
      code: `static void mix(struct page *page, const char *buf)
{
	char *p = kmap_local_page(page);

	memcpy(p, buf, 16);
	kunmap(page);
}`,
      findings: ['mismatched-unmap@6'],
    },
    {
      name: 'kunmap_local(page): unmap-page only',
      code: `static void wrong_arg(struct page *page)
{
	char *p = kmap_local_page(page);

	p[0] = 0;
	kunmap_local(page);
}`,
      findings: ['unmap-page@6'],
    },
  ],
};

for (const [group, list] of Object.entries(cases)) {
  describe(group, () => {
    it.each(list.map((c) => [c.name, c] as const))('%s', (_n, c) => {
      expect(review(c.code, c.config).findings).toEqual(c.findings);
    });
  });
}

describe('9. facts the messages state', () => {
  it('at most 15 local mappings can be live', () => {
    const maps = Array.from({ length: 16 }, (_, i) => `\tvoid *a${i} = kmap_local_page(p[${i}]);`).join('\n');
    const unmaps = Array.from({ length: 16 }, (_, i) => `\tkunmap_local(a${15 - i});`).join('\n');
    const r = review(`static void many(struct page **p)\n{\n${maps}\n\tuse(p);\n${unmaps}\n}`);
    expect(r.findings).toEqual(['stack-depth@18']);
    expect(r.messages[0]).toBe('16 kmap_local mappings are live at once here: at most 15 can be');
  });

  it('a kernel without HIGHMEM gets a cleanup note that does not promise a warning', () => {
    const r = review(`static void c(struct page *to, struct page *from)\n{\n\tvoid *vfrom = kmap_local_page(from);\n\tvoid *vto = kmap_local_page(to);\n\n\tcopy_page(vto, vfrom);\n\tkunmap_local(vfrom);\n\tkunmap_local(vto);\n}`, {}, 'arch/loongarch/mm/init.c');
    expect(r.findings).toEqual(['unmap-order@7']);
    expect(r.notes[0]).toContain('cleanup, not a runtime bug');
    expect(r.notes[0]).not.toMatch(/FORCE_MAP|would warn/);
  });
});

describe('10. deep and broken input', () => {
  it('800 nested ifs degrade to a gap naming the function', () => {
    const n = 800;
    const code = `int deep(struct page *p)\n{\n\tvoid *k = kmap_local_page(p);\n${'\tif (a) {\n'.repeat(n)}\t\tk[0] = 1;\n${'\t}\n'.repeat(n)}\tkunmap_local(k);\n\treturn 0;\n}`;
    const r = review(code);
    expect(r.findings).toEqual([]);
    expect(r.gaps).toEqual(['nested more than 200 levels deep: not analysed']);
  });

  // 3,000 nested `?:` in parentheses: ~6,000 levels of syntax, past what a recursive tree copy survived.
  const ternaries = (map: string, unmap: string) => {
    let e = 'p';
    for (let i = 0; i < 3000; i++) e = `(c ? ${e} : p)`;
    return `char *deep(struct page *pg, int c)\n{\n\tchar *p = ${map}(pg);\n\n\tfill(p);\n\t${unmap}(p);\n\treturn ${e};\n}\n`;
  };

  it('3,000 nested conditional expressions degrade to a gap naming the function', () => {
    const r = review(ternaries('kmap_local_page', 'kunmap_local'));
    expect(r.findings).toEqual([]);
    expect(r.gaps).toEqual(['nested more than 200 levels deep: not analysed']);
  });

  it.each([
    ['3,000 nested conditional expressions', ternaries('kmap_atomic', 'kunmap_atomic')],
    ['800 nested ifs', `int deep(struct page *pg)\n{\n\tchar *k = kmap_atomic(pg);\n${'\tif (a) {\n'.repeat(800)}\t\tk[0] = 1;\n${'\t}\n'.repeat(800)}\tkunmap_atomic(k);\n\treturn 0;\n}\n`],
  ])('a tree scan does not call the conversion of a function it cannot analyse ready: %s', (_, code) => {
    const scan = scanFile('fs/demo/deep.c', code, { api: new KmapApi(), config: DEFAULT_CONFIG });
    expect(scan.sites.map((s) => `${s.api} ${s.class}: ${s.reason}`)).toEqual([
      'kmap_atomic needs-care: nested more than 200 levels deep: not analysed, so the conversion is not verified',
      'kunmap_atomic needs-care: nested more than 200 levels deep: not analysed, so the conversion is not verified',
    ]);
  });

  it('1600 nested parentheses do not crash the review', () => {
    const code = `int parens(struct page *p)\n{\n\tvoid *k = kmap_local_page(p);\n\tk[0] = ${'('.repeat(1600)}1${')'.repeat(1600)};\n\tkunmap_local(k);\n\treturn 0;\n}`;
    expect(() => review(code)).not.toThrow();
  });

  it('a syntax error inside the mapping draws no finding from the broken statement', () => {
    const r = review(`int broken(struct page *p)\n{\n\tchar *k = kmap_local_page(p);\n\n\tkunmap_local(k);\n\tk[0] = 1 +;\n\treturn 0;\n}`);
    expect(r.findings).toEqual([]);
  });
});
