/**
 * What kernel calls do to the execution context (v6.12 semantics), for the atomic-context analysis:
 * which calls disable/enable page faults or preemption, which calls need page faults or preemption
 * disabled to be correct, and which calls may sleep.
 *
 * Sources: include/linux/highmem-internal.h (kmap_atomic = preempt_disable/migrate_disable +
 * pagefault_disable, on every config), include/linux/uaccess.h (pagefault_disable, *_inatomic),
 * include/linux/spinlock.h (every spin/read/write lock disables preemption on !PREEMPT_RT),
 * include/linux/rcupdate.h (rcu_read_lock() does not disable preemption under PREEMPT_RCU; the _sched
 * and _bh flavours do), include/linux/smp.h (get_cpu), include/linux/percpu-defs.h.
 */
import { memoByText } from '../memo.js';
import { callArguments, calleeName, normalizedText, type SyntaxNode } from '../syntax/ast.js';

/** What a hold disables. */
export interface ContextEffect {
  faults: boolean;
  preempt: boolean;
}

/** A call that opens a context section (pagefault_disable(), spin_lock(), kmap_atomic(), ...). */
export interface Acquire extends ContextEffect {
  /** Family: the release must be of the same family (kunmap_atomic releases kmap_atomic, ...). */
  family: string;
  /** Index of the argument naming the lock/address the release must match, or null. */
  keyArg: number | null;
}

export interface Release {
  family: string;
  keyArg: number | null;
}

/** Spinning locks; xa_lock*() is the XArray's spinlock (include/linux/xarray.h: `#define xa_lock_irqsave(xa, flags) spin_lock_irqsave(&(xa)->xa_lock, flags)`). */
const LOCK_ACQUIRE = /^(?:(?:raw_)?(?:spin|read|write)_lock(?:_irq|_irqsave|_bh)?(?:_nested)?|xa_lock(?:_irq|_irqsave|_bh)?)$/;
const LOCK_RELEASE = /^(?:(?:raw_)?(?:spin|read|write)_unlock(?:_irq|_irqrestore|_bh)?|xa_unlock(?:_irq|_irqrestore|_bh)?)$/;

const ACQUIRES: Record<string, Acquire> = {
  kmap_atomic: { family: 'kmap_atomic', keyArg: null, faults: true, preempt: true },
  kmap_atomic_prot: { family: 'kmap_atomic', keyArg: null, faults: true, preempt: true },
  kmap_atomic_pfn: { family: 'kmap_atomic', keyArg: null, faults: true, preempt: true },
  pagefault_disable: { family: 'pagefault', keyArg: null, faults: true, preempt: false },
  preempt_disable: { family: 'preempt', keyArg: null, faults: false, preempt: true },
  preempt_disable_notrace: { family: 'preempt', keyArg: null, faults: false, preempt: true },
  get_cpu: { family: 'get_cpu', keyArg: null, faults: false, preempt: true },
  get_cpu_var: { family: 'get_cpu_var', keyArg: 0, faults: false, preempt: true },
  get_cpu_ptr: { family: 'get_cpu_ptr', keyArg: 0, faults: false, preempt: true },
  local_irq_disable: { family: 'irq', keyArg: null, faults: false, preempt: true },
  local_irq_save: { family: 'irq', keyArg: null, faults: false, preempt: true },
  raw_local_irq_save: { family: 'irq', keyArg: null, faults: false, preempt: true },
  raw_local_irq_disable: { family: 'irq', keyArg: null, faults: false, preempt: true },
  local_bh_disable: { family: 'bh', keyArg: null, faults: false, preempt: true },
  rcu_read_lock_sched: { family: 'rcu_sched', keyArg: null, faults: false, preempt: true },
  rcu_read_lock_sched_notrace: { family: 'rcu_sched', keyArg: null, faults: false, preempt: true },
  rcu_read_lock_bh: { family: 'rcu_bh', keyArg: null, faults: false, preempt: true },
  local_lock: { family: 'local_lock', keyArg: 0, faults: false, preempt: true },
  local_lock_irq: { family: 'local_lock', keyArg: 0, faults: false, preempt: true },
  local_lock_irqsave: { family: 'local_lock', keyArg: 0, faults: false, preempt: true },
  // The page-table lock: a spinlock, taken together with a (HIGHPTE) local map of the PTE page.
  pte_offset_map_lock: { family: 'lock', keyArg: 3, faults: false, preempt: true },
};

