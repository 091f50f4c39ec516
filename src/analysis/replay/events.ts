/**
 * The ordered events of one CFG node, read from its syntax tree in evaluation order: maps (with where
 * the address lands), unmaps (with the variable the argument is rooted in), assignments (aliases made by
 * `b = a + off`, NULL/constant assignments, other values), uses of addresses (dereference, indexing,
 * `->`, passing to a call) and `&x` (the variable may change behind our back).
 *
 * Events do not depend on the replay state: they are computed once per node and cached by the replay.
 */
import type { KmapApi, MapFamily } from '../kmap-api.js';
import { callArguments, calleeName, normalizedText, unwrap, type SyntaxNode } from '../syntax/ast.js';

/** Where a mapped address is held. Array elements with a variable index are one "group" holder `ptrs[]`. */
export interface Holder {
  name: string;
  /** `ptrs[i]` with a non-constant index: the holder is the array, named `ptrs[]`. */
  array: boolean;
  /** A struct field or a store through a pointer: the address outlives the function's locals. */
  escapes: boolean;
  /** For array holders: +1 when the enclosing loop walks the index up, -1 down, 0 unknown. */
  dir: number;
  /** For array holders: the enclosing loop is bounded by a small constant (<= 16). */
  bounded: boolean;
}

export type ReplayEvent =
  | { kind: 'map'; call: SyntaxNode; family: MapFamily; dest: Holder | 'return' | null; page: string | null; line: number }
  | { kind: 'unmap'; call: SyntaxNode; family: MapFamily; holder: Holder | null; line: number; unresolved: boolean }
  /** A call that looks like an unmap helper (ext2_put_page(page, kaddr), folio_release_kmap): unmaps a live argument. */
  | { kind: 'maybe-unmap'; call: SyntaxNode; holders: Holder[]; line: number }
  /** Passed to a same-file function that unmaps that parameter on some of its paths. */
  | { kind: 'consume'; call: SyntaxNode; holder: Holder; line: number }
  /** `derived`: holders passed to the call the value comes from (`x = folio_zero_tail(f, 0, kaddr)`). */
  | { kind: 'assign'; node: SyntaxNode; target: Holder; source: Holder | null; derived: Holder[]; value: boolean | null; line: number }
  | { kind: 'use'; node: SyntaxNode; holder: Holder; line: number }
  | { kind: 'address-taken'; name: string; line: number }
  | { kind: 'touch'; name: string; line: number }
  /** `mentions`: every variable/field named in the returned expression. */
  | { kind: 'return'; node: SyntaxNode; holder: Holder | null; mentions: string[]; line: number };

/** Helpers from include/linux/highmem.h that unmap their address argument. */
const KNOWN_UNMAP_HELPERS: Record<string, number> = { folio_release_kmap: 1, unmap_and_put_page: 1 };
/** Callees that probably release a mapped address passed to them (dir_put_page(page, kaddr) and friends). */
const MAYBE_UNMAP_RE = /(?:unmap|unkmap|put_page|put_folio|release_kmap|put_kaddr)\w*$/i;
const NO_USE_CALLS = new Set(['sizeof', 'likely', 'unlikely', 'WARN_ON', 'WARN_ON_ONCE', 'BUG_ON', 'IS_ERR', 'IS_ERR_OR_NULL', 'PTR_ERR', 'ERR_CAST', 'ERR_PTR', 'offset_in_page', 'virt_to_page', 'kmap_to_page', 'PTR_ALIGN', 'PTR_ALIGN_DOWN']);

/** Strips parentheses and casts (the one implementation lives in syntax/ast.ts). */
export const strip = unwrap;

/** The address expression under casts, parentheses and `+/- offset`: `(char *)kmap_local_page(p) + off` -> the call. */
export function coreOf(n: SyntaxNode): SyntaxNode {
  let cur = strip(n);
  for (;;) {
    if (cur.type === 'binary_expression') {
      const op = cur.child('operator')?.text;
      if (op === '+' || op === '-') {
        cur = strip(cur.child('left')!);
        continue;
      }
    }
    return cur;
  }
}

function isConstantIndex(n: SyntaxNode): boolean {
  const s = strip(n);
  return s.type === 'number_literal' || (s.type === 'identifier' && /^[A-Z][A-Z0-9_]*$/.test(s.text));
}

const LOOP_TYPES = new Set(['for_statement', 'while_statement', 'do_statement']);

