/**
 * Applies a file's hunks to a pre-image in memory (nothing is ever written to disk).
 *
 * Semantics follow `git apply` without fuzz: every context and removed line must match exactly
 * (after CRLF stripping, see text.ts), but a hunk may be found at an offset from the line its
 * header names (the tree is a bit older or newer than the patch's base). The search goes outward
 * from the expected place, which is the header's line shifted by the offset the previous hunk was
 * found at, and never goes back before the end of the previous hunk.
 *
 * Matching uses line ids and a prefix hash of the pre-image, so each candidate position costs O(1)
 * (plus a verification on a hash hit): applying is linear in the file size plus the search distance.
 */
import { InputError, quoteLine } from './errors.js';
import type { Hunk } from './diff.js';
import { hunkIndex } from './diff.js';
import { joinLines, splitLines } from './text.js';

export interface ApplyResult {
  /** The post-image (LF line endings). */
  text: string;
  /** Post-image line numbers (1-based) the patch added. */
  addedLines: Set<number>;
  /** Pre-image line numbers (1-based) the patch removed. */
  removedLines: Set<number>;
}

// Polynomial hash modulo a prime below 2^26, so products stay exact in a double (< 2^53).
const MOD = 67_108_859;
const BASE = 1_000_003 % MOD;

/**
 * Applies `hunks` (in order, as parsed by diff.ts) to `preText`. `path` is used in messages.
 * Throws InputError naming the file, the hunk number and header, and the first mismatching line.
 */
export function applyHunks(path: string, preText: string, hunks: readonly Hunk[]): ApplyResult {
  const pre = splitLines(preText);
  const a = pre.lines;
  const n = a.length;

  // Line ids: equal strings <=> equal ids.
  const idOf = new Map<string, number>();
  const ids = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    let id = idOf.get(a[i]!);
    if (id === undefined) idOf.set(a[i]!, (id = idOf.size + 1));
    ids[i] = id;
  }
  const prefix = new Float64Array(n + 1);
  const pow = new Float64Array(n + 1);
  pow[0] = 1;
  for (let i = 0; i < n; i++) {
    prefix[i + 1] = (prefix[i]! * BASE + ids[i]!) % MOD;
    pow[i + 1] = (pow[i]! * BASE) % MOD;
  }
  const windowHash = (from: number, len: number): number =>
    (((prefix[from + len]! - prefix[from]! * pow[len]!) % MOD) + MOD) % MOD;

  const out: string[] = [];
  const addedLines = new Set<number>();
  const removedLines = new Set<number>();
  let cursor = 0; // first pre-image index not yet copied to `out`
  let offset = 0; // where the previous hunk was found minus where its header said
  let finalNewline = pre.finalNewline;

  for (const h of hunks) {
    const old = h.lines.filter((l) => l.kind !== '+').map((l) => l.text);
    const m = old.length;
    // Ids of the hunk's old side; -1 for a line that is nowhere in the file (no position can match).
    const oldIds = old.map((t) => idOf.get(t) ?? -1);
    let hash = 0;
    let impossible = false;
    for (const id of oldIds) {
      if (id < 0) impossible = true;
      hash = (hash * BASE + id) % MOD;
    }
    const matchesAt = (p: number): boolean => {
      if (impossible || windowHash(p, m) !== hash) return false;
      for (let k = 0; k < m; k++) if (ids[p + k] !== oldIds[k]) return false;
      return true;
    };

    const stated = hunkIndex(h, 'old');
    const expected = stated + offset;
    const lo = cursor;
    const hi = n - m; // last position where the old side fits
    let pos = -1;
    if (m === 0) {
      // A pure insertion matches anywhere: put it where the header says (shifted), if that exists.
      if (expected >= lo && expected <= n) pos = expected;
    } else if (hi >= lo) {
      const start = Math.min(Math.max(expected, lo), hi);
      const span = Math.max(start - lo, hi - start);
      for (let d = 0; d <= span; d++) {
        if (start + d <= hi && matchesAt(start + d)) {
          pos = start + d;
          break;
        }
        if (d > 0 && start - d >= lo && matchesAt(start - d)) {
          pos = start - d;
          break;
        }
      }
    }
    if (pos < 0) throw mismatchError(path, h, a, old, Math.max(expected, lo), m === 0);

    for (let i = cursor; i < pos; i++) out.push(a[i]!);
    let oi = pos;
    for (const l of h.lines) {
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
    cursor = pos + m;
    offset = pos - stated;
    // The hunk decides the final newline when it reaches the end of the file or carries a marker.
    if (cursor === n || h.oldNoNewline || h.newNoNewline) finalNewline = !h.newNoNewline;
  }
  for (let i = cursor; i < n; i++) out.push(a[i]!);
  return { text: joinLines(out, finalNewline), addedLines, removedLines };
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
