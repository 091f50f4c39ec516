/**
 * Path feasibility from the flags that guard maps and unmaps. An "atom" is a leaf of a condition
 * (`kmapped_page`, `s->mapped`, `PageHighMem(page)`); its known truth lives in State.facts. Only the
 * atoms that matter for mappings are tracked (see relevantAtoms), so unrelated branches still merge.
 */
import { normalizedText, type SyntaxNode } from '../syntax/ast.js';
import { constantTruth, strip } from './events.js';

/** Calls whose value is their (first) argument's truth: likely(), WARN_ON() and friends. */
const TRANSPARENT_CALLS = new Set(['likely', 'unlikely', 'WARN_ON', 'WARN_ON_ONCE', 'WARN', 'WARN_ONCE', 'WARN_ON_SMP']);

function isNull(n: SyntaxNode): boolean {
  return constantTruth(n) === false;
}

const NEGATED: Record<string, [string, boolean]> = { '==': ['==', false], '!=': ['==', true], '<': ['<', false], '>=': ['<', true], '>': ['>', false], '<=': ['>', true] };

/** `a != b` is the negation of the atom `a == b`, `a >= b` of `a < b`: one key per comparison. */
function comparison(e: SyntaxNode): { key: string; negated: boolean } | null {
  if (e.type !== 'binary_expression') return null;
  const n = NEGATED[e.child('operator')?.text ?? ''];
  if (!n) return null;
  return { key: `${normalizedText(e.child('left')!)} ${n[0]} ${normalizedText(e.child('right')!)}`, negated: n[1] };
}

/** Strips parentheses, casts and a postfix `x++`/`x--` (its value is x's). */
function leaf(n: SyntaxNode): SyntaxNode {
  let e = strip(n.type === 'argument_list' ? n.namedChildren[0] ?? n : n);
  while (e.type === 'update_expression' && /(\+\+|--)\s*$/.test(e.text)) e = strip(e.child('argument')!);
  return e;
}

/** The leaves of a condition's boolean structure. */
export function atomsOf(cond: SyntaxNode, out: Array<SyntaxNode | string> = []): Array<SyntaxNode | string> {
  const e = leaf(cond);
  if (e.type === 'unary_expression' && e.child('operator')?.text === '!') return atomsOf(e.child('argument')!, out);
  if (e.type === 'binary_expression') {
    const op = e.child('operator')?.text;
    const l = e.child('left')!;
    const r = e.child('right')!;
    if (op === '&&' || op === '||') return atomsOf(l, out), atomsOf(r, out);
    if ((op === '==' || op === '!=') && isNull(r)) return atomsOf(l, out);
    if ((op === '==' || op === '!=') && isNull(l)) return atomsOf(r, out);
  }
  if (e.type === 'call_expression' && TRANSPARENT_CALLS.has(e.child('function')?.text ?? '')) {
    const a = e.child('arguments')?.namedChildren[0];
    if (a) return atomsOf(a, out);
  }
  if (e.type === 'assignment_expression') {
    out.push(e.child('left')!);
    return out;
  }
  const c = comparison(e);
  if (c) out.push(c.key);
  else if (constantTruth(e) === null) out.push(e);
  return out;
}

export function atomKey(n: SyntaxNode | string): string {
  return typeof n === 'string' ? n : normalizedText(strip(n));
}

/** Flags computed from a condition (`bool unmap_src = src && (moved || unmap_dst);`), by name. */
export type Definitions = ReadonlyMap<string, SyntaxNode>;
const NO_DEFS: Definitions = new Map();
/** Definitions are followed this deep (a flag defined from a flag defined from...). */
const MAX_DEF_DEPTH = 4;

