/**
 * The mechanical conversion of one function: which deprecated calls become which kmap_local calls, and
 * what the conversion cannot do by itself (a refusal, with the reason a maintainer needs).
 *
 * Calls are grouped: maps and the unmaps that release them are converted together or not at all (one
 * `vaddr` may be mapped twice and unmapped twice; both maps and both unmaps form one group). The plan
 * only rewrites; whether the rewritten code is correct is decided by re-running the rules on it
 * (see verify.ts), which is where reliance on disabled page faults or preemption is found.
 */
import type { KmapApi } from '../kmap-api.js';
import type { Finding } from '../model.js';
import { addressAliases, declaredTypes, findMapSites, findUnmapSites, pageCopies, type MapSite, type UnmapSite } from '../mappings.js';
import type { CFunction } from '../source/functions.js';
import { addressBase, calleeName, callArguments, findWrite, normalizedText, unwrap, type SyntaxNode } from '../syntax/ast.js';
import { findHelperMatches } from './helpers.js';
import { applyEditsByLine, BREAK, indentOf, insertBefore, replaceNode, replaceStatement, type TextEdit } from './text-edits.js';

export type SiteClass = 'ready' | 'needs-care' | 'blocked';

export interface Refusal {
  class: Exclude<SiteClass, 'ready'>;
  reason: string;
  /** The rule whose finding on the converted code refused it, when one did. */
  rule?: string;
  /** The line that shows why (a finding's line, the escaping store...). */
  line: number;
  /** The refusing finding's steps, `path:line note` (a callee chain among them): the scan's site evidence. */
  evidence?: string[];
}

/** kmap_atomic*() -> kmap_local_*(), kunmap_atomic() -> kunmap_local(): renames that keep the arguments. */
const ATOMIC_RENAMES: Readonly<Record<string, string>> = {
  kmap_atomic: 'kmap_local_page',
  kmap_atomic_prot: 'kmap_local_page_prot',
  kmap_atomic_pfn: 'kmap_local_pfn',
  kunmap_atomic: 'kunmap_local',
};

/** Maps and unmaps converted together. */
export interface ConversionGroup {
  maps: MapSite[];
  unmaps: UnmapSite[];
  /** The edits that convert the whole group (empty when refused). */
  edits: TextEdit[];
  refusal: Refusal | null;
  /** A variable the conversion introduces to hold the address (`kmap(page);` has none). */
  introduces: string | null;
  /** First and last line of the group's calls: findings inside belong to it. */
  firstLine: number;
  lastLine: number;
  /** The helper call that replaces the whole open-coded section (`memcpy_from_page(...)`), if any. */
  helper: string | null;
  /** True when the conversion also puts the group's unmaps in LIFO order. */
  reordered: boolean;
  /**
   * The conversion with explicit pagefault_disable()/pagefault_enable() inside the mapping (kmap_atomic()
   * groups whose map and unmap statements sit directly in blocks), for `fix --add-pagefault-disable`.
   */
  pagefaultEdits: TextEdit[] | null;
  /** True once verify.ts switched the group to pagefaultEdits. */
  addsPagefaultDisable: boolean;
}

export interface PlanOptions {
  /** Replace open-coded map + memcpy()/memset() + unmap with the highmem.h helper (default true). */
  helpers?: boolean;
}

export interface StrayUnmap {
  unmap: UnmapSite;
  refusal: Refusal;
}

export interface FunctionPlan {
  fn: CFunction;
  groups: ConversionGroup[];
  /** Deprecated unmaps of a mapping made in another function (a getter's caller, a callback). */
  strays: StrayUnmap[];
  /**
   * Set by convertFile (verify.ts): the last check of the converted function, whether that code was the
   * original with calls renamed only (same syntax tree), and what the rules found on it.
   */
  verified?: { pureRename: boolean; findings: Finding[] };
}

