import { analyseContext, type Hold } from '../context/dataflow.js';
import { sleepSites, type SleepSite } from '../context/sites.js';
import { calleeName } from '../syntax/ast.js';
import { calleeOptions, viaStep, type Rule, type RuleContext } from './rule.js';

function sectionWords(h: Hold): string {
  if (h.family === 'kmap_atomic') return `the ${h.name}() section opened at line ${h.line}, which disables page faults and preemption`;
  if (h.family === 'pagefault') return `pagefault_disable() at line ${h.line}`;
  if (h.family === 'lock') return `${h.name}(${h.key ?? ''}) at line ${h.line}, a spinning lock that disables preemption`;
  return `${h.name}() at line ${h.line}, which disables preemption`;
}

/** The one-line verdict. */
function message(site: SleepSite, holds: readonly Hold[]): string {
  const name = calleeName(site.call) ?? 'this call';
  const atomicMap = holds.find((h) => h.family === 'kmap_atomic');
  if (faultsOnlyByMap(site, holds)) return `${name}() cannot fault the user page in inside the kmap_atomic() section of line ${atomicMap!.line}`;
  const inner = holds[holds.length - 1];
  return `${name}() may sleep inside ${inner.family === 'kmap_atomic' ? `the ${inner.name}() section` : `${inner.name}()`} of line ${inner.line}`;
}

function faultsOnlyByMap(site: SleepSite, holds: readonly Hold[]): boolean {
  const atomicMap = holds.some((h) => h.family === 'kmap_atomic');
  return !!site.sleep.uaccess && atomicMap && !holds.some((h) => h.preempt && h.family !== 'kmap_atomic');
}

/** Why, and the ways out. */
function detail(site: SleepSite, holds: readonly Hold[]): string {
  const inner = holds[holds.length - 1];
  const why = site.sleep.why;
  const where = `it runs inside ${sectionWords(inner)}${holds.length > 1 ? ` (and ${holds.length - 1} more enclosing section${holds.length > 2 ? 's' : ''})` : ''}`;
  const atomicMap = holds.find((h) => h.family === 'kmap_atomic');
  if (faultsOnlyByMap(site, holds)) {
    return [
      `Why: ${why}, but kmap_atomic() disabled page faults, so it cannot fault the user page in and fails on any page that is not present instead.`,
      'Fix: map with kmap_local_page()/kunmap_local() instead, under which the copy may fault and sleep, or keep the atomic copy (__copy_from_user_inatomic()) with a fault-in-and-retry fallback.',
    ].join('\n');
  }
  let fix: string;
  if (atomicMap) fix = `Convert the mapping to kmap_local_page()/kunmap_local(), under which sleeping is allowed, or move the call out of the section.`;
  else if (/GFP_/.test(site.sleep.why)) fix = 'Allocate before entering the section, or use GFP_ATOMIC/GFP_NOWAIT and handle failure.';
  else fix = 'Move the call out of the section.';
  return [`Why: ${why}, but ${where}: sleeping there is a bug ("BUG: sleeping function called from invalid context" with CONFIG_DEBUG_ATOMIC_SLEEP).`, `Fix: ${fix}`].join('\n');
}

/** Whether a site is the patch's business: the call or one of the sections around it is on an added line. */
function introduced(ctx: RuleContext, site: SleepSite, holds: readonly Hold[]): boolean {
  return ctx.isChanged(site.call.line) || holds.some((h) => ctx.isChanged(h.line));
}

export const sleepInAtomic: Rule = {
  meta: {
    id: 'sleep-in-atomic',
    severity: 'error',
    summary: 'A call that may sleep runs inside a kmap_atomic() section or another atomic section the patch adds or converts.',
    doc: `## What it finds
Calls that may sleep — \`mutex_lock*()\`, \`down*()\`, \`msleep()\`, \`schedule*()\`, \`cond_resched()\`, \`wait_event*()\`,
\`wait_for_completion*()\`, \`might_sleep()\`, \`vmalloc()\`, allocations with a GFP mask that may sleep (\`GFP_KERNEL\`,
\`GFP_NOFS\`, \`GFP_NOIO\`, \`GFP_USER\`; not \`GFP_ATOMIC\`/\`GFP_NOWAIT\`), user copies (\`copy_from_user()\`, \`get_user()\`, ...)
and the functions that do so (the same file's, and with a tree its other files') — on every path inside a \`kmap_atomic()\` section, or under
\`pagefault_disable()\`, \`preempt_disable()\`, \`get_cpu()\`, spinlocks, \`local_irq_save()\`, \`local_bh_disable()\`. Only calls
on lines the patch adds, or in sections the patch opens, are reported. A \`kmap_local_page()\` section is not atomic:
sleeping there is allowed and never reported.

## Why it matters
\`kmap_atomic()\` disables preemption and page faults; sleeping inside it (or under a spinlock) is "scheduling
while atomic". User copies under \`kmap_atomic()\` cannot fault the page in and fail instead. Such calls are a
legitimate reason to convert the section to \`kmap_local_page()\`, which allows both.

## Example
\`\`\`c
	vaddr = kmap_atomic(page);
	buf = kmalloc(len, GFP_KERNEL);
	memcpy(buf, vaddr, len);
	kunmap_atomic(vaddr);
\`\`\`

## Fix
\`\`\`c
	vaddr = kmap_local_page(page);
	buf = kmalloc(len, GFP_KERNEL);
	memcpy(buf, vaddr, len);
	kunmap_local(vaddr);
\`\`\`
Under a spinlock, allocate before taking the lock or use \`GFP_ATOMIC\`.`,
  },

  check(ctx) {
    // Only a call inside a section can be reported: no other call's callees are followed.
    const sites = sleepSites(ctx.fn, ctx.fileFunctions, { ...calleeOptions(ctx), followInSections: {} });
    if (!sites.length) return;
    const fc = analyseContext(ctx.fn);
    for (const site of sites) {
      const c = fc.at(site.call);
      if (!c || !c.reached || !c.holds.length) continue;
      // A user copy under an explicit pagefault_disable() is meant to fail instead of faulting.
      if (site.sleep.uaccess && c.holds.some((h) => h.family === 'pagefault')) continue;
      if (!introduced(ctx, site, c.holds)) continue;
      const trace = c.holds.map((h) => ({ line: h.line, note: `${h.name}() opens an atomic section (${[h.faults && 'page faults', h.preempt && 'preemption'].filter(Boolean).join(' and ')} disabled)` }));
      trace.push({ line: site.call.line, note: `${calleeName(site.call)}() may sleep here` });
      if (site.via) trace.push(viaStep(ctx, site.via, site.call.line));
      ctx.report({ node: site.call, message: message(site, c.holds), detail: detail(site, c.holds), trace, key: c.holds[c.holds.length - 1].name });
    }
  },
};
