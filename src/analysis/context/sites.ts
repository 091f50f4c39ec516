/**
 * The calls of a function that need a context (page faults or preemption disabled) or that may
 * sleep, including, one level deep, calls to static functions of the same file whose bodies do so
 * outside any section of their own (a summary of the callee is used at the call site).
 */
import type { CFunction } from '../source/functions.js';
import { calleeName, normalizedText, type SyntaxNode } from '../syntax/ast.js';
import { mayNeedContext, maySleep, needOf, sleepOf, type Need, type NeedKind, type SleepInfo } from './atomic-api.js';
import { analyseContext, atomicBy, faultsDisabledBy, preemptDisabledBy, type Hold } from './dataflow.js';

export interface Via {
  /** The static helper called. */
  fn: CFunction;
  /** The call inside the helper that needs the context or sleeps. */
  inner: SyntaxNode;
}

export interface NeedSite {
  /** The call in the analysed function (the needing call itself, or the call of the helper). */
  call: SyntaxNode;
  need: Need;
  via?: Via;
}

export interface SleepSite {
  call: SyntaxNode;
  sleep: SleepInfo;
  via?: Via;
}

/** The hold that satisfies a need, or null. `in_atomic()` is satisfied by any atomic section. */
export function satisfiedBy(need: Need, callName: string | null, holds: readonly Hold[]): Hold | null {
  if (need.kind === 'preempt') return preemptDisabledBy(holds);
  if (callName === 'in_atomic') return atomicBy(holds);
  return faultsDisabledBy(holds);
}

interface Summary {
  needs: Array<{ inner: SyntaxNode; need: Need }>;
  sleeps: Array<{ inner: SyntaxNode; sleep: SleepInfo }>;
}

const summaries = new WeakMap<SyntaxNode, Summary>();

/** What a helper needs from, or does to, its caller's context: needs and sleeps not covered by its own sections. */
export function summarise(fn: CFunction): Summary {
  const hit = summaries.get(fn.body);
  if (hit) return hit;
  const ctx = analyseContext(fn);
  const s: Summary = { needs: [], sleeps: [] };
  for (const c of ctx.calls) {
    if (!c.reached) continue;
    const need = needOf(c.call);
    if (need && !satisfiedBy(need, calleeName(c.call), c.holds)) s.needs.push({ inner: c.call, need });
    const sleep = sleepOf(c.call);
    if (sleep && c.holds.length === 0) s.sleeps.push({ inner: c.call, sleep });
  }
  summaries.set(fn.body, s);
  return s;
}

/**
 * The static helper of the same file a call goes to (one level: never the function itself), when its text
 * can matter (`mayMatter`: a cheap test that spares parsing helpers whose summary would be empty).
 */
function helperOf(call: SyntaxNode, self: CFunction, fileFunctions: ReadonlyMap<string, CFunction>, mayMatter: (text: string) => boolean): CFunction | null {
  const name = calleeName(call);
  if (!name || name === self.name) return null;
  const f = fileFunctions.get(name);
  if (!f || f === self || f.line === self.line || !mayMatter(f.text)) return null;
  try {
    void f.body; // functions may be parsed on first use: one that does not parse gets no summary
  } catch {
    return null;
  }
  return f;
}

export function needSites(fn: CFunction, fileFunctions: ReadonlyMap<string, CFunction>, kind?: NeedKind): NeedSite[] {
  const out: NeedSite[] = [];
  for (const call of fn.body.descendants('call_expression')) {
    const need = needOf(call);
    if (need) {
      if (!kind || need.kind === kind) out.push({ call, need });
      continue;
    }
    const helper = helperOf(call, fn, fileFunctions, mayNeedContext);
    if (!helper) continue;
    const seen = new Set<NeedKind>();
    for (const n of summarise(helper).needs) {
      if ((kind && n.need.kind !== kind) || seen.has(n.need.kind)) continue;
      seen.add(n.need.kind);
      out.push({ call, need: { kind: n.need.kind, why: `${helper.name}() needs it: ${n.need.why} (line ${n.inner.line})` }, via: { fn: helper, inner: n.inner } });
    }
  }
  // per_cpu_ptr(x, smp_processor_id()) is one access: keep the outer call only.
  return out.filter((s) => !out.some((o) => o !== s && o.need.kind === s.need.kind && o.call.contains(s.call)));
}

export function sleepSites(fn: CFunction, fileFunctions: ReadonlyMap<string, CFunction>): SleepSite[] {
  const out: SleepSite[] = [];
  for (const call of fn.body.descendants('call_expression')) {
    const sleep = sleepOf(call);
    if (sleep) {
      out.push({ call, sleep });
      continue;
    }
    const helper = helperOf(call, fn, fileFunctions, maySleep);
    const inner = helper ? summarise(helper).sleeps[0] : undefined;
    if (helper && inner) out.push({ call, sleep: { why: `${helper.name}() may sleep: ${inner.sleep.why} (line ${inner.inner.line})`, uaccess: inner.sleep.uaccess }, via: { fn: helper, inner: inner.inner } });
  }
  return out;
}

/** Text identifying a need site across images: the call's normalized text. */
export function siteKey(site: { call: SyntaxNode }): string {
  return normalizedText(site.call);
}
