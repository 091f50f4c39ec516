/**
 * Callee summaries for the atomic-context rules: for a function definition, what it needs from its
 * caller's context (page faults disabled, preemption disabled), whether it may sleep, and which of its
 * parameters it calls (a callback it is given). Derived by data flow (context/dataflow.ts: the sections
 * open at each call inside the function) from the base facts of the vocabulary (context/atomic-api.ts,
 * reached through KmapApi.isContextPrimitive), and propagated to a fixed point over the call graph:
 *
 * - a need of a callee that the function's own sections satisfy is not passed on (a helper that does
 *   `pagefault_disable(); __copy_from_user_inatomic(); pagefault_enable()` needs nothing from its caller);
 *   a sleep is passed on only from outside the function's own sections;
 * - a raw user copy (raw_copy_from_user(), ...) is a need only in a function that does not say it may
 *   fault (might_fault()): _copy_from_user() may fault, copyin() of lib/iov_iter.c (6.1) relies on failing;
 *   a single this_cpu_<op>() protects itself and raw_cpu_*() opt out of the check (Need.ownOnly): not passed on;
 * - names resolve like the C linker does: a definition in the caller's own file first (static or not),
 *   else the non-static definitions of the tree's .c files and the definitions of its headers (static
 *   inline helpers). A name with several such definitions (per-arch variants, a config's stub and the
 *   real function: flush_dcache_page() has some twenty) is not followed: which one is linked is decided
 *   by the build, not by the code in view. The summary lists such names in `undecided`, and no fact is
 *   drawn from them (joining them instead made 74 more sites of Linux 6.1 needs-care, every one through
 *   an arch or debug-config variant: bench/README.md);
 * - recursion and cycles iterate until nothing changes (facts only accumulate, so this terminates);
 * - a callee beyond MAX_DEPTH calls or past the node budget is not read: what depends on it is unknown,
 *   never assumed, and such summaries are not kept (asked from closer, the same definition may see more).
 *
 * Only the definitions whose text (or the text of what they call, transitively) can name a base fact are
 * parsed: the exploration is lexical, the summary is not.
 */
import { acceptsFaults, mayNeedContext, maySleep, needOf, sleepOf, type NeedKind } from '../context/atomic-api.js';
import { analyseContext, satisfiedBy, type Hold } from '../context/dataflow.js';
import type { KmapApi } from '../kmap-api.js';
import { parameterNames } from '../mappings.js';
import type { CFunction } from '../source/functions.js';
import { CALLED_NAME, callArguments, calleeName, type SyntaxNode } from '../syntax/ast.js';

export type EffectKind = NeedKind | 'sleep';

/** One fact a function passes on to its callers. */
export interface Effect {
  kind: EffectKind;
  /** The calls from the summarised function's caller down to the base call: ['copyin', 'raw_copy_from_user']. */
  chain: string[];
  /** The base fact in words ("raw_copy_from_user() must not fault: ..."). */
  why: string;
  /** A user copy's sleep: only when it faults (harmless under pagefault_disable()). */
  uaccess: boolean;
  /** Where the base call is. */
  path: string;
  line: number;
}

export interface ContextSummary {
  /** At most one per kind (the first in source order). */
  needs: Effect[];
  sleep: Effect | null;
  /** Indices of the parameters the function calls (directly, or by passing them to a callee that does). */
  callsParams: number[];
  /** Names called that had no definition to look at because no tree was given (callees in other files). */
  open: string[];
  /** Names called that have several definitions, not followed (see above), with how many (files, when not read): "flush_dcache_page() x21". */
  undecided: string[];
}

const EMPTY: ContextSummary = Object.freeze({ needs: [], sleep: null, callsParams: [], open: [], undecided: [] }) as ContextSummary;

/** The definitions a name may resolve to from one file. */
export interface Scope {
  path: string;
  defs(name: string): readonly CFunction[];
}

/** Where callees outside the caller's file are found (summaries/tree.ts). */
export interface DefinitionSource {
  /**
   * The definitions of `name` in other files than `fromPath` that a call from there may reach, with their
   * files' scopes; or, when several files may define it, how many (none of them is read).
   */
  definitions(name: string, fromPath: string): Array<{ fn: CFunction; scope: Scope }> | { several: number };
}

/** How far the exploration follows calls from a function asked about. */
export const MAX_DEPTH = 5;
/** Definitions looked at per question, at most. */
export const MAX_NODES = 400;
const MAX_OPEN = 64;

