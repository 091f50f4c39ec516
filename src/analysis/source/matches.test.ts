/**
 * One search over a file must pick the same lines as testing each line, and the same functions as testing
 * each function's joined text, for the call patterns the scan uses.
 */
import { DEPRECATED_CALL } from '../convert/verify.js';
import { locateFunctions } from './functions.js';
import { functionsMatching, linesMatching, matchSpans } from './matches.js';

const MAPPING_CALL = /\bk(?:un)?map(?:_local_\w+|_atomic\w*)?\s*\(/;

describe('linesMatching: the lines a line-by-line test would pick', () => {
  const byLine = (text: string) => text.split('\n').flatMap((l, i) => (DEPRECATED_CALL.test(l) ? [i + 1] : []));
  it.each([
    ['no call', 'int x;\n/* kmap */\n'],
    ['one call on the first line', 'kmap(p);\n'],
    ['two calls on one line, then one three lines on', 'a = kmap_atomic(p); kunmap_atomic(a);\n\n\n\tkunmap(p);'],
    ['a call split before its parenthesis is not a line match', 'x = kmap\n(p);\ny = kmap_atomic (q);\n'],
    ['names that only contain the API', 'my_kmap(p);\nkmap_local_page(p);\nkmapx(p);\n'],
    ['consecutive lines and a last line without newline', '\tkmap(a);\n\tkmap(b);\n\tkunmap_atomic(c)'],
  ])('%s', (_name, text) => {
    expect(linesMatching(text, DEPRECATED_CALL)).toEqual(byLine(text));
  });

  it('spans give the lines a match starts and ends on', () => {
    expect(matchSpans('a\nkmap\n\n(p); kmap(q);\n', DEPRECATED_CALL)).toEqual([{ line: 2, endLine: 4 }, { line: 4, endLine: 4 }]);
  });
});

describe('functionsMatching: the functions whose text a test would pick', () => {
  const fn = (name: string, body: string) => `static void ${name}(struct page *p)\n{\n${body}\n}\n`;
  const source = [
    fn('plain', '\tvoid *v = kmap_atomic(p);\n\n\tkunmap_atomic(v);'),
    fn('none', '\t/* no calls: kmap_local_page is only named here */\n\tmemset(p, 0, 1);'),
    fn('split', '\tvoid *v = kmap_local_page\n\t\t(p);\n\tkunmap_local(v);'),
    fn('local', '\tchar *v = kmap_local_page(p);\n\tkunmap_local(v);'),
    fn('lookalike', '\tmy_kmap(p);\n\tkmapx(p);'),
    '#define K(p) kmap(p)\n',
    fn('last', '\tkunmap(p);'),
  ].join('\n');
  const fns = locateFunctions(source);

  it.each([
    ['the deprecated calls', DEPRECATED_CALL],
    ['any mapping call', MAPPING_CALL],
  ])('%s', (_name, pattern) => {
    const byText = (some: typeof fns) => some.filter((f) => pattern.test(f.text)).map((f) => f.name).sort();
    expect(fns.length).toBeGreaterThan(4); // the whole-file search, not the per-function test of a few
    const picked = functionsMatching(fns, source, pattern);
    expect([...picked].map((f) => f.name).sort()).toEqual(byText(fns));
    expect(picked.size).toBeGreaterThan(0);
    for (const few of [fns.slice(0, 1), fns.slice(1, 3), fns.slice(2, 6)]) {
      expect([...functionsMatching(few, source, pattern)].map((f) => f.name).sort()).toEqual(byText(few));
    }
    const global = new RegExp(pattern.source, 'g');
    expect([...functionsMatching(fns.slice(0, 2), source, global)].map((f) => f.name).sort()).toEqual(byText(fns.slice(0, 2)));
  });

  it('a match that starts in one function and ends below it does not count for it', () => {
    const text = 'void a(void)\n{\n\tx = kmap\n}\n(p);\n';
    const [a] = locateFunctions(text);
    expect(a.name).toBe('a');
    expect(functionsMatching([a], text, DEPRECATED_CALL).size).toBe(0);
    expect(DEPRECATED_CALL.test(a.text)).toBe(false);
  });
});
