import { UNMAP_FOR } from '../kmap-api.js';
import { quote, traceOf } from '../replay/path.js';
import { violationsOf } from '../replay/query.js';
import type { Violation } from '../replay/violations.js';
import { calleeName, findWrite, lineWithReplacement, type SyntaxNode } from '../syntax/ast.js';
import { unseenBetween, unseenWords } from '../source/sparse.js';
import type { Rule, RuleContext, RuleReport } from './rule.js';

export const mismatchedUnmap: Rule = {
  meta: {
    id: 'mismatched-unmap',
    severity: 'error',
    traits: { existingCode: true, cleanupWithoutHighmem: true },
    summary: 'A mapping is released by the unmap of another API (kmap_local_page() by kunmap(), kmap_atomic() by kunmap_local(), ...).',
    doc: `## What it finds
An unmap call that does not belong to the API that made the mapping: a \`kmap_local_page()\`,
\`kmap_local_folio()\` or \`kmap_local_pfn()\` mapping released with \`kunmap()\` or \`kunmap_atomic()\`; a
\`kmap_atomic()\` mapping released with \`kunmap_local()\` or \`kunmap()\`; a \`kmap()\` mapping released with
\`kunmap_local()\` or \`kunmap_atomic()\`. The mapping is found through the variable that holds the address
(also \`v = kmap_local_page(p) + off\`, aliases, casts and array elements such as \`ptrs[i]\`) along each path
of the function, and a \`kunmap(page)\` is matched to the live mapping of the same page. One mistake is one
finding: the local mapping that \`kunmap(page)\` leaves behind is not reported again as a leak.

## Why it matters
include/linux/highmem.h pairs each map with exactly one unmap: \`kmap_local_page()\`/\`kmap_local_folio()\` with
\`kunmap_local(address)\`, \`kmap_atomic()\` with \`kunmap_atomic(address)\`, \`kmap()\` with \`kunmap(page)\`.
Documentation/mm/highmem.rst describes local mappings as a per-thread stack; \`kunmap()\` releases a PKMAP
slot instead, so after \`kmap_local_page()\` + \`kunmap(page)\` the local slot leaks (a BUG once the stack
overflows) and the PKMAP count is decremented without having been taken. Mixing the local and atomic forms
unbalances the preemption and page-fault disable counts that \`kmap_atomic()\`/\`kunmap_atomic()\` keep.
These mixes compile without a warning (only a \`struct page *\` given to \`kunmap_local()\` is a build error);
the cifs fix d406d26745ab and the module decompression fix for 169a58ad824d were both this bug.

## Example
\`\`\`c
	dst = kmap_local_page(page) + offset;
	memcpy(dst, buf, len);
	kunmap(page);
\`\`\`

## Fix
Release the mapping with the unmap of its own API, given the mapped address:
\`\`\`c
	dst = kmap_local_page(page) + offset;
	memcpy(dst, buf, len);
	kunmap_local(dst);
\`\`\`
\`kunmap_local()\` accepts any address inside the mapped page, so the variable that holds \`map + offset\` is
fine. An exact fix is offered when the unmap is a one-line call and the address variable is a plain
identifier not reassigned between the map and the unmap.`,
  },

  check(ctx) {
    const { violations, reach } = violationsOf(ctx, 'mismatched-unmap');
    for (const v of violations) {
      // The mapping comes from (or is released by) a same-file helper the finding depends on: say which, and
      // report it as a warning; converting the helper in the same patch is the usual fix.
      const helper = v.mapping.viaHelper ?? v.unmap!.viaHelper ?? null;
      const across = helper ? { severity: 'warning' as const, note: `the mapping is made by ${helper}(), which is outside this function: convert ${helper}() in the same patch, or keep this unmap` } : {};
      const unseen = ctx.fn.unseen?.length ? acrossUnseen(ctx, v) : {};
      if (unseen === null) continue;
      const note = [across.note, reach.note, unseen.note].filter(Boolean).join('; ');
      ctx.report({ ...reportFor(ctx.fn.body, v), ...across, ...reach, ...unseen, ...(note ? { note } : {}) });
    }
  },
};

/**
 * A sparse function (hunks without their tree): the map and the unmap are both shown, the lines between
 * them maybe not. Those lines are the same before and after the patch, so when the patch changed the map
 * or the unmap, the pair it leaves is its own: released with the wrong API here, or (should the unseen
 * lines map the same name again with this unmap's API) by them. That is said in a note, and no exact fix
 * is offered. When the patch changed neither, it is left to a note (null).
 */
