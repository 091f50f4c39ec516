/**
 * The calls of a function that need a context (page faults or preemption disabled) or that may
 * sleep, including calls of functions whose summaries (summaries/context.ts) say so: the static and
 * other functions of the same file always, and, given a tree's summaries (scan, check --tree, fix), the
 * functions of other files called inside an atomic section (or named by `alsoAsk`).
 */
import type { KmapApi } from '../kmap-api.js';
import type { CFunction } from '../source/functions.js';
import { CalleeSummaries, describeChain, scopeOf, type ContextSummary, type Effect, type Scope, type SummaryFacts } from '../summaries/context.js';
import { callArguments, calleeName, normalizedText, type SyntaxNode } from '../syntax/ast.js';
import { acceptsFaults, acquireOf, needOf, sleepOf, type Need, type NeedKind, type SleepInfo } from './atomic-api.js';
import { analyseContext } from './dataflow.js';

export { satisfiedBy } from './dataflow.js';

/** The callee a site's fact comes from, and the chain of calls down to the base call. */
export interface Via {
  /** The function called at the site. */
  callee: string;
  /** The call the fact is about, at the end of the chain (raw_copy_from_user). */
  base: string;
  effect: Effect;
  /** The functions called from the site down to the base call: ['copyin', 'raw_copy_from_user']. */
  calls: string[];
  /** "copyin() -> raw_copy_from_user(): must not fault: ..." */
  chain: string;
  /** Where the base call is (path and line: another file for a tree summary). */
  path: string;
  line: number;
}

