import { reportReplay } from '../replay/report.js';
import type { Rule } from './rule.js';

export const useAfterUnmap: Rule = {
  meta: {
    id: 'use-after-unmap',
    severity: 'error',
    summary: 'A mapped address, or a pointer derived from it, is used after its unmap on some path.',
    doc: `## What it finds
A dereference, index, \`->\` access or call argument that uses a mapped address, or an alias made from it
(\`p = kaddr + off\`), after \`kunmap_local()\`/\`kunmap_atomic()\` released it on some path. The trace shows
the map, the unmap and the use. Comparisons (\`if (kaddr)\`) and reassignments are not uses.

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
    reportReplay(ctx, 'use-after-unmap');
  },
};
