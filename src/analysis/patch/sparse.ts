/**
 * Sparse images for a patch reviewed without a tree: only the hunks' lines are known. Each hunk's
 * old lines (context and removed) are placed at their real pre-image line numbers and its new lines
 * (context and added) at their real post-image line numbers; every other line is empty. That way a
 * finding's line number is right even though most of the file is missing (complete: false tells the
 * engine that whole-function checks may lack code).
 */
import type { ChangedFile, SparseHunk } from '../model.js';
import type { FilePatch } from './diff.js';

/**
 * Total lines of the sparse images of all files of one load (see load.ts). Line numbers are capped
 * per hunk by diff.ts, but hundreds of tiny forged hunks each claiming line 1999999 would still
 * make sparse images far larger than the input: this bounds the sum.
 */
export const MAX_SPARSE_LINES = 10_000_000;

/** Lines the sparse images of `fp` will hold (old + new). */
export function sparseSize(fp: FilePatch): number {
  let old = 0;
  let neu = 0;
  for (const h of fp.hunks) {
    old = Math.max(old, h.oldStart + h.oldLines);
    neu = Math.max(neu, h.newStart + h.newLines);
  }
  return old + neu;
}

/** A ChangedFile (complete: false) built from a file's hunks alone. */
export function changedFileFromHunks(fp: FilePatch): ChangedFile {
  let oldLen = 0;
  let newLen = 0;
  for (const h of fp.hunks) {
    oldLen = Math.max(oldLen, h.oldLines ? h.oldStart + h.oldLines - 1 : 0);
    newLen = Math.max(newLen, h.newLines ? h.newStart + h.newLines - 1 : 0);
  }
  // Preallocated: the gaps between hunks are the empty lines.
  const oldLines = new Array<string>(oldLen).fill('');
  const newLines = new Array<string>(newLen).fill('');
  const addedLines = new Set<number>();
  const removedLines = new Set<number>();
  for (const h of fp.hunks) {
    let o = h.oldStart; // next old line number (1-based)
    let n = h.newStart;
    for (const l of h.lines) {
      if (l.kind === '-') removedLines.add(o);
      if (l.kind === '+') addedLines.add(n);
      if (l.kind !== '+') oldLines[o++ - 1] = l.text;
      if (l.kind !== '-') newLines[n++ - 1] = l.text;
    }
  }
  const hunks: SparseHunk[] = fp.hunks.map((h) => ({
    old: h.oldLines ? { from: h.oldStart, to: h.oldStart + h.oldLines - 1 } : null,
    new: h.newLines ? { from: h.newStart, to: h.newStart + h.newLines - 1 } : null,
    heading: headingOf(h.header),
  }));
  return {
    oldPath: fp.oldPath,
    newPath: fp.newPath,
    oldText: fp.status === 'added' ? '' : render(oldLines),
    newText: fp.status === 'deleted' ? '' : render(newLines),
    addedLines,
    removedLines,
    complete: false,
    hunks,
  };
}

/** git's function context: what follows the second `@@` of a hunk header (`@@ -1,2 +1,3 @@ int f(void)`). */
export function headingOf(header: string): string {
  return /^@@ [^@]*@@(.*)$/.exec(header)?.[1]?.trim() ?? '';
}

function render(lines: readonly string[]): string {
  return lines.length ? `${lines.join('\n')}\n` : '';
}
