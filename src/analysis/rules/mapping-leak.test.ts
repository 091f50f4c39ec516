import { mappingLeak } from './mapping-leak.js';
import { findingsFor, ruleTester } from './testing.js';

ruleTester(mappingLeak, {
  valid: [
    {
      name: 'returns a pointer into the mapping: handed to the caller on that path, whatever the name',
      code: `static void *lookup_entry(struct page *page, int idx)
{
	void *kaddr = kmap_local_page(page);

	return kaddr + idx * ENTRY_SIZE;
}`,
    },
    {
      name: 'unmapped on every path through a common label',
      code: `static int read_hdr(struct page *page, struct hdr *out)
{
	void *kaddr = kmap_local_page(page);
	int ret = 0;

	if (!hdr_valid(kaddr)) {
		ret = -EINVAL;
		goto out;
	}
	memcpy(out, kaddr, sizeof(*out));
out:
	kunmap_local(kaddr);
	return ret;
}`,
    },
    {
      name: 'map helper returning the address',
      code: `static void *foo_map_page(struct foo *f, unsigned long n)
{
	struct page *p = foo_page(f, n);

	return kmap_local_page(p);
}`,
    },
    {
      name: 'map helper returning an alias, documented as such',
      code: `/*
 * Returns the entry, mapped: release it with kunmap_local().
 */
static struct dentry_blk *dent_block(struct page *page, unsigned int off)
{
	void *kaddr = kmap_local_page(page);

	return kaddr + off;
}`,
    },
    {
      name: 'NULL-initialised address mapped conditionally',
      code: `static void maybe_copy(struct page *p, int x, char *buf)
{
	void *addr = NULL;

	if (x)
		addr = kmap_local_page(p);
	if (addr)
		memcpy(buf, addr, 16);
	if (addr)
		kunmap_local(addr);
}`,
    },
    {
      name: 'loop that unmaps the previous page under if (kmapped_page)',
      code: `static int copy_args(struct bprm *bprm, int argc)
{
	struct page *kmapped_page = NULL;
	char *kaddr = NULL;
	int ret = 0;

	while (argc-- > 0) {
		struct page *page = get_arg_page(bprm, argc);

		if (!page) {
			ret = -E2BIG;
			goto out;
		}
		if (kmapped_page != page) {
			if (kmapped_page) {
				flush_dcache_page(kmapped_page);
				kunmap_local(kaddr);
				put_arg_page(kmapped_page);
			}
			kmapped_page = page;
			kaddr = kmap_local_page(kmapped_page);
		}
		fill(kaddr, argc);
	}
out:
	if (kmapped_page) {
		flush_dcache_page(kmapped_page);
		kunmap_local(kaddr);
		put_arg_page(kmapped_page);
	}
	return ret;
}`,
    },
    {
      name: 'pte_offset_map that can fail',
      code: `static int scan_ptes(struct mm_struct *mm, pmd_t *pmd, unsigned long addr, unsigned long end)
{
	spinlock_t *ptl;
	pte_t *start_pte, *pte;

	start_pte = pte = pte_offset_map_lock(mm, pmd, addr, &ptl);
	if (!pte)
		return 0;
	for (; addr != end; pte++, addr += PAGE_SIZE)
		if (pte_young(ptep_get(pte)))
			break;
	pte_unmap_unlock(start_pte, ptl);
	return 1;
}`,
    },
    {
      name: 'address stored into a struct is not a leak here',
      code: `static void cache_map(struct reloc_cache *cache, struct page *page)
{
	void *vaddr = kmap_local_page(page);

	cache->vaddr = (unsigned long)vaddr | KMAP;
}`,
    },
    {
      name: 'released by a same-file unmap helper',
      code: `static inline void dir_put_page(struct page *page, void *kaddr)
{
	kunmap_local(kaddr);
	put_page(page);
}

static int dir_check(struct page *page)
{
	void *kaddr = kmap_local_page(page);

	if (bad(kaddr)) {
		dir_put_page(page, kaddr);
		return -EIO;
	}
	dir_put_page(page, kaddr);
	return 0;
}`,
    },
    {
      name: 'a same-file helper returning a pointer into the mapping, stored for the caller: handed over',
      code: `static struct entry *entry_at(struct cache_array *array, int i)
{
	return &array->entries[i];
}

static int pick(struct folio *folio, struct readdir_desc *desc)
{
	struct cache_array *array = kmap_local_folio(folio, 0);

	desc->cur = entry_at(array, 0);
	if (fatal_signal_pending(current))
		return -EINTR;
	kunmap_local(array);
	return 0;
}`,
    },
    {
      name: 'folio_zero_tail returns the address to unmap',
      code: `static int read_folio_data(struct folio *folio, size_t n)
{
	void *buf = kmap_local_folio(folio, 0);

	n = fill(buf, n);
	buf = folio_zero_tail(folio, n, buf + n);
	kunmap_local(buf);
	return 0;
}`,
    },
    {
      name: 'BUG() path is not checked',
      code: `static void must_be_valid(struct page *page)
{
	void *kaddr = kmap_local_page(page);

	if (!valid(kaddr))
		BUG();
	kunmap_local(kaddr);
}`,
    },
  ],
  invalid: [
    {
      name: 'error path returns before the unmap',
      code: `static int read_hdr(struct page *page, struct hdr *out)
{
	void *kaddr = kmap_local_page(page);

	if (!hdr_valid(kaddr))
		return -EINVAL;
	memcpy(out, kaddr, sizeof(*out));
	kunmap_local(kaddr);
	return 0;
}`,
      findings: [[6, 'kaddr (mapped at line 3) is still mapped when this return leaves the function']],
    },
    {
      name: 'given to a kernel function that never unmaps (memcpy_from_bvec()), then not unmapped',
      code: `static void log_copy(struct bio_vec *bv, struct page *page)
{
	char *dst = kmap_local_page(page);

	memcpy_from_bvec(dst, bv);
	flush_dcache_page(page);
}`,
      findings: [[3, 'dst (mapped at line 3) is still mapped when the function ends']],
    },
    {
      name: 'the address folio_zero_tail() returns, not unmapped',
      code: `static int read_folio_data(struct folio *folio, size_t n)
{
	void *buf = kmap_local_folio(folio, 0);

	buf = folio_zero_tail(folio, n, buf + n);
	return 0;
}`,
      findings: [[6, 'buf (mapped at line 3) is still mapped when this return leaves the function']],
    },
    {
      name: 'given to a same-file helper that does nothing with it (no assignment, no return: replayed all the same)',
      code: `static void note_page(void *p)
{
	trace_page_seen();
}

static void scan(struct page *page)
{
	void *kaddr = kmap_local_page(page);

	note_page(kaddr);
}`,
      findings: [[8, 'kaddr (mapped at line 8) is still mapped when the function ends']],
    },
    {
      name: 'a value read through the address and stored for the caller is not the address',
      code: `static int get_word(struct page *page, unsigned long off, u32 *v)
{
	u32 *cpu = kmap_local_page(page) + offset_in_page(off);

	*v = *cpu;
	if (*v == POISON)
		return -EIO;
	kunmap_local(cpu);
	return 0;
}`,
      findings: [[7, 'cpu (mapped at line 3) is still mapped when this return leaves the function']],
    },
    {
      name: 'what a same-file helper computes from the address, stored for the caller, is not the address (its summary says so)',
      code: `static u64 last_cookie(struct cache_array *array)
{
	return array->entries[array->size - 1].cookie;
}

static int seek(struct folio *folio, struct readdir_desc *desc)
{
	struct cache_array *array = kmap_local_folio(folio, 0);

	desc->last_cookie = last_cookie(array);
	if (fatal_signal_pending(current))
		return -EINTR;
	kunmap_local(array);
	return 0;
}`,
      findings: [[12, 'array (mapped at line 8) is still mapped when this return leaves the function']],
    },
    {
      name: 'goto to a label past the unmap',
      code: `static int parse(struct page *page)
{
	char *p;
	int err = 0;

	p = kmap_local_page(page);
	if (p[0] != MAGIC) {
		err = -EINVAL;
		goto out;
	}
	err = parse_body(p);
	kunmap_local(p);
out:
	return err;
}`,
      findings: [[14, 'p (mapped at line 6)']],
    },
    {
      name: 'mapping overwritten in a loop: the earlier one is never unmapped',
      code: `static void sum_pages(struct page **pages, int n, u32 *sum)
{
	void *v = NULL;
	int i;

	for (i = 0; i < n; i++) {
		v = kmap_local_page(pages[i]);
		*sum += csum(v);
	}
	if (v)
		kunmap_local(v);
}`,
      findings: [[7, 'the mapping of kmap_local_page(pages[i]) (mapped at line 7) is still mapped when the function ends']],
    },
  ],
});

describe('mapping-leak evidence', () => {
  it('shows the branch that leads to the leaking return', () => {
    const [f] = findingsFor(mappingLeak, `static int f(struct page *page)
{
	void *kaddr = kmap_local_page(page);

	if (check(kaddr))
		return -EIO;
	kunmap_local(kaddr);
	return 0;
}`);
    expect(f.trace.map((t) => `${t.line}: ${t.note}`)).toEqual([
      '3: void *kaddr = kmap_local_page(page);',
      '5: if (check(kaddr)): taken',
      '6: return -EIO; (kaddr still mapped)',
    ]);
  });
});
