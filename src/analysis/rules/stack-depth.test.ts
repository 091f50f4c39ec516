import { stackDepth } from './stack-depth.js';
import { ruleTester } from './testing.js';

ruleTester(stackDepth, {
  valid: [
    {
      name: 'map and unmap inside the loop',
      code: `static void walk(struct page **pages, int n)
{
	int i;

	for (i = 0; i < n; i++) {
		void *v = kmap_local_page(pages[i]);

		visit(v);
		kunmap_local(v);
	}
}`,
    },
    {
      name: 'array loop with a small constant bound',
      code: `static void pair(struct page **pages, void **ptrs)
{
	int i;

	for (i = 0; i < 2; i++)
		ptrs[i] = kmap_local_page(pages[i]);
	merge(ptrs[0], ptrs[1]);
	for (i = 1; i >= 0; i--)
		kunmap_local(ptrs[i]);
}`,
    },
  ],
  invalid: [
    {
      name: 'array filled in a loop bounded by the data',
      code: `static void gen_parity(struct page **pages, void **ptrs, int nr)
{
	int i;

	for (i = 0; i < nr; i++)
		ptrs[i] = kmap_local_page(pages[i]);
	xor_gen(nr, ptrs);
	for (i = nr - 1; i >= 0; i--)
		kunmap_local(ptrs[i]);
}`,
      findings: [[6, 'ptrs[...] is filled in a loop with no bound below 16']],
    },
    {
      name: 'same variable mapped in a loop without unmapping in it',
      code: `static void leaky(struct page **pages, int n)
{
	void *v;
	int i;

	for (i = 0; i < n; i++) {
		v = kmap_local_page(pages[i]);
		memset(v, 0, 64);
	}
}`,
      findings: [[7, 'mapped again in a loop while its previous mapping']],
    },
    {
      name: 'sixteen mappings at once (kmap_local_idx_push() BUGs at the 16th)',
      code: `static void many(struct page **p)
{
	void *a0 = kmap_local_page(p[0]), *a1 = kmap_local_page(p[1]), *a2 = kmap_local_page(p[2]);
	void *a3 = kmap_local_page(p[3]), *a4 = kmap_local_page(p[4]), *a5 = kmap_local_page(p[5]);
	void *a6 = kmap_local_page(p[6]), *a7 = kmap_local_page(p[7]), *a8 = kmap_local_page(p[8]);
	void *a9 = kmap_local_page(p[9]), *b0 = kmap_local_page(p[10]), *b1 = kmap_local_page(p[11]);
	void *b2 = kmap_local_page(p[12]), *b3 = kmap_local_page(p[13]), *b4 = kmap_local_page(p[14]);
	void *b5 = kmap_local_page(p[15]), *b6 = kmap_local_page(p[16]);

	use_all(a0, a1, a2, a3, a4, a5, a6, a7, a8, a9, b0, b1, b2, b3, b4, b5, b6);
	kunmap_local(b6); kunmap_local(b5); kunmap_local(b4); kunmap_local(b3); kunmap_local(b2);
	kunmap_local(b1); kunmap_local(b0); kunmap_local(a9); kunmap_local(a8); kunmap_local(a7);
	kunmap_local(a6); kunmap_local(a5); kunmap_local(a4); kunmap_local(a3); kunmap_local(a2);
	kunmap_local(a1); kunmap_local(a0);
}`,
      findings: [[8, '16 kmap_local mappings are live at once here: at most 15 can be']],
    },
  ],
});
