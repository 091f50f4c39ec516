import { lostPagefaultDisable } from './lost-pagefault-disable.js';
import { conversionTester, findingsFor, findingsForConversion } from './testing.js';
import { initParser } from '../syntax/parser.js';

/** Like mm/memory.c's PFN-mapping copy: an atomic user copy, part of it under the page-table lock. */
const wpCopy = (map: string, disable: string, enable: string, unmap: string) => `static int pfn_copy_user(struct page *dst, struct fault_ctx *fc)
{
	int ret = 0;
	void *kaddr;
	void __user *uaddr = (void __user *)(fc->address & PAGE_MASK);
	bool locked = false;

	kaddr = ${map}(dst);${disable}
	if (!hw_young(fc)) {
		fc->pte = pte_offset_map_lock(fc->mm, fc->pmd, fc->address, &fc->ptl);
		locked = true;
	}
	if (__copy_from_user_inatomic(kaddr, uaddr, PAGE_SIZE)) {
		if (locked)
			goto warn;
		fc->pte = pte_offset_map_lock(fc->mm, fc->pmd, fc->address, &fc->ptl);
		locked = true;
		if (__copy_from_user_inatomic(kaddr, uaddr, PAGE_SIZE)) {
warn:
			clear_page(kaddr);
		}
	}
	if (locked)
		pte_unmap_unlock(fc->pte, fc->ptl);${enable}
	${unmap}(kaddr);
	return ret;
}`;

/** Like a GPU driver's pwrite fast path: try an atomic copy, fall back to a sleeping one. */
const pwrite = (map: string, disable: string, enable: string, unmap: string) => `static int obj_pwrite_page(struct page *page, unsigned int off, const char __user *user_data, unsigned int len)
{
	char *vaddr;
	unsigned long unwritten;

	vaddr = ${map}(page);${disable}
	unwritten = __copy_from_user_inatomic(vaddr + off, user_data, len);${enable}
	${unmap}(vaddr);
	if (unwritten) {
		vaddr = kmap(page);
		unwritten = copy_from_user(vaddr + off, user_data, len);
		kunmap(page);
	}
	return unwritten ? -EFAULT : 0;
}`;

/** The "again:" idiom of generic write paths. */
const retry = (map: string, unmap: string) => `static ssize_t fill_page(struct page *page, const char __user *buf, size_t off, size_t len)
{
	char *kaddr;
	size_t left;

again:
	kaddr = ${map}(page);
	left = __copy_from_user_inatomic(kaddr + off, buf, len);
	${unmap}(kaddr);
	if (left) {
		if (fault_in_readable(buf, len))
			return -EFAULT;
		goto again;
	}
	return len;
}`;

const helper = (map: string, unmap: string) => `static int peek_user(void *dst, const void __user *src, size_t n)
{
	return __copy_from_user_inatomic(dst, src, n) ? -EFAULT : 0;
}

static int stash(struct page *page, const void __user *src)
{
	void *v = ${map}(page);
	int ret = peek_user(v, src, 64);
	${unmap}(v);
	return ret;
}`;

const futex = (map: string, unmap: string) => `static int futex_probe(struct page *page, u32 __user *uaddr, u32 oldval, u32 newval)
{
	u32 curval;
	void *v = ${map}(page);
	int ret = futex_atomic_cmpxchg_inatomic(&curval, uaddr, oldval, newval);
	${unmap}(v);
	return ret;
}`;

const getUser = (map: string, unmap: string) => `static int read_word(struct page *page, u32 __user *up, u32 *out)
{
	void *v = ${map}(page);
	int err = 0;

	if (__get_user(*out, up))
		err = -EFAULT;
	${unmap}(v);
	return err;
}`;

const D = '\n\tpagefault_disable();';
const E = '\n\tpagefault_enable();';