const isDeprecatedMap = (m: MapSite) => m.api.family === 'atomic' || m.api.family === 'kmap';
const isDeprecatedUnmap = (u: UnmapSite) => u.api.family === 'atomic' || u.api.family === 'kmap';

/** A fresh variable name for an introduced address: `kaddr` unless the function already uses it. */
function freshName(fn: CFunction, taken: Set<string>): string {
  for (const base of ['kaddr', 'vaddr', 'addr', 'kaddr2', 'kaddr3']) {
    if (!taken.has(base) && !new RegExp(`\\b${base}\\b`).test(fn.text)) {
      taken.add(base);
      return base;
    }
  }
  for (let i = 4; ; i++) {
    const n = `kaddr${i}`;
    if (!taken.has(n) && !new RegExp(`\\b${n}\\b`).test(fn.text)) {
      taken.add(n);
      return n;
    }
  }
}

function refuse(cls: Refusal['class'], reason: string, line: number): Refusal {
  return { class: cls, reason, line };
}

/** The copy `name = <page>` through which `kunmap(name)` may release `kmap(<page>)`, if there is one. */
function copyOfPage(copies: ReadonlyMap<string, ReadonlyMap<string, SyntaxNode>>, unmap: UnmapSite, page: SyntaxNode): SyntaxNode | null {
  const arg = unmap.arg && unwrap(unmap.arg);
  if (!arg || arg.type !== 'identifier') return null;
  return copies.get(arg.text)?.get(normalizedText(unwrap(page))) ?? null;
}

/** Which unmaps release which maps: the address variable for kunmap_atomic(), the page for kunmap(). */
function pairs(map: MapSite, unmap: UnmapSite, aliases: ReadonlySet<string>, copies: ReadonlyMap<string, ReadonlyMap<string, SyntaxNode>>): boolean {
  if (map.api.family === 'atomic' && unmap.api.family === 'atomic') {
    const dest = map.destination;
    if (dest.kind === 'field') return unmap.argBase === dest.name;
    return dest.kind === 'variable' && unmap.argBase !== null && aliases.has(unmap.argBase);
  }
  if (map.api.family === 'kmap' && unmap.api.family === 'kmap') return !!map.page && !!unmap.arg && (normalizedText(map.page) === normalizedText(unmap.arg) || !!copyOfPage(copies, unmap, map.page));
  return false;
}

function groupSites(maps: MapSite[], unmaps: UnmapSite[], body: SyntaxNode): Array<{ maps: MapSite[]; unmaps: UnmapSite[] }> {
  const aliases = maps.map((m) => addressAliases(m, body));
  const copies = maps.some((m) => m.api.family === 'kmap') ? pageCopies(body) : new Map<string, Map<string, SyntaxNode>>();
  // Union-find over maps: two maps sharing an unmap are one group.
  const parent = maps.map((_, i) => i);
  const find = (i: number): number => (parent[i] === i ? i : (parent[i] = find(parent[i])));
  const unmapOwners = unmaps.map((u) => maps.flatMap((m, i) => (pairs(m, u, aliases[i], copies) ? [i] : [])));
  for (const owners of unmapOwners) for (const o of owners.slice(1)) parent[find(o)] = find(owners[0]);
  const groups = new Map<number, { maps: MapSite[]; unmaps: UnmapSite[] }>();
  maps.forEach((m, i) => {
    const g = groups.get(find(i)) ?? { maps: [], unmaps: [] };
    g.maps.push(m);
    groups.set(find(i), g);
  });
  unmaps.forEach((u, j) => {
    const owners = unmapOwners[j];
    if (owners.length) groups.get(find(owners[0]))!.unmaps.push(u);
  });
  return [...groups.values()];
}

