import { initParser } from '../syntax/parser.js';
import { functionsTouching, locateFunctions, pairFunctions } from './functions.js';

beforeAll(initParser);

const file = `// SPDX-License-Identifier: GPL-2.0
#include <linux/highmem.h>

static void copy_one(struct page *dst, struct page *src)
{
	void *vto = kmap_local_page(dst);

	memcpy(vto, page_address(src), PAGE_SIZE);
	kunmap_local(vto);
}

SYSCALL_DEFINE2(kmap_demo, int, fd, unsigned long, flags)
{
	list_for_each_entry(pos, &head, list) {
		void *v = kmap_local_page(pos->page);
		kunmap_local(v);
	}
	return 0;
}

void *__must_check foo_map(struct foo *f) __acquires(f)
{
	return kmap_local_page(f->page);
}
`;

describe('locateFunctions', () => {
  it('finds plain, macro-defined and attribute-laden functions', () => {
    const fns = locateFunctions(file);
    expect(fns.map((f) => [f.name, f.line, f.endLine])).toEqual([
      ['copy_one', 4, 10],
      ['kmap_demo', 12, 19],
      ['foo_map', 21, 24],
    ]);
    expect(fns[0].isStatic).toBe(true);
    expect(fns[2].returnType.replace(/\s/g, '')).toBe('void*');
  });

  it('selects the functions a set of lines touches', () => {
    const fns = locateFunctions(file);
    expect(functionsTouching(fns, new Set([15])).map((f) => f.name)).toEqual(['kmap_demo']);
    expect(functionsTouching(fns, new Set([2, 11]))).toEqual([]);
  });
});

describe('pairFunctions', () => {
  it('pairs by name, and a renamed function by body similarity', () => {
    const pre = locateFunctions(file);
    const renamed = file.replace('copy_one', 'copy_single_page');
    const post = locateFunctions(renamed);
    const pairs = pairFunctions(pre, post, [pre[0]], [post[0]]);
    expect(pairs.map((p) => [p.pre?.name, p.post?.name])).toEqual([['copy_one', 'copy_single_page']]);
  });
});

describe('kernel-style scan and full parse agree', () => {
  it('finds the same functions with the same names and lines', async () => {
    const { readFileSync } = await import('node:fs');
    const { locateFunctionsByParse } = await import('./functions.js');
    const example = readFileSync(new URL('../../../examples/tree/drivers/misc/kmap_demo.c', import.meta.url), 'utf8');
    for (const text of [file, example]) {
      const fast = locateFunctions(text).map((f) => [f.name, f.line, f.endLine, f.body.line, f.isStatic]);
      const full = locateFunctionsByParse(text).map((f) => [f.name, f.line, f.endLine, f.body.line, f.isStatic]);
      expect(fast).toEqual(full);
    }
  });

  it('cuts K&R-style `) {` functions by layout too, as a full parse would', async () => {
    const { locateFunctionsByParse } = await import('./functions.js');
    const text = [
      'int add(int a, int b) {',
      '\treturn a + b;',
      '}',
      '',
      'static void *get(struct page *p,',
      '\t\t int flags) { /* mapped for the caller */',
      '\treturn kmap_local_page(p);',
      '}',
      '',
      'static int kernel_style(void)',
      '{',
      '\treturn 0;',
      '}',
      '',
    ].join('\n');
    const shape = (fns: ReturnType<typeof locateFunctions>) => fns.map((f) => [f.name, f.line, f.endLine, f.body.line, f.isStatic]);
    expect(shape(locateFunctions(text))).toEqual([['add', 1, 3, 1, false], ['get', 5, 8, 6, true], ['kernel_style', 10, 13, 11, true]]);
    expect(shape(locateFunctions(text))).toEqual(shape(locateFunctionsByParse(text)));
  });

  it('falls back to a full parse when a K&R-style body does not close in column 0', () => {
    const fns = locateFunctions('int add(int a, int b) {\n\treturn a + b; }\n\nstatic void *get(void) {\n\treturn kmap_local_page(p);\n\t}\n');
    expect(fns.map((f) => [f.name, f.line, f.endLine])).toEqual([['add', 1, 2], ['get', 4, 6]]);
  });
});

describe('functions that are not C', () => {
  it('a body inside a multi-line #define does not break the review', () => {
    const text = [
      '#define DEMO_SHOW(NAME)\t\t\t\t\t\t\\',
      'static ssize_t demo_##NAME##_show(struct item *item, char *page)\t\\',
      '{\t\t\t\t\t\t\t\t\\',
      '\treturn demo_show(page, to_demo(item)->NAME);\t\t\\',
      '}',
      '',
    ].join('\n');
    const fns = locateFunctions(text);
    for (const f of fns) expect(() => f.body).not.toThrow();
  });
});
