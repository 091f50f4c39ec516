/**
 * Line diff of two full file images, for inputs that come as whole files rather than hunks:
 * the GitHub App (base/head contents) and --git (blobs of each commit and its parent).
 *
 * Algorithm: Myers' O((N+M)D) diff in its linear-space form (middle snake, divide and conquer),
 * which gives a minimal diff. Two cheap, exact reductions first:
 *  - a common prefix and suffix are trimmed (at every level of the recursion);
 *  - lines that occur on one side only cannot be part of any common subsequence, so they are
 *    marked added/removed up front and left out of the search. This makes unrelated rewrites
 *    (large D) cheap, where plain Myers would be quadratic.
 * A file identical except one line thus costs O(N) and marks just that line.
 * Worst case is bounded (MAX_WORK): past it a region is marked as replaced wholesale (valid, not minimal).
 */
import type { ChangedFile } from '../model.js';
import { splitLines, joinLines } from './text.js';

export interface LineDiff {
  /** removed[i] === 1 when line i (0-based) of the old side is not in the common subsequence. */
  removed: Uint8Array;
  /** added[j] === 1 when line j (0-based) of the new side is not in the common subsequence. */
  added: Uint8Array;
}

/** Minimal line diff of `a` (old) and `b` (new). */
export function diffLines(a: readonly string[], b: readonly string[]): LineDiff {
  const removed = new Uint8Array(a.length);
  const added = new Uint8Array(b.length);

  const idOf = new Map<string, number>();
  const intern = (s: string): number => {
    let id = idOf.get(s);
    if (id === undefined) idOf.set(s, (id = idOf.size));
    return id;
  };
  const aIds = a.map(intern);
  const bIds = b.map(intern);
  const inA = new Uint8Array(idOf.size);
  const inB = new Uint8Array(idOf.size);
  for (const id of aIds) inA[id] = 1;
  for (const id of bIds) inB[id] = 1;

  // Keep only the lines that occur on both sides; the others are changes in any diff.
  const aIdx: number[] = [];
  const bIdx: number[] = [];
  aIds.forEach((id, i) => (inB[id] ? aIdx.push(i) : (removed[i] = 1)));
  bIds.forEach((id, j) => (inA[id] ? bIdx.push(j) : (added[j] = 1)));
  const A = Int32Array.from(aIdx, (i) => aIds[i]!);
  const B = Int32Array.from(bIdx, (j) => bIds[j]!);

  myers(A, B, (x) => (removed[aIdx[x]!] = 1), (y) => (added[bIdx[y]!] = 1));
  return { removed, added };
}

/**
 * Bound on the work of one middle-snake search, about (N+M)*D steps (a few tenths of a second). Real patches stay far
 * below it; it exists so adversarial or pathological inputs (huge repetitive files rewritten
 * wholesale) cannot make the diff quadratic.
 */
const MAX_WORK = 100_000_000;

/**
 * Linear-space Myers over int sequences; calls del(x) / ins(y) for each line of A / B outside the
 * common subsequence. Iterative (explicit stack), so deep inputs cannot overflow the JS stack.
 */
function myers(A: Int32Array, B: Int32Array, del: (x: number) => void, ins: (y: number) => void): void {
  const maxD = Math.ceil((A.length + B.length) / 2) + 1;
  const vf = new Int32Array(2 * maxD + 3);
  const vb = new Int32Array(2 * maxD + 3);
  const stack: number[] = [0, A.length, 0, B.length];
  while (stack.length) {
    let bHi = stack.pop()!;
    let bLo = stack.pop()!;
    let aHi = stack.pop()!;
    let aLo = stack.pop()!;
    while (aLo < aHi && bLo < bHi && A[aLo] === B[bLo]) {
      aLo++;
      bLo++;
    }
    while (aLo < aHi && bLo < bHi && A[aHi - 1] === B[bHi - 1]) {
      aHi--;
      bHi--;
    }
    if (aLo === aHi) {
      for (let y = bLo; y < bHi; y++) ins(y);
      continue;
    }
    if (bLo === bHi) {
      for (let x = aLo; x < aHi; x++) del(x);
      continue;
    }
    const snake = middleSnake(A, aLo, aHi - aLo, B, bLo, bHi - bLo, vf, vb, maxD + 1);
    if (!snake) {
      // Too costly to do exactly: mark this (already trimmed) region as replaced. Still a valid
      // diff, only not minimal, and it only happens on huge, repetitive, heavily changed files.
      for (let x = aLo; x < aHi; x++) del(x);
      for (let y = bLo; y < bHi; y++) ins(y);
      continue;
    }
    const [x0, y0, x1, y1] = snake;
    // Both halves are strictly smaller than the whole for D >= 1 (always true after trimming).
    stack.push(aLo + x1, aHi, bLo + y1, bHi);
    stack.push(aLo, aLo + x0, bLo, bLo + y0);
  }
}

