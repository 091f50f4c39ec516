import { findHelperMatches, type HelperMatch } from '../convert/helpers.js';
import { quote } from '../syntax/quote.js';
import { normalizedText } from '../syntax/ast.js';
import type { Rule, RuleReport } from './rule.js';

export const useHelper: Rule = {
  meta: {
    id: 'use-helper',
    severity: 'notice',
    traits: { notAVerdict: true },
    summary: 'An open-coded map + memcpy()/memset() + unmap that memcpy_{from,to}_page(), memcpy_page(), memset_page(), memzero_page() or a folio helper expresses.',
    doc: `## What it finds
Three consecutive statements of one block, with nothing else between them: a map into a variable
(\`kmap_local_page()\`, \`kmap_local_folio()\`, \`kmap_atomic()\` or \`kmap()\`), one \`memcpy()\` or \`memset()\` through
that variable, and the matching unmap; or two nested maps around one \`memcpy()\`. They are reported as
\`memcpy_from_page()\`, \`memcpy_to_page()\`, \`memset_page()\`, \`memzero_page()\`, \`memcpy_page()\`,
\`memcpy_from_folio()\` or \`memcpy_to_folio()\`. The address variable must not be used anywhere else in its
scope (otherwise nothing is reported: the mapping is doing more than the copy). Offsets are taken from
\`v + off\`, \`(char *)v + off\` and \`&v[off]\` when the pointer type makes them byte offsets; for
\`kmap_local_folio(folio, off)\` only the mapped address itself is recognised. A \`kmap_atomic()\` section that
only copies relies on nothing that \`kmap_atomic()\` disabled, so the helpers (which use \`kmap_local_page()\`)
are a faithful replacement.

## Why it matters
Documentation/mm/highmem.rst lists these helpers in include/linux/highmem.h as the way to copy to, from
or between (possibly highmem) pages: they map with \`kmap_local_page()\`, check with \`VM_BUG_ON()\` that the
copy stays inside the one mapped page, and unmap in the right order, so the open-coded form's mistakes
(a wrong unmap, a missed unmap on a new error path, an access past the page) cannot happen.
\`memcpy_to_page()\`, \`memzero_page()\` and \`memcpy_to_folio()\` also flush the data cache for the page, so a
\`flush_dcache_page()\` right after the open-coded copy becomes redundant and is removed by the fix.

## Example
\`\`\`c
	char *kaddr;
	...
	kaddr = kmap_local_page(page);
	memcpy(buf, kaddr + offset, len);
	kunmap_local(kaddr);
\`\`\`

## Fix
\`\`\`c
	memcpy_from_page(buf, page, offset, len);
\`\`\`
The fix replaces the statements with the helper and deletes the variable's declaration when it declares
that variable alone. No fix is given when that declaration also declares other variables, when the page
expression or another argument has side effects (\`pages[i++]\`), or when the buffer is not a \`char\`/\`void\`
pointer (the helpers take \`char *\`). Anything else between the statements (a cache flush, a barrier) means
no finding: the helper would move it across the copy.`,
  },

  check(ctx) {
    for (const match of findHelperMatches(ctx.fn, ctx.api)) ctx.report(reportFor(match));
  },
};

function reportFor(match: HelperMatch): RuleReport {
  const { noFix, deletions, span, helperName } = match;
  const m0 = match.maps[0];
  const vars = match.maps.map((m) => `'${m.v}' = ${normalizedText(m.site.call)}`).join(' and ');
  const verb = helperName === 'memset_page' || helperName === 'memzero_page' ? 'sets' : 'copies';
  const message = `The mapping at line ${m0.site.call.line} only ${verb} a page: use ${helperName}()`;
  const detail = [`${vars} (line ${m0.site.call.line}) only ${verb} through the mapping: use ${match.helper}${match.note}.`];
  if (noFix) detail.push(`No automatic fix: ${noFix}.`);
  let fix: RuleReport['fix'] = null;
  if (!noFix && span) {
    const edits = deletions.map((d) => ({ startLine: d.start, endLine: d.end, replacement: '' }));
    edits.push({ startLine: span.start, endLine: span.end, replacement: `${span.indent}${match.helper};` });
    edits.sort((a, b) => a.startLine - b.startLine);
    fix = { description: `Replace with ${helperName}()`, edits };
  }
  return {
    node: m0.site.call,
    message,
    detail: detail.join('\n'),
    key: match.helper,
    trace: match.stmts.map((s) => ({ line: s.line, note: quote(s) })),
    fix,
  };
}
