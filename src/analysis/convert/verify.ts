/**
 * Converts a file and proves the conversion with the analysis: the planned rewrite is applied in memory,
 * every rewritten function is re-analysed with the rules (the original function as its pre-image, so the
 * differential rules see what kmap_atomic() used to provide), and a group whose rewrite draws an error or
 * warning is refused with that finding as the reason. Refusing a group changes the code the others are
 * checked against, so it repeats until nothing more is refused.
 */
import { findRule } from '../rules/index.js';
import { checkFunction, TOO_DEEP, tooDeepToAnalyse, verifyingRules } from '../rules/runner.js';
import { DEPRECATED_CALL } from '../kmap-api.js';
import type { KmapApi } from '../kmap-api.js';
import type { CalleeSummaries } from '../summaries/context.js';
import type { EngineConfig, Finding } from '../model.js';
import { locateFunctions, relocateFunctions, type CFunction } from '../source/functions.js';
import { functionsMatching } from '../source/matches.js';
import { planFunction, type ConversionGroup, type FunctionPlan, type PlanOptions, type Refusal } from './plan.js';
import { renamedFunction } from './renamed.js';
import { applyEditsByLine, applyTextEdits, type TextEdit } from './text-edits.js';

/** Calls whose presence makes a function worth planning (cheap text test before parsing). */
export { DEPRECATED_CALL } from '../kmap-api.js';



export interface ConvertOptions extends PlanOptions {
  /**
   * A kmap_atomic() group refused because its section needs page faults disabled is converted with an
   * explicit pagefault_disable()/pagefault_enable() pair inside the mapping instead (then verified again).
   */
  addPagefaultDisable?: boolean;
  /** Callee summaries of the tree (see RuleContext.callees), or the sink for what a tree would be asked. */
  callees?: CalleeSummaries;
  calleeAsks?: Set<string>;
}

export interface FileConversion {
  path: string;
  source: string;
  plans: FunctionPlan[];
  /** The source with every accepted group converted (line count unchanged). */
  readonly converted: string;
  /** Findings on the converted code that refused a group, by group. */
  refusedBy: Map<ConversionGroup, Finding>;
  /** The edits of every accepted group (what `converted` applies; layout.ts renders them in kernel style). */
  edits: TextEdit[];
}

/** The callee options of a conversion, for checkFunction. */
export function calleeScope(o: { callees?: CalleeSummaries; calleeAsks?: Set<string> }): { callees?: CalleeSummaries; calleeAsks?: Set<string> } {
  return { ...(o.callees ? { callees: o.callees } : {}), ...(o.calleeAsks ? { calleeAsks: o.calleeAsks } : {}) };
}

function byName(fns: CFunction[]): Map<string, CFunction> {
  return new Map(fns.filter((f) => !f.fragment).map((f) => [f.name, f]));
}

/** The group a finding on converted code belongs to: one whose calls it names, else the innermost enclosing section. */
function owningGroups(f: Finding, groups: ConversionGroup[]): ConversionGroup[] {
  const lines = new Set([f.line, ...f.trace.map((t) => t.line)]);
  const named = groups.filter((g) => [...g.maps, ...g.unmaps].some((s) => lines.has(s.call.line)));
  if (named.length) return named;
  const enclosing = groups.filter((g) => g.firstLine <= f.line && f.line <= g.lastLine).sort((a, b) => b.firstLine - a.firstLine);
  if (enclosing.length) return [enclosing[0]];
  return groups.length === 1 ? groups : groups.filter((g) => g.firstLine <= f.line).slice(-1);
}

export function convertFile(path: string, source: string, api: KmapApi, config: EngineConfig, fns: CFunction[] = locateFunctions(source), options: ConvertOptions = {}): FileConversion {
  const callers = functionsMatching(fns, source, DEPRECATED_CALL);
  const plans = fns.filter((fn) => !fn.fragment && callers.has(fn)).map((fn) => planFunction(fn, api, options)).filter((p) => p.groups.length || p.strays.length);
  const refusedBy = new Map<ConversionGroup, Finding>();
  const rules = verifyingRules(config);
  const accepted = () => plans.flatMap((p) => p.groups.filter((g) => !g.refusal));
  let pending = new Set(plans.filter((p) => p.groups.some((g) => !g.refusal)));
  for (let round = 0; pending.size && round < 8; round++) {
    const edits: TextEdit[] = accepted().flatMap((g) => g.edits);
    const lines = applyEditsByLine(source, edits, ' ');
    const converted = lines.join('\n');
    const convertedFns = relocateFunctions(fns, lines, new Set(edits.map((e) => e.line)));
    const convertedByLine = new Map(convertedFns.map((f) => [f.line, f]));
    const fileFunctions = byName(convertedFns);
    const next = new Set<FunctionPlan>();
    for (const plan of pending) {
      const live = plan.groups.filter((g) => !g.refusal);
      // Pure renames reuse the original tree (no parse); anything else is parsed from the converted text.
      const renamed = renamedFunction(plan.fn, live.flatMap((g) => g.edits));
      const post = renamed ?? convertedByLine.get(plan.fn.line);
      if (!post || !live.length) continue;
      if (tooDeepToAnalyse(post)) {
        // No rule can run on it: the rewrite is not verified, so it is not offered.
        for (const g of live) {
          g.refusal = { class: 'needs-care', reason: `${TOO_DEEP}, so the conversion is not verified`, line: plan.fn.line };
          g.edits = [];
          g.introduces = null;
        }
        plan.verified = { pureRename: renamed !== null, findings: [] };
        continue;
      }
      const changed = new Set(live.flatMap((g) => g.edits.map((e) => e.line)));
      const findings = checkFunction(post, { path, source: converted, image: 'post', isChanged: (l) => changed.has(l), api, rules, fileFunctions, counterpart: plan.fn, ...calleeScope(options) });
      plan.verified = { pureRename: renamed !== null, findings };
      let refusedAny = false;
      const switched = new Set<ConversionGroup>();
      for (const f of findings) {
        if (f.severity === 'notice') continue;
        for (const g of owningGroups(f, live)) {
          if (g.refusal || switched.has(g)) continue;
          if (f.rule === 'lost-pagefault-disable' && options.addPagefaultDisable && g.pagefaultEdits && !g.addsPagefaultDisable) {
            // The section relied on kmap_atomic() disabling page faults: say so explicitly, then check again.
            g.edits = g.pagefaultEdits;
            g.addsPagefaultDisable = true;
            switched.add(g);
            refusedAny = true;
            continue;
          }
          const refusal: Refusal = { class: findRule(f.rule)?.meta.traits?.blocksConversion ? 'blocked' : 'needs-care', reason: f.message, rule: f.rule, line: f.line, ...(f.trace.length ? { evidence: f.trace.map((t) => `${t.path}:${t.line} ${t.note}`) } : {}) };
          g.refusal = refusal;
          g.edits = [];
          g.introduces = null;
          refusedBy.set(g, f);
          refusedAny = true;
        }
      }
      // Refusing a group reverts its calls to kmap_atomic(): the remaining groups are checked again.
      if (refusedAny && plan.groups.some((g) => !g.refusal)) next.add(plan);
    }
    pending = next;
  }
  const edits = accepted().flatMap((g) => g.edits);
  // Built when asked (fix and the tests ask; the scan never does): a whole-file join is not free.
  let convertedText: string | undefined;
  return {
    path,
    source,
    plans,
    get converted() {
      return (convertedText ??= applyTextEdits(source, edits));
    },
    refusedBy,
    edits,
  };
}