/** The functions between a site and its base call, for a one-line verdict: "copyin()", "a() -> b()", "a() -> ... -> z()". */
export function throughText(v: Via): string {
  const mid = v.calls.slice(0, -1).map((c) => `${c}()`);
  return mid.length > 3 ? `${mid[0]} -> ... -> ${mid[mid.length - 1]}` : mid.join(' -> ');
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

/** Where the sites of one function look for callee summaries. */
export interface CalleeOptions {
  /** The analysed file's path (tree callees are looked for in the other files). */
  path?: string;
  api?: KmapApi;
  /** A tree's summaries; without them only the file's own functions are seen. */
  tree?: CalleeSummaries;
  /**
   * Without a tree: collects the names of other files' functions that calls inside an atomic section
   * reach (directly or through the file's own functions), whose summaries a tree could give (the scan
   * asks the tree about them once every file is read).
   */
  asks?: Set<string>;
  /** Names to ask the tree about even outside an atomic section (the pre-image's sites, for the post-image). */
  alsoAsk?: ReadonlySet<string>;
  /**
   * Follow callees only where the asking rule can use what they do: calls inside an atomic section (on
   * every path), and calls of the functions in `alsoNamed`. Summarising every same-file callee of every
   * call costs a parse and a data flow each; without this option every call is followed.
   */
  followInSections?: { alsoNamed?: ReadonlySet<string> };
}

/** The file-local summaries, per API and per what is asked (needs alone spare parsing sleeping helpers). */
const localSummaries = new WeakMap<KmapApi, Record<SummaryFacts, CalleeSummaries>>();
const scopes = new WeakMap<ReadonlyMap<string, CFunction>, Map<string, Scope>>();

function scopeFor(path: string, fileFunctions: ReadonlyMap<string, CFunction>): Scope {
  let byPath = scopes.get(fileFunctions);
  if (!byPath) scopes.set(fileFunctions, (byPath = new Map()));
  let s = byPath.get(path);
  if (!s) byPath.set(path, (s = scopeOf(path, fileFunctions)));
  return s;
}

interface Resolved {
  name: string;
  summary: ContextSummary;
}

/** What the calls of `fn` reach through callees: the summary behind each call that has one. */
function calleeFacts(fn: CFunction, fileFunctions: ReadonlyMap<string, CFunction>, opts: CalleeOptions, wants: SummaryFacts): (call: SyntaxNode) => Array<{ effects: Effect[]; head: string[] }> {
  const api = opts.api;
  if (!api) return () => [];
  let local = localSummaries.get(api);
  if (!local) localSummaries.set(api, (local = { all: new CalleeSummaries(api), needs: new CalleeSummaries(api, null, 'needs') }));
  const summaries = opts.tree ?? local[wants];
  const scope = scopeFor(opts.path ?? '', fileFunctions);
  let ctx: ReturnType<typeof analyseContext> | null = null;
  let opens: boolean | null = null;
  const underHold = (call: SyntaxNode) => {
    // No section is open anywhere in a function that opens none: spare its data flow.
    opens ??= fn.body.descendants('call_expression').some((c) => acquireOf(calleeName(c)) !== null);
    if (!opens) return false;
    ctx ??= analyseContext(fn);
    return !!ctx.at(call)?.holds.length;
  };
  const resolve = (name: string, call: SyntaxNode): Resolved | undefined => {
    const own = fileFunctions.get(name);
    if (own) {
      if (own === fn || own.line === fn.line) return undefined;
      return { name, summary: summaries.of(own, scope) };
    }
    if (!opts.tree) {
      if (opts.asks && underHold(call)) opts.asks.add(name);
      return undefined;
    }
    if (!underHold(call) && !opts.alsoAsk?.has(name)) return undefined;
    const summary = summaries.ofCall(name, scope);
    return summary && { name, summary };
  };
  const follow = opts.followInSections;
  return (call) => {
    const name = calleeName(call);
    if (!name || name === fn.name || api.isContextPrimitive(name)) return [];
    if (follow && !follow.alsoNamed?.has(name) && !underHold(call)) return [];
    let r: Resolved | undefined;
    try {
      r = resolve(name, call);
    } catch {
      return []; // a callee that does not parse has no summary
    }
    if (!r) return [];
    if (opts.asks && !opts.tree && r.summary.open.length && underHold(call)) for (const o of r.summary.open) opts.asks.add(o);
    const out = [{ effects: [...r.summary.needs, ...(r.summary.sleep ? [r.summary.sleep] : [])], head: [name] }];
    // A function handed to a callee that calls it (a callback): its facts are the call's too.
    for (const k of r.summary.callsParams) {
      const arg = callArguments(call)[k];
      if (!arg || arg.type !== 'identifier') continue;
      const cb = resolve(arg.text, call);
      if (cb) out.push({ effects: [...cb.summary.needs, ...(cb.summary.sleep ? [cb.summary.sleep] : [])], head: [name, arg.text] });
    }
    return out;
  };
}

function viaOf(head: string[], e: Effect): Via {
  const chain = [...head, ...e.chain];
  return { callee: head[0], base: chain[chain.length - 1], calls: chain, effect: e, chain: describeChain({ chain, why: e.why }), path: e.path, line: e.line };
}

/** "copyin() -> raw_copy_from_user(): must not fault ... (lib/iov_iter.c:183)" or "(line 183)" in the same file. */
function where(v: Via, path: string | undefined): string {
  return v.path === (path ?? '') ? `line ${v.line}` : `${v.path}:${v.line}`;
}

export function needSites(fn: CFunction, fileFunctions: ReadonlyMap<string, CFunction>, kind?: NeedKind, opts: CalleeOptions = {}): NeedSite[] {
  const out: NeedSite[] = [];
  const facts = calleeFacts(fn, fileFunctions, opts, 'needs');
  let mayFault: boolean | null = null;
  for (const call of fn.body.descendants('call_expression')) {
    const need = needOf(call);
    if (need) {
      // A raw user copy in a function that says it may fault (might_fault()) is not relied on to fail.
      mayFault ??= fn.body.descendants('call_expression').some((c) => acceptsFaults(calleeName(c)));
      if (need.raw && mayFault) continue;
      if (!kind || need.kind === kind) out.push({ call, need });
      continue;
    }
    const seen = new Set<NeedKind>();
    for (const f of facts(call)) {
      for (const e of f.effects) {
        if (e.kind === 'sleep' || (kind && e.kind !== kind) || seen.has(e.kind)) continue;
        seen.add(e.kind);
        const via = viaOf(f.head, e);
        out.push({ call, need: { kind: e.kind, why: `${via.chain} (${where(via, opts.path)})` }, via });
      }
    }
  }
  // per_cpu_ptr(x, smp_processor_id()) is one access: keep the outer call only.
  return out.filter((s) => !out.some((o) => o !== s && o.need.kind === s.need.kind && o.call.contains(s.call)));
}

/** The calls of `fn` that may sleep (a callee's summary is only asked of a call `opts.followInSections` lets through). */
export function sleepSites(fn: CFunction, fileFunctions: ReadonlyMap<string, CFunction>, opts: CalleeOptions = {}): SleepSite[] {
  const out: SleepSite[] = [];
  const facts = calleeFacts(fn, fileFunctions, opts, 'all');
  for (const call of fn.body.descendants('call_expression')) {
    const sleep = sleepOf(call);
    if (sleep) {
      out.push({ call, sleep });
      continue;
    }
    for (const f of facts(call)) {
      const e = f.effects.find((x) => x.kind === 'sleep');
      if (!e) continue;
      const via = viaOf(f.head, e);
      out.push({ call, sleep: { why: `${via.chain} (${where(via, opts.path)})`, uaccess: e.uaccess }, via });
      break;
    }
  }
  return out;
}

/** Text identifying a need site across images: the call's normalized text. */
export function siteKey(site: { call: SyntaxNode }): string {
  return normalizedText(site.call);
}
