import { KmapApi } from '../kmap-api.js';
import { initParser } from '../syntax/parser.js';
import { CalleeSummaries, describeChain, MAX_DEPTH, type ContextSummary } from './context.js';
import { DefinitionIndex, HashedDefinitionIndex, nameBeforeBrace, namesDefinedIn, type DefinitionLookup } from './definitions.js';
import { TreeDefinitions } from './tree.js';

beforeAll(async () => {
  await initParser();
});

const api = new KmapApi();

/** A small kernel-style tree in memory: its index and summaries, as the scan builds them. */
function tree(files: Record<string, string>) {
  const index = new DefinitionIndex();
  for (const [path, text] of Object.entries(files)) index.add(path, Buffer.from(text));
  const defs = new TreeDefinitions(index, (p) => files[p] ?? null);
  const summaries = new CalleeSummaries(api, defs);
  /** The summary of a call of `name` made from the file `from`. */
  const of = (from: string, name: string): ContextSummary | undefined => summaries.ofCall(name, defs.scope(from) ?? { path: from, defs: () => [] });
  return { index, defs, summaries, of };
}

/** Needs and sleep of a summary in words: "nofault: fetch() -> raw_copy_from_user()". */
function facts(s: ContextSummary | undefined): string[] {
  if (!s) return ['unknown'];
  const chain = (c: string[]) => c.map((n) => `${n}()`).join(' -> ');
  return [...s.needs.map((e) => `${e.kind}: ${chain(e.chain)}`), ...(s.sleep ? [`sleep: ${chain(s.sleep.chain)}`] : []), ...s.callsParams.map((p) => `calls param ${p}`)];
}

const CALLER = `static void copy_one(struct page *page, const void __user *u, size_t n)
{
	char *p = kmap_atomic(page);
	fetch(p, u, n);
	kunmap_atomic(p);
}
`;