const RELEASES: Record<string, Release> = {
  kunmap_atomic: { family: 'kmap_atomic', keyArg: null },
  pagefault_enable: { family: 'pagefault', keyArg: null },
  preempt_enable: { family: 'preempt', keyArg: null },
  preempt_enable_no_resched: { family: 'preempt', keyArg: null },
  preempt_enable_notrace: { family: 'preempt', keyArg: null },
  put_cpu: { family: 'get_cpu', keyArg: null },
  put_cpu_var: { family: 'get_cpu_var', keyArg: 0 },
  put_cpu_ptr: { family: 'get_cpu_ptr', keyArg: 0 },
  local_irq_enable: { family: 'irq', keyArg: null },
  local_irq_restore: { family: 'irq', keyArg: null },
  raw_local_irq_restore: { family: 'irq', keyArg: null },
  raw_local_irq_enable: { family: 'irq', keyArg: null },
  local_bh_enable: { family: 'bh', keyArg: null },
  rcu_read_unlock_sched: { family: 'rcu_sched', keyArg: null },
  rcu_read_unlock_sched_notrace: { family: 'rcu_sched', keyArg: null },
  rcu_read_unlock_bh: { family: 'rcu_bh', keyArg: null },
  local_unlock: { family: 'local_lock', keyArg: 0 },
  local_unlock_irq: { family: 'local_lock', keyArg: 0 },
  local_unlock_irqrestore: { family: 'local_lock', keyArg: 0 },
  pte_unmap_unlock: { family: 'lock', keyArg: 1 },
};

export function acquireOf(name: string | null): Acquire | null {
  if (!name) return null;
  // (Own keys only: a C function named `constructor` or `toString` is not Object.prototype's.)
  if (Object.hasOwn(ACQUIRES, name)) return ACQUIRES[name];
  if (LOCK_ACQUIRE.test(name)) return { family: 'lock', keyArg: 0, faults: false, preempt: true };
  return null;
}

export function releaseOf(name: string | null): Release | null {
  if (!name) return null;
  if (Object.hasOwn(RELEASES, name)) return RELEASES[name];
  if (LOCK_RELEASE.test(name)) return { family: 'lock', keyArg: 0 };
  return null;
}

/** The lock/address text an acquire or release names, `&foo->lock` -> "foo->lock". */
export function keyText(call: SyntaxNode, keyArg: number | null): string | null {
  if (keyArg === null) return null;
  const arg = callArguments(call)[keyArg];
  return arg ? normalizedText(arg).replace(/^&\s*/, '').replace(/^\((.*)\)$/, '$1') : null;
}

/** What a call needs from its context to behave as written. */
export type NeedKind = 'nofault' | 'preempt';

export interface Need {
  kind: NeedKind;
  /** Why, in words: "__copy_from_user_inatomic() must not take a page fault". */
  why: string;
  /** A raw user copy: no need in a function that says it may fault (acceptsFaults). */
  raw?: boolean;
  /**
   * A need of the function that makes the call, never passed to its callers by a summary
   * (include/linux/percpu-defs.h): a single this_cpu_<op>() (not __this_cpu_*, not this_cpu_ptr()) has
   * "implied preemption/interrupt protection", so only a sequence of them in one function can rely on the
   * section around it; raw_cpu_*() are "for contexts where we do not want to do any checks for
   * preemptions", the writer's statement that the protection is the function's own business.
   */
  ownOnly?: boolean;
}

/** True for a call saying the function may fault here (might_fault()): its raw copies are not relied on to fail. */
export function acceptsFaults(name: string | null): boolean {
  return !!name && ACCEPTS_FAULTS.test(name);
}

