import { sleepInAtomic } from './sleep-in-atomic.js';
import { conversionTester, ruleTester } from './testing.js';

const section = (map: string, unmap: string, body: string) => `static int load_block(struct blk_ctx *bc, struct page *page, size_t len)
{
	void *v = ${map}(page);
	void *tmp;

${body}
	${unmap}(v);
	return 0;
}`;

ruleTester(sleepInAtomic, {
  valid: [
    { name: 'GFP_KERNEL inside kmap_local', code: section('kmap_local_page', 'kunmap_local', '\ttmp = kmalloc(len, GFP_KERNEL);\n\tmemcpy(tmp, v, len);') },
    { name: 'mutex inside kmap_local', code: section('kmap_local_page', 'kunmap_local', '\tmutex_lock(&bc->mutex);\n\tmemcpy(bc->buf, v, len);\n\tmutex_unlock(&bc->mutex);') },
    { name: 'GFP_ATOMIC inside kmap_atomic', code: section('kmap_atomic', 'kunmap_atomic', '\ttmp = kmalloc(len, GFP_ATOMIC);') },
    { name: 'GFP mask from a variable', code: section('kmap_atomic', 'kunmap_atomic', '\ttmp = kmalloc(len, bc->gfp);') },
    { name: 'sleeping after the section', code: `static void f(struct page *p)\n{\n\tvoid *v = kmap_atomic(p);\n\tclear_page(v);\n\tkunmap_atomic(v);\n\tmsleep(10);\n}` },
    { name: 'copy_from_user under explicit pagefault_disable() is meant to fail', code: section('kmap_local_page', 'kunmap_local', '\tpagefault_disable();\n\tleft = copy_from_user(v, bc->ubuf, len);\n\tpagefault_enable();') },
    {
      name: 'pre-existing sleep in an atomic section, unchanged lines',
      code: `static void f(struct page *p)\n{\n\tvoid *v = kmap_atomic(p);\n\tcond_resched();\n\tkunmap_atomic(v);\n\tcount++; // +\n}`,
    },
    { name: 'unlock before sleeping', code: `static void f(struct dev *d)\n{\n\tspin_lock(&d->lock);\n\td->n++;\n\tspin_unlock(&d->lock);\n\tmutex_lock(&d->m);\n\tmutex_unlock(&d->m);\n}` },
  ],
  invalid: [
    { name: 'GFP_KERNEL inside kmap_atomic', code: section('kmap_atomic', 'kunmap_atomic', '\ttmp = kmalloc(len, GFP_KERNEL);'), findings: [[6, 'kmalloc() with GFP_KERNEL may sleep']] },
    { name: 'mutex inside kmap_atomic', code: section('kmap_atomic', 'kunmap_atomic', '\tmutex_lock(&bc->mutex);\n\tmutex_unlock(&bc->mutex);'), findings: [[6, 'Convert the mapping to kmap_local_page()']] },
    { name: 'copy_to_user inside kmap_atomic', code: section('kmap_atomic', 'kunmap_atomic', '\tif (copy_to_user(bc->ubuf, v, len))\n\t\treturn -EFAULT;'), findings: [[6, 'cannot fault the user page in']] },
    {
      name: 'kmap_local section under a spinlock still may not sleep',
      code: `static void f(struct dev *d, struct page *p)\n{\n\tvoid *v;\n\n\tspin_lock(&d->lock);\n\tv = kmap_local_page(p);\n\td->buf = kzalloc(64, GFP_NOFS);\n\tkunmap_local(v);\n\tspin_unlock(&d->lock);\n}`,
      findings: [[7, 'spin_lock(d->lock) at line 5']],
    },
    {
      name: 'added sleep in an existing section',
      code: `static void f(struct page *p)\n{\n\tvoid *v = kmap_atomic(p);\n\tcond_resched(); // +\n\tkunmap_atomic(v);\n}`,
      findings: [[4, 'cond_resched() may sleep']],
    },
    {
      name: 'a static helper that sleeps',
      code: `static void wait_hw(struct dev *d)\n{\n\tmsleep(1);\n}\n\nstatic void f(struct dev *d, struct page *p)\n{\n\tvoid *v = kmap_atomic(p);\n\twait_hw(d);\n\tkunmap_atomic(v);\n}`,
      findings: [[9, 'wait_hw() -> msleep(): may sleep (line 3)']],
    },
    {
      name: 'preempt_disable()',
      code: `static void f(void)\n{\n\tpreempt_disable();\n\tdown_read(&sem);\n\tup_read(&sem);\n\tpreempt_enable();\n}`,
      findings: [[4, 'preempt_disable() at line 3']],
    },
  ],
});

conversionTester(sleepInAtomic, [
  { name: 'conversion that makes a sleeping call legal', pre: section('kmap_atomic', 'kunmap_atomic', '\ttmp = kmalloc(len, GFP_ATOMIC);'), post: section('kmap_local_page', 'kunmap_local', '\ttmp = kmalloc(len, GFP_KERNEL);') },
  { name: 'a pre-existing bug the patch does not touch is not reported as new', pre: `static void f(struct page *p, int n)\n{\n\tvoid *v = kmap_atomic(p);\n\tcond_resched();\n\tkunmap_atomic(v);\n\tn++;\n}`, post: `static void f(struct page *p, int n)\n{\n\tvoid *v = kmap_atomic(p);\n\tcond_resched();\n\tkunmap_atomic(v);\n\tn += 2;\n}` },
]);
