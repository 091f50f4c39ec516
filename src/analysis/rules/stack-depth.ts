import { MAX_LIVE_LOCAL_MAPS } from '../replay/replay.js';
import { traceOf, quote } from '../replay/path.js';
import { violationsOf } from '../replay/query.js';
import type { Rule } from './rule.js';

export const stackDepth: Rule = {
  meta: {
    id: 'stack-depth',
    severity: 'warning',
    traits: { existingCode: true, cleanupWithoutHighmem: true },
    summary: `More than ${MAX_LIVE_LOCAL_MAPS} kmap_local mappings can be live at once (e.g. mapping in a loop without unmapping in it).`,
    doc: `## What it finds
Places where the number of live local mappings is not bounded by ${MAX_LIVE_LOCAL_MAPS}: a loop that maps into an array
(or into the same variable) on every iteration without unmapping in it, when the loop has no constant bound
below ${MAX_LIVE_LOCAL_MAPS + 1}; or a path on which more than ${MAX_LIVE_LOCAL_MAPS} mappings are live at once.

## Why it matters
The kmap_local stack of a task has \`KM_MAX_IDX\` = 16 slots, and \`kmap_local_idx_push()\` (mm/highmem.c) does
\`BUG_ON(idx >= KM_MAX_IDX)\` after incrementing the index, so at most ${MAX_LIVE_LOCAL_MAPS} mappings can be live at once
(CONFIG_DEBUG_KMAP_LOCAL uses two slots per mapping, one as a guard). The slots are shared with \`kmap_atomic()\`,
HIGHPTE page-table mappings and whatever the caller and interrupts have mapped. A loop whose bound comes from
the data (stripes, segments, pages of a request) can exceed it on HIGHMEM kernels.

## Example
\`\`\`c
	for (i = 0; i < nr_pages; i++)
		ptrs[i] = kmap_local_page(pages[i]);	/* nr_pages may be > 15 */
	xor_blocks(nr_pages, len, dst, ptrs);
	for (i = nr_pages - 1; i >= 0; i--)
		kunmap_local(ptrs[i]);
\`\`\`

## Fix
Bound the number of simultaneous mappings (process the array in batches of a few pages), map and unmap inside
the loop, or use \`page_address()\` for memory that cannot be in highmem. If the bound is guaranteed elsewhere,
assert it next to the loop; other mappings share the stack, so keep well below ${MAX_LIVE_LOCAL_MAPS}.`,
  },
  check(ctx) {
    const { violations, reach } = violationsOf(ctx, 'stack-depth');
    for (const v of violations) {
      const name = (v.mapping.holder ?? 'the address').replace(/\[\]$/, '[...]');
      const message =
        v.detail === 'array-loop'
          ? `${name} is filled in a loop with no bound below ${MAX_LIVE_LOCAL_MAPS + 1}, and every element stays mapped`
          : v.detail === 'remap-loop'
            ? `${name} is mapped again in a loop while its previous mapping (line ${v.previousLine}) is still live`
            : `${v.live} kmap_local mappings are live at once here: at most ${MAX_LIVE_LOCAL_MAPS} can be`;
      ctx.report({
        node: v.node,
        key: v.key,
        message,
        detail: [
          `A task can hold at most ${MAX_LIVE_LOCAL_MAPS} local mappings (kmap_local_idx_push() BUGs when the index reaches KM_MAX_IDX = ${MAX_LIVE_LOCAL_MAPS + 1}).`,
          v.detail === 'depth' ? 'Unmap some before mapping more.' : 'Unmap inside the loop, or bound the number of pages mapped at once.',
        ].join('\n'),
        trace: traceOf(v.path, { line: v.node.line, note: v.detail === 'depth' ? `${v.live} mappings live` : `${quote(v.node.parent ?? v.node)} (again, earlier mapping still live)` }),
        ...reach,
      });
    }
  },
};
