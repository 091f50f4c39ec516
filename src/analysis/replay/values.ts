/**
 * What the replay knows about integers and pointer offsets: enough to tell whether the address given to
 * kunmap_local() can lie outside the page that was mapped (kmap-rules C7b: a cursor advanced through the
 * mapping and then unmapped can be `base + PAGE_SIZE`, the next page).
 *
 * A value is a numeric interval [lo, hi] (±Infinity when unbounded), its exact linear form over unknown
 * symbols when it has one (`off + n`), and linear upper bounds (`n <= PAGE_SIZE - off` after
 * `n = min(len, PAGE_SIZE - off)`). The linear forms are what lets `off + n` come out as "at most
 * PAGE_SIZE, and exactly PAGE_SIZE when the copy reaches the end of the page": intervals alone would lose
 * that `off` cancels out. Only what the function shows is used: an unknown variable is a symbol with no
 * bound, so nothing is concluded from it.
 */
import { memoByText } from '../memo.js';
import { callArguments, calleeName, normalizedText, unwrap, type SyntaxNode } from '../syntax/ast.js';

/** The smallest PAGE_SIZE of any kernel configuration (4 KiB: every HIGHMEM architecture's). */
export const PAGE = 4096;

/**
 * c + sum(coeff * symbol). A symbol is a variable's value on entry (`len`) or a fresh unknown an assignment
 * made (`len@42`: the value `len` got at line 42); see freshSymbols().
 */
export interface Linear {
  c: number;
  t: ReadonlyMap<string, number>;
}

export interface Value {
  lo: number;
  hi: number;
  /** The exact value as a linear form, when known. */
  eq: Linear | null;
  /** Linear upper bounds: the value is at most each of them. */
  ub: readonly Linear[];
}

const NO_TERMS: ReadonlyMap<string, number> = new Map();
const MAX_BOUNDS = 4;

export function constant(k: number): Value {
  const l = { c: k, t: NO_TERMS };
  return { lo: k, hi: k, eq: l, ub: [] };
}

/** An unknown quantity named `sym` within [lo, hi]. */
export function symbol(sym: string, lo = -Infinity, hi = Infinity): Value {
  return { lo, hi, eq: { c: 0, t: new Map([[sym, 1]]) }, ub: [] };
}

export const UNKNOWN: Value = { lo: -Infinity, hi: Infinity, eq: null, ub: [] };

function addLinear(a: Linear, b: Linear, sign = 1): Linear {
  const t = new Map(a.t);
  for (const [k, v] of b.t) {
    const n = (t.get(k) ?? 0) + sign * v;
    if (n === 0) t.delete(k);
    else t.set(k, n);
  }
  return { c: a.c + sign * b.c, t };
}

function scaleLinear(a: Linear, k: number): Linear {
  if (k === 0) return { c: 0, t: NO_TERMS };
  return { c: a.c * k, t: new Map([...a.t].map(([s, v]) => [s, v * k])) };
}

const sum = (x: number, y: number) => (Number.isNaN(x + y) ? Infinity : x + y);

export function add(a: Value, b: Value, sign: 1 | -1 = 1): Value {
  const lo = sign > 0 ? sum(a.lo, b.lo) : sum(a.lo, -b.hi);
  const hi = sign > 0 ? sum(a.hi, b.hi) : sum(a.hi, -b.lo);
  const eq = a.eq && b.eq ? addLinear(a.eq, b.eq, sign) : null;
  const ub: Linear[] = [];
  // An upper bound of a + b: an upper bound (or the exact form) of each; of a - b: of a, minus b exactly.
  const aUp = [...a.ub, ...(a.eq ? [a.eq] : [])];
  const bUp = sign > 0 ? [...b.ub, ...(b.eq ? [b.eq] : [])] : b.eq ? [b.eq] : [];
  for (const x of aUp) for (const y of bUp) if (ub.length < MAX_BOUNDS && !(x === a.eq && y === b.eq)) ub.push(addLinear(x, y, sign));
  return { lo, hi, eq, ub };
}

