import { lostPreemptDisable } from './lost-preempt-disable.js';
import { conversionTester, findingsFor } from './testing.js';
import { initParser } from '../syntax/parser.js';

/** A checksum into a per-CPU scratch buffer, as crypto and compression code does. */
const scratch = (map: string, open: string, close: string, unmap: string) => `static u32 page_csum(struct page *page)
{
	u8 *src = ${map}(page);
	u8 *buf;
	u32 sum;
${open}
	buf = per_cpu_ptr(csum_scratch, smp_processor_id());
	memcpy(buf, src, PAGE_SIZE);
	sum = crc32(0, buf, PAGE_SIZE);${close}
	${unmap}(src);
	return sum;
}`;

const stats = (map: string, unmap: string) => `static void count_zero(struct page *page)
{
	void *v = ${map}(page);

	if (memchr_inv(v, 0, PAGE_SIZE) == NULL)
		__this_cpu_inc(zero_pages);
	${unmap}(v);
}`;

const helper = (map: string, unmap: string) => `static void note_cpu(struct walk *w)
{
	w->cpu = smp_processor_id();
}

static void walk_page(struct walk *w, struct page *page)
{
	void *v = ${map}(page);
	note_cpu(w);
	consume(w, v);
	${unmap}(v);
}`;

conversionTester(lostPreemptDisable, [
  {
    name: 'per-CPU scratch buffer, converted naively',
    pre: scratch('kmap_atomic', '', '', 'kunmap_atomic'),
    post: scratch('kmap_local_page', '', '', 'kunmap_local'),
    findings: [[7, 'per_cpu_ptr(..., smp_processor_id()) accesses this CPU\'s data']],
  },
  { name: 'per-CPU scratch buffer with explicit preempt_disable()', pre: scratch('kmap_atomic', '', '', 'kunmap_atomic'), post: scratch('kmap_local_page', '\tpreempt_disable();', '\n\tpreempt_enable();', 'kunmap_local') },
  { name: 'per-CPU scratch buffer under a spinlock', pre: scratch('kmap_atomic', '', '', 'kunmap_atomic'), post: scratch('kmap_local_page', '\tspin_lock(&csum_lock);', '\n\tspin_unlock(&csum_lock);', 'kunmap_local') },
  { name: 'per-CPU scratch buffer under local_irq_save()', pre: scratch('kmap_atomic', '', '', 'kunmap_atomic'), post: scratch('kmap_local_page', '\tlocal_irq_save(flags);', '\n\tlocal_irq_restore(flags);', 'kunmap_local') },
  {
    name: 'rcu_read_lock() does not disable preemption',
    pre: scratch('kmap_atomic', '', '', 'kunmap_atomic'),
    post: scratch('kmap_local_page', '\trcu_read_lock();', '\n\trcu_read_unlock();', 'kunmap_local'),
    findings: [[7, 'kmap_atomic(), which disables preemption as a side effect, at line 3 of the pre-image']],
  },
  { name: '__this_cpu_inc() in a branch', pre: stats('kmap_atomic', 'kunmap_atomic'), post: stats('kmap_local_page', 'kunmap_local'), findings: [[6, '__this_cpu_inc() accesses this CPU']] },
  { name: 'smp_processor_id() in a static helper', pre: helper('kmap_atomic', 'kunmap_atomic'), post: helper('kmap_local_page', 'kunmap_local'), findings: [[9, '(through note_cpu())']] },
  { name: 'per-CPU access that was outside the atomic section', pre: `static void f(struct page *p)\n{\n\tint cpu = smp_processor_id();\n\tvoid *v = kmap_atomic(p);\n\tuse(cpu, v);\n\tkunmap_atomic(v);\n}`, post: `static void f(struct page *p)\n{\n\tint cpu = smp_processor_id();\n\tvoid *v = kmap_local_page(p);\n\tuse(cpu, v);\n\tkunmap_local(v);\n}` },
]);

describe('lost-preempt-disable outside conversions', () => {
  beforeAll(initParser);
  it('has a complete doc and is a warning', () => {
    for (const s of ['## What it finds', '## Why it matters', '## Example', '## Fix']) expect(lostPreemptDisable.meta.doc).toContain(s);
    expect(lostPreemptDisable.meta.severity).toBe('warning');
  });
  it('reports nothing without a pre-image', () => {
    expect(findingsFor(lostPreemptDisable, stats('kmap_local_page', 'kunmap_local'))).toEqual([]);
  });
});
