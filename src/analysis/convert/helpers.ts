/**
 * Open-coded map + memcpy()/memset() + unmap that a highmem.h helper expresses: the detection shared by
 * the use-helper rule (which reports it) and the converter (which substitutes the helper).
 */
import type { KmapApi, MapFamily } from '../kmap-api.js';
import { declaredTypes, findMapSites, storesMappedAddressUnchanged, type MapSite } from '../mappings.js';
import type { CFunction } from '../source/functions.js';
import { callArguments, calleeName, declaredIdentifier, hasSideEffects, normalizedText, unwrap, type SyntaxNode } from '../syntax/ast.js';

/** Pointer types whose `+ n` advances n bytes, so `v + off` is offset `off` into the page. */
const BYTE_POINTER = /^(?:const )?(?:void|char|signed char|unsigned char|u8|__u8|uint8_t)\s*\*$/;

/** Maps whose open-coded copy the helpers (which use kmap_local_page()/kmap_local_folio()) can replace. */
const FAMILIES: ReadonlySet<MapFamily> = new Set<MapFamily>(['local', 'atomic', 'kmap']);

export interface Mapped {
  site: MapSite;
  stmt: SyntaxNode;
  v: string;
  page: SyntaxNode;
}

/** Text of an expression as one line (for the helper call): whitespace runs collapsed. */
function flat(n: SyntaxNode): string {
  return n.text.replace(/\s+/g, ' ').trim();
}

function stripParens(n: SyntaxNode): SyntaxNode {
  let cur = n;
  while (cur.type === 'parenthesized_expression' && cur.namedChildren.length === 1) cur = cur.namedChildren[0];
  return cur;
}

function castType(cast: SyntaxNode): string {
  return (cast.child('type')?.text ?? '').replace(/\s+/g, ' ').replace(/\s*\*/g, ' *').trim();
}

/** `v = map(P);` or `T *v = map(P);` (one declarator) with a page/folio and no offset; else null. */
function mapStatement(stmt: SyntaxNode, api: KmapApi): Mapped | null {
  const sites = findMapSites(stmt, api);
  if (sites.length !== 1) return null;
  const site = sites[0];
  if (!FAMILIES.has(site.api.family) || !site.page || site.statement !== stmt) return null;
  if (site.destination.kind !== 'variable' || site.destination.node.type !== 'identifier' || !storesMappedAddressUnchanged(site)) return null;
  if (site.api.family !== 'local' && site.api.folio) return null;
  if (stmt.type === 'expression_statement') {
    const e = stmt.namedChildren[0];
    if (!e || e.type !== 'assignment_expression' || e.child('operator')?.text !== '=') return null;
  } else if (stmt.type === 'declaration') {
    if (stmt.childrenOf('declarator').length !== 1) return null;
  } else return null;
  return { site, stmt, v: site.destination.name, page: site.page };
}

/** `unmap(v);` of the map's family (for kmap(): `kunmap(P);`). */
function isUnmapOf(stmt: SyntaxNode | undefined, m: Mapped, api: KmapApi): boolean {
  const call = stmt?.type === 'expression_statement' ? stmt.namedChildren[0] : null;
  const u = call ? api.unmap(calleeName(call)) : undefined;
  if (!call || !u || u.family !== m.site.api.family) return false;
  const arg = callArguments(call)[0];
  if (!arg) return false;
  const a = unwrap(arg);
  return u.takesPage ? normalizedText(a) === normalizedText(unwrap(m.page)) : a.type === 'identifier' && a.text === m.v;
}

/** `name(args);` as a statement: the call, else null. */
function callStatement(stmt: SyntaxNode | undefined, names: string[]): SyntaxNode | null {
  const call = stmt?.type === 'expression_statement' ? stmt.namedChildren[0] : null;
  return call && names.includes(calleeName(call) ?? '') ? call : null;
}

function isFlushOf(stmt: SyntaxNode | undefined, m: Mapped): boolean {
  const call = callStatement(stmt, [m.site.api.folio ? 'flush_dcache_folio' : 'flush_dcache_page']);
  const arg = call ? callArguments(call)[0] : null;
  return !!arg && normalizedText(unwrap(arg)) === normalizedText(unwrap(m.page));
}