/** `a` elements of an unknown size (a struct pointer moved by `a`): at least `a` bytes when a >= 0. */
export function scaleUnknownSize(a: Value): Value {
  if (a.lo >= 0) return { lo: a.lo, hi: a.hi === 0 ? 0 : Infinity, eq: null, ub: [] };
  if (a.hi <= 0) return { lo: a.lo === 0 ? 0 : -Infinity, hi: a.hi, eq: null, ub: [] };
  return UNKNOWN;
}

export function scale(a: Value, k: number): Value {
  if (k === 1) return a;
  const lo = k >= 0 ? a.lo * k : a.hi * k;
  const hi = k >= 0 ? a.hi * k : a.lo * k;
  return { lo: Number.isNaN(lo) ? -Infinity : lo, hi: Number.isNaN(hi) ? Infinity : hi, eq: a.eq ? scaleLinear(a.eq, k) : null, ub: k > 0 ? a.ub.map((u) => scaleLinear(u, k)) : [] };
}

function min(a: Value, b: Value): Value {
  const ub = [...a.ub, ...(a.eq ? [a.eq] : []), ...b.ub, ...(b.eq ? [b.eq] : [])].slice(0, MAX_BOUNDS);
  return { lo: Math.min(a.lo, b.lo), hi: Math.min(a.hi, b.hi), eq: null, ub };
}

function max(a: Value, b: Value): Value {
  return { lo: Math.max(a.lo, b.lo), hi: Math.max(a.hi, b.hi), eq: null, ub: [] };
}

export function join(a: Value, b: Value): Value {
  return { lo: Math.min(a.lo, b.lo), hi: Math.max(a.hi, b.hi), eq: null, ub: [] };
}

/** A bound's constant value when it has no unknown terms. */
function constantOf(l: Linear): number | null {
  return l.t.size ? null : l.c;
}

/**
 * Whether an offset from the start of a mapped page leaves the page on some path the function shows:
 * 'after' when it is at least PAGE_SIZE for sure, or when an upper bound the code computed itself is
 * exactly PAGE_SIZE or more (a cursor advanced by "at most the rest of the page" is PAGE_SIZE when the data
 * reaches the page end); 'before' when it is negative for sure; null when the function does not decide.
 */
export function outsidePage(v: Value): 'after' | 'before' | null {
  if (v.lo >= PAGE) return 'after';
  if (v.hi < 0) return 'before';
  if (v.hi < PAGE) return null;
  const exact = v.eq ? constantOf(v.eq) : null;
  if (exact !== null) return exact >= PAGE ? 'after' : exact < 0 ? 'before' : null;
  const constBounds = v.ub.map(constantOf).filter((c): c is number => c !== null);
  if (constBounds.length && Math.min(...constBounds) >= PAGE) return 'after';
  return null;
}

/**
 * Names for the fresh symbols of one state, in order of first appearance: two states that differ only in
 * which assignment made an unknown (`start@12` on one path, `start@15` on the other, nothing else naming
 * either) say the same about every value, so they get one key and the replay walks on once. What names a
 * symbol on entry (`len`) is the same unknown on every path and keeps its name.
 */
export function freshSymbols(): (s: string) => string {
  const names = new Map<string, string>();
  return (s) => {
    if (!s.includes('@')) return s;
    let c = names.get(s);
    if (c === undefined) names.set(s, (c = `@${names.size}`));
    return c;
  };
}

export function valueKey(v: Value, sym: (s: string) => string = (s) => s): string {
  const lin = (l: Linear) => `${l.c}${[...l.t].map(([s, k]) => `${k >= 0 ? '+' : ''}${k}${sym(s)}`).join('')}`;
  return `${v.lo},${v.hi}${v.eq ? `=${lin(v.eq)}` : ''}${v.ub.map((u) => `<${lin(u)}`).join('')}`;
}