/** The statement a new declaration can go in front of: one directly inside a `{ }` block. */
function blockStatement(call: SyntaxNode): SyntaxNode | null {
  let cur: SyntaxNode | null = call;
  while (cur && cur.parent && cur.parent.type !== 'compound_statement') {
    // Never hoist out of a loop header or a condition evaluated several times.
    if (cur.field === 'condition' && (cur.parent.type === 'while_statement' || cur.parent.type === 'do_statement' || cur.parent.type === 'for_statement')) return null;
    if (cur.parent.type === 'for_statement' && cur.field !== 'body') return null;
    if (cur.type === 'compound_statement' || cur.type === 'conditional_expression' || (cur.type === 'binary_expression' && /^(?:&&|\|\|)$/.test(cur.child('operator')?.text ?? ''))) return null;
    cur = cur.parent;
  }
  return cur && cur.parent ? cur : null;
}

/** An insertion at the end of the line a node ends on (after any trailing comment). */
function atLineEnd(node: SyntaxNode, text: string): TextEdit {
  const src = node.source;
  const lineStart = src.lastIndexOf('\n', node.end - 1) + 1;
  let lineEnd = src.indexOf('\n', node.end);
  if (lineEnd < 0) lineEnd = src.length;
  if (src[lineEnd - 1] === '\r') lineEnd--;
  return { line: node.endLine, column: lineEnd - lineStart, length: 0, text };
}

/** What follows a node on its last line. */
function restOfLine(node: SyntaxNode): string {
  const src = node.source;
  let lineEnd = src.indexOf('\n', node.end);
  if (lineEnd < 0) lineEnd = src.length;
  return src.slice(node.end, lineEnd);
}

/**
 * The declaration `decl` added to the top of the block holding `stmt`: after the block's leading
 * declarations, or right after its `{` followed by a blank line. Null when code shares the line.
 */
function declareAtTop(stmt: SyntaxNode, decl: string, indent: string): TextEdit | null {
  const block = stmt.parent!;
  let lastDecl: SyntaxNode | null = null;
  for (const c of block.namedChildren) {
    if (c.type === 'comment') continue;
    if (c.type !== 'declaration' || c.start >= stmt.start) break;
    lastDecl = c;
  }
  const anchor = lastDecl ?? block.children[0];
  if (!anchor) return null;
  if (!/^\s*(?:\/\*.*\*\/\s*|\/\/.*)?$/.test(restOfLine(anchor))) return null;
  if (anchor.endLine >= stmt.line) return null;
  return atLineEnd(anchor, `${BREAK}${indent}${decl}${lastDecl ? '' : BREAK}`);
}

/**
 * The group's conversion with pagefault_disable() after each map statement and pagefault_enable() before
 * each unmap statement; null when a statement is not directly in a block (or declarations follow the map).
 */
function pagefaultVariant(g: { maps: MapSite[]; unmaps: UnmapSite[] }, edits: TextEdit[]): TextEdit[] | null {
  const out = [...edits];
  for (const m of g.maps) {
    const st = m.statement;
    if (st.parent?.type !== 'compound_statement' || (st.type !== 'expression_statement' && st.type !== 'declaration')) return null;
    const sibs = st.parent.namedChildren;
    const next = sibs[sibs.indexOf(st) + 1];
    if (st.type === 'declaration' && next && next.type === 'declaration') return null;
    out.push(atLineEnd(st, `${BREAK}${indentOf(st)}pagefault_disable();`));
  }
  for (const u of g.unmaps) {
    const st = u.statement;
    if (st.parent?.type !== 'compound_statement' || st.type !== 'expression_statement' || st.namedChildren[0] !== u.call) return null;
    out.push(insertBefore(st, `pagefault_enable();${BREAK}${indentOf(st)}`));
  }
  return out;
}

