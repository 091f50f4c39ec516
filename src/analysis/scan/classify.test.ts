/**
 * scanFile's tree-rule findings (existing bugs) must not depend on the shortcut that skips re-checking a
 * function the conversion already checked as a pure rename: each case is compared with the tree rules run
 * on every function directly.
 */
import { activeRules, checkFunction } from '../rules/runner.js';
import { KmapApi } from '../kmap-api.js';
import { DEFAULT_CONFIG } from '../model.js';
import { locateFunctions } from '../source/functions.js';
import { initParser } from '../syntax/parser.js';
import { scanFile } from './classify.js';

beforeAll(initParser);
const api = new KmapApi();

function directly(source: string): string[] {
  const rules = activeRules(DEFAULT_CONFIG, 'existingCode');
  const fns = locateFunctions(source);
  const byName = new Map(fns.map((f) => [f.name, f]));
  return fns
    .filter((f) => /\bk(?:un)?map\w*\s*\(/.test(f.text))
    .flatMap((fn) => checkFunction(fn, { path: 'x.c', source, image: 'pre', isChanged: () => true, api, rules, fileFunctions: byName }))
    .map((f) => `${f.rule}:${f.line}`);
}

const cases: Array<{ name: string; source: string; findings: string[] }> = [
  {
    name: 'a plain kmap_atomic pair (ready, renamed): nothing to report',
    source: 'static void f(struct page *p)\n{\n\tchar *v = kmap_atomic(p);\n\n\tv[0] = 1;\n\tkunmap_atomic(v);\n}\n',
    findings: [],
  },
  {
    name: 'kmap_atomic sections unmapped out of order: reported on the original',
    source: 'static void f(struct page *a, struct page *b)\n{\n\tchar *x = kmap_atomic(a);\n\tchar *y = kmap_atomic(b);\n\n\t*y = *x;\n\tkunmap_atomic(x);\n\tkunmap_atomic(y);\n}\n',
    findings: ['unmap-order:7'],
  },
  {
    name: 'a kmap_atomic() mapping released by kunmap_local(): the conversion would hide it, the scan must not',
    source: 'static void f(struct page *p)\n{\n\tchar *v = kmap_atomic(p);\n\n\tv[0] = 1;\n\tkunmap_local(v);\n}\n',
    findings: ['mismatched-unmap:6'],
  },
  {
    name: 'a kmap_atomic mapping leaked on an error path',
    source: 'static int f(struct page *p, int bad)\n{\n\tchar *v = kmap_atomic(p);\n\n\tif (bad)\n\t\treturn -EINVAL;\n\tv[0] = 1;\n\tkunmap_atomic(v);\n\treturn 0;\n}\n',
    findings: ['mapping-leak:6'],
  },
  {
    name: 'a ready kmap_atomic pair next to a leaked kmap_local_page() in the same function',
    source: 'static int f(struct page *p, struct page *q, int bad)\n{\n\tchar *w = kmap_local_page(q);\n\tchar *v = kmap_atomic(p);\n\n\tv[0] = w[0];\n\tkunmap_atomic(v);\n\tif (bad)\n\t\treturn -EINVAL;\n\tkunmap_local(w);\n\treturn 0;\n}\n',
    findings: ['mapping-leak:9'],
  },
];

describe('scanFile: existing bugs in kmap_atomic() code', () => {
  it.each(cases)('$name', ({ source, findings }) => {
    const scanned = scanFile('x.c', source, { api, config: DEFAULT_CONFIG }).findings.map((f) => `${f.rule}:${f.line}`);
    expect(scanned.sort()).toEqual(directly(source).sort());
    expect(scanned.sort()).toEqual([...findings].sort());
  });
});