/** Sizes of the scalar types pointers are commonly declared with (bytes; 64-bit `long`). */
const SCALAR_SIZES: Record<string, number> = {
  char: 1, 'unsigned char': 1, 'signed char': 1, u8: 1, s8: 1, __u8: 1, uint8_t: 1, int8_t: 1, void: 1, bool: 1,
  short: 2, 'unsigned short': 2, u16: 2, s16: 2, __u16: 2, __le16: 2, __be16: 2, uint16_t: 2,
  int: 4, 'unsigned int': 4, unsigned: 4, u32: 4, s32: 4, __u32: 4, __le32: 4, __be32: 4, uint32_t: 4, int32_t: 4, __wsum: 4,
  long: 8, 'unsigned long': 8, u64: 8, s64: 8, __u64: 8, __le64: 8, __be64: 8, uint64_t: 8, 'long long': 8, 'unsigned long long': 8, pte_t: 8, pgd_t: 8, pmd_t: 8,
};

/** Size of a scalar type name (qualifiers dropped), or null. */
export function scalarSize(type: string): number | null {
  const t = type.replace(/\b(?:const|volatile|__iomem|__user|__force|static|register)\b/g, '').replace(/\s+/g, ' ').trim();
  return Object.hasOwn(SCALAR_SIZES, t) ? SCALAR_SIZES[t] : null;
}

/** Element size of a declared pointer type ("u32 *" -> 4), or null when unknown (structs, arrays). */
export function elementSize(pointerType: string | undefined): number | null {
  return pointerType ? elementSizeOf(pointerType) : null;
}
// Asked on every path for the same few declared types: kept by type text.
const elementSizeOf = memoByText(4096, (pointerType): number | null => {
  const m = /^(.*?)\s*\*$/.exec(pointerType.trim());
  return m ? scalarSize(m[1]) : null;
});

function intLiteral(text: string): number | null {
  const t = text.replace(/[uUlL]+$/, '');
  if (/^0[xX][0-9a-fA-F]+$/.test(t)) return parseInt(t, 16);
  if (/^0[0-7]*$/.test(t)) return parseInt(t || '0', 8);
  if (/^[1-9][0-9]*$/.test(t)) return parseInt(t, 10);
  return null;
}

export interface ValueEnv {
  /** The current value of a variable, or undefined when the function gave it none we track. */
  get(name: string): Value | undefined;
  /** The declared type of a variable or parameter, when visible. */
  type(name: string): string | undefined;
}

const IN_PAGE: Value = { lo: 0, hi: PAGE - 1, eq: null, ub: [constant(PAGE - 1).eq!] };

/** An offset somewhere in the page, nothing more known of it. */
export function inPage(): Value {
  return { ...IN_PAGE };
}

function inPageSymbol(n: SyntaxNode): Value {
  return { ...IN_PAGE, eq: { c: 0, t: new Map([[`oip(${normalizedText(n)})`, 1]]) } };
}

function isPageMaskComplement(n: SyntaxNode): boolean {
  const e = unwrap(n);
  if (e.type === 'unary_expression' && e.child('operator')?.text === '~') return unwrap(e.child('argument')!).text === 'PAGE_MASK';
  const t = normalizedText(e).replace(/[()]/g, '');
  return t === 'PAGE_SIZE - 1' || t === 'PAGE_SIZE-1';
}

/** The value of `x op= rhs` given x's value: the binary operator applied (x's value as a fresh symbol `x`). */
export function evalCompound(op: string, rhs: SyntaxNode, env: ValueEnv): Value | null {
  const r = unwrap(rhs);
  const k = evalInt(r, env);
  const kc = k.eq && constantOf(k.eq);
  switch (op) {
    case '&=':
      if (isPageMaskComplement(r)) return inPage();
      return kc !== null && kc !== undefined && kc >= 0 ? { lo: 0, hi: kc, eq: null, ub: [] } : null;
    case '%=':
      if (r.text === 'PAGE_SIZE') return inPage();
      return null;
    default:
      return null;
  }
}

