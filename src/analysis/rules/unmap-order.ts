import { traceOf, quote } from '../replay/path.js';
import { violationsOf } from '../replay/query.js';
import type { Rule } from './rule.js';

export const unmapOrder: Rule = {
  meta: {
    id: 'unmap-order',
    severity: 'error',
    traits: { existingCode: true, cleanupWithoutHighmem: true },
    summary: 'An unmap on some path does not release the most recent live kmap_local mapping (LIFO order).',
    doc: `## What it finds
A \`kunmap_local()\`, \`kunmap_atomic()\` or \`pte_unmap*()\` that, on some path through the function, releases a
mapping while a later mapping is still live on top of it. The replay follows every path (loops taken 0, 1
and 2 times) and shows the one that goes wrong: the maps, the branches taken and the unmap. Loops over an
array of mappings that unmap in the same direction as they mapped are reported too.

## Why it matters
Local mappings live on a per-task stack (\`include/linux/highmem.h\`: "The unmap has to be in the reverse
order of the map operation … Unmapping addr1 before addr2 is invalid and causes malfunction").
\`kmap_atomic()\` and \`pte_offset_map*()\` (on CONFIG_HIGHPTE) share that stack. On HIGHMEM kernels or with
CONFIG_DEBUG_KMAP_LOCAL_FORCE_MAP, \`kunmap_local_indexed()\` warns and the wrong slot is torn down.
LoongArch's \`copy_user_highpage()\` shipped this bug for two years.

## Example
\`\`\`c
	vfrom = kmap_local_page(from);
	vto = kmap_local_page(to);
	copy_page(vto, vfrom);
	kunmap_local(vfrom);	/* vto is on top */
	kunmap_local(vto);
\`\`\`

## Fix
Release in reverse order of mapping:
\`\`\`c
	kunmap_local(vto);
	kunmap_local(vfrom);
\`\`\`
For arrays, unmap from the last element down: \`for (i = n - 1; i >= 0; i--) kunmap_local(ptrs[i]);\`.
Or use a helper that does it right (\`memcpy_page()\`, \`copy_highpage()\`).`,
  },
  check(ctx) {
    const { violations, reach } = violationsOf(ctx, 'unmap-order');
    for (const v of violations) {
      const name = v.mapping.holder ?? 'a mapping';
      const call = quote(v.unmap!.call, 48);
      if (v.detail === 'forward-array') {
        ctx.report({
          node: v.node,
          key: v.key,
          message: `${call} releases ${name} in the order the loop at line ${v.mapping.line} mapped it: the first mapped goes first`,
          detail: ['kmap_local mappings form a per-task stack: they must be released in reverse order of mapping.', 'Unmap from the last element down: for (i = n - 1; i >= 0; i--).'].join('\n'),
          trace: traceOf(v.path, { line: v.unmap!.line, note: `${quote(v.unmap!.call)} (oldest element first)` }),
          ...reach,
        });
        continue;
      }
      const top = v.top!.holder ?? 'a later mapping';
      ctx.report({
        node: v.node,
        key: v.key,
        message: `${call} releases ${name} while ${top} (mapped later, at line ${v.top!.line}) is still mapped`,
        detail: ['kmap_local mappings form a per-task stack: they must be released in reverse order of mapping.', `Unmap ${top} first.`].join('\n'),
        trace: traceOf(v.path, { line: v.unmap!.line, note: `${quote(v.unmap!.call)} (${top} is on top)` }),
        ...reach,
      });
    }
  },
};