/** An identifier alone as a call argument: possibly a function handed over as a callback. */
const ARG_IDENT = /[(,]\s*([A-Za-z_]\w*)\s*(?=[,)])/g;
const NOT_CALLEES = new Set(['if', 'for', 'while', 'switch', 'return', 'sizeof', 'typeof', '__typeof__', 'defined', 'likely', 'unlikely', 'NULL', 'true', 'false', 'void']);

interface Node {
  fn: CFunction;
  scope: Scope;
  depth: number;
  /** Callee name -> the one definition it resolves to. */
  edges: Map<string, Node>;
  /** Names with several definitions (not followed). */
  undecided: string[];
  /** Names with no definition at all (macros, assembly, or other files with no tree). */
  unresolved: string[];
  lexical: boolean;
  matters: boolean;
  /** Some callee below was not read (depth or budget). */
  cut: boolean;
  summary: ContextSummary;
}

function signatureParams(text: string): string[] {
  const open = text.indexOf('{');
  const sig = open < 0 ? text : text.slice(0, open);
  const lp = sig.indexOf('(');
  return lp < 0 ? [] : (sig.slice(lp + 1).match(/[A-Za-z_]\w*/g) ?? []);
}

/** Lexically: can this function's own text give it a fact (a base call, or a call through a parameter)? */
function mayHaveOwnFacts(fn: CFunction, wants: SummaryFacts): boolean {
  const text = fn.text;
  if (mayNeedContext(text) || (wants === 'all' && maySleep(text))) return true;
  const params = new Set(signatureParams(text));
  const open = text.indexOf('{');
  for (const m of text.slice(open < 0 ? 0 : open).matchAll(CALLED_NAME)) if (params.has(m[1])) return true;
  return false;
}

/** The names a function's text calls or hands over (lexical, de-duplicated, the vocabulary's own names left out). */
function namesIn(fn: CFunction, api: KmapApi): string[] {
  const text = fn.text;
  const open = text.indexOf('{');
  const body = open < 0 ? text : text.slice(open);
  const out = new Set<string>();
  for (const m of body.matchAll(CALLED_NAME)) if (!NOT_CALLEES.has(m[1]) && !api.isContextPrimitive(m[1])) out.add(m[1]);
  for (const m of body.matchAll(ARG_IDENT)) if (!NOT_CALLEES.has(m[1]) && !api.isContextPrimitive(m[1])) out.add(m[1]);
  return [...out];
}

export interface SummaryStats {
  /** Questions answered from scratch (explorations). */
  explorations: number;
  /** Calls asked about whose name has several definitions (not followed). */
  undecided: number;
  /** Definitions not followed because an exploration reached MAX_NODES (its answer may then depend on what was asked before). */
  budgetCuts: number;
  /** Definitions looked at (lexically) and parsed (summarised by data flow). */
  looked: number;
  parsed: number;
  ms: number;
}

/**
 * Summaries with one way of resolving names outside the caller's file (a tree, or none: then only the
 * caller's own file is seen and the names it cannot resolve are listed in `open`).
 */
/**
 * What the summaries are asked for: every fact, or the needs alone (then `sleep` is never set, and a
 * definition whose text only names sleeping calls is not parsed: most helpers allocate or lock, few need a
 * context, and the lost-context rules only ask about needs).
 */
export type SummaryFacts = 'all' | 'needs';

export class CalleeSummaries {
  private readonly done = new WeakMap<CFunction, ContextSummary>();
  readonly stats: SummaryStats = { explorations: 0, undecided: 0, budgetCuts: 0, looked: 0, parsed: 0, ms: 0 };

  constructor(
    private readonly api: KmapApi,
    private readonly tree: DefinitionSource | null = null,
    private readonly wants: SummaryFacts = 'all',
  ) {}

  get hasTree(): boolean {
    return this.tree !== null;
  }

  /** The definitions a call of `name` from `scope` may reach (its own file first). */
  /** The one definition a call of `name` from `scope` reaches; or null when none is known; or how many when several may be. */
  private resolve(name: string, scope: Scope): { fn: CFunction; scope: Scope } | null | number {
    const local = scope.defs(name);
    if (local.length) return local.length === 1 ? { fn: local[0], scope } : local.length;
    if (!this.tree) return null;
    const found = this.tree.definitions(name, scope.path);
    if (!Array.isArray(found)) return found.several;
    return found.length === 1 ? found[0] : found.length || null;
  }