function mentions(n: SyntaxNode, v: string): number {
  return n.descendants((d) => d.type === 'identifier' && d.text === v).length;
}

/**
 * The byte offset an address expression is at inside the mapping held by `v`: `v` -> "0", `v + off`,
 * `(char *)v + off`, `&v[off]` (byte-sized element types only), else null.
 */
function offsetIn(expr: SyntaxNode, v: string, types: ReadonlyMap<string, string>): string | null {
  const e = stripParens(expr);
  const isV = (n: SyntaxNode) => n.type === 'identifier' && n.text === v;
  const vIsBytes = BYTE_POINTER.test(types.get(v) ?? '');
  if (isV(e)) return '0';
  if (e.type === 'cast_expression' && isV(unwrap(e))) return '0';
  if (e.type === 'binary_expression' && e.child('operator')?.text === '+') {
    const left = stripParens(e.child('left')!);
    const right = e.child('right')!;
    if (mentions(right, v)) return null;
    if (isV(left)) return vIsBytes ? flat(right) : null;
    if (left.type === 'cast_expression' && isV(stripParens(left.child('value')!))) return BYTE_POINTER.test(castType(left)) ? flat(right) : null;
    if (left.type === 'binary_expression') {
      const inner = offsetIn(left, v, types);
      return inner === null ? null : inner === '0' ? flat(right) : `${inner} + ${flat(right)}`;
    }
    return null;
  }
  if (e.type === 'pointer_expression' && e.child('operator')?.text === '&') {
    const s = stripParens(e.child('argument')!);
    if (s.type === 'subscript_expression' && isV(stripParens(s.child('argument')!)) && vIsBytes && !mentions(s.child('index')!, v)) return flat(s.child('index')!);
  }
  return null;
}

/** True when an expression is known to be a byte or void pointer (what the helpers' `char *` parameters take). */
function bytePointer(expr: SyntaxNode, types: ReadonlyMap<string, string>): boolean {
  const e = stripParens(expr);
  if (e.type === 'cast_expression') return BYTE_POINTER.test(castType(e));
  if (e.type === 'identifier') return BYTE_POINTER.test(types.get(e.text) ?? '');
  if (e.type === 'binary_expression' && ['+', '-'].includes(e.child('operator')?.text ?? '')) return bytePointer(e.child('left')!, types);
  if (e.type === 'string_literal') return true;
  if (e.type === 'pointer_expression' && e.child('operator')?.text === '&') {
    const s = stripParens(e.child('argument')!);
    const base = s.type === 'subscript_expression' ? stripParens(s.child('argument')!) : null;
    return !!base && base.type === 'identifier' && /^(?:const )?(?:char|signed char|unsigned char|u8|__u8|uint8_t) (?:\*|\[\])$/.test(types.get(base.text) ?? '');
  }
  return false;
}

export interface Match {
  maps: Mapped[];
  /** The statements replaced, in order. */
  stmts: SyntaxNode[];
  helper: string;
  /** Why no exact fix can be given, or null. */
  noFix: string | null;
  note: string;
}

