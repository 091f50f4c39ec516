/**
 * Applies a file's hunks to a pre-image in memory (nothing is ever written to disk).
 *
 * Semantics follow GNU `patch`: every context and removed line should match exactly (after CRLF
 * stripping, see text.ts), but a hunk may be found at an offset from the line its header names (the
 * tree is a bit older or newer than the patch's base), and when it matches nowhere exactly, up to
 * MAX_FUZZ context lines at each end of it may be ignored ("fuzz"); removed lines must always match.
 * The search goes outward from the expected place, which is the header's line shifted by the offset
 * the previous hunk was found at, and never goes back before the end of the previous hunk. Each
 * hunk's placement is returned so the report can say where it went. A patch whose new side is
 * already in the file is "already applied" (AlreadyAppliedError), not a mismatch.
 *
 * Matching uses line ids and a prefix hash of the pre-image, so each candidate position costs O(1)
 * (plus a verification on a hash hit): applying is linear in the file size plus the search distance.
 */
import { AlreadyAppliedError, InputError, quoteLine } from './errors.js';
import type { Hunk } from './diff.js';
import { hunkIndex } from './diff.js';
import { joinLines, splitLines } from './text.js';
import type { HunkPlacement } from '../model.js';

export type { HunkPlacement };

export interface ApplyResult {
  /** The post-image (LF line endings). */
  text: string;
  /** Post-image line numbers (1-based) the patch added. */
  addedLines: Set<number>;
  /** Pre-image line numbers (1-based) the patch removed. */
  removedLines: Set<number>;
  /** Where each hunk was applied, in hunk order. */
  placements: HunkPlacement[];
}

/** Context lines `patch` may ignore at each end of a hunk (its default --fuzz=2). */
export const MAX_FUZZ = 2;

// Polynomial hash modulo a prime below 2^26, so products stay exact in a double (< 2^53).
const MOD = 67_108_859;
const BASE = 1_000_003 % MOD;

/** The pre-image as line ids with a prefix hash: any window is compared in O(1). */
class IndexedLines {
  readonly idOf = new Map<string, number>();
  readonly ids: Int32Array;
  private readonly prefix: Float64Array;
  private readonly pow: Float64Array;

  constructor(readonly lines: readonly string[]) {
    const n = lines.length;
    this.ids = new Int32Array(n);
    for (let i = 0; i < n; i++) {
      let id = this.idOf.get(lines[i]!);
      if (id === undefined) this.idOf.set(lines[i]!, (id = this.idOf.size + 1));
      this.ids[i] = id;
    }
    this.prefix = new Float64Array(n + 1);
    this.pow = new Float64Array(n + 1);
    this.pow[0] = 1;
    for (let i = 0; i < n; i++) {
      this.prefix[i + 1] = (this.prefix[i]! * BASE + this.ids[i]!) % MOD;
      this.pow[i + 1] = (this.pow[i]! * BASE) % MOD;
    }
  }

  private windowHash(from: number, len: number): number {
    return (((this.prefix[from + len]! - this.prefix[from]! * this.pow[len]!) % MOD) + MOD) % MOD;
  }

  /**
   * The position nearest `expected` (searching outward, never before `lo`) where `want` matches
   * exactly, or -1. An empty `want` matches at `expected` when that is inside the file.
   */
  find(want: readonly string[], expected: number, lo: number): number {
    const n = this.lines.length;
    const m = want.length;
    if (m === 0) return expected >= lo && expected <= n ? expected : -1;
    const wantIds = want.map((t) => this.idOf.get(t) ?? -1);
    if (wantIds.includes(-1)) return -1;
    let hash = 0;
    for (const id of wantIds) hash = (hash * BASE + id) % MOD;
    const matchesAt = (p: number): boolean => {
      if (this.windowHash(p, m) !== hash) return false;
      for (let k = 0; k < m; k++) if (this.ids[p + k] !== wantIds[k]) return false;
      return true;
    };
    const hi = n - m;
    if (hi < lo) return -1;
    const start = Math.min(Math.max(expected, lo), hi);
    const span = Math.max(start - lo, hi - start);
    for (let d = 0; d <= span; d++) {
      if (start + d <= hi && matchesAt(start + d)) return start + d;
      if (d > 0 && start - d >= lo && matchesAt(start - d)) return start - d;
    }
    return -1;
  }
}

/** The hunk's lines without `lead` context lines at its start and `trail` at its end. */
function trimmed(h: Hunk, fuzz: number): { lines: Hunk['lines']; lead: number } {
  let lead = 0;
  while (lead < fuzz && lead < h.lines.length && h.lines[lead]!.kind === ' ') lead++;
  let trail = 0;
  while (trail < fuzz && trail < h.lines.length - lead && h.lines[h.lines.length - 1 - trail]!.kind === ' ') trail++;
  return { lines: h.lines.slice(lead, h.lines.length - trail), lead };
}

/**
 * Applies `hunks` (in order, as parsed by diff.ts) to `preText`, like `patch`: at an offset from the
 * stated line when the file moved, and with up to MAX_FUZZ context lines ignored at the ends of a hunk
 * when nothing matches exactly (exact matches anywhere in reach are preferred to fuzzy ones).
 * Throws AlreadyAppliedError when the hunks apply in reverse, else InputError naming the file, the
 * hunk number and header, and the first mismatching line.
 */
