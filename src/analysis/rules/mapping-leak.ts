import { reportReplay } from '../replay/report.js';
import type { Rule } from './rule.js';

export const mappingLeak: Rule = {
  meta: {
    id: 'mapping-leak',
    severity: 'error',
    summary: 'A path leaves the function with a kmap_local mapping still live (an early return or goto skips the unmap).',
    doc: `## What it finds
A path from a \`kmap_local_page()\` (or \`kmap_local_folio()\`, \`kmap_atomic()\`, \`pte_offset_map*()\`) to a
\`return\` or the end of the function that never unmaps the address: typically an error path added between
the map and the unmap, a \`goto\` to a label past the unmap, or an address overwritten by the next mapping
in a loop. The trace shows the map, the branches taken and the return.

Not reported: map helpers that return the address to their caller by design (named or documented as
such, e.g. \`static void *foo_map_page(struct page *p) { return kmap_local_page(p); }\`), and addresses
stored into a struct or through a pointer (see \`mapping-escapes\`).

## Why it matters
A leaked local mapping stays on the per-task kmap stack: every later mapping of the task is one slot
deeper, the stack overflows (\`BUG_ON(idx >= KM_MAX_IDX)\`), and returning to user space with a live
mapping warns (\`kmap_assert_nomap()\`). \`kmap_atomic()\` leaks also leave preemption and page faults
disabled.

## Example
\`\`\`c
	kaddr = kmap_local_page(page);
	if (check(kaddr))
		return -EIO;		/* kaddr still mapped */
	work(kaddr);
	kunmap_local(kaddr);
\`\`\`

## Fix
Unmap on every path, usually through a common exit label:
\`\`\`c
	kaddr = kmap_local_page(page);
	if (check(kaddr)) {
		ret = -EIO;
		goto out;
	}
	work(kaddr);
out:
	kunmap_local(kaddr);
	return ret;
\`\`\``,
  },
  check(ctx) {
    reportReplay(ctx, 'mapping-leak');
  },
};
