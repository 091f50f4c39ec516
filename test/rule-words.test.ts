/**
 * The words a maintainer reads, kept as snapshots: one kernel-style conversion per rule, reviewed by the
 * whole engine and rendered as the CLI's text output (verdict line, why, trace, note, fix diff). A wording
 * change then shows up in review as a snapshot diff instead of slipping through. Every registered rule must
 * have its fixture here: adding a rule means adding its words.
 */
import { analyze } from '../src/analysis/engine.js';
import { allRules } from '../src/analysis/rules/index.js';
import { changedFileFromImages } from '../src/analysis/patch/line-diff.js';
import { initParser } from '../src/analysis/syntax/parser.js';
import { renderFindingText } from '../src/comments/text.js';
import { MAX_VERDICT } from '../src/analysis/rules/testing.js';

/** A function shell: `body` is the function's body lines between the declarations and the return. */
const fn = (name: string, decls: string, body: string, ret = 'return 0;') => `static int ${name}(struct page *page, struct page *other, char __user *ubuf, size_t len)
{
${decls}

${body}
	${ret}
}
`;

interface Fixture {
  rule: string;
  pre: string;
  post: string;
  path?: string;
}

const FIXTURES: Fixture[] = [
  {
    rule: 'deprecated-api',
    pre: fn('fill_page', '\tchar *kaddr;', '\tkaddr = kmap(page);\n\tmemset(kaddr, 0, len);\n\tkunmap(page);'),
    post: fn('fill_page', '\tchar *kaddr;', '\tkaddr = kmap_atomic(page);\n\tmemset(kaddr, 0, len);\n\tkunmap_atomic(kaddr);'),
  },
  {
    rule: 'mismatched-unmap',
    pre: fn('sum_page', '\tu8 *v;\n\tint i, sum = 0;', '\tv = kmap_atomic(page);\n\tfor (i = 0; i < len; i++)\n\t\tsum += v[i];\n\tkunmap_atomic(v);', 'return sum;'),
    post: fn('sum_page', '\tu8 *v;\n\tint i, sum = 0;', '\tv = kmap_local_page(page);\n\tfor (i = 0; i < len; i++)\n\t\tsum += v[i];\n\tkunmap_atomic(v);', 'return sum;'),
  },
  {
    rule: 'unmap-page',
    pre: fn('sum_page', '\tu8 *v;\n\tint i, sum = 0;', '\tv = kmap_atomic(page);\n\tfor (i = 0; i < len; i++)\n\t\tsum += v[i];\n\tkunmap_atomic(v);', 'return sum;'),
    post: fn('sum_page', '\tu8 *v;\n\tint i, sum = 0;', '\tv = kmap_local_page(page);\n\tfor (i = 0; i < len; i++)\n\t\tsum += v[i];\n\tkunmap_local(page);', 'return sum;'),
  },
  {
    rule: 'use-helper',
    pre: fn('copy_out', '\tchar *src;', '\tsrc = kmap_atomic(page);\n\tmemcpy(dst_buf, src + 16, len);\n\tkunmap_atomic(src);'),
    post: fn('copy_out', '\tchar *src;', '\tsrc = kmap_local_page(page);\n\tmemcpy(dst_buf, src + 16, len);\n\tkunmap_local(src);'),
  },
  {
    rule: 'page-address-of-local-map',
    pre: fn('hash_page', '\tvoid *v;', '\tv = kmap_atomic(page);\n\tcrc_update(page_address(page), len);\n\tkunmap_atomic(v);'),
    post: fn('hash_page', '\tvoid *v;', '\tv = kmap_local_page(page);\n\tcrc_update(page_address(page), len);\n\tkunmap_local(v);'),
  },
  {
    rule: 'lost-pagefault-disable',
    pre: fn('fill_from_user', '\tchar *kaddr;\n\tunsigned long left;', '\tkaddr = kmap_atomic(page);\n\tleft = __copy_from_user_inatomic(kaddr, ubuf, len);\n\tkunmap_atomic(kaddr);', 'return left ? -EFAULT : 0;'),
    post: fn('fill_from_user', '\tchar *kaddr;\n\tunsigned long left;', '\tkaddr = kmap_local_page(page);\n\tleft = __copy_from_user_inatomic(kaddr, ubuf, len);\n\tkunmap_local(kaddr);', 'return left ? -EFAULT : 0;'),
  },
  {
    rule: 'lost-preempt-disable',
    pre: fn('count_zero', '\tvoid *v;', '\tv = kmap_atomic(page);\n\tif (!memchr_inv(v, 0, PAGE_SIZE))\n\t\t__this_cpu_inc(zero_pages);\n\tkunmap_atomic(v);'),
    post: fn('count_zero', '\tvoid *v;', '\tv = kmap_local_page(page);\n\tif (!memchr_inv(v, 0, PAGE_SIZE))\n\t\t__this_cpu_inc(zero_pages);\n\tkunmap_local(v);'),
  },
  {
    rule: 'sleep-in-atomic',
    pre: fn('grab_copy', '\tvoid *v, *buf;', '\tbuf = kmalloc(len, GFP_KERNEL);\n\tv = kmap_atomic(page);\n\tmemcpy(buf, v, len);\n\tkunmap_atomic(v);\n\tkfree(buf);'),
    post: fn('grab_copy', '\tvoid *v, *buf;', '\tv = kmap_atomic(page);\n\tbuf = kmalloc(len, GFP_KERNEL);\n\tmemcpy(buf, v, len);\n\tkunmap_atomic(v);\n\tkfree(buf);'),
  },
  {
    rule: 'mapping-escapes',
    pre: `static void ring_attach(struct ring *rb)\n{\n\trb->vaddr = kmap(rb->page);\n}\n`,
    post: `static void ring_attach(struct ring *rb)\n{\n\trb->vaddr = kmap_local_page(rb->page);\n}\n`,
  },
  {
    rule: 'unmap-order',
    pre: fn('copy_pages', '\tchar *s, *d;', '\ts = kmap_atomic(page);\n\td = kmap_atomic(other);\n\tmemcpy(d, s, len);\n\tkunmap_atomic(d);\n\tkunmap_atomic(s);'),
    post: fn('copy_pages', '\tchar *s, *d;', '\ts = kmap_local_page(page);\n\td = kmap_local_page(other);\n\tmemcpy(d, s, len);\n\tkunmap_local(s);\n\tkunmap_local(d);'),
  },
  {
    rule: 'mapping-leak',
    pre: fn('fill_page', '\tchar *kaddr;', '\tkaddr = kmap_atomic(page);\n\tif (copy_from_iter(kaddr, len, it) != len) {\n\t\tkunmap_atomic(kaddr);\n\t\treturn -EFAULT;\n\t}\n\tkunmap_atomic(kaddr);'),
    post: fn('fill_page', '\tchar *kaddr;', '\tkaddr = kmap_local_page(page);\n\tif (copy_from_iter(kaddr, len, it) != len) {\n\t\tkunmap_local(kaddr);\n\t\treturn -EFAULT;\n\t}'),
  },
  {
    rule: 'double-unmap',
    pre: fn('mark_page', '\tchar *kaddr;', '\tkaddr = kmap_atomic(page);\n\tif (len > 8) {\n\t\tkunmap_atomic(kaddr);\n\t\treturn -EINVAL;\n\t}\n\tkaddr[0] = 1;\n\tkunmap_atomic(kaddr);'),
    post: fn('mark_page', '\tchar *kaddr;', '\tkaddr = kmap_local_page(page);\n\tif (len > 8) {\n\t\tkunmap_local(kaddr);\n\t\tkunmap_local(kaddr);\n\t\treturn -EINVAL;\n\t}\n\tkaddr[0] = 1;\n\tkunmap_local(kaddr);'),
  },
  {
    rule: 'use-after-unmap',
    pre: fn('first_byte', '\tu8 *v;\n\tint b;', '\tv = kmap_atomic(page);\n\tb = v[0];\n\tkunmap_atomic(v);', 'return b;'),
    post: fn('first_byte', '\tu8 *v;\n\tint b;', '\tv = kmap_local_page(page);\n\tkunmap_local(v);\n\tb = v[0];', 'return b;'),
  },
  {
    rule: 'stack-depth',
    pre: `static void map_many(struct page **pages, void **addr)\n{\n${Array.from({ length: 16 }, (_, i) => `\taddr[${i}] = kmap_atomic(pages[${i}]);`).join('\n')}\n\tconsume(addr);\n${Array.from({ length: 16 }, (_, i) => `\tkunmap_atomic(addr[${15 - i}]);`).join('\n')}\n}\n`,
    post: `static void map_many(struct page **pages)\n{\n${Array.from({ length: 16 }, (_, i) => `\tvoid *a${i} = kmap_local_page(pages[${i}]);`).join('\n')}\n\tconsume(a0, a15);\n${Array.from({ length: 16 }, (_, i) => `\tkunmap_local(a${15 - i});`).join('\n')}\n}\n`,
  },
  {
    rule: 'unmap-outside-page',
    pre: fn('fill_tail', '\tchar *dst;', '\tdst = kmap_atomic(page);\n\tmemset(dst, 0, PAGE_SIZE);\n\tkunmap_atomic(dst);'),
    post: fn('fill_tail', '\tchar *dst;', '\tdst = kmap_local_page(page);\n\tmemset(dst, 0, PAGE_SIZE);\n\tdst += PAGE_SIZE;\n\tkunmap_local(dst);'),
  },
];

beforeAll(async () => {
  await initParser();
});

test('every registered rule has a fixture here', () => {
  expect(FIXTURES.map((f) => f.rule).sort()).toEqual(allRules.map((r) => r.meta.id).sort());
});

describe.each(FIXTURES)('$rule', ({ rule, pre, post, path = 'mm/example.c' }) => {
  test('draws the rule, in the words kept in the snapshot', async () => {
    const file = changedFileFromImages(path, path, pre, post);
    const report = await analyze({ name: `${rule}.patch`, files: [file], skipped: [] });
    const mine = report.findings.filter((f) => f.rule === rule && !f.preExisting);
    expect(mine.length).toBeGreaterThan(0);
    for (const f of mine) {
      expect(f.message).not.toContain('\n');
      expect(f.message.length).toBeLessThanOrEqual(MAX_VERDICT);
    }
    const postLines = post.split('\n');
    expect(mine.map((f) => renderFindingText(f, () => postLines)).join('\n')).toMatchSnapshot();
  });
});