function planAtomicGroup(g: { maps: MapSite[]; unmaps: UnmapSite[] }): Pick<ConversionGroup, 'edits' | 'refusal' | 'introduces'> {
  const edits: TextEdit[] = [];
  for (const m of g.maps) {
    const name = calleeName(m.call)!;
    const to = ATOMIC_RENAMES[name];
    if (!to) return { edits: [], refusal: refuse('needs-care', `${name}() is a wrapper: convert it and its kunmap by hand`, m.call.line), introduces: null };
    if (m.destination.kind === 'return') return { edits: [], refusal: refuse('needs-care', `the ${name}() address is returned and unmapped by the callers: convert them together, keeping the unmaps in LIFO order`, m.call.line), introduces: null };
    edits.push(replaceNode(m.call.child('function')!, to)!);
  }
  if (!g.unmaps.length) {
    const m = g.maps[0];
    return { edits: [], refusal: refuse('needs-care', `no kunmap_atomic() of this address in the function: the mapping is released elsewhere; convert both ends together`, m.call.line), introduces: null };
  }
  for (const u of g.unmaps) {
    const name = calleeName(u.call)!;
    const to = ATOMIC_RENAMES[name];
    if (!to) return { edits: [], refusal: refuse('needs-care', `${name}() is a wrapper: convert it by hand`, u.call.line), introduces: null };
    edits.push(replaceNode(u.call.child('function')!, to)!);
  }
  return { edits, refusal: null, introduces: null };
}

/** What the planner says of a kmap() whose kunmap() is not in its function (classify.ts adds where it is). */
export const KMAP_OUTLIVES = 'the mapping outlives the function, and a kmap_local_page() address is valid only in the thread that mapped it, released in LIFO order: a redesign, not a conversion';

function outlivesReason(map: MapSite): string {
  const d = map.destination;
  if (d.kind === 'field') return `the kmap() address is stored in \`${d.name}\` and no kunmap() of this page is in this function: ${KMAP_OUTLIVES}`;
  if (d.kind === 'return') return `the kmap() address is returned and no kunmap() of this page is in this function: ${KMAP_OUTLIVES}`;
  return `no kunmap() of this page is in this function: ${KMAP_OUTLIVES}`;
}

/**
 * Why a page expression may not name the same page at kmap() and at kunmap(): an assignment or `++`
 * in it, or a call that is not a pure page accessor of the API vocabulary (KmapApi.isPurePageAccessor);
 * null when it is made of variables, fields and pure accessors only.
 */
function unstablePage(page: SyntaxNode, api: KmapApi): string | null {
  const text = normalizedText(page);
  for (const d of [page, ...page.descendants((n) => n.type === 'assignment_expression' || n.type === 'update_expression' || n.type === 'call_expression')]) {
    if (d.type === 'assignment_expression' || d.type === 'update_expression') return `the page expression \`${text}\` has a side effect (\`${normalizedText(d)}\`): evaluate it once into a variable first`;
    if (d.type !== 'call_expression') continue;
    const name = calleeName(d);
    if (api.isPurePageAccessor(name)) continue;
    return name
      ? `the page expression \`${text}\` calls ${name}(), which is not known to return the same page at kmap() and at kunmap(): evaluate it once into a variable first`
      : `the page expression \`${text}\` calls through a function pointer: evaluate it once into a variable first`;
  }
  return null;
}

/** The variables a page expression reads (not called functions' names, not field names). */
function variablesOf(page: SyntaxNode): string[] {
  const called = new Set(page.descendants('call_expression').map((c) => c.child('function')));
  return [...new Set([page, ...page.descendants('identifier')].filter((n) => n.type === 'identifier' && !called.has(n)).map((n) => n.text))];
}

/** The innermost loop holding `node` inside `body`. */
function enclosingLoop(node: SyntaxNode, body: SyntaxNode): SyntaxNode | null {
  for (let cur = node.parent; cur && cur !== body; cur = cur.parent) {
    if (cur.type === 'for_statement' || cur.type === 'while_statement' || cur.type === 'do_statement') return cur;
  }
  return null;
}