/** Truth of `cond` under `facts` (and the flags' definitions): true, false, or null when unknown. */
export function evaluate(cond: SyntaxNode, facts: ReadonlyMap<string, boolean>, defs: Definitions = NO_DEFS, depth = 0): boolean | null {
  const e = leaf(cond);
  const c = constantTruth(e);
  if (c !== null) return c;
  if (e.type === 'unary_expression' && e.child('operator')?.text === '!') {
    const v = evaluate(e.child('argument')!, facts, defs, depth);
    return v === null ? null : !v;
  }
  if (e.type === 'binary_expression') {
    const op = e.child('operator')?.text;
    const l = e.child('left')!;
    const r = e.child('right')!;
    if (op === '&&' || op === '||') {
      const a = evaluate(l, facts, defs, depth);
      const b = evaluate(r, facts, defs, depth);
      if (op === '&&') return a === false || b === false ? false : a === true && b === true ? true : null;
      return a === true || b === true ? true : a === false && b === false ? false : null;
    }
    if ((op === '==' || op === '!=') && (isNull(r) || isNull(l))) {
      const v = evaluate(isNull(r) ? l : r, facts, defs, depth);
      return v === null ? null : op === '==' ? !v : v;
    }
  }
  if (e.type === 'call_expression' && TRANSPARENT_CALLS.has(e.child('function')?.text ?? '')) {
    const a = e.child('arguments')?.namedChildren[0];
    return a ? evaluate(a, facts, defs, depth) : null;
  }
  if (e.type === 'assignment_expression') return evaluate(e.child('left')!, facts, defs, depth);
  const cmp = comparison(e);
  if (cmp) {
    const v = facts.get(cmp.key);
    return v === undefined ? null : v !== cmp.negated;
  }
  const key = normalizedText(e);
  const known = facts.get(key);
  if (known !== undefined) return known;
  const def = depth < MAX_DEF_DEPTH ? defs.get(key) : undefined;
  return def ? evaluate(def, facts, defs, depth + 1) : null;
}

/** What `cond == value` teaches about the atoms: a list of [atom key, truth]. */
export function refine(cond: SyntaxNode, value: boolean, facts: ReadonlyMap<string, boolean>, out: Array<[string, boolean]> = [], defs: Definitions = NO_DEFS, depth = 0): Array<[string, boolean]> {
  const e = leaf(cond);
  if (constantTruth(e) !== null) return out;
  if (e.type === 'unary_expression' && e.child('operator')?.text === '!') return refine(e.child('argument')!, !value, facts, out, defs, depth);
  if (e.type === 'binary_expression') {
    const op = e.child('operator')?.text;
    const l = e.child('left')!;
    const r = e.child('right')!;
    if (op === '&&') {
      if (value) return refine(l, true, facts, out, defs, depth), refine(r, true, facts, out, defs, depth);
      if (evaluate(l, facts, defs) === true) refine(r, false, facts, out, defs, depth);
      else if (evaluate(r, facts, defs) === true) refine(l, false, facts, out, defs, depth);
      return out;
    }
    if (op === '||') {
      if (!value) return refine(l, false, facts, out, defs, depth), refine(r, false, facts, out, defs, depth);
      if (evaluate(l, facts, defs) === false) refine(r, true, facts, out, defs, depth);
      else if (evaluate(r, facts, defs) === false) refine(l, true, facts, out, defs, depth);
      return out;
    }
    if ((op === '==' || op === '!=') && (isNull(r) || isNull(l))) return refine(isNull(r) ? l : r, op === '==' ? !value : value, facts, out, defs, depth);
    const c = comparison(e);
    if (c) {
      out.push([c.key, value !== c.negated]);
      return out;
    }
  }
  if (e.type === 'call_expression' && TRANSPARENT_CALLS.has(e.child('function')?.text ?? '')) {
    const a = e.child('arguments')?.namedChildren[0];
    return a ? refine(a, value, facts, out, defs, depth) : out;
  }
  if (e.type === 'assignment_expression') return refine(e.child('left')!, value, facts, out, defs, depth);
  const key = normalizedText(e);
  out.push([key, value]);
  // A flag computed from a condition: what it is tells what its operands are.
  const def = depth < MAX_DEF_DEPTH ? defs.get(key) : undefined;
  if (def) refine(def, value, facts, out, defs, depth + 1);
  return out;
}
