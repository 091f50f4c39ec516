/**
 * The converted version of a function whose conversion only renames calls (kmap_atomic ->
 * kmap_local_page, kunmap_atomic -> kunmap_local), without parsing it again: renaming one identifier
 * to another cannot change a C parse, so the original syntax tree is copied with its offsets shifted.
 * A whole-tree scan converts hundreds of functions; this halves the parsing it does.
 */
import { toCFunction, type CFunction } from '../source/functions.js';
import { SyntaxNode } from '../syntax/ast.js';
import type { TextEdit } from './text-edits.js';

const IDENTIFIER = /^[A-Za-z_]\w*$/;

/** The function with `edits` applied, or null when an edit is not an identifier rename (then: parse). */
export function renamedFunction(fn: CFunction, edits: readonly TextEdit[]): CFunction | null {
  if (fn.hasErrors || fn.fragment) return null;
  let root = fn.node;
  while (root.parent) root = root.parent;
  const source = root.source;
  const lineStart = (line: number): number => {
    // Lines are absolute; the tree's source starts at root.line.
    let off = 0;
    for (let l = root.line; l < line; l++) {
      off = source.indexOf('\n', off) + 1;
      if (off === 0) return -1;
    }
    return off;
  };
  const spans: Array<{ start: number; end: number; text: string }> = [];
  for (const e of edits) {
    if (e.line < fn.line || e.line > fn.endLine || !IDENTIFIER.test(e.text)) return null;
    const ls = lineStart(e.line);
    if (ls < 0) return null;
    const start = ls + e.column;
    const old = source.slice(start, start + e.length);
    if (!IDENTIFIER.test(old)) return null;
    spans.push({ start, end: start + e.length, text: e.text });
  }
  spans.sort((a, b) => a.start - b.start);
  for (let i = 1; i < spans.length; i++) if (spans[i].start < spans[i - 1].end) return null;
  let text = '';
  let at = 0;
  for (const s of spans) {
    text += source.slice(at, s.start) + s.text;
    at = s.end;
  }
  text += source.slice(at);
  const shift = (o: number): number => {
    let d = 0;
    for (const s of spans) {
      if (s.end > o) break;
      d += s.text.length - (s.end - s.start);
    }
    return o + d;
  };
  // Every renamed span must be exactly an identifier node; otherwise the copy would be wrong.
  let exact = 0;
  const copyOne = (n: SyntaxNode, parent: SyntaxNode | null): SyntaxNode => {
    if (n.type === 'identifier' && spans.some((s) => s.start === n.start && s.end === n.end)) exact++;
    const c = new SyntaxNode(text, n.type, n.field, shift(n.start), shift(n.end), n.line, n.endLine, n.isNamed, n.isMissing, parent);
    c.iteratorMacro = n.iteratorMacro;
    return c;
  };
  // Without recursion (as the parser's copy): the depth is the input's, judged later (rules/runner.ts).
  const def = copyOne(fn.node, null);
  const work: Array<[SyntaxNode, SyntaxNode]> = [[fn.node, def]];
  while (work.length) {
    const [from, to] = work.pop()!;
    if (!from.children.length) continue;
    const kids = from.children.map((child) => copyOne(child, to));
    to.children = kids;
    for (let i = 0; i < kids.length; i++) work.push([from.children[i], kids[i]]);
  }
  if (exact !== spans.length) return null;
  const out = toCFunction(def);
  return out && { ...out, name: fn.name };
}
