/**
 * Path-sensitive replay of one function: walks its CFG along every path (loops taken 0, 1 and 2 times,
 * identical states merged at join points, a budget of visited states), simulating the per-thread
 * kmap_local stack, and records what no line-level check can see as typed violations, each with the path
 * that shows it: unmaps out of LIFO order, mappings still live when the function returns, double unmaps,
 * uses after unmap, more live mappings than the stack holds, and unmaps given an address outside the page.
 *
 * Everything is decided by data flow along the path, never by names or comments:
 * - who holds an address, and how surely (state.ts: base, interior, derived);
 * - a mapping is handed over on a path where its address is returned or stored into memory the caller can
 *   reach (a parameter's fields, a global); on every other path a live mapping at exit is a leak;
 * - a call given a mapped address does what the callee's replayed summary says (summaries.ts); a callee the
 *   replay cannot see keeps the mapping when the function unmaps it after the call on some path, and is
 *   otherwise undecided (reported as such, never guessed);
 * - flags computed from conditions are followed (conditions.ts), and so are the integers offsets are made of
 *   (values.ts);
 * - lines a sparse function does not show (source/sparse.ts, events.ts `unseen`) may do anything: flags and
 *   integers are forgotten there, and every violation says which unseen stretches the part of its path it
 *   depends on crosses, for the rules runner to make a note of it instead.
 */
import { performance } from 'node:perf_hooks';
import { buildCfg, type Cfg, type CfgEdge, type CfgNode } from '../cfg/cfg.js';
import type { KmapApi, MapFamily } from '../kmap-api.js';
import type { LineRange } from '../model.js';
import { declaredTypes, findMapSites, findUnmapSites, parameterNames, staticLocals } from '../mappings.js';
import type { CFunction } from '../source/functions.js';
import { calleeName, callArguments, normalizedText, type SyntaxNode } from '../syntax/ast.js';
import { atomKey, atomsOf, evaluate, refine } from './conditions.js';
import { coreWithOffsets, extractEvents, holderOf, holdersReadIn, MAX_LIVE_LOCAL_MAPS, strip, type Holder, type Offset, type ReplayEvent } from './events.js';
import { State, stepsOf, type Hold, type HoldKind, type LiveMapping, type Released, type Step } from './state.js';
import { add, constant, elementSize, evalCompound, evalInt, inPage, isEvaluatedCall, outsidePage, PAGE, scale, scaleUnknownSize, symbol, UNKNOWN, type Value, type ValueEnv } from './values.js';
import type { MappingRef, Undecided, Violation, ViolationKind } from './violations.js';

export type { Violation, ViolationKind } from './violations.js';
export { MAX_LIVE_LOCAL_MAPS } from './events.js';

/** States (node + replay state) visited per function before the replay gives up and reports a gap. */
export const DEFAULT_BUDGET = 10000;
/**
 * Wall-clock cap per function, a backstop only: the state budget is what bounds the replay, because it gives
 * the same answer on every machine and under any load. (A 150 ms cap made a 5,000-state function of 6.1,
 * siw_tx_hdt(), report its findings on a quiet machine and a gap on a busy one.) The cap is for the
 * pathological function whose states are each slow, and the gap it leaves says so.
 */
export const DEFAULT_TIME_LIMIT_MS = 1500;
/** Arrivals at one CFG node after which the replay forgets integer values there (see the main loop). */
const WIDEN_VALUES_AFTER = 24;

/**
 * What a function does with a mapping given as one of its parameters, on the paths that return: unmaps it
 * on every path, on some, stores it where its caller can see it, returns it (or a pointer into it), hands it
 * to code this file does not show (so nothing is known), or none of these.
 */
export type ParamEffect = 'unmaps' | 'may-unmap' | 'stores' | 'returns' | 'passes-on' | null;

export interface FunctionSummary {
  /** By parameter index: unmaps it on every path, on some, stores it where its caller can see it, or none of these. */
  params: ParamEffect[];
  /** Returns a mapping it made on every path that returns, on some, or never. */
  returnsMapping: 'always' | 'sometimes' | null;
  /** The API family of the mapping it returns (kmap_atomic() helpers must be released with kunmap_atomic()). */
  returnsFamily: MapFamily | null;
  /**
   * Declared to return a pointer. Only then can its result be a pointer into an address it is given without
   * `params` saying 'returns' (`return &array->entries[i];` is not followed as a return of `array`).
   */
  returnsPointer: boolean;
}

export interface Summaries {
  /** undefined: no such function in the file (not visible); null: visible but not summarised. */
  of(name: string): FunctionSummary | null | undefined;
  /**
   * False when the function's text, and that of the same-file functions it calls, mentions no map or unmap
   * at all: it cannot unmap an address or return a mapping, so its summary is not worth computing for that.
   * (What it does with an address it is given still needs `of`.)
   */
  mayMapOrUnmap(name: string): boolean;
  /**
   * False when the function cannot return a mapped address: mayMapOrUnmap() is false, or its declared return
   * type cannot hold an address (void, bool, int and narrower). Spares the summary of every `ret = f(...)`.
   */
  mayReturnAddress(name: string): boolean;
}

/** In summary mode: what became of each seeded parameter on one path that returns. */
export interface ExitRecord {
  params: Array<'released' | 'live' | 'stored' | 'returned' | 'unknown' | undefined>;
  /** The family of a mapping made here and returned on this path, or null. */
  returnsMapping: MapFamily | null;
}

export interface ReplayResult {
  violations: Violation[];
  /** Questions the visible code did not decide (a mapping passed to a callee this file does not show). */
  undecided: Undecided[];
  /** (node, state) pairs visited. */
  states: number;
  /** False when the budget ran out before every path was replayed. */
  complete: boolean;
  /** What stopped an incomplete replay: the state budget, or (a backstop) the time limit. */
  stoppedBy?: 'budget' | 'time';
  ms: number;
  /** Summary mode only: one record per path reaching a return. */
  exits?: ExitRecord[];
}

export interface ReplayOptions {
  budget?: number;
  timeLimitMs?: number;
  /** What same-file callees do with addresses (summaries.ts); without it every callee is unseen. */
  summaries?: Summaries;
  /** Summary mode: every pointer parameter starts out holding a mapping of the caller. */
  seedParameters?: boolean;
}

const STACK_FAMILIES = new Set<MapFamily>(['local', 'atomic', 'pte']);
/** Families whose unmap takes any address inside the page (pte_unmap() gets pte pointers moved by a loop). */
const PAGE_ADDRESS_FAMILIES = new Set<MapFamily>(['local', 'atomic']);
const GUARD_PARENTS = new Set(['if_statement', 'conditional_expression']);
const JUMPS = new Set(['return_statement', 'goto_statement', 'break_statement', 'continue_statement']);
const NO_FACTS: ReadonlyMap<string, boolean> = new Map();
const NOTHING_LIVE: ReadonlySet<string> = new Set();
const NO_LOOPS: readonly number[] = [];
const NO_NAMES: ReadonlySet<string> = new Set();
const NO_SUMMARIES: Summaries = { of: () => undefined, mayMapOrUnmap: () => false, mayReturnAddress: () => false };

/** A for-loop run a known number of times, and the pointers it advances by a fixed amount each time. */
interface CountedLoop {
  trips: number;
  advances: Array<{ name: string; delta: SyntaxNode | null; sign: 1 | -1 }>;
}

interface Prepared {
  cfg: Cfg;
  events: ReplayEvent[][];
  relevant: Set<string>;
  /** Flags whose definition (the condition they were computed from) is tracked. */
  defined: Set<string>;
  /** identifier -> relevant atoms and tracked definitions mentioning it (forgotten when it is assigned). */
  atomsById: Map<string, string[]>;
  /** Integer variables that offsets are computed from. */
  offsetVars: Set<string>;
  /** Node id -> the offset variables whose value may still be read on some path from it (live on entry). */
  liveValues: Array<ReadonlySet<string>>;
  loopsOf: Array<Set<number>>;
  bodyOf: Map<number, Set<number>>;
  /** Loop head -> array holders unmapped inside that loop. */
  arrayUnmaps: Map<number, Set<string>>;
  counted: Map<number, CountedLoop>;
  types: Map<string, string>;
  /** Parameters and locals: names not in here are globals (or macros). */
  locals: Set<string>;
  statics: Set<string>;
  /** Parameters declared as pointers. */
  params: Set<string>;
  /** Branch node of an if -> holders unmapped in its then and else arms that fall through (no return/goto). */
  armUnmaps: Map<number, { then: Set<string>; else: Set<string> }>;
  /** Node id -> its predecessors. */
  preds: number[][];
  /** A stretch of unseen lines no CFG node stands for (the parse lost it): every path may cross it. */
  unseenUnmodelled: boolean;
}

function endsInJump(arm: SyntaxNode | null): boolean {
  if (!arm) return false;
  let last: SyntaxNode | null = arm;
  while (last && last.type === 'compound_statement') last = last.namedChildren[last.namedChildren.length - 1] ?? null;
  if (!last) return false;
  if (JUMPS.has(last.type)) return true;
  if (last.type === 'if_statement') return endsInJump(last.child('consequence')) && endsInJump(last.child('alternative'));
  return false;
}

/** `x` in `x = ...` or `int x = ...`: written, not read (a compound `x += n` reads it). */
function isPlainWrite(id: SyntaxNode): boolean {
  const p = id.parent;
  if (!p) return false;
  if (p.type === 'assignment_expression') return id.field === 'left' && p.child('operator')?.text === '=';
  return p.type === 'init_declarator' && id.field === 'declarator';
}

/**
 * Liveness of the offset variables (a backward data flow over the CFG): a variable is live at a node when
 * some path from there reads it before writing it. The integers are only ever read by the events of the node
 * whose statement names them (and, at a counted loop's head, by the advances it applies on leaving), so a
 * value no path reads again can be dropped from the state: paths that differ only in dead integers then
 * merge (a counter used for an offset in one branch and never again).
 */
