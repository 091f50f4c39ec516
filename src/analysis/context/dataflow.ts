/**
 * Execution context per statement: a forward must-analysis over the CFG of which sections are open
 * (kmap_atomic, pagefault_disable, preempt_disable, get_cpu, spinlocks, irq/bh disable, ...) on every
 * path reaching each call, and therefore whether page faults and preemption are disabled there, and
 * by what.
 *
 * The state is the stack of open sections ("holds"), each named by the call that opened it. The join
 * at merge points keeps the holds open on all incoming paths (intersection), so "disabled" always
 * means "disabled on every path". Releases close the most recent open hold of their family (and with
 * the same lock, when they name one): kunmap_atomic() closes the latest kmap_atomic(), spin_unlock(&l)
 * the spin_lock(&l). Loops iterate to a fixpoint: intersections only shrink, so this terminates; the
 * iteration count is capped anyway.
 */
import { buildCfg, type Cfg } from '../cfg/cfg.js';
import type { CFunction } from '../source/functions.js';
import { calleeName, callsIn, type SyntaxNode } from '../syntax/ast.js';
import { acquireOf, keyText, releaseOf, type Need } from './atomic-api.js';

export interface Hold {
  /** Unique per acquiring call: "start offset of the call". */
  id: number;
  family: string;
  /** The call that opened the section. */
  call: SyntaxNode;
  name: string;
  line: number;
  key: string | null;
  faults: boolean;
  preempt: boolean;
}

/** The context just before one call runs. */
export interface CallContext {
  call: SyntaxNode;
  /** Open sections on every path to the call (outermost first). */
  holds: readonly Hold[];
  /** True when some path reaches the call: unreachable calls have no context. */
  reached: boolean;
}

export interface FunctionContext {
  cfg: Cfg;
  /** Context before every call of the function, in source order. */
  calls: CallContext[];
  /** Lookup by the call node's start offset. */
  at(call: SyntaxNode): CallContext | undefined;
  /** True when the analysis stopped at the iteration cap (results are then incomplete). */
  capped: boolean;
}

/** The calls of a CFG node in evaluation order (inner calls before the call they are arguments of). */
function nodeCalls(ast: SyntaxNode | null): SyntaxNode[] {
  if (!ast) return [];
  return callsIn(ast).sort((a, b) => a.end - b.end || b.start - a.start);
}

type State = readonly Hold[];

function intersect(a: State, b: State): State {
  if (a.length === b.length && a.every((h, i) => h === b[i])) return a;
  const ids = new Set(b.map((h) => h.id));
  return a.filter((h) => ids.has(h.id));
}

function sameState(a: State | undefined, b: State): boolean {
  return !!a && a.length === b.length && a.every((h, i) => h.id === b[i].id);
}

/** Applies one call to a state. */
export function step(state: State, call: SyntaxNode): State {
  const name = calleeName(call);
  const acq = acquireOf(name);
  if (acq) {
    const hold: Hold = { id: call.start, family: acq.family, call, name: name!, line: call.line, key: keyText(call, acq.keyArg), faults: acq.faults, preempt: acq.preempt };
    return [...state.filter((h) => h.id !== hold.id), hold];
  }
  const rel = releaseOf(name);
  if (rel) {
    const key = keyText(call, rel.keyArg);
    let idx = -1;
    for (let i = state.length - 1; i >= 0 && idx < 0; i--) if (state[i].family === rel.family && key !== null && state[i].key === key) idx = i;
    for (let i = state.length - 1; i >= 0 && idx < 0; i--) if (state[i].family === rel.family) idx = i;
    return idx < 0 ? state : [...state.slice(0, idx), ...state.slice(idx + 1)];
  }
  return state;
}

const cache = new WeakMap<SyntaxNode, FunctionContext>();

export function analyseContext(fn: CFunction): FunctionContext {
  const hit = cache.get(fn.body);
  if (hit) return hit;
  const cfg = buildCfg(fn.body);
  const n = cfg.nodes.length;
  const inState: Array<State | undefined> = new Array(n);
  const outState: Array<State | undefined> = new Array(n);
  const calls = cfg.nodes.map((node) => nodeCalls(node.ast));
  const preds: number[][] = cfg.nodes.map(() => []);
  // (Index loops: this runs for most analysed functions, mostly unoptimised; see cli/v8-flags.ts.)
  for (let i = 0; i < n; i++) {
    const succ = cfg.nodes[i].succ;
    for (let j = 0; j < succ.length; j++) preds[succ[j].to].push(i);
  }

  inState[cfg.entry] = [];
  const work: number[] = [cfg.entry];
  const queued = new Uint8Array(n);
  queued[cfg.entry] = 1;
  let budget = Math.max(1000, n * 50);
  let capped = false;
  while (work.length) {
    if (--budget < 0) {
      capped = true;
      break;
    }
    const id = work.shift()!;
    queued[id] = 0;
    let s: State | undefined = id === cfg.entry ? [] : undefined;
    const ps = preds[id];
    for (let k = 0; k < ps.length; k++) {
      const o = outState[ps[k]];
      if (!o) continue;
      s = s === undefined ? o : intersect(s, o);
    }
    if (s === undefined) continue;
    inState[id] = s;
    let out = s;
    const cs = calls[id];
    for (let k = 0; k < cs.length; k++) out = step(out, cs[k]);
    if (sameState(outState[id], out)) continue;
    outState[id] = out;
    const succ = cfg.nodes[id].succ;
    for (let k = 0; k < succ.length; k++) {
      const e = succ[k];
      if (!queued[e.to]) {
        queued[e.to] = 1;
        work.push(e.to);
      }
    }
  }

  const result: CallContext[] = [];
  for (const node of cfg.nodes) {
    let s = inState[node.id];
    for (const c of calls[node.id]) {
      result.push({ call: c, holds: s ?? [], reached: s !== undefined });
      if (s) s = step(s, c);
    }
  }
  result.sort((a, b) => a.call.start - b.call.start);
  const byStart = new Map(result.map((r) => [r.call.start, r]));
  const ctx: FunctionContext = { cfg, calls: result, at: (call) => byStart.get(call.start), capped };
  cache.set(fn.body, ctx);
  return ctx;
}

/** The innermost hold that disables page faults, or null when faults may be enabled on some path. */
export function faultsDisabledBy(holds: readonly Hold[]): Hold | null {
  for (let i = holds.length - 1; i >= 0; i--) if (holds[i].faults) return holds[i];
  return null;
}

/** The innermost hold that disables preemption, or null when preemption may be enabled on some path. */
export function preemptDisabledBy(holds: readonly Hold[]): Hold | null {
  for (let i = holds.length - 1; i >= 0; i--) if (holds[i].preempt) return holds[i];
  return null;
}

/** The innermost hold that makes the context atomic (faults or preemption disabled). */
export function atomicBy(holds: readonly Hold[]): Hold | null {
  return holds.length ? holds[holds.length - 1] : null;
}

/** The hold that satisfies a need, or null. `in_atomic()` is satisfied by any atomic section. */
export function satisfiedBy(need: Pick<Need, 'kind'>, callName: string | null, holds: readonly Hold[]): Hold | null {
  if (need.kind === 'preempt') return preemptDisabledBy(holds);
  if (callName === 'in_atomic') return atomicBy(holds);
  return faultsDisabledBy(holds);
}

/** "kmap_atomic() at line 12" */
export function describeHold(h: Hold): string {
  return `${h.name}() at line ${h.line}`;
}
