import { useHelper } from './use-helper.js';
import { findingsFor, ruleTester } from './testing.js';

ruleTester(useHelper, {
  valid: [
    {
      name: 'the address is used after the copy',
      code: `static u32 copy_and_sum(struct page *page, char *buf, size_t len)
{
	char *kaddr = kmap_local_page(page);
	u32 sum;

	memcpy(buf, kaddr, len);
	sum = crc32(0, kaddr, len);
	kunmap_local(kaddr);
	return sum;
}`,
    },
    {
      name: 'another statement between the copy and the unmap',
      code: `static void write_block(struct page *page, unsigned int off, const char *src, size_t len)
{
	char *kaddr;

	kaddr = kmap_local_page(page);
	memcpy(kaddr + off, src, len);
	clflush_cache_range(kaddr + off, len);
	kunmap_local(kaddr);
}`,
    },
    {
      name: 'a u32 pointer: v + off is not a byte offset',
      code: `static void put_words(struct page *page, unsigned int idx, const u32 *w, size_t len)
{
	u32 *p;

	p = kmap_local_page(page);
	memcpy(p + idx, w, len);
	kunmap_local(p);
}`,
    },
    {
      name: 'the name trap: the address variable is called page and is used again',
      code: `static void save_bits(struct folio *folio, unsigned long *bits)
{
	unsigned long *page = kmap_local_folio(folio, 0);

	memcpy(bits, page, PAGE_SIZE);
	kunmap_local(page);
	page = NULL;
}`,
    },
    {
      name: 'copy under a condition, not three consecutive statements',
      code: `static int read_hdr(struct page *page, struct hdr *h, bool full)
{
	void *kaddr = kmap_local_page(page);

	if (full)
		memcpy(h, kaddr, sizeof(*h));
	kunmap_local(kaddr);
	return 0;
}`,
    },
    {
      name: 'memset_page with a flush between memset and unmap is not memset_page',
      code: `static void fill_ff(struct page *page, size_t len)
{
	void *v;

	v = kmap_local_page(page);
	memset(v, 0xff, len);
	flush_dcache_page(page);
	kunmap_local(v);
}`,
    },
    {
      name: 'unmap in the wrong order for memcpy_page',
      code: `static void cp(struct page *dp, struct page *sp)
{
	void *d = kmap_local_page(dp);
	void *s = kmap_local_page(sp);
	memcpy(d, s, PAGE_SIZE);
	kunmap_local(d);
	kunmap_local(s);
}`,
    },
  ],
  invalid: [
    {
      name: 'memcpy out of a page',
      code: `static void read_name(struct page *page, unsigned int off, char *name, size_t len)
{
	char *kaddr;

	kaddr = kmap_local_page(page);
	memcpy(name, kaddr + off, len);
	kunmap_local(kaddr);
}`,
      findings: [[5, "'kaddr' = kmap_local_page(page) (line 5) only copies through the mapping: use memcpy_from_page(name, page, off, len)"]],
    },
    {
      name: 'memcpy into a page with a flush after: the flush is redundant',
      code: `static void write_tail(struct page *page, size_t off, const char *buf, size_t n)
{
	void *vaddr = kmap_atomic(page);
	memcpy(vaddr + off, buf, n);
	kunmap_atomic(vaddr);
	flush_dcache_page(page);
}`,
      findings: [[3, 'use memcpy_to_page(page, off, buf, n), and the flush_dcache_page() after it is then redundant']],
    },
    {
      name: 'memcpy into a page without a flush: the message mentions the added flush',
      code: `static void store(struct page *page, const char *src)
{
	char *p = kmap(page);
	memcpy((char *)p + 16, src, 32);
	kunmap(page);
}`,
      findings: [[3, 'memcpy_to_page(page, 16, src, 32); note that memcpy_to_page() also calls flush_dcache_page(page)']],
    },
    {
      name: 'memset to zero with a flush: memzero_page',
      code: `static void zero_rest(struct page *page, unsigned int len)
{
	void *kaddr;

	kaddr = kmap_local_page(page);
	memset(kaddr + len, 0, PAGE_SIZE - len);
	flush_dcache_page(page);
	kunmap_local(kaddr);
}`,
      findings: [[5, 'memzero_page(page, len, PAGE_SIZE - len)']],
    },
    {
      name: 'memset with a pattern: memset_page',
      code: `static void poison(struct page *page, unsigned int off, unsigned int len)
{
	void *dst;

	dst = kmap_local_page(page);
	memset(dst + off, 0xff, len);
	kunmap_local(dst);
}`,
      findings: [[5, 'memset_page(page, off, 0xff, len)']],
    },
    {
      name: 'two nested maps: memcpy_page',
      code: `static void copy_block(struct page *dpage, struct page *spage, unsigned int doff, unsigned int soff, size_t len)
{
	void *dst, *src;

	dst = kmap_local_page(dpage);
	src = kmap_local_page(spage);
	memcpy(dst + doff, src + soff, len);
	kunmap_local(src);
	kunmap_local(dst);
}`,
      findings: [[5, 'No automatic fix:']],
    },
    {
      name: 'folio in and out, inside a loop',
      code: `static void folio_io(struct folio **folios, int n, char *buf, size_t off, size_t len, bool out)
{
	int i;

	for (i = 0; i < n; i++) {
		if (out) {
			char *from = kmap_local_folio(folios[i], off);
			memcpy(buf, from, len);
			kunmap_local(from);
		} else {
			char *to = kmap_local_folio(folios[i], off);
			memcpy(to, buf, len);
			kunmap_local(to);
		}
		buf += len;
	}
}`,
      findings: [[7, 'memcpy_from_folio(buf, folios[i], off, len)'], [11, 'memcpy_to_folio(folios[i], off, buf, len)']],
    },
    {
      name: 'page expression with side effects: finding without a fix',
      code: `static void gather(struct page **pages, char *buf, int n)
{
	int i = 0;

	while (i < n) {
		char *v = kmap_local_page(pages[i++]);
		memcpy(buf, v, PAGE_SIZE);
		kunmap_local(v);
		buf += PAGE_SIZE;
	}
}`,
      findings: [[6, 'No automatic fix: an argument has side effects']],
    },
  ],
});

