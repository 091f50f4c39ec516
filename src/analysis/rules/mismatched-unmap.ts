import { UNMAP_FOR, type MapFamily } from '../kmap-api.js';
import { findMapSites, findUnmapSites, mappedVariable, type MapSite, type UnmapSite } from '../mappings.js';
import { findWrite, hasSideEffects, lineWithReplacement, normalizedText, unwrap, type SyntaxNode } from '../syntax/ast.js';
import type { Rule, RuleReport } from './rule.js';

/** The families this rule pairs up; pte_offset_map()/pte_unmap() are left to the LIFO and leak rules. */
const PAIRED: ReadonlySet<MapFamily> = new Set<MapFamily>(['local', 'atomic', 'kmap']);

/** `ptrs[i]` -> "ptrs": array elements are matched by array, whatever the index expression. */
function arrayOf(text: string): string | null {
  const m = /^(\w+)\[.*\]$/.exec(text);
  return m ? m[1] : null;
}

/**
 * Map sites an unmap may release: by the variable that holds the address (`kunmap_local(vaddr + off)`,
 * `kunmap_atomic(ptrs[i])`), or by the page for kunmap() (`kunmap(page)` after `kmap_local_page(page)`)
 * and for a page handed to an address-taking unmap of a kmap() mapping (`kunmap_local(page)` after `kmap(page)`).
 */
function candidates(unmap: UnmapSite, maps: MapSite[]): MapSite[] {
  const before = maps.filter((m) => m.call.end <= unmap.call.start);
  const argText = unmap.arg ? normalizedText(unwrap(unmap.arg)) : null;
  const byPage = argText ? before.filter((m) => m.page && normalizedText(unwrap(m.page)) === argText) : [];
  const base = unmap.argBase;
  const byVariable = base
    ? before.filter((m) => {
        const v = mappedVariable(m);
        if (!v) return false;
        if (v === base) return true;
        const arr = arrayOf(v);
        return arr !== null && arr === arrayOf(base);
      })
    : [];
  if (unmap.api.takesPage) return byPage.length ? byPage : byVariable;
  // An address-taking unmap given a page: only kmap() mappings are released that way by mistake;
  // a local/atomic one given its page is the unmap-page rule's finding.
  return byVariable.length ? byVariable : byPage.filter((m) => m.api.family === 'kmap');
}

export const mismatchedUnmap: Rule = {
  meta: {
    id: 'mismatched-unmap',
    severity: 'error',
    summary: 'A mapping is released by the unmap of another API (kmap_local_page() by kunmap(), kmap_atomic() by kunmap_local(), ...).',
    doc: `## What it finds
An unmap call that does not belong to the API that made the mapping: a \`kmap_local_page()\`,
\`kmap_local_folio()\` or \`kmap_local_pfn()\` mapping released with \`kunmap()\` or \`kunmap_atomic()\`; a
\`kmap_atomic()\` mapping released with \`kunmap_local()\` or \`kunmap()\`; a \`kmap()\` mapping released with
\`kunmap_local()\` or \`kunmap_atomic()\`. The mapping is found through the variable that holds the address
(also \`v = kmap_local_page(p) + off\`, casts and array elements such as \`ptrs[i]\`), and a \`kunmap(page)\` is
matched to the mapping of the same page.

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
    const maps = findMapSites(ctx.fn.body, ctx.api).filter((m) => PAIRED.has(m.api.family));
    if (!maps.length) return;
    const unmaps = findUnmapSites(ctx.fn.body, ctx.api).filter((u) => PAIRED.has(u.api.family));
    for (const unmap of unmaps) {
      const sites = candidates(unmap, maps);
      // Any mapping of the same family could be the one released here: then this pair is fine.
      if (!sites.length || sites.some((m) => m.api.family === unmap.api.family)) continue;
      const site = sites[sites.length - 1];
      const released = unmaps.filter((u) => u !== unmap && releasesProperly(u, site));
      // Already released by its own unmap before this call: this one is about another mapping (a caller's kmap()).
      if (released.some((u) => u.call.start < unmap.call.start)) continue;
      ctx.report(reportFor(ctx.fn.body, site, unmap));
    }
  },
};

/** True when `u` is the unmap of `site`'s own API given that site's address (or page, for kmap()). */
function releasesProperly(u: UnmapSite, site: MapSite): boolean {
  if (u.api.name !== UNMAP_FOR[site.api.family] || u.call.start < site.call.end) return false;
  if (site.api.family === 'kmap') return !!(u.arg && site.page && normalizedText(unwrap(u.arg)) === normalizedText(unwrap(site.page)));
  const v = mappedVariable(site);
  return !!v && u.argBase === v;
}

/** True when the value of `expr` at `to` may differ from its value at `from`. */
function changedBetween(body: SyntaxNode, expr: SyntaxNode, from: number, to: number): boolean {
  if (hasSideEffects(expr)) return true;
  const e = unwrap(expr);
  if (findWrite(body, normalizedText(e), from, to)) return true;
  return e.descendants('identifier').some((id) => findWrite(body, id.text, from, to) !== null);
}

function reportFor(body: SyntaxNode, site: MapSite, unmap: UnmapSite): RuleReport {
  const mapText = normalizedText(site.call);
  const v = mappedVariable(site);
  const unmapText = normalizedText(unmap.call);
  const right = UNMAP_FOR[site.api.family];
  // What the right unmap is given: the page for kunmap(), else the variable holding the address.
  const rightArg: SyntaxNode | null = site.api.family === 'kmap' ? site.page : site.destination.kind === 'variable' || site.destination.kind === 'field' ? site.destination.node : null;
  const argText = rightArg ? normalizedText(rightArg) : null;
  const holder = v ? `'${v}' = ${mapText}` : mapText;
  let message = `${holder} (line ${site.call.line}) is released with ${unmapText}: a ${site.api.name}() mapping must be released with ${right}(${site.api.family === 'kmap' ? 'page' : 'address'})`;
  if (argText) message += `, here ${right}(${argText})`;
  if (site.api.family === 'atomic') message += `, or the map converted to kmap_local_page() to match ${unmap.api.name}()`;
  else if (site.api.family === 'local' && unmap.api.family === 'kmap') message += '; kunmap() takes the page and leaves the local mapping in place';

  let fix: RuleReport['fix'] = null;
  // Exact only for a plain variable (or a side-effect-free page for kunmap()) that still holds the same value.
  const simple = rightArg && (rightArg.type === 'identifier' || site.api.family === 'kmap');
  if (rightArg && argText && simple && !changedBetween(body, rightArg, site.statement.end, unmap.call.start)) {
    const replacementCall = `${right}(${argText})`;
    const line = lineWithReplacement(unmap.call, replacementCall);
    if (line !== null) fix = { description: `Release the mapping with ${replacementCall}`, edits: [{ startLine: unmap.call.line, endLine: unmap.call.line, replacement: line }] };
  }
  return {
    node: unmap.call,
    message,
    key: mapText,
    trace: [
      { line: site.call.line, note: v ? `${v} = ${mapText}` : mapText },
      { line: unmap.call.line, note: unmapText },
    ],
    fix,
  };
}
