import { declaredTypes, findMapSites, findUnmapSites, isPageExpression, mappedVariable, type MapSite } from '../mappings.js';
import { quote } from '../syntax/quote.js';
import { callArguments, calleeName, findWrite, lineWithReplacement, normalizedText, unwrap, type SyntaxNode } from '../syntax/ast.js';
import type { Rule, RuleReport } from './rule.js';

/** `&folio->page` or `folio_page(folio, n)` -> the folio's text: a page of a folio that may be mapped. */
function pageOfFolio(e: SyntaxNode): string | null {
  if (e.type === 'pointer_expression' && e.child('operator')?.text === '&') {
    const f = unwrap(e.child('argument')!);
    if (f.type === 'field_expression' && f.child('field')?.text === 'page') return normalizedText(unwrap(f.child('argument')!));
  }
  if (calleeName(e) === 'folio_page') {
    const first = callArguments(e)[0];
    return first ? normalizedText(unwrap(first)) : null;
  }
  return null;
}

export const unmapPage: Rule = {
  meta: {
    id: 'unmap-page',
    severity: 'error',
    traits: { existingCode: true },
    summary: 'kunmap_local() or kunmap_atomic() is given the struct page/folio instead of the mapped address.',
    doc: `## What it finds
A \`kunmap_local()\` or \`kunmap_atomic()\` whose argument is the \`struct page *\` or \`struct folio *\` rather
than the address the map returned: a variable or parameter declared as a page/folio pointer (or an element
of an array of them), or the very expression that was passed to \`kmap_local_page()\`, \`kmap_local_folio()\`
or \`kmap_atomic()\` in the same function (\`bvec->bv_page\`, \`&folio->page\`, \`sg_page(sg)\`...). The decision
is made by declared type, not by name: \`unsigned long *page = kmap_local_folio(folio, 0)\` followed by
\`kunmap_local(page)\` is correct.

## Why it matters
include/linux/highmem.h: \`kunmap_local()\` "must be called on the kernel virtual address returned by
kmap_local_page()", unlike \`kunmap()\`, which takes the page. Documentation/mm/highmem.rst describes
\`kunmap_local(address)\` as taking "any address within the page mapped". Handing it the page is the usual
slip when \`kunmap(page)\` is converted line by line. The kernel turns it into a build error
(\`BUILD_BUG_ON(__same_type((__addr), struct page *))\` in highmem-internal.h), so a patch with it does not
compile on any config, or, behind a cast, unmaps a bogus address at run time; reviewers still want it
flagged in the patch. (A \`kmap()\` mapping released this way is reported by mismatched-unmap instead.)

## Example
\`\`\`c
	kaddr = kmap_local_page(page);
	memset(kaddr + offset, 0, len);
	kunmap_local(page);
\`\`\`

## Fix
Pass the mapped address (or any address inside the mapped page):
\`\`\`c
	kaddr = kmap_local_page(page);
	memset(kaddr + offset, 0, len);
	kunmap_local(kaddr);
\`\`\`
An exact fix is offered when a mapping of that page in the function stores its address in a plain variable
that is not reassigned before the unmap.`,
  },

  check(ctx) {
    const unmaps = findUnmapSites(ctx.fn.body, ctx.api).filter((u) => !u.api.takesPage && (u.api.family === 'local' || u.api.family === 'atomic') && u.arg);
    if (!unmaps.length) return;
    const types = declaredTypes(ctx.fn.node);
    const maps = findMapSites(ctx.fn.body, ctx.api);
    for (const unmap of unmaps) {
      const arg = unwrap(unmap.arg!);
      const argText = normalizedText(arg);
      // Decide by type: a variable declared as anything but a page pointer is an address, whatever its name.
      const declared = arg.type === 'identifier' ? types.get(arg.text) : undefined;
      const folioOf = pageOfFolio(arg);
      const samePage = (m: MapSite) => !!m.page && (normalizedText(unwrap(m.page)) === argText || (m.api.folio && normalizedText(unwrap(m.page)) === folioOf));
      const before = maps.filter((m) => m.call.end <= unmap.call.start && samePage(m));
      // kunmap_local(page) after kmap(page) is mismatched-unmap's finding.
      if (before.some((m) => m.api.family === 'kmap')) continue;
      const byType = isPageExpression(arg, types);
      const mapped = before.filter((m) => m.api.family === 'local' || m.api.family === 'atomic');
      if (!byType && (declared !== undefined || !mapped.length)) continue;
      if (!byType && mapped.some((m) => mappedVariable(m) === argText)) continue;

      const site = mapped[mapped.length - 1];
      const what = /folio/.test(declared ?? '') || site?.api.folio ? 'folio' : 'page';
      const message = `${unmap.api.name}() is given the struct ${what} '${argText}', not the mapped address`;
      let detail = `${unmap.api.name}() takes an address inside the mapped ${what}, as the map returned it`;
      let fix: RuleReport['fix'] = null;
      const trace: RuleReport['trace'] = [];
      if (site) {
        const v = mappedVariable(site);
        const mapText = normalizedText(site.call);
        detail += v ? `: pass '${v}' (${v} = ${mapText}, line ${site.call.line}).` : `: pass the address returned by ${mapText} (line ${site.call.line}).`;
        trace.push({ line: site.call.line, note: v ? `${v} = ${mapText}` : mapText });
        const dest = site.destination;
        if (dest.kind === 'variable' && dest.node.type === 'identifier' && !findWrite(ctx.fn.body, dest.name, site.statement.end, unmap.call.start)) {
          const call = `${unmap.api.name}(${dest.name})`;
          const line = lineWithReplacement(unmap.call, call);
          if (line !== null) fix = { description: `Unmap the address: ${call}`, edits: [{ startLine: unmap.call.line, endLine: unmap.call.line, replacement: line }] };
        }
      } else {
        detail += `: pass the address returned by the map ('${argText}' is declared ${declared ? `'${declared}'` : 'as a page'}).`;
      }
      trace.push({ line: unmap.call.line, note: quote(unmap.call) });
      ctx.report({ node: unmap.call, message, detail, key: argText, trace, fix });
    }
  },
};