function planKmapGroup(fn: CFunction, g: { maps: MapSite[]; unmaps: UnmapSite[] }, taken: Set<string>, api: KmapApi): Pick<ConversionGroup, 'edits' | 'refusal' | 'introduces'> {
  const no = (cls: Refusal['class'], reason: string, line: number) => ({ edits: [], refusal: refuse(cls, reason, line), introduces: null });
  const first = g.maps[0];
  if (calleeName(first.call) !== 'kmap' || g.unmaps.some((u) => calleeName(u.call) !== 'kunmap')) return no('needs-care', 'a kmap() wrapper: convert it by hand', first.call.line);
  if (!g.unmaps.length) return no('blocked', outlivesReason(first), first.call.line);
  if (g.maps.length > 1) {
    const pages = [...new Set(g.maps.map((m) => (m.page ? normalizedText(m.page) : '')))];
    if (pages.length === 1) {
      // `kmap(*pp); ... pp++; kmap(*pp)`: one expression, another page each time.
      const [m0, mN] = [g.maps[0], g.maps[g.maps.length - 1]];
      const moved = m0.page ? variablesOf(m0.page).map((v) => findWrite(fn.body, v, m0.call.end, mN.call.start)).find((w) => w) : null;
      if (moved) return no('needs-care', `\`${normalizedText(moved)}\` (line ${moved.line}) between the ${g.maps.length} kmap(${pages[0]}) calls maps another page each time: pair the maps and unmaps by hand`, g.maps[1].call.line);
      return no('needs-care', `the page is kmap()ed ${g.maps.length} times in this function: pair the maps and unmaps by hand`, g.maps[1].call.line);
    }
    // Different page expressions joined by a kunmap() of a copy (`pg = pages[i]; kunmap(pg)`).
    return no('needs-care', `kunmap() calls here may release any of ${g.maps.map((m) => `kmap(${m.page ? normalizedText(m.page) : ''}) (line ${m.call.line})`).join(', ')} (through copies of the page): pair the maps and unmaps by hand`, g.maps[1].call.line);
  }
  const page = first.page;
  if (!page) return no('needs-care', 'kmap() without a page argument', first.call.line);
  const unstable = unstablePage(page, api);
  if (unstable) return no('needs-care', unstable, first.call.line);
  const lastUnmap = g.unmaps.reduce((a, b) => (b.call.end > a.call.end ? b : a));
  // A kmap() in a loop with no kunmap() in it: every pass maps a page, all released after the loop. (With
  // a kunmap() in the loop, one after it is reached by leaving the pass early: `goto out` is fine.)
  const loop = enclosingLoop(first.call, fn.body);
  const outside = loop && !g.unmaps.some((u) => loop.contains(u.call)) ? g.unmaps[0] : null;
  if (loop && outside) return no('needs-care', `kmap() in a loop (line ${loop.line}) with no kunmap() in that loop (its kunmap() is at line ${outside.call.line}): each pass maps a page, and kmap_local_page() mappings must be released in the reverse order: convert by hand`, first.call.line);
  const pageBase = addressBase(page);
  for (const v of pageBase ? [pageBase, ...variablesOf(page).filter((x) => x !== pageBase)] : variablesOf(page)) {
    const pageWrite = findWrite(fn.body, v, first.call.end, lastUnmap.call.start);
    if (pageWrite) return no('needs-care', `\`${v}\` changes between kmap() and kunmap(): the unmap cannot be paired by the page`, pageWrite.line);
  }
  // `pg = pages[i]; kunmap(pg)`: paired through a copy of the page, which the conversion cannot follow.
  const pageText = normalizedText(page);
  const copies = pageCopies(fn.body);
  for (const u of g.unmaps) {
    const copy = u.arg && normalizedText(u.arg) !== pageText ? copyOfPage(copies, u, page) : null;
    if (copy) return no('needs-care', `kunmap(${normalizedText(u.arg!)}) releases this page through the copy \`${normalizedText(copy)}\` (line ${copy.line}): pass the kmap_local_page() address to kunmap_local() by hand`, u.call.line);
  }
  if (g.unmaps.some((u) => u.call.start < first.call.start)) return no('needs-care', 'a kunmap() of this page comes before its kmap() in the function (a loop or a mapping from elsewhere)', first.call.line);

  const dest = first.destination;
  const edits: TextEdit[] = [];
  let addr: string;
  let introduces: string | null = null;
  if (dest.kind === 'field') return no('blocked', `the address is stored in \`${dest.name}\`, which other code (possibly another thread) can reach: a kmap_local_page() address is only valid in this thread`, first.call.line);
  if (dest.kind === 'return') return no('blocked', 'the kmap() address is returned to the caller: the mapping outlives this function', first.call.line);
  if (dest.kind === 'variable') {
    if (!declaredTypes(fn.node).has(dest.name)) return no('blocked', `the address is stored in \`${dest.name}\`, which is not a local variable`, first.call.line);
    const moved = findWrite(fn.body, dest.name, first.call.end, lastUnmap.call.start);
    if (moved) return no('needs-care', `\`${dest.name}\` changes before kunmap(): pass the address kmap_local_page() returned to kunmap_local()`, moved.line);
    addr = dest.name;
    edits.push(replaceNode(first.call.child('function')!, 'kmap_local_page')!);
  } else {
    // `kmap(page);` or `memcpy(kmap(page) + off, ...)`: the address needs a variable for kunmap_local().
    const stmt = blockStatement(first.call);
    if (!stmt) return no('needs-care', 'kmap() inside a loop header or condition: introduce the address variable by hand', first.call.line);
    addr = freshName(fn, taken);
    introduces = addr;
    const call = `kmap_local_page(${page.text})`;
    const indent = indentOf(stmt);
    if (stmt.type === 'declaration') {
      // Among the declarations: the address gets its own declaration, right before.
      const e = replaceNode(first.call, addr);
      if (!e) return no('needs-care', 'the kmap() call spans several lines', first.call.line);
      edits.push(insertBefore(stmt, `void *${addr} = ${call};${BREAK}${indent}`), e);
    } else {
      // Kernel style: the declaration at the top of the block, the mapping a statement of its own.
      const decl = declareAtTop(stmt, `void *${addr};`, indent);
      if (!decl) return no('needs-care', 'no place for the address variable\'s declaration at the top of the block (code shares the line of its `{`)', first.call.line);
      edits.push(decl);
      if (stmt.type === 'expression_statement' && stmt.namedChildren[0] === first.call) {
        const e = replaceNode(stmt, `${addr} = ${call};`);
        if (!e) return no('needs-care', 'the kmap() statement spans several lines', first.call.line);
        edits.push(e);
      } else {
        const e = replaceNode(first.call, addr);
        if (!e) return no('needs-care', 'the kmap() call spans several lines', first.call.line);
        edits.push(insertBefore(stmt, `${addr} = ${call};${BREAK}${indent}`), e);
      }
    }
  }
  for (const u of g.unmaps) {
    const e = replaceNode(u.call, `kunmap_local(${addr})`);
    if (!e) return no('needs-care', 'the kunmap() call spans several lines', u.call.line);
    edits.push(e);
  }
  // page_address(page) inside the mapping now means the direct map, not the kmap_local address (ext2, 2021).
  for (const call of fn.body.descendants('call_expression')) {
    if (calleeName(call) !== 'page_address' || call.start < first.call.end || call.end > lastUnmap.call.start) continue;
    const arg = callArguments(call)[0];
    if (!arg || normalizedText(arg) !== pageText) continue;
    const e = replaceNode(call, addr);
    if (!e) return no('needs-care', 'a page_address() call of the mapped page spans several lines', call.line);
    edits.push(e);
  }
  return { edits, refusal: null, introduces };
}

