/**
 * Path-sensitive replay of one function: walks its CFG along every path (loops taken 0, 1 and 2 times,
 * identical states merged at join points, a budget of visited states), simulating the per-thread
 * kmap_local stack, and reports what no line-level check can see, each with the path that shows it:
 * unmaps out of LIFO order, mappings still live when the function returns, double unmaps, uses after
 * unmap, and stacks deeper than KM_MAX_IDX.
 *
 * Conservative by design (false alarms on merged kernel code are the worst outcome): an address we lose
 * track of (overwritten by an unknown value, `&var` taken, stored in a struct) drops out of the checks;
 * an unmap of something never seen mapped is ignored; unknown calls unmap nothing.
 */
import { performance } from 'node:perf_hooks';
import { buildCfg, type Cfg, type CfgEdge, type CfgNode } from '../cfg/cfg.js';
import type { KmapApi } from '../kmap-api.js';
import { declaredTypes, findMapSites, findUnmapSites } from '../mappings.js';
import type { CFunction } from '../source/functions.js';
import { callArguments, calleeName, normalizedText, type SyntaxNode } from '../syntax/ast.js';
import { atomKey, atomsOf, evaluate, refine } from './conditions.js';
import { extractEvents, holderOf, type Holder, type ReplayEvent } from './events.js';
import { State, stepsOf, type LiveMapping } from './state.js';

/** include/linux/highmem-internal.h / mm/highmem.c: the depth of the per-task kmap_local stack. */
export const KM_MAX_IDX = 16;
/** States (node + replay state) visited per function before the replay gives up and reports a gap. */
export const DEFAULT_BUDGET = 10000;
/** Wall-clock cap per function, whatever the state count: the replay must never cost a review 200 ms. */
export const DEFAULT_TIME_LIMIT_MS = 150;

export type ViolationKind = 'unmap-order' | 'mapping-leak' | 'double-unmap' | 'use-after-unmap' | 'stack-depth';

export interface Violation {
  kind: ViolationKind;
  /** The unmap, return, use or map the finding is about (its text goes into the fingerprint). */
  node: SyntaxNode;
  /** Variable names only, never line numbers: stable between the pre and post images. */
  key: string;
  message: string;
  trace: Array<{ line: number; note: string }>;
}

export interface ReplayResult {
  violations: Violation[];
  /** (node, state) pairs visited. */
  states: number;
  /** False when the budget ran out before every path was replayed. */
  complete: boolean;
  ms: number;
}

export interface ReplayOptions {
  budget?: number;
  timeLimitMs?: number;
  fileFunctions?: ReadonlyMap<string, CFunction>;
  /** Whole source text, to read the comment above the function (map helpers documented as such). */
  source?: string;
}

const STACK_FAMILIES = new Set(['local', 'atomic', 'pte']);

/** Parameter names of a function definition, in order. */
function parameterNames(fn: CFunction): string[] {
  let d: SyntaxNode | null = fn.node.child('declarator');
  while (d && d.type !== 'function_declarator') d = d.child('declarator');
  const params = d?.child('parameters');
  if (!params) return [];
  return params.namedChildren.map((p) => {
    let x: SyntaxNode | null = p.child('declarator');
    while (x && x.type !== 'identifier') x = x.child('declarator');
    return x?.text ?? '';
  });
}