conversionTester(lostPagefaultDisable, [
  { name: 'copy under the page-table lock, converted with explicit pagefault_disable()', pre: wpCopy('kmap_atomic', '', '', 'kunmap_atomic'), post: wpCopy('kmap_local_page', D, E, 'kunmap_local') },
  {
    name: 'the same conversion without pagefault_disable()',
    pre: wpCopy('kmap_atomic', '', '', 'kunmap_atomic'),
    post: wpCopy('kmap_local_page', '', '', 'kunmap_local'),
    findings: [
      [13, 'before the patch, kmap_atomic(), which disables page faults as a side effect, at line 8 of the pre-image disabled page faults here'],
      [18, 'pte_offset_map_lock() at line 16 still makes this an atomic context, so the copy must not sleep'],
    ],
  },
  { name: 'pwrite fast path with explicit pagefault_disable()', pre: pwrite('kmap_atomic', '', '', 'kunmap_atomic'), post: pwrite('kmap_local_page', D, E, 'kunmap_local') },
  { name: 'pwrite fast path converted naively', pre: pwrite('kmap_atomic', '', '', 'kunmap_atomic'), post: pwrite('kmap_local_page', '', '', 'kunmap_local'), findings: [[7, 'use plain copy_from_user(), which may fault the page in and sleep']] },
  { name: 'retry idiom converted naively', pre: retry('kmap_atomic', 'kunmap_atomic'), post: retry('kmap_local_page', 'kunmap_local'), findings: [[8, 'fault_in_readable() at line 11']] },
  { name: 'retry idiom rewritten as a single sleeping copy', pre: retry('kmap_atomic', 'kunmap_atomic'), post: retry('kmap_local_page', 'kunmap_local').replace('__copy_from_user_inatomic', 'copy_from_user') },
  { name: 'a static helper doing the atomic copy', pre: helper('kmap_atomic', 'kunmap_atomic'), post: helper('kmap_local_page', 'kunmap_local'), findings: [[9, '(through peek_user())']] },
  { name: 'futex atomic op', pre: futex('kmap_atomic', 'kunmap_atomic'), post: futex('kmap_local_page', 'kunmap_local'), findings: [[5, 'futex atomic op']] },
  { name: '__get_user() whose failure is tested', pre: getUser('kmap_atomic', 'kunmap_atomic'), post: getUser('kmap_local_page', 'kunmap_local'), findings: [[6, 'relied on to fail instead of fault']] },
  {
    name: 'the patch drops an explicit pagefault_disable()',
    pre: pwrite('kmap_local_page', D, E, 'kunmap_local'),
    post: pwrite('kmap_local_page', '', '', 'kunmap_local'),
    findings: [[7, 'before the patch, pagefault_disable() at line 7 of the pre-image disabled page faults here; after the patch nothing does']],
  },
  { name: 'plain memcpy section', pre: `static void f(struct page *p, void *b)\n{\n\tvoid *v = kmap_atomic(p);\n\tmemcpy(b, v, 8);\n\tkunmap_atomic(v);\n}`, post: `static void f(struct page *p, void *b)\n{\n\tvoid *v = kmap_local_page(p);\n\tmemcpy(b, v, 8);\n\tkunmap_local(v);\n}` },
]);

describe('lost-pagefault-disable outside conversions', () => {
  beforeAll(initParser);
  it('has a complete doc', () => {
    for (const s of ['## What it finds', '## Why it matters', '## Example', '## Fix']) expect(lostPagefaultDisable.meta.doc).toContain(s);
  });
  it('reports nothing without a pre-image (a new function)', () => {
    expect(findingsFor(lostPagefaultDisable, pwrite('kmap_local_page', '', '', 'kunmap_local'))).toEqual([]);
  });
  it('traces the map, the statement and the pre-image reason', () => {
    const [f] = findingsForConversion(lostPagefaultDisable, pwrite('kmap_atomic', '', '', 'kunmap_atomic'), pwrite('kmap_local_page', '', '', 'kunmap_local'));
    expect(f.trace.map((t) => t.line)).toEqual([6, 7, 7]);
    expect(f.trace[0].note).toContain('unlike kmap_atomic(), leaves page faults enabled');
    expect(f.severity).toBe('error');
    expect(f.preExisting).toBe(false);
  });
});
