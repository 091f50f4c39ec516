import { doubleUnmap } from './double-unmap.js';
import { ruleTester } from './testing.js';

ruleTester(doubleUnmap, {
  valid: [
    {
      name: "a parameter's field unmapped, mapped again by a callee given the parameter, unmapped again",
      code: `static int walk_done(struct hash_walk *walk, int err)
{
	kunmap_local(walk->data);
	if (err)
		return err;
	walk_next_page(walk);
	kunmap_local(walk->data);
	return 0;
}`,
    },
    {
      name: 'unmap on each branch once',
      code: `static int check(struct page *page)
{
	void *kaddr = kmap_local_page(page);

	if (bad(kaddr)) {
		kunmap_local(kaddr);
		return -EIO;
	}
	kunmap_local(kaddr);
	return 0;
}`,
    },
    {
      name: 'NULL after unmap, tested at the label',
      code: `static int scan(struct page *page)
{
	void *kaddr = kmap_local_page(page);
	int err;

	err = parse(kaddr);
	kunmap_local(kaddr);
	kaddr = NULL;
	if (err)
		goto out;
	err = more_work();
out:
	if (kaddr)
		kunmap_local(kaddr);
	return err;
}`,
    },
    {
      name: 'remapped in each loop iteration',
      code: `static void walk(struct page **pages, int n)
{
	int i;

	for (i = 0; i < n; i++) {
		void *v = kmap_local_page(pages[i]);

		visit(v);
		kunmap_local(v);
	}
}`,
    },
    {
      name: 'unmap of an address mapped by the caller',
      code: `static void put_entry(struct page *page, void *kaddr)
{
	kunmap_local(kaddr);
	put_page(page);
}`,
    },
  ],
  invalid: [
    {
      name: 'unmapped before the goto and again at the label',
      code: `static int scan(struct page *page)
{
	void *kaddr = kmap_local_page(page);
	int err;

	err = parse(kaddr);
	kunmap_local(kaddr);
	if (err)
		goto out;
	err = more_work();
	return err;
out:
	kunmap_local(kaddr);
	return err;
}`,
      findings: [[13, 'kaddr is unmapped a second time on this path (first by kunmap_local(kaddr) at line 7)']],
    },
    {
      name: 'duplicated unmap left by a conversion',
      code: `static void zero_page_tail(struct page *page, unsigned int off)
{
	char *addr = kmap_local_page(page);

	memset(addr + off, 0, PAGE_SIZE - off);
	kunmap_local(addr);
	flush_dcache_page(page);
	kunmap_local(addr);
}`,
      findings: [[8, 'a second time']],
    },
    {
      name: 'second unmap through an alias',
      code: `static void fill(struct page *page, unsigned int off)
{
	char *base = kmap_local_page(page);
	char *p = base + off;

	*p = 1;
	kunmap_local(base);
	kunmap_local(p);
}`,
      findings: [[8, 'p is unmapped a second time']],
    },
    {
      name: 'the address folio_zero_tail() returned, unmapped twice',
      code: `static int read_folio_data(struct folio *folio)
{
	void *buf = kmap_local_folio(folio, 0);
	size_t n = fill(buf);

	buf = folio_zero_tail(folio, n, buf + n);
	kunmap_local(buf);
	kunmap_local(buf);
	return 0;
}`,
      findings: [[8, 'buf is unmapped a second time']],
    },
    {
      name: "a parameter's field, mapped by the caller, unmapped twice",
      code: `static int walk_done(struct hash_walk *walk, int err)
{
	walk->data -= walk->offset;
	kunmap_local(walk->data);
	kunmap_local(walk->data);
	return err;
}`,
      findings: [[5, 'walk->data is unmapped a second time']],
    },
  ],
});
