import { callArguments, calleeName } from '../syntax/ast.js';
import { DEPRECATED_REPLACEMENTS, RELIES_ON_ATOMIC } from '../kmap-api.js';
import type { Rule } from './rule.js';


export const deprecatedApi: Rule = {
  meta: {
    id: 'deprecated-api',
    severity: 'warning',
    traits: { notAVerdict: true },
    summary: 'An added line calls kmap_atomic(), kunmap_atomic(), kmap() or kunmap(), which are deprecated.',
    doc: `## What it finds
Lines the patch adds that call \`kmap_atomic()\`, \`kmap_atomic_pfn()\`, \`kmap_atomic_prot()\`,
\`kunmap_atomic()\`, \`kmap()\` or \`kunmap()\`.

## Why it matters
Documentation/mm/highmem.rst: \`kmap_local_page()\`/\`kmap_local_folio()\` "should always be used, whereas
kmap_atomic() and kmap() have been deprecated". \`kmap()\` takes a global lock and a scarce PKMAP slot;
\`kmap_atomic()\` also disables preemption and page faults, which hides what the code really needs.
checkpatch.pl warns about the same calls (DEPRECATED_API).

## Example
\`\`\`c
	vaddr = kmap_atomic(page);
	memcpy(vaddr + offset, buf, len);
	kunmap_atomic(vaddr);
\`\`\`

## Fix
\`\`\`c
	vaddr = kmap_local_page(page);
	memcpy(vaddr + offset, buf, len);
	kunmap_local(vaddr);
\`\`\`
Converting \`kmap_atomic()\` is mechanical only when the section does not rely on disabled page faults or
preemption (\`__copy_from_user_inatomic()\`, per-CPU data, \`smp_processor_id()\`); otherwise add explicit
\`pagefault_disable()\`/\`preempt_disable()\` inside the mapping. \`kmap()\` addresses must not be handed to other
threads before they become \`kmap_local_page()\`, and \`kunmap(page)\` becomes \`kunmap_local(address)\`.

The exact fix offered is the conversion \`kmap-review fix\` makes, and only for a site it classifies \`ready\`:
the function is converted in memory and re-analysed with every rule (the original as the pre-image), so a
section that needed the disabled page faults or preemption, or a \`kmap()\` address that leaves the thread,
gets no fix. A section that only copies gets the helper (\`memcpy_from_page()\`...).`,
  },

  check(ctx) {
    const reliance = RELIES_ON_ATOMIC.exec(ctx.fn.body.text);
    for (const call of ctx.fn.body.descendants('call_expression')) {
      const name = calleeName(call);
      if (!name || !(name in DEPRECATED_REPLACEMENTS) || !ctx.isChanged(call.line)) continue;
      const replacement = DEPRECATED_REPLACEMENTS[name];
      const isKmapPair = name === 'kmap' || name === 'kunmap';
      const message = `Deprecated use of '${name}()', prefer '${replacement}()'`;
      const detail: string[] = [];
      if (name === 'kunmap') detail.push(`${replacement}() takes the mapped address, not the page.`);
      if (name === 'kmap') detail.push('The address must then stay in this thread and be unmapped in LIFO order.');
      // A rename is exact for the atomic calls when nothing in the function hints at relying on their side effects.
      const canRename = !isKmapPair && !reliance && call.line === call.endLine;
      if (!isKmapPair && reliance) detail.push(`The function calls ${reliance[0].replace(/\s*\($/, '()')}, which may rely on what kmap_atomic() disabled.`);
      const lineText = ctx.source.split('\n')[call.line - 1];
      const fnNode = call.child('function')!;
      const col = fnNode.start - (ctx.source.lastIndexOf('\n', fnNode.start - 1) + 1);
      ctx.report({
        node: call,
        message,
        ...(detail.length ? { detail: detail.join('\n') } : {}),
        key: callArguments(call).map((a) => a.text).join(','),
        // For a whole function the engine replaces this with the verified conversion (convert/conversion-fixes.ts).
        fix: canRename && lineText.slice(col, col + name.length) === name
          ? {
              description: `Replace ${name}() with ${replacement}()`,
              edits: [{ startLine: call.line, endLine: call.line, replacement: lineText.slice(0, col) + replacement + lineText.slice(col + name.length) }],
            }
          : null,
      });
    }
  },
};