function liveOffsetVars(cfg: Cfg, offsetVars: ReadonlySet<string>, counted: ReadonlyMap<number, CountedLoop>, preds: readonly number[][]): Array<ReadonlySet<string>> {
  const n = cfg.nodes.length;
  // Most functions compute no offsets: nothing is live anywhere (and no integer is ever kept, see setValue).
  if (!offsetVars.size) return new Array<ReadonlySet<string>>(n).fill(NOTHING_LIVE);
  // (Index loops: this runs once per replay, mostly unoptimised; see cli/v8-flags.ts.)
  const uses: Array<Set<string>> = [];
  const writes: Array<Set<string>> = [];
  for (let i = 0; i < n; i++) {
    const node = cfg.nodes[i];
    const u = new Set<string>();
    const w = new Set<string>();
    if (node.ast) {
      const ids = node.ast.type === 'identifier' ? [node.ast] : node.ast.descendants('identifier');
      for (let k = 0; k < ids.length; k++) if (offsetVars.has(ids[k].text)) (isPlainWrite(ids[k]) ? w : u).add(ids[k].text);
      for (const adv of counted.get(node.id)?.advances ?? []) for (const id of adv.delta?.descendants('identifier') ?? []) if (offsetVars.has(id.text)) u.add(id.text);
    }
    u.forEach((x) => w.delete(x)); // `x = x * 2` reads x first
    uses.push(u);
    writes.push(w);
  }
  const live: Array<Set<string>> = uses.map((u) => new Set(u));
  const work = cfg.nodes.map((_, i) => i);
  const queued = new Uint8Array(n).fill(1);
  while (work.length) {
    const id = work.pop()!;
    queued[id] = 0;
    const l = live[id];
    const before = l.size;
    const succ = cfg.nodes[id].succ;
    const written = writes[id];
    for (let k = 0; k < succ.length; k++) live[succ[k].to].forEach((x) => {
      if (!written.has(x)) l.add(x);
    });
    if (l.size === before) continue;
    const ps = preds[id];
    for (let k = 0; k < ps.length; k++) if (!queued[ps[k]]) {
      queued[ps[k]] = 1;
      work.push(ps[k]);
    }
  }
  return live;
}

function prepare(fn: CFunction, api: KmapApi, summaries: Summaries, seeded: boolean): Prepared {
  const cfg = buildCfg(fn.body);
  const parsedWhole = fn.hasErrors === false;
  const events = cfg.nodes.map((n) => withUnseen(n, extractEvents(n.ast, api, parsedWhole), fn.unseen));
  // Every event once, for the fixed points below. (Index loops in this function: it runs once per replay,
  // mostly unoptimised in a short process, where each for-of step allocates; see cli/v8-flags.ts.)
  const all: ReplayEvent[] = [];
  for (let i = 0; i < events.length; i++) for (let j = 0; j < events[i].length; j++) all.push(events[i][j]);
  const types = declaredTypes(fn.node);
  const locals = new Set(types.keys());
  for (const p of parameterNames(fn)) if (p) locals.add(p);
  const statics = staticLocals(fn.body);
  const params = new Set(parameterNames(fn).filter((p) => p && /\*|\[\]/.test(types.get(p) ?? '')));

  // Atoms worth tracking: map destinations, mapped pages, and the conditions guarding maps and unmaps.
  const relevant = new Set<string>();
  const guardConds = new Set<SyntaxNode>();
  const guard = (call: SyntaxNode) => {
    for (let c: SyntaxNode = call; c.parent; c = c.parent) {
      const p = c.parent;
      if (GUARD_PARENTS.has(p.type) && c.field !== 'condition') {
        const cond = p.child('condition');
        if (cond) guardConds.add(cond);
      }
    }
  };
  const offsetVars = new Set<string>();
  // The fixed points below look at the same expressions again on every pass: their names, once each.
  const namesIn = new Map<SyntaxNode, string[]>();
  const idsOf = (n: SyntaxNode): string[] => {
    let ids = namesIn.get(n);
    if (!ids) namesIn.set(n, (ids = n.descendants('identifier').map((i) => i.text)));
    return ids;
  };
  const integersIn = new Map<SyntaxNode, string[]>();
  const addIds = (n: SyntaxNode | null) => {
    if (!n) return;
    let ids = integersIn.get(n);
    if (!ids) {
      ids = [];
      for (const id of n.descendants('identifier')) if (id.text !== 'PAGE_SIZE' && id.parent?.type !== 'call_expression' && !insideOpaqueCall(id, n)) ids.push(id.text);
      integersIn.set(n, ids);
    }
    for (let k = 0; k < ids.length; k++) offsetVars.add(ids[k]);
  };
  const addOffsets = (offs: readonly Offset[]) => offs.forEach((o) => addIds(o.expr));
  // Pointers that may hold (a pointer into) a mapping: map destinations, pointer parameters (a caller's
  // mapping, in summary mode), and whatever is assigned from an expression naming one of them. Only their
  // offsets matter; tracking the integers of every other pointer's arithmetic multiplies states for nothing.
  // (Pointer parameters hold a mapping only in summary mode, where they are seeded with one; otherwise a
  // parameter assigned a mapping is a map destination, or assigned from one, like any local.)
  const mayHold = new Set<string>(seeded ? [...params] : []);
  for (let k = 0; k < all.length; k++) {
    const e = all[k];
    if (e.kind === 'map' && e.dest && e.dest !== 'return') mayHold.add(e.dest.name);
  }
  for (let changed = true; changed; ) {
    changed = false;
    for (let k = 0; k < all.length; k++) {
      const e = all[k];
      if (e.kind !== 'assign' || !e.rhs || mayHold.has(e.target.name)) continue;
      if (idsOf(e.rhs).some((i) => mayHold.has(i)) || (e.fromCall && summaries.mayMapOrUnmap(calleeName(e.fromCall) ?? ''))) {
        mayHold.add(e.target.name);
        changed = true;
      }
    }
  }
  for (let k = 0; k < all.length; k++) {
    const e = all[k];
    if (e.kind === 'map') {
      guard(e.call);
      if (e.dest && e.dest !== 'return' && !e.dest.array) relevant.add(e.dest.name);
      if (e.page) relevant.add(e.page);
      addOffsets(e.offsets);
      const arg = e.family === 'local' && e.call ? callArguments(e.call)[1] : undefined; // kmap_local_folio(folio, offset)
      if (arg) addIds(arg);
    } else if (e.kind === 'unmap') {
      guard(e.call);
      addOffsets(e.offsets);
    } else if (e.kind === 'call') {
      // A callee that unmaps a parameter matters only for an argument that may hold a mapping.
      const s = e.name && e.args.some((a) => mayHold.has(a.holder.name)) && summaries.mayMapOrUnmap(e.name) ? summaries.of(e.name) : undefined;
      if (s && s.params.some((p) => p === 'unmaps' || p === 'may-unmap')) guard(e.call);
    } else if (e.kind === 'assign') {
      if (mayHold.has(e.target.name)) addOffsets(e.offsets);
      const callee = e.fromCall ? calleeName(e.fromCall) : null;
      const s = callee && summaries.mayReturnAddress(callee) ? summaries.of(callee) : undefined;
      if (s?.returnsMapping && !e.target.array) {
        guard(e.fromCall!);
        relevant.add(e.target.name);
        relevant.add(`IS_ERR(${e.target.name})`);
        relevant.add(`IS_ERR_OR_NULL(${e.target.name})`);
      }
    } else if (e.kind === 'touch' && e.delta && mayHold.has(e.name)) addIds(e.delta);
  }
  for (const cond of guardConds) for (const a of atomsOf(cond)) relevant.add(atomKey(a));
  // Flags computed from conditions: `bool unmap_dst = d->dst_addr && page != d->mapped;` guards an unmap,
  // so what it was computed from matters too (to a fixed point: flags computed from flags).
  const defined = new Set<string>();
  for (let changed = true; changed; ) {
    changed = false;
    for (let k = 0; k < all.length; k++) {
      const e = all[k];
      if (e.kind !== 'assign' || !e.rhs || e.value !== null || e.source || e.fromCall) continue;
      const t = e.target.name;
      if (!relevant.has(t) || defined.has(t) || e.target.array) continue;
      if (idsOf(e.rhs).includes(t)) continue; // `x = x && y`: not a definition
      defined.add(t);
      changed = true;
      for (const a of atomsOf(e.rhs)) relevant.add(atomKey(a));
    }
  }
  // Integers assigned into offset variables feed them too.
  for (let changed = true; changed; ) {
    changed = false;
    for (let k = 0; k < all.length; k++) {
      const e = all[k];
      const from = e.kind === 'assign' && offsetVars.has(e.target.name) ? e.rhs : e.kind === 'touch' && offsetVars.has(e.name) ? e.delta : null;
      if (from) {
        const before = offsetVars.size;
        addIds(from);
        if (offsetVars.size !== before) changed = true;
      }
    }
  }
  const atomsById = new Map<string, string[]>();
  const index = (key: string) => {
    for (const id of new Set(key.match(/[A-Za-z_]\w*/g) ?? [])) {
      if (id === key) continue;
      const l = atomsById.get(id) ?? [];
      l.push(key);
      atomsById.set(id, l);
    }
  };
  for (const key of relevant) index(key);

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
      for (const e of events[id]) if (e.kind === 'unmap' && e.holder?.array) arrays.add(e.holder.name);
    }
    // `haddr = blocks[level - 1].addr; ... kunmap_local(haddr);` unmaps the array through an element copy.
    const unmapped = new Set<string>();
    for (const id of body) for (const e of events[id]) if (e.kind === 'unmap' && e.holder) unmapped.add(e.holder.name);
    for (const id of body) for (const e of events[id]) if (e.kind === 'assign' && e.source?.array && unmapped.has(e.target.name)) arrays.add(e.source.name);
    if (arrays.size) arrayUnmaps.set(h, arrays);
  }
  // if (cond) kunmap_local(v); ... : the arms of each if that unmap something and carry on after it.
  const armUnmaps = new Map<number, { then: Set<string>; else: Set<string> }>();
  for (const n of cfg.nodes) {
    if (n.kind !== 'branch' || !n.ast || n.ast.parent?.type !== 'if_statement') continue;
    const stmt = n.ast.parent;
    const arm = (x: SyntaxNode | null) => {
      const names = new Set<string>();
      if (!x || endsInJump(x)) return names;
      for (const c of x.descendants('call_expression')) {
        const u = api.unmap(calleeName(c));
        const arg = u && !u.takesPage ? callArguments(c)[u.addressArg] : undefined;
        const h = arg ? holderOf(arg) : null;
        if (h) names.add(h.name);
      }
      return names;
    };
    const a = { then: arm(stmt.child('consequence')), else: arm(stmt.child('alternative')) };
    if (a.then.size || a.else.size) armUnmaps.set(n.id, a);
  }
  const counted = countedLoops(cfg, events);
  const unseenUnmodelled = !!fn.unseen?.some((r) => !events.some((evs) => evs.some((e) => e.kind === 'unseen' && e.range === r)));
  const liveValues = liveOffsetVars(cfg, offsetVars, counted, preds);
  return { cfg, events, relevant, defined, atomsById, offsetVars, liveValues, loopsOf, bodyOf, arrayUnmaps, counted, types, locals, statics, params, armUnmaps, preds, unseenUnmodelled };
}

/** What the replay decided about violations of sparse functions: node -> `kind\0key` -> the unseen stretches crossed. */
const judgements = new WeakMap<SyntaxNode, Map<string, LineRange[]>>();

function judge(v: Violation): void {
  let m = judgements.get(v.node);
  if (!m) judgements.set(v.node, (m = new Map()));
  m.set(`${v.kind}\u0000${v.key}`, v.unseen ?? []);
}

/**
 * For a finding a replay rule reports in a sparse function, on `node` with `key`: the unseen stretches the
 * path it depends on crosses ([] for none: the lines shown decide it), or undefined when the replay made no
 * such violation. The rules runner asks, so that it need not guess from the finding's lines.
 */
