import { declaredTypes, findMapSites, findUnmapSites, mappedVariable, storesMappedAddressUnchanged, type MapSite } from '../mappings.js';
import { quote } from '../syntax/quote.js';
import { callArguments, calleeName, findWrite, hasSideEffects, inExclusiveBranches, lineWithReplacement, normalizedText, unwrap, type SyntaxNode } from '../syntax/ast.js';
import type { Rule, RuleReport } from './rule.js';

/** Tests that a page/folio is not in highmem: under them page_address() is the direct-map address. */
const HIGHMEM_TEST = /\b(?:PageHighMem|is_highmem_page|folio_test_highmem|is_highmem)\s*\(/;

/**
 * Uses that are right on every config where they run: the argument of a KMSAN hook (KMSAN exists only on
 * 64-bit architectures, which have no HIGHMEM; the hooks are empty stubs elsewhere), and uses under a
 * condition that tests the page for highmem.
 */
function exempt(call: SyntaxNode, pageText: string): boolean {
  for (let a = call.parent; a; a = a.parent) {
    if (a.type === 'call_expression' && /^kmsan_/.test(calleeName(a) ?? '')) return true;
    if (a.type === 'if_statement' || a.type === 'conditional_expression' || a.type === 'while_statement') {
      const cond = a.child('condition');
      if (cond && !cond.contains(call) && HIGHMEM_TEST.test(cond.text) && cond.text.replace(/\s+/g, '').includes(pageText.replace(/\s+/g, ''))) return true;
    }
  }
  return false;
}

const JUMPS = new Set(['return_statement', 'goto_statement', 'break_statement', 'continue_statement']);

/**
 * True when a block holding `from` (but not `to`) always jumps away after it (`goto out;` ending the
 * branch that maps): `to` comes later in the text but is not on the path from `from`.
 */
function jumpsAway(from: SyntaxNode, to: SyntaxNode): boolean {
  for (let cur = from; cur.parent && !cur.parent.contains(to); cur = cur.parent) {
    if (cur.parent.type !== 'compound_statement') continue;
    if (cur.parent.namedChildren.some((c) => c.start > cur.end && JUMPS.has(c.type))) return true;
  }
  return false;
}

export const pageAddressOfLocalMap: Rule = {
  meta: {
    id: 'page-address-of-local-map',
    severity: 'error',
    traits: { existingCode: true },
    summary: 'page_address()/folio_address() of a page or folio that is mapped with kmap_local_page()/kmap_local_folio().',
    doc: `## What it finds
A \`page_address(page)\` between \`kmap_local_page(page)\` and its \`kunmap_local()\` (to the end of the function
when there is no unmap), or a \`folio_address(folio)\` while the folio is mapped with \`kmap_local_folio()\`.
Calls in the other arm of an if/else or \`?:\` than the map (\`hi ? kmap_local_page(p) : page_address(p)\`), calls
after the page variable was reassigned, calls past a \`goto\`/\`return\` that ends the block holding the map,
calls under a condition that tests the page with \`PageHighMem()\`
(or \`folio_test_highmem()\`), and arguments of KMSAN hooks (\`kmsan_unpoison_memory(page_address(to), ...)\`:
KMSAN only exists on 64-bit architectures, which have no HIGHMEM) are not reported.

## Why it matters
Documentation/mm/highmem.rst: a highmem page has no permanent kernel address, and \`kmap_local_page()\`
"returns a valid kernel address" in a per-thread slot only. On a CONFIG_HIGHMEM kernel \`page_address()\`
of such a page returns NULL (it finds only \`kmap()\` mappings, which it can look up): code that used
\`kmap()\` and then \`page_address()\` worked, and breaks when the \`kmap()\` becomes \`kmap_local_page()\`. That
is the ext2 oops fixed by 728d392f8a79 after the 782b76d7abdf conversion. It works on every 64-bit build,
so tests there do not catch it.

## Example
\`\`\`c
	kaddr = kmap_local_page(page);
	de = (struct ext2_dir_entry_2 *)(page_address(page) + offs);
\`\`\`

## Fix
Use the address the mapping returned:
\`\`\`c
	kaddr = kmap_local_page(page);
	de = (struct ext2_dir_entry_2 *)(kaddr + offs);
\`\`\`
An exact fix is offered when the mapping has no offset, its address is in a plain \`void *\` variable (or
the call is cast, so the variable's type does not matter) that is not changed before the call, and the call
is on one line.`,
  },

  check(ctx) {
    const maps = findMapSites(ctx.fn.body, ctx.api).filter((m) => m.api.family === 'local' && m.page);
    if (!maps.length) return;
    const calls = ctx.fn.body.descendants((n) => {
      const name = calleeName(n);
      return name === 'page_address' || name === 'folio_address';
    });
    if (!calls.length) return;
    const unmaps = findUnmapSites(ctx.fn.body, ctx.api);
    const types = declaredTypes(ctx.fn.node);
    const reported = new Set<SyntaxNode>();
    for (const site of maps) {
      const v = mappedVariable(site);
      if (!v) continue;
      const pageText = normalizedText(unwrap(site.page!));
      const wanted = site.api.folio ? 'folio_address' : 'page_address';
      const unmap = unmaps.find((u) => u.call.start > site.call.end && u.argBase === v);
      const end = unmap ? unmap.call.start : ctx.fn.body.end;
      for (const call of calls) {
        if (reported.has(call) || calleeName(call) !== wanted || call.start < site.call.end || call.end > end) continue;
        const arg = callArguments(call)[0];
        if (!arg || normalizedText(unwrap(arg)) !== pageText || hasSideEffects(arg)) continue;
        if (site.statement.contains(call) || inExclusiveBranches(site.call, call) || exempt(call, pageText) || jumpsAway(site.statement, call)) continue;
        // The page variable (or anything its expression reads) changed: another page by now.
        const names = [pageText, ...unwrap(site.page!).descendants('identifier').map((i) => i.text)];
        if (names.some((n) => findWrite(ctx.fn.body, n, site.statement.end, call.start))) continue;
        reported.add(call);
        ctx.report(reportFor(ctx.fn.body, site, call, types, unmap?.call ?? null));
      }
    }
  },
};

function reportFor(body: SyntaxNode, site: MapSite, call: SyntaxNode, types: ReadonlyMap<string, string>, unmap: SyntaxNode | null): RuleReport {
  const v = mappedVariable(site)!;
  const mapText = normalizedText(site.call);
  const callText = normalizedText(call);
  const kind = site.api.folio ? 'folio' : 'page';
  const message = `${calleeName(call)}() of a ${kind} mapped at line ${site.call.line}: use the mapped address '${v}'`;
  const detail = `${callText} while '${v}' = ${mapText} (line ${site.call.line}) maps it: on HIGHMEM the ${kind} has no permanent address and ${calleeName(call)}() returns NULL for it.`;
  let fix: RuleReport['fix'] = null;
  const dest = site.destination;
  const noOffset = storesMappedAddressUnchanged(site) && (!site.api.folio || normalizedText(callArguments(site.call)[1] ?? site.call) === '0');
  let outer = call;
  while (outer.parent?.type === 'parenthesized_expression') outer = outer.parent;
  const typeFits = normalizedText(types.get(v) ?? '') === 'void *' || outer.parent?.type === 'cast_expression';
  if (dest.kind === 'variable' && dest.node.type === 'identifier' && noOffset && typeFits && !findWrite(body, v, site.statement.end, call.start)) {
    const line = lineWithReplacement(call, v);
    if (line !== null) fix = { description: `Use the mapped address ${v}`, edits: [{ startLine: call.line, endLine: call.line, replacement: line }] };
  }
  const trace = [
    { line: site.call.line, note: `${v} = ${mapText}` },
    { line: call.line, note: quote(call) },
  ];
  if (unmap) trace.push({ line: unmap.line, note: quote(unmap) });
  return { node: call, message, detail, key: mapText, trace, fix };
}