describe('callee summaries: table', () => {
  const cases: Array<{ name: string; files: Record<string, string>; ask: [string, string]; expected: string[] }> = [
    {
      name: 'a callee in another file that copies from user space without faulting',
      files: {
        'fs/a.c': CALLER,
        'lib/b.c': `size_t fetch(void *to, const void __user *from, size_t n)
{
	return raw_copy_from_user(to, from, n);
}
`,
      },
      ask: ['fs/a.c', 'fetch'],
      expected: ['nofault: raw_copy_from_user()'],
    },
    {
      name: 'two calls down, through a static helper of the callee\'s own file',
      files: {
        'fs/a.c': CALLER,
        'lib/b.c': `static int copyin(void *to, const void __user *from, size_t n)
{
	if (access_ok(from, n))
		n = raw_copy_from_user(to, from, n);
	return n;
}

size_t fetch(void *to, const void __user *from, size_t n)
{
	return copyin(to, from, n);
}
`,
      },
      ask: ['fs/a.c', 'fetch'],
      expected: ['nofault: copyin() -> raw_copy_from_user()'],
    },
    {
      name: 'valid: a callee that says it may fault (might_fault()) does not rely on its raw copy failing',
      files: {
        'lib/b.c': `size_t fetch(void *to, const void __user *from, size_t n)
{
	might_fault();
	return raw_copy_from_user(to, from, n);
}
`,
      },
      ask: ['fs/a.c', 'fetch'],
      expected: ['sleep: might_fault()'],
    },
    {
      name: 'valid: a callee that disables page faults itself needs nothing from its caller',
      files: {
        'lib/b.c': `size_t fetch(void *to, const void __user *from, size_t n)
{
	size_t left;

	pagefault_disable();
	left = __copy_from_user_inatomic(to, from, n);
	pagefault_enable();
	return left;
}
`,
      },
      ask: ['fs/a.c', 'fetch'],
      expected: [],
    },
    {
      name: 'valid: the vocabulary decides the *_nofault family, whatever a definition in the tree says',
      files: {
        'mm/maccess.c': `long copy_from_user_nofault(void *dst, const void __user *src, size_t size)
{
	return raw_copy_from_user(dst, src, size);
}
`,
        'lib/b.c': `long fetch(void *to, const void __user *from, size_t n)
{
	return copy_from_user_nofault(to, from, n);
}
`,
      },
      ask: ['fs/a.c', 'fetch'],
      expected: [],
    },
    {
      name: 'a static inline of a header is visible from every file',
      files: {
        'include/linux/stat.h': `static inline void count_hit(struct stats __percpu *s)
{
	__this_cpu_inc(s->hits);
}
`,
      },
      ask: ['fs/a.c', 'count_hit'],
      expected: ['preempt: __this_cpu_inc()'],
    },
    {
      name: 'valid: a static function of another .c file is not what a call from here reaches',
      files: {
        'lib/b.c': `static size_t fetch(void *to, const void __user *from, size_t n)
{
	return raw_copy_from_user(to, from, n);
}
`,
      },
      ask: ['fs/a.c', 'fetch'],
      expected: ['unknown'],
    },
    {
      name: 'valid: a single this_cpu_<op>() protects itself; __this_cpu_<op>() needs its caller',
      files: {
        'lib/b.c': `void fetch(struct stats __percpu *s)
{
	this_cpu_inc(s->hits);
}
`,
      },
      ask: ['fs/a.c', 'fetch'],
      expected: [],
    },
    {
      name: 'recursion through two files terminates with the facts of the whole cycle',
      files: {
        'lib/b.c': `int walk(struct node *n)
{
	if (!n)
		return 0;
	return visit(n->next);
}
`,
        'lib/c.c': `int visit(struct node *n)
{
	__this_cpu_inc(visits);
	return walk(n);
}
`,
      },
      ask: ['fs/a.c', 'walk'],
      expected: ['preempt: visit() -> __this_cpu_inc()'],
    },
    {
      name: 'valid: a name with several definitions (per-arch variants) is not followed',
      files: {
        'arch/a/mm/flush.c': `void flush_one(struct page *page)
{
	if (cpu_online(smp_processor_id()))
		do_flush(page);
}
`,
        'arch/b/mm/flush.c': `void flush_one(struct page *page)
{
	do_flush(page);
}
`,
      },
      ask: ['fs/a.c', 'flush_one'],
      expected: ['unknown'],
    },
    {
      name: 'a callback: a function handed to a callee that calls its parameter',
      files: {
        'fs/a.c': `static size_t step_user(void __user *from, size_t n, void *to)
{
	return raw_copy_from_user(to, from, n);
}

size_t copy_all(struct iter *i, void *to)
{
	return iterate(i, to, step_user);
}
`,
        'include/linux/iter.h': `static inline size_t iterate(struct iter *i, void *to, iter_step_f step)
{
	return iterate_one(i, to, step);
}

static inline size_t iterate_one(struct iter *i, void *to, iter_step_f fn)
{
	return fn(i->base, i->len, to);
}
`,
      },
      ask: ['fs/a.c', 'copy_all'],
      expected: ['nofault: iterate() -> step_user() -> raw_copy_from_user()'],
    },
    {
      name: 'a sleep in another file, outside the callee\'s own sections',
      files: {
        'drivers/x/hw.c': `void hw_wait(struct hw *hw)
{
	mutex_lock(&hw->lock);
	hw->ready = 1;
	mutex_unlock(&hw->lock);
}
`,
      },
      ask: ['fs/a.c', 'hw_wait'],
      expected: ['sleep: mutex_lock()'],
    },
    {
      name: 'valid: a need the callee satisfies under its own spinlock is not passed on',
      files: {
        'drivers/x/hw.c': `void hw_count(struct hw *hw)
{
	spin_lock(&hw->lock);
	__this_cpu_inc(hw->stats->n);
	spin_unlock(&hw->lock);
}
`,
      },
      ask: ['fs/a.c', 'hw_count'],
      expected: [],
    },
  ];

  it.each(cases)('$name', ({ files, ask, expected }) => {
    const t = tree(files);
    expect(facts(t.of(ask[0], ask[1]))).toEqual(expected);
  });
});

describe('callee summaries: limits', () => {
  it(`does not read past ${MAX_DEPTH} calls: what lies beyond is unknown, not assumed`, () => {
    const n = MAX_DEPTH + 2;
    const files: Record<string, string> = {};
    for (let i = 0; i < n; i++) files[`lib/f${i}.c`] = `void f${i}(void)\n{\n\tf${i + 1}();\n}\n`;
    files[`lib/f${n}.c`] = `void f${n}(void)\n{\n\t__this_cpu_inc(x);\n}\n`;
    const t = tree(files);
    expect(facts(t.of('fs/a.c', 'f0'))).toEqual([]);
    // From close enough, the same chain is seen.
    expect(facts(t.of('fs/a.c', `f${n - 2}`))).toEqual([`preempt: f${n - 1}() -> f${n}() -> __this_cpu_inc()`]);
  });

  it('reads only the files that may define the names reached', () => {
    const t = tree({
      'lib/b.c': 'size_t fetch(void *to, const void __user *from, size_t n)\n{\n\treturn raw_copy_from_user(to, from, n);\n}\n',
      'lib/unrelated.c': 'void other(void)\n{\n\tmutex_lock(&m);\n}\n',
    });
    t.of('fs/a.c', 'fetch');
    expect(t.defs.filesRead).toBe(1);
  });

  it('describes a chain the way a trace shows it', () => {
    expect(describeChain({ chain: ['copyin', 'raw_copy_from_user'], why: 'raw_copy_from_user() must not fault: it is relied on to fail' })).toBe('copyin() -> raw_copy_from_user(): must not fault: it is relied on to fail');
  });
});

