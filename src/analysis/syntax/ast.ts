/**
 * A compact, plain-object copy of a tree-sitter C syntax tree, with the few queries the rules need.
 * Lines are 1-based; `start`/`end` are offsets into `source` (UTF-16 code units, like JS strings).
 */
/** The children of every leaf: one shared, frozen array (most nodes are leaves; one array each showed in GC). */
const NO_CHILDREN: readonly SyntaxNode[] = Object.freeze([]);

export class SyntaxNode {
  /** Set once, by the tree copy that creates the node (parser.ts, convert/renamed.ts). */
  children: readonly SyntaxNode[] = NO_CHILDREN;
  /** Set on `while` loops that stand for a kernel iterator macro (list_for_each_entry, for_each_sg...). */
  iteratorMacro: string | null = null;
  /** namedChildren, once asked. */
  private named: readonly SyntaxNode[] | null = null;

  constructor(
    readonly source: string,
    readonly type: string,
    readonly field: string | null,
    readonly start: number,
    readonly end: number,
    readonly line: number,
    readonly endLine: number,
    readonly isNamed: boolean,
    readonly isMissing: boolean,
    readonly parent: SyntaxNode | null,
  ) {}

  get text(): string {
    return this.source.slice(this.start, this.end);
  }

  get isError(): boolean {
    return this.type === 'ERROR' || this.isMissing;
  }

  /** Asked of the same nodes by every rule and the replay: computed once per node (callers never change it). */
  get namedChildren(): readonly SyntaxNode[] {
    if (this.named === null) {
      const cs = this.children;
      let all = true;
      for (let i = 0; i < cs.length && all; i++) all = cs[i].isNamed && cs[i].type !== 'comment';
      this.named = all ? cs : cs.filter((c) => c.isNamed && c.type !== 'comment');
    }
    return this.named;
  }

  /** The child in grammar field `name` (e.g. 'function', 'arguments', 'condition', 'body'). */
  child(name: string): SyntaxNode | null {
    // An index loop: the commonest query of all, mostly run unoptimised (cli/v8-flags.ts), where a for-of
    // allocates at every step.
    const cs = this.children;
    for (let i = 0; i < cs.length; i++) if (cs[i].field === name) return cs[i];
    return null;
  }

  childrenOf(name: string): SyntaxNode[] {
    return this.children.filter((c) => c.field === name);
  }

  /** Pre-order walk; return false from `visit` to skip a node's children. */
  walk(visit: (n: SyntaxNode) => boolean | void): void {
    const stack: SyntaxNode[] = [this];
    while (stack.length) {
      const n = stack.pop()!;
      if (visit(n) === false) continue;
      for (let i = n.children.length - 1; i >= 0; i--) stack.push(n.children[i]);
    }
  }

  descendants(type: string | ((n: SyntaxNode) => boolean)): SyntaxNode[] {
    // The commonest query of all (identifiers, calls): a plain loop, no closure per call or per node.
    const out: SyntaxNode[] = [];
    const stack: SyntaxNode[] = [this];
    const byType = typeof type === 'string';
    while (stack.length) {
      const n = stack.pop()!;
      if (byType ? n.type === type : type(n)) out.push(n);
      const cs = n.children;
      for (let i = cs.length - 1; i >= 0; i--) stack.push(cs[i]);
    }
    return out;
  }

  hasError(): boolean {
    let found = false;
    this.walk((n) => {
      if (found) return false;
      if (n.isError) found = true;
    });
    return found;
  }

  /** Nearest ancestor (not this node) passing the test. */
  ancestor(test: (n: SyntaxNode) => boolean): SyntaxNode | null {
    for (let p = this.parent; p; p = p.parent) if (test(p)) return p;
    return null;
  }

  contains(other: SyntaxNode): boolean {
    return other.start >= this.start && other.end <= this.end && other.source === this.source;
  }
}

/**
 * A name followed by `(` in source text: a call, lexically (macros, `sizeof` and keywords too: callers that
 * care filter them). For text prefilters that must not parse; global, for matchAll.
 */
