import { unmapPage } from './unmap-page.js';
import { findingsFor, ruleTester } from './testing.js';

ruleTester(unmapPage, {
  valid: [
    {
      name: 'the name trap: unsigned long *page holds the folio mapping',
      code: `static bool zeromap_test(struct folio *folio)
{
	unsigned long *page = kmap_local_folio(folio, 0);
	bool zero = !memchr_inv(page, 0, PAGE_SIZE);

	kunmap_local(page);
	return zero;
}`,
    },
    {
      name: 'address plus offset given to kunmap_local',
      code: `static void put_entry(struct page *page, unsigned int off, u32 val)
{
	__le32 *p = kmap_local_page(page) + off;

	*p = cpu_to_le32(val);
	kunmap_local(p);
}`,
    },
    {
      name: 'kunmap() takes the page',
      code: `static void old_style(struct page *page)
{
	char *v = kmap(page);

	v[0] = 0;
	kunmap(page);
}`,
    },
    {
      name: 'array of addresses released in a reverse loop',
      code: `static void release_all(struct page **pages, void **addrs, int nr)
{
	int i;

	for (i = 0; i < nr; i++)
		addrs[i] = kmap_local_page(pages[i]);
	process(addrs, nr);
	while (--i >= 0)
		kunmap_local(addrs[i]);
}`,
    },
    {
      name: 'atomic mapping released by address on an error path',
      code: `static int check_sum(struct page *page, u32 want)
{
	void *kaddr = kmap_atomic(page);
	u32 sum = crc32(0, kaddr, PAGE_SIZE);

	if (sum != want) {
		kunmap_atomic(kaddr);
		return -EBADMSG;
	}
	kunmap_atomic(kaddr);
	return 0;
}`,
    },
    {
      name: 'a kmap() released with kunmap_local(page) is left to mismatched-unmap',
      code: `static void k(struct page *page)
{
	char *v = kmap(page);

	v[0] = 0;
	kunmap_local(page);
}`,
    },
  ],
  invalid: [
    {
      name: 'page parameter given to kunmap_local',
      code: `static void zero_tail(struct page *page, unsigned int off)
{
	char *kaddr = kmap_local_page(page);

	memset(kaddr + off, 0, PAGE_SIZE - off);
	kunmap_local(page);
}`,
      findings: [[6, "pass 'kaddr' (kaddr = kmap_local_page(page), line 3)"]],
    },
    {
      name: 'folio given to kunmap_local after kmap_local_folio',
      code: `static void copy_in(struct folio *folio, size_t off, const char *src, size_t len)
{
	char *dst = kmap_local_folio(folio, off);

	memcpy(dst, src, len);
	kunmap_local(folio);
}`,
      findings: [[6, "struct folio 'folio'"]],
    },
    {
      name: 'page expression of the mapping given to kunmap_atomic on an error path',
      code: `static int read_bvec(struct bio_vec *bv, char *buf)
{
	char *p = kmap_atomic(bv->bv_page);

	if (!p[bv->bv_offset]) {
		kunmap_atomic(bv->bv_page);
		return -EINVAL;
	}
	memcpy(buf, p + bv->bv_offset, bv->bv_len);
	kunmap_atomic(p);
	return 0;
}`,
      findings: [[6, "'bv->bv_page'"]],
    },
    {
      name: 'element of a page array in an unmap loop',
      code: `static void unmap_all(struct page **pages, void **ptrs, int n)
{
	int i;

	for (i = 0; i < n; i++)
		ptrs[i] = kmap_local_page(pages[i]);
	consume(ptrs, n);
	for (i = n - 1; i >= 0; i--)
		kunmap_local(pages[i]);
}`,
      findings: [[9, "'pages[i]'"]],
    },
    {
      name: 'page of a mapped folio',
      code: `static void wipe(struct folio *folio)
{
	void *addr = kmap_local_folio(folio, 0);

	clear_page(addr);
	kunmap_local(&folio->page);
}`,
      findings: [[6, "'&folio->page'"]],
    },
    {
      name: 'page local without a mapping in this function, decided by type',
      code: `static void drop(struct inode *inode, pgoff_t index)
{
	struct page *page = find_get_page(inode->i_mapping, index);

	kunmap_local(page);
	put_page(page);
}`,
      findings: [[5, 'declared \'struct page *\'']],
    },
  ],
});

describe('unmap-page fixes', () => {
  it('replaces the page with the variable holding the address', () => {
    const [f] = findingsFor(unmapPage, `static void z(struct page *page)\n{\n\tvoid *vaddr;\n\n\tvaddr = kmap_local_page(page);\n\tclear_page(vaddr);\n\tkunmap_local(page);\n}`);
    expect(f.fix?.edits).toEqual([{ startLine: 7, endLine: 7, replacement: '\tkunmap_local(vaddr);' }]);
    expect(f.trace.map((t) => t.line)).toEqual([5, 7]);
  });

  it('keeps the unmap function (kunmap_atomic) and only changes its argument', () => {
    const [f] = findingsFor(unmapPage, `static void z(struct page *pg)\n{\n\tvoid *v = kmap_atomic(pg);\n\tclear_page(v);\n\tkunmap_atomic(pg);\n}`);
    expect(f.fix?.edits[0].replacement).toBe('\tkunmap_atomic(v);');
  });

  it('offers no fix without a mapping, or when the address is in an array element', () => {
    expect(findingsFor(unmapPage, `static void d(struct page *page)\n{\n\tkunmap_local(page);\n}`)[0].fix).toBeNull();
    expect(findingsFor(unmapPage, `static void a(struct page **pages, void **v)\n{\n\tv[0] = kmap_local_page(pages[0]);\n\tkunmap_local(pages[0]);\n}`)[0].fix).toBeNull();
  });
});
