/**
 * Reasons that are right (issue 17): each case is a small kernel-style file and the sites the scan must
 * report for it, with the class and the words of the reason that name its cause. Every fix has a case it
 * protects and one it must not swallow.
 */
import { KmapApi } from '../kmap-api.js';
import { DEFAULT_CONFIG } from '../model.js';
import { initParser } from '../syntax/parser.js';
import { scanFile } from './classify.js';

beforeAll(initParser);
const api = new KmapApi();

type Expected = { line: number; api: string; class: string; reason?: RegExp; fn?: string | null };
const cases: Array<{ name: string; source: string; sites: Expected[] }> = [
  {
    name: 'a member call named kmap is a function pointer, not a site',
    source: 'static int demo_map(struct demo *d, int i)\n{\n\treturn d->ops->kmap(d, i) + d->ops.kunmap(d, i);\n}\n',
    sites: [],
  },
  {
    name: 'a plain kmap() in a macro next to it is still a site',
    source: '#define demo_map(d, i) ((d)->ops->kmap ? (d)->ops->kmap((d), (i)) : -ENOSYS)\n#define demo_map_page(p) kmap(p)\n',
    sites: [{ line: 2, api: 'kmap', class: 'needs-care', reason: /in a macro/ }],
  },
  {
    name: "the API's own definitions (highmem-internal.h style) are not sites",
    source: 'static inline void *kmap_atomic_prot(struct page *page, pgprot_t prot)\n{\n\treturn kmap_atomic(page);\n}\n\nstatic inline void *kmap_atomic_pfn(unsigned long pfn)\n{\n\treturn kmap_atomic(pfn_to_page(pfn));\n}\n',
    sites: [],
  },
  {
    name: 'a driver function wrapping kmap_atomic() is a site',
    source: 'static void *demo_map_atomic(struct page *page)\n{\n\treturn kmap_atomic(page);\n}\n',
    sites: [{ line: 3, api: 'kmap_atomic', class: 'needs-care', reason: /returned and unmapped by the callers/ }],
  },
  {
    name: 'sg_page() is a pure accessor: kmap(sg_page(sg)) ... kunmap(sg_page(sg)) pairs and converts',
    source: 'static int demo_zero(struct scatterlist *sg, size_t len)\n{\n\tunsigned char *buf;\n\tint ret;\n\n\tbuf = kmap(sg_page(sg)) + sg->offset;\n\tret = memchr_inv(buf, 0, len) != NULL;\n\tkunmap(sg_page(sg));\n\treturn ret;\n}\n',
    sites: [
      { line: 6, api: 'kmap', class: 'ready' },
      { line: 8, api: 'kunmap', class: 'ready' },
    ],
  },
  {
    name: 'a call the vocabulary does not know is named as what is unknown, not as a side effect',
    source: 'static int demo_zero(struct demo *d, size_t len)\n{\n\tunsigned char *buf;\n\tint ret;\n\n\tbuf = kmap(demo_next_page(d));\n\tret = memchr_inv(buf, 0, len) != NULL;\n\tkunmap(demo_next_page(d));\n\treturn ret;\n}\n',
    sites: [
      { line: 6, api: 'kmap', class: 'needs-care', reason: /calls demo_next_page\(\), which is not known to return the same page/ },
      { line: 8, api: 'kunmap', class: 'needs-care', reason: /calls demo_next_page\(\)/ },
    ],
  },
  {
    name: "a pure accessor's argument that changes in between: the unmap cannot be paired by the page",
    source: 'static int demo_zero(struct scatterlist *sg, size_t len)\n{\n\tunsigned char *buf;\n\n\tbuf = kmap(sg_page(sg));\n\tmemset(buf, 0, len);\n\tsg = sg_next(sg);\n\tkunmap(sg_page(sg));\n\treturn 0;\n}\n',
    sites: [
      { line: 5, api: 'kmap', class: 'needs-care', reason: /`sg` changes between kmap\(\) and kunmap\(\)/ },
      { line: 8, api: 'kunmap', class: 'needs-care', reason: /`sg` changes/ },
    ],
  },
  {
    name: 'one pair, one class: a getter kmap() and the kunmap() of its put are both blocked, each naming the other',
    source: 'static struct page *demo_get_page(struct address_space *m, pgoff_t n)\n{\n\tstruct page *pp = read_mapping_page(m, n, NULL);\n\n\tif (!IS_ERR(pp))\n\t\tkmap(pp);\n\treturn pp;\n}\n\nstatic void demo_put_page(struct page *pp)\n{\n\tkunmap(pp);\n\tput_page(pp);\n}\n',
    sites: [
      { line: 6, api: 'kmap', class: 'blocked', reason: /no kunmap\(\) of this page is in this function.*its kunmap\(\) is in demo_put_page\(\) \(line 12\)/ },
      { line: 12, api: 'kunmap', class: 'blocked', reason: /kunmap\(\) of the page kmap\(\)ed in demo_get_page\(\) \(line 6\)/ },
    ],
  },
  {
    name: 'a stray kunmap() whose kmap() is not in the file: blocked too, without naming a place',
    source: 'static void demo_put_page(struct page *pp)\n{\n\tkunmap(pp);\n\tput_page(pp);\n}\n',
    sites: [{ line: 3, api: 'kunmap', class: 'blocked', reason: /^kunmap\(\) of a page kmap\(\)ed in another function/ }],
  },
  {
    name: 'a kmap_atomic() stored in a field and unmapped in another function: both needs-care, each naming the other',
    source: 'static void demo_seg_map(struct demo_seg *seg)\n{\n\tseg->mapped = kmap_atomic(seg->page);\n}\n\nstatic void demo_seg_unmap(struct demo_seg *seg)\n{\n\tkunmap_atomic(seg->mapped);\n}\n',
    sites: [
      { line: 3, api: 'kmap_atomic', class: 'needs-care', reason: /its kunmap_atomic\(\) is in demo_seg_unmap\(\) \(line 8\)/ },
      { line: 8, api: 'kunmap_atomic', class: 'needs-care', reason: /kunmap_atomic\(\) of `seg->mapped`, where demo_seg_map\(\) \(line 3\) stores/ },
    ],
  },
  {
    name: 'kunmap(pg) through pg = pages[i] is matched to kmap(pages[i]), and the copy is named',
    source: 'static void demo_fill(struct page **pages, size_t len)\n{\n\tstruct page *pg;\n\tchar *p = kmap(pages[0]);\n\n\tmemset(p, 0, len);\n\tpg = pages[0];\n\tkunmap(pg);\n}\n',
    sites: [
      { line: 4, api: 'kmap', class: 'needs-care', reason: /releases this page through the copy `pg = pages\[0\]` \(line 7\)/ },
      { line: 8, api: 'kunmap', class: 'needs-care', reason: /through the copy/ },
    ],
  },
  {
    name: 'a kunmap(pg) of a variable that is no copy of the mapped page stays a stray',
    source: 'static void demo_fill(struct page **pages, struct page *pg, size_t len)\n{\n\tchar *p = kmap(pages[0]);\n\n\tmemset(p, 0, len);\n\tkunmap(pages[0]);\n\tkunmap(pg);\n}\n',
    sites: [
      { line: 3, api: 'kmap', class: 'ready' },
      { line: 6, api: 'kunmap', class: 'ready' },
      { line: 7, api: 'kunmap', class: 'blocked', reason: /kmap\(\)ed in another function/ },
    ],
  },
  {
    name: 'one page expression kmap()ed again after its pointer moved: the move is named',
    source: 'static void demo_walk(struct page **pp, int n)\n{\n\tchar *c = kmap(*pp);\n\n\twhile (n--) {\n\t\tc[0] = 0;\n\t\tkunmap(*pp);\n\t\tpp++;\n\t\tc = kmap(*pp);\n\t}\n\tkunmap(*pp);\n}\n',
    sites: [
      { line: 3, api: 'kmap', class: 'needs-care', reason: /`pp\+\+` \(line 8\) between the 2 kmap\(\*pp\) calls maps another page each time/ },
      { line: 7, api: 'kunmap', class: 'needs-care' },
      { line: 9, api: 'kmap', class: 'needs-care' },
      { line: 11, api: 'kunmap', class: 'needs-care' },
    ],
  },
  {
    name: 'the same page kmap()ed in two switch cases, nothing moved: said as it is',
    source: 'static int demo_rw(struct demo_req *req, int op, size_t len)\n{\n\tchar *buf;\n\n\tswitch (op) {\n\tcase 0:\n\t\tbuf = kmap(bio_page(req->bio));\n\t\tmemset(buf, 0, len);\n\t\tkunmap(bio_page(req->bio));\n\t\treturn 0;\n\tdefault:\n\t\tbuf = kmap(bio_page(req->bio));\n\t\tmemset(buf, 1, len);\n\t\tkunmap(bio_page(req->bio));\n\t\treturn 1;\n\t}\n}\n',
    sites: [
      { line: 7, api: 'kmap', class: 'needs-care', reason: /^the page is kmap\(\)ed 2 times in this function/ },
      { line: 9, api: 'kunmap', class: 'needs-care' },
      { line: 12, api: 'kmap', class: 'needs-care' },
      { line: 14, api: 'kunmap', class: 'needs-care' },
    ],
  },
  {
    name: 'kmap() in a loop unmapped by a later loop: needs-care, naming both lines',
    source: 'static void demo_frame(struct page **pages, int n)\n{\n\tint i;\n\n\tfor (i = 0; i < n; i++)\n\t\tkmap(pages[i]);\n\tdemo_use(pages, n);\n\tfor (i = 0; i < n; i++)\n\t\tkunmap(pages[i]);\n}\n',
    sites: [
      { line: 6, api: 'kmap', class: 'needs-care', reason: /kmap\(\) in a loop \(line 5\) with no kunmap\(\) in that loop \(its kunmap\(\) is at line 9\)/ },
      { line: 9, api: 'kunmap', class: 'needs-care', reason: /in a loop/ },
    ],
  },
  {
    name: 'kmap() in a loop unmapped in the pass, and after the loop when a goto leaves the pass early: ready',
    source: 'static int demo_scan(struct buffer_head **bhs, int n, size_t len)\n{\n\tchar *p;\n\tint i;\n\n\tfor (i = 0; i < n; i++) {\n\t\tp = kmap(bhs[0]->b_page);\n\t\tif (!memchr_inv(p, 0, len))\n\t\t\tgoto found;\n\t\tkunmap(bhs[0]->b_page);\n\t}\n\treturn -ENOENT;\nfound:\n\tkunmap(bhs[0]->b_page);\n\treturn i;\n}\n',
    sites: [
      { line: 7, api: 'kmap', class: 'ready' },
      { line: 10, api: 'kunmap', class: 'ready' },
      { line: 14, api: 'kunmap', class: 'ready' },
    ],
  },
  {
    name: 'kmap() and kunmap() in the same pass of a loop: ready',
    source: 'static void demo_frame(struct page **pages, int n, size_t len)\n{\n\tint i;\n\n\tfor (i = 0; i < n; i++) {\n\t\tchar *p = kmap(pages[i]);\n\n\t\tmemset(p, 0, len);\n\t\tkunmap(pages[i]);\n\t}\n}\n',
    sites: [
      { line: 6, api: 'kmap', class: 'ready' },
      { line: 9, api: 'kunmap', class: 'ready' },
    ],
  },
  {
    name: 'a signature with comments after its parameters is a function (its sites are in it)',
    source: '/*\n * demo\n */\nint demo_tail(struct page *page,\t/* the page */\n\t      const struct demo_key *key,\t/* Key to look for\n\t\t\t\t\t\t * in the tree. */\n\t      char *mode)\n{\n\tchar *tail = kmap(page);\n\n\t*mode = tail[0];\n\tkunmap(page);\n\treturn 0;\n}\n',
    sites: [
      { line: 9, api: 'kmap', class: 'ready', fn: 'demo_tail' },
      { line: 12, api: 'kunmap', class: 'ready', fn: 'demo_tail' },
    ],
  },
  {
    name: 'a doc comment before the signature is not part of it (the function keeps its name)',
    source: '/**\n * demo_tail() - a demo\n * @page: the page\n */\nint demo_tail(struct page *page, char *mode)\n{\n\tchar *tail = kmap(page);\n\n\t*mode = tail[0];\n\tkunmap(page);\n\treturn 0;\n}\n',
    sites: [
      { line: 7, api: 'kmap', class: 'ready', fn: 'demo_tail' },
      { line: 10, api: 'kunmap', class: 'ready', fn: 'demo_tail' },
    ],
  },
];