/** Plans the conversion of every deprecated map and unmap in a function. */
export function planFunction(fn: CFunction, api: KmapApi, options: PlanOptions = {}): FunctionPlan {
  const maps = findMapSites(fn.body, api).filter(isDeprecatedMap);
  const unmaps = findUnmapSites(fn.body, api).filter(isDeprecatedUnmap);
  const taken = new Set<string>();
  let groups: ConversionGroup[] = [];
  for (const g of groupSites(maps, unmaps, fn.body)) {
    const planned = g.maps[0].api.family === 'atomic' ? planAtomicGroup(g) : planKmapGroup(fn, g, taken, api);
    const lines = [...g.maps, ...g.unmaps].map((s) => s.call.line);
    const edits = planned.edits.some((e) => !e) ? [] : planned.edits;
    const refusal = planned.refusal ?? (planned.edits.some((e) => !e) ? refuse('needs-care', 'a call spans several lines', g.maps[0].call.line) : null);
    groups.push({
      ...g,
      edits: refusal ? [] : edits,
      refusal,
      introduces: refusal ? null : planned.introduces,
      firstLine: Math.min(...lines),
      lastLine: Math.max(...lines),
      helper: null,
      reordered: false,
      pagefaultEdits: !refusal && g.maps[0].api.family === 'atomic' ? pagefaultVariant(g, edits) : null,
      addsPagefaultDisable: false,
    });
  }
  groups = reorderUnmaps(groups);
  if (options.helpers !== false) groups = substituteHelpers(fn, api, groups);
  const grouped = new Set(groups.flatMap((g) => g.unmaps));
  const strays: StrayUnmap[] = unmaps
    .filter((u) => !grouped.has(u))
    .map((u) => ({
      unmap: u,
      refusal: refuse(
        'needs-care',
        u.api.family === 'kmap'
          ? 'kunmap() of a page mapped in another function: convert the kmap() and this kunmap() together'
          : 'kunmap_atomic() of an address mapped in another function: convert both ends together, keeping LIFO order',
        u.call.line,
      ),
    }));
  groups.sort((a, b) => a.firstLine - b.firstLine);
  return { fn, groups, strays };
}