function acrossUnseen(ctx: RuleContext, v: Violation): Pick<RuleReport, 'unseen' | 'note' | 'fix'> | null {
  const crossed = v.unseen ?? [];
  // The exact fix names the address as the map left it: lines not shown between them may have moved it.
  if (!crossed.length) return { unseen: crossed, ...(unseenBetween(ctx.fn, [v.mapping.line, v.unmap!.line]).length ? { fix: null } : {}) };
  if (!ctx.isChanged(v.mapping.line) && !ctx.isChanged(v.unmap!.line)) {
    ctx.gap(`line ${v.unmap!.line}: which mapping ${quote(v.unmap!.call, 40)} releases depends on ${unseenWords(crossed)}, which the patch does not show, and the patch changes neither it nor the map at line ${v.mapping.line}: not reported`);
    return null;
  }
  const what = v.mapping.family === 'kmap' ? v.mapping.page ?? 'the page' : v.hold ?? v.mapping.holder ?? 'the address';
  return {
    unseen: crossed,
    fix: null,
    note: `the patch does not show ${unseenWords(crossed)}, between the map at line ${v.mapping.line} and this unmap: this holds unless they map ${what} again with the API of this unmap (give --tree to check)`,
  };
}

/** What the right unmap is given, in words and as code. */
function rightCall(v: Violation): { name: string; arg: string | null; what: string } {
  const name = UNMAP_FOR[v.mapping.family];
  if (v.mapping.family === 'kmap') return { name, arg: v.mapping.page, what: 'page' };
  return { name, arg: v.hold ?? null, what: 'address' };
}

function whyAndFix(v: Violation, right: string): string[] {
  const got = calleeName(v.unmap!.call) ?? '';
  const m = v.mapping.family;
  if (m === 'kmap') return ['kmap() mappings are global PKMAP slots released by kunmap(page); the address unmaps pop the per-task kmap stack instead.', `Release it with ${right}, or convert the map to kmap_local_page().`];
  if (got === 'kunmap') return ['kunmap() takes the page and releases a kmap() slot: the local mapping stays on the per-task stack (a leak).', `Release it with ${right}: it takes the address.`];
  if (m === 'atomic') return ['kunmap_local() leaves the page faults and preemption that kmap_atomic() disabled still disabled.', `Convert the map to kmap_local_page() as well, or release it with ${right}.`];
  return ['kunmap_atomic() also re-enables page faults and preemption, which the local map never disabled.', `Release it with ${right}, or keep kmap_atomic() for the map.`];
}

function reportFor(body: SyntaxNode, v: Violation): RuleReport {
  const unmap = v.unmap!.call;
  const right = rightCall(v);
  const rightText = right.arg ? `${right.name}(${right.arg})` : `${right.name}(${right.what})`;
  const api = v.mapping.api || 'the map';
  const message = `${quote(unmap, 40)} releases a ${api}() mapping (line ${v.mapping.line}): it needs ${rightText}`;
  let fix: RuleReport['fix'] = null;
  // Exact only for a plain variable (or, for kunmap(), a page expression unchanged since the map).
  const simple = right.arg && (v.mapping.family === 'kmap' ? !changedBetween(body, v.mapping.page!, v.mapping.call.end, unmap.start) : /^[A-Za-z_]\w*$/.test(right.arg));
  if (simple) {
    const line = lineWithReplacement(unmap, rightText);
    if (line !== null) fix = { description: `Release the mapping with ${rightText}`, edits: [{ startLine: unmap.line, endLine: unmap.line, replacement: line }] };
  }
  return {
    node: v.node,
    message,
    detail: whyAndFix(v, rightText).join('\n'),
    key: v.key,
    trace: traceOf(v.path, { line: v.unmap!.line, note: `${quote(unmap)} (the unmap of another API)` }),
    fix,
  };
}

/** True when the page expression `text` may have changed between two offsets of the function body. */
function changedBetween(body: SyntaxNode, text: string, from: number, to: number): boolean {
  if (findWrite(body, text, from, to)) return true;
  for (const id of text.match(/[A-Za-z_]\w*/g) ?? []) if (findWrite(body, id, from, to)) return true;
  return /\(/.test(text); // a call: not known to return the same page again
}
