import { callArguments, calleeName, type SyntaxNode } from '../syntax/ast.js';
import { DEPRECATED_REPLACEMENTS } from '../kmap-api.js';
import type { ConversionGroup } from '../convert/plan.js';
import { BREAK, applyEditsByLine } from '../convert/text-edits.js';
import type { ConvertOptions, FileConversion } from '../convert/verify.js';
import type { KmapApi } from '../kmap-api.js';
import type { CFunction } from '../source/functions.js';
import { DEFAULT_CONFIG, type EngineConfig, type LineEdit } from '../model.js';
import type { Rule, RuleContext, RuleReport } from './rule.js';

type Converter = (path: string, source: string, api: KmapApi, config: EngineConfig, fns: CFunction[], options?: ConvertOptions) => FileConversion;
let convertFile: Converter | null = null;

/**
 * convert/verify.ts registers its convertFile() here when it loads (engine.ts imports it): a static import
 * would be a cycle (verify -> engine -> rules -> this rule).
 */
export function setConverter(fn: Converter): void {
  convertFile = fn;
}

/** The accepted (verified) conversion group of a call, from converting the function alone. */
function groupOf(conv: FileConversion, call: SyntaxNode): ConversionGroup | null {
  for (const plan of conv.plans) {
    for (const g of plan.groups) {
      if (g.refusal) continue;
      if ([...g.maps.map((m) => m.call), ...g.unmaps.map((u) => u.call)].some((c) => c.line === call.line && c.start === call.start)) return g;
    }
  }
  return null;
}

/** A group's edits as whole-line replacements (a line the edits empty is deleted; a BREAK starts a line). */
function lineEdits(source: string, g: ConversionGroup, only?: number): LineEdit[] {
  const edited = applyEditsByLine(source, g.edits, BREAK);
  const original = source.split('\n');
  const lines = [...new Set(g.edits.map((e) => e.line))].filter((l) => only === undefined || l === only).sort((a, b) => a - b);
  return lines.map((l) => {
    const pieces = edited[l - 1].split(BREAK).map((p) => p.replace(/[ \t]+$/, ''));
    const emptied = pieces.length === 1 && pieces[0].trim() === '' && original[l - 1].trim() !== '';
    return { startLine: l, endLine: l, replacement: emptied ? '' : pieces.join('\n') };
  });
}

/** The fix of a deprecated call whose conversion `kmap-review fix` would make (the site is `ready`). */
function verifiedFix(ctx: RuleContext, call: SyntaxNode, conv: FileConversion | null): RuleReport['fix'] {
  const g = conv && groupOf(conv, call);
  if (!g) return null;
  const simple = !g.helper && !g.reordered && !g.introduces && g.maps.every((m) => m.api.family === 'atomic');
  const edits = lineEdits(ctx.source, g, simple ? call.line : undefined);
  if (!edits.length) return null;
  const description = g.helper
    ? `Replace the open-coded section with ${g.helper}`
    : simple
      ? `Replace ${calleeName(call)}() with ${DEPRECATED_REPLACEMENTS[calleeName(call)!]}()`
      : `Convert to kmap_local_page()/kunmap_local()${g.reordered ? ', unmapping in LIFO order' : ''}`;
  return { description, edits };
}

/**
 * Calls that, inside a kmap_atomic() section, may depend on the page faults or preemption it disabled.
 * With one of these in the function a rename is not offered as an exact fix: the conversion needs a
 * human (or the atomic-context rules) to decide on explicit pagefault_disable()/preempt_disable().
 */
const RELIES_ON_ATOMIC = /\b(?:__copy_(?:from|to)_user_inatomic\w*|copy_\w*_inatomic|\w*_nofault|smp_processor_id|(?:__)?this_cpu_\w+|raw_cpu_\w+|get_cpu_var|in_atomic|pagefault_disabled|faulthandler_disabled|futex_atomic\w*|arch_futex\w*)\s*\(/;

export const deprecatedApi: Rule = {
  meta: {
    id: 'deprecated-api',
    severity: 'warning',
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
    // Whole functions are converted and verified like `kmap-review fix` does (fragments are not).
    let conv: FileConversion | null | undefined;
    const conversion = () => (conv === undefined ? (conv = ctx.fn.fragment || !convertFile ? null : convertFile(ctx.path, ctx.source, ctx.api, DEFAULT_CONFIG, [ctx.fn])) : conv);
    for (const call of ctx.fn.body.descendants('call_expression')) {
      const name = calleeName(call);
      if (!name || !(name in DEPRECATED_REPLACEMENTS) || !ctx.isChanged(call.line)) continue;
      const replacement = DEPRECATED_REPLACEMENTS[name];
      const isKmapPair = name === 'kmap' || name === 'kunmap';
      let message = `Deprecated use of '${name}()', prefer '${replacement}()'`;
      if (name === 'kunmap') message += ', which takes the mapped address, not the page';
      if (name === 'kmap') message += ': the address must then stay in this thread and be unmapped in LIFO order';
      // A rename is exact for the atomic calls when nothing in the function hints at relying on their side effects.
      const canRename = !isKmapPair && !reliance && call.line === call.endLine;
      if (!isKmapPair && reliance) message += `; the function calls ${reliance[0].replace(/\s*\($/, '()')}, which may rely on what kmap_atomic() disabled`;
      const lineText = ctx.source.split('\n')[call.line - 1];
      const fnNode = call.child('function')!;
      const col = fnNode.start - (ctx.source.lastIndexOf('\n', fnNode.start - 1) + 1);
      ctx.report({
        node: call,
        message,
        key: callArguments(call).map((a) => a.text).join(','),
        fix: !ctx.fn.fragment && convertFile
          ? verifiedFix(ctx, call, conversion())
          : canRename && lineText.slice(col, col + name.length) === name
          ? {
              description: `Replace ${name}() with ${replacement}()`,
              edits: [{ startLine: call.line, endLine: call.line, replacement: lineText.slice(0, col) + replacement + lineText.slice(col + name.length) }],
            }
          : null,
      });
    }
  },
};
