/**
 * Kernel-style output of a conversion. The conversion itself is made of line-preserving edits (so the
 * rules re-check it at the original line numbers); here they become the file a maintainer would accept:
 *  - a BREAK in an edit starts a new line (the piece after it carries its own indentation), so
 *    `kaddr = kmap_local_page(page);` and a hoisted `void *kaddr;` get lines of their own;
 *  - a line the edits emptied (the statements a helper replaced, a deleted declaration) is removed, with
 *    the blank line it leaves behind when that makes two in a row or one right after `{`/before `}`;
 *  - a rewritten line that now exceeds the file's line width (80 columns, or 100 when the file already
 *    uses longer lines) is wrapped after a comma, continuing under the open parenthesis (tabs, then spaces);
 *  - no other line is touched.
 */
import { applyEditsByLine, BREAK, type TextEdit } from './text-edits.js';

const TAB = 8;

/** Display width of a line (tabs to the next multiple of 8). */
export function displayWidth(s: string): number {
  let w = 0;
  for (const ch of s) w = ch === '\t' ? (Math.floor(w / TAB) + 1) * TAB : w + 1;
  return w;
}

/** The file's line-width convention: 100 when more than 1% of its lines are over 80 columns, else 80. */
export function lineWidthOf(text: string): number {
  const lines = text.split('\n');
  const over = lines.filter((l) => displayWidth(l.replace(/\r$/, '')) > 80).length;
  return over > Math.max(1, lines.length / 100) ? 100 : 80;
}

/** Whitespace that brings a continuation line to display column `col`: tabs, then spaces. */
function indentTo(col: number): string {
  return '\t'.repeat(Math.floor(col / TAB)) + ' '.repeat(col % TAB);
}

/**
 * Wraps a line longer than `width` after a comma inside parentheses, continuing under the innermost open
 * parenthesis; returns the line unchanged when no break point helps.
 */
export function wrapLine(line: string, width: number): string[] {
  if (displayWidth(line) <= width) return [line];
  let best: { at: number; col: number } | null = null;
  const open: number[] = [];
  let inStr: string | null = null;
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (inStr) {
      if (c === '\\') i++;
      else if (c === inStr) inStr = null;
      continue;
    }
    if (c === '"' || c === "'") inStr = c;
    else if (c === '(') open.push(i);
    else if (c === ')') open.pop();
    else if (c === ',' && open.length && line[i + 1] === ' ') {
      if (displayWidth(line.slice(0, i + 1)) > width) break;
      best = { at: i + 1, col: displayWidth(line.slice(0, open[open.length - 1] + 1)) };
    }
  }
  if (!best || best.col >= width - 10) return [line];
  const head = line.slice(0, best.at);
  const tail = indentTo(best.col) + line.slice(best.at).trimStart();
  return [head, ...wrapLine(tail, width)];
}

/** The laid-out text of `source` with `edits` applied. */
export function layoutText(source: string, edits: readonly TextEdit[], width = lineWidthOf(source)): string {
  if (!edits.length) return source;
  const original = source.split('\n');
  const edited = applyEditsByLine(source, edits, BREAK);
  const editedLines = new Set(edits.map((e) => e.line));
  const out: string[] = [];
  /** Indices in `out` where a line was removed (candidates for blank-line clean-up). */
  const removedAt: number[] = [];
  edited.forEach((text, i) => {
    if (!editedLines.has(i + 1)) {
      out.push(text);
      return;
    }
    const pieces = text.split(BREAK);
    pieces.forEach((piece, k) => {
      const p = piece.replace(/[ \t]+(\r?)$/, '$1');
      if (k === 0 && p.trim() === '' && original[i].trim() !== '') {
        removedAt.push(out.length);
        return;
      }
      // A rewritten line that went over the width is wrapped; a line that already was is left alone.
      const wasOver = k === 0 && displayWidth(original[i]) > width;
      out.push(...(wasOver ? [p] : wrapLine(p, width)));
    });
  });
  // Blank-line clean-up where lines were removed: no double blank, no blank after `{` or before `}`.
  const drop = new Set<number>();
  for (const at of removedAt) {
    const prev = at - 1;
    const next = at;
    const blank = (k: number) => k >= 0 && k < out.length && out[k].trim() === '' && !drop.has(k);
    if (blank(next) && (blank(prev) || /\{\s*$/.test(out[prev] ?? '') || /^\s*\}/.test(out[next + 1] ?? ''))) drop.add(next);
    else if (blank(prev) && /^\s*\}/.test(out[next] ?? '')) drop.add(prev);
  }
  return out.filter((_, k) => !drop.has(k)).join('\n');
}
