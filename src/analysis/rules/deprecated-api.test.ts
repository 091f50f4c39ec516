import { deprecatedApi } from './deprecated-api.js';
import { findingsFor, ruleTester } from './testing.js';

ruleTester(deprecatedApi, {
  valid: [
    {
      name: 'local mapping',
      code: `static void zero_tail(struct page *page, unsigned int off)
{
	char *kaddr = kmap_local_page(page);

	memset(kaddr + off, 0, PAGE_SIZE - off);
	kunmap_local(kaddr);
}`,
    },
    {
      name: 'deprecated call on a context line (not added)',
      code: `static void legacy(struct page *page)
{
	void *v = kmap_atomic(page);
	clear_page(v);
	kunmap_atomic(v);
	count++; // +
}`,
    },
    { name: 'a field named kmap is no call', code: `static int f(struct ops *o)\n{\n\treturn o->kmap != NULL;\n}` },
  ],
  invalid: [
    {
      name: 'kmap_atomic pair',
      code: `static void copy_in(struct page *page, const void *buf, size_t len)
{
	void *vaddr = kmap_atomic(page);

	memcpy(vaddr, buf, len);
	kunmap_atomic(vaddr);
}`,
      findings: [[3, "prefer 'kmap_local_page()'"], [6, "prefer 'kunmap_local()'"]],
    },
    {
      name: 'kmap and kunmap',
      code: `static int read_block(struct page *page)
{
	char *p = kmap(page);
	int ret = parse(p);
	kunmap(page);
	return ret;
}`,
      findings: [[3, "'kmap()'"], [5, 'takes the mapped address, not the page']],
    },
    {
      name: 'atomic section with an inatomic user copy',
      code: `static int fill(struct page *page, const char __user *ubuf)
{
	char *v = kmap_atomic(page);
	unsigned long left = __copy_from_user_inatomic(v, ubuf, PAGE_SIZE);
	kunmap_atomic(v);
	return left ? -EFAULT : 0;
}`,
      findings: [[3, 'may rely on what kmap_atomic() disabled'], [5, '__copy_from_user_inatomic()']],
    },
  ],
});

describe('deprecated-api fixes', () => {
  it('renames the atomic calls in place, keeping the line', () => {
    const f = findingsFor(deprecatedApi, `static void z(struct page *pg)\n{\n\tvoid *v = kmap_atomic(pg);\n\tclear_page(v);\n\tkunmap_atomic(v);\n}`);
    expect(f.map((x) => x.fix?.edits[0].replacement)).toEqual(['\tvoid *v = kmap_local_page(pg);', '\tkunmap_local(v);']);
  });

  it('offers the verified kmap() conversion, both ends together', () => {
    const f = findingsFor(deprecatedApi, `static void z(struct page *pg)\n{\n\tvoid *v = kmap(pg);\n\tkunmap(pg);\n}`);
    expect(f[0].fix?.edits).toEqual([
      { startLine: 3, endLine: 3, replacement: '\tvoid *v = kmap_local_page(pg);' },
      { startLine: 4, endLine: 4, replacement: '\tkunmap_local(v);' },
    ]);
    expect(f[1].fix).toEqual(f[0].fix);
  });

  it('offers no fix when the conversion is refused (the section relies on disabled page faults)', () => {
    const f = findingsFor(deprecatedApi, `static int fill(struct page *page, const char __user *ubuf)\n{\n\tchar *v = kmap_atomic(page);\n\tunsigned long left = __copy_from_user_inatomic(v, ubuf, PAGE_SIZE);\n\tkunmap_atomic(v);\n\treturn left ? -EFAULT : 0;\n}`);
    expect(f.map((x) => x.fix)).toEqual([null, null]);
  });

  it('offers no fix for a kmap() whose address leaves the thread', () => {
    const f = findingsFor(deprecatedApi, `static void keep(struct ctx *c, struct page *pg)\n{\n\tc->vaddr = kmap(pg);\n}`);
    expect(f.map((x) => x.fix)).toEqual([null]);
  });

  it('offers the helper when the section only copies', () => {
    const f = findingsFor(deprecatedApi, `static void rd(struct page *page, char *buf, size_t len)\n{\n\tchar *v = kmap_atomic(page);\n\tmemcpy(buf, v, len);\n\tkunmap_atomic(v);\n}`);
    expect(f[0].fix?.edits).toEqual([
      { startLine: 3, endLine: 3, replacement: '\tmemcpy_from_page(buf, page, 0, len);' },
      { startLine: 4, endLine: 4, replacement: '' },
      { startLine: 5, endLine: 5, replacement: '' },
    ]);
  });
});
