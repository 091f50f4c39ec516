import { KmapApi } from '../kmap-api.js';
import { locateFunctions, relocateFunctions } from '../source/functions.js';
import type { SyntaxNode } from '../syntax/ast.js';
import { initParser } from '../syntax/parser.js';
import { planFunction } from './plan.js';
import { renamedFunction } from './renamed.js';
import { applyTextEdits } from './text-edits.js';

beforeAll(initParser);

const dump = (n: SyntaxNode, out: string[] = []): string[] => {
  out.push(`${n.type} ${n.line}-${n.endLine} ${n.field ?? ''} ${n.children.length ? '' : n.text}`);
  for (const c of n.children) dump(c, out);
  return out;
};

const SOURCE = `/* header */
static void demo_copy(struct page *a, struct page *b, size_t len)
{
	char *x = kmap_atomic(a), *y = kmap_atomic(b);

	list_for_each_entry(pos, &demo_list, node)
		memcpy(x, y, len);
	kunmap_atomic(y); kunmap_atomic(x);
}

static void demo_kmap(struct page *page, char *buf)
{
	memcpy(buf, kmap(page), 8);
	kunmap(page);
}
`;

describe('renamedFunction', () => {
  const api = new KmapApi({ mapFunctions: {}, unmapFunctions: {} });

  it('gives the same tree as parsing the converted text, without parsing', () => {
    const fns = locateFunctions(SOURCE);
    const fn = fns[0];
    const edits = planFunction(fn, api).groups.flatMap((g) => g.edits);
    expect(edits).toHaveLength(4);
    const renamed = renamedFunction(fn, edits)!;
    const parsed = relocateFunctions(fns, applyTextEdits(SOURCE, edits))[0];
    expect(renamed.text).toBe(parsed.text);
    expect(dump(renamed.node)).toEqual(dump(parsed.node));
    expect(renamed.text).toContain('kmap_local_page(a), *y = kmap_local_page(b)');
  });

  it('declines edits that are not identifier renames (the caller parses instead)', () => {
    const fns = locateFunctions(SOURCE);
    const edits = planFunction(fns[1], api).groups.flatMap((g) => g.edits);
    expect(edits.length).toBeGreaterThan(0);
    expect(renamedFunction(fns[1], edits)).toBeNull();
  });
});