  /**
   * The summary of a call of `name` from a function of `scope`: the join of its definitions' summaries, or
   * undefined when no definition is known (a macro, an assembly routine, another file without a tree).
   */
  ofCall(name: string, scope: Scope): ContextSummary | undefined {
    const def = this.resolve(name, scope);
    if (typeof def === 'number') this.stats.undecided++;
    if (!def || typeof def === 'number') return undefined;
    return this.of(def.fn, def.scope);
  }

  /** The summary of one definition. */
  of(fn: CFunction, scope: Scope): ContextSummary {
    const hit = this.done.get(fn);
    if (hit) return hit;
    const t0 = performance.now();
    this.stats.explorations++;
    try {
      return this.explore(fn, scope);
    } finally {
      this.stats.ms += performance.now() - t0;
    }
  }

  private explore(rootFn: CFunction, rootScope: Scope): ContextSummary {
    const nodes = new Map<CFunction, Node>();
    const order: Node[] = [];
    const add = (fn: CFunction, scope: Scope, depth: number): Node => {
      let n = nodes.get(fn);
      if (n) return n;
      const final = this.done.get(fn);
      n = { fn, scope, depth, edges: new Map(), unresolved: [], undecided: [], lexical: false, matters: false, cut: false, summary: final ?? EMPTY };
      nodes.set(fn, n);
      if (final) return n; // known: not explored again (lexical/matters unused for it)
      order.push(n);
      return n;
    };
    const root = add(rootFn, rootScope, 0);
    for (let i = 0; i < order.length; i++) {
      const n = order[i];
      this.stats.looked++;
      n.lexical = mayHaveOwnFacts(n.fn, this.wants);
      if (n.depth >= MAX_DEPTH || order.length >= MAX_NODES) {
        if (order.length >= MAX_NODES) this.stats.budgetCuts++;
        n.cut = true;
        continue;
      }
      for (const name of namesIn(n.fn, this.api)) {
        const def = this.resolve(name, n.scope);
        if (def === null) {
          if (!this.tree && n.unresolved.length < MAX_OPEN) n.unresolved.push(name);
        } else if (typeof def === 'number') {
          if (n.undecided.length < MAX_OPEN) n.undecided.push(`${name}() x${def}`);
        } else n.edges.set(name, add(def.fn, def.scope, n.depth + 1));
      }
    }
    // Which definitions can have facts (their own, or a callee's), and which depend on something not read.
    const fresh = (n: Node) => !this.done.has(n.fn);
    for (const n of order) n.matters = n.lexical;
    for (let changed = true, rounds = 0; changed && rounds <= order.length; rounds++) {
      changed = false;
      for (const n of order) {
        for (const t of n.edges.values()) {
          // A summary known from before matters when it has facts; the names it leaves open do not make its
          // callers worth parsing (they reach them through the lexical pass below).
          const tm = fresh(t) ? t.matters : hasFacts(t.summary);
          if (tm && !n.matters) n.matters = changed = true;
          if (fresh(t) && t.cut && !n.cut) n.cut = changed = true;
        }
      }
    }
    // Open names (no tree) matter as much as a callee with facts would: the caller must hear of them.
    for (const n of order) if (n.unresolved.length || n.undecided.length) n.summary = { ...EMPTY, open: n.unresolved, undecided: n.undecided };
    const live = order.filter((n) => n.matters);
    for (let changed = true, rounds = 0; changed && rounds < 64; rounds++) {
      changed = false;
      for (let i = live.length - 1; i >= 0; i--) {
        const n = live[i];
        const next = this.summarise(n);
        if (!sameFacts(n.summary, next)) changed = true;
        n.summary = next;
      }
    }
    // Open names propagate to callers lexically (nothing was parsed for them).
    if (!this.tree) {
      for (let changed = true, rounds = 0; changed && rounds <= order.length; rounds++) {
        changed = false;
        for (const n of order) {
          for (const t of n.edges.values()) {
            const extra = t.summary.open.filter((o) => !n.summary.open.includes(o));
            if (extra.length && n.summary.open.length < MAX_OPEN) {
              n.summary = { ...n.summary, open: [...n.summary.open, ...extra].slice(0, MAX_OPEN) };
              changed = true;
            }
          }
        }
      }
    }
    // Only complete summaries are kept: one with a cut below it depends on where the question started, and
    // asked again from closer it may see more (the answer must not depend on which file asked first).
    for (const n of order) if (!n.cut) this.done.set(n.fn, n.summary);
    return root.summary;
  }

