import { KM_MAX_IDX } from '../replay/replay.js';
import { reportReplay } from '../replay/report.js';
import type { Rule } from './rule.js';

export const stackDepth: Rule = {
  meta: {
    id: 'stack-depth',
    severity: 'warning',
    summary: `More than ${KM_MAX_IDX} kmap_local mappings can be live at once (e.g. mapping in a loop without unmapping in it).`,
    doc: `## What it finds
Places where the number of live local mappings is not bounded by ${KM_MAX_IDX} (\`KM_MAX_IDX\`): a loop that maps
into an array (or into the same variable) on every iteration without unmapping in the loop, when the loop
has no constant bound of at most ${KM_MAX_IDX}; or a path on which more than ${KM_MAX_IDX} mappings are live at once.

## Why it matters
The kmap_local stack of a task has \`KM_MAX_IDX\` = 16 slots (33 with CONFIG_DEBUG_KMAP_LOCAL), shared with
\`kmap_atomic()\` and HIGHPTE page-table mappings and with whatever the caller and interrupts have mapped.
\`kmap_local_idx_push()\` hits \`BUG_ON(idx >= KM_MAX_IDX)\` when it overflows. A loop whose bound comes from
the data (stripes, segments, pages of a request) can exceed it on HIGHMEM kernels.

## Example
\`\`\`c
	for (i = 0; i < nr_pages; i++)
		ptrs[i] = kmap_local_page(pages[i]);	/* nr_pages may be > 16 */
	xor_blocks(nr_pages, len, dst, ptrs);
	for (i = nr_pages - 1; i >= 0; i--)
		kunmap_local(ptrs[i]);
\`\`\`

## Fix
Bound the number of simultaneous mappings (process the array in batches of at most a few pages), map and
unmap inside the loop, or use \`page_address()\` for memory that cannot be in highmem. If the bound is
guaranteed elsewhere, assert it next to the loop (\`BUG_ON(nr_pages > 16)\` is not enough: other mappings
share the stack).`,
  },
  check(ctx) {
    reportReplay(ctx, 'stack-depth');
  },
};
