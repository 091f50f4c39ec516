/**
 * How the replay rules ask for facts: the replay of the rule context's function, computed once for all of
 * them (with the summaries of the file's functions), its violations of one kind, and where the code can run
 * (architectures without HIGHMEM, where a local kmap is page_address() and nothing is ever pushed).
 */
import type { RuleContext } from '../rules/rule.js';
import type { SyntaxNode } from '../syntax/ast.js';
import { DEFAULT_TIME_LIMIT_MS, replayFunction, type ReplayResult } from './replay.js';
import { fileSummaries } from './summaries.js';
import type { Violation, ViolationKind } from './violations.js';

/**
 * Architectures of the 6.12 tree without a HIGHMEM option: `grep -l 'config HIGHMEM' arch/* /Kconfig`
 * on linux-6.12 lists arc, arm, csky, microblaze, mips, powerpc, sparc, x86 and xtensa; every other
 * directory under arch/ is below. There kmap_local_page() is page_address() and nothing is ever
 * pushed on the kmap_local stack; CONFIG_DEBUG_KMAP_LOCAL_FORCE_MAP changes nothing without HIGHMEM
 * (the !HIGHMEM branch of include/linux/highmem-internal.h ignores it).
 */
export const NO_HIGHMEM_ARCHES = ['alpha', 'arm64', 'hexagon', 'loongarch', 'm68k', 'nios2', 'openrisc', 'parisc', 'riscv', 's390', 'sh', 'um'] as const;

const NO_HIGHMEM_RE = new RegExp(`^(?:.*/)?arch/(${NO_HIGHMEM_ARCHES.join('|')})/`);

/** The architecture without HIGHMEM a path belongs to, or null. */
export function noHighmemArch(path: string): string | null {
  return NO_HIGHMEM_RE.exec(path)?.[1] ?? null;
}

const cache = new WeakMap<SyntaxNode, { api: RuleContext['api']; result: ReplayResult }>();
/** Replays whose gaps were already recorded (the first replay rule to ask records them, once). */
const gapsRecorded = new WeakSet<ReplayResult>();

/** The replay of the context's function, computed once for all replay rules. */
export function replayFor(ctx: Pick<RuleContext, 'fn' | 'api' | 'fileFunctions'>): ReplayResult {
  const hit = cache.get(ctx.fn.body);
  if (hit && hit.api === ctx.api) return hit.result;
  const result = replayFunction(ctx.fn, ctx.api, { summaries: fileSummaries(ctx.fileFunctions, ctx.api) });
  cache.set(ctx.fn.body, { api: ctx.api, result });
  return result;
}

/** Where the code runs, for a replay finding: a cleanup note and a warning on architectures without HIGHMEM. */
export interface Reach {
  note?: string;
  severity?: 'warning';
}

/** The violations of one kind in the context's function; the replay's gaps go to the context once. */
export function violationsOf(ctx: RuleContext, kind: ViolationKind): { violations: Violation[]; reach: Reach } {
  const result = replayFor(ctx);
  if (!gapsRecorded.has(result)) {
    gapsRecorded.add(result);
    if (!result.complete) {
      const why = result.stoppedBy === 'time' ? `the ${DEFAULT_TIME_LIMIT_MS} ms time limit, which depends on the machine's speed and load` : 'budget';
      ctx.gap(`the path replay stopped after ${result.states} states (${why}): some paths of this function were not checked`);
    }
    for (const u of result.undecided) ctx.gap(`line ${u.line}: ${u.reason}`);
  }
  const arch = noHighmemArch(ctx.path);
  const reach: Reach = arch
    ? { note: `${arch} has no HIGHMEM: kmap_local_page() is page_address() and kunmap_local() does nothing there, so this is a cleanup, not a runtime bug`, severity: 'warning' }
    : {};
  return { violations: result.violations.filter((v) => v.kind === kind), reach };
}
