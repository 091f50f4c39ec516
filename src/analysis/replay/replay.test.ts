import { checkFunction } from '../rules/runner.js';
import { KmapApi } from '../kmap-api.js';
import type { AnalysisGap } from '../model.js';
import { mappingLeak } from '../rules/mapping-leak.js';
import { locateFunctions } from '../source/functions.js';
import { initParser } from '../syntax/parser.js';
import { buildCfg } from '../cfg/cfg.js';
import { evaluate, refine } from './conditions.js';
import { extractEvents } from './events.js';
import { replayFunction } from './replay.js';
import { elementSize } from './values.js';
import { noHighmemArch, NO_HIGHMEM_ARCHES, replayFor } from './query.js';
import { fileSummaries } from './summaries.js';

beforeAll(initParser);

const api = new KmapApi();
const fnOf = (code: string, i = 0) => locateFunctions(code)[i];
const replay = (code: string, budget?: number) => {
  const fns = locateFunctions(code);
  const fn = fns[fns.length - 1];
  return replayFunction(fn, api, { budget, summaries: fileSummaries(new Map(fns.map((f) => [f.name, f])), api) });
};
const kinds = (code: string) => replay(code).violations.map((v) => `${v.kind}@${v.node.line}`);

describe('events', () => {
  const eventsOf = (stmt: string) => {
    const fn = fnOf(`void f(void)\n{\n\t${stmt}\n}`);
    const cfg = buildCfg(fn.body);
    const node = cfg.nodes.find((n) => n.ast && n.line === 3)!;
    return extractEvents(node.ast, api).map((e) => {
      switch (e.kind) {
        case 'map':
          return `map ${e.dest === 'return' ? 'return' : e.dest?.name ?? '-'}`;
        case 'unmap':
          return `unmap ${e.holder?.name ?? '?'}`;
        case 'assign':
          return `assign ${e.target.name}${e.source ? ` = ${e.source.name}` : ''}${e.value !== null ? ` (${e.value})` : ''}`;
        case 'use':
          return `${e.kind} ${e.holder.name}`;
        case 'return':
          return `return ${e.value ? e.value.text : '-'}`;
        case 'call':
          return `call ${e.name} ${e.args.map((a) => a.holder.name).join(',')}`;
        case 'opaque':
          return `opaque ${e.names.join(',')}`;
        case 'unseen':
          return `unseen ${e.range.from}-${e.range.to}`;
        default:
          return `${e.kind} ${e.name}`;
      }
    });
  };

  it('maps with their destination, through casts and offsets', () => {
    expect(eventsOf('char *v = (char *)kmap_local_page(p) + off;')).toEqual(['map v']);
    expect(eventsOf('ptrs[i] = kmap_local_page(pages[i]);')).toEqual(['use pages', 'map ptrs[]', 'use ptrs']);
    expect(eventsOf('ptrs[0] = kmap_local_page(pages[0]);')).toEqual(['use pages', 'map ptrs[0]', 'use ptrs']);
    expect(eventsOf('return kmap_local_page(p);')).toEqual(['map return', 'return kmap_local_page(p)']);
    expect(eventsOf('start = pte = pte_offset_map(pmd, addr);')).toEqual(['map pte', 'assign start = pte']);
  });

  it('unmaps by the variable the argument is rooted in', () => {
    expect(eventsOf('kunmap_local(addr - off);')).toEqual(['unmap addr']);
    expect(eventsOf('pte_unmap_unlock(pte - 1, ptl);')).toEqual(['unmap pte']);
    expect(eventsOf('kunmap_local((void *)((unsigned long)a & PAGE_MASK));')).toEqual(['unmap ?']);
    expect(eventsOf('folio_release_kmap(folio, kaddr);')).toEqual(['unmap kaddr']);
  });

  // Uses of names that hold no mapping are harmless: the replay only looks up released ones.
  it('uses: dereference, index, arrow, call argument; not comparisons or sizeof', () => {
    expect(eventsOf('memcpy(buf, v + off, n);')).toEqual(['use buf', 'use v', 'use n', 'call memcpy buf,v,n']);
    expect(eventsOf('x = *p + q[1] + s->len;')).toEqual(['use p', 'use q', 'use s', 'assign x']);
    expect(eventsOf('*ptrptr++ = ptr + off;')).toEqual(['use ptrptr', 'touch ptrptr', 'assign *ptrptr = ptr']);
    expect(eventsOf('k[0] = 1 +;')).toEqual(['opaque k']);
    expect(eventsOf('if (!v || v == NULL) n = sizeof(*v);')).toEqual([]);
  });

  it('aliases, constants and address-taken', () => {
    expect(eventsOf('b = a + 8;')).toEqual(['assign b = a']);
    expect(eventsOf('mapped = true;')).toEqual(['assign mapped (true)']);
    expect(eventsOf('addr = NULL;')).toEqual(['assign addr (false)']);
    expect(eventsOf('get(&addr);')).toEqual(['address-taken addr']);
  });
});

