/**
 * Mapping and unmapping sites of a function, with the variable that holds each mapped address.
 * Shared by every rule: "which variable holds kmap_local_page(p)?" is answered here and only here.
 */
import { addressBase, callArguments, calleeName, declaredIdentifier, normalizedText, SyntaxNode, unwrap } from './syntax/ast.js';
import type { KmapApi, MapFunction, UnmapFunction } from './kmap-api.js';

/** Where a mapped address goes right after the call. */
export type MapDestination =
  | { kind: 'variable'; name: string; node: SyntaxNode } // vaddr = ..., char *vaddr = ..., ptrs[i] = ...
  | { kind: 'field'; name: string; node: SyntaxNode } // obj->vaddr = ... (outlives the statement's scope)
  | { kind: 'return' }
  | { kind: 'argument'; call: SyntaxNode } // foo(kmap_local_page(p))
  | { kind: 'other' };

export interface MapSite {
  readonly call: SyntaxNode;
  readonly api: MapFunction;
  /** The page/folio expression mapped, when the API takes one. */
  readonly page: SyntaxNode | null;
  readonly destination: MapDestination;
  /** The expression statement or declaration holding the call. */
  readonly statement: SyntaxNode;
}

export interface UnmapSite {
  readonly call: SyntaxNode;
  readonly api: UnmapFunction;
  readonly arg: SyntaxNode | null;
  /** The variable (or element/field text) the argument is rooted in: `vaddr + off` -> vaddr. */
  readonly argBase: string | null;
  readonly statement: SyntaxNode;
}

const STATEMENT_TYPES = new Set([
  'expression_statement', 'declaration', 'return_statement', 'if_statement', 'while_statement',
  'for_statement', 'do_statement', 'switch_statement',
]);

export function enclosingStatement(n: SyntaxNode): SyntaxNode {
  return STATEMENT_TYPES.has(n.type) ? n : n.ancestor((a) => STATEMENT_TYPES.has(a.type)) ?? n;
}

/** Walks up through casts, parentheses and `+ offset` to what the mapped address is given to. */
function destinationOf(call: SyntaxNode): MapDestination {
  let cur = call;
  for (;;) {
    const p = cur.parent;
    if (!p) return { kind: 'other' };
    if (p.type === 'parenthesized_expression' || p.type === 'cast_expression') cur = p;
    else if (p.type === 'binary_expression' && (p.child('operator')?.text === '+' || p.child('operator')?.text === '-') && p.child('left') === cur) cur = p;
    else if (p.type === 'assignment_expression' && p.child('right') === cur && p.child('operator')?.text === '=') {
      const left = p.child('left')!;
      const l = unwrap(left);
      if (l.type === 'field_expression' || (l.type === 'pointer_expression')) return { kind: 'field', name: normalizedText(l), node: l };
      const name = addressBase(l);
      return name ? { kind: 'variable', name, node: l } : { kind: 'other' };
    } else if (p.type === 'init_declarator' && p.child('value') === cur) {
      const d = declaredIdentifier(p.child('declarator'));
      return d ? { kind: 'variable', name: d.text, node: d } : { kind: 'other' };
    } else if (p.type === 'return_statement') return { kind: 'return' };
    else if (p.type === 'argument_list') return { kind: 'argument', call: p.parent! };
    else return { kind: 'other' };
  }
}

/**
 * The map and unmap sites of a subtree, by node and API vocabulary: every rule and the replay ask them of the
 * same function bodies (a dozen walks of each body per review otherwise). Sites are never changed.
 */
type SiteMemo<T> = WeakMap<SyntaxNode, WeakMap<KmapApi, readonly T[]>>;
const mapSiteMemo: SiteMemo<MapSite> = new WeakMap();
const unmapSiteMemo: SiteMemo<UnmapSite> = new WeakMap();

function sitesOf<T>(memo: SiteMemo<T>, root: SyntaxNode, api: KmapApi, find: (root: SyntaxNode, api: KmapApi) => T[]): readonly T[] {
  let byApi = memo.get(root);
  if (!byApi) memo.set(root, (byApi = new WeakMap()));
  let sites = byApi.get(api);
  if (!sites) byApi.set(api, (sites = find(root, api)));
  return sites;
}