function mergeGroups(parts: ConversionGroup[], edits: TextEdit[], extra: Partial<ConversionGroup>): ConversionGroup {
  const introduced = parts.map((p) => p.introduces).filter((x): x is string => !!x);
  return {
    maps: parts.flatMap((p) => p.maps).sort((a, b) => a.call.start - b.call.start),
    unmaps: parts.flatMap((p) => p.unmaps).sort((a, b) => a.call.start - b.call.start),
    edits,
    refusal: null,
    introduces: introduced.length ? introduced.join(', ') : null,
    firstLine: Math.min(...parts.map((p) => p.firstLine)),
    lastLine: Math.max(...parts.map((p) => p.lastLine)),
    helper: null,
    reordered: parts.some((p) => p.reordered),
    pagefaultEdits: null,
    addsPagefaultDisable: false,
    ...extra,
  };
}

/** True when a statement is alone on its line(s). */
function aloneOnLine(st: SyntaxNode): boolean {
  const src = st.source;
  const lineStart = src.lastIndexOf('\n', st.start - 1) + 1;
  return /^[ \t]*$/.test(src.slice(lineStart, st.start)) && /^[ \t]*\r?$/.test(restOfLine(st));
}

/**
 * Non-LIFO unmaps put in order: consecutive unmap statements of one block (nothing between them, so
 * nothing can depend on their order) whose single maps were made in the other order are rewritten to
 * release the most recent mapping first. Their groups become one (converted together or not at all).
 */