/**
 * Finds the middle snake of A[aLo, aLo+N) vs B[bLo, bLo+M): returns [x0, y0, x1, y1] (relative),
 * a diagonal run from (x0, y0) to (x1, y1) lying on some shortest edit path.
 * vf/vb are scratch arrays indexed by diagonal k + off. Returns null when finding it would cost
 * more than MAX_WORK steps.
 */
function middleSnake(
  A: Int32Array, aLo: number, N: number,
  B: Int32Array, bLo: number, M: number,
  vf: Int32Array, vb: Int32Array, off: number,
): [number, number, number, number] | null {
  const delta = N - M;
  const odd = (delta & 1) !== 0;
  const dMax = Math.ceil((N + M) / 2);
  vf[off + 1] = 0;
  vb[off + 1] = 0;
  for (let d = 0; d <= dMax; d++) {
    if (d * (N + M) > MAX_WORK) return null;
    // Forward search from (0, 0).
    for (let k = -d; k <= d; k += 2) {
      let x = k === -d || (k !== d && vf[off + k - 1]! < vf[off + k + 1]!) ? vf[off + k + 1]! : vf[off + k - 1]! + 1;
      let y = x - k;
      const xs = x;
      const ys = y;
      while (x < N && y < M && A[aLo + x] === B[bLo + y]) {
        x++;
        y++;
      }
      vf[off + k] = x;
      const kb = delta - k; // the same diagonal in the backward search's coordinates
      if (odd && kb >= -(d - 1) && kb <= d - 1 && x + vb[off + kb]! >= N) return [xs, ys, x, y];
    }
    // Backward search from (N, M), in reversed coordinates.
    for (let k = -d; k <= d; k += 2) {
      let x = k === -d || (k !== d && vb[off + k - 1]! < vb[off + k + 1]!) ? vb[off + k + 1]! : vb[off + k - 1]! + 1;
      let y = x - k;
      const xs = x;
      const ys = y;
      while (x < N && y < M && A[aLo + N - 1 - x] === B[bLo + M - 1 - y]) {
        x++;
        y++;
      }
      vb[off + k] = x;
      const kf = delta - k;
      if (!odd && kf >= -d && kf <= d && x + vf[off + kf]! >= N) return [N - x, M - y, N - xs, M - ys];
    }
  }
  // Unreachable: the searches always meet by d = ceil((N+M)/2).
  throw new Error('line-diff: middle snake not found');
}

/**
 * A ChangedFile from two whole images (complete: true). null text means the file does not exist
 * on that side (added / deleted), like a null path. CRLF endings are stripped from both texts
 * (line numbers are unchanged), so a CRLF/LF mismatch alone does not mark every line.
 */
export function changedFileFromImages(
  oldPath: string | null,
  newPath: string | null,
  oldText: string | null,
  newText: string | null,
): ChangedFile {
  const a = splitLines(oldText ?? '');
  const b = splitLines(newText ?? '');
  const { removed, added } = diffLines(a.lines, b.lines);
  const removedLines = new Set<number>();
  const addedLines = new Set<number>();
  removed.forEach((v, i) => v && removedLines.add(i + 1));
  added.forEach((v, j) => v && addedLines.add(j + 1));
  return {
    oldPath,
    newPath,
    oldText: joinLines(a.lines, a.finalNewline),
    newText: joinLines(b.lines, b.finalNewline),
    addedLines,
    removedLines,
    complete: true,
  };
}