/** Calls whose value evalInt computes from their arguments (offset_in_page(), the min() and max() families). */
const EVALUATED_CALL = /^(?:offset_in_page|u?min|min_t|min3|u?max|max_t|max3)$/;

/** True when evalInt computes `call`'s value from its arguments; any other call's value is unknown. */
export function isEvaluatedCall(call: SyntaxNode): boolean {
  return EVALUATED_CALL.test(calleeName(call) ?? '');
}

/** The value of an integer expression, from constants, PAGE_SIZE, masks, min()/max() and the env. */
export function evalInt(expr: SyntaxNode | null, env: ValueEnv): Value {
  if (!expr) return UNKNOWN;
  const e = unwrap(expr);
  switch (e.type) {
    case 'number_literal': {
      const k = intLiteral(e.text);
      return k === null ? UNKNOWN : constant(k);
    }
    case 'char_literal':
      return UNKNOWN;
    case 'identifier': {
      if (e.text === 'PAGE_SIZE') return constant(PAGE);
      const v = env.get(e.text);
      if (v) return v;
      const t = env.type(e.text);
      const unsigned = !!t && /\b(?:unsigned|size_t|u8|u16|u32|u64|__u\d+|uint\w*)\b/.test(t);
      return symbol(e.text, unsigned ? 0 : -Infinity);
    }
    case 'sizeof_expression': {
      const ty = e.child('type');
      const size = ty ? scalarSize(ty.text) : null;
      return size === null ? symbol(`sizeof(${normalizedText(e)})`, 1) : constant(size);
    }
    case 'conditional_expression':
      return join(evalInt(e.child('consequence'), env), evalInt(e.child('alternative'), env));
    case 'binary_expression': {
      const op = e.child('operator')?.text;
      const l = e.child('left')!;
      const r = e.child('right')!;
      if (op === '+' || op === '-') return add(evalInt(l, env), evalInt(r, env), op === '+' ? 1 : -1);
      if (op === '&' && (isPageMaskComplement(r) || isPageMaskComplement(l))) return inPageSymbol(isPageMaskComplement(r) ? l : r);
      if (op === '%' && unwrap(r).text === 'PAGE_SIZE') return inPageSymbol(l);
      const a = evalInt(l, env);
      const b = evalInt(r, env);
      const k = b.eq && constantOf(b.eq);
      const ka = a.eq && constantOf(a.eq);
      if (op === '*' && k !== null && k !== undefined) return scale(a, k);
      if (op === '*' && ka !== null && ka !== undefined) return scale(b, ka);
      if (op === '/' && k && a.lo >= 0) return { lo: Math.floor(a.lo / k), hi: Math.floor(a.hi / k), eq: ka !== null && ka !== undefined ? constant(Math.floor(ka / k)).eq : null, ub: [] };
      if (op === '<<' && k !== null && k !== undefined && k >= 0 && k < 31) return scale(a, 2 ** k);
      if (op === '&' && k !== null && k !== undefined && k >= 0) return { lo: 0, hi: k, eq: null, ub: [] };
      return UNKNOWN;
    }
    case 'call_expression': {
      if (!isEvaluatedCall(e)) return UNKNOWN;
      const name = calleeName(e);
      const args = callArguments(e);
      if (name === 'offset_in_page' && args[0]) return inPageSymbol(args[0]);
      // min(a, b), min_t(type, a, b), umin(), ... and the max family, over the last two arguments.
      if (name && /^(?:min|umin|min_t|min3)$/.test(name) && args.length >= 2) {
        const vals = (name === 'min_t' ? args.slice(1) : args).map((a) => evalInt(a, env));
        return vals.reduce(min);
      }
      if (name && /^(?:max|umax|max_t|max3)$/.test(name) && args.length >= 2) {
        const vals = (name === 'max_t' ? args.slice(1) : args).map((a) => evalInt(a, env));
        return vals.reduce(max);
      }
      return UNKNOWN;
    }
    default:
      return UNKNOWN;
  }
}