export function findMapSites(root: SyntaxNode, api: KmapApi): readonly MapSite[] {
  return sitesOf(mapSiteMemo, root, api, mapSitesIn);
}

function mapSitesIn(root: SyntaxNode, api: KmapApi): MapSite[] {
  const out: MapSite[] = [];
  for (const call of root.descendants('call_expression')) {
    const m = api.map(calleeName(call));
    if (!m) continue;
    const args = callArguments(call);
    out.push({
      call,
      api: m,
      page: m.pageArg !== null ? args[m.pageArg] ?? null : null,
      destination: destinationOf(call),
      statement: enclosingStatement(call),
    });
  }
  return out;
}

export function findUnmapSites(root: SyntaxNode, api: KmapApi): readonly UnmapSite[] {
  return sitesOf(unmapSiteMemo, root, api, unmapSitesIn);
}

function unmapSitesIn(root: SyntaxNode, api: KmapApi): UnmapSite[] {
  const out: UnmapSite[] = [];
  for (const call of root.descendants('call_expression')) {
    const u = api.unmap(calleeName(call));
    if (!u) continue;
    const arg = callArguments(call)[u.addressArg] ?? null;
    out.push({ call, api: u, arg, argBase: arg ? addressBase(arg) : null, statement: enclosingStatement(call) });
  }
  return out;
}

/** The variable a map site's address lands in, or null. */
export function mappedVariable(site: MapSite): string | null {
  return site.destination.kind === 'variable' || site.destination.kind === 'field' ? site.destination.name : null;
}

/**
 * Declared types of parameters and locals: identifier -> type text with pointer stars, e.g.
 * "struct page *". Used to decide by type, not by name (`unsigned long *page = kmap_local_folio(...)`
 * is an address, whatever its name says).
 */
export function declaredTypes(fn: SyntaxNode): Map<string, string> {
  const types = new Map<string, string>();
  const visit = (decl: SyntaxNode) => {
    const base = decl.child('type')?.text ?? '';
    for (const d of decl.childrenOf('declarator')) {
      let stars = '';
      let cur: SyntaxNode | null = d;
      while (cur && cur.type !== 'identifier') {
        if (cur.type === 'pointer_declarator') stars += '*';
        if (cur.type === 'array_declarator') stars += '[]';
        cur = cur.child('declarator');
      }
      if (cur) types.set(cur.text, `${base} ${stars}`.trim());
    }
  };
  fn.walk((n) => {
    if (n.type === 'parameter_declaration' || n.type === 'declaration') visit(n);
  });
  return types;
}

/** True when a declared type is a struct page or struct folio pointer (not an address). */
export function isPageType(type: string | undefined): boolean {
  return !!type && /^(?:const)?struct(?:page|folio)\*$/.test(type.replace(/\s+/g, ''));
}

/** True when the address a map site stores is the call's result itself (casts allowed), not `call + off`. */
export function storesMappedAddressUnchanged(site: MapSite): boolean {
  let cur = site.call;
  while (cur.parent && (cur.parent.type === 'parenthesized_expression' || cur.parent.type === 'cast_expression')) cur = cur.parent;
  const p = cur.parent;
  return !!p && ((p.type === 'assignment_expression' && p.child('right') === cur) || (p.type === 'init_declarator' && p.child('value') === cur));
}

/**
 * True when an expression is a `struct page *`/`struct folio *` by its declared type: a variable or
 * parameter of that type, or an element of an array of them (`pages[i]` with `struct page **pages`).
 */
export function isPageExpression(expr: SyntaxNode, types: ReadonlyMap<string, string>): boolean {
  const e = unwrap(expr);
  if (e.type === 'identifier') return isPageType(types.get(e.text));
  if (e.type === 'subscript_expression') {
    const base = unwrap(e.child('argument')!);
    if (base.type !== 'identifier') return false;
    const t = types.get(base.text)?.replace(/\s+/g, '');
    return !!t && /^(?:const)?struct(?:page|folio)(?:\*\*|\*\[\])$/.test(t);
  }
  return false;
}

/** Parameter names of a function definition, in order ('' for an unnamed one). */
export function parameterNames(fn: { node: SyntaxNode }): string[] {
  let d: SyntaxNode | null = fn.node.child('declarator');
  while (d && d.type !== 'function_declarator') d = d.child('declarator');
  const params = d?.child('parameters');
  if (!params) return [];
  return params.namedChildren.map((p) => declaredIdentifier(p.child('declarator'))?.text ?? '');
}