describe('element sizes', () => {
  it.each([
    ['u32 *', 4],
    ['unsigned char *', 1],
    ['struct page *', null],
    ['constructor *', null], // a typedef named like an Object.prototype member is not a scalar
    ['toString *', null],
  ])('%s -> %s', (type, size) => {
    expect(elementSize(type)).toBe(size);
  });
});

describe('conditions', () => {
  const cond = (c: string) => fnOf(`void f(void)\n{\n\tif (${c})\n\t\tg();\n}`).body.descendants('parenthesized_expression')[0];
  it('evaluates flags, NULL tests, && and ||', () => {
    const facts = new Map([['a', true], ['b', false]]);
    expect(evaluate(cond('a && !b'), facts)).toBe(true);
    expect(evaluate(cond('b || c'), facts)).toBeNull();
    expect(evaluate(cond('a == NULL'), facts)).toBe(false);
    expect(evaluate(cond('unlikely(!a)'), facts)).toBe(false);
  });
  it('treats a != b as the negation of a == b, and x++ as x', () => {
    const facts = new Map([['mm == &init_mm', true], ['p', true]]);
    expect(evaluate(cond('mm != &init_mm'), facts)).toBe(false);
    expect(evaluate(cond('!p++'), facts)).toBe(false);
    expect(refine(cond('x >= LIMIT'), true, new Map())).toEqual([['x < LIMIT', false]]);
  });
});

