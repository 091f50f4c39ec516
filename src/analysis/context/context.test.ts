import { locateFunctions } from '../source/functions.js';
import { initParser } from '../syntax/parser.js';
import { calleeName } from '../syntax/ast.js';
import { isContextPrimitive, needOf, sleepOf } from './atomic-api.js';
import { analyseContext, faultsDisabledBy, preemptDisabledBy } from './dataflow.js';
import { lostContexts } from './differential.js';
import { needSites, sleepSites } from './sites.js';
import { KmapApi } from '../kmap-api.js';

const api = new KmapApi();

beforeAll(initParser);

/** The functions of `code` by name (the fileFunctions of an analysis). */
const byName = (code: string) => new Map(locateFunctions(code).map((f) => [f.name, f]));

function fnOf(code: string, name?: string) {
  const fns = locateFunctions(code);
  return name ? fns.find((f) => f.name === name)! : fns[0];
}

/** "name@line: faults-by/preempt-by" for every call of the first function. */
function contexts(code: string): string[] {
  const ctx = analyseContext(fnOf(code));
  return ctx.calls.map((c) => `${calleeName(c.call)}@${c.call.line}: ${faultsDisabledBy(c.holds)?.name ?? '-'}/${preemptDisabledBy(c.holds)?.name ?? '-'}`);
}

describe('context dataflow', () => {
  it('tracks kmap_atomic, pagefault_disable and spinlocks in sequence', () => {
    expect(
      contexts(`static void f(struct page *p, struct dev *d)
{
	void *v = kmap_atomic(p);
	a(v);
	kunmap_atomic(v);
	b();
	pagefault_disable();
	spin_lock(&d->lock);
	c();
	spin_unlock(&d->lock);
	d1();
	pagefault_enable();
	e();
}`),
    ).toEqual([
      'kmap_atomic@3: -/-', 'a@4: kmap_atomic/kmap_atomic', 'kunmap_atomic@5: kmap_atomic/kmap_atomic', 'b@6: -/-',
      'pagefault_disable@7: -/-', 'spin_lock@8: pagefault_disable/-', 'c@9: pagefault_disable/spin_lock',
      'spin_unlock@10: pagefault_disable/spin_lock', 'd1@11: pagefault_disable/-', 'pagefault_enable@12: pagefault_disable/-', 'e@13: -/-',
    ]);
  });

  it('is a must-analysis: a section open on one branch only does not count after the merge', () => {
    expect(
      contexts(`static void f(int x)
{
	if (x)
		preempt_disable();
	g();
	if (x)
		preempt_enable();
}`),
    ).toEqual(['preempt_disable@4: -/-', 'g@5: -/-', 'preempt_enable@7: -/-']);
  });

  it('reaches a fixpoint through loops and gotos', () => {
    expect(
      contexts(`static int f(struct page *p, const char __user *u)
{
	char *v;
	int left;
again:
	v = kmap_atomic(p);
	left = __copy_from_user_inatomic(v, u, 64);
	kunmap_atomic(v);
	if (left) {
		if (fault_in_readable(u, 64))
			return -EFAULT;
		goto again;
	}
	for (int i = 0; i < 4; i++) {
		spin_lock_irqsave(&lk, flags);
		h(i);
		spin_unlock_irqrestore(&lk, flags);
	}
	return 0;
}`),
    ).toEqual([
      'kmap_atomic@6: -/-', '__copy_from_user_inatomic@7: kmap_atomic/kmap_atomic', 'kunmap_atomic@8: kmap_atomic/kmap_atomic',
      'fault_in_readable@10: -/-', 'spin_lock_irqsave@15: -/-', 'h@16: -/spin_lock_irqsave', 'spin_unlock_irqrestore@17: -/spin_lock_irqsave',
    ]);
  });

  it('does not count rcu_read_lock() but counts rcu_read_lock_sched(), get_cpu() and local_irq_save()', () => {
    expect(
      contexts(`static void f(void)
{
	rcu_read_lock();
	a();
	rcu_read_unlock();
	rcu_read_lock_sched();
	b();
	rcu_read_unlock_sched();
	cpu = get_cpu();
	c();
	put_cpu();
	local_irq_save(flags);
	d();
	local_irq_restore(flags);
}`).filter((s) => /^[abcd]@/.test(s)),
    ).toEqual(['a@4: -/-', 'b@7: -/rcu_read_lock_sched', 'c@10: -/get_cpu', 'd@13: -/local_irq_save']);
  });

  it('releases the matching lock, not the most recent one', () => {
    expect(
      contexts(`static void f(void)
{
	spin_lock(&a);
	spin_lock(&b);
	spin_unlock(&a);
	x();
	spin_unlock(&b);
	y();
}`).filter((s) => /^[xy]@/.test(s)),
    ).toEqual(['x@6: -/spin_lock', 'y@8: -/-']);
  });
});