const INATOMIC_COPY = /^(?:__copy_(?:from|to)_user_inatomic\w*|copy_\w*_user_inatomic\w*|__copy_from_user_inatomic_nocache)$/;
/**
 * The raw user copies and the arch primitives under them: no might_fault(), no fault handling of their own.
 * include/linux/uaccess.h: `__copy_from_user_inatomic()` is `raw_copy_from_user()` plus instrumentation, and
 * `__copy_from_user()`/`_copy_from_user()` (lib/usercopy.c) are the same call after might_fault(). Called
 * directly, they are relied on to fail instead of faulting unless the caller says it may fault (see
 * `acceptsFaults` in RAW_COPY's use). The primitives: x86 uaccess_64.h copy_user_generic(), arm64
 * uaccess.h __arch_copy_{from,to}_user(), mips uaccess.h __raw_copy_{from,to}_user(), microblaze/openrisc
 * __copy_tofrom_user(), sh/alpha __copy_user().
 */
const RAW_COPY = /^(?:raw_copy_(?:from|to|in)_user|copy_user_generic|__arch_copy_(?:from|to)_user|__raw_copy_(?:from|to)_user|__copy_tofrom_user|__copy_user)$/;
/**
 * Calls that say the function may take a page fault here (include/linux/kernel.h might_fault(), mm/memory.c
 * __might_fault(): "if (pagefault_disabled()) return; __might_sleep()"): a function calling one does not
 * rely on its raw copies failing.
 */
const ACCEPTS_FAULTS = /^(?:might_fault|__might_fault|might_sleep)$/;
/**
 * Calls that disable page faults around their own access and so need nothing from their caller's context
 * and never sleep (mm/maccess.c: copy_from_user_nofault() is `pagefault_disable(); __copy_from_user_inatomic();
 * pagefault_enable()`, likewise copy_to_user_nofault(), copy_{from,to}_kernel_nofault(),
 * strncpy_from_{user,kernel}_nofault(), strnlen_user_nofault(); include/linux/uaccess.h get_kernel_nofault()).
 */
const SELF_CONTAINED = /^(?:copy_(?:from|to)_(?:user|kernel)_nofault|strncpy_from_(?:user|kernel)_nofault|strnlen_user_nofault|get_kernel_nofault|__get_kernel_nofault|__put_kernel_nofault)$/;
const FUTEX_ATOMIC = /^(?:arch_futex_atomic_op_inuser|futex_atomic_cmpxchg_inatomic|futex_atomic_op_inuser|futex_atomic_cmpxchg|cmpxchg_futex_value_locked|get_futex_value_locked)$/;
const FAULT_STATE_TEST = new Set(['pagefault_disabled', 'faulthandler_disabled', 'in_atomic']);
const PERCPU = /^(?:__this_cpu_\w+|this_cpu_\w+|raw_cpu_\w+|smp_processor_id)$/;

/** True when `call`'s value is tested or kept (`if (__get_user(...))`, `ret = __put_user(...)`). */
function resultIsUsed(call: SyntaxNode): boolean {
  const p = call.parent;
  return !!p && p.type !== 'expression_statement';
}

/**
 * The context a call needs. `__get_user()`/`__put_user()` need page faults disabled only when the
 * caller relies on them failing (their result is tested) inside a section that had faults disabled;
 * the differential analysis only reports them when the pre-image gave that context.
 */