export function unseenJudgement(node: SyntaxNode, kind: string, key: string | undefined): readonly LineRange[] | undefined {
  return judgements.get(node)?.get(`${kind}\u0000${key ?? ''}`);
}

/** The node's events, after an `unseen` event when its syntax covers a stretch the patch does not show. */
function withUnseen(n: CfgNode, events: ReplayEvent[], unseen: readonly LineRange[] | undefined): ReplayEvent[] {
  const ast = n.ast;
  if (!unseen?.length || !ast) return events;
  const range = unseen.find((r) => ast.line <= r.to && ast.endLine >= r.from);
  return range ? [{ kind: 'unseen', node: ast, range, line: range.from }, ...events] : events;
}

/** `for (i = A; i < B; i++)` with constant A and B, and the pointers its body always advances by a fixed step. */
function countedLoops(cfg: Cfg, events: ReplayEvent[][]): Map<number, CountedLoop> {
  const out = new Map<number, CountedLoop>();
  const none: ValueEnv = { get: () => undefined, type: () => undefined };
  for (const head of cfg.nodes) {
    if (!head.loopHead || head.kind !== 'branch' || head.ast?.parent?.type !== 'for_statement') continue;
    const loop = head.ast.parent;
    const init = loop.child('initializer');
    const cond = strip(head.ast);
    const updates = loop.childrenOf('update');
    if (!init || cond.type !== 'binary_expression' || updates.length === 0) continue;
    const counter = strip(cond.child('left')!);
    if (counter.type !== 'identifier') continue;
    const i = counter.text;
    let start: Value | null = null;
    init.walk((d) => {
      if (start) return false;
      if (d.type === 'assignment_expression' && strip(d.child('left')!).text === i) start = evalInt(d.child('right'), none);
      else if (d.type === 'init_declarator' && d.child('declarator')?.text === i) start = evalInt(d.child('value'), none);
    });
    const end = evalInt(cond.child('right'), none);
    const op = cond.child('operator')?.text;
    const step = updates.map((u) => strip(u)).find((u) => (u.type === 'update_expression' && strip(u.child('argument')!).text === i) || (u.type === 'assignment_expression' && u.child('operator')?.text === '+=' && strip(u.child('left')!).text === i));
    if (!start || !step || !(op === '<' || op === '<=' || op === '!=')) continue;
    const s0 = start as Value;
    if (s0.lo !== s0.hi || end.lo !== end.hi || !Number.isFinite(end.lo)) continue;
    const inc = step.type === 'update_expression' ? (step.text.includes('--') ? -1 : 1) : evalInt(step.child('right'), none).lo;
    if (!(inc > 0) || !Number.isFinite(inc)) continue;
    const trips = Math.max(0, Math.ceil((end.lo + (op === '<=' ? 1 : 0) - s0.lo) / inc));
    // Pointers advanced on every iteration: by the for's update, or by a statement of the body outside any branch.
    const advances: CountedLoop['advances'] = [];
    const body = loop.child('body');
    // A body that can leave an iteration early may skip the advance: the count says nothing then.
    if (body && body.descendants((d) => d.type === 'continue_statement' || d.type === 'break_statement' || d.type === 'goto_statement' || d.type === 'return_statement').length) continue;
    for (const n of cfg.nodes) {
      if (!n.ast || !(loop.contains(n.ast))) continue;
      const unconditional = updates.includes(n.ast) || n.ast === body || (body && n.ast.ancestor((a) => a === body || ['if_statement', 'switch_statement', 'for_statement', 'while_statement', 'do_statement', 'conditional_expression'].includes(a.type)) === body);
      if (!unconditional) continue;
      for (const e of events[n.id]) if (e.kind === 'touch' && !e.other && e.name !== i) advances.push({ name: e.name, delta: e.delta, sign: e.sign });
    }
    out.set(head.id, { trips, advances });
  }
  return out;
}

/** Index of the topmost entry of the per-task stack (kmap() mappings are not on it), or -1. */
function topOf(s: State): number {
  return lastIndex(s.stack, (m) => STACK_FAMILIES.has(m.family));
}

function lastIndex<T>(xs: readonly T[], test: (x: T) => boolean): number {
  for (let i = xs.length - 1; i >= 0; i--) if (test(xs[i])) return i;
  return -1;
}

function stable(call: SyntaxNode): SyntaxNode {
  // A conversion keeps the argument list's text (`kunmap_atomic(vaddr)` -> `kunmap_local(vaddr)`): the
  // pre-image's finding then has the same fingerprint and is recognised as pre-existing.
  return call.child('arguments') ?? call;
}

function branchNote(node: CfgNode, edge: CfgEdge): string {
  const stmt = edge.condition!.parent?.type ?? '';
  if (edge.caseValue !== undefined) return edge.caseValue === 'default' ? 'default' : `case ${edge.caseValue}`;
  if (stmt === 'call_expression') return edge.value ? 'fires' : 'passes';
  if (node.loopHead || stmt === 'while_statement' || stmt === 'for_statement' || stmt === 'do_statement') return edge.value ? 'iterates' : 'ends';
  return edge.value ? 'taken' : 'not taken';
}

/** The name a mapping is best known by: its exact holder, else any. */
function holderName(m: LiveMapping): string | null {
  return (m.holds.find((h) => h.kind === 'base') ?? m.holds.find((h) => h.kind === 'interior') ?? m.holds[0])?.name ?? null;
}

function refOf(m: LiveMapping): MappingRef {
  return { site: m.site, call: m.call, line: m.line, holder: holderName(m), family: m.family, api: calleeName(m.call) ?? '', viaHelper: m.viaHelper, page: m.page };
}