export function applyHunks(path: string, preText: string, hunks: readonly Hunk[], detectReverse = true): ApplyResult {
  const pre = splitLines(preText);
  const a = pre.lines;
  const n = a.length;
  // Most hunks apply where their header says: compare there first, and index the file (a hash per line,
  // a rolling hash over them) only when a hunk has moved.
  let indexed: IndexedLines | null = null;
  const index = {
    find(want: readonly string[], expected: number, lo: number): number {
      if (expected >= lo && expected + want.length <= a.length && want.every((t, k) => a[expected + k] === t)) return expected;
      indexed ??= new IndexedLines(a);
      return indexed.find(want, expected, lo);
    },
  };

  const out: string[] = [];
  const addedLines = new Set<number>();
  const removedLines = new Set<number>();
  const placements: HunkPlacement[] = [];
  let cursor = 0; // first pre-image index not yet copied to `out`
  let offset = 0; // where the previous hunk was found minus where its header said
  let finalNewline = pre.finalNewline;

  for (const h of hunks) {
    const stated = hunkIndex(h, 'old');
    const expected = stated + offset;
    let pos = -1;
    let used: { lines: Hunk['lines']; lead: number } = { lines: h.lines, lead: 0 };
    let fuzz = 0;
    for (; fuzz <= MAX_FUZZ; fuzz++) {
      const t = fuzz === 0 ? used : trimmed(h, fuzz);
      if (fuzz > 0 && t.lines.length === used.lines.length) continue; // nothing more to trim
      const old = t.lines.filter((l) => l.kind !== '+').map((l) => l.text);
      if (fuzz > 0 && old.length === 0) break; // a hunk reduced to pure insertion would match anywhere
      const p = index.find(old, expected + t.lead, cursor);
      used = t;
      if (p >= 0) {
        pos = p;
        break;
      }
    }
    if (pos < 0) {
      const old = h.lines.filter((l) => l.kind !== '+').map((l) => l.text);
      if (detectReverse && appliesInReverse(path, preText, hunks)) {
        throw new AlreadyAppliedError(`${path}: already applied: the tree already has this patch's changes (it applies in reverse)`);
      }
      throw mismatchError(path, h, a, old, Math.max(expected, cursor), old.length === 0);
    }

    for (let i = cursor; i < pos; i++) out.push(a[i]!);
    let oi = pos;
    for (const l of used.lines) {
      if (l.kind === ' ') {
        out.push(a[oi]!); // identical to l.text
        oi++;
      } else if (l.kind === '-') {
        removedLines.add(oi + 1);
        oi++;
      } else {
        out.push(l.text);
        addedLines.add(out.length);
      }
    }
    placements.push({ hunk: h.index, header: h.header, statedLine: stated + 1, line: pos - used.lead + 1, fuzz: used.lead === 0 && used.lines.length === h.lines.length ? 0 : fuzz });
    cursor = pos + used.lines.filter((l) => l.kind !== '+').length;
    offset = pos - used.lead - stated;
    // The hunk decides the final newline when it reaches the end of the file or carries a marker.
    if (cursor === n || h.oldNoNewline || h.newNoNewline) finalNewline = !h.newNoNewline;
  }
  for (let i = cursor; i < n; i++) out.push(a[i]!);
  return { text: joinLines(out, finalNewline), addedLines, removedLines, placements };
}

/** True when the hunks, reversed, apply (with the same offsets and fuzz): the patch is already in. */
function appliesInReverse(path: string, preText: string, hunks: readonly Hunk[]): boolean {
  if (!hunks.some((h) => h.lines.some((l) => l.kind !== ' '))) return false;
  const reversed: Hunk[] = hunks.map((h) => ({
    ...h,
    oldStart: h.newStart,
    oldLines: h.newLines,
    newStart: h.oldStart,
    newLines: h.oldLines,
    oldNoNewline: h.newNoNewline,
    newNoNewline: h.oldNoNewline,
    lines: h.lines.map((l) => ({ kind: l.kind === '+' ? '-' : l.kind === '-' ? '+' : ' ', text: l.text })),
  }));
  // A reversed hunk that only deletes would "apply" wherever its lines are: require it to keep something.
  if (reversed.some((h) => !h.lines.some((l) => l.kind !== '+'))) return false;
  try {
    applyHunks(path, preText, reversed, false);
    return true;
  } catch (e) {
    if (e instanceof InputError) return false;
    throw e;
  }
}

/** The error for a hunk that matches nowhere: shows the first line that differs at the expected place. */
function mismatchError(path: string, h: Hunk, a: readonly string[], old: readonly string[], at: number, insertion: boolean): InputError {
  const what = `${path}: hunk ${h.index} (${h.header}) does not apply`;
  if (insertion || at >= a.length) {
    return new InputError(`${what}: it starts at line ${at + 1} but the file has only ${a.length} lines`);
  }
  for (let k = 0; k < old.length; k++) {
    const line = at + k;
    if (line >= a.length) {
      return new InputError(`${what}: at line ${line + 1} the hunk expects ${quoteLine(old[k]!)} but the file has only ${a.length} lines (no match elsewhere either)`);
    }
    if (a[line] !== old[k]) {
      return new InputError(`${what}: line ${line + 1} is ${quoteLine(a[line]!)} but the hunk expects ${quoteLine(old[k]!)} (no match elsewhere either)`);
    }
  }
  // Matches at the expected place but it overlaps the previous hunk's region.
  return new InputError(`${what}: its lines only match where the previous hunk already applied`);
}