type HelperInfo = { index: number; exact: boolean } | null;
const helperCache = new WeakMap<ReadonlyMap<string, CFunction>, Map<string, HelperInfo>>();
const UNMAP_CALL_RE = /\b(?:kunmap_local|kunmap_atomic|pte_unmap\w*)\s*\(/;

/**
 * Same-file functions that unmap one of their parameters, looked up lazily by name (parsing every
 * function of a big file would cost more than the replay): exact helpers (one unmap, of that parameter,
 * and no map: dir_put_page(page, kaddr)) count as unmaps; any other function that unmaps a parameter
 * somewhere (on some of its paths) "consumes" the mapping passed to it.
 */
function unmapHelpers(fileFunctions: ReadonlyMap<string, CFunction> | undefined, api: KmapApi): { get(name: string): { index: number; exact: boolean } | undefined } {
  if (!fileFunctions) return { get: () => undefined };
  let cache = helperCache.get(fileFunctions);
  if (!cache) helperCache.set(fileFunctions, (cache = new Map()));
  const memo: Map<string, HelperInfo> = cache;
  const compute = (name: string): HelperInfo => {
    const f = fileFunctions.get(name);
    if (!f || !UNMAP_CALL_RE.test(f.text)) return null;
    let body: SyntaxNode;
    try {
      body = f.body;
    } catch {
      return null;
    }
    const unmaps = findUnmapSites(body, api).filter((u) => !u.api.takesPage);
    if (!unmaps.length) return null;
    const params = parameterNames(f);
    const indexes = [...new Set(unmaps.map((u) => params.indexOf(u.argBase ?? '\u0000')).filter((i) => i >= 0))];
    if (indexes.length !== 1) return null;
    const exact = unmaps.length === 1 && !findMapSites(body, api).length && /unmap|kunmap|put|release/i.test(name);
    return { index: indexes[0], exact };
  };
  return {
    get(name: string) {
      if (!memo.has(name)) memo.set(name, compute(name));
      const info = memo.get(name);
      return info ?? undefined;
    },
  };
}

/** A function that hands a mapping to its caller by design: named or documented as a map helper. */
export function isMapHelper(fn: CFunction, source?: string): boolean {
  if (/(?<!un)map|get_page|get_folio|get_addr|_addr$|kaddr|vaddr|_va$|get_\w*pte/i.test(fn.name)) return true;
  if (!source) return false;
  // Node offsets may be relative to the function's own text: find the comment by line number.
  let at = 0;
  for (let l = 1; l < fn.line && at >= 0; l++) at = source.indexOf('\n', at) + 1;
  const before = source.slice(Math.max(0, at - 2000), at).trimEnd();
  if (!before.endsWith('*/')) return false;
  const comment = before.slice(before.lastIndexOf('/*'));
  return /k?unmap|kmap|mapped|mapping/i.test(comment);
}

interface Prepared {
  cfg: Cfg;
  events: ReplayEvent[][];
  relevant: Set<string>;
  /** identifier -> relevant atoms mentioning it (forgotten when it is assigned). */
  atomsById: Map<string, string[]>;
  loopsOf: Array<Set<number>>;
  bodyOf: Map<number, Set<number>>;
  /** Loop head -> array holders unmapped inside that loop. */
  arrayUnmaps: Map<number, Set<string>>;
  /** Parameters and locals declared as pointers or arrays. */
  pointers: Set<string>;
  /** Branch node of an if -> holders unmapped in its then and else arms. */
  armUnmaps: Map<number, { then: Set<string>; else: Set<string> }>;
}

const GUARD_PARENTS = new Set(['if_statement', 'conditional_expression']);

function prepare(fn: CFunction, api: KmapApi, fileFunctions?: ReadonlyMap<string, CFunction>): Prepared {
  const cfg = buildCfg(fn.body);
  const ctx = { api, unmapHelpers: unmapHelpers(fileFunctions, api) };
  const events = cfg.nodes.map((n) => extractEvents(n.ast, ctx));

  // Atoms worth tracking: map destinations, mapped pages, and the conditions guarding maps and unmaps.
  const relevant = new Set<string>();
  const guardConds = new Set<SyntaxNode>();
  for (const evs of events) {
    for (const e of evs) {
      let call: SyntaxNode | null = null;
      if (e.kind === 'map') {
        call = e.call;
        if (e.dest && e.dest !== 'return' && !e.dest.array) relevant.add(e.dest.name);
        if (e.page) relevant.add(e.page);
      } else if (e.kind === 'unmap' || e.kind === 'maybe-unmap') call = e.call;
      if (!call) continue;
      for (let c: SyntaxNode = call; c.parent; c = c.parent) {
        const p = c.parent;
        if (GUARD_PARENTS.has(p.type) && c.field !== 'condition') {
          const cond = p.child('condition');
          if (cond) guardConds.add(cond);
        }
      }
    }
  }
  for (const cond of guardConds) for (const a of atomsOf(cond)) relevant.add(atomKey(a));
  const atomsById = new Map<string, string[]>();
  for (const key of relevant) {
    for (const id of new Set(key.match(/[A-Za-z_]\w*/g) ?? [])) {
      if (id === key) continue;
      const l = atomsById.get(id) ?? [];
      l.push(key);
      atomsById.set(id, l);
    }
  }

  // Natural loops of the back edges: body membership, to reset and drop loop counters.
  const preds: number[][] = cfg.nodes.map(() => []);
  for (const n of cfg.nodes) for (const e of n.succ) preds[e.to].push(n.id);
  const loopsOf: Array<Set<number>> = cfg.nodes.map(() => new Set<number>());
  const bodyOf = new Map<number, Set<number>>();
  for (const n of cfg.nodes) {
    for (const e of n.succ) {
      if (!e.back) continue;
      const h = e.to;
      const body = bodyOf.get(h) ?? new Set<number>([h]);
      const work = [n.id];
      while (work.length) {
        const x = work.pop()!;
        if (body.has(x)) continue;
        body.add(x);
        for (const p of preds[x]) work.push(p);
      }
      bodyOf.set(h, body);
    }
  }
  const arrayUnmaps = new Map<number, Set<string>>();
  for (const [h, body] of bodyOf) {
    const arrays = new Set<string>();
    for (const id of body) {
      loopsOf[id].add(h);
      for (const e of events[id]) {
        if (e.kind === 'unmap' && e.holder?.array) arrays.add(e.holder.name);
        if (e.kind === 'maybe-unmap') for (const x of e.holders) if (x.array) arrays.add(x.name);
      }
    }
    if (arrays.size) arrayUnmaps.set(h, arrays);
  }
  // if (cond) kunmap_local(v): the arms of each if that unmap something, by holder name.
  const armUnmaps = new Map<number, { then: Set<string>; else: Set<string> }>();
  for (const n of cfg.nodes) {
    if (n.kind !== 'branch' || !n.ast || n.ast.parent?.type !== 'if_statement') continue;
    const stmt = n.ast.parent;
    const arm = (x: SyntaxNode | null) => {
      const names = new Set<string>();
      if (!x) return names;
      for (const c of x.descendants('call_expression')) {
        const u = api.unmap(calleeName(c));
        const arg = u && !u.takesPage ? callArguments(c)[0] : undefined;
        const h = arg ? holderOf(arg) : null;
        if (h) names.add(h.name);
      }
      return names;
    };
    const a = { then: arm(stmt.child('consequence')), else: arm(stmt.child('alternative')) };
    if (a.then.size || a.else.size) armUnmaps.set(n.id, a);
  }
  const pointers = new Set<string>();
  for (const [name, type] of declaredTypes(fn.node)) if (/\*|\[\]/.test(type)) pointers.add(name);
  return { cfg, events, relevant, atomsById, loopsOf, bodyOf, arrayUnmaps, pointers, armUnmaps };
}

/**
 * The node a finding about a map or unmap call is reported on: its argument list, whose text a
 * conversion keeps (`kunmap_atomic(vaddr)` -> `kunmap_local(vaddr)`), so the pre-image's finding has the
 * same fingerprint and is recognised as pre-existing.
 */
function stable(call: SyntaxNode): SyntaxNode {
  return call.child('arguments') ?? call;
}

/** Source text on one line, for messages and trace notes. */
function display(n: SyntaxNode): string {
  return n.text.replace(/\s+/g, ' ').replace(/\( /g, '(').replace(/ \)/g, ')').trim();
}

function branchNote(node: CfgNode, edge: CfgEdge): string {
  const cond = edge.condition!;
  const text = display(cond).replace(/^\((.*)\)$/, '$1');
  const short = text.length > 70 ? `${text.slice(0, 67)}...` : text;
  const stmt = cond.parent?.type ?? '';
  if (edge.caseValue !== undefined) return `switch (${short}): ${edge.caseValue === 'default' ? 'default' : `case ${edge.caseValue}`}`;
  if (stmt === 'call_expression') return `BUG_ON(${short}) ${edge.value ? 'fires' : 'passes'}`;
  if (node.loopHead || stmt === 'while_statement' || stmt === 'for_statement' || stmt === 'do_statement') {
    const kw = stmt === 'for_statement' ? 'for' : stmt === 'do_statement' ? 'do...while' : 'while';
    return `${kw} (${short}) ${edge.value ? 'iterates' : 'ends'}`;
  }
  return `if (${short}) ${edge.value ? 'taken' : 'not taken'}`;
}

function holderText(m: LiveMapping): string {
  return m.holders[0] ?? `the overwritten ${display(m.call)}`;
}

/** Replays one function. Prefer `replayFor` in rules: it caches the result for the five rules. */
export function replayFunction(fn: CFunction, api: KmapApi, opts: ReplayOptions = {}): ReplayResult {
  const t0 = performance.now();
  const budget = opts.budget ?? DEFAULT_BUDGET;
  const timeLimitMs = opts.timeLimitMs ?? DEFAULT_TIME_LIMIT_MS;
  const violations: Violation[] = [];
  const done = (states: number, complete: boolean): ReplayResult => ({ violations, states, complete, ms: performance.now() - t0 });
  // Nothing to replay without a stack mapping in the function.
  if (!findMapSites(fn.body, api).some((s) => STACK_FAMILIES.has(s.api.family))) return done(0, true);

  const P = prepare(fn, api, opts.fileFunctions);
  const { cfg } = P;
  const helper = isMapHelper(fn, opts.source);
  const seenViolation = new Set<string>();

  const report = (kind: ViolationKind, node: SyntaxNode, key: string, message: string, state: State, sites: number[], final: { line: number; note: string }) => {
    const id = `${kind}\u0000${node.start}\u0000${key}`;
    if (seenViolation.has(id)) return;
    seenViolation.add(id);
    const steps = stepsOf(state.trace);
    let start = steps.findIndex((s) => s.kind === 'map' && s.site !== undefined && sites.includes(s.site));
    if (start < 0) start = 0;
    let sel = steps.slice(start).filter((s) => s.kind !== 'other');
    if (sel.length > 16) {
      const keep = new Set(sel.filter((s) => s.kind !== 'branch' && s.site !== undefined && sites.includes(s.site)));
      const rest = sel.filter((s) => !keep.has(s)).slice(-(16 - Math.min(keep.size, 12)));
      const chosen = new Set([...keep, ...rest]);
      sel = sel.filter((s) => chosen.has(s));
    }
    violations.push({ kind, node, key, message, trace: [...sel.map((s) => ({ line: s.line, note: s.note })), final] });
  };

  const setFacts = (s: State, learned: Array<[string, boolean]>): State | null => {
    if (!learned.length) return s;
    const facts = new Map(s.facts);
    let st = s;
    for (const [k, v] of learned) {
      if (!P.relevant.has(k)) continue;
      if (facts.get(k) === !v) return null;
      facts.set(k, v);
      if (!v) {
        // A holder known NULL: a pte_offset_map*() that failed maps nothing.
        const i = st.find(k);
        if (i >= 0) {
          if (st.stack[i].family !== 'pte') return null;
          const stack = [...st.stack];
          stack.splice(i, 1);
          st = st.with({ stack });
        }
      }
    }
    return st.with({ facts });
  };

  /** Forget facts about `name` (assigned) and every atom mentioning it. */
  const forgetFacts = (s: State, name: string, value: boolean | null): State => {
    const dependent = P.atomsById.get(name);
    const has = P.relevant.has(name);
    if (!has && !dependent) return s;
    const facts = new Map(s.facts);
    if (has) {
      if (value === null) facts.delete(name);
      else facts.set(name, value);
    }
    for (const a of dependent ?? []) facts.delete(a);
    return s.with({ facts });
  };

  const unmapLive = (s0: State, i: number, call: SyntaxNode, h: Holder | null, line: number): State => {
    let s = s0;
    const m = s.stack[i];
    const top = s.stack[s.stack.length - 1];
    const callText = display(call);
    const what = h?.name ?? holderText(m);
    if (i !== s.stack.length - 1) {
      const note = `${callText} while ${holderText(top)} is on top`;
      report('unmap-order', stable(call), `${what}<${holderText(top)}`,
        `${callText} releases ${what} (mapped at line ${m.line}) while ${holderText(top)} (mapped at line ${top.line}) is still mapped on top of it: kmap_local mappings must be released in reverse order`,
        s, [m.site, top.site], { line, note });
    } else if (m.array && m.multi && h?.array && h.dir !== 0 && m.dir !== 0 && h.dir === m.dir) {
      report('unmap-order', stable(call), `${what}:forward`,
        `${callText} walks ${what} in the same direction as the loop that mapped it (line ${m.line}): the first element mapped is released first, but kmap_local mappings must be released in reverse order`,
        s, [m.site], { line, note: `${callText} releases the oldest element first` });
    }
    const stack = [...s.stack];
    stack.splice(i, 1);
    const released = new Map(s.released);
    for (const holder of m.holders) released.set(holder, { site: m.site, mapLine: m.line, unmapLine: line, unmapText: callText, quiet: m.array || m.quiet });
    s = s.with({ stack, released });
    return s.step(line, callText, 'unmap', m.site);
  };

  const apply = (state: State, node: CfgNode): State | null => {
    let s = state;
    for (const ev of P.events[node.id]) {
      switch (ev.kind) {
        case 'map': {
          if (!STACK_FAMILIES.has(ev.family)) {
            if (ev.dest && ev.dest !== 'return') s = s.forgetHolder(ev.dest.name, true);
            break;
          }
          const site = ev.call.start;
          const callText = display(ev.call);
          // The page was just mapped: it is not NULL (kmap_local_page(NULL) would have crashed).
          if (ev.page) {
            const learned: Array<[string, boolean]> = [[ev.page, true], [`IS_ERR(${ev.page})`, false], [`IS_ERR_OR_NULL(${ev.page})`, false]];
            const known = learned.filter(([k]) => P.relevant.has(k));
            if (known.length) {
              const facts = new Map(s.facts);
              for (const [k, v] of known) facts.set(k, v);
              s = s.with({ facts });
            }
          }
          if (ev.dest === 'return' || ev.dest === null) {
            s = s.step(ev.line, ev.dest === 'return' ? `return ${callText}` : callText, 'other');
            break;
          }
          const dest = ev.dest;
          const released = new Map(s.released);
          released.delete(dest.name);
          s = s.with({ released });
          if (dest.array) {
            const gi = s.stack.findIndex((m) => m.array && m.site === site && m.holders.includes(dest.name));
            if (gi >= 0) {
              const g = s.stack[gi];
              if (!dest.bounded) {
                report('stack-depth', stable(ev.call), `${dest.name}:loop`,
                  `${dest.name} is filled in a loop with no bound at or below ${KM_MAX_IDX}, and every element stays mapped: the kmap_local stack holds at most ${KM_MAX_IDX} mappings`,
                  s, [site], { line: ev.line, note: `${dest.name.replace(/\[\]$/, '[...]')} = ${callText} again, earlier elements still mapped` });
              }
              if (!g.multi) {
                const stack = [...s.stack];
                stack[gi] = { ...g, multi: true };
                s = s.with({ stack });
              }
              s = s.step(ev.line, `${dest.name.replace(/\[\]$/, '[i]')} = ${callText}`, 'map', site);
              break;
            }
          } else {
            const oi = s.find(dest.name);
            if (oi >= 0) {
              const old = s.stack[oi];
              if (old.holders.length === 1 && old.site === site && !old.guarded) {
                report('stack-depth', stable(ev.call), `${dest.name}:loop`,
                  `${dest.name} is mapped again in a loop while its previous mapping (line ${old.line}) is still live: each iteration leaves a mapping behind, and the kmap_local stack holds at most ${KM_MAX_IDX}`,
                  s, [site], { line: ev.line, note: `${dest.name} = ${callText} again, previous mapping still live` });
              }
              s = s.forgetHolder(dest.name, false);
            }
          }
          const m: LiveMapping = { site, call: ev.call, family: ev.family, line: ev.line, holders: [dest.name], array: dest.array, multi: false, escaped: dest.escapes, dir: dest.dir, quiet: false, guarded: false };
          s = s.with({ stack: [...s.stack, m] });
          if (ev.family !== 'pte') s = forgetFacts(s, dest.name, true);
          else s = forgetFacts(s, dest.name, null);
          s = s.step(ev.line, `${dest.array ? dest.name.replace(/\[\]$/, '[i]') : dest.name} = ${callText}`, 'map', site);
          if (s.stack.length > KM_MAX_IDX) {
            report('stack-depth', stable(ev.call), `${dest.name}:depth`,
              `${s.stack.length} kmap_local mappings are live at once here: the per-task stack holds at most ${KM_MAX_IDX} (KM_MAX_IDX)`,
              s, s.stack.map((x) => x.site), { line: ev.line, note: `${s.stack.length} mappings live` });
          }
          break;
        }
        case 'unmap': {
          if (!STACK_FAMILIES.has(ev.family)) break;
          const callText = display(ev.call);
          if (!ev.holder) {
            // An address we cannot name: assume it releases the top mapping, and stop checking that one.
            if (s.stack.length) s = s.with({ stack: s.stack.slice(0, -1) }).step(ev.line, callText, 'other');
            break;
          }
          const h = ev.holder;
          const i = s.find(h.name);
          if (i >= 0) {
            s = unmapLive(s, i, ev.call, h, ev.line);
            break;
          }
          const r = s.released.get(h.name);
          if (r && !r.quiet && !h.array) {
            report('double-unmap', stable(ev.call), h.name,
              `${callText} releases ${h.name} a second time on this path: it was already unmapped at line ${r.unmapLine} (${r.unmapText})`,
              s, [r.site], { line: ev.line, note: `${callText} again` });
          }
          break;
        }
        case 'consume': {
          // Passed to a same-file function that unmaps it on some path: its fate is unknown from here.
          const i = s.find(ev.holder.name);
          if (i >= 0) {
            const m = s.stack[i];
            const stack = [...s.stack];
            stack.splice(i, 1);
            const released = new Map(s.released);
            for (const h of m.holders) released.set(h, { site: m.site, mapLine: m.line, unmapLine: ev.line, unmapText: display(ev.call), quiet: true });
            s = s.with({ stack, released }).step(ev.line, `${display(ev.call)} may unmap ${ev.holder.name}`, 'other');
          }
          break;
        }
        case 'maybe-unmap': {
          for (const h of ev.holders) {
            const i = s.find(h.name);
            if (i >= 0) {
              s = unmapLive(s, i, ev.call, h, ev.line);
              break;
            }
          }
          break;
        }
        case 'assign': {
          const t = ev.target;
          const srcIdx = ev.source ? s.find(ev.source.name) : -1;
          const srcReleased = ev.source ? s.released.get(ev.source.name) : undefined;
          const selfDerived = !ev.source && (t.escapes || P.pointers.has(t.name)) && ev.derived.some((h) => h.name === t.name) && s.find(t.name) >= 0;
          if ((ev.source && ev.source.name === t.name) || selfDerived) {
            // addr = addr + off: still the same mapping, but the pointer moved.
            const i = s.find(t.name);
            if (i >= 0 && !s.stack[i].quiet) {
              const stack = [...s.stack];
              stack[i] = { ...stack[i], quiet: true };
              s = s.with({ stack });
            }
            break;
          }
          if (t.array && srcIdx < 0) break; // arr[i] = x: other elements are unaffected
          // x = f(..., kaddr, ...) with x a pointer (folio_zero_tail()), or a field: maybe a pointer into the mapping.
          const derivedFrom = srcIdx < 0 && (t.escapes || P.pointers.has(t.name)) ? ev.derived.find((h) => h.name !== t.name && s.find(h.name) >= 0) : undefined;
          s = s.forgetHolder(t.name, true);
          if (s.released.has(t.name) || srcReleased) {
            const released = new Map(s.released);
            released.delete(t.name);
            if (srcReleased && !t.array) released.set(t.name, srcReleased);
            s = s.with({ released });
          }
          const aliasOf = srcIdx >= 0 ? ev.source!.name : derivedFrom?.name ?? null;
          const weak = srcIdx < 0;
          if (aliasOf) {
            const j = s.find(aliasOf);
            if (j >= 0) {
              const stack = [...s.stack];
              const m = stack[j];
              stack[j] = { ...m, holders: [...m.holders, t.name], escaped: m.escaped || t.escapes, quiet: m.quiet || weak };
              s = s.with({ stack });
            }
          }
          s = forgetFacts(s, normalizedText(t.name), srcIdx >= 0 ? true : ev.value);
          break;
        }
        case 'touch': {
          // addr += n: the pointer moved (maybe off its page): stop trusting alias-based use/unmap checks.
          const i = s.find(ev.name);
          if (i >= 0 && !s.stack[i].quiet) {
            const stack = [...s.stack];
            stack[i] = { ...stack[i], quiet: true };
            s = s.with({ stack });
          }
          // A moved pointer keeps its NULL-ness; a moved released pointer may now point anywhere.
          s = P.pointers.has(ev.name) ? forgetFacts(s, ev.name, s.facts.get(ev.name) ?? null) : forgetFacts(s, ev.name, null);
          if (s.released.has(ev.name)) {
            const released = new Map(s.released);
            released.delete(ev.name);
            s = s.with({ released });
          }
          break;
        }
        case 'address-taken': {
          s = s.forgetHolder(ev.name, true);
          if (s.released.has(ev.name)) {
            const released = new Map(s.released);
            released.delete(ev.name);
            s = s.with({ released });
          }
          s = forgetFacts(s, ev.name, null);
          break;
        }
        case 'use': {
          const r = s.released.get(ev.holder.name);
          if (r && !r.quiet && s.find(ev.holder.name) < 0) {
            const text = display(ev.node);
            report('use-after-unmap', ev.node, ev.holder.name,
              `${ev.holder.name} is used after ${r.unmapText} at line ${r.unmapLine}: the address is no longer mapped`,
              s, [r.site], { line: ev.line, note: `${text.length > 70 ? text.slice(0, 67) + '...' : text} uses ${ev.holder.name} after the unmap` });
          }
          break;
        }
        case 'return': {
          if (!helper) break;
          for (const name of ev.mentions) {
            const i = s.find(name);
            if (i < 0) continue;
            const stack = [...s.stack];
            stack.splice(i, 1);
            s = s.with({ stack }).step(ev.line, `return (${name} handed to the caller)`, 'other');
          }
          break;
        }
      }
    }
    return s;
  };

  const checkLeaks = (s: State, from: CfgNode) => {
    // A map helper's contract is to return with a mapping live (through the result or an out-parameter).
    if (helper) return;
    for (const m of s.stack) {
      if (m.escaped || m.guarded) continue;
      const name = holderText(m);
      const isReturn = from.kind === 'return' && from.ast;
      const retText = isReturn ? display(from.ast!) : '';
      const returnsIt = isReturn && m.holders.some((h) => holderOf(from.ast!.namedChildren[0] ?? from.ast!)?.name === h);
      const node = isReturn ? from.ast! : stable(m.call);
      const message = returnsIt
        ? `${retText} hands ${name} (mapped at line ${m.line}) to the caller, but ${'the function'} is neither named nor documented as a map helper: the mapping stays live after it returns`
        : `${name} (mapped at line ${m.line}) is still mapped when the function ${isReturn ? `returns here` : 'ends'}: this path skips its unmap`;
      report('mapping-leak', node, isReturn ? name : `${name}:end`, message, s, [m.site],
        { line: isReturn ? from.line : cfg.nodes[cfg.exit].line, note: isReturn ? `${retText} with ${name} still mapped` : `end of function with ${name} still mapped` });
    }
  };

  const take = (s: State, from: CfgNode, edge: CfgEdge): State | null => {
    let st: State | null = s;
    if (from.loopHead && (st.loops.get(from.id) ?? 0) >= 2 && P.bodyOf.get(from.id)?.has(edge.to)) return null;
    if (edge.condition && edge.value !== undefined) {
      const v = evaluate(edge.condition, st.facts);
      if (v !== null && v !== edge.value) return null;
      st = setFacts(st, refine(edge.condition, edge.value, st.facts));
      if (!st) return null;
      const arms = P.armUnmaps.get(from.id);
      if (arms && v === null) {
        // Skipping an unmap under a condition we cannot decide: the author may know it always holds
        // here (use_sg > 0 after mapping sg): no leak report for that mapping on this path.
        const skipped = edge.value ? arms.else : arms.then;
        if (skipped.size && st.stack.some((m) => !m.guarded && m.holders.some((h) => skipped.has(h)))) {
          st = st.with({ stack: st.stack.map((m) => (!m.guarded && m.holders.some((h) => skipped.has(h)) ? { ...m, guarded: true } : m)) });
        }
      }
      if (st.stack.length || st.released.size) st = st.step(from.line, branchNote(from, edge), 'branch');
    } else if (edge.caseValue !== undefined && (st.stack.length || st.released.size)) {
      st = st.step(from.line, branchNote(from, edge), 'branch');
    }
    const fromLoops = P.loopsOf[from.id];
    const toLoops = P.loopsOf[edge.to];
    let loops: Map<number, number> | null = null;
    for (const h of fromLoops) {
      if (toLoops.has(h)) continue;
      loops ??= new Map(st.loops);
      loops.delete(h);
      const arrays = P.arrayUnmaps.get(h);
      // Leaving a loop that unmaps an array: it released what the (correlated) mapping loop mapped.
      if (arrays && st.stack.some((m) => m.array && m.holders.some((x) => arrays.has(x)))) {
        st = st.with({ stack: st.stack.filter((m) => !(m.array && m.holders.some((x) => arrays.has(x)))) });
      }
    }
    const to = cfg.nodes[edge.to];
    if (to.loopHead) {
      loops ??= new Map(st.loops);
      if (edge.back) {
        const c = (loops.get(to.id) ?? 0) + 1;
        if (c > 2) return null;
        loops.set(to.id, c);
      } else if (!fromLoops.has(to.id)) loops.set(to.id, 0);
    }
    return loops ? st.with({ loops }) : st;
  };

  const seen = new Set<string>();
  const work: Array<[number, State]> = [[cfg.entry, State.initial()]];
  let states = 0;
  let complete = true;
  while (work.length) {
    const [id, state] = work.pop()!;
    const k = `${id}|${state.key}`;
    if (seen.has(k)) continue;
    seen.add(k);
    if (++states > budget || ((states & 255) === 0 && performance.now() - t0 > timeLimitMs)) {
      complete = false;
      states--;
      break;
    }
    if (id === cfg.exit || id === cfg.abort) continue;
    const node = cfg.nodes[id];
    const s = apply(state, node);
    if (!s) continue;
    for (let i = node.succ.length - 1; i >= 0; i--) {
      const edge = node.succ[i];
      const next = take(s, node, edge);
      if (!next) continue;
      if (edge.to === cfg.exit) checkLeaks(next, node);
      work.push([edge.to, next]);
    }
  }
  return done(states, complete);
}

const cache = new WeakMap<SyntaxNode, { api: KmapApi; result: ReplayResult }>();

/** The replay of the context's function, computed once for all five replay rules. */
export function replayFor(ctx: { fn: CFunction; api: KmapApi; fileFunctions: ReadonlyMap<string, CFunction>; source: string }): ReplayResult {
  const hit = cache.get(ctx.fn.body);
  if (hit && hit.api === ctx.api) return hit.result;
  const result = replayFunction(ctx.fn, ctx.api, { fileFunctions: ctx.fileFunctions, source: ctx.source });
  cache.set(ctx.fn.body, { api: ctx.api, result });
  return result;
}