describe('use-helper fixes', () => {
  const fixOf = (code: string) => findingsFor(useHelper, code)[0]?.fix ?? null;

  it('replaces the three lines and deletes a declaration of only that variable', () => {
    expect(fixOf(`static void r(struct page *page, unsigned int off, char *name, size_t len)
{
	char *kaddr;

	kaddr = kmap_local_page(page);
	memcpy(name, kaddr + off, len);
	kunmap_local(kaddr);
}`)?.edits).toEqual([
      { startLine: 3, endLine: 3, replacement: '' },
      { startLine: 5, endLine: 7, replacement: '\tmemcpy_from_page(name, page, off, len);' },
    ]);
  });

  it('a declaration that is the map statement goes with it, and a trailing flush is removed', () => {
    expect(fixOf(`static void w(struct page *page, size_t off, const char *buf, size_t n)
{
	void *vaddr = kmap_atomic(page);
	memcpy(vaddr + off, buf, n);
	kunmap_atomic(vaddr);
	flush_dcache_page(page);
}`)?.edits).toEqual([{ startLine: 3, endLine: 6, replacement: '\tmemcpy_to_page(page, off, buf, n);' }]);
  });

  it('memzero_page() takes the flush between the memset and the unmap', () => {
    expect(fixOf(`static void z(struct page *page, unsigned int len)
{
	void *kaddr;

	kaddr = kmap_local_page(page);
	memset(kaddr + len, 0, PAGE_SIZE - len);
	flush_dcache_page(page);
	kunmap_local(kaddr);
}`)?.edits).toEqual([
      { startLine: 3, endLine: 3, replacement: '' },
      { startLine: 5, endLine: 8, replacement: '\tmemzero_page(page, len, PAGE_SIZE - len);' },
    ]);
  });

  it('memcpy_page() removes both declarations when each declares one variable', () => {
    expect(fixOf(`static void c(struct page *dp, struct page *sp, size_t len)
{
	char *d;
	char *s;

	s = kmap_local_page(sp);
	d = kmap_local_page(dp);
	memcpy(d, s + 8, len);
	kunmap_local(d);
	kunmap_local(s);
}`)?.edits).toEqual([
      { startLine: 3, endLine: 3, replacement: '' },
      { startLine: 4, endLine: 4, replacement: '' },
      { startLine: 6, endLine: 10, replacement: '\tmemcpy_page(dp, 0, sp, 8, len);' },
    ]);
  });

  it('folio helpers keep the indentation of the block', () => {
    expect(fixOf(`static void f(struct folio *folio, char *buf, size_t len)
{
	if (len) {
		char *from = kmap_local_folio(folio, 0);
		memcpy(buf, from, len);
		kunmap_local(from);
	}
}`)?.edits).toEqual([{ startLine: 4, endLine: 6, replacement: '\t\tmemcpy_from_folio(buf, folio, 0, len);' }]);
  });

  it('gives no fix for a shared declaration, a buffer of another type, or a comment in between', () => {
    expect(fixOf(`static void a(struct page *p, char *b)\n{\n\tchar *v, *w = b;\n\n\tv = kmap_local_page(p);\n\tmemcpy(w, v, 8);\n\tkunmap_local(v);\n}`)).toBeNull();
    expect(fixOf(`static void a(struct page *p, struct hdr *h)\n{\n\tvoid *v = kmap_local_page(p);\n\tmemcpy(h, v, sizeof(*h));\n\tkunmap_local(v);\n}`)).toBeNull();
    expect(fixOf(`static void a(struct page *p, char *b)\n{\n\tvoid *v = kmap_local_page(p);\n\t/* header only */\n\tmemcpy(b, v, 8);\n\tkunmap_local(v);\n}`)).toBeNull();
  });
});