/** Direction of the innermost loop that changes `index` (+1 up, -1 down, 0 unknown) and whether it is small-bounded. */
function loopDirection(at: SyntaxNode, indexExpr: SyntaxNode): { dir: number; bounded: boolean } {
  let idx = strip(indexExpr);
  let sign = 1;
  if (idx.type === 'binary_expression' && idx.child('operator')?.text === '-' && strip(idx.child('right')!).type === 'identifier') {
    idx = strip(idx.child('right')!);
    sign = -1;
  } else if (idx.type === 'binary_expression' && idx.child('operator')?.text === '+') {
    const l = strip(idx.child('left')!);
    if (l.type === 'identifier') idx = l;
  }
  if (idx.type !== 'identifier') return { dir: 0, bounded: false };
  const name = idx.text;
  for (let loop = at.ancestor((a) => LOOP_TYPES.has(a.type)); loop; loop = loop.ancestor((a) => LOOP_TYPES.has(a.type))) {
    let dir = 0;
    const scan = loop.type === 'for_statement' ? loop.childrenOf('update') : [loop.child('condition'), loop.child('body')].filter((x): x is SyntaxNode => !!x);
    for (const part of scan) {
      part.walk((d) => {
        if (dir) return false;
        if (d.type === 'update_expression' && strip(d.child('argument')!).text === name) dir = /\+\+/.test(d.text) ? 1 : -1;
        else if (d.type === 'assignment_expression' && strip(d.child('left')!).text === name) {
          const op = d.child('operator')?.text;
          if (op === '+=') dir = 1;
          else if (op === '-=') dir = -1;
        }
      });
    }
    if (!dir) continue;
    let bounded = false;
    const cond = loop.child('condition');
    const m = cond ? /^\(?\s*\w+\s*(<=?)\s*(\d+)\s*\)?$/.exec(cond.text.trim()) : null;
    if (m && dir > 0) bounded = Number(m[2]) - (m[1] === '<' ? 0 : -1) <= 16;
    return { dir: dir * sign, bounded };
  }
  return { dir: 0, bounded: false };
}

/** The holder an lvalue or address expression names, or null (`&buf[2]`, a call result...). */
export function holderOf(expr: SyntaxNode): Holder | null {
  const e = coreOf(expr);
  switch (e.type) {
    case 'identifier':
      return { name: e.text, array: false, escapes: false, dir: 0, bounded: false };
    case 'field_expression':
      return { name: normalizedText(e), array: false, escapes: true, dir: 0, bounded: false };
    case 'pointer_expression':
      if (e.child('operator')?.text !== '*') return null;
      return { name: normalizedText(e), array: false, escapes: true, dir: 0, bounded: false };
    case 'subscript_expression': {
      const base = strip(e.child('argument')!);
      if (base.type !== 'identifier' && base.type !== 'field_expression') return null;
      const index = e.child('index');
      if (!index || isConstantIndex(index)) return { name: normalizedText(e), array: false, escapes: base.type === 'field_expression', dir: 0, bounded: false };
      const { dir, bounded } = loopDirection(e, index);
      return { name: `${normalizedText(base)}[]`, array: true, escapes: base.type === 'field_expression', dir, bounded };
    }
    default:
      return null;
  }
}

/** `NULL`, `0`, `false` -> false; other numbers and `true` -> true; anything else null (unknown). */
export function constantTruth(n: SyntaxNode): boolean | null {
  const e = strip(n);
  if (e.type === 'null' || e.text === 'NULL' || e.text === 'false') return false;
  if (e.text === 'true') return true;
  if (e.type === 'number_literal') return !/^0+[uUlL]*$|^0x0+[uUlL]*$/.test(e.text);
  if (e.type === 'true') return true;
  if (e.type === 'false') return false;
  return null;
}

export interface EventContext {
  api: KmapApi;
  /** Same-file functions that unmap one of their parameters: name -> parameter index, exact helper or not. */
  unmapHelpers: { get(name: string): { index: number; exact: boolean } | undefined };
}