export function needOf(call: SyntaxNode): Need | null {
  const name = calleeName(call);
  if (!name) return null;
  if (INATOMIC_COPY.test(name)) return { kind: 'nofault', why: `${name}() must not take a page fault: it is meant to fail and return the bytes left instead` };
  if (RAW_COPY.test(name)) return { kind: 'nofault', why: `${name}() must not fault: without might_fault() it is relied on to fail and return the bytes left`, raw: true };
  if (FUTEX_ATOMIC.test(name)) return { kind: 'nofault', why: `${name}() is a futex atomic op on user memory that must fail instead of faulting` };
  if (FAULT_STATE_TEST.has(name)) return { kind: 'nofault', why: `the code tests ${name}()` };
  if ((name === '__get_user' || name === '__put_user') && resultIsUsed(call)) return { kind: 'nofault', why: `${name}() is relied on to fail instead of fault` };
  if (PERCPU.test(name) && name !== 'this_cpu_ptr_raw') {
    const why = name === 'smp_processor_id' ? 'smp_processor_id() is only stable while preemption is disabled' : `${name}() accesses this CPU's data, which needs preemption disabled`;
    return /^(?:this_cpu_(?!ptr$)|raw_cpu_)/.test(name) ? { kind: 'preempt', why, ownOnly: true } : { kind: 'preempt', why };
  }
  if (name === 'per_cpu' || name === 'per_cpu_ptr') {
    const cpu = callArguments(call)[1];
    if (cpu && /\bsmp_processor_id\s*\(/.test(cpu.text)) return { kind: 'preempt', why: `${name}(..., smp_processor_id()) accesses this CPU's data, which needs preemption disabled` };
  }
  return null;
}

/** Bare alternations of anchored name patterns, for the text prefilters below. */
const names = (...res: RegExp[]) => res.map((r) => r.source.replace(/^\^/, '').replace(/\$$/, '')).join('|');

/**
 * False when a function's text names no call needOf() could match: its summary has no needs, so it need
 * not be parsed (a cheap test on the text of the static helpers a function calls).
 */
const MAY_NEED = new RegExp(`\\b(?:${names(INATOMIC_COPY, RAW_COPY, FUTEX_ATOMIC, PERCPU)}|${[...FAULT_STATE_TEST].join('|')}|__get_user|__put_user|per_cpu|per_cpu_ptr)\\b`);
export function mayNeedContext(text: string): boolean {
  return MAY_NEED.test(text);
}

/**
 * Calls that may sleep regardless of their arguments. The vmalloc family is the allocators only
 * (mm/vmalloc.c: vmalloc(), vzalloc(), vmalloc_user(), vmalloc_32(), vmalloc_node(), vmalloc_huge(), ...):
 * vmalloc_to_page(), vmalloc_to_pfn() and vmalloc_dump_obj() look a mapping up and never sleep.
 */
const SLEEPS = /^(?:mutex_lock(?:_interruptible|_killable|_nested|_io)?|down(?:_read|_write)?(?:_interruptible|_killable|_timeout|_nested)?|msleep(?:_interruptible)?|ssleep|usleep_range(?:_state)?|fsleep|schedule(?:_timeout\w*|_hrtimeout\w*)?|cond_resched(?:_lock|_rcu)?|wait_event\w*|wait_for_completion\w*|might_sleep|v[mz]alloc(?:_node|_user|_32|_32_user|_huge|_array|_noprof|_node_noprof|_user_noprof)?|vmap|lock_page|folio_lock|wait_on_page_\w+|folio_wait_\w+|synchronize_rcu\w*|synchronize_srcu|flush_work|flush_workqueue|cancel_work_sync|kthread_stop|filemap_write_and_wait\w*|kernel_write|kernel_read)$/;
/**
 * User copies: they may fault, and a fault may sleep. `might_fault()` is the annotation they make
 * (include/linux/kernel.h), `__copy_{from,to}_user()` and `_copy_{from,to}_user()` call it (include/linux/uaccess.h,
 * lib/usercopy.c): under pagefault_disable() it does nothing (mm/memory.c __might_fault()).
 */
const UACCESS = /^(?:copy_from_user|copy_to_user|_copy_from_user|_copy_to_user|__copy_from_user|__copy_to_user|get_user|put_user|clear_user|strncpy_from_user|copy_from_iter|copy_to_iter|copy_page_from_iter|copy_page_to_iter|fault_in_\w+|might_fault|__might_fault)$/;
/** Allocators with a GFP mask argument. */
const ALLOCATORS = /^(?:kmalloc\w*|kzalloc\w*|kcalloc\w*|kvmalloc\w*|kvzalloc\w*|kvcalloc\w*|krealloc\w*|kmem_cache_alloc\w*|kmem_cache_zalloc|alloc_pages\w*|alloc_page\w*|__get_free_pages?|get_zeroed_page|folio_alloc\w*|mempool_alloc|kstrdup|kstrndup|kmemdup|__vmalloc\w*|page_frag_alloc)$/;
const SLEEPING_GFP = /\b(?:GFP_KERNEL|GFP_KERNEL_ACCOUNT|GFP_NOFS|GFP_NOIO|GFP_USER|GFP_HIGHUSER\w*|__GFP_DIRECT_RECLAIM|__GFP_RECLAIM)\b/;
const NONSLEEPING_GFP = /\b(?:GFP_ATOMIC|GFP_NOWAIT|__GFP_ATOMIC|__GFP_HIGH)\b/;

export interface SleepInfo {
  /** Why it may sleep: "mutex_lock() may sleep". */
  why: string;
  /** User copies only sleep when they fault: under explicit pagefault_disable() they fail instead. */
  uaccess: boolean;
}

/** Whether a call may sleep, judged from its name and (for allocators) its GFP mask. */
export function sleepOf(call: SyntaxNode): SleepInfo | null {
  const name = calleeName(call);
  if (!name) return null;
  if (/trylock/.test(name)) return null;
  if (SLEEPS.test(name)) return { why: `${name}() may sleep`, uaccess: false };
  if (UACCESS.test(name)) return { why: `${name}() may fault, and handling the fault may sleep`, uaccess: true };
  if (ALLOCATORS.test(name)) {
    if (/^__vmalloc/.test(name)) return { why: `${name}() may sleep`, uaccess: false };
    const gfp = callArguments(call).map((a) => a.text).find((t) => /GFP_/.test(t));
    if (!gfp || NONSLEEPING_GFP.test(gfp) || !SLEEPING_GFP.test(gfp)) return null;
    return { why: `${name}() with ${normalizedText(gfp)} may sleep to reclaim memory`, uaccess: false };
  }
  return null;
}

const MAY_SLEEP = new RegExp(`\\b(?:${names(SLEEPS, UACCESS, ALLOCATORS)})\\b`);
/** False when a function's text names no call sleepOf() could match (see mayNeedContext). */
export function maySleep(text: string): boolean {
  return MAY_SLEEP.test(text);
}

/** Calls that fault user pages in, the second half of the "copy atomically, fault in, retry" idiom. */
export const FAULT_IN = /^(?:fault_in_\w+|iov_iter_fault_in_readable|fault_in_iov_iter_\w+|get_user_pages\w*)$/;

/**
 * Plain RCU read sections: under PREEMPT_RCU they disable neither preemption nor page faults
 * (include/linux/rcupdate.h), so they do nothing to the context; what their bodies do (lockdep) is debugging.
 */
const RCU_PLAIN = /^rcu_read_(?:un)?lock$/;

/**
 * True when the vocabulary above decides what a call does to or needs from the context (an acquire, a
 * release, a need, a sleep, a fault annotation, a self-contained nofault access): such a callee is never
 * summarised from a definition in the tree. `__might_fault()` tests pagefault_disabled() and
 * `copy_from_user()` reaches raw_copy_from_user(); what they mean is what this table says, not what
 * their bodies would propagate. Asked of every call of every analysed function (~15 regular expressions
 * each), so kept by name: distinct callee names are a few thousand in a tree scan.
 */
export const isContextPrimitive: (name: string) => boolean = memoByText(1 << 16, (name) =>
  !!acquireOf(name) || !!releaseOf(name) || INATOMIC_COPY.test(name) || RAW_COPY.test(name) || FUTEX_ATOMIC.test(name) || FAULT_STATE_TEST.has(name)
  || PERCPU.test(name) || ACCEPTS_FAULTS.test(name) || SELF_CONTAINED.test(name) || SLEEPS.test(name) || UACCESS.test(name) || ALLOCATORS.test(name)
  || name === '__get_user' || name === '__put_user' || name === 'per_cpu' || name === 'per_cpu_ptr' || FAULT_IN.test(name) || RCU_PLAIN.test(name));