  private summarise(n: Node): ContextSummary {
    let ctx;
    let params: string[];
    try {
      ctx = analyseContext(n.fn);
      params = parameterNames(n.fn);
    } catch {
      return { ...EMPTY, open: n.summary.open }; // a definition that does not parse has no facts we can stand by
    }
    this.stats.parsed++;
    const path = n.scope.path;
    const needs = new Map<NeedKind, Effect>();
    let sleep: Effect | null = null;
    const callsParams = new Set<number>();
    const reached = ctx.calls.filter((c) => c.reached);
    const mayFault = reached.some((c) => acceptsFaults(calleeName(c.call)));
    const addNeed = (e: Effect) => {
      if (e.kind !== 'sleep' && !needs.has(e.kind)) needs.set(e.kind, e);
    };
    /** A callee's (or callback's) summary applied at a call with `holds` open. */
    const apply = (s: ContextSummary, head: string[], holds: readonly Hold[]) => {
      for (const e of s.needs) {
        if (satisfiedBy(e as { kind: NeedKind }, e.chain[e.chain.length - 1], holds)) continue;
        addNeed({ ...e, chain: [...head, ...e.chain] });
      }
      if (this.wants === 'all' && s.sleep && !holds.length && !sleep) sleep = { ...s.sleep, chain: [...head, ...s.sleep.chain] };
    };
    for (const c of reached) {
      const name = calleeName(c.call);
      if (!name) continue;
      const pi = params.indexOf(name);
      if (pi >= 0) {
        callsParams.add(pi);
        continue;
      }
      const need = needOf(c.call);
      if (need && !need.ownOnly && !(need.raw && mayFault) && !satisfiedBy(need, name, c.holds)) addNeed({ kind: need.kind, chain: [name], why: need.why, uaccess: false, path, line: c.call.line });
      const sl = sleepOf(c.call);
      if (this.wants === 'all' && sl && !c.holds.length && !sleep) sleep = { kind: 'sleep', chain: [name], why: sl.why, uaccess: sl.uaccess, path, line: c.call.line };
      if (need || sl || this.api.isContextPrimitive(name)) continue;
      const target = n.edges.get(name);
      if (!target) continue;
      const s = target.summary;
      apply(s, [name], c.holds);
      for (const k of s.callsParams) {
        const arg = callArguments(c.call)[k];
        if (!arg || arg.type !== 'identifier') continue;
        const pj = params.indexOf(arg.text);
        if (pj >= 0) {
          callsParams.add(pj);
          continue;
        }
        const cb = n.edges.get(arg.text);
        if (cb) apply(cb.summary, [name, arg.text], c.holds);
      }
    }
    return { needs: [...needs.values()], sleep, callsParams: [...callsParams].sort((a, b) => a - b), open: n.summary.open, undecided: n.undecided };
  }
}

function hasFacts(s: ContextSummary): boolean {
  return s.needs.length > 0 || s.sleep !== null || s.callsParams.length > 0;
}

function sameFacts(a: ContextSummary, b: ContextSummary): boolean {
  return (
    a.needs.length === b.needs.length &&
    a.needs.every((e, i) => e.kind === b.needs[i].kind) &&
    !a.sleep === !b.sleep &&
    a.callsParams.length === b.callsParams.length &&
    a.callsParams.every((p, i) => p === b.callsParams[i])
  );
}

/** "copyin() -> raw_copy_from_user(): must not fault: ..." */
export function describeChain(e: Pick<Effect, 'chain' | 'why'>): string {
  const base = e.chain[e.chain.length - 1];
  const why = e.why.startsWith(`${base}() `) ? e.why.slice(base.length + 3) : e.why;
  return `${e.chain.map((c) => `${c}()`).join(' -> ')}: ${why}`;
}

/** A scope over one image's functions (a rule's fileFunctions). */
export function scopeOf(path: string, functions: ReadonlyMap<string, CFunction>): Scope {
  return { path, defs: (name) => { const f = functions.get(name); return f ? [f] : []; } };
}

export type { SyntaxNode };