/** The block's statements from index i that form an open-coded helper, or null. */
function matchAt(stmts: readonly SyntaxNode[], i: number, api: KmapApi, types: ReadonlyMap<string, string>): Match | null {
  const m = mapStatement(stmts[i], api);
  if (!m) return null;
  const page = flat(m.page);
  const folioOff = m.site.api.folio ? flat(callArguments(m.site.call)[1] ?? m.site.call) : null;
  const pageArgsPure = (ms: Mapped[]) => ms.every((x) => !hasSideEffects(x.page));

  // Two nested maps and one copy between them: memcpy_page().
  const m2 = stmts[i + 1] ? mapStatement(stmts[i + 1], api) : null;
  if (m2 && !m.site.api.folio && !m2.site.api.folio && m2.site.api.family === m.site.api.family && m2.v !== m.v) {
    const copy = callStatement(stmts[i + 2], ['memcpy']);
    if (!copy || !isUnmapOf(stmts[i + 3], m2, api) || !isUnmapOf(stmts[i + 4], m, api)) return null;
    const [to, from, len] = callArguments(copy);
    if (!len || mentions(len, m.v) || mentions(len, m2.v)) return null;
    let dst = m, src = m2;
    if (mentions(to, m2.v)) [dst, src] = [m2, m];
    const doff = offsetIn(to, dst.v, types);
    const soff = offsetIn(from, src.v, types);
    if (doff === null || soff === null || mentions(to, src.v) || mentions(from, dst.v)) return null;
    const helper = `memcpy_page(${flat(dst.page)}, ${doff}, ${flat(src.page)}, ${soff}, ${flat(len)})`;
    return {
      maps: [m, m2], stmts: stmts.slice(i, i + 5), helper, note: '',
      noFix: !pageArgsPure([m, m2]) || [to, from, len].some((a) => hasSideEffects(a)) ? 'an argument has side effects' : null,
    };
  }

  const copy = callStatement(stmts[i + 1], ['memcpy', 'memset']);
  if (!copy) return null;
  const args = callArguments(copy);
  if (args.length !== 3 || mentions(args[2], m.v)) return null;
  let j = i + 2;
  // memcpy_to_page()/memzero_page() flush before they unmap: an explicit flush there is part of the pattern.
  const flushBefore = isFlushOf(stmts[j], m);
  if (flushBefore) j++;
  if (!isUnmapOf(stmts[j], m, api)) return null;
  const flushAfter = !flushBefore && isFlushOf(stmts[j + 1], m);
  let helper: string;
  let flushes = false;
  let typed = true;
  if (calleeName(copy) === 'memset') {
    const off = offsetIn(args[0], m.v, types);
    if (off === null || m.site.api.folio) return null;
    const zero = /^(?:0|'\\0')$/.test(flat(args[1]));
    if (zero && (flushBefore || flushAfter)) {
      helper = `memzero_page(${page}, ${off}, ${flat(args[2])})`;
      flushes = true;
    } else if (flushBefore) return null;
    else helper = `memset_page(${page}, ${off}, ${flat(args[1])}, ${flat(args[2])})`;
  } else if (mentions(args[1], m.v) && !mentions(args[0], m.v)) {
    const off = offsetIn(args[1], m.v, types);
    if (off === null || flushBefore || (folioOff !== null && off !== '0')) return null;
    typed = bytePointer(args[0], types);
    helper = folioOff !== null ? `memcpy_from_folio(${flat(args[0])}, ${page}, ${folioOff}, ${flat(args[2])})` : `memcpy_from_page(${flat(args[0])}, ${page}, ${off}, ${flat(args[2])})`;
  } else if (mentions(args[0], m.v) && !mentions(args[1], m.v)) {
    const off = offsetIn(args[0], m.v, types);
    if (off === null || (folioOff !== null && off !== '0')) return null;
    typed = bytePointer(args[1], types);
    helper = folioOff !== null ? `memcpy_to_folio(${page}, ${folioOff}, ${flat(args[1])}, ${flat(args[2])})` : `memcpy_to_page(${page}, ${off}, ${flat(args[1])}, ${flat(args[2])})`;
    flushes = true;
  } else return null;

  const flushName = m.site.api.folio ? 'flush_dcache_folio' : 'flush_dcache_page';
  const helperName = helper.slice(0, helper.indexOf('('));
  let note = '';
  if (flushes && !flushBefore && !flushAfter) note = `; note that ${helperName}() also calls ${flushName}(${page})`;
  else if (flushAfter && flushes) note = `, and the ${flushName}() after it is then redundant`;
  const end = flushAfter && flushes ? j + 2 : j + 1;
  let noFix: string | null = null;
  if (!pageArgsPure([m]) || args.some((a) => hasSideEffects(a))) noFix = 'an argument has side effects';
  else if (!typed) noFix = `the buffer is not a char or void pointer, which ${helperName}() takes`;
  return { maps: [m], stmts: stmts.slice(i, end), helper, noFix, note };
}

