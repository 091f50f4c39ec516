import { unmapOrder } from './unmap-order.js';
import { findingsFor, ruleTester } from './testing.js';

ruleTester(unmapOrder, {
  valid: [
    {
      name: 'LIFO nesting',
      code: `static void copy_pages(struct page *to, struct page *from)
{
	void *vfrom = kmap_local_page(from);
	void *vto = kmap_local_page(to);

	copy_page(vto, vfrom);
	kunmap_local(vto);
	kunmap_local(vfrom);
}`,
    },
    {
      name: 'goto error unwinding in reverse order',
      code: `static int cmp_blocks(struct page *a, struct page *b)
{
	void *va, *vb;
	int err = 0;

	va = kmap_local_page(a);
	if (!valid_hdr(va)) {
		err = -EINVAL;
		goto out;
	}
	vb = kmap_local_page(b);
	if (memcmp(va, vb, PAGE_SIZE)) {
		err = -EIO;
		goto out_b;
	}
	touch(vb);
out_b:
	kunmap_local(vb);
out:
	kunmap_local(va);
	return err;
}`,
    },
    {
      name: 'reverse array unmap loop (btrfs raid56 style)',
      code: `static void gen_parity(struct page **pages, void **ptrs, int nr)
{
	int i;

	for (i = 0; i < nr; i++)
		ptrs[i] = kmap_local_page(pages[i]);
	xor_gen(nr, ptrs);
	for (i = nr - 1; i >= 0; i--)
		kunmap_local(ptrs[i]);
}`,
    },
    {
      name: 'unwinding a partly mapped array with while (--i >= 0)',
      code: `static int map_all(struct page **pages, void **ptrs, int nr)
{
	int i;

	for (i = 0; i < nr; i++) {
		ptrs[i] = kmap_local_page(pages[i]);
		if (check(ptrs[i]))
			goto unwind;
	}
	use_all(ptrs, nr);
	i = nr;
unwind:
	while (--i >= 0)
		kunmap_local(ptrs[i]);
	return 0;
}`,
    },
    {
      name: 'kunmap_local on an alias with an offset',
      code: `static void fill(struct page *page, unsigned int off, const void *src, size_t len)
{
	char *base = kmap_local_page(page);
	char *dst = base + off;
	char *hdr = kmap_local_page(hdr_page);

	memcpy(dst, src, len);
	kunmap_local(hdr);
	kunmap_local(dst - off + 8);
}`,
    },
    {
      name: 'pte_offset_map_lock nested with kmap_local',
      code: `static int copy_into_pte_page(struct mm_struct *mm, pmd_t *pmd, unsigned long addr, struct page *page)
{
	spinlock_t *ptl;
	pte_t *pte;
	void *kaddr;

	pte = pte_offset_map_lock(mm, pmd, addr, &ptl);
	if (!pte)
		return -EAGAIN;
	kaddr = kmap_local_page(page);
	fill_from_pte(kaddr, ptep_get(pte));
	kunmap_local(kaddr);
	pte_unmap_unlock(pte, ptl);
	return 0;
}`,
    },
    {
      name: 'conditional mapping with a flag, unmapped under the same flag',
      code: `static void zero_range(struct page *page, bool highmem, size_t len)
{
	void *addr;
	bool mapped = false;
	void *tmp = kmap_local_page(scratch);

	if (highmem) {
		addr = kmap_local_page(page);
		mapped = true;
	} else {
		addr = page_address(page);
	}
	memset(addr, 0, len);
	if (mapped)
		kunmap_local(addr);
	kunmap_local(tmp);
}`,
    },
  ],
  invalid: [
    {
      name: 'swapped unmaps (LoongArch copy_user_highpage shape)',
      code: `static void copy_user_page_pair(struct page *to, struct page *from)
{
	void *vfrom, *vto;

	vfrom = kmap_local_page(from);
	vto = kmap_local_page(to);
	copy_page(vto, vfrom);
	kunmap_local(vfrom);
	kunmap_local(vto);
}`,
      findings: [[8, 'kunmap_local(vfrom) releases vfrom while vto (mapped later, at line 6) is still mapped']],
    },
    {
      name: 'forward unmap loop over a mapped array',
      code: `static void gen_parity(struct page **pages, void **ptrs, int nr)
{
	int i;

	for (i = 0; i < nr; i++)
		ptrs[i] = kmap_local_page(pages[i]);
	xor_gen(nr, ptrs);
	for (i = 0; i < nr; i++)
		kunmap_local(ptrs[i]);
}`,
      findings: [[9, 'in the order the loop at line 6 mapped it']],
    },
    {
      name: 'error label unwinds in mapping order',
      code: `static int check_pair(struct page *a, struct page *b)
{
	void *va = kmap_local_page(a);
	void *vb = kmap_local_page(b);
	int err = 0;

	if (memcmp(va, vb, 64))
		err = -EIO;
	kunmap_local(va);
	kunmap_local(vb);
	return err;
}`,
      findings: [[9, 'while vb']],
    },
    {
      name: 'kunmap_local after pte_unmap_unlock is fine, but pte unmapped under kmap is not',
      code: `static void bad_nest(struct mm_struct *mm, pmd_t *pmd, unsigned long addr, struct page *page)
{
	spinlock_t *ptl;
	pte_t *pte = pte_offset_map_lock(mm, pmd, addr, &ptl);
	void *kaddr;

	if (!pte)
		return;
	kaddr = kmap_local_page(page);
	fill_from_pte(kaddr, ptep_get(pte));
	pte_unmap_unlock(pte, ptl);
	kunmap_local(kaddr);
}`,
      findings: [[11, 'pte_unmap_unlock(pte, ptl) releases pte']],
    },
    {
      name: 'unmap order error only on one branch',
      code: `static void maybe_swap(struct page *a, struct page *b, int mode)
{
	void *x = kmap_local_page(a);
	void *y = kmap_local_page(b);

	work(x, y);
	if (mode) {
		kunmap_local(x);
		kunmap_local(y);
		return;
	}
	kunmap_local(y);
	kunmap_local(x);
}`,
      findings: [[8, 'while y']],
    },
  ],
});

