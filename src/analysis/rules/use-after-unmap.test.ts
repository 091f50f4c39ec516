import { useAfterUnmap } from './use-after-unmap.js';
import { ruleTester } from './testing.js';

ruleTester(useAfterUnmap, {
  valid: [
    {
      name: 'a difference of addresses returned after the unmap (the function returns no pointer)',
      code: `static long distance(struct page *page, const char *mark)
{
	char *p = kmap_local_page(page);

	fill(p);
	kunmap_local(p);
	return p - mark;
}`,
    },
    {
      name: 'all uses before the unmap',
      code: `static u16 read_len(struct page *page, unsigned int off)
{
	void *kaddr = kmap_local_page(page);
	struct hdr *hdr = kaddr + off;
	u16 len = le16_to_cpu(hdr->len);

	kunmap_local(kaddr);
	return len;
}`,
    },
    {
      name: 'comparing and reassigning after the unmap are not uses',
      code: `static void walk(struct page *page)
{
	char *kaddr = kmap_local_page(page);

	visit(kaddr);
	kunmap_local(kaddr);
	if (kaddr)
		kaddr = NULL;
	kaddr = other_buffer();
	visit(kaddr);
}`,
    },
    {
      name: 'remapped before the next use',
      code: `static void two(struct page *a, struct page *b)
{
	char *v = kmap_local_page(a);

	visit(v);
	kunmap_local(v);
	v = kmap_local_page(b);
	visit(v);
	kunmap_local(v);
}`,
    },
    {
      name: 'pointer advanced past its page and remapped (kmap_local_folio per page)',
      code: `static void fill_blocks(struct folio *folio, int nr)
{
	void *addr = kmap_local_folio(folio, 0);
	int i;

	for (i = 0; i < nr; i++) {
		fill(addr);
		addr += BLOCK_SIZE;
		if (offset_in_page(addr) == 0) {
			kunmap_local(addr - BLOCK_SIZE);
			addr = kmap_local_folio(folio, i * BLOCK_SIZE);
		}
	}
	kunmap_local(addr);
}`,
    },
  ],
  invalid: [
    {
      name: 'an address returned after its unmap',
      code: `static char *field_at(struct page *page, size_t off)
{
	char *p = kmap_local_page(page);

	fill(p);
	kunmap_local(p);
	return p + off;
}`,
      findings: [[7, 'p is returned after kunmap_local(p) at line 6']],
    },
    {
      name: 'use moved after the unmap',
      code: `static u16 read_len(struct page *page, unsigned int off)
{
	void *kaddr = kmap_local_page(page);
	struct hdr *hdr = kaddr + off;
	u16 len;

	kunmap_local(kaddr);
	len = le16_to_cpu(hdr->len);
	return len;
}`,
      findings: [[8, 'hdr is used after kunmap_local(kaddr) at line 7']],
    },
    {
      name: 'passed to a call after the unmap on the error path only',
      code: `static int copy_out(struct page *page, char *buf, int err)
{
	char *kaddr = kmap_local_page(page);

	if (err) {
		kunmap_local(kaddr);
		report_bad(kaddr);
		return err;
	}
	memcpy(buf, kaddr, 16);
	kunmap_local(kaddr);
	return 0;
}`,
      findings: [[7, 'kaddr is used after kunmap_local(kaddr) at line 6']],
    },
    {
      name: 'indexing after the unmap',
      code: `static void mark(struct page *page)
{
	u8 *bits = kmap_local_page(page);

	bits[0] |= 1;
	kunmap_local(bits);
	bits[1] |= 1;
}`,
      findings: [[7, 'bits is used after']],
    },
  ],
});
