import { traceOf, quote } from '../replay/path.js';
import { violationsOf } from '../replay/query.js';
import type { Rule } from './rule.js';

export const doubleUnmap: Rule = {
  meta: {
    id: 'double-unmap',
    severity: 'error',
    traits: { existingCode: true, cleanupWithoutHighmem: true },
    summary: 'The same kmap_local mapping is released twice on one path.',
    doc: `## What it finds
A path on which the same mapped address (or an alias of it) is passed to \`kunmap_local()\`,
\`kunmap_atomic()\` or \`pte_unmap*()\` twice: an error label that unmaps what the success path already
unmapped, or a duplicated unmap left over from a conversion. The trace shows the map, both unmaps and the
branches between them. A mapping the caller made counts too: a parameter, or a field of what a pointer
parameter points to (\`kunmap_local(walk->data)\`), unmapped twice with no call given that parameter in
between (which may have mapped the field again).

## Why it matters
Each unmap pops one entry of the per-task kmap stack. The second unmap pops somebody else's mapping (the
caller's, or an interrupted context's) or underflows the stack; with HIGHMEM or
CONFIG_DEBUG_KMAP_LOCAL_FORCE_MAP, \`kunmap_local_indexed()\` warns about the address mismatch.
A doubled \`kunmap_atomic()\` also unbalances the preempt and page-fault counters.

## Example
\`\`\`c
	kaddr = kmap_local_page(page);
	err = parse(kaddr);
	kunmap_local(kaddr);
	if (err)
		goto out;
	...
out:
	kunmap_local(kaddr);	/* second unmap on the error path */
\`\`\`

## Fix
Unmap exactly once on every path: either before the branch or at the label, not both. Setting the
variable to NULL after the unmap and testing it at the label (\`if (kaddr) kunmap_local(kaddr);\`) also works.`,
  },
  check(ctx) {
    const { violations, reach } = violationsOf(ctx, 'double-unmap');
    for (const v of violations) {
      const name = v.mapping.holder ?? 'the address';
      ctx.report({
        node: v.node,
        key: v.key,
        message: `${name} is unmapped a second time on this path (first by ${quote(v.earlier!.call, 40)} at line ${v.earlier!.line})`,
        detail: [
          'Each unmap pops one entry of the per-task kmap stack: the second pops somebody else\'s mapping or underflows the stack.',
          'Unmap exactly once on every path: before the branch or at the label, not both.',
        ].join('\n'),
        trace: traceOf(v.path, { line: v.unmap!.line, note: `${quote(v.unmap!.call)} (second unmap)` }),
        ...reach,
      });
    }
  },
};
