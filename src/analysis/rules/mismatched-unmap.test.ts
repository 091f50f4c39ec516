import { mismatchedUnmap } from './mismatched-unmap.js';
import { findingsFor, ruleTester } from './testing.js';

ruleTester(mismatchedUnmap, {
  valid: [
    {
      name: 'local map released by kunmap_local of the address plus offset',
      code: `static void fill_tail(struct page *page, unsigned int off, const void *buf, size_t len)
{
	char *dst = kmap_local_page(page) + off;

	memcpy(dst, buf, len);
	kunmap_local(dst);
}`,
    },
    {
      name: 'the name trap: a local called page holds the address',
      code: `static bool bitmap_is_zero(struct folio *folio)
{
	unsigned long *page;
	bool ret;

	page = kmap_local_folio(folio, 0);
	ret = bitmap_empty(page, PAGE_SIZE * BITS_PER_BYTE);
	kunmap_local(page);
	return ret;
}`,
    },
    {
      name: 'kmap with kunmap of the page, and kmap_atomic with kunmap_atomic',
      code: `static int legacy_copy(struct page *dst, struct page *src)
{
	void *d = kmap(dst);
	void *s = kmap_atomic(src);

	memcpy(d, s, PAGE_SIZE);
	kunmap_atomic(s);
	kunmap(dst);
	return 0;
}`,
    },
    {
      name: 'array of local mappings released in reverse on the error path',
      code: `static int gen_parity(struct page **pages, void **ptrs, int nr)
{
	int i, ret = 0;

	for (i = 0; i < nr; i++)
		ptrs[i] = kmap_local_page(pages[i]);
	ret = xor_blocks_checked(nr, ptrs);
	if (ret)
		goto out;
	ret = verify(ptrs, nr);
out:
	for (i = nr - 1; i >= 0; i--)
		kunmap_local(ptrs[i]);
	return ret;
}`,
    },
    {
      name: 'kunmap of a page mapped by the caller, after the local map was released',
      code: `static int checksum_block(struct page *page, u32 *csum)
{
	void *kaddr = kmap_local_page(page);

	*csum = crc32c(0, kaddr, PAGE_SIZE);
	kunmap_local(kaddr);
	kunmap(page);
	return 0;
}`,
    },
    {
      name: 'conditional map of either kind released by the matching unmap',
      code: `static void copy_one(struct page *page, void *buf, bool atomic)
{
	void *v;

	if (atomic)
		v = kmap_atomic(page);
	else
		v = kmap_local_page(page);
	memcpy(buf, v, PAGE_SIZE);
	if (atomic)
		kunmap_atomic(v);
	else
		kunmap_local(v);
}`,
    },
    {
      name: 'variable reused for an atomic and then a local mapping',
      code: `static void two_pages(struct page *a, struct page *b, char *out)
{
	char *v;

	v = kmap_atomic(a);
	out[0] = v[0];
	kunmap_atomic(v);
	v = kmap_local_page(b);
	out[1] = v[0];
	kunmap_local(v);
}`,
    },
  ],
  invalid: [
    {
      name: 'the cifs bug: local map with offset, released with kunmap of the page',
      code: `static void copy_pages_data(struct page *new_page, struct page *old_page, unsigned int off, size_t len)
{
	char *dst, *src;

	dst = kmap_local_page(new_page) + off;
	src = kmap_local_page(old_page) + off;
	memcpy(dst, src, len);
	kunmap(new_page);
	kunmap(old_page);
}`,
      findings: [[8, 'kunmap(new_page) releases a kmap_local_page() mapping (line 5): it needs kunmap_local(dst)'], [9, 'kunmap_local(src)']],
    },
    {
      name: 'half-converted pair: local map, atomic unmap',
      code: `static void zero_range(struct page *page, unsigned int from, unsigned int to)
{
	void *kaddr = kmap_local_page(page);

	memset(kaddr + from, 0, to - from);
	kunmap_atomic(kaddr);
}`,
      findings: [[6, 'kunmap_atomic(kaddr) releases a kmap_local_page() mapping (line 3): it needs kunmap_local(kaddr)']],
    },
    {
      name: 'half-converted pair: atomic map, local unmap on an error path',
      code: `static int parse_header(struct page *page, struct hdr *out)
{
	struct hdr *h = kmap_atomic(page);
	int ret = 0;

	if (h->magic != HDR_MAGIC) {
		ret = -EINVAL;
		goto out;
	}
	*out = *h;
out:
	kunmap_local(h);
	return ret;
}`,
      findings: [[12, 'kunmap_local(h) releases a kmap_atomic() mapping (line 3): it needs kunmap_atomic(h)']],
    },
    {
      name: 'kmap released with kunmap_local of the address',
      code: `static int read_symlink(struct inode *inode, struct page *page, char *buf)
{
	char *link = kmap(page);

	strscpy(buf, link, PAGE_SIZE);
	kunmap_local(link);
	return 0;
}`,
      findings: [[6, 'kunmap_local(link) releases a kmap() mapping (line 3): it needs kunmap(page)']],
    },
    {
      name: 'kmap released with kunmap_atomic of the page',
      code: `static void touch(struct page *page)
{
	u8 *p = kmap(page);

	p[0] ^= 1;
	kunmap_atomic(page);
}`,
      findings: [[6, 'kunmap(page)']],
    },
    {
      name: 'local folio mapping released with kunmap of the address variable',
      code: `static void fill_folio(struct folio *folio, size_t off, const char *src, size_t len)
{
	char *to = kmap_local_folio(folio, off);

	memcpy(to, src, len);
	kunmap(to);
}`,
      findings: [[6, 'kunmap(to) releases a kmap_local_folio() mapping (line 3): it needs kunmap_local(to)']],
    },
    {
      name: 'array elements mapped locally and released atomically in a loop',
      code: `static void xor_pages(struct page **pages, void **ptrs, int n)
{
	int i;

	for (i = 0; i < n; i++)
		ptrs[i] = kmap_local_page(pages[i]);
	xor_blocks(n - 1, PAGE_SIZE, ptrs[0], ptrs + 1);
	for (i = n - 1; i >= 0; i--)
		kunmap_atomic(ptrs[i]);
}`,
      findings: [[9, 'kunmap_atomic(ptrs[i]) releases a kmap_local_page() mapping (line 6): it needs kunmap_local(ptrs[i])']],
    },
    {
      name: 'cast destination and a kunmap inside a loop body',
      code: `static int scan_blocks(struct page **pages, int nr)
{
	int i;

	for (i = 0; i < nr; i++) {
		struct blk_hdr *hdr = (struct blk_hdr *)kmap_local_page(pages[i]);

		if (!valid_hdr(hdr)) {
			kunmap(pages[i]);
			return -EIO;
		}
		kunmap_local(hdr);
	}
	return 0;
}`,
      findings: [[9, 'kunmap_local(hdr)']],
    },
  ],
});