describe('replay', () => {
  it('follows loops 0, 1 and 2 times and merges identical states', () => {
    const r = replay(`void f(struct page **pages, int n)
{
	int i;

	for (i = 0; i < n; i++) {
		void *v = kmap_local_page(pages[i]);

		if (check(v))
			work(v);
		kunmap_local(v);
	}
}`);
    expect(r.complete).toBe(true);
    expect(r.violations).toEqual([]);
    expect(r.states).toBeGreaterThan(5);
    expect(r.states).toBeLessThan(100);
  });

  describe('integers no path reads again are forgotten', () => {
    // Eight branches giving `len` a different value after its last read: 2^8 paths that differ in nothing
    // a later statement can see.
    const branches = Array.from({ length: 8 }, (_, k) => `\tif (c${k})\n\t\tlen = ${k + 1};`).join('\n');
    it('merges paths that differ only in a dead integer', () => {
      const r = replay(`void f(struct page *page, unsigned int len)\n{\n\tchar *p = kmap_local_page(page);\n\n\tchar *q = p + len;\n\n\t*q = 0;\n${branches}\n\tkunmap_local(p);\n}`);
      expect(r.complete).toBe(true);
      expect(r.violations).toEqual([]);
      expect(r.states).toBeLessThan(40);
    });
    it('merges paths whose unknowns differ only in the assignment that made them', () => {
      // Each call leaves `len` unknown: one unknown per path, the same to every statement after the branches.
      const calls = Array.from({ length: 8 }, (_, k) => `\tif (c${k})\n\t\tlen = next_len${k}(page);`).join('\n');
      const r = replay(`void f(struct page *page, unsigned int len)\n{\n\tchar *p = kmap_local_page(page);\n\tchar *q;\n\n${calls}\n\tq = p + len;\n\t*q = 0;\n\tkunmap_local(p);\n}`);
      expect(r.complete).toBe(true);
      expect(r.violations).toEqual([]);
      expect(r.states).toBeLessThan(40);
    });
    it('keeps an integer a later statement reads: the cursor moved by it is still unmapped outside the page', () => {
      const r = replay(`void f(struct page *page, unsigned int len)\n{\n\tchar *p = kmap_local_page(page);\n\n${branches}\n\tif (full)\n\t\tlen = PAGE_SIZE;\n\tp += len;\n\tkunmap_local(p);\n}`);
      expect(r.violations.map((v) => v.kind)).toEqual(['unmap-outside-page']);
    });
  });

  it.each([
    // Conditions no mapping fact bears on are decided once (replay.ts, fixedTruth): constants still cut paths.
    ['a constant-true loop left only by a return that unmaps', `static int spin(struct page *p, int n)
{
	char *k = kmap_local_page(p);

	while (1) {
		if (k[n]) {
			kunmap_local(k);
			return n;
		}
		n++;
	}
}`, []],
    ['an unmap under a constant-false condition', `static void never(struct page *p)
{
	char *k = kmap_local_page(p);

	k[0] = 1;
	if (0)
		kunmap_local(k);
}`, ['mapping-leak@3']],
    ['an unrelated condition on both sides of the unmap', `static int either(struct page *p, int ret)
{
	char *k = kmap_local_page(p);

	if (ret < 0) {
		kunmap_local(k);
		return ret;
	}
	k[0] = 1;
	if (ret < 0)
		k[1] = 1;
	kunmap_local(k);
	return 0;
}`, []],
    ['an unrelated condition that skips the unmap', `static int skips(struct page *p, int ret)
{
	char *k = kmap_local_page(p);

	if (ret < 0)
		return ret;
	kunmap_local(k);
	return 0;
}`, ['mapping-leak@6']],
  ])('decides conditions without mapping facts: %s', (_name, code, expected) => {
    expect(kinds(code)).toEqual(expected);
  });

  it('reports the replay as incomplete when the budget runs out', () => {
    const r = replay(`void f(struct page *p)
{
	void *v = kmap_local_page(p);
	if (a) work(v);
	kunmap_local(v);
}`, 3);
    expect(r.complete).toBe(false);
    expect(r.states).toBe(3);
    expect(r.stoppedBy).toBe('budget');
  });

  it('says when the time limit (a backstop that depends on the machine) stopped it, not the budget', () => {
    const guards = Array.from({ length: 8 }, (_, k) => `\tif (c${k}) {\n\t\tkunmap_local(v);\n\t\tv = kmap_local_page(p);\n\t}`).join('\n');
    const fns = locateFunctions(`void f(struct page *p)\n{\n\tvoid *v = kmap_local_page(p);\n${guards}\n\tkunmap_local(v);\n}`);
    const r = replayFunction(fns[0], api, { timeLimitMs: -1 });
    expect(r.complete).toBe(false);
    expect(r.stoppedBy).toBe('time');
    const whole = replayFunction(fns[0], api);
    expect(whole.complete).toBe(true);
    expect(whole.stoppedBy).toBeUndefined();
  });

  it('records a gap through the rule context when the budget runs out', () => {
    const guards = Array.from({ length: 16 }, (_, k) => `\tif (c${k}) {\n\t\tkunmap_local(v);\n\t\tv = kmap_local_page(p);\n\t}`).join('\n');
    const code = `void f(struct page *p)\n{\n\tvoid *v = kmap_local_page(p);\n${guards}\n\tkunmap_local(v);\n}`;
    const fn = fnOf(code);
    const gaps: AnalysisGap[] = [];
    checkFunction(fn, { path: 'mm/x.c', source: code, image: 'post', isChanged: () => true, api, rules: [{ rule: mappingLeak, severity: 'error' }], fileFunctions: new Map(), gaps });
    expect(gaps).toHaveLength(1);
    expect(gaps[0].reason).toMatch(/^mapping-leak: the path replay stopped after \d+ states/);
  });

  it('is computed once per function for all rules', () => {
    const code = `void f(struct page *p)\n{\n\tvoid *v = kmap_local_page(p);\n\tkunmap_local(v);\n}`;
    const fn = fnOf(code);
    const ctx = { fn, api, fileFunctions: new Map() };
    expect(replayFor(ctx)).toBe(replayFor(ctx));
  });

  it('skips functions without mappings or unmaps of their own', () => {
    expect(replay(`void f(void *v)\n{\n\tmemcpy(v, buf, 8);\n\tkunmap(page);\n}`).states).toBe(0);
  });

  it('correlates the NULL-ness of a pte_offset_map result with the mapping', () => {
    expect(kinds(`int f(pmd_t *pmd, unsigned long addr)
{
	pte_t *pte = pte_offset_map(pmd, addr);

	if (WARN_ON(!pte))
		return -EAGAIN;
	work(pte);
	pte_unmap(pte);
	return 0;
}`)).toEqual([]);
  });

  it('correlates a comparison guarding the map with the negated one guarding the unmap', () => {
    expect(kinds(`void f(struct mm_struct *mm, pmd_t *pmd, unsigned long addr)
{
	pte_t *pte;

	if (mm == &init_mm || addr >= TASK_SIZE)
		pte = pte_offset_kernel(pmd, addr);
	else
		pte = pte_offset_map(pmd, addr);
	work(pte);
	if (mm != &init_mm && addr < TASK_SIZE)
		pte_unmap(pte);
}`)).toEqual([]);
  });

  it('handles `if (!pte++)` remapping loops', () => {
    expect(kinds(`int f(pmd_t *pmd, unsigned long addr, unsigned long end)
{
	pte_t *pte = NULL;

	do {
		if (!pte++) {
			pte = pte_offset_map(pmd, addr);
			if (!pte)
				break;
		}
		if (need_sleep(pte)) {
			pte_unmap(pte);
			pte = NULL;
			sleep_a_bit();
		}
	} while (addr += PAGE_SIZE, addr != end);
	if (pte)
		pte_unmap(pte);
	return 0;
}`)).toEqual([]);
  });

  it('lets a same-file function that unmaps its parameter consume the mapping', () => {
    expect(kinds(`static void *decompress_overlap(struct req *rq, void *inpage)
{
	if (rq->inplace) {
		kunmap_local(inpage);
		return rq->out;
	}
	return inpage;
}

static int decompress(struct req *rq)
{
	void *headpage = kmap_local_page(rq->in);
	void *src = decompress_overlap(rq, headpage);

	if (IS_ERR(src))
		return PTR_ERR(src);
	run(src);
	if (src == headpage)
		kunmap_local(headpage);
	return 0;
}`)).toEqual([]);
  });

  it('stays silent on an unmap it cannot decide was skipped on purpose', () => {
    expect(kinds(`int f(struct scsi_cmnd *cmd)
{
	int use_sg = scsi_sg_count(cmd);
	char *buffer = kmap_local_page(sg_page(scsi_sglist(cmd)));

	work(buffer);
	if (use_sg)
		kunmap_local(buffer);
	return 0;
}`)).toEqual([]);
  });

  it.each([
    ['code not in the file', '', 'hash_update(), whose code is not in this file'],
    ['a same-file helper passing it on', 'static int hash_block(void *data)\n{\n\treturn hash_update(data, 16);\n}\n\n', 'hash_block(), which passes it on to code that is not in this file'],
  ])('says where an address it cannot follow goes: %s', (_, helper, where) => {
    const call = helper ? 'hash_block(k)' : 'hash_update(k, 16)';
    const r = replay(`${helper}int f(struct page *p)\n{\n\tvoid *k = kmap_local_page(p);\n\n\treturn ${call};\n}`);
    expect(r.undecided.map((u) => u.reason)).toEqual([`k is passed to ${where}, and is not unmapped after it here: whether it is unmapped there was not checked`]);
  });

  it('reports a leak past an unmap skipped under a condition that reads the mapping: the mapping exists there', () => {
    expect(kinds(`static struct usage *usage_of(void *kaddr, int n)
{
	return kaddr + n * sizeof(struct usage);
}

int mark(struct page *p, int n)
{
	void *kaddr = kmap_local_page(p);
	struct usage *su = usage_of(kaddr, n);
	int ret = 0;

	if (usage_error(su))
		ret = -EIO;
	else {
		usage_set_dirty(su);
		kunmap_local(kaddr);
	}
	return ret;
}`)).toEqual(['mapping-leak@18']);
  });

  it('stays silent on an unmap skipped under a comparison of the address (not a read through it)', () => {
    expect(kinds(`int inflate_page(struct page *page, struct stream *st)
{
	char *out;

	if (page)
		out = kmap_local_page(page);
	else
		out = sink_page;
	inflate(st, out);
	if (out != sink_page)
		kunmap_local(out);
	return 0;
}`)).toEqual([]);
  });

  it('reports a return in an arm of an if/else whose arms both unmap: the arm taken skips no unmap', () => {
    expect(kinds(`int f(struct page *p)
{
	char *k = kmap_local_page(p);
	int err = 0;

	if (bad(k)) {
		kunmap_local(k);
		err = -EIO;
	} else {
		fix(k);
		if (fatal_signal_pending(current))
			return -EINTR;
		kunmap_local(k);
	}
	return err;
}`)).toEqual(['mapping-leak@12']);
  });

  it('still reports a leak on a path whose guard it can decide', () => {
    expect(kinds(`int f(struct page *p)
{
	void *v = kmap_local_page(p);
	bool mapped = false;

	if (bad(v))
		return -EIO;
	mapped = true;
	if (mapped)
		kunmap_local(v);
	return 0;
}`)).toEqual(['mapping-leak@7']);
  });

  it('takes the trace through loop iterations', () => {
    const [v] = replay(`void f(struct page **pages, void **ptrs, int n)
{
	int i;

	for (i = 0; i < n; i++)
		ptrs[i] = kmap_local_page(pages[i]);
	for (i = 0; i < n; i++)
		kunmap_local(ptrs[i]);
}`).violations.filter((x) => x.kind === 'unmap-order');
    expect(v.path.map((t) => t.line)).toEqual([6, 5, 6, 5, 7]);
    expect(v.key).toBe('ptrs[]:forward');
  });
});

