import { readdirSync, readFileSync } from 'node:fs';
import type { SyntaxNode } from './ast.js';
import { fastCopyAvailable, initParser, parseC } from './parser.js';
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

describe('the fast tree copy', () => {
  const fixtures = new URL('../../../test/fixtures/', import.meta.url);
  const dump = (root: SyntaxNode) => {
    const out: string[] = [];
    root.walk((n) => void out.push([n.type, n.field, n.start, n.end, n.line, n.endLine, n.isNamed, n.isMissing, n.iteratorMacro].join(' ')));
    return out;
  };
  const broken = [
    'static void f(struct page *page)\n{\n\tvoid *a = kmap_atomic(page;\n\tif (x {\n\t\tkunmap_atomic(a);\n}\n',
    'int g(void)\n{\n\tlist_for_each_entry(pos, &head, list) {\n\t\tpos->x = 1;\n\t}\n\treturn 0 +;\n}\n',
    '#define M(x) do { kunmap_atomic(x); } while (0)\nvoid h(void) { M(p) }\n',
    '', '\n\n', '}}}', 'void é(void) { int ü = 1; /* 💥 */ }\n',
  ];
  const files = readdirSync(fixtures, { recursive: true, encoding: 'utf8' }).filter((p) => /\.[ch]$/.test(p));

  it('is in use (a web-tree-sitter upgrade that hides the binding must be noticed, not silently slower)', () => {
    expect(fastCopyAvailable()).toBe(true);
  });

  it('reads the same tree as the public TreeCursor API, on every C fixture', () => {
    expect(files.length).toBeGreaterThan(5);
    for (const p of files) {
      const src = readFileSync(new URL(p, fixtures), 'utf8');
      expect({ p, tree: dump(parseC(src, 7, 'fast')) }).toEqual({ p, tree: dump(parseC(src, 7, 'portable')) });
    }
  });

  it.each(broken.map((s) => [s]))('and on broken or odd input %j (errors, MISSING nodes, iterator macros, non-ASCII)', (src) => {
    expect(dump(parseC(src, 0, 'fast'))).toEqual(dump(parseC(src, 0, 'portable')));
  });

  it('leaves the parser usable: hundreds of copies in a row, interleaved with public-API ones', () => {
    const src = readFileSync(new URL(files[0], fixtures), 'utf8');
    const expected = dump(parseC(src, 0, 'portable'));
    for (let i = 0; i < 300; i++) parseC(src, 0, i % 3 === 0 ? 'portable' : 'fast');
    expect(dump(parseC(src, 0, 'fast'))).toEqual(expected);
  });
});

describe('tokens the copy leaves out', () => {
  it('drops field-less anonymous tokens (punctuation, keywords) but keeps braces, operators and a MISSING ; (a syntax error)', () => {
    const root = parseC('static int f(int a, char *b)\n{\n\tif (a)\n\t\treturn a + *b;\n\treturn g(a, b);\n}\n');
    const types = new Set<string>();
    root.walk((n) => void types.add(n.type));
    for (const t of ['(', ')', ';', ',', 'return', 'if', 'static']) expect(types.has(t)).toBe(false);
    for (const t of ['{', '}', '+', '*', 'storage_class_specifier', 'pointer_declarator']) expect(types.has(t)).toBe(true);
    // The `+` and the dereference's `*` are operator fields; the declarator's `*` is not.
    expect(root.descendants('pointer_declarator')[0].children.map((c) => c.type)).toEqual(['identifier']);
    expect(root.descendants('storage_class_specifier')[0].text).toBe('static');
    const broken = parseC('void f(void)\n{\n\tint a = 1\n}\n');
    expect(broken.hasError()).toBe(true);
    expect(broken.descendants((n) => n.isMissing).map((n) => n.type)).toEqual([';']);
  });
});