describe('definition index', () => {
  it.each([
    ['int foo(int a)\n{\n', 'foo'],
    ['static inline void\nbar(struct x *x,\n    int y)\n{\n', 'bar'],
    ['void baz(spinlock_t *l) __releases(l)\n{\n', 'baz'],
    ['void qux(spinlock_t *l) __acquires(l) __releases(m)\n{\n', 'qux'],
    ['int __init __sched_setup(void)\n{\n', '__sched_setup'],
    ['long f(void)\n{\n', 'f'],
    ['static struct ops o =\n{\n', null],
    ['\tif (x)\n{\n', null],
    ['\twhile (list_empty(&q))\n{\n', null],
    ['#define defined(x)\n{\n', null],
  ])('%j defines %s', (text, name) => {
    const b = Buffer.from(text);
    expect(nameBeforeBrace(b, b.indexOf('\n{'))).toBe(name);
  });

  describe.each<[string, () => DefinitionLookup & { add(path: string, bytes: Uint8Array): void }]>([
    ['by name', () => new DefinitionIndex()],
    ['by hash', () => new HashedDefinitionIndex()],
  ])('%s', (_, make) => {
    it('indexes headers whole and only the non-static definitions of .c files', () => {
      const index = make();
      index.add('lib/a.c', Buffer.from('static int helper(void)\n{\n}\n\nstatic int\nother(void)\n{\n}\n\nint api(void)\n{\n}\n'));
      index.add('include/a.h', Buffer.from('static inline int inl(void)\n{\n}\n'));
      index.add('lib/b.c', Buffer.from('int api(void)\n{\n}\n\n#ifdef CONFIG_X\nint api(void)\n{\n}\n#endif\n'));
      expect(index.files('helper')).toEqual([]);
      expect(index.files('other')).toEqual([]);
      expect(index.files('api')).toEqual(['lib/a.c', 'lib/b.c']);
      expect(index.files('inl')).toEqual(['include/a.h']);
      expect(index.files('missing')).toEqual([]);
      expect(index.size).toEqual({ files: 3, names: 2, definitions: 3 });
    });

    it('never throws on bytes that are not C', () => {
      const index = make();
      expect(() => index.add('x.c', Buffer.from([0x0a, 0x7b, 0x29, 0x0a, 0x7b, 0xff, 0x28, 0x29, 0x0a, 0x7b]))).not.toThrow();
    });
  });

  it('answers by hash what it answers by name, over a tree larger than the hash table starts', () => {
    // 2,800 files of 30 definitions: ~69,000 entries over ~50,000 names (the table starts with 32,768 slots
    // and room for 65,536 entries, so both grow), names shared by a few files, static ones, annotations.
    const files: Array<[string, Buffer]> = [];
    for (let f = 0; f < 2800; f++) {
      const path = f % 10 === 0 ? `include/h${f}.h` : `drivers/d${f}.c`;
      let text = '';
      for (let d = 0; d < 30; d++) {
        const shared = (f * 30 + d) % 7 === 0;
        const name = shared ? `common_${d}_${f % 97}` : `fn_${f}_${d}`;
        text += `${d % 5 === 0 ? 'static ' : ''}int ${name}(struct dev *dev)${d % 11 === 0 ? ' __must_hold(&dev->lock)' : ''}\n{\n\treturn 0;\n}\n\n`;
      }
      files.push([path, Buffer.from(text)]);
    }
    const byName = new DefinitionIndex();
    const byHash = new HashedDefinitionIndex();
    for (const [path, bytes] of files) {
      byName.add(path, bytes);
      byHash.add(path, bytes);
    }
    const names = [...new Set(files.flatMap(([path, bytes]) => namesDefinedIn(path, bytes))), 'fn_x', 'common_0_97', 'must_hold'];
    const answers = (index: DefinitionLookup) => names.map((name) => `${name}: ${index.files(name).join(' ')}`);
    expect(answers(byHash)).toEqual(answers(byName));
    expect(byHash.size).toEqual(byName.size);
    expect(byName.size.names).toBeGreaterThan(32768 / 2);
    expect(byName.size.definitions).toBeGreaterThan(65536);
  });
});