describe('mismatched-unmap fixes', () => {
  const fixesOf = (code: string) => findingsFor(mismatchedUnmap, code).map((f) => f.fix?.edits ?? null);

  it('kunmap(page) after kmap_local_page() + offset becomes kunmap_local(<the address variable>)', () => {
    expect(fixesOf(`static void c(struct page *p, unsigned int off, const void *b, size_t n)
{
	char *dst;

	dst = kmap_local_page(p) + off;
	memcpy(dst, b, n);
	kunmap(p);
}`)).toEqual([[{ startLine: 7, endLine: 7, replacement: '\tkunmap_local(dst);' }]]);
  });

  it('kunmap_atomic(v) of a local mapping becomes kunmap_local(v), keeping the rest of the line', () => {
    expect(fixesOf(`static void z(struct page *pg, bool x)
{
	void *v = kmap_local_page(pg);
	clear_page(v);
	if (x) kunmap_atomic(v); else kunmap_local(v);
}`)).toEqual([[{ startLine: 5, endLine: 5, replacement: '\tif (x) kunmap_local(v); else kunmap_local(v);' }]]);
  });

  it('kunmap_local(v) of a kmap() becomes kunmap(page)', () => {
    expect(fixesOf(`static void k(struct page *page)\n{\n\tchar *v = kmap(page);\n\tv[0] = 0;\n\tkunmap_local(v);\n}`)).toEqual([
      [{ startLine: 5, endLine: 5, replacement: '\tkunmap(page);' }],
    ]);
  });

  it('offers no fix when the address variable moved, or is an array element', () => {
    expect(fixesOf(`static void m(struct page *p, const char *b, size_t n)
{
	char *dst = kmap_local_page(p);
	memcpy(dst, b, n);
	dst += n;
	kunmap(p);
}`)).toEqual([null]);
    expect(fixesOf(`static void a(struct page **pages, void **ptrs)\n{\n\tptrs[0] = kmap_local_page(pages[0]);\n\tkunmap_atomic(ptrs[0]);\n}`)).toEqual([null]);
  });

  it('traces the map line and the unmap line', () => {
    const [f] = findingsFor(mismatchedUnmap, `static void t(struct page *p)\n{\n\tvoid *v = kmap_local_page(p);\n\tclear_page(v);\n\tkunmap(p);\n}`);
    expect(f.trace.map((t) => [t.line, t.note])).toEqual([[3, 'void *v = kmap_local_page(p);'], [5, 'kunmap(p) (the unmap of another API)']]);
  });
});