function reorderUnmaps(groups: ConversionGroup[]): ConversionGroup[] {
  const owner = new Map<UnmapSite, ConversionGroup>();
  for (const g of groups) if (!g.refusal && g.maps.length === 1) for (const u of g.unmaps) owner.set(u, g);
  if (owner.size < 2) return groups;
  const byStatement = new Map<SyntaxNode, UnmapSite>();
  for (const u of owner.keys()) if (u.statement.type === 'expression_statement' && u.statement.namedChildren[0] === u.call && u.statement.line === u.statement.endLine && aloneOnLine(u.statement)) byStatement.set(u.statement, u);
  const blocks = new Set([...byStatement.keys()].map((st) => st.parent).filter((b): b is SyntaxNode => b?.type === 'compound_statement'));
  let out = groups;
  for (const block of blocks) {
    const stmts = block.namedChildren;
    for (let i = 0; i < stmts.length; ) {
      let j = i;
      while (j < stmts.length && byStatement.has(stmts[j])) j++;
      if (j - i >= 2) {
        const run = stmts.slice(i, j).map((st) => byStatement.get(st)!);
        const gs = run.map((u) => owner.get(u)!);
        const mapStart = (u: UnmapSite) => owner.get(u)!.maps[0].call.start;
        const wanted = [...run].sort((a, b) => mapStart(b) - mapStart(a));
        if (new Set(gs).size === run.length && wanted.some((u, k) => u !== run[k])) {
          const runLines = new Set(run.map((u) => u.statement.line));
          // Each unmap statement's converted text, then placed at the position its order requires.
          const converted = new Map(run.map((u) => {
            const g = owner.get(u)!;
            const own = g.edits.filter((e) => e.line === u.statement.line);
            return [u, applyEditsByLine(u.statement.source.slice(u.statement.source.lastIndexOf('\n', u.statement.start - 1) + 1, u.statement.end), own.map((e) => ({ ...e, line: 1 })), BREAK)[0]] as const;
          }));
          const edits = gs.flatMap((g) => g.edits.filter((e) => !runLines.has(e.line)));
          run.forEach((u, k) => {
            const src = u.statement.source;
            const lineStart = src.lastIndexOf('\n', u.statement.start - 1) + 1;
            edits.push({ line: u.statement.line, column: 0, length: u.statement.end - lineStart, text: converted.get(wanted[k])! });
          });
          const merged = mergeGroups(gs, edits, { reordered: true });
          const mergedSet = new Set(gs);
          out = [...out.filter((g) => !mergedSet.has(g)), merged];
          for (const u of run) owner.set(u, merged);
        }
      }
      i = Math.max(j, i + 1);
    }
  }
  return out;
}

/**
 * Open-coded map + memcpy()/memset() + unmap of deprecated calls, replaced by the helper (the detection
 * is the use-helper rule's). Only when the groups involved are exactly the matched maps and unmaps.
 */
function substituteHelpers(fn: CFunction, api: KmapApi, groups: ConversionGroup[]): ConversionGroup[] {
  let out = groups;
  for (const hm of findHelperMatches(fn, api)) {
    if (hm.noFix || !hm.span) continue;
    if (!hm.maps.every((m) => m.site.api.family === 'atomic' || m.site.api.family === 'kmap')) continue;
    const starts = new Set(hm.maps.map((m) => m.site.call.start));
    const parts = out.filter((g) => g.maps.some((m) => starts.has(m.call.start)));
    if (parts.some((g) => g.refusal || g.reordered) || parts.flatMap((g) => g.maps).length !== hm.maps.length) continue;
    const first = hm.stmts[0];
    const last = hm.stmts[hm.stmts.length - 1];
    const partUnmaps = parts.flatMap((g) => g.unmaps);
    if (partUnmaps.length !== hm.maps.length || partUnmaps.some((u) => u.call.start < first.start || u.call.end > last.end)) continue;
    const edits: TextEdit[] = [...replaceStatement(first, `${hm.helper};`)];
    for (const st of hm.stmts.slice(1)) edits.push(...replaceStatement(st, ''));
    for (const d of hm.deletions) edits.push(...replaceStatement(d.decl, ''));
    const merged = mergeGroups(parts, edits, { helper: hm.helper, introduces: null });
    const partSet = new Set(parts);
    out = [...out.filter((g) => !partSet.has(g)), merged];
  }
  return out;
}
