/**
 * The ordered events of one CFG node, read from its syntax tree in evaluation order: maps (with where the
 * address lands), unmaps (with the variable the argument is rooted in), calls that are given addresses
 * (the replay decides what they do with them, from the callee's summary), assignments (aliases made by
 * `b = a + off`, NULL/constant assignments, stores into memory the caller can see), pointer moves
 * (`p += n`), uses of addresses (dereference, indexing, `->`, passing to a call), `&x` (the variable may
 * change behind our back) and code the parser could not read.
 *
 * Events do not depend on the replay state: they are computed once per node. They carry syntax, not
 * judgements: whether a store is visible to the caller, or a call releases what it is given, is the
 * replay's to decide.
 */
import type { KmapApi, MapFamily } from '../kmap-api.js';
import type { LineRange } from '../model.js';
import { callArguments, calleeName, declaredIdentifier, normalizedText, unwrap, type SyntaxNode } from '../syntax/ast.js';

/** Where an address is held. Array elements with a variable index are one "group" holder `ptrs[]`. */
export interface Holder {
  readonly name: string;
  /** `ptrs[i]` with a non-constant index: the holder is the array, named `ptrs[]`. */
  readonly array: boolean;
  /** The variable the lvalue is rooted in (`s` for `s->buf[i]`), or null. */
  readonly root: string | null;
  /** The lvalue goes through a pointer (`->`, `*p`): the memory may be the caller's. */
  readonly deref: boolean;
  /** For array holders: +1 when the enclosing loop walks the index up, -1 down, 0 unknown. */
  readonly dir: number;
  /** For array holders: the enclosing loop is bounded by a small constant (<= 15). */
  readonly bounded: boolean;
}

/** `expr + off` / `expr - off` under casts: the offset part, its sign, and the pointer type of the cast, if any. */
export interface Offset {
  expr: SyntaxNode;
  sign: 1 | -1;
}

export type ReplayEvent =
  | { kind: 'map'; call: SyntaxNode; family: MapFamily; dest: Holder | 'return' | null; page: string | null; offsets: Offset[]; castType: string | null; line: number }
  | { kind: 'unmap'; call: SyntaxNode; family: MapFamily; takesPage: boolean; holder: Holder | null; arg: SyntaxNode | null; offsets: Offset[]; line: number }
  /** A call (not a map or unmap) given at least one address-like argument: `index` -> the holder it is rooted in. */
  | { kind: 'call'; call: SyntaxNode; name: string | null; args: Array<{ index: number; holder: Holder; offsets: Offset[] }>; line: number }
  /**
   * `target = source + offsets`; `derived`: holders the value is computed from otherwise (a call's
   * arguments, `(long)vaddr | flags`); `fromCall`: the call the value is the result of.
   */
  | { kind: 'assign'; node: SyntaxNode; target: Holder; source: Holder | null; offsets: Offset[]; derived: Holder[]; value: boolean | null; rhs: SyntaxNode | null; fromCall: SyntaxNode | null; line: number }
  /** `p += n`, `p -= n`, `p++` (`delta` null for one element); `other`: any other compound assignment (`op`, e.g. `&=`, with `delta` its right side). */
  | { kind: 'touch'; node: SyntaxNode; name: string; delta: SyntaxNode | null; sign: 1 | -1; other: boolean; op: string; line: number }
  | { kind: 'use'; node: SyntaxNode; holder: Holder; line: number }
  | { kind: 'address-taken'; name: string; line: number }
  | { kind: 'return'; node: SyntaxNode; value: SyntaxNode | null; line: number }
  /** Code the parser could not read (an ERROR node): every name in it may have changed. */
  | { kind: 'opaque'; node: SyntaxNode; names: string[]; line: number }
  /**
   * Lines of the function the patch does not show (a sparse function's stretch between two hunks, see
   * source/sparse.ts): code that may do anything, the replay decides what that means.
   */
  | { kind: 'unseen'; node: SyntaxNode; range: LineRange; line: number };

const NO_USE_CALLS = new Set(['sizeof', 'likely', 'unlikely', 'WARN_ON', 'WARN_ON_ONCE', 'BUG_ON', 'IS_ERR', 'IS_ERR_OR_NULL', 'PTR_ERR', 'ERR_CAST', 'ERR_PTR', 'offset_in_page', 'virt_to_page', 'kmap_to_page', 'PTR_ALIGN', 'PTR_ALIGN_DOWN']);

