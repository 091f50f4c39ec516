/**
 * In-line text edits: replace `length` characters at (line, column) with `text`. Conversions are made of
 * these so that they never add or remove a line: a converted file keeps every line number, and what the
 * rules report on it points at the original lines.
 */
import { linesOf } from '../source/lines.js';
import type { SyntaxNode } from '../syntax/ast.js';

export interface TextEdit {
  /** 1-based line. */
  line: number;
  /** 0-based column (UTF-16 code units) in that line. */
  column: number;
  /** Characters replaced (0 for an insertion). */
  length: number;
  text: string;
}

/** Column of a node's start in its line (nodes of a snippet parse carry snippet-relative offsets). */
function columnOf(node: SyntaxNode, offset: number): number {
  return offset - (node.source.lastIndexOf('\n', offset - 1) + 1);
}

/** Replaces a node that sits on one line; null when it spans lines (conversions then refuse). */
export function replaceNode(node: SyntaxNode, text: string): TextEdit | null {
  if (node.line !== node.endLine) return null;
  return { line: node.line, column: columnOf(node, node.start), length: node.end - node.start, text };
}

/** Inserts text right before a node. */
export function insertBefore(node: SyntaxNode, text: string): TextEdit {
  return { line: node.line, column: columnOf(node, node.start), length: 0, text };
}

/**
 * A line break in an edit's text: in memory (the line-preserving image the rules re-check) it is a space,
 * so `kaddr = kmap_local_page(page);\u0001\tpagefault_disable();` stays on one line; in the laid-out
 * output (layout.ts) it is a newline, and what follows it carries its own indentation.
 */
export const BREAK = '\u0001';

/** Applies edits to a file's lines (never changing the line count). Overlapping edits are a programming error. */
export function applyTextEdits(text: string, edits: readonly TextEdit[]): string {
  return applyEditsByLine(text, edits, ' ').join('\n');
}

/**
 * The edited lines, each possibly holding BREAK-separated pieces (`breakAs` replaces BREAK); shared by
 * applyTextEdits (BREAK -> ' ') and the layout (BREAK kept, then split).
 */
export function applyEditsByLine(text: string, edits: readonly TextEdit[], breakAs: string): string[] {
  const lines = linesOf(text).slice();
  if (!edits.length) return lines;
  const byLine = new Map<number, TextEdit[]>();
  for (const e of edits) {
    if (e.text.includes('\n')) throw new Error('a text edit must not add lines');
    byLine.set(e.line, [...(byLine.get(e.line) ?? []), e]);
  }
  for (const [line, list] of byLine) {
    let s = lines[line - 1];
    if (s === undefined) throw new Error(`edit on line ${line} beyond the end of the file`);
    // Right to left, so earlier columns stay valid; at one column a replacement goes before the insertions
    // there (which then land in front of it), and insertions keep their order.
    const sorted = list.map((e, i) => ({ e, i })).sort((a, b) => b.e.column - a.e.column || Math.sign(b.e.length) - Math.sign(a.e.length) || b.i - a.i);
    let limit = Infinity;
    for (const { e } of sorted) {
      if (e.column + e.length > limit) throw new Error(`overlapping edits on line ${line}`);
      s = s.slice(0, e.column) + e.text.split(BREAK).join(breakAs) + s.slice(e.column + e.length);
      limit = e.column;
    }
    lines[line - 1] = s;
  }
  return lines;
}

/** Replaces the whole text of a statement (which may span lines: its first line gets the text, the others are emptied). */
export function replaceStatement(node: SyntaxNode, text: string): TextEdit[] {
  if (node.line === node.endLine) return [replaceNode(node, text)!];
  const src = node.source;
  const out: TextEdit[] = [];
  const firstLineEnd = src.indexOf('\n', node.start);
  out.push({ line: node.line, column: columnOf(node, node.start), length: firstLineEnd - node.start, text });
  let lineStart = firstLineEnd + 1;
  for (let l = node.line + 1; l <= node.endLine; l++) {
    let lineEnd = src.indexOf('\n', lineStart);
    if (lineEnd < 0) lineEnd = src.length;
    const end = l === node.endLine ? node.end : lineEnd;
    out.push({ line: l, column: 0, length: end - lineStart, text: '' });
    lineStart = lineEnd + 1;
  }
  return out;
}

/** Inserts text right after a node (same line as its end). */
export function insertAfter(node: SyntaxNode, text: string): TextEdit {
  return { line: node.endLine, column: columnOf(node, node.end), length: 0, text };
}

/** Leading whitespace of the line a node starts on. */
export function indentOf(node: SyntaxNode): string {
  const lineStart = node.source.lastIndexOf('\n', node.start - 1) + 1;
  return /^[ \t]*/.exec(node.source.slice(lineStart, node.start))![0];
}