describe('call classification', () => {
  it('takes names of Object.prototype for plain C functions, not sections', () => {
    expect(contexts(`static void f(void)
{
	constructor(obj);
	toString(obj);
	hasOwnProperty(obj);
}`)).toEqual(['constructor@3: -/-', 'toString@4: -/-', 'hasOwnProperty@5: -/-']);
    expect(isContextPrimitive('constructor')).toBe(false);
  });

  const call = (text: string) => locateFunctions(`void f(void)\n{\n\t${text};\n}`)[0].body.descendants('call_expression')[0];
  it.each([
    ['__copy_from_user_inatomic(v, u, n)', 'nofault'],
    ['ret = __get_user(x, p)', 'nofault'],
    ['__get_user(x, p)', null],
    ['this_cpu_inc(stat)', 'preempt'],
    ['per_cpu_ptr(buf, smp_processor_id())', 'preempt'],
    ['per_cpu_ptr(buf, cpu)', null],
    ['copy_from_user(v, u, n)', null],
  ])('%s needs %s', (text, kind) => {
    expect(needOf(call(text))?.kind ?? null).toBe(kind);
  });
  it.each([
    ['kmalloc(n, GFP_KERNEL)', true],
    ['kmalloc(n, GFP_ATOMIC)', false],
    ['kzalloc(n, gfp)', false],
    ['alloc_page(GFP_NOFS | __GFP_ZERO)', true],
    ['mutex_lock(&m)', true],
    ['mutex_trylock(&m)', false],
    ['down_read(&sem)', true],
    ['copy_to_user(u, v, n)', true],
    ['memcpy(a, b, n)', false],
  ])('%s may sleep: %s', (text, sleeps) => {
    expect(!!sleepOf(call(text))).toBe(sleeps);
  });
});

describe('summaries and the differential', () => {
  const helpers = `static void bump(struct stats __percpu *s)
{
	__this_cpu_inc(s->hits);
}

static void slow(void)
{
	mutex_lock(&big);
	mutex_unlock(&big);
}
`;
  it('lifts the needs and sleeps of a static helper to its call site', () => {
    const code = `${helpers}
static void user(struct page *p, struct stats __percpu *s)
{
	void *v = kmap_local_page(p);
	bump(s);
	slow();
	kunmap_local(v);
}`;
    const fns = byName(code);
    const fn = fns.get('user')!;
    expect(needSites(fn, fns, undefined, { api }).map((s) => `${calleeName(s.call)}:${s.need.kind}:${s.via!.base}`)).toEqual(['bump:preempt:__this_cpu_inc']);
    expect(sleepSites(fn, fns, { api }).map((s) => `${calleeName(s.call)}:${s.via!.base}`)).toEqual(['slow:mutex_lock']);
  });

  it('matches calls across images and reports the pre-image cause', () => {
    const pre = fnOf(`static int f(struct page *p, const char __user *u)
{
	char *v = kmap_atomic(p);
	int left = __copy_from_user_inatomic(v, u, 64);
	kunmap_atomic(v);
	return left;
}`);
    const post = fnOf(`static int f(struct page *p, const char __user *u)
{
	char *v = kmap_local_page(p);
	int left = __copy_from_user_inatomic(v, u, 64);
	kunmap_local(v);
	return left;
}`);
    const lost = lostContexts(post, pre, new Map(), 'nofault');
    expect(lost.map((l) => `${l.site.call.line} <- ${l.preHold.name}@${l.preHold.line}`)).toEqual(['4 <- kmap_atomic@3']);
    expect(lostContexts(post, pre, new Map(), 'preempt')).toEqual([]);
  });

  // Callees are followed only for calls named like one inside a pre-image section (differential.ts): a call
  // of the same helper outside the section still counts, or the occurrences would pair the wrong calls.
  const fill = `static int fill(char *v, const char __user *u)
{
	return __copy_from_user_inatomic(v, u, 64);
}
`;
  const twice = (map: string, unmap: string) => `${fill}
static int f(struct page *p, char *buf, const char __user *u)
{
	char *v;
	int left = fill(buf, u);

	v = ${map}(p);
	left += fill(v, u);
	${unmap}(v);
	return left;
}`;
  it.each([
    ['the helper inside the section, after a call of it outside', twice('kmap_atomic', 'kunmap_atomic'), twice('kmap_local_page', 'kunmap_local'), ['12 <- kmap_atomic@11']],
    ['a helper called only outside any section', twice('kmap_atomic', 'kunmap_atomic').replace('left += fill(v, u);', 'left += v[0];'), twice('kmap_local_page', 'kunmap_local').replace('left += fill(v, u);', 'left += v[0];'), []],
  ])('pairs helper calls across images by occurrence: %s', (_name, preCode, postCode, expected) => {
    const preFns = byName(preCode);
    const postFns = byName(postCode);
    const lost = lostContexts(postFns.get('f')!, preFns.get('f')!, postFns, 'nofault', { api });
    expect(lost.map((l) => `${l.site.call.line} <- ${l.preHold.name}@${l.preHold.line}`)).toEqual(expected);
  });

  it('follows only the callees of calls inside a section when asked to (followInSections)', () => {
    const code = `${helpers}
static void user(struct page *p, struct stats __percpu *s, spinlock_t *l)
{
	bump(s);
	slow();
	spin_lock(l);
	bump(s);
	slow();
	spin_unlock(l);
}`;
    const fns = byName(code);
    const fn = fns.get('user')!;
    const lines = (sites: Array<{ call: { line: number } }>) => sites.map((x) => x.call.line);
    expect(lines(sleepSites(fn, fns, { api }))).toEqual([15, 18]);
    expect(lines(sleepSites(fn, fns, { api, followInSections: {} }))).toEqual([18]);
    expect(lines(needSites(fn, fns, 'preempt', { api, followInSections: {} }))).toEqual([17]);
    expect(lines(needSites(fn, fns, 'preempt', { api, followInSections: { alsoNamed: new Set(['bump']) } }))).toEqual([14, 17]);
  });
});