/** Strips parentheses and casts (the one implementation lives in syntax/ast.ts). */
export const strip = unwrap;

/** The address expression under casts, parentheses and `+/- offset`: `(char *)kmap_local_page(p) + off` -> the call. */
export function coreOf(n: SyntaxNode): SyntaxNode {
  return coreWithOffsets(n).core;
}

/** The core of an address expression and the offsets added to it on the way (outermost last). */
export function coreWithOffsets(n: SyntaxNode): { core: SyntaxNode; offsets: Offset[]; castType: string | null } {
  const offsets: Offset[] = [];
  let castType: string | null = null;
  let cur = n;
  for (;;) {
    if (cur.type === 'parenthesized_expression' && cur.namedChildren.length === 1) cur = cur.namedChildren[0];
    else if (cur.type === 'cast_expression' && cur.child('value')) {
      castType ??= cur.child('type')?.text.replace(/\s+/g, ' ') ?? null;
      cur = cur.child('value')!;
    } else if (cur.type === 'binary_expression' && /^[+-]$/.test(cur.child('operator')?.text ?? '')) {
      offsets.push({ expr: cur.child('right')!, sign: cur.child('operator')!.text === '+' ? 1 : -1 });
      cur = cur.child('left')!;
    } else return { core: cur, offsets: offsets.reverse(), castType };
  }
}

function isConstantIndex(n: SyntaxNode): boolean {
  const s = strip(n);
  return s.type === 'number_literal' || (s.type === 'identifier' && /^[A-Z][A-Z0-9_]*$/.test(s.text));
}

const LOOP_TYPES = new Set(['for_statement', 'while_statement', 'do_statement']);

/**
 * The most mappings one task can hold at once: `kmap_local_idx_push()` (mm/highmem.c) BUGs when the
 * index reaches KM_MAX_IDX = 16, so at most 15 are live.
 */
export const MAX_LIVE_LOCAL_MAPS = 15;

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
    if (m && dir > 0) bounded = Number(m[2]) - (m[1] === '<' ? 1 : 0) < MAX_LIVE_LOCAL_MAPS;
    return { dir: dir * sign, bounded };
  }
  return { dir: 0, bounded: false };
}

/** The root variable of an lvalue and whether the path to it goes through a pointer. */
function rootOf(e: SyntaxNode): { root: string | null; deref: boolean } {
  let cur: SyntaxNode | null = e;
  let deref = false;
  while (cur) {
    cur = strip(cur);
    if (cur.type === 'identifier') return { root: cur.text, deref };
    if (cur.type === 'field_expression') {
      if (cur.child('operator')?.text === '->') deref = true;
      cur = cur.child('argument');
    } else if (cur.type === 'subscript_expression') cur = cur.child('argument');
    else if (cur.type === 'pointer_expression' && cur.child('operator')?.text === '*') {
      deref = true;
      cur = cur.child('argument');
    } else if (cur.type === 'update_expression') cur = cur.child('argument');
    else return { root: null, deref: true };
  }
  return { root: null, deref: true };
}

