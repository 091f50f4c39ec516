import { FAULT_IN } from '../context/atomic-api.js';
import { throughText } from '../context/sites.js';
import { enclosingMapCall, lostContexts, type LostContext } from '../context/differential.js';
import type { Hold } from '../context/dataflow.js';
import { calleeName, type SyntaxNode } from '../syntax/ast.js';
import { calleeOptions, viaStep, type Rule, type RuleContext } from './rule.js';

/** "kmap_atomic() at line 12 of the pre-image disabled page faults" */
export function preReason(h: Hold, what: 'page faults' | 'preemption'): string {
  const by = h.family === 'kmap_atomic' ? `${h.name}(), which disables ${what} as a side effect,` : `${h.name}()`;
  return `before the patch, ${by} at line ${h.line} of the pre-image disabled ${what} here`;
}

export function mapTraceStep(ctx: RuleContext, at: SyntaxNode, what: string): { line: number; note: string } | null {
  const map = enclosingMapCall(ctx.fn, at, (c) => {
    const fam = ctx.api.map(calleeName(c))?.family;
    return fam === 'local' || fam === 'atomic';
  });
  if (!map) return null;
  const name = calleeName(map)!;
  const family = ctx.api.map(name)!.family;
  return { line: map.line, note: family === 'local' ? `${name}() maps the page but, unlike kmap_atomic(), leaves ${what} enabled` : `${name}() opens the section` };
}

const PLAIN_COPY: Record<string, string> = {
  __copy_from_user_inatomic: 'copy_from_user',
  __copy_from_user_inatomic_nocache: 'copy_from_user',
  __copy_to_user_inatomic: 'copy_to_user',
  copy_from_user_inatomic: 'copy_from_user',
  copy_to_user_inatomic: 'copy_to_user',
};

/** The "copy atomically, fault the pages in, try again" idiom: the fault-in call, if the function has one. */
function retryShape(ctx: RuleContext): SyntaxNode | null {
  for (const call of ctx.fn.body.descendants('call_expression')) if (FAULT_IN.test(calleeName(call) ?? '')) return call;
  return null;
}

/** The name of the post-image map call whose section a call is in ("kmap_local_page" when unknown). */
export function postMapName(ctx: RuleContext, at: SyntaxNode): string {
  const map = enclosingMapCall(ctx.fn, at, (c) => ctx.api.map(calleeName(c))?.family === 'local');
  return (map && calleeName(map)) ?? 'kmap_local_page';
}

/** The one-line verdict: what runs how now, in at most ~120 characters. */
function message(lost: LostContext): string {
  const name = lost.site.via?.base ?? calleeName(lost.site.call) ?? 'this call';
  const via = lost.site.via ? ` (through ${throughText(lost.site.via)})` : '';
  return `${name}()${via} now runs with page faults enabled`;
}

/** Why that matters here, and the ways out, one per line. */
function detail(ctx: RuleContext, lost: LostContext): string {
  const name = lost.site.via?.base ?? calleeName(lost.site.call) ?? 'this call';
  const lines: string[] = [];
  const now = lost.preHold.family === 'kmap_atomic' ? `${postMapName(ctx, lost.site.call)}() does not disable them` : 'after the patch nothing does';
  lines.push(`Why: ${preReason(lost.preHold, 'page faults')}; ${now}. It needs them disabled: ${lost.site.need.why}.`);
  if (lost.site.via) lines.push(`The call is at line ${lost.site.call.line}; ${name}() is reached through ${lost.site.via.callee}(): ${lost.site.via.chain}.`);
  lines.push('Fix: keep the old behaviour with pagefault_disable() right after the map and pagefault_enable() right before the unmap.');
  const plain = PLAIN_COPY[name];
  const locks = lost.postHolds.filter((h) => h.preempt);
  if (locks.length) {
    lines.push(`That is the fix here: ${locks.map((h) => `${h.name}() at line ${h.line}`).join(', ')} still makes this an atomic context, so the copy must not sleep.`);
  } else if (plain) {
    lines.push(`Or, if nothing else here forbids sleeping, use plain ${plain}(), which may fault the page in and sleep.`);
    const fault = retryShape(ctx);
    if (fault) lines.push(`The function already faults the pages in and retries (${calleeName(fault)}() at line ${fault.line}): with a sleeping ${plain}() that retry loop can go.`);
  } else {
    lines.push('Or rework the code so it no longer depends on faults being disabled.');
  }
  return lines.join('\n');
}

export const lostPagefaultDisable: Rule = {
  meta: {
    id: 'lost-pagefault-disable',
    severity: 'error',
    summary: 'After converting kmap_atomic(), a call that must not take a page fault runs with page faults enabled.',
    doc: `## What it finds
Calls that must not fault — \`__copy_from_user_inatomic()\`, \`__copy_to_user_inatomic()\`, raw user copies
(\`raw_copy_from_user()\`, ...) in a function that does not call \`might_fault()\`, futex atomic ops,
\`__get_user()\`/\`__put_user()\` whose failure is tested, code testing \`pagefault_disabled()\` or \`in_atomic()\` —
that ran with page faults disabled on every path before the patch (because of \`kmap_atomic()\`, or an explicit
\`pagefault_disable()\`) and can run with page faults enabled after it. The functions called in the section
are summarised (those of the same file always; with a tree, as \`scan\`, \`fix\` and \`check --tree --callees\` have,
those of its other files too), and the finding names the chain: \`copyin() -> raw_copy_from_user()\`.

## Why it matters
\`kmap_atomic()\` calls \`pagefault_disable()\` on every configuration, 64-bit included; \`kmap_local_page()\`
does not. The \`_inatomic\` user copies do not disable faults themselves: with faults enabled they fault the
page in and may sleep, possibly while holding the mmap lock, the page-table lock or a page lock, which can
deadlock or recurse into the fault handler. Documentation/mm/highmem.rst: "explicit calls to
pagefault_disable() or preempt_disable() or both must be made in conjunction with the use of
kmap_local_page()".

## Example
\`\`\`c
	kaddr = kmap_local_page(page);            /* was kmap_atomic(page) */
	left = __copy_from_user_inatomic(kaddr, ubuf, len);
	kunmap_local(kaddr);
\`\`\`

## Fix
Disable page faults explicitly inside the mapping (what mm/memory.c \`__wp_page_copy_user()\` does):
\`\`\`c
	kaddr = kmap_local_page(page);
	pagefault_disable();
	left = __copy_from_user_inatomic(kaddr, ubuf, len);
	pagefault_enable();
	kunmap_local(kaddr);
\`\`\`
Or, when nothing else forbids sleeping, use plain \`copy_from_user()\`: in the
\`again: map; copy_inatomic; unmap; if (left) { fault_in...; goto again; }\` idiom the fault-in and retry
become unnecessary.`,
  },

  check(ctx) {
    if (ctx.image !== 'post' || !ctx.counterpart) return;
    for (const lost of lostContexts(ctx.fn, ctx.counterpart, ctx.fileFunctions, 'nofault', calleeOptions(ctx))) {
      const call = lost.site.call;
      const trace: Array<{ line: number; note: string }> = [];
      const map = mapTraceStep(ctx, call, 'page faults');
      if (map) trace.push(map);
      trace.push({ line: call.line, note: `${calleeName(call)}() can run here with page faults enabled` });
      if (lost.site.via) trace.push(viaStep(ctx, lost.site.via, call.line));
      trace.push({ line: call.line, note: preReason(lost.preHold, 'page faults') });
      ctx.report({ node: call, message: message(lost), detail: detail(ctx, lost), trace, key: lost.preHold.name });
    }
  },
};
