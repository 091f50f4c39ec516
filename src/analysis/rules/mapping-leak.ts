import { traceOf, quote } from '../replay/path.js';
import { violationsOf } from '../replay/query.js';
import type { Rule } from './rule.js';

export const mappingLeak: Rule = {
  meta: {
    id: 'mapping-leak',
    severity: 'error',
    traits: { existingCode: true, cleanupWithoutHighmem: true },
    summary: 'A path leaves the function with a kmap_local mapping still live (an early return or goto skips the unmap).',
    doc: `## What it finds
A path from a \`kmap_local_page()\` (or \`kmap_local_folio()\`, \`kmap_atomic()\`, \`pte_offset_map*()\`) to a
\`return\` or the end of the function that never unmaps the address: typically an error path added between
the map and the unmap, a \`goto\` to a label past the unmap, or an address overwritten by the next mapping
in a loop. The trace shows the map, the branches taken and the return.

Decided per path, by data flow: on a path where the address (or a pointer computed from it) is returned, or
stored into memory the caller can reach (a field of a parameter, a global, through a pointer), the mapping is
handed over and that path is not a leak (a store is \`mapping-escapes\`' to judge); on every other path it is.
What is read through the address (\`*v = *kaddr\`) is not the address, and neither is what a same-file
function declared to return no pointer computes from it. A call to a same-file function releases the
mapping when replaying that function shows it unmaps its parameter on every path (\`put_addr(page, kaddr)\`);
a call to a function the file does not show, after which the address is never unmapped, leaves the question
open and is listed as a gap, not reported. A path that skips an unmap under a condition the replay cannot
decide (\`if (use_sg) kunmap_local(buf);\`), where the arm taken does not unmap it as well and the condition
does not read through the mapping (\`if (usage_error(su))\`, su pointing into it, decides by what the page
holds, not by whether it was mapped), is not reported either: the author may know that the condition holds.

## Why it matters
A leaked local mapping stays on the per-task kmap stack: every later mapping of the task is one slot
deeper, the stack overflows (\`BUG_ON(idx >= KM_MAX_IDX)\`), and returning to user space with a live
mapping warns (\`kmap_assert_nomap()\`, on HIGHMEM kernels). \`kmap_atomic()\` leaks also leave preemption and page faults
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
    const { violations, reach } = violationsOf(ctx, 'mapping-leak');
    for (const v of violations) {
      const name = v.mapping.holder ?? `the mapping of ${quote(v.mapping.call, 40)}`;
      const how = v.mapping.viaHelper ? `mapped by ${v.mapping.viaHelper}() at line ${v.mapping.line}` : `mapped at line ${v.mapping.line}`;
      const where = v.exit!.node ? 'when this return leaves the function' : 'when the function ends';
      const atomic = v.mapping.family === 'atomic';
      ctx.report({
        node: v.node,
        key: v.key,
        message: `${name} (${how}) is still mapped ${where}`,
        detail: [
          atomic
            ? 'A leaked kmap_atomic() leaves its slot on the per-task kmap stack and preemption and page faults disabled.'
            : 'A leaked local mapping keeps its slot on the per-task kmap stack: later maps nest deeper until it overflows.',
          'Unmap it on this path too, usually through a common exit label.',
        ].join('\n'),
        trace: traceOf(v.path, { line: v.exit!.line, note: v.exit!.node ? `${quote(v.exit!.node)} (${name} still mapped)` : `end of function (${name} still mapped)` }),
        ...reach,
      });
    }
  },
};