/** The holder an lvalue or address expression names, or null (`&buf[2]`, a call result...). */
export function holderOf(expr: SyntaxNode): Holder | null {
  const e = coreOf(expr);
  switch (e.type) {
    case 'identifier':
      return { name: e.text, array: false, root: e.text, deref: false, dir: 0, bounded: false };
    case 'field_expression': {
      // `blocks[level].addr`: a field of an array element with a variable index is one group holder, `blocks[].addr`.
      const sub = e.descendants('subscript_expression').find((x) => x.child('index') && !isConstantIndex(x.child('index')!));
      if (sub) {
        const { dir, bounded } = loopDirection(e, sub.child('index')!);
        const name = normalizedText(e).replace(normalizedText(sub), `${normalizedText(sub.child('argument')!)}[]`);
        return { name, array: true, ...rootOf(e), dir, bounded };
      }
      return { name: normalizedText(e), array: false, ...rootOf(e), dir: 0, bounded: false };
    }
    case 'pointer_expression': {
      if (e.child('operator')?.text !== '*') return null;
      // `*p++ = x` stores through p (and moves it): the holder is the memory p points to.
      const arg = strip(e.child('argument')!);
      const target = arg.type === 'update_expression' ? strip(arg.child('argument')!) : arg;
      return { name: `*${normalizedText(target)}`, array: false, root: rootOf(target).root, deref: true, dir: 0, bounded: false };
    }
    case 'subscript_expression': {
      const base = strip(e.child('argument')!);
      if (base.type !== 'identifier' && base.type !== 'field_expression') return null;
      const r = rootOf(base);
      const index = e.child('index');
      if (!index || isConstantIndex(index)) return { name: normalizedText(e), array: false, ...r, dir: 0, bounded: false };
      const { dir, bounded } = loopDirection(e, index);
      return { name: `${normalizedText(base)}[]`, array: true, ...r, dir, bounded };
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

/**
 * The holders whose values an expression computes with (`(long)vaddr | flags`, `f(ctx, kaddr)`): what its
 * value may be a pointer into. What it reads through an address (`*cpu`, `cpu[i]`, `cpu->len`) is memory, not
 * the address: the lvalue read is the holder, as for `p->f`. Not inside `sizeof`.
 */
export function holdersReadIn(expr: SyntaxNode): Holder[] {
  const out: Holder[] = [];
  expr.walk((d) => {
    if (d.type === 'sizeof_expression') return false;
    const lvalue = d.type === 'identifier' || d.type === 'field_expression' || d.type === 'subscript_expression' || (d.type === 'pointer_expression' && d.child('operator')?.text === '*');
    if (!lvalue) return;
    const h = holderOf(d);
    if (h) out.push(h);
    return false;
  });
  return out;
}

/**
 * Events of one CFG node's syntax (a statement, a declaration, a condition or a for-update), in evaluation order.
 * `parsedWhole`: the function this node is in has no syntax error at all (CFunction.hasErrors), so no statement
 * of it needs looking for one.
 */
export function extractEvents(ast: SyntaxNode | null, api: KmapApi, parsedWhole = false): ReplayEvent[] {
  const out: ReplayEvent[] = [];
  if (!ast) return out;
  // A statement the parser could not read whole: nothing it seems to do is trusted, every name in it may have changed.
  if (!parsedWhole && ast.hasError()) {
    const names = [...new Set([...ast.descendants('identifier').map((i) => i.text), ...ast.descendants('field_expression').map((f) => normalizedText(f))])];
    out.push({ kind: 'opaque', node: ast, names, line: ast.line });
    return out;
  }

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
      const arg = strip(l.child('argument')!);
      if (arg.type === 'update_expression') {
        use(arg.child('argument')!, l);
        walk(arg);
        return;
      }
      use(arg, l);
      if (arg.type !== 'identifier') walk(arg);
      return;
    }
    walk(l);
  };

  const emitMap = (call: SyntaxNode, dest: Holder | 'return' | null, wrapper: SyntaxNode) => {
    const m = api.map(calleeName(call))!;
    const args = callArguments(call);
    for (const a of args) walk(a);
    const pageArg = m.pageArg !== null ? args[m.pageArg] : undefined;
    const { offsets, castType } = coreWithOffsets(wrapper);
    out.push({ kind: 'map', call, family: m.family, dest, page: pageArg ? normalizedText(strip(pageArg)) : null, offsets, castType, line: call.line });
    for (const o of offsets) walk(o.expr);
  };

  const assign = (node: SyntaxNode, left: SyntaxNode, right: SyntaxNode | null) => {
    const target = holderOf(left);
    const parts = right ? coreWithOffsets(right) : null;
    const core = parts?.core ?? null;
    if (core && core.type === 'call_expression' && api.map(calleeName(core))) {
      emitMap(core, target, right!);
      lvalue(left);
      return;
    }
    if (right) walk(right);
    lvalue(left);
    if (!target) return;
    let source: Holder | null = null;
    const derived: Holder[] = [];
    let offsets: Offset[] = [];
    let fromCall: SyntaxNode | null = null;
    if (core) {
      if (core.type === 'assignment_expression') source = holderOf(core.child('left')!);
      else if (core.type === 'identifier' || core.type === 'field_expression' || core.type === 'subscript_expression') {
        source = holderOf(core);
        offsets = parts!.offsets;
      } else if (core.type === 'conditional_expression') {
        // `p = cond ? a : b`: maybe either.
        for (const arm of [core.child('consequence'), core.child('alternative')]) {
          const h = arm ? holderOf(arm) : null;
          if (h) derived.push(h);
        }
      } else {
        if (core.type === 'call_expression') fromCall = core;
        // Any other value computed from an address (a call's result, `(long)vaddr | flags`): maybe a pointer into it.
        derived.push(...holdersReadIn(right!));
      }
    }
    out.push({ kind: 'assign', node, target, source, offsets, derived, value: right ? constantTruth(right) : null, rhs: right, fromCall, line: node.line });
  };

  function walk(n: SyntaxNode | null): void {
    if (!n) return;
    if (n.type === 'ERROR' || n.isMissing) {
      const names = [...new Set([...n.descendants('identifier').map((i) => i.text), ...n.descendants('field_expression').map((f) => normalizedText(f))])];
      out.push({ kind: 'opaque', node: n, names, line: n.line });
      return;
    }
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
        if (l.type === 'identifier' || l.type === 'field_expression') {
          const additive = op === '+=' || op === '-=';
          out.push({ kind: 'touch', node: n, name: normalizedText(l), delta: right, sign: op === '-=' ? -1 : 1, other: !additive, op: op ?? '', line: n.line });
        }
        return;
      }
      case 'init_declarator': {
        const d = declaredIdentifier(n.child('declarator'));
        const value = n.child('value');
        if (!d) return walk(value);
        if (value && value.type === 'initializer_list') {
          walk(value);
          out.push({ kind: 'assign', node: n, target: holderOf(d)!, source: null, offsets: [], derived: [], value: null, rhs: null, fromCall: null, line: n.line });
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
            const d = declaredIdentifier(c);
            if (d && c.type !== 'function_declarator') out.push({ kind: 'assign', node: n, target: holderOf(d)!, source: null, offsets: [], derived: [], value: null, rhs: null, fromCall: null, line: n.line });
          }
        }
        return;
      }
      case 'update_expression': {
        const arg = strip(n.child('argument')!);
        if (arg.type === 'identifier' || arg.type === 'field_expression') {
          out.push({ kind: 'touch', node: n, name: normalizedText(arg), delta: null, sign: n.text.includes('--') ? -1 : 1, other: false, op: n.text.includes('--') ? '--' : '++', line: n.line });
        } else walk(arg);
        return;
      }
      case 'call_expression': {
        const name = calleeName(n);
        const args = callArguments(n);
        if (name && api.map(name)) {
          // Not the right side of an assignment (handled there): a return, an argument, or discarded.
          let cur = n;
          while (cur.parent && (cur.parent.type === 'parenthesized_expression' || cur.parent.type === 'cast_expression' || (cur.parent.type === 'binary_expression' && cur.parent.child('left') === cur && /^[+-]$/.test(cur.parent.child('operator')?.text ?? '')))) cur = cur.parent;
          return emitMap(n, cur.parent?.type === 'return_statement' ? 'return' : null, cur);
        }
        const unmap = api.unmap(name);
        if (unmap) {
          const idx = unmap.addressArg;
          args.forEach((a, i) => {
            if (i !== idx) walk(a);
            else {
              const c = coreOf(a);
              if (c.type === 'subscript_expression') walk(c.child('index'));
              else if (c.type !== 'identifier' && c.type !== 'field_expression') walk(a);
              for (const o of coreWithOffsets(a).offsets) walk(o.expr);
            }
          });
          const arg = args[idx] ?? null;
          const holder = arg && !unmap.takesPage ? holderOf(arg) : null;
          out.push({ kind: 'unmap', call: n, family: unmap.family, takesPage: unmap.takesPage, holder, arg, offsets: arg ? coreWithOffsets(arg).offsets : [], line: n.line });
          return;
        }
        if (name && NO_USE_CALLS.has(name)) {
          for (const a of args) walkNoUse(a);
          return;
        }
        if (!name) walk(n.child('function'));
        const passed: Array<{ index: number; holder: Holder; offsets: Offset[] }> = [];
        args.forEach((a, index) => {
          const { core: c, offsets } = coreWithOffsets(a);
          if (c.type === 'identifier' || c.type === 'field_expression') {
            use(a, n);
            const h = holderOf(a);
            if (h) passed.push({ index, holder: h, offsets });
            if (c.type === 'field_expression') walk(c); // `hdr->len`: reads through hdr
            for (const o of offsets) walk(o.expr); // `a + off`: the offset is read too
          } else walk(a);
        });
        if (passed.length) out.push({ kind: 'call', call: n, name, args: passed, line: n.line });
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
            out.push({ kind: 'address-taken', name: normalizedText(a), line: n.line });
          } else walk(a);
          return;
        }
        use(arg, n);
        const { core, offsets } = coreWithOffsets(arg);
        if (core.type !== 'identifier') walk(arg);
        else for (const o of offsets) walk(o.expr);
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
        out.push({ kind: 'return', node: n, value, line: n.line });
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