/** Replays one function. Rules ask `replayFor` (query.ts): it caches the result for all of them. */
export function replayFunction(fn: CFunction, api: KmapApi, opts: ReplayOptions = {}): ReplayResult {
  const t0 = performance.now();
  const budget = opts.budget ?? DEFAULT_BUDGET;
  const timeLimitMs = opts.timeLimitMs ?? DEFAULT_TIME_LIMIT_MS;
  // The time limit is this function's own: time spent summarising callees (replays of their own, with
  // their own limits) does not count against it, so a function is not cut short for its helpers' cost.
  let calleeMs = 0;
  const given = opts.summaries ?? NO_SUMMARIES;
  const summaries: Summaries = given === NO_SUMMARIES ? given : {
    of: (name) => {
      const t = performance.now();
      try {
        return given.of(name);
      } finally {
        calleeMs += performance.now() - t;
      }
    },
    mayMapOrUnmap: (name) => given.mayMapOrUnmap(name),
    mayReturnAddress: (name) => given.mayReturnAddress(name),
  };
  const violations: Violation[] = [];
  const undecided: Undecided[] = [];
  const exits: ExitRecord[] | undefined = opts.seedParameters ? [] : undefined;
  let stoppedBy: ReplayResult['stoppedBy'];
  /**
   * Violations whose evidence crosses unseen lines, by id: kept back in case a path the patch shows in full
   * has the same one, which then stands instead.
   */
  const acrossUnseen = new Map<string, Violation>();
  const done = (states: number, complete: boolean): ReplayResult => {
    for (const [id, v] of acrossUnseen) if (!seenViolation.has(id)) violations.push(v);
    if (fn.unseen?.length) for (const v of violations) judge(v);
    return { violations, undecided, states, complete, ...(stoppedBy ? { stoppedBy } : {}), ms: performance.now() - t0, ...(exits ? { exits } : {}) };
  };
  const params = parameterNames(fn);
  const seeded = opts.seedParameters ? params.map((p, i) => ({ p, i })).filter(({ p }) => p && /\*|\[\]/.test(declaredTypes(fn.node).get(p) ?? '')) : [];
  // Nothing to replay without a stack mapping in the function (or a mapping it is given, or a helper that maps).
  const mapSites = findMapSites(fn.body, api);
  const unmapSites = findUnmapSites(fn.body, api);
  // kmap() mappings are followed too, for the unmaps of another API they are given (mismatched-unmap).
  const ownMaps = mapSites.some((s) => STACK_FAMILIES.has(s.api.family)) || (mapSites.length > 0 && unmapSites.some((u) => !u.api.takesPage));
  // A function that only unmaps (its parameter, mapped by the caller) can still unmap it twice.
  const unmapsOnly = !ownMaps && unmapSites.some((u) => STACK_FAMILIES.has(u.api.family) && !u.api.takesPage);
  if (!ownMaps && !unmapsOnly && !seeded.length && !mayCallMapHelper(fn, api, summaries)) return done(0, true);

  const P = prepare(fn, api, summaries, seeded.length > 0);
  const { cfg } = P;
  const seenViolation = new Set<string>();
  const seenUndecided = new Set<string>();

  const env = (s: State): ValueEnv => ({ get: (n) => s.values.get(n), type: (n) => P.types.get(n) });
  /** What a name's declared type says, asked on every path through an assignment: tested once per name. */
  const typeTests = new Map<string, { pointer: boolean; unsigned: boolean }>();
  const typeOf = (name: string) => {
    let t = typeTests.get(name);
    if (!t) {
      const decl = P.types.get(name) ?? '';
      // (Whole words: `ssize_t` is signed.)
      t = { pointer: /\*|\[\]/.test(decl), unsigned: /\b(?:unsigned|size_t|u8|u16|u32|u64|__u\d+)\b/.test(decl) };
      typeTests.set(name, t);
    }
    return t;
  };

  /** The memory an lvalue names outlives this call of the function: a global, a static, or reached through a pointer. */
  const reachable = (h: Holder): boolean => {
    if (h.deref) return true;
    if (!h.root) return true;
    if (P.statics.has(h.root)) return true;
    // In a fragment (a hunk without its function) a name declared above the hunk is taken as a local: were
    // it a global, keeping a local mapping there would be the bug itself (mapping-escapes), so a leak on a
    // return the hunk shows is a finding either way.
    if (!P.locals.has(h.root)) return !fn.fragment;
    // `ptrs[i]` with `void **ptrs`: an element of memory the pointer leads to (the caller's, or the heap).
    const t = P.types.get(h.root) ?? '';
    return h.name !== h.root && h.name.startsWith(`${h.root}[`) && t.includes('*') && !t.includes('[]');
  };

  const report = (v: Omit<Violation, 'path'>, state: State, sites: number[]) => {
    if (opts.seedParameters) return;
    const id = `${v.kind}\u0000${v.node.start}\u0000${v.key}`;
    if (seenViolation.has(id)) return;
    const steps = stepsOf(state.trace);
    let start = steps.findIndex((s) => s.kind === 'map' && s.site !== undefined && sites.includes(s.site));
    if (start < 0) start = 0;
    const crossed = unseenCrossed(v, steps, start);
    if (!crossed.length) seenViolation.add(id);
    else if (acrossUnseen.has(id)) return;
    let sel = steps.slice(start);
    if (sel.length > 16) {
      const keep = new Set(sel.filter((s) => s.kind !== 'branch' && s.kind !== 'loop' && s.site !== undefined && sites.includes(s.site)));
      const rest = sel.filter((s) => !keep.has(s)).slice(-(16 - Math.min(keep.size, 12)));
      const chosen = new Set([...keep, ...rest]);
      sel = sel.filter((s) => chosen.has(s));
    }
    if (crossed.length) acrossUnseen.set(id, { ...v, path: sel, unseen: crossed });
    else violations.push({ ...v, path: sel, ...(fn.unseen?.length ? { unseen: [] } : {}) });
  };

  /**
   * The unseen stretches (in order, once each) on the part of the path a violation depends on: from the
   * unmap for a use after it or a second unmap (whatever the unseen lines did before, that unmap released
   * what the name held), from the map of the mapping on top for an unmap out of order, else from the map.
   */
  const unseenCrossed = (v: Omit<Violation, 'path'>, steps: readonly Step[], mapStart: number): LineRange[] => {
    const unseen = fn.unseen;
    if (!unseen?.length) return [];
    if (P.unseenUnmodelled) return [...unseen];
    const from = (i: number) => (i < 0 ? mapStart : i);
    const firstUnmap = (call: SyntaxNode | undefined) => steps.findIndex((s) => s.node === call);
    const start =
      v.kind === 'use-after-unmap' ? from(firstUnmap(v.unmap?.call))
      : v.kind === 'double-unmap' ? from(firstUnmap(v.earlier?.call))
      : v.kind === 'unmap-order' && v.top ? from(steps.findIndex((s) => s.kind === 'map' && s.site === v.top!.site))
      : mapStart;
    const out: LineRange[] = [];
    for (let i = start; i < steps.length; i++) {
      const r = unseen.find((g) => g.from === steps[i].line && steps[i].kind === 'other' && steps[i].node === null);
      if (r && !out.includes(r)) out.push(r);
    }
    return out;
  };

  const noteUndecided = (line: number, reason: string) => {
    if (opts.seedParameters || seenUndecided.has(reason)) return;
    seenUndecided.add(reason);
    undecided.push({ line, reason });
  };

  /**
   * What the path learns: facts about relevant atoms (the others are never kept, see prepare()). The state
   * itself when nothing is new, so the paths that only pass unrelated branches keep one key (not a copy).
   */
  const setFacts = (s: State, learned: Array<[string, boolean]>): State | null => {
    if (!learned.length) return s;
    let facts: Map<string, boolean> | null = null;
    let st = s;
    for (const [k, v] of learned) {
      if (!P.relevant.has(k)) continue;
      const had = (facts ?? s.facts).get(k);
      if (had === !v) return null;
      if (had !== v) (facts ??= new Map(s.facts)).set(k, v);
      // A holder known NULL or an error pointer: a pte_offset_map*() or a map helper that failed mapped nothing.
      const err = /^IS_ERR(?:_OR_NULL)?\((.*)\)$/.exec(k);
      const name = !v ? k : err && v ? err[1] : null;
      if (name === null) continue;
      const i = st.find(name);
      if (i < 0) continue;
      const m = st.stack[i];
      if (m.family !== 'pte' && !m.mayFail) {
        if (!err) return null; // a live mapping's address is not NULL
        continue;
      }
      st = st.remove(i);
    }
    return facts ? st.with({ facts }) : st;
  };

  /** Forget facts about `name` (assigned) and every atom and definition mentioning it; the state itself when none is held. */
  const forgetFacts = (s: State, name: string, value: boolean | null): State => {
    const dependent = P.atomsById.get(name);
    const has = P.relevant.has(name);
    const hasDefs = s.defs.size > 0;
    if (!has && !dependent && !hasDefs) return s;
    let facts: Map<string, boolean> | null = null;
    if (has) {
      if (value === null) {
        if (s.facts.has(name)) (facts ??= new Map(s.facts)).delete(name);
      } else if (s.facts.get(name) !== value) (facts ??= new Map(s.facts)).set(name, value);
    }
    // (`name` is never among its own dependents: see atomsById in prepare().)
    for (const a of dependent ?? []) if (s.facts.has(a)) (facts ??= new Map(s.facts)).delete(a);
    let defs = s.defs;
    if (hasDefs && (defs.has(name) || [...defs.values()].some((d) => d.text.includes(name)))) {
      const next = new Map(defs);
      next.delete(name);
      for (const [k, d] of defs) if (d.descendants('identifier').some((i) => i.text === name) || d.descendants('field_expression').some((f) => normalizedText(f) === name)) next.delete(k);
      defs = next;
    }
    if (!facts && defs === s.defs) return s;
    return s.with({ ...(facts ? { facts } : {}), ...(defs !== s.defs ? { defs } : {}) });
  };

  const setValue = (s: State, name: string, v: Value | null): State => {
    if (!P.offsetVars.has(name)) return s;
    const values = new Map(s.values);
    if (v) values.set(name, v);
    else values.delete(name);
    return s.with({ values });
  };

  /** The value of `offsets` in bytes, for a pointer with `size`-byte elements; null when not known. */
  const offsetBytes = (s: State, offsets: readonly Offset[], size: number | null): Value | null => {
    let total: Value = constant(0);
    for (const o of offsets) {
      const v = evalInt(o.expr, env(s));
      if (v === UNKNOWN) return null;
      // A pointer to elements of unknown size (a struct) moves by at least one byte per element.
      total = add(total, size === null ? scaleUnknownSize(v) : scale(v, size), o.sign);
    }
    return total;
  };

  /**
   * Offsets added to a fresh mapping's address when the function does not show them all (`kmap_local_page(
   * sg_page(sg)) + sg->offset`): at least what the known ones add, as what it does not show is added to an
   * address the function goes on to use as one into the mapping, so it is not negative; how far it reaches is
   * not known (only an unmap certainly past the page end is reported then). Null when one is subtracted.
   */
  const notBefore = (s: State, offsets: readonly Offset[], size: number | null): Value | null => {
    let lo = 0;
    for (const o of offsets) {
      if (o.sign < 0) return null;
      const v = evalInt(o.expr, env(s));
      if (v === UNKNOWN) continue;
      const bytes = size === null ? scaleUnknownSize(v) : scale(v, size);
      if (!(bytes.lo >= 0)) return null;
      lo += bytes.lo;
    }
    return { lo, hi: Infinity, eq: null, ub: [] };
  };

  const sizeOf = (name: string, castType: string | null): number | null => elementSize(castType ?? P.types.get(name) ?? (name.includes('->') || name.includes('.') ? undefined : 'void *'));

  /**
   * Records the names of a released mapping. Released through a pointer that may have moved off the page
   * (advanced by an amount the function does not bound), it is not sure which mapping went: the other names
   * are then not reported through.
   */
  const releaseEntries = (s: State, m: LiveMapping, line: number, call: SyntaxNode, via: Hold | null): State => {
    const sure = !via || via.kind === 'base' || (via.kind === 'interior' && (!via.moved || (!!via.off && via.off.lo >= 0 && via.off.hi < PAGE)));
    const released = new Map(s.released);
    for (const h of m.holds) released.set(h.name, { site: m.site, mapLine: m.line, mapCall: m.call, unmapLine: line, unmapCall: call, kind: sure || h === via ? h.kind : 'derived', array: m.array } satisfies Released);
    return s.with({ released });
  };

  /** The unmap at `call` releases stack entry `i` through `hold` (null: a name we could not follow). */
  const unmapLive = (s0: State, i: number, call: SyntaxNode, hold: Hold | null, line: number, viaHelper: string | null, dirOfUnmap = 0): State => {
    let s = s0;
    const m = s.stack[i];
    const ti = topOf(s);
    const top = s.stack[ti];
    const sure = hold !== null && hold.kind !== 'derived';
    if (STACK_FAMILIES.has(m.family) && ti > i && sure) {
      report({ kind: 'unmap-order', node: stable(call), key: `${hold!.name}<${holderName(top) ?? top.site}`, mapping: refOf(m), top: refOf(top), unmap: { call, line, viaHelper } }, s, [m.site, top.site]);
    } else if (m.array && m.multi && sure && dirOfUnmap !== 0 && m.dir !== 0 && dirOfUnmap === m.dir) {
      report({ kind: 'unmap-order', node: stable(call), key: `${hold!.name}:forward`, mapping: refOf(m), unmap: { call, line, viaHelper }, detail: 'forward-array' }, s, [m.site]);
    }
    s = s.remove(i);
    s = releaseEntries(s, m, line, call, hold);
    return s.step(line, '', call, 'unmap', m.site);
  };

  /** A mapping whose fate we lose (given to a callee that may release it, or to code we could not read). */
  const consume = (s0: State, i: number, line: number, call: SyntaxNode, note: string): State => {
    const m = s0.stack[i];
    let s = s0.remove(i);
    const released = new Map(s.released);
    for (const h of m.holds) released.set(h.name, { site: m.site, mapLine: m.line, mapCall: m.call, unmapLine: line, unmapCall: call, kind: 'derived', array: m.array });
    s = s.with({ released });
    return s.step(line, note, call, 'other');
  };

  const pushMapping = (s0: State, m: LiveMapping, callText: SyntaxNode, note: string): State => {
    let s = s0.with({ stack: [...s0.stack, m] });
    s = s.step(m.line, note, callText, 'map', m.site);
    // kmap_atomic() and HIGHPTE pte maps take slots of the same per-task stack (kmap() does not).
    const live = s.stack.filter((x) => STACK_FAMILIES.has(x.family));
    if (STACK_FAMILIES.has(m.family) && live.length === MAX_LIVE_LOCAL_MAPS + 1) {
      report({ kind: 'stack-depth', node: stable(m.call), key: `${holderName(m) ?? m.site}:depth`, mapping: refOf(m), detail: 'depth', live: live.length }, s, live.map((x) => x.site));
    }
    return s;
  };

  /** The state without the releases made through fields of what parameter `root` points to (see Released.callerField). */
  const forgetCallerFields = (s: State, root: string | null): State => {
    if (root === null || !P.params.has(root)) return s;
    let released: Map<string, Released> | null = null;
    for (const [name, r] of s.released) if (r.callerField === root) (released ??= new Map(s.released)).delete(name);
    return released ? s.with({ released }) : s;
  };

  /** Stores the mapping of a live holder into memory the caller can reach: handed over on this path. */
  const escape = (s: State, i: number): State => (s.stack[i].escaped ? s : s.replace(i, { ...s.stack[i], escaped: true }));

  /** Events that may have changed a name behind our back: it holds nothing we know of any more. */
  const lose = (s0: State, name: string, line: number, node: SyntaxNode): State => {
    let s = s0;
    const i = s.find(name);
    if (i >= 0) s = consume(s, i, line, node, 'unreadable code');
    return forgetFacts(s.unrelease(name), name, null);
  };

  const reachesUnmapMemo = new Map<string, boolean>();
  /**
   * True when the function itself unmaps `name` after node `from` (before assigning it again): then a callee
   * given the address in between did not release it. A `kunmap(page)` of the mapped page counts too (it is
   * meant as the release, even when it is the wrong one).
   */
  const reachesUnmap = (from: number, name: string, page: string | null): boolean => {
    const k = `${from}\u0000${name}\u0000${page ?? ''}`;
    const hit = reachesUnmapMemo.get(k);
    if (hit !== undefined) return hit;
    const seen = new Set<number>();
    const work = cfg.nodes[from].succ.map((e) => e.to);
    let found = false;
    while (work.length && !found) {
      const id = work.pop()!;
      if (seen.has(id)) continue;
      seen.add(id);
      let killed = false;
      for (const e of P.events[id]) {
        if (e.kind === 'unmap' && (e.holder?.name === name || (e.takesPage && page !== null && e.arg && normalizedText(strip(e.arg)) === page))) found = true;
        else if (e.kind === 'call' && e.name && e.args.some((a) => a.holder.name === name && ['unmaps', 'may-unmap'].includes(summaries.of(e.name!)?.params[a.index] ?? ''))) found = true;
        else if (e.kind === 'assign' && e.target.name === name) {
          // `kaddr = folio_zero_tail(folio, off, kaddr + n)` keeps (a continuation of) the same mapping in kaddr.
          if (givenAddressHolder(api, e.fromCall)?.name !== name) killed = true;
        } else if (e.kind === 'map' && e.dest !== 'return' && e.dest?.name === name) killed = true;
        if (found || killed) break;
      }
      if (!found && !killed) for (const e of cfg.nodes[id].succ) work.push(e.to);
    }
    reachesUnmapMemo.set(k, found);
    return found;
  };

  const newMapping = (site: number, call: SyntaxNode, family: MapFamily, line: number, holds: Hold[], page: string | null, array: Holder | null, extra: Partial<LiveMapping> = {}): LiveMapping => ({
    site, call, family, line, holds, page, array: !!array, multi: false, dir: array?.dir ?? 0, guarded: false, mayFail: false, escaped: false, viaHelper: null, ...extra,
  });

  /**
   * For an assignment: the names whose mapping (live or released) it could act on, when that is all it could
   * change (its target is no flag, condition atom or offset integer of this function, and its value is no
   * same-file helper's call that may return a mapping); null when it may change the state whatever holds.
   * A third of the assignments a replay walks are `ret = f(x)`, `len -= n`: none of their names holds anything.
   */
  const assignNames = new Map<ReplayEvent, string[] | null>();
  const namesOfAssign = (ev: Extract<ReplayEvent, { kind: 'assign' }>): string[] | null => {
    let names = assignNames.get(ev);
    if (names !== undefined) return names;
    const t = ev.target;
    const target = normalizedText(t.name);
    const callee = ev.fromCall ? calleeName(ev.fromCall) : null;
    const fixed =
      P.offsetVars.has(t.name) || P.defined.has(t.name) || P.relevant.has(target) || P.atomsById.has(target) || (callee !== null && summaries.mayReturnAddress(callee));
    names = null;
    if (!fixed) {
      names = [t.name];
      if (ev.source) names.push(ev.source.name);
      // (For `x = f(...)`, what f may hand back, folio_zero_tail()'s argument or a helper's returned one, is
      // among these: the holders the call computes with, events.ts holdersReadIn().)
      for (const d of ev.derived) names.push(d.name);
    }
    assignNames.set(ev, names);
    return names;
  };
  /** True when the assignment leaves `s` as it is (see namesOfAssign; a flag definition it may mention is checked in forgetFacts). */
  const inertAssign = (s: State, ev: Extract<ReplayEvent, { kind: 'assign' }>): boolean => {
    if (s.defs.size) return false;
    const names = namesOfAssign(ev);
    if (names === null) return false;
    for (let k = 0; k < names.length; k++) if (s.released.has(names[k]) || s.find(names[k]) >= 0) return false;
    return true;
  };

  /** A map call: a new entry on the stack, held by its destination (or handed to the caller when returned). */
  const onMap = (state: State, ev: Extract<ReplayEvent, { kind: 'map' }>): State => {
    let s = state;
    const site = ev.call.start;
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
    if (ev.dest === null) {
      s = s.step(ev.line, '', ev.call, 'other');
      return s;
    }
    if (ev.dest === 'return') {
      // `return kmap_local_page(p);`: handed to the caller.
      s = pushMapping(s, newMapping(site, ev.call, ev.family, ev.line, [], ev.page, null, { escaped: true, returned: true }), ev.call, 'returned to the caller');
      return s;
    }
    const dest = ev.dest;
    s = s.unrelease(dest.name);
    if (dest.array) {
      const gi = s.stack.findIndex((m) => m.array && m.site === site && m.holds.some((h) => h.name === dest.name));
      if (gi >= 0) {
        const g = s.stack[gi];
        if (!dest.bounded) report({ kind: 'stack-depth', node: stable(ev.call), key: `${dest.name}:loop`, mapping: refOf(g), detail: 'array-loop' }, s, [site]);
        if (!g.multi) s = s.replace(gi, { ...g, multi: true });
        s = s.step(ev.line, 'again, earlier elements still mapped', ev.call, 'map', site);
        return s;
      }
    } else {
      const oi = s.find(dest.name);
      if (oi >= 0) {
        const old = s.stack[oi];
        if (old.holds.length === 1 && old.site === site && !old.guarded && !old.escaped && STACK_FAMILIES.has(old.family)) {
          report({ kind: 'stack-depth', node: stable(ev.call), key: `${dest.name}:loop`, mapping: refOf(old), detail: 'remap-loop', previousLine: old.line }, s, [site]);
        }
        s = s.forgetHolder(dest.name, false);
      }
    }
    // Where in the page the address points: offset_in_page(off) for kmap_local_folio(folio, off), plus `+ off`.
    let off: Value | null = constant(0);
    if (ev.family === 'local' && callArguments(ev.call).length === 2 && calleeName(ev.call)?.includes('folio')) {
      const o = evalInt(callArguments(ev.call)[1], env(s));
      off = o.lo === 0 && o.hi === 0 ? constant(0) : { lo: 0, hi: 4095, eq: null, ub: [] };
    }
    if (ev.offsets.length) {
      const size = elementSize(ev.castType ?? 'void *');
      const extra = offsetBytes(s, ev.offsets, size) ?? notBefore(s, ev.offsets, size);
      off = off && extra ? add(off, extra) : null;
    }
    const m = newMapping(site, ev.call, ev.family, ev.line, [{ name: dest.name, kind: ev.offsets.length ? 'interior' : 'base', off }], ev.page, dest.array ? dest : null, { escaped: reachable(dest) });
    s = pushMapping(s, m, ev.call, '');
    s = ev.family !== 'pte' ? forgetFacts(s, dest.name, true) : forgetFacts(s, dest.name, null);
    return s;
  };

  /** An unmap call: releases the entry its argument holds, and reports what is wrong with that (order, family, offset, twice). */
  const onUnmap = (state: State, ev: Extract<ReplayEvent, { kind: 'unmap' }>): State => {
    let s = state;
    if (ev.takesPage) {
      // kunmap(page): releases the kmap() of that page. Given a kmap_local_page()/kmap_atomic() mapping's
      // page instead, it is the wrong unmap (mismatched-unmap); the mapping is then taken as released,
      // so the same mistake is not reported again as a leak.
      const page = ev.arg ? normalizedText(strip(ev.arg)) : null;
      let i = page === null ? -1 : lastIndex(s.stack, (m) => m.page === page);
      // kunmap(addr): given the address of a local mapping instead of a page.
      const byAddress = i < 0 && ev.arg ? holderOf(ev.arg) : null;
      if (byAddress) i = s.find(byAddress.name);
      if (i < 0) return s;
      const m = s.stack[i];
      if (m.family === 'kmap') {
        s = s.remove(i);
        return s;
      }
      // The name the right unmap can be given: one that holds an address surely inside the page.
      const sure = m.holds.find((h) => h.kind === 'base') ?? m.holds.find((h) => h.kind === 'interior' && (!h.moved || (h.off && h.off.lo >= 0 && h.off.hi < PAGE)));
      report({ kind: 'mismatched-unmap', node: ev.call, key: normalizedText(m.call), mapping: refOf(m), unmap: { call: ev.call, line: ev.line }, hold: sure?.name ?? null }, s, [m.site]);
      s = consume(s, i, ev.line, ev.call, '');
      return s;
    }
    if (!ev.holder) {
      // An address we cannot name: assume it releases the top mapping, and stop checking that one.
      const ti = topOf(s);
      if (ti >= 0 && STACK_FAMILIES.has(ev.family)) s = consume(s, ti, ev.line, ev.call, '');
      return s;
    }
    const h = ev.holder;
    const found = s.holdOf(h.name);
    if (!found && ev.arg) {
      // kunmap_local(page) after kmap(page): a kmap() released by the address API, given the page.
      const page = normalizedText(strip(ev.arg));
      const i = lastIndex(s.stack, (m) => m.page === page);
      if (i >= 0) {
        const m = s.stack[i];
        if (m.family === 'kmap') report({ kind: 'mismatched-unmap', node: ev.call, key: normalizedText(m.call), mapping: refOf(m), unmap: { call: ev.call, line: ev.line }, hold: null }, s, [m.site]);
        // Given the page of a local mapping: unmap-page's finding (a build error), not a leak as well.
        s = consume(s, i, ev.line, ev.call, '');
        return s;
      }
    }
    if (found) {
      const m = s.stack[found.index];
      if (m.family !== ev.family && (m.family === 'kmap' || (m.family !== 'pte' && ev.family !== 'pte'))) {
        report({ kind: 'mismatched-unmap', node: ev.call, key: normalizedText(m.call), mapping: refOf(m), unmap: { call: ev.call, line: ev.line }, hold: ev.arg ? normalizedText(ev.arg) : null }, s, [m.site]);
        if (m.family === 'kmap') {
          s = consume(s, found.index, ev.line, ev.call, '');
          return s;
        }
      }
      if (PAGE_ADDRESS_FAMILIES.has(m.family) && found.hold.kind !== 'derived' && found.hold.off) {
        const extra = offsetBytes(s, ev.offsets, sizeOf(h.name, coreWithOffsets(ev.arg!).castType));
        const off = extra ? add(found.hold.off, extra) : null;
        const side = off ? outsidePage(off) : null;
        if (side && off) report({ kind: 'unmap-outside-page', node: stable(ev.call), key: `${h.name}:${side}`, mapping: refOf(m), unmap: { call: ev.call, line: ev.line }, detail: side, offset: off }, s, [m.site]);
      }
      s = unmapLive(s, found.index, ev.call, found.hold, ev.line, null, h.dir);
      return s;
    }
    if (!STACK_FAMILIES.has(ev.family)) return s;
    const r = s.released.get(h.name);
    if (!r && !h.array && h.root !== null && P.params.has(h.root) && (h.name === h.root || h.deref)) {
      // A parameter's mapping, or one in a field of what it points to (`walk->data`), made by the caller:
      // unmapping it again (or using it) after this is a bug here.
      const released = new Map(s.released);
      released.set(h.name, { site: -1, mapLine: fn.line, mapCall: fn.node, unmapLine: ev.line, unmapCall: ev.call, kind: 'base', array: false, ...(h.name !== h.root ? { callerField: h.root } : {}) });
      s = s.with({ released }).step(ev.line, '', ev.call, 'unmap', -1);
      return s;
    }
    if (r && r.kind !== 'derived' && !r.array && !h.array) {
      report({ kind: 'double-unmap', node: stable(ev.call), key: h.name, mapping: { site: r.site, call: r.mapCall, line: r.mapLine, holder: h.name, family: ev.family, api: calleeName(r.mapCall) ?? '', viaHelper: null, page: null }, unmap: { call: ev.call, line: ev.line }, earlier: { call: r.unmapCall, line: r.unmapLine } }, s, [r.site]);
    }
    return s;
  };

  /** A call given addresses: what the callee does with each mapped one (its summary, or unknown code). */
  const onCall = (state: State, ev: Extract<ReplayEvent, { kind: 'call' }>, node: CfgNode): State => {
    let s = state;
    // `hash_walk_next(walk)` may map `walk->data` again: what was released through the parameter's fields is
    // not known any more. (`crypto_yield(walk->flags)` is given a value, and changes nothing in *walk.)
    if (s.released.size) for (let k = 0; k < ev.args.length; k++) if (ev.args[k].holder.name === ev.args[k].holder.root) s = forgetCallerFields(s, ev.args[k].holder.root);
    // `kaddr = folio_zero_tail(folio, off, kaddr)`: where the mapping goes is the assignment's to say (onAssign).
    if (api.returnsItsAddress(ev.name) !== undefined && isAssignedValue(ev.call)) return s;
    for (let k = 0; k < ev.args.length; k++) {
      const a = ev.args[k];
      const found = s.holdOf(a.holder.name);
      if (!found || found.hold.kind === 'derived') continue;
      const summary = ev.name ? summaries.of(ev.name) : undefined;
      const known = summary ? summary.params[a.index] ?? null : 'passes-on';
      if (known === 'unmaps') s = unmapLive(s, found.index, ev.call, found.hold, ev.line, ev.name, a.holder.dir);
      else if (known === 'may-unmap') s = consume(s, found.index, ev.line, ev.call, `${ev.name}() unmaps it on some paths`);
      else if (known === 'stores') s = escape(s, found.index);
      else if (known === 'passes-on' && !api.releasesNothing(ev.name)) {
        // Code this file does not show gets the address (the callee, or what it calls).
        const m = s.stack[found.index];
        if (m.site < 0) {
          // Summarising: the caller decides, from what it does after the call.
          if (!m.passedOn) s = s.replace(found.index, { ...m, passedOn: true });
        } else if (!m.holds.some((h) => reachesUnmap(node.id, h.name, m.page))) {
          // No unmap of the address after the call here: maybe the callee releases it. Not decided.
          const callee = ev.name ?? 'a function pointer';
          noteUndecided(ev.line, `${a.holder.name} is passed to ${outOfSight(ev.name, summary)}, and is not unmapped after it here: whether it is unmapped there was not checked`);
          s = consume(s, found.index, ev.line, ev.call, `${callee}() may unmap it`);
        }
      }
    }
    return s;
  };

  /** An assignment: who holds what afterwards, the flags it defines and the integers it sets. */
  const onAssign = (state: State, ev: Extract<ReplayEvent, { kind: 'assign' }>): State => {
    let s = state;
    if (inertAssign(s, ev)) return s;
    const t = ev.target;
    const src = ev.source ? s.holdOf(ev.source.name) : null;
    const srcReleased = ev.source ? s.released.get(ev.source.name) : undefined;
    // `addr = addr + off`: still the same mapping, the pointer moved.
    if (ev.source && ev.source.name === t.name) {
      if (src) s = moveHold(s, src.index, t.name, ev.offsets, coreWithOffsets(ev.rhs!).castType);
      s = setValue(s, t.name, null);
      return s;
    }
    // (Before the test below: `kaddr = folio_zero_tail(folio, off, kaddr)` is computed from kaddr too.)
    const givenHold = t.array ? null : givenAddressHolder(api, ev.fromCall);
    const gi = givenHold ? s.find(givenHold.name) : -1;
    if (gi >= 0) {
      // `kaddr = folio_zero_tail(folio, off, kaddr + off)`: the result is the address to unmap from now on, an
      // address in the page mapped last ("an address which can be passed to kunmap_local()", its kernel-doc
      // says) wherever in it; the names that held the old one may be stale (a highmem folio was remapped).
      const m = s.stack[gi];
      const holds: Hold[] = [...m.holds.filter((h) => h.name !== t.name).map((h) => ({ ...h, kind: 'derived' as const, off: null })), { name: t.name, kind: 'interior', off: inPage() }];
      s = s.unrelease(t.name).replace(gi, { ...m, holds });
      s = s.step(ev.line, '', ev.fromCall, 'other');
      return s;
    }
    if (!ev.source && src === null && ev.derived.some((d) => d.name === t.name) && s.find(t.name) >= 0) {
      // `kaddr = (void *)((unsigned long)kaddr & PAGE_MASK)`: computed from itself, maybe still into the mapping.
      const i = s.find(t.name);
      const m = s.stack[i];
      s = s.replace(i, { ...m, holds: m.holds.map((h) => (h.name === t.name ? { ...h, kind: 'derived', off: null } : h)) });
      return s;
    }
    if (t.array && !src) return s; // arr[i] = x: other elements are unaffected
    // A value computed from an address by a call or by arithmetic: maybe a pointer into the mapping. Not from
    // what it gives a same-file function declared to return no pointer, replayed into a summary: the summary
    // says whether it returns the address (returnedArgument() below) or a mapping of its own, and otherwise its
    // result is not one (`desc->last_cookie = array_index_cookie(array)` does not store the mapping in desc).
    const pointerTarget = reachable(t) || typeOf(t.name).pointer || t.name.includes('->') || t.name.includes('.');
    const candidates = !src && pointerTarget ? ev.derived.map((h) => s.holdOf(h.name)).filter((x) => x !== null && x.hold.name !== t.name) : [];
    // (The summary only when a mapping is among what the call is given: most such calls are given none.)
    const inSummarised = candidates.length && summarisedCall(ev.fromCall) ? namesIn(ev.fromCall!) : NO_NAMES;
    const derivedFrom = candidates.find((x) => !inSummarised.has(x!.hold.name)) ?? null;
    s = s.forgetHolder(t.name, true).unrelease(t.name);
    if (srcReleased && !t.array && !src) {
      const released = new Map(s.released);
      released.set(t.name, srcReleased);
      s = s.with({ released });
    }
    const alias = src ?? derivedFrom;
    if (alias) {
      const j = s.find(alias.hold.name);
      if (j >= 0) {
        const m = s.stack[j];
        let kind: HoldKind = src ? (ev.offsets.length && alias.hold.kind === 'base' ? 'interior' : alias.hold.kind) : 'derived';
        let off: Value | null = null;
        if (src && alias.hold.off) {
          const extra = offsetBytes(s, ev.offsets, sizeOf(alias.hold.name, coreWithOffsets(ev.rhs!).castType));
          off = extra ? add(alias.hold.off, extra) : null;
        }
        if (!src) kind = 'derived';
        // Stored into an array group (`blocks[level].addr = haddr`): one element of many, as if mapped there.
        s = s.replace(j, { ...m, holds: [...m.holds, { name: t.name, kind, off, ...(src && alias.hold.moved ? { moved: true } : {}) }], array: m.array || t.array });
        if (reachable(t)) s = escape(s, j);
      }
    } else if (ev.fromCall && !t.array && returnedArgument(s, ev.fromCall) >= 0) {
      // `src = helper(ctx, kaddr)` where the helper returns its argument (or a pointer into it) on some path.
      const j = returnedArgument(s, ev.fromCall);
      const m = s.stack[j];
      s = s.replace(j, { ...m, holds: [...m.holds, { name: t.name, kind: 'derived', off: null }] });
      if (reachable(t)) s = escape(s, j);
    } else if (ev.fromCall && !t.array) {
      // `addr = helper(...)` where the same-file helper returns a mapping: a map, here.
      const callee = calleeName(ev.fromCall);
      const summary = callee && summaries.mayReturnAddress(callee) ? summaries.of(callee) : undefined;
      if (summary?.returnsMapping) {
        const m = newMapping(ev.fromCall.start, ev.fromCall, summary.returnsFamily ?? 'local', ev.line, [{ name: t.name, kind: 'base', off: null }], null, null, {
          mayFail: summary.returnsMapping === 'sometimes', viaHelper: callee, escaped: reachable(t),
        });
        s = pushMapping(s, m, ev.fromCall, `${callee}() returns a mapped address`);
        s = forgetFacts(s, t.name, summary.returnsMapping === 'always' ? true : null);
        return s;
      }
    }
    if (!t.array) {
      s = forgetFacts(s, normalizedText(t.name), src ? true : ev.value);
      if (P.defined.has(t.name) && ev.rhs && ev.value === null && !ev.source) {
        const defs = new Map(s.defs);
        defs.set(t.name, ev.rhs);
        s = s.with({ defs });
      }
      if (P.offsetVars.has(t.name)) {
        const v = ev.rhs ? evalInt(ev.rhs, env(s)) : UNKNOWN;
        const unsigned = typeOf(t.name).unsigned;
        s = setValue(s, t.name, v === UNKNOWN ? symbol(`${t.name}@${ev.line}`, unsigned ? 0 : -Infinity) : v);
      }
    }
    return s;
  };

  /** `p += n`, `p++` or another compound assignment. */
  const onTouch = (state: State, ev: Extract<ReplayEvent, { kind: 'touch' }>): State => {
    let s = state;
    // p += n, p++: the pointer moved, still into the same mapping as long as the code keeps to its page.
    const i = s.find(ev.name);
    if (i >= 0) {
      if (ev.other) {
        const m = s.stack[i];
        s = s.replace(i, { ...m, holds: m.holds.map((h) => (h.name === ev.name ? { ...h, kind: 'derived', off: null } : h)) });
      } else {
        s = moveHold(s, i, ev.name, ev.delta ? [{ expr: ev.delta, sign: ev.sign }] : null, null, ev.sign);
      }
    }
    if (P.offsetVars.has(ev.name)) {
      const old = s.values.get(ev.name) ?? symbol(ev.name, typeOf(ev.name).unsigned ? 0 : -Infinity);
      const delta = ev.other ? null : ev.delta ? evalInt(ev.delta, env(s)) : constant(1);
      const next = delta ? add(old, delta, ev.sign) : ev.delta ? evalCompound(ev.op, ev.delta, env(s)) : null;
      s = setValue(s, ev.name, next ?? symbol(`${ev.name}@${ev.line}`));
    }
    // A moved pointer keeps its NULL-ness; a moved released pointer may now point anywhere.
    s = typeOf(ev.name).pointer ? forgetFacts(s, ev.name, s.facts.get(ev.name) ?? null) : forgetFacts(s, ev.name, null);
    s = s.unrelease(ev.name);
    return s;
  };

  /** `&name` escapes: whatever it held or meant is no longer known. */
  const onAddressTaken = (state: State, ev: Extract<ReplayEvent, { kind: 'address-taken' }>): State => {
    let s = state;
    s = s.forgetHolder(ev.name, true).unrelease(ev.name);
    s = forgetFacts(s, ev.name, null);
    s = setValue(s, ev.name, null);
    return s;
  };

  /** Code the parser could not read: every name in it may have changed. */
  const onOpaque = (state: State, ev: Extract<ReplayEvent, { kind: 'opaque' }>): State => {
    let s = state;
    for (const name of ev.names) s = lose(s, name, ev.line, ev.node);
    return s;
  };

  /** Lines the patch does not show. */
  const onUnseen = (state: State, ev: Extract<ReplayEvent, { kind: 'unseen' }>): State => {
    let s = state;
    // Code the patch does not show: nothing known about flags or integers holds after it. Mappings stay
    // where they are (a visible unmap after it still meets them), and the step marks every path through
    // here: report() turns what depends on it into notes.
    s = s.with({ facts: new Map(), defs: new Map(), values: new Map() }).step(ev.range.from, ev.range.from === ev.range.to ? 'not in the patch' : `not in the patch, up to line ${ev.range.to}`, null, 'other');
    return s;
  };

  /** A read through a name: a use after unmap when what it held was released. */
  const onUse = (s: State, ev: Extract<ReplayEvent, { kind: 'use' }>): State => {
    useAfterUnmap(s, ev.holder.name, ev.node, ev.line);
    return s;
  };

  /**
   * Reports the use of `name` at `node` as one after its unmap when what it held was released for sure on
   * this path (not through a derived pointer, not an array element, not around a loop since) and it holds
   * nothing live again; `returned`: the use is the return of the address.
   */
  const useAfterUnmap = (s: State, name: string, node: SyntaxNode, line: number, returned = false): void => {
    const r = s.released.get(name);
    if (!r || r.kind === 'derived' || r.array || r.looped || s.find(name) >= 0) return;
    report({
      kind: 'use-after-unmap', node, key: name,
      mapping: { site: r.site, call: r.mapCall, line: r.mapLine, holder: name, family: 'local', api: calleeName(r.mapCall) ?? '', viaHelper: null, page: null },
      unmap: { call: r.unmapCall, line: r.unmapLine }, use: { node, line, holder: name }, ...(returned ? { detail: 'returned' as const } : {}),
    }, s, [r.site]);
  };

  /** A return statement: a mapping whose address it returns is handed to the caller. */
  const onReturn = (state: State, ev: Extract<ReplayEvent, { kind: 'return' }>): State => {
    let s = state;
    // An address returned after its unmap (`kunmap_local(p); return p + off;`) points into a page no longer
    // mapped: the caller's first use of it is a use after unmap. Only a function returning a pointer returns an
    // address (`return p - base;` in one returning an integer is a length).
    if (ev.value && fn.returnType.includes('*')) for (const name of returnedHolders(ev.value, false)) useAfterUnmap(s, name, ev.node, ev.line, true);
    // Returning the address (or a pointer computed from it) hands the mapping to the caller on this path.
    for (const i of returnedMappings(s, ev.value)) {
      const m = s.stack[i];
      s = s.replace(i, { ...m, escaped: true, returned: true });
      s = s.step(ev.line, `${holderName(m) ?? 'the mapping'} handed to the caller`, ev.node, 'other');
    }
    return s;
  };

  /**
   * The events of one CFG node, in order. One small function per kind of event, not one switch: under the scan's
   * JIT flags (cli/v8-flags.ts) a 13 KB function never left the baseline compiler, and each kind's handler is
   * optimised on its own as soon as it is hot.
   */
  const apply = (state: State, node: CfgNode): State => {
    let s = state;
    const evs = P.events[node.id];
    for (let e = 0; e < evs.length; e++) {
      const ev = evs[e];
      switch (ev.kind) {
        case 'map':
          s = onMap(s, ev);
          break;
        case 'unmap':
          s = onUnmap(s, ev);
          break;
        case 'call':
          s = onCall(s, ev, node);
          break;
        case 'assign':
          s = onAssign(s, ev);
          break;
        case 'touch':
          s = onTouch(s, ev);
          break;
        case 'address-taken':
          s = onAddressTaken(s, ev);
          break;
        case 'opaque':
          s = onOpaque(s, ev);
          break;
        case 'unseen':
          s = onUnseen(s, ev);
          break;
        case 'use':
          s = onUse(s, ev);
          break;
        case 'return':
          s = onReturn(s, ev);
          break;
      }
    }
    return s;
  };

  /**
   * The holders a condition reads memory through: given to a call, dereferenced, indexed or followed by `->`
   * (`segment_usage_error(su)`, `hdr->magic`); not compared (`next_out != sink_page`, `if (p)`). Once per condition.
   */
  const readThroughMemo = new Map<SyntaxNode, ReadonlySet<string>>();
  const readThrough = (cond: SyntaxNode): ReadonlySet<string> => {
    let names = readThroughMemo.get(cond);
    if (!names) {
      const found = new Set<string>();
      const add = (e: SyntaxNode | null) => {
        const h = e ? holderOf(coreWithOffsets(e).core) : null;
        if (h) found.add(h.name);
      };
      cond.walk((d) => {
        if (d.type === 'call_expression') for (const a of callArguments(d)) add(a);
        else if (d.type === 'pointer_expression' && d.child('operator')?.text === '*') add(d.child('argument'));
        else if (d.type === 'subscript_expression') add(d.child('argument'));
        else if (d.type === 'field_expression' && d.child('operator')?.text === '->') add(d.child('argument'));
      });
      readThroughMemo.set(cond, (names = found));
    }
    return names;
  };

  /** The names of the holders a call computes with (events.ts holdersReadIn()), once per call. */
  const holderNames = new Map<SyntaxNode, ReadonlySet<string>>();
  const namesIn = (n: SyntaxNode): ReadonlySet<string> => {
    let names = holderNames.get(n);
    if (!names) holderNames.set(n, (names = new Set(holdersReadIn(n).map((h) => h.name))));
    return names;
  };

  /**
   * True when `call` is a direct call of a same-file function whose value its summary decides: one with a
   * summary, declared to return no pointer (an integer computed from the address it is given is not one).
   */
  const summarisedCall = (call: SyntaxNode | null): boolean => {
    if (!call || call.child('function')?.type !== 'identifier') return false;
    const name = calleeName(call);
    const summary = name ? summaries.of(name) : undefined;
    return !!summary && !summary.returnsPointer;
  };

  /** The stack entry whose address `call` (to a summarised helper) may return, or -1. */
  const returnedArgument = (s: State, call: SyntaxNode): number => {
    const args = callArguments(call);
    // Only a call given a mapped address can return it: look the callee up then, not before.
    if (!args.some((a) => { const h = holderOf(a); return h !== null && s.find(h.name) >= 0; })) return -1;
    const callee = calleeName(call);
    const summary = callee ? summaries.of(callee) : undefined;
    if (!summary) return -1;
    for (let k = 0; k < args.length; k++) {
      if (summary.params[k] !== 'returns') continue;
      const h = holderOf(args[k]);
      const i = h ? s.find(h.name) : -1;
      if (i >= 0) return i;
    }
    return -1;
  };

  /** `p += n` or `p = p + n` on holder `name` of stack entry `i`. */
  const moveHold = (s: State, i: number, name: string, offsets: readonly Offset[] | null, castType: string | null, sign: 1 | -1 = 1): State => {
    const m = s.stack[i];
    const holds = m.holds.map((h) => {
      if (h.name !== name) return h;
      const size = sizeOf(name, castType);
      let off: Value | null = null;
      if (h.off) {
        if (offsets === null) off = size === null ? null : add(h.off, constant(size), sign);
        else {
          const extra = offsetBytes(s, offsets, size);
          off = extra ? add(h.off, extra) : null;
        }
      }
      return { ...h, kind: (h.kind === 'base' ? 'interior' : h.kind) as HoldKind, off, moved: true };
    });
    return s.replace(i, { ...m, holds });
  };

  /** Stack entries whose address a return value carries: the holder itself, `holder + off`, either arm of `?:`, or a pointer computed from it by a call. */
  /**
   * The holders a returned value is an address from: `p`, `p + off`, `(void *)p`, either arm of `?:`, and
   * with `throughCalls` the arguments of a call whose result it is (a pointer computed from them).
   */
  const returnedHolders = (value: SyntaxNode, throughCalls: boolean): string[] => {
    const core = coreWithOffsets(value).core;
    if (core.type === 'conditional_expression') return [core.child('consequence'), core.child('alternative')].flatMap((arm) => (arm ? returnedHolders(arm, throughCalls) : []));
    const from = core.type === 'call_expression' ? (throughCalls ? callArguments(core) : []) : [core];
    return from.flatMap((e) => holderOf(e)?.name ?? []);
  };

  const returnedMappings = (s: State, value: SyntaxNode | null): number[] => {
    if (!value) return [];
    const out = new Set<number>();
    // A call's result carries an address only out of a function declared to return a pointer.
    for (const name of returnedHolders(value, fn.returnType.includes('*'))) {
      const i = s.find(name);
      if (i >= 0) out.add(i);
    }
    return [...out];
  };

  const checkExit = (s: State, from: CfgNode) => {
    if (exits) {
      const rec: ExitRecord = { params: [], returnsMapping: s.stack.find((m) => m.returned && m.site >= 0)?.family ?? null };
      for (const { p, i } of seeded) {
        const live = s.stack.find((m) => m.site === -1 - i);
        const released = s.released.get(p);
        rec.params[i] = live ? (live.returned ? 'returned' : live.escaped ? 'stored' : live.passedOn ? 'unknown' : 'live') : released && released.site === -1 - i ? (released.kind === 'derived' ? 'unknown' : 'released') : 'unknown';
      }
      exits.push(rec);
      return;
    }
    const isReturn = from.kind === 'return' && from.ast;
    // A fragment (a hunk without its function) ends where the hunk ends, not where the function does: only
    // a `return` it shows is an exit; a goto to a label it does not show is not one either.
    if (fn.fragment && !isReturn) return;
    for (const m of s.stack) {
      if (m.escaped || m.guarded || m.site < 0 || m.family === 'kmap') continue;
      const name = holderName(m);
      report({
        kind: 'mapping-leak', node: isReturn ? from.ast! : stable(m.call), key: isReturn ? name ?? `${m.site}` : `${name ?? m.site}:end`,
        mapping: refOf(m), exit: { line: isReturn ? from.line : cfg.nodes[cfg.exit].line, node: isReturn ? from.ast : null },
      }, s, [m.site]);
    }
  };

  /**
   * Conditions none of whose atoms is relevant (most branches: `if (ret)`, `len > 0`): no fact about them is
   * ever kept and no flag definition names them, so their truth is what it is with no facts at all (a
   * constant's, or unknown) on every path, and they teach nothing. Decided once per condition; 'depends':
   * a condition with a relevant atom, evaluated on each path (and refined into the path's facts).
   */
  const fixedTruths = new Map<SyntaxNode, boolean | null | 'depends'>();
  const fixedTruth = (cond: SyntaxNode): boolean | null | 'depends' => {
    let t = fixedTruths.get(cond);
    if (t === undefined) {
      t = atomsOf(cond).some((a) => P.relevant.has(atomKey(a))) ? 'depends' : evaluate(cond, NO_FACTS);
      fixedTruths.set(cond, t);
    }
    return t;
  };

  /** The loops an edge leaves (its source's loops that do not hold its target), worked out once per edge. */
  const leaving = new Map<CfgEdge, readonly number[]>();
  const leftBy = (from: CfgNode, edge: CfgEdge): readonly number[] => {
    let left = leaving.get(edge);
    if (!left) {
      const toLoops = P.loopsOf[edge.to];
      const out: number[] = [];
      for (const h of P.loopsOf[from.id]) if (!toLoops.has(h)) out.push(h);
      left = out.length ? out : NO_LOOPS;
      leaving.set(edge, left);
    }
    return left;
  };

  const take = (s: State, from: CfgNode, edge: CfgEdge): State | null => {
    let st: State | null = s;
    if (from.loopHead && (st.loops.get(from.id) ?? 0) >= 2 && P.bodyOf.get(from.id)?.has(edge.to)) return null;
    if (edge.condition && edge.value !== undefined) {
      const fixed = fixedTruth(edge.condition);
      const v = fixed === 'depends' ? evaluate(edge.condition, st.facts, st.defs) : fixed;
      if (v !== null && v !== edge.value) return null;
      if (fixed === 'depends') st = setFacts(st, refine(edge.condition, edge.value, st.facts, [], st.defs));
      if (!st) return null;
      const arms = P.armUnmaps.get(from.id);
      if (arms && v === null) {
        // Skipping an unmap that the code carries on after, under a condition we cannot decide: the author may
        // know it always holds here (use_sg > 0 after mapping sg). No leak report for that mapping on this path.
        // Not when the arm taken unmaps it too (`if (err) { kunmap_local(p); ... } else { ...; kunmap_local(p); }`):
        // nothing is skipped then, and a return on the way out of either arm leaks it. Nor when the condition
        // reads the mapping (`if (segment_usage_error(su))`, su pointing into it): it was made, and what it
        // holds decides the branch, not whether it exists.
        const skipped = edge.value ? arms.else : arms.then;
        const taken = edge.value ? arms.then : arms.else;
        const read = readThrough(edge.condition);
        const skips = (m: LiveMapping) => !m.guarded && m.holds.some((h) => skipped.has(h.name) && !taken.has(h.name)) && !m.holds.some((h) => read.has(h.name));
        if (skipped.size && st.stack.some(skips)) st = st.with({ stack: st.stack.map((m) => (skips(m) ? { ...m, guarded: true } : m)) });
      }
      if (st.stack.length || st.released.size) st = st.step(from.line, branchNote(from, edge), edge.condition, from.loopHead ? 'loop' : 'branch');
    } else if (edge.caseValue !== undefined && (st.stack.length || st.released.size)) {
      st = st.step(from.line, branchNote(from, edge), edge.condition ?? null, 'branch');
    }
    const fromLoops = P.loopsOf[from.id];
    let loops: Map<number, number> | null = null;
    const left = leftBy(from, edge);
    for (let k = 0; k < left.length; k++) {
      const h = left[k];
      // Leaving a counted loop by its condition: it ran `trips` times, not the 0-2 the replay walked.
      const counted = P.counted.get(h);
      if (counted && from.id === h && edge.value === false) {
        const done = st.loops.get(h) ?? 0;
        for (const adv of counted.advances) {
          const i = st.find(adv.name);
          if (i < 0 || counted.trips <= done) continue;
          const m = st.stack[i];
          const hold = m.holds.find((x) => x.name === adv.name)!;
          const size = sizeOf(adv.name, null);
          const step = adv.delta ? offsetBytes(st, [{ expr: adv.delta, sign: adv.sign }], size) : size !== null ? scale(constant(size), adv.sign) : null;
          const off = hold.off && step ? add(hold.off, scale(step, counted.trips - done)) : null;
          st = st.replace(i, { ...m, holds: m.holds.map((x) => (x === hold ? { ...x, off } : x)) });
        }
      }
      loops ??= new Map(st.loops);
      loops.delete(h);
      const arrays = P.arrayUnmaps.get(h);
      // Leaving a loop that unmaps an array: it released what the (correlated) mapping loop mapped.
      if (arrays && st.stack.some((m) => m.array && m.holds.some((x) => arrays.has(x.name)))) {
        st = st.with({ stack: st.stack.filter((m) => !(m.array && m.holds.some((x) => arrays.has(x.name)))) });
      }
    }
    const to = cfg.nodes[edge.to];
    if (edge.back && st.released.size && [...st.released.values()].some((r) => !r.looped)) {
      // Around the loop again: whether the address was mapped again on the way depends on data the replay
      // does not follow (`if (frag < nr_frags) src = map(...)`), so uses after this are not reported.
      st = st.with({ released: new Map([...st.released].map(([k, r]) => [k, r.looped ? r : { ...r, looped: true }])) });
    }
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

  const initial = State.initial(
    seeded.map(({ p, i }) => newMapping(-1 - i, fn.node, 'local', fn.line, [{ name: p, kind: 'base', off: null }], null, null)),
  );
  /**
   * The worklist over (node, state) pairs, merging identical states per node: the number of states visited and
   * whether every path was walked. A function of its own: the loop is what gets hot, and V8 optimises (and
   * re-optimises, on a deopt) a small function far sooner and cheaper than replayFunction() and its dozens of
   * closures.
   */
  const explore = (start: State): { states: number; complete: boolean } => {
    // States seen, per node: the key string is the State's own (cached, so V8 hashes it once), where a
    // `${node}|${key}` string made per arrival would be hashed afresh each time.
    const seen: Array<Set<string> | undefined> = new Array(cfg.nodes.length);
    // The worklist as two parallel stacks (node id, state): no pair allocated per arrival.
    const workIds: number[] = [cfg.entry];
    const work: State[] = [start];
    let states = 0;
    let complete = true;
    const visits = new Uint32Array(cfg.nodes.length);
    while (work.length) {
      const id = workIds.pop()!;
      const arrived = work.pop()!;
      // Widening: integer values that still differ after many arrivals at one node (counters, sizes computed
      // along each path) multiply the states without deciding anything; forget them there. Offsets already
      // held by a mapping's holders stay; unknown values only make unmap-outside-page say nothing.
      const state = ++visits[id] > WIDEN_VALUES_AFTER && arrived.values.size ? arrived.with({ values: new Map() }) : withLiveValues(arrived, P.liveValues[id]);
      const k = state.key;
      const here = (seen[id] ??= new Set());
      if (here.has(k)) continue;
      here.add(k);
      if (++states > budget || ((states & 255) === 0 && performance.now() - t0 - calleeMs > timeLimitMs)) {
        complete = false;
        stoppedBy = states > budget ? 'budget' : 'time';
        states--;
        break;
      }
      if (id === cfg.exit || id === cfg.abort) continue;
      const node = cfg.nodes[id];
      const s = apply(state, node);
      for (let i = node.succ.length - 1; i >= 0; i--) {
        const edge = node.succ[i];
        const next = take(s, node, edge);
        if (!next) continue;
        if (edge.to === cfg.exit) checkExit(next, node);
        workIds.push(edge.to);
        work.push(next);
      }
    }
    return { states, complete };
  };

  const { states, complete } = explore(initial);
  return done(states, complete);
}

/** The state without the integers no path from here reads (see liveOffsetVars). */
function withLiveValues(s: State, live: ReadonlySet<string>): State {
  if (!s.values.size) return s;
  let values: Map<string, Value> | null = null;
  for (const k of s.values.keys()) if (!live.has(k)) (values ??= new Map(s.values)).delete(k);
  return values ? s.with({ values }) : s;
}

/** The holder of the address a call like `folio_zero_tail(folio, off, kaddr + n)` is given and returns (`kaddr`), or null. */
function givenAddressHolder(api: KmapApi, call: SyntaxNode | null): Holder | null {
  const given = call ? api.returnsItsAddress(calleeName(call)) : undefined;
  const arg = given !== undefined ? callArguments(call!)[given] : undefined;
  return arg ? holderOf(coreWithOffsets(arg).core) : null;
}

/** True when `call` (under parentheses and casts) is the value assigned by an assignment or a declaration. */
function isAssignedValue(call: SyntaxNode): boolean {
  let n = call;
  while (n.parent && (n.parent.type === 'parenthesized_expression' || n.parent.type === 'cast_expression')) n = n.parent;
  const p = n.parent;
  return !!p && ((p.type === 'assignment_expression' && n.field === 'right' && p.child('operator')?.text === '=') || (p.type === 'init_declarator' && n.field === 'value'));
}

/** Where an address passed to `name` goes out of the replay's sight, in words (the subject of an undecided note). */
function outOfSight(name: string | null, summary: FunctionSummary | null | undefined): string {
  if (name === null) return 'a function pointer, whose target is not known here';
  if (summary === undefined) return `${name}(), whose code is not in this file`;
  if (summary === null) return `${name}(), which this file defines but the replay did not follow`;
  return `${name}(), which passes it on to code that is not in this file`;
}

/** True when `id` is an argument (at any depth) of a call below `top` whose value evalInt does not compute: `n = f(a, b)` makes `n` unknown whatever `a` and `b` are. */
function insideOpaqueCall(id: SyntaxNode, top: SyntaxNode): boolean {
  for (let p = id.parent; p; p = p.parent) {
    if (p.type === 'call_expression' && !isEvaluatedCall(p)) return true;
    if (p === top || p.start < top.start) return false;
  }
  return false;
}

/** True when the function may call a same-file helper that returns a mapping (cheap before the replay). */
function mayCallMapHelper(fn: CFunction, api: KmapApi, summaries: Summaries): boolean {
  if (summaries === NO_SUMMARIES || !api.mayUnmap(fn.text)) return false;
  for (const m of fn.text.matchAll(/=\s*(?:\([^()]*\)\s*)?([A-Za-z_]\w*)\s*\(/g)) {
    const s = summaries.mayReturnAddress(m[1]) ? summaries.of(m[1]) : undefined;
    if (s?.returnsMapping) return true;
  }
  return false;
}
