/**
 * Which post-image lines of a file GitHub accepts review comments on: the lines of the diff hunks
 * (added or context, RIGHT side). Any other line makes GitHub answer 422 and reject the whole review.
 */
import type { Finding } from '../analysis/model.js';

export interface Hunk {
  /** First and last post-image line of the hunk (inclusive); empty hunks (pure deletions) are dropped. */
  start: number;
  end: number;
}

const HUNK_RE = /^@@ -\d+(?:,\d+)? \+(\d+)(?:,(\d+))? @@/;

/** Parses the `patch` field of `GET /pulls/{n}/files` (hunks only, no file headers). */
export function parseHunks(patch: string | undefined | null): Hunk[] {
  if (!patch) return [];
  const hunks: Hunk[] = [];
  for (const line of patch.split('\n')) {
    const m = HUNK_RE.exec(line);
    if (!m) continue;
    const start = Number(m[1]);
    const count = m[2] === undefined ? 1 : Number(m[2]);
    if (count > 0) hunks.push({ start, end: start + count - 1 });
  }
  return hunks;
}

function hunkOf(hunks: Hunk[], line: number): Hunk | undefined {
  return hunks.find((h) => line >= h.start && line <= h.end);
}

export interface Placement {
  /** Last (or only) line of the comment. */
  line: number;
  /** First line, for a multi-line comment (same hunk as `line`). */
  startLine?: number;
  /** The ```suggestion content replacing startLine..line, when the finding's fix fits them. */
  suggestion?: string;
  /** Shown in the comment when the anchor is not the finding's first line. */
  note?: string;
}

/** Where to comment a finding, or undefined when none of its lines is part of the diff. */
export function placeFinding(f: Finding, hunks: Hunk[]): Placement | undefined {
  if (hunks.length === 0) return undefined;
  const fix = f.fix;
  if (fix && fix.path === f.path && fix.edits.length === 1) {
    const e = fix.edits[0]!;
    const h = hunkOf(hunks, e.startLine);
    const overlaps = e.startLine <= Math.max(f.line, f.endLine) && e.endLine >= f.line;
    if (h && e.endLine >= e.startLine && e.endLine <= h.end && overlaps) {
      let suggestion = e.replacement;
      if (suggestion.endsWith('\n')) suggestion = suggestion.slice(0, -1);
      return e.startLine === e.endLine
        ? { line: e.startLine, suggestion }
        : { startLine: e.startLine, line: e.endLine, suggestion };
    }
  }
  if (hunkOf(hunks, f.line)) return { line: f.line };
  for (let l = f.line + 1; l <= f.endLine; l++) {
    if (hunkOf(hunks, l)) return { line: l, note: `_The finding spans lines ${f.line}-${f.endLine}; this is its first line in the diff._` };
  }
  return undefined;
}