describe('unmap-order evidence', () => {
  it('carries the path as a trace and keys the fingerprint on variable names', () => {
    const [f] = findingsFor(unmapOrder, `static void c(struct page *to, struct page *from)
{
	void *vfrom = kmap_local_page(from);
	void *vto = kmap_local_page(to);
	kunmap_local(vfrom);
	kunmap_local(vto);
}`);
    expect(f.trace.map((t) => `${t.line}: ${t.note}`)).toEqual([
      '3: void *vfrom = kmap_local_page(from);',
      '4: void *vto = kmap_local_page(to);',
      '5: kunmap_local(vfrom) (vto is on top)',
    ]);
  });

  it('keeps the fingerprint when lines shift', () => {
    const code = `static void c(struct page *to, struct page *from)
{
	void *vfrom = kmap_local_page(from);
	void *vto = kmap_local_page(to);
	kunmap_local(vfrom);
	kunmap_local(vto);
}`;
    const a = findingsFor(unmapOrder, code);
    const b = findingsFor(unmapOrder, code.replace('{\n', '{\n\tint unused;\n\n'));
    expect(b[0].line).toBe(a[0].line + 2);
    expect(b[0].fingerprint).toBe(a[0].fingerprint);
  });

  it('is a cleanup warning with a note on an architecture without HIGHMEM', () => {
    const code = `static void c(struct page *to, struct page *from)
{
	void *vfrom = kmap_local_page(from);
	void *vto = kmap_local_page(to);
	kunmap_local(vfrom);
	kunmap_local(vto);
}`;
    const [f] = findingsFor(unmapOrder, code, undefined, 'arch/loongarch/mm/init.c');
    expect(f.severity).toBe('warning');
    expect(f.note).toContain('loongarch has no HIGHMEM');
    const [g] = findingsFor(unmapOrder, code, undefined, 'arch/x86/mm/init.c');
    expect(g.severity).toBe('error');
    expect(g.note).toBeUndefined();
  });
});

describe('unmap-order across a conversion', () => {
  it('gives the kmap_atomic pre-image and the kmap_local post-image the same fingerprint', () => {
    const pre = `static void c(struct page *to, struct page *from)
{
	void *vfrom = kmap_atomic(from);
	void *vto = kmap_atomic(to);
	copy_page(vto, vfrom);
	kunmap_atomic(vfrom);
	kunmap_atomic(vto);
}`;
    const post = pre.replace(/kmap_atomic/g, 'kmap_local_page').replace(/kunmap_atomic/g, 'kunmap_local');
    const [a] = findingsFor(unmapOrder, pre);
    const [b] = findingsFor(unmapOrder, post);
    expect(a.fingerprint).toBe(b.fingerprint);
    expect(b.trace.map((t) => t.note)).toEqual(['void *vfrom = kmap_local_page(from);', 'void *vto = kmap_local_page(to);', 'kunmap_local(vfrom) (vto is on top)']);
  });
});