describe('scan: reasons that are right', () => {
  it.each(cases)('$name', ({ source, sites }) => {
    const got = scanFile('drivers/demo/demo.c', source, { api, config: DEFAULT_CONFIG }).sites;
    expect(got.map((s) => `${s.line} ${s.api} ${s.class}`)).toEqual(sites.map((s) => `${s.line} ${s.api} ${s.class}`));
    sites.forEach((want, i) => {
      if (want.reason) expect(got[i].reason).toMatch(want.reason);
      if (want.fn !== undefined) expect(got[i].function).toBe(want.fn);
    });
  });

  it('evidence: a split pair names the other end; a rule refusal carries the finding steps', () => {
    const pair = scanFile('drivers/demo/demo.c', cases.find((c) => c.name.startsWith('one pair, one class'))!.source, { api, config: DEFAULT_CONFIG }).sites;
    expect(pair.map((s) => s.evidence)).toEqual([['drivers/demo/demo.c:12 kunmap() in demo_put_page()'], ['drivers/demo/demo.c:6 kmap() in demo_get_page()']]);
    const src = 'static int demo_get(struct page *p, int __user *u)\n{\n\tint *v = kmap_atomic(p);\n\tint r = __get_user(*v, u);\n\n\tkunmap_atomic(v);\n\treturn r;\n}\n';
    const refused = scanFile('drivers/demo/demo.c', src, { api, config: DEFAULT_CONFIG }).sites;
    expect(refused[0].class).toBe('needs-care');
    expect(refused[0].rule).not.toBeNull();
    expect(refused[0].evidence?.length).toBeGreaterThan(0);
    expect(refused[0].evidence!.every((e) => /^drivers\/demo\/demo\.c:\d+ /.test(e))).toBe(true);
  });
});
