/**
 * Correct kernel-style mapping code that every rule must stay silent on: the shapes real conversions use
 * (re-mapping loops under a flag, getters that hand the mapping to their caller, error labels that unwind
 * in LIFO order, arrays unmapped in reverse, helpers that map and unmap for their callers). A rule that
 * starts speaking here is wrong, whatever it finds elsewhere.
 */
import { KmapApi } from '../kmap-api.js';
import { allRules } from '../rules/index.js';
import { checkFunction } from '../rules/runner.js';
import { locateFunctions } from '../source/functions.js';
import { initParser } from '../syntax/parser.js';

beforeAll(initParser);

export const VALID_CORPUS: Array<{ name: string; code: string }> = [
  {
    name: 'a loop that re-maps only when it moves to another page, unmapping the previous one under a flag',
    code: `static int copy_strings(struct task *t, int argc)
{
	struct page *cur = NULL;
	char *kaddr = NULL;
	int ret = 0;

	while (argc-- > 0) {
		struct page *page = arg_page(t, argc);

		if (!page) {
			ret = -E2BIG;
			goto out;
		}
		if (cur != page) {
			if (cur) {
				flush_dcache_page(cur);
				kunmap_local(kaddr);
				put_arg_page(cur);
			}
			cur = page;
			kaddr = kmap_local_page(cur);
		}
		memcpy(kaddr + argc, "x", 1);
	}
out:
	if (cur) {
		flush_dcache_page(cur);
		kunmap_local(kaddr);
		put_arg_page(cur);
	}
	return ret;
}`,
  },
  {
    name: 'a getter that returns the mapping, and the caller that unmaps it',
    code: `static void *dir_get_page(struct inode *dir, unsigned long n, struct page **p)
{
	struct page *page = read_mapping_page(dir->i_mapping, n, NULL);

	if (IS_ERR(page))
		return ERR_CAST(page);
	*p = page;
	return kmap_local_page(page);
}

static void dir_put_page(struct page *page, void *kaddr)
{
	kunmap_local(kaddr);
	put_page(page);
}

static int dir_is_empty(struct inode *dir)
{
	struct page *page;
	char *kaddr = dir_get_page(dir, 0, &page);
	int empty;

	if (IS_ERR(kaddr))
		return 0;
	empty = kaddr[0] == 0;
	dir_put_page(page, kaddr);
	return empty;
}`,
  },
  {
    name: 'error labels that unwind two mappings in LIFO order',
    code: `static int move_entry(struct page *src, struct page *dst, int len)
{
	char *s, *d;
	int err = 0;

	s = kmap_local_page(src);
	if (!valid(s)) {
		err = -EINVAL;
		goto out_src;
	}
	d = kmap_local_page(dst);
	if (len > PAGE_SIZE) {
		err = -E2BIG;
		goto out_dst;
	}
	memcpy(d, s, len);
out_dst:
	kunmap_local(d);
out_src:
	kunmap_local(s);
	return err;
}`,
  },
  {
    name: 'an array of mappings unmapped from the last element down',
    code: `static void xor_stripes(struct page **pages, size_t len)
{
	void *ptrs[4];
	int i;

	for (i = 0; i < 4; i++)
		ptrs[i] = kmap_local_page(pages[i]);
	xor_blocks(3, len, ptrs[0], ptrs + 1);
	for (i = 3; i >= 0; i--)
		kunmap_local(ptrs[i]);
}`,
  },
  {
    name: 'a partly mapped array unwound with while (--i >= 0)',
    code: `static int map_all(struct page **pages, void **ptrs)
{
	int i;

	for (i = 0; i < 8; i++) {
		ptrs[i] = kmap_local_page(pages[i]);
		if (check(ptrs[i]))
			goto undo;
	}
	return 0;
undo:
	while (--i >= 0)
		kunmap_local(ptrs[i]);
	return -EIO;
}`,
  },
  {
    name: 'kunmap_local() of an address inside the page, and of the base after a bounded cursor',
    code: `static void fill_header(struct page *p, unsigned int off, const struct hdr *h)
{
	char *base = kmap_local_page(p);
	char *pos = base + offset_in_page(off);

	memcpy(pos, h, sizeof(*h));
	kunmap_local(pos);
}`,
  },
  {
    name: 'a copy loop that maps each page in turn',
    code: `static void copy_pages(struct page **pages, char *buf, size_t len)
{
	size_t done = 0;
	int i = 0;

	while (done < len) {
		size_t n = min_t(size_t, len - done, PAGE_SIZE);
		char *src = kmap_local_page(pages[i++]);

		memcpy(buf + done, src, n);
		kunmap_local(src);
		done += n;
	}
}`,
  },
  {
    name: 'NULL after the unmap, tested at the label',
    code: `static int parse(struct page *page)
{
	void *kaddr = kmap_local_page(page);
	int err = check_hdr(kaddr);

	if (err)
		goto out;
	kunmap_local(kaddr);
	kaddr = NULL;
	err = finish(page);
out:
	if (kaddr)
		kunmap_local(kaddr);
	return err;
}`,
  },
  {
    name: 'pte_offset_map_lock nested inside a local mapping, released first',
    code: `static int copy_pte(struct mm_struct *mm, pmd_t *pmd, unsigned long addr, struct page *page)
{
	spinlock_t *ptl;
	void *kaddr = kmap_local_page(page);
	pte_t *pte = pte_offset_map_lock(mm, pmd, addr, &ptl);

	if (!pte) {
		kunmap_local(kaddr);
		return -EAGAIN;
	}
	memcpy(kaddr, pte, sizeof(*pte));
	pte_unmap_unlock(pte, ptl);
	kunmap_local(kaddr);
	return 0;
}`,
  },
  {
    name: 'kmap_atomic() pairs nested in order, with the page released by kunmap() elsewhere untouched',
    code: `static void copy_high(struct page *to, struct page *from)
{
	char *vfrom = kmap_atomic(from);
	char *vto = kmap_atomic(to);

	copy_page(vto, vfrom);
	kunmap_atomic(vto);
	kunmap_atomic(vfrom);
}`,
  },
  {
    name: 'kmap_local_folio() of a large folio walked page by page',
    code: `static void zero_folio(struct folio *folio, size_t len)
{
	size_t off = 0;

	while (off < len) {
		size_t n = min_t(size_t, len - off, PAGE_SIZE - offset_in_page(off));
		char *p = kmap_local_folio(folio, off);

		memset(p, 0, n);
		kunmap_local(p);
		off += n;
	}
}`,
  },
];

describe('every rule stays silent on correct mapping code', () => {
  const api = new KmapApi();
  it.each(VALID_CORPUS.map((c) => [c.name, c] as const))('%s', (_n, c) => {
    const fns = locateFunctions(c.code);
    const fileFunctions = new Map(fns.map((f) => [f.name, f]));
    const rules = allRules.filter((r) => r.meta.id !== 'deprecated-api' && r.meta.id !== 'use-helper').map((rule) => ({ rule, severity: rule.meta.severity }));
    const found = fns.flatMap((fn) => checkFunction(fn, { path: 'fs/demo/valid.c', source: c.code, image: 'pre', isChanged: () => true, api, rules, fileFunctions }));
    expect(found.map((f) => `${f.rule}@${f.line}: ${f.message}`)).toEqual([]);
  });
});
