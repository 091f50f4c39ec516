import { throughText } from '../context/sites.js';
import { lostContexts, type LostContext } from '../context/differential.js';
import { calleeName } from '../syntax/ast.js';
import { mapTraceStep, postMapName, preReason } from './lost-pagefault-disable.js';
import { calleeOptions, viaStep, type Rule, type RuleContext } from './rule.js';

/** The one-line verdict: what runs how now, in at most ~120 characters. */
function message(lost: LostContext): string {
  const name = lost.site.via?.base ?? calleeName(lost.site.call) ?? 'this call';
  const via = lost.site.via ? ` (through ${throughText(lost.site.via)})` : '';
  return `${name}()${via} now runs with preemption enabled`;
}

/** Why that matters here, and the ways out, one per line. */
function detail(ctx: RuleContext, lost: LostContext): string {
  const atomic = lost.preHold.family === 'kmap_atomic';
  const now = atomic
    ? `${postMapName(ctx, lost.site.call)}() does not disable it (it only pins the task to the CPU, and only for highmem pages, which no caller may rely on)`
    : 'after the patch nothing does';
  const lines = [
    `Why: ${preReason(lost.preHold, 'preemption')}; ${now}.`,
    `Here ${lost.site.need.why}: the task can now be preempted or migrated, and another task can use the same per-CPU data.`,
  ];
  if (lost.site.via) lines.push(`The call is at line ${lost.site.call.line}; the per-CPU access is reached through ${lost.site.via.callee}(): ${lost.site.via.chain}.`);
  lines.push('Fix: if the section relies on it, add preempt_disable() after the map and preempt_enable() before the unmap, or take the per-CPU data with get_cpu()/put_cpu(), get_cpu_ptr()/put_cpu_ptr() or a local_lock.');
  lines.push('Otherwise say in the commit message why preemption is not needed here.');
  return lines.join('\n');
}

export const lostPreemptDisable: Rule = {
  meta: {
    id: 'lost-preempt-disable',
    severity: 'warning',
    summary: 'After converting kmap_atomic(), per-CPU data is accessed with preemption enabled.',
    doc: `## What it finds
Per-CPU accesses — \`this_cpu_*()\`, \`__this_cpu_*()\`, \`raw_cpu_*()\`, \`smp_processor_id()\`,
\`per_cpu(x, smp_processor_id())\`, \`per_cpu_ptr(x, smp_processor_id())\` — that ran with preemption disabled on
every path before the patch (inside a \`kmap_atomic()\` section, or under an explicit disable the patch removed)
and are no longer covered by anything that disables preemption: \`preempt_disable()\`, \`get_cpu()\`,
\`get_cpu_var()\`/\`get_cpu_ptr()\`, \`local_lock*()\`, spinlocks and rwlocks, \`local_irq_save()\`/\`local_irq_disable()\`,
\`local_bh_disable()\`, \`rcu_read_lock_sched()\`/\`rcu_read_lock_bh()\` (plain \`rcu_read_lock()\` does not count: under
PREEMPT_RCU it leaves preemption enabled). The functions called are summarised (the same file's always, with a
tree its other files' too); a single \`this_cpu_<op>()\` or \`raw_cpu_*()\` inside a callee is the callee's own business.

## Why it matters
\`kmap_atomic()\` disables preemption on !PREEMPT_RT kernels, highmem or not; \`kmap_local_page()\` never does.
Thomas Gleixner: "the conversion must carefully check whether anything in this region relies on preemption
being disabled by kmap_atomic() regardless of highmem or not". After the conversion the task can be preempted
between reading the CPU number and using that CPU's buffer, or in the middle of a per-CPU read-modify-write.

## Example
\`\`\`c
	vaddr = kmap_local_page(page);                 /* was kmap_atomic(page) */
	buf = per_cpu_ptr(scratch, smp_processor_id());
	memcpy(buf, vaddr, PAGE_SIZE);
	kunmap_local(vaddr);
\`\`\`

## Fix
\`\`\`c
	vaddr = kmap_local_page(page);
	buf = get_cpu_ptr(scratch);
	memcpy(buf, vaddr, PAGE_SIZE);
	put_cpu_ptr(scratch);
	kunmap_local(vaddr);
\`\`\`
or bracket the section with \`preempt_disable()\`/\`preempt_enable()\` inside the mapping.`,
  },

  check(ctx) {
    if (ctx.image !== 'post' || !ctx.counterpart) return;
    for (const lost of lostContexts(ctx.fn, ctx.counterpart, ctx.fileFunctions, 'preempt', calleeOptions(ctx))) {
      const call = lost.site.call;
      const trace: Array<{ line: number; note: string }> = [];
      const map = mapTraceStep(ctx, call, 'preemption');
      if (map) trace.push(map);
      trace.push({ line: call.line, note: `${calleeName(call)}() can run here with preemption enabled` });
      if (lost.site.via) trace.push(viaStep(ctx, lost.site.via, call.line));
      trace.push({ line: call.line, note: preReason(lost.preHold, 'preemption') });
      ctx.report({ node: call, message: message(lost), detail: detail(ctx, lost), trace, key: lost.preHold.name });
    }
  },
};