/** Events of one CFG node's syntax (a statement, a declaration, a condition or a for-update), in evaluation order. */
export function extractEvents(ast: SyntaxNode | null, ctx: EventContext): ReplayEvent[] {
  const out: ReplayEvent[] = [];
  if (!ast) return out;

  const use = (expr: SyntaxNode, node: SyntaxNode) => {
    const h = holderOf(expr);
    if (h && !h.array) out.push({ kind: 'use', node, holder: h, line: node.line });
  };

  /** Reads inside an lvalue: `a->f = x` dereferences a, `p[i] = x` reads i and writes through p. */
  const lvalue = (left: SyntaxNode) => {
    const l = strip(left);
    if (l.type === 'identifier') return;
    if (l.type === 'subscript_expression') {
      walk(l.child('index'));
      const base = strip(l.child('argument')!);
      use(base, l);
      if (base.type !== 'identifier') walk(base);
      return;
    }
    if (l.type === 'field_expression') {
      const base = l.child('argument')!;
      if (l.child('operator')?.text === '->') use(base, l);
      if (strip(base).type !== 'identifier') walk(base);
      return;
    }
    if (l.type === 'pointer_expression') {
      const arg = l.child('argument')!;
      use(arg, l);
      if (strip(arg).type !== 'identifier') walk(arg);
      return;
    }
    walk(l);
  };

  const emitMap = (call: SyntaxNode, dest: Holder | 'return' | null) => {
    const m = ctx.api.map(calleeName(call))!;
    const args = callArguments(call);
    for (const a of args) walk(a);
    const pageArg = m.pageArg !== null ? args[m.pageArg] : undefined;
    const page = pageArg && strip(pageArg).type === 'identifier' ? strip(pageArg).text : null;
    out.push({ kind: 'map', call, family: m.family, dest, page, line: call.line });
  };

  const assign = (node: SyntaxNode, left: SyntaxNode, right: SyntaxNode | null) => {
    const target = holderOf(left);
    const core = right ? coreOf(right) : null;
    if (core && core.type === 'call_expression' && ctx.api.map(calleeName(core))) {
      emitMap(core, target);
      lvalue(left);
      return;
    }
    if (right) walk(right);
    lvalue(left);
    if (!target) return;
    let source: Holder | null = null;
    const derived: Holder[] = [];
    if (core) {
      if (core.type === 'assignment_expression') source = holderOf(core.child('left')!);
      else if (core.type === 'identifier' || core.type === 'field_expression' || core.type === 'subscript_expression') source = holderOf(core);
      else if (right) {
        // Any other value computed from an address (a call's result, `(long)vaddr | flags`): maybe a pointer into it.
        right.walk((d) => {
          if (d.type === 'sizeof_expression') return false;
          if (d.type === 'identifier' || d.type === 'field_expression') {
            const h = holderOf(d);
            if (h) derived.push(h);
            return false;
          }
        });
      }
    }
    out.push({ kind: 'assign', node, target, source, derived, value: right ? constantTruth(right) : null, line: node.line });
  };

  function walk(n: SyntaxNode | null): void {
    if (!n) return;
    switch (n.type) {
      case 'comment':
      case 'sizeof_expression':
      case 'alignof_expression':
      case 'offsetof_expression':
      case 'string_literal':
      case 'number_literal':
      case 'char_literal':
        return;
      case 'assignment_expression': {
        const left = n.child('left')!;
        const right = n.child('right');
        const op = n.child('operator')?.text;
        if (op === '=') return assign(n, left, right);
        walk(right);
        lvalue(left);
        const l = strip(left);
        if (l.type === 'identifier' || l.type === 'field_expression') out.push({ kind: 'touch', name: normalizedText(l), line: n.line });
        return;
      }
      case 'init_declarator': {
        let d: SyntaxNode | null = n.child('declarator');
        while (d && d.type !== 'identifier') d = d.child('declarator');
        const value = n.child('value');
        if (!d) return walk(value);
        if (value && value.type === 'initializer_list') {
          walk(value);
          out.push({ kind: 'assign', node: n, target: holderOf(d)!, source: null, derived: [], value: null, line: n.line });
          return;
        }
        return assign(n, d, value);
      }
      case 'declaration': {
        for (const c of n.children) {
          if (c.field !== 'declarator') continue;
          if (c.type === 'init_declarator') walk(c);
          else {
            // `void *kaddr;`: a fresh variable (each loop iteration): whatever it held is gone.
            let d: SyntaxNode | null = c;
            while (d && d.type !== 'identifier') d = d.child('declarator');
            if (d && c.type !== 'function_declarator') out.push({ kind: 'assign', node: n, target: holderOf(d)!, source: null, derived: [], value: null, line: n.line });
          }
        }
        return;
      }
      case 'update_expression': {
        const arg = strip(n.child('argument')!);
        if (arg.type === 'identifier' || arg.type === 'field_expression') out.push({ kind: 'touch', name: normalizedText(arg), line: n.line });
        else walk(arg);
        return;
      }
      case 'call_expression': {
        const name = calleeName(n);
        const args = callArguments(n);
        if (name && ctx.api.map(name)) {
          // Not the right side of an assignment (handled there): a return, an argument, or discarded.
          let cur = n;
          while (cur.parent && (cur.parent.type === 'parenthesized_expression' || cur.parent.type === 'cast_expression' || (cur.parent.type === 'binary_expression' && cur.parent.child('left') === cur && /^[+-]$/.test(cur.parent.child('operator')?.text ?? '')))) cur = cur.parent;
          return emitMap(n, cur.parent?.type === 'return_statement' ? 'return' : null);
        }
        const unmap = ctx.api.unmap(name);
        const local = name ? ctx.unmapHelpers.get(name) : undefined;
        const helperIdx = name ? KNOWN_UNMAP_HELPERS[name] ?? (local?.exact ? local.index : undefined) : undefined;
        if (local && !local.exact) {
          for (const a of args) walk(a);
          const arg = args[local.index];
          const holder = arg ? holderOf(arg) : null;
          if (holder) out.push({ kind: 'consume', call: n, holder, line: n.line });
          return;
        }
        if (unmap || helperIdx !== undefined) {
          const idx = unmap ? 0 : helperIdx!;
          args.forEach((a, i) => {
            if (i !== idx) walk(a);
            else {
              const c = coreOf(a);
              if (c.type === 'subscript_expression') walk(c.child('index'));
              else if (c.type !== 'identifier' && c.type !== 'field_expression') walk(a);
            }
          });
          const arg = args[idx];
          const holder = arg ? holderOf(arg) : null;
          const family = unmap ? unmap.family : 'local';
          out.push({ kind: 'unmap', call: n, family, holder, line: n.line, unresolved: !holder });
          return;
        }
        if (name && NO_USE_CALLS.has(name)) {
          for (const a of args) walkNoUse(a);
          return;
        }
        if (!name) walk(n.child('function'));
        const passed: Holder[] = [];
        for (const a of args) {
          const c = coreOf(a);
          if (c.type === 'identifier' || c.type === 'field_expression') {
            use(a, n);
            const h = holderOf(a);
            if (h) passed.push(h);
            if (c.type === 'field_expression') walk(c); // `hdr->len`: reads through hdr
            // `a + off`: the offset is read too.
            if (strip(a) !== c) walk(strip(a).child('right'));
          } else walk(a);
        }
        if (name && MAYBE_UNMAP_RE.test(name) && passed.length) out.push({ kind: 'maybe-unmap', call: n, holders: passed, line: n.line });
        return;
      }
      case 'pointer_expression': {
        const arg = n.child('argument')!;
        if (n.child('operator')?.text === '&') {
          const a = strip(arg);
          if (a.type === 'identifier') out.push({ kind: 'address-taken', name: a.text, line: n.line });
          else if (a.type === 'subscript_expression') {
            use(a.child('argument')!, n);
            walk(a.child('index'));
          } else if (a.type === 'field_expression') {
            if (a.child('operator')?.text === '->') use(a.child('argument')!, n);
            walkFieldBase(a);
          } else walk(a);
          return;
        }
        use(arg, n);
        if (coreOf(arg).type !== 'identifier') walk(arg);
        else if (strip(arg) !== coreOf(arg)) walk(strip(arg).child('right'));
        return;
      }
      case 'subscript_expression': {
        const base = n.child('argument')!;
        use(base, n);
        if (coreOf(base).type !== 'identifier') walk(base);
        walk(n.child('index'));
        return;
      }
      case 'field_expression': {
        if (n.child('operator')?.text === '->') use(n.child('argument')!, n);
        walkFieldBase(n);
        return;
      }
      case 'return_statement': {
        const value = n.namedChildren[0] ?? null;
        walk(value);
        const core = value ? coreOf(value) : null;
        const mentions = value ? [...new Set([...value.descendants('identifier').map((i) => i.text), ...value.descendants('field_expression').map((f) => normalizedText(f))])] : [];
        out.push({ kind: 'return', node: n, holder: core && !(core.type === 'call_expression') ? holderOf(core) : null, mentions, line: n.line });
        return;
      }
      default:
        for (const c of n.children) if (c.isNamed) walk(c);
    }
  }

  function walkFieldBase(f: SyntaxNode): void {
    const base = strip(f.child('argument')!);
    if (base.type !== 'identifier') walk(base);
  }

  /** Inside sizeof-like calls and checks: nothing is a use, but assignments and calls still count. */
  function walkNoUse(n: SyntaxNode): void {
    const c = coreOf(n);
    if (c.type === 'identifier' || c.type === 'field_expression') return;
    walk(n);
  }

  walk(ast);
  return out;
}
