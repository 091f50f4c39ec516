/**
 * What the five replay rules share: run (or reuse) the replay of the function and report one kind of
 * violation, with its path as the trace, a note for architectures where local kmaps are no-ops, and a
 * gap when the replay ran out of budget.
 */
import type { RuleContext } from '../rules/rule.js';
import { replayFor, type ViolationKind } from './replay.js';

/**
 * Architectures of the 6.12 tree without a HIGHMEM option: `grep -l 'config HIGHMEM' arch/* /Kconfig`
 * on linux-6.12 lists arc, arm, csky, microblaze, mips, powerpc, sparc, x86 and xtensa; every other
 * directory under arch/ is below. There kmap_local_page() is page_address() and nothing is ever
 * pushed on the kmap_local stack (none of them selects ARCH_SUPPORTS_KMAP_LOCAL_FORCE_MAP either).
 */
export const NO_HIGHMEM_ARCHES = ['alpha', 'arm64', 'hexagon', 'loongarch', 'm68k', 'nios2', 'openrisc', 'parisc', 'riscv', 's390', 'sh', 'um'] as const;

const NO_HIGHMEM_RE = new RegExp(`^(?:.*/)?arch/(${NO_HIGHMEM_ARCHES.join('|')})/`);

/** The architecture without HIGHMEM a path belongs to, or null. */
export function noHighmemArch(path: string): string | null {
  return NO_HIGHMEM_RE.exec(path)?.[1] ?? null;
}

export function reportReplay(ctx: RuleContext, kind: ViolationKind): void {
  const result = replayFor(ctx);
  if (!result.complete) ctx.gap(`the path replay stopped after ${result.states} states (budget): some paths of this function were not checked`);
  const arch = noHighmemArch(ctx.path);
  for (const v of result.violations) {
    if (v.kind !== kind) continue;
    ctx.report({
      node: v.node,
      message: v.message,
      key: v.key,
      trace: v.trace,
      ...(arch
        ? {
            note: `${arch} has no HIGHMEM: kmap_local_page() is page_address() there, so this is a cleanup, not a runtime bug (a kernel with CONFIG_DEBUG_KMAP_LOCAL_FORCE_MAP would still warn)`,
            severity: 'warning' as const,
          }
        : {}),
    });
  }
}