export const CALLED_NAME = /\b([A-Za-z_]\w*)\s*\(/g;

/** Whitespace-collapsed text: what fingerprints and text comparisons use. */
export function normalizedText(n: SyntaxNode | string): string {
  if (typeof n === 'string') return normalize(n);
  // Asked again and again of the same nodes (the replay compares conditions on every path): kept per node.
  let t = normalizedTexts.get(n);
  if (t === undefined) normalizedTexts.set(n, (t = normalize(n.text)));
  return t;
}

const normalizedTexts = new WeakMap<SyntaxNode, string>();
const normalize = (text: string) => text.replace(/\s+/g, ' ').replace(/ ?([(),;[\]]) ?/g, '$1').trim();

/** The identifier a declarator declares, through `*p`, `p[4]`, `(*p)` and `p = init`; null when there is none. */
export function declaredIdentifier(declarator: SyntaxNode | null): SyntaxNode | null {
  let d = declarator;
  while (d && d.type !== 'identifier') d = d.child('declarator');
  return d;
}

/** Strips parentheses and casts: `((char *)kmap_local_page(p))` -> the call. */
export function unwrap(n: SyntaxNode): SyntaxNode {
  let cur = n;
  for (;;) {
    if (cur.type === 'parenthesized_expression' && cur.namedChildren.length === 1) cur = cur.namedChildren[0];
    else if (cur.type === 'cast_expression' && cur.child('value')) cur = cur.child('value')!;
    else return cur;
  }
}

/** A call's callee name when it is a plain identifier (`kunmap_local(x)` -> "kunmap_local"), else null. */
export function calleeName(call: SyntaxNode): string | null {
  if (call.type !== 'call_expression') return null;
  const f = call.child('function');
  return f && f.type === 'identifier' ? f.text : null;
}

export function callArguments(call: SyntaxNode): readonly SyntaxNode[] {
  const args = call.child('arguments');
  return args ? args.namedChildren : [];
}

/** Every call in `root` (root included), in source order. */
export function callsIn(root: SyntaxNode): SyntaxNode[] {
  return root.descendants('call_expression');
}

/** The identifiers an expression reads, e.g. `s->buf[i] + off` -> s, i, off. Field names are not identifiers. */
export function identifiersIn(root: SyntaxNode): SyntaxNode[] {
  return root.descendants('identifier');
}

/**
 * The variable an lvalue or address expression is rooted in: `vaddr` -> vaddr, `vaddr + off` -> vaddr,
 * `(char *)vaddr` -> vaddr, `ptrs[i]` -> ptrs[i] (the element, by text), `&buf[2]` -> null.
 */
export function addressBase(expr: SyntaxNode): string | null {
  const e = unwrap(expr);
  switch (e.type) {
    case 'identifier':
      return e.text;
    case 'subscript_expression':
    case 'field_expression':
      return normalizedText(e);
    case 'binary_expression': {
      const op = e.child('operator')?.text;
      if (op === '+' || op === '-') return addressBase(e.child('left')!);
      return null;
    }
    default:
      return null;
  }
}

/** True when evaluating `n` may change state: it holds an assignment, `++`/`--` or a call (calls are assumed impure). */
export function hasSideEffects(n: SyntaxNode): boolean {
  return n.descendants((d) => d.type === 'assignment_expression' || d.type === 'update_expression' || d.type === 'call_expression').length > 0;
}

/**
 * The first place in `root`, between source offsets `from` and `to`, that may change the lvalue `name`
 * (compared by normalizedText: "vaddr", "ptrs[i]"): an assignment to it, `++`/`--`, or taking its address.
 */
export function findWrite(root: SyntaxNode, name: string, from = 0, to = Number.MAX_SAFE_INTEGER): SyntaxNode | null {
  let found: SyntaxNode | null = null;
  root.walk((n) => {
    if (found || n.end <= from || n.start >= to) return false;
    let target: SyntaxNode | null = null;
    if (n.type === 'assignment_expression') target = n.child('left');
    else if (n.type === 'update_expression') target = n.child('argument');
    else if (n.type === 'pointer_expression' && n.child('operator')?.text === '&') target = n.child('argument');
    if (target && n.start >= from && normalizedText(unwrap(target)) === name) found = n;
  });
  return found;
}

/**
 * True when `a` and `b` can never both run in one pass through their closest common statement: they sit
 * in different arms of one if/else or of one `?:` (switch cases are not: they may fall through).
 */
export function inExclusiveBranches(a: SyntaxNode, b: SyntaxNode): boolean {
  let lca: SyntaxNode | null = a;
  while (lca && !lca.contains(b)) lca = lca.parent;
  if (!lca) return false;
  const branchOf = (n: SyntaxNode): SyntaxNode | null => {
    let cur = n;
    while (cur.parent && cur.parent !== lca) cur = cur.parent;
    return cur.parent === lca ? cur : null;
  };
  const [ba, bb] = [branchOf(a), branchOf(b)];
  if (!ba || !bb || ba === bb) return false;
  if (lca.type !== 'if_statement' && lca.type !== 'conditional_expression') return false;
  const arms = ['consequence', 'alternative'];
  return arms.includes(ba.field ?? '') && arms.includes(bb.field ?? '');
}

/**
 * The whole source line of `node` with the node's text replaced by `replacement`, for whole-line fixes;
 * null when the node spans several lines.
 */
export function lineWithReplacement(node: SyntaxNode, replacement: string): string | null {
  if (node.line !== node.endLine) return null;
  const lineStart = node.source.lastIndexOf('\n', node.start - 1) + 1;
  let lineEnd = node.source.indexOf('\n', node.end);
  if (lineEnd < 0) lineEnd = node.source.length;
  return node.source.slice(lineStart, node.start) + replacement + node.source.slice(node.end, lineEnd);
}