/** The lines a statement occupies alone (nothing else on its first and last line), or null. */
function ownLines(first: SyntaxNode, last: SyntaxNode): { start: number; end: number; indent: string } | null {
  const src = first.source;
  const lineStart = src.lastIndexOf('\n', first.start - 1) + 1;
  const before = src.slice(lineStart, first.start);
  let lineEnd = src.indexOf('\n', last.end);
  if (lineEnd < 0) lineEnd = src.length;
  if (!/^[ \t]*$/.test(before) || !/^[ \t]*\r?$/.test(src.slice(last.end, lineEnd))) return null;
  return { start: first.line, end: last.endLine, indent: before };
}

/**
 * Where `v` is declared for a use at `at`: the declaration statement and the block it is in, or null
 * (a parameter, a global, or not found).
 */
function declarationOf(v: string, at: SyntaxNode): { decl: SyntaxNode; block: SyntaxNode } | null {
  for (let block = at.ancestor((a) => a.type === 'compound_statement'); block; block = block.ancestor((a) => a.type === 'compound_statement')) {
    for (const d of block.namedChildren) {
      if (d.type !== 'declaration' || d.start > at.start) continue;
      const names = d.childrenOf('declarator').map((x) => declaredIdentifier(x)?.text);
      if (names.includes(v)) return { decl: d, block };
    }
  }
  return null;
}


/** A helper opportunity with what its exact fix needs: the lines to delete and the span to replace. */
export interface HelperMatch extends Match {
  /** Declarations of the address variables to delete (whole lines). */
  deletions: Array<{ start: number; end: number; decl: SyntaxNode }>;
  /** The lines the matched statements occupy, or null when other code shares them. */
  span: { start: number; end: number; indent: string } | null;
  helperName: string;
}

/** Every open-coded helper in a function (the address variable used nowhere else in its scope). */
export function findHelperMatches(fn: CFunction, api: KmapApi): HelperMatch[] {
  if (!findMapSites(fn.body, api).length) return [];
  const types = declaredTypes(fn.node);
  const out: HelperMatch[] = [];
  for (const block of fn.body.descendants('compound_statement')) {
    const stmts = block.namedChildren;
    for (let i = 0; i < stmts.length; i++) {
      const match = matchAt(stmts, i, api, types);
      if (!match) continue;
      const full = completeMatch(fn, match);
      if (full) {
        out.push(full);
        i += match.stmts.length - 1;
      }
    }
  }
  return out;
}

function completeMatch(fn: CFunction, match: Match): HelperMatch | null {
  const first = match.stmts[0];
  const last = match.stmts[match.stmts.length - 1];
  let noFix = match.noFix;
  const deletions: HelperMatch['deletions'] = [];
  for (const m of match.maps) {
    // Every use of the variable in its scope must be one of the matched statements (and its declaration).
    const own = m.stmt.type === 'declaration' ? { decl: m.stmt, block: m.stmt.parent! } : declarationOf(m.v, m.stmt);
    const scope = own ? own.block : fn.node;
    const uses = scope.descendants((d) => d.type === 'identifier' && d.text === m.v && (!own || d.start >= own.decl.start));
    if (uses.some((u) => !match.stmts.some((s) => s.contains(u)) && !(own && own.decl.contains(u)))) return null;
    if (m.stmt.type === 'declaration') continue;
    if (!own) {
      noFix ??= `'${m.v}' is not declared in the function`;
      continue;
    }
    const declarators = own.decl.childrenOf('declarator');
    const lines = ownLines(own.decl, own.decl);
    if (declarators.length !== 1 || declarators[0].type === 'init_declarator' || !lines) {
      noFix ??= `its declaration of '${m.v}' declares more, keep or edit it by hand`;
      continue;
    }
    deletions.push({ start: lines.start, end: lines.end, decl: own.decl });
  }
  const span = ownLines(first, last);
  if (!span) noFix ??= 'other code shares the lines';
  // A comment between the statements would be deleted with them.
  if (first.parent!.children.some((c) => c.type === 'comment' && c.start > first.start && c.end < last.end)) noFix ??= 'a comment sits between the statements';
  return { ...match, noFix, deletions, span, helperName: match.helper.slice(0, match.helper.indexOf('(')) };
}
