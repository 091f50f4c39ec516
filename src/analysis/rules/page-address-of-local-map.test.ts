import { pageAddressOfLocalMap } from './page-address-of-local-map.js';
import { findingsFor, ruleTester } from './testing.js';

ruleTester(pageAddressOfLocalMap, {
  valid: [
    {
      name: 'page_address() after the unmap',
      code: `static void *dir_base(struct page *page, unsigned int chunk)
{
	void *kaddr = kmap_local_page(page);

	memset(kaddr, 0, chunk);
	kunmap_local(kaddr);
	return page_address(page);
}`,
    },
    {
      name: 'page_address() of a kmap() mapping (a permanent address)',
      code: `static int check_dir(struct page *page)
{
	char *kaddr = kmap(page);
	struct dirent *de = (struct dirent *)page_address(page);

	kunmap(page);
	return de->inode != 0;
}`,
    },
    {
      name: 'the other arm of a conditional',
      code: `static void *map_any(struct page *page, bool high)
{
	void *addr;

	if (high)
		addr = kmap_local_page(page);
	else
		addr = page_address(page);
	return addr;
}`,
    },
    {
      name: 'the page variable was advanced to another page',
      code: `static void walk(struct page *page, int n)
{
	void *kaddr = kmap_local_page(page);

	scan(kaddr);
	page = nth_page(page, n);
	record(page_address(page));
	kunmap_local(kaddr);
}`,
    },
    {
      name: 'the mapping branch jumps away before the page_address() path',
      code: `static int decompress(struct req *rq)
{
	void *dst;
	int ret;

	if (rq->fast) {
		dst = kmap_local_page(*rq->out);
		goto out;
	}
	ret = prepare(rq);
	if (ret > 0)
		dst = page_address(*rq->out);
	else
		return ret;
out:
	ret = run(rq, dst);
	kunmap_local(dst);
	return ret;
}`,
    },
    {
      name: 'KMSAN hook and a highmem test',
      code: `static void copy_user_pg(struct page *to, struct page *from)
{
	char *vfrom, *vto;

	vfrom = kmap_local_page(from);
	vto = kmap_local_page(to);
	copy_page(vto, vfrom);
	kmsan_unpoison_memory(page_address(to), PAGE_SIZE);
	if (!PageHighMem(from))
		prefetch(page_address(from));
	kunmap_local(vto);
	kunmap_local(vfrom);
}`,
    },
  ],
  invalid: [
    {
      name: 'the ext2 oops: page_address() inside the kmap_local_page() section',
      code: `static int dir_check(struct page *page, unsigned int offs)
{
	char *kaddr = kmap_local_page(page);
	struct ext2_dir_entry_2 *de;

	de = (struct ext2_dir_entry_2 *)(page_address(page) + offs);
	if (!de->rec_len)
		goto fail;
	kunmap_local(kaddr);
	return 0;
fail:
	kunmap_local(kaddr);
	return -EIO;
}`,
      findings: [[6, "page_address(page) while 'kaddr' = kmap_local_page(page) (line 3) maps it"]],
    },
    {
      name: 'folio_address() of a mapped folio',
      code: `static void fill(struct folio *folio, const char *src)
{
	void *addr = kmap_local_folio(folio, 0);

	strscpy(folio_address(folio), src, PAGE_SIZE);
	kunmap_local(addr);
}`,
      findings: [[5, 'folio_address(folio)']],
    },
    {
      name: 'no unmap: to the end of the function',
      code: `static char *get_page_addr(struct page *page, void **out)
{
	*out = kmap_local_page(page);
	return page_address(page);
}`,
      findings: [[4, "'*out' = kmap_local_page(page)"]],
    },
    {
      name: 'inside a loop over an array of pages',
      code: `static void sum_pages(struct page **pages, int n, u32 *sum)
{
	int i;

	for (i = 0; i < n; i++) {
		u8 *p = kmap_local_page(pages[i]);

		*sum = crc32(*sum, page_address(pages[i]), PAGE_SIZE);
		kunmap_local(p);
	}
}`,
      findings: [[8, 'page_address(pages[i])']],
    },
    {
      name: 'two uses in one section',
      code: `static void link_entry(struct page *page, unsigned int from, unsigned int to)
{
	void *kaddr = kmap_local_page(page);

	memmove(page_address(page) + to, kaddr + from, 64);
	set_hdr(page_address(page));
	kunmap_local(kaddr);
}`,
      findings: [[5, 'page_address(page)'], [6, 'page_address(page)']],
    },
  ],
});

describe('page-address-of-local-map fixes', () => {
  it('replaces page_address(page) with a void * address variable', () => {
    const [f] = findingsFor(pageAddressOfLocalMap, `static void f(struct page *page)\n{\n\tvoid *kaddr = kmap_local_page(page);\n\tuse(page_address(page) + 8);\n\tkunmap_local(kaddr);\n}`);
    expect(f.fix?.edits).toEqual([{ startLine: 4, endLine: 4, replacement: '\tuse(kaddr + 8);' }]);
    expect(f.trace.map((t) => t.line)).toEqual([3, 4, 5]);
  });

  it('replaces a cast call whatever the variable type', () => {
    const [f] = findingsFor(pageAddressOfLocalMap, `static void f(struct page *page)\n{\n\tchar *kaddr = kmap_local_page(page);\n\tstruct hdr *h = (struct hdr *)page_address(page);\n\th->n = 0;\n\tkunmap_local(kaddr);\n}`);
    expect(f.fix?.edits[0].replacement).toBe('\tstruct hdr *h = (struct hdr *)kaddr;');
  });

  it('offers no fix with an offset mapping, a non-void variable type in arithmetic, or a moved variable', () => {
    const fix = (code: string) => findingsFor(pageAddressOfLocalMap, code)[0].fix;
    expect(fix(`static void f(struct page *p, int o)\n{\n\tvoid *k = kmap_local_page(p) + o;\n\tuse(page_address(p));\n\tkunmap_local(k);\n}`)).toBeNull();
    expect(fix(`static void f(struct page *p)\n{\n\tu32 *k = kmap_local_page(p);\n\tuse(page_address(p) + 8);\n\tkunmap_local(k);\n}`)).toBeNull();
    expect(fix(`static void f(struct page *p)\n{\n\tvoid *k = kmap_local_page(p);\n\tk += 8;\n\tuse(page_address(p));\n\tkunmap_local(k);\n}`)).toBeNull();
    expect(fix(`static void f(struct folio *f)\n{\n\tvoid *k = kmap_local_folio(f, 64);\n\tuse(folio_address(f));\n\tkunmap_local(k);\n}`)).toBeNull();
  });
});
