import { initParser, parseC } from './parser.js';
import { normalizeKernelSource } from './kernel-idioms.js';

beforeAll(initParser);

describe('kernel idiom normalisation', () => {
  it.each([
    ['list_for_each_entry(pos, &head, list) {', 'while              (pos, &head, list) {'],
    ['\tfor_each_sg(sgl, sg, nents, i)\n\t\tx++;', '\twhile      (sgl, sg, nents, i)\n\t\tx++;'],
    ['static int __init foo(void)', 'static int        foo(void)'],
    ['void f(void) __must_hold(&lock)', 'void f(void)                   '],
  ])('%j keeps its length', (src, expected) => {
    const { text } = normalizeKernelSource(src);
    expect(text).toBe(expected);
    expect(text.length).toBe(src.length);
  });

  it.each([
    'n = list_for_each_entry_count(x);',
    'if (x) for_each_foo(a, b);',
    'ret = xa_for_each_marked_thing(a) + 1;',
  ])('leaves %j alone', (src) => {
    expect(normalizeKernelSource(src).iteratorLoops.size).toBe(0);
  });
});

describe('parseC', () => {
  const src = [
    'static int __init foo(struct page *page)',
    '{',
    '\tvoid *a; /* é */',
    '\tfor_each_sg(sgl, sg, n, i)',
    '\t\tkunmap_local(a);',
    '\treturn 0;',
    '}',
  ].join('\n');

  it('keeps node texts and lines of the original source', () => {
    const root = parseC(src);
    const loop = root.descendants('while_statement')[0];
    expect(loop.iteratorMacro).toBe('for_each_sg');
    expect(loop.line).toBe(4);
    expect(loop.child('body')!.text).toBe('kunmap_local(a);');
    expect(root.descendants('comment')[0].text).toBe('/* é */');
  });

  it('offsets line numbers by a base', () => {
    const root = parseC('int x;\nint y;', 10);
    expect(root.descendants('declaration').map((d) => d.line)).toEqual([11, 12]);
  });

  it('parses the same source repeatedly (no WASM state leaks between parses)', () => {
    for (let i = 0; i < 50; i++) expect(parseC(src).descendants('function_definition')).toHaveLength(1);
  });
});
