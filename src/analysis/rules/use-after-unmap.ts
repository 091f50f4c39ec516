import { traceOf, quote } from '../replay/path.js';
import { violationsOf } from '../replay/query.js';
import type { Rule } from './rule.js';

export const useAfterUnmap: Rule = {
  meta: {
    id: 'use-after-unmap',
    severity: 'error',
    traits: { existingCode: true, cleanupWithoutHighmem: true },
    summary: 'A mapped address, or a pointer derived from it, is used after its unmap on some path.',
    doc: `## What it finds
A dereference, index, \`->\` access or call argument that uses a mapped address, or an alias made from it
(\`p = kaddr + off\`), after \`kunmap_local()\`/\`kunmap_atomic()\` released it on some path. The trace shows
the map, the unmap and the use. Comparisons (\`if (kaddr)\`) and reassignments are not uses. Returning the
address (\`return kaddr + off;\`) from a function declared to return a pointer is one: the caller's first
access is the use.

## Why it matters
After the unmap the address no longer maps the page. On 64-bit kernels without HIGHMEM the access still
hits the direct map and "works"; on 32-bit HIGHMEM kernels, or with
CONFIG_DEBUG_KMAP_LOCAL_FORCE_MAP, the slot is cleared or reused by the next mapping, so the access faults
or reads and writes another page.

## Example
\`\`\`c
	kaddr = kmap_local_page(page);
	hdr = kaddr + offset;
	kunmap_local(kaddr);
	len = le16_to_cpu(hdr->len);	/* hdr points into the unmapped page */
\`\`\`

## Fix
Move the use before the unmap, or copy what is needed out of the page while it is mapped:
\`\`\`c
	kaddr = kmap_local_page(page);
	hdr = kaddr + offset;
	len = le16_to_cpu(hdr->len);
	kunmap_local(kaddr);
\`\`\``,
  },
  check(ctx) {
    const { violations, reach } = violationsOf(ctx, 'use-after-unmap');
    for (const v of violations) {
      const name = v.use!.holder;
      const returned = v.detail === 'returned';
      ctx.report({
        node: v.node,
        key: v.key,
        message: returned ? `${name} is returned after ${quote(v.unmap!.call, 48)} at line ${v.unmap!.line}` : `${name} is used after ${quote(v.unmap!.call, 48)} at line ${v.unmap!.line}`,
        detail: returned
          ? ['The caller gets an address into a page that is no longer mapped: on HIGHMEM its first access hits whatever the slot maps next.', 'Return what the caller needs (a copy, an offset), or leave the mapping to the caller and say so.'].join('\n')
          : ['Once unmapped, the address no longer maps the page on HIGHMEM: the access hits whatever the slot maps next.', 'Move the unmap after the last use.'].join('\n'),
        trace: traceOf(v.path, { line: v.use!.line, note: `${quote(v.use!.node)} (${returned ? 'returns' : 'uses'} ${name} after the unmap)` }),
        ...reach,
      });
    }
  },
};
