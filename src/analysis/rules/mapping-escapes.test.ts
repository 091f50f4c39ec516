import { mappingEscapes } from './mapping-escapes.js';
import { conversionTester, ruleTester } from './testing.js';

/** A buffer object whose page stays mapped while a worker fills it. */
const objMap = (map: string, unmap: string) => `static int rbuf_start(struct rbuf *rb)
{
	rb->vaddr = ${map}(rb->page);
	INIT_WORK(&rb->work, rbuf_fill_work);
	schedule_work(&rb->work);
	return 0;
}

static void rbuf_stop(struct rbuf *rb)
{
	flush_work(&rb->work);
	${unmap};
}`;

ruleTester(mappingEscapes, {
  valid: [
    { name: 'returned to the caller: handed over in the same thread, whatever the name', code: `static void *first_block(struct page *p)\n{\n\tvoid *v = kmap_local_page(p);\n\n\treturn v + 16;\n}` },
    { name: 'local use', code: `static void f(struct page *p)\n{\n\tvoid *v = kmap_local_page(p);\n\tclear_page(v);\n\tkunmap_local(v);\n}` },
    { name: 'kmap() address in a struct is legal', code: objMap('kmap', 'kunmap(rb->page)') },
    {
      name: 'map helper by name',
      code: `static void *dir_map_page(struct inode *dir, unsigned long n, struct page **p)\n{\n\tstruct page *page = read_mapping_page(dir->i_mapping, n, NULL);\n\n\tif (IS_ERR(page))\n\t\treturn ERR_CAST(page);\n\t*p = page;\n\treturn kmap_local_page(page);\n}`,
    },
    {
      name: 'helper whose callers unmap what it returns',
      code: `static struct entry *find_entry(struct dir *d, struct folio **foliop)\n{\n\tstruct folio *folio = dir_folio(d);\n\n\t*foliop = folio;\n\treturn kmap_local_folio(folio, 0);\n}\n\nstatic int lookup(struct dir *d)\n{\n\tstruct folio *folio;\n\tstruct entry *e = find_entry(d, &folio);\n\tint ino = e->ino;\n\n\tfolio_release_kmap(folio, e);\n\treturn ino;\n}`,
    },
    { name: 'field of a struct on the stack', code: `static void f(struct page *p)\n{\n\tstruct cursor c;\n\n\tc.addr = kmap_local_page(p);\n\twalk(&c);\n\tkunmap_local(c.addr);\n}` },
    { name: 'field unmapped in the same function', code: `static void f(struct job *j)\n{\n\tj->addr = kmap_local_page(j->page);\n\tprocess(j);\n\tkunmap_local(j->addr);\n}` },
  ],
  invalid: [
    { name: 'kmap() converted naively, address kept in the object', code: objMap('kmap_local_page', 'kunmap_local(rb->vaddr)'), findings: [[3, "is stored into the struct field 'rb->vaddr'"]] },
    {
      name: 'address handed to a work item through a variable',
      code: `static void f(struct page *p, struct wq_ctx *c)\n{\n\tchar *v = kmap_local_page(p);\n\n\tc->buf = v;\n\tqueue_work(system_wq, &c->work);\n\tkunmap_local(v);\n}`,
      findings: [[5, "stored into the struct field 'c->buf'"]],
    },
    { name: 'stored through a moving pointer (*ptrptr++ = addr)', code: `static void collect(struct page *p, char **ptrptr, size_t off)\n{\n\tchar *ptr = kmap_local_page(p);\n\n\t*ptrptr++ = ptr + off;\n}`, findings: [[5, 'memory the caller can see']] },
    { name: 'stored into a global', code: `static void f(struct page *p)\n{\n\tlast_addr = kmap_atomic(p);\n\tkunmap_atomic(last_addr);\n}`, findings: [[3, "the global 'last_addr'"]] },
    { name: 'stored into a static', code: `static void f(struct page *p)\n{\n\tstatic void *cache;\n\tvoid *v = kmap_local_page(p);\n\n\tcache = v;\n\tkunmap_local(v);\n}`, findings: [[6, "the static variable 'cache'"]] },
    { name: 'passed to a kthread', code: `static void f(struct page *p)\n{\n\tvoid *v = kmap_local_page(p);\n\n\tkthread_run(scan_fn, v, "scan");\n\tkunmap_local(v);\n}`, findings: [[5, 'is passed to kthread_run()']] },
  ],
});

/** An iterator that keeps its atomic mapping in the walk struct, unmapped by its done() helper. */
const walker = (map: string, unmap: string) => `static int blk_walk_next(struct blk_walk *walk)
{
	walk->data = ${map}(walk->pg);
	walk->data += walk->offset;
	return walk->len;
}

static void blk_walk_done(struct blk_walk *walk)
{
	walk->data -= walk->offset;
	${unmap}(walk->data);
}`;

conversionTester(mappingEscapes, [
  { name: 'an iterator field that already held a kmap_atomic() address', pre: walker('kmap_atomic', 'kunmap_atomic'), post: walker('kmap_local_page', 'kunmap_local') },
  { name: 'kmap() in an object converted naively', pre: objMap('kmap', 'kunmap(rb->page)'), post: objMap('kmap_local_page', 'kunmap_local(rb->vaddr)'), findings: [[3, "stored into the struct field 'rb->vaddr'"]] },
  {
    name: 'a field given a kmap_atomic() address on one path and a long-lived kmap() one on another',
    pre: `static void buf_map(struct buf *b, bool sleepable)\n{\n\tif (sleepable)\n\t\tb->vaddr = kmap(b->page);\n\telse\n\t\tb->vaddr = kmap_atomic(b->page);\n}`,
    post: `static void buf_map(struct buf *b, bool sleepable)\n{\n\tif (sleepable)\n\t\tb->vaddr = kmap_local_page(b->page);\n\telse\n\t\tb->vaddr = kmap_local_page(b->page);\n}`,
    // Not a one-thread cursor: the kmap_atomic() store is reported (the kmap() one at line 4 has the same
    // fingerprint as the pre-image's own store and counts as pre-existing).
    findings: [[6, "stored into the struct field 'b->vaddr'"]],
  },
]);
