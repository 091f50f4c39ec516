import { KmapApi } from '../kmap-api.js';
import { DEFAULT_CONFIG } from '../model.js';
import { initParser } from '../syntax/parser.js';
import { convertFile } from './verify.js';

beforeAll(initParser);

/** Converts `code` and returns the converted text plus each group's class and refusal reason. */
function convert(code: string, helpers = false) {
  const r = convertFile('drivers/demo/demo.c', code, new KmapApi(DEFAULT_CONFIG), DEFAULT_CONFIG, undefined, { helpers });
  return {
    text: r.converted,
    groups: r.plans.flatMap((p) => p.groups.map((g) => (g.refusal ? `${g.refusal.class}: ${g.refusal.rule ?? g.refusal.reason}` : 'ready'))),
    strays: r.plans.flatMap((p) => p.strays.map((s) => s.refusal.class)),
  };
}

const fn = (body: string) => `static void demo(struct page *page, struct page *other, char *buf, size_t len)\n{\n${body}\n}\n`;

describe('conversion plan', () => {
  it.each([
    {
      name: 'kmap_atomic pair: renamed in place',
      body: '\tchar *vaddr = kmap_atomic(page);\n\n\tmemcpy(buf, vaddr, len);\n\tkunmap_atomic(vaddr);',
      expect: '\tchar *vaddr = kmap_local_page(page);\n\n\tmemcpy(buf, vaddr, len);\n\tkunmap_local(vaddr);',
      groups: ['ready'],
    },
    {
      name: 'nested kmap_atomic in LIFO order: both renamed',
      body: '\tchar *a = kmap_atomic(page);\n\tchar *b = kmap_atomic(other);\n\n\tmemcpy(a, b, len);\n\tkunmap_atomic(b);\n\tkunmap_atomic(a);',
      expect: '\tchar *a = kmap_local_page(page);\n\tchar *b = kmap_local_page(other);\n\n\tmemcpy(a, b, len);\n\tkunmap_local(b);\n\tkunmap_local(a);',
      groups: ['ready', 'ready'],
    },
    {
      name: 'kmap() with an address variable: kunmap(page) becomes kunmap_local(addr)',
      body: '\tchar *p = kmap(page);\n\n\tmemcpy(buf, p, len);\n\tkunmap(page);',
      expect: '\tchar *p = kmap_local_page(page);\n\n\tmemcpy(buf, p, len);\n\tkunmap_local(p);',
      groups: ['ready'],
    },
    {
      name: 'kmap() as a statement: the variable is introduced and page_address() uses it',
      body: '\tkmap(page);\n\tmemcpy(buf, page_address(page), len);\n\tkunmap(page);',
      // The declaration goes to the top of the block (on the `{` line until layout.ts breaks the lines).
      expect: '\tkaddr = kmap_local_page(page);\n\tmemcpy(buf, kaddr, len);\n\tkunmap_local(kaddr);',
      head: '{ \tvoid *kaddr; \n',
      groups: ['ready'],
    },
    {
      name: 'kmap() inside an expression: the variable is declared before the statement',
      body: '\tmemcpy(buf, kmap(page) + 16, len);\n\tkunmap(page);',
      expect: '\tkaddr = kmap_local_page(page); \tmemcpy(buf, kaddr + 16, len);\n\tkunmap_local(kaddr);',
      head: '{ \tvoid *kaddr; \n',
      groups: ['ready'],
    },
    {
      name: 'kmap() sections unmapped in map order next to each other: the unmaps are swapped',
      body: '\tchar *a = kmap(page);\n\tchar *b = kmap(other);\n\n\tmemcpy(a, b, len);\n\tkunmap(page);\n\tkunmap(other);',
      expect: '\tchar *a = kmap_local_page(page);\n\tchar *b = kmap_local_page(other);\n\n\tmemcpy(a, b, len);\n\tkunmap_local(b);\n\tkunmap_local(a);',
      groups: ['ready'],
    },
    {
      name: 'a chained assignment: the outer name unmaps the same mapping (save = addr = kmap_atomic(p))',
      body: '\tchar *addr, *save;\n\n\tsave = addr = kmap_atomic(page);\n\tmemcpy(buf, addr, len);\n\tkunmap_atomic(save);',
      expect: '\tchar *addr, *save;\n\n\tsave = addr = kmap_local_page(page);\n\tmemcpy(buf, addr, len);\n\tkunmap_local(save);',
      groups: ['ready'],
    },
    {
      name: 'a copy of the address unmaps the same mapping (page_addr = from)',
      body: '\tchar *from, *page_addr;\n\n\tfrom = kmap_atomic(page);\n\tpage_addr = from;\n\tmemcpy(buf, from, len);\n\tkunmap_atomic(page_addr);',
      expect: '\tchar *from, *page_addr;\n\n\tfrom = kmap_local_page(page);\n\tpage_addr = from;\n\tmemcpy(buf, from, len);\n\tkunmap_local(page_addr);',
      groups: ['ready'],
    },
    {
      name: 'with helpers: an open-coded copy becomes memcpy_from_page() (emptied lines stay until layout)',
      body: '\tchar *vaddr = kmap_atomic(page);\n\tmemcpy(buf, vaddr, len);\n\tkunmap_atomic(vaddr);',
      expect: '\tmemcpy_from_page(buf, page, 0, len);\n\t\n\t',
      helpers: true,
      groups: ['ready'],
    },
  ] as Array<{ name: string; body: string; expect: string; head?: string; helpers?: boolean; groups: string[] }>)('$name', ({ body, expect: want, head, helpers, groups }) => {
    const r = convert(fn(body), helpers);
    expect(r.text).toBe(head ? fn(want).replace('{\n', head) : fn(want));
    expect(r.groups).toEqual(groups);
  });

  it.each([
    { name: 'kmap() stored in a struct field is blocked', body: '\tstruct demo_ctx *ctx = demo_ctx();\n\n\tctx->vaddr = kmap(page);\n\tdemo_submit(ctx);\n\tkunmap(page);', groups: ['blocked'] },
    { name: 'kmap() without a kunmap() here is blocked', body: '\tchar *p = kmap(page);\n\n\tdemo_keep(p);', groups: ['blocked'] },
    { name: 'the page changes between kmap() and kunmap()', body: '\tchar *p = kmap(page);\n\n\tpage = other;\n\tkunmap(page);', groups: ['needs-care: `page` changes between kmap() and kunmap(): the unmap cannot be paired by the page'] },
    { name: 'a copy that must not fault loses its pagefault_disable()', body: '\tchar *vaddr = kmap_atomic(page);\n\tunsigned long left;\n\n\tleft = __copy_from_user_inatomic(vaddr, (void __user *)buf, len);\n\tkunmap_atomic(vaddr);', groups: ['needs-care: lost-pagefault-disable'] },
    { name: 'per-CPU data relies on disabled preemption', body: '\tchar *vaddr = kmap_atomic(page);\n\tchar *scratch = per_cpu_ptr(demo_scratch, smp_processor_id());\n\n\tmemcpy(scratch, vaddr, len);\n\tkunmap_atomic(vaddr);', groups: ['needs-care: lost-preempt-disable'] },
    { name: 'kmap() sections unmapped out of order (not next to each other) become non-LIFO local maps', body: '\tchar *a = kmap(page);\n\tchar *b = kmap(other);\n\n\tmemcpy(a, b, len);\n\tkunmap(page);\n\tdemo_log(len);\n\tkunmap(other);', groups: ['needs-care: unmap-order', 'needs-care: unmap-order'] },
    { name: 'a copy of the address later overwritten: the unmap releases something else (the leak is found, not paired away)', body: '\tchar *from, *page_addr;\n\n\tfrom = kmap_atomic(page);\n\tpage_addr = from;\n\tpage_addr = buf;\n\tmemcpy(buf, from, len);\n\tkunmap_atomic(page_addr);', groups: ['needs-care: mapping-leak'] },
  ])('refuses: $name', ({ body, groups }) => {
    const r = convert(fn(body));
    // Each expected entry is the start of the class and reason (or the refusing rule).
    expect(r.groups.map((g, i) => g.slice(0, groups[i]?.length ?? g.length))).toEqual(groups);
  });

  it('lists a kunmap_atomic() of an address mapped elsewhere as a stray needing care', () => {
    expect(convert(fn('\tkunmap_atomic(buf);')).strays).toEqual(['needs-care']);
  });

  it('never changes the number of lines', () => {
    const code = fn('\tmemcpy(buf, kmap(page), len);\n\tkunmap(page);\n\tkmap(other);\n\tkunmap(other);');
    expect(convert(code).text.split('\n')).toHaveLength(code.split('\n').length);
  });
});