describe('architectures', () => {
  it('knows the architectures without HIGHMEM', () => {
    expect(noHighmemArch('arch/arm64/mm/copypage.c')).toBe('arm64');
    expect(noHighmemArch('arch/arm/mm/copypage-v6.c')).toBeNull();
    expect(noHighmemArch('mm/highmem.c')).toBeNull();
    expect(NO_HIGHMEM_ARCHES).toContain('loongarch');
  });
});

describe('which callees are worth a summary', () => {
  const helpers = `static int count_zero(struct page *page)
{
	char *p = kmap_local_page(page);
	int n = !p[0];

	kunmap_local(p);
	return n;
}

static unsigned long map_long(struct page *page)
{
	return (unsigned long)kmap_local_page(page);
}

static void *map_ptr(struct page *page)
{
	return kmap_local_page(page);
}

static int no_maps(int x)
{
	return x + 1;
}
`;
  const fns = locateFunctions(helpers);
  const s = fileSummaries(new Map(fns.map((f) => [f.name, f])), api);

  it('an int (or narrower, or void) return cannot carry an address: `ret = f()` needs no summary of f', () => {
    expect(s.mayReturnAddress('count_zero')).toBe(false);
    expect(s.mayReturnAddress('no_maps')).toBe(false);
  });

  it('a pointer or an unsigned long can: those callees are still summarised', () => {
    expect(s.mayReturnAddress('map_ptr')).toBe(true);
    expect(s.mayReturnAddress('map_long')).toBe(true);
    expect(s.of('map_ptr')?.returnsMapping).toBe('always');
  });

  it('a helper returning a mapping is still followed into its caller (a leak through it is found)', () => {
    const code = `${helpers}
int use(struct page *page)
{
	char *v = map_ptr(page);

	if (!v[0])
		return -EINVAL;
	kunmap_local(v);
	return 0;
}`;
    expect(kinds(code)).toContain('mapping-leak@30');
  });

  it('a call whose arguments cannot hold a mapping does not summarise the callee, one given a mapping does', () => {
    // Outside summary mode a pointer parameter holds no mapping of this function's: `count_zero(page)` is
    // not asked about; `kunmap_it(v)` with v mapped here is (and unmaps it: no leak).
    const code = `static void kunmap_it(void *addr)
{
	kunmap_local(addr);
}

int g(struct page *page)
{
	void *v = kmap_local_page(page);

	kunmap_it(v);
	return 0;
}`;
    expect(kinds(code)).toEqual([]);
  });
});