/** Names declared `static` inside a function body (they outlive the call, like globals). */
export function staticLocals(fn: SyntaxNode): Set<string> {
  const out = new Set<string>();
  for (const d of fn.descendants('declaration')) {
    if (!d.children.some((c) => c.type === 'storage_class_specifier' && c.text === 'static')) continue;
    for (const c of d.childrenOf('declarator')) {
      const x = declaredIdentifier(c);
      if (x) out.add(x.text);
    }
  }
  return out;
}

/**
 * Names that hold a map's address in `body`, besides its destination: the outer targets of a chained
 * assignment (`save = addr = kmap_atomic(p)`, `start = p = kmap_atomic(page)`) and plain copies of a
 * holder (`page_addr = from;`, `char *end = start;`), to a fixed point. Flow-insensitive: it answers "may
 * this unmap release that map?" for pairing, and the conversion it leads to is re-analysed by the replay,
 * which follows the copies along each path.
 */
export function addressAliases(site: MapSite, body: SyntaxNode): Set<string> {
  const names = new Set<string>();
  const dest = site.destination;
  if (dest.kind === 'variable') names.add(dest.name);
  else return names;
  // Chained: walk out of `x = (y = kmap_atomic(p))`.
  let cur: SyntaxNode = dest.node.parent!;
  while (cur.parent && (cur.parent.type === 'parenthesized_expression' || cur.parent.type === 'cast_expression' || (cur.parent.type === 'assignment_expression' && cur.parent.child('right') === cur))) {
    const p = cur.parent;
    if (p.type === 'assignment_expression' && p.child('operator')?.text === '=') {
      const l = unwrap(p.child('left')!);
      if (l.type === 'identifier') names.add(l.text);
    }
    cur = p;
  }
  if (cur.parent?.type === 'init_declarator' && cur.parent.child('value') === cur) {
    const d = declaredIdentifier(cur.parent.child('declarator'));
    if (d) names.add(d.text);
  }
  // Copies: `alias = holder` (through casts and parentheses).
  const copies: Array<{ to: string; from: string }> = [];
  for (const a of body.descendants('assignment_expression')) {
    const l = unwrap(a.child('left')!);
    const r = a.child('right');
    if (a.child('operator')?.text === '=' && l.type === 'identifier' && r && unwrap(r).type === 'identifier') copies.push({ to: l.text, from: unwrap(r).text });
  }
  for (const d of body.descendants('init_declarator')) {
    const v = d.child('value');
    const n = declaredIdentifier(d.child('declarator'));
    if (n && v && unwrap(v).type === 'identifier') copies.push({ to: n.text, from: unwrap(v).text });
  }
  for (let changed = true; changed; ) {
    changed = false;
    for (const c of copies) {
      if (names.has(c.from) && !names.has(c.to)) {
        names.add(c.to);
        changed = true;
      }
    }
  }
  return names;
}

/**
 * Plain copies of a page expression into a variable (`pg = pages[i];`, `struct page *pg = sg_page(sg);`):
 * the assignment, by variable and by the normalised text of what it copies. `kunmap(pg)` may release
 * `kmap(pages[i])` through one (flow-insensitive: "may this unmap release that map?").
 */
export function pageCopies(body: SyntaxNode): Map<string, Map<string, SyntaxNode>> {
  const out = new Map<string, Map<string, SyntaxNode>>();
  const add = (name: string, value: SyntaxNode, at: SyntaxNode) => {
    const byText = out.get(name) ?? new Map<string, SyntaxNode>();
    const t = normalizedText(unwrap(value));
    if (!byText.has(t)) byText.set(t, at);
    out.set(name, byText);
  };
  for (const a of body.descendants('assignment_expression')) {
    const l = unwrap(a.child('left')!);
    const r = a.child('right');
    if (a.child('operator')?.text === '=' && l.type === 'identifier' && r) add(l.text, r, a);
  }
  for (const d of body.descendants('init_declarator')) {
    const v = d.child('value');
    const n = declaredIdentifier(d.child('declarator'));
    if (n && v) add(n.text, v, d);
  }
  return out;
}
