/**
 * Where a pattern matches in a file, by line, from one search over the whole text: the scan asks which
 * lines and which functions call the mapping API, and testing every line, or every function's joined text,
 * of a 10,000-line file to find its handful of calls showed in profiles (a kernel tree's candidate files
 * are 26 MB of text).
 */
import type { CFunction } from './functions.js';

/** Up to this many functions, functionsMatching tests each one's text instead of searching the file. */
const FEW = 4;

/** One match: the lines (1-based) it starts and ends on. */
export interface MatchSpan {
  line: number;
  endLine: number;
}

/**
 * The last few searches, by text (identity) and pattern: the scan asks for the same file's calls several
 * times (is there one at all, which functions, which lines), and each asking searched the whole file.
 */
const recent: Array<{ text: string; pattern: string; spans: readonly MatchSpan[] }> = [];
const RECENT = 4;

/** Every match of `pattern` in `text` (leftmost, not overlapping, as a global search finds them). */
export function matchSpans(text: string, pattern: RegExp): readonly MatchSpan[] {
  const key = `${pattern.source}/${pattern.flags}`;
  const hit = recent.find((r) => r.text === text && r.pattern === key);
  if (hit) return hit.spans;
  const spans = Object.freeze(searchSpans(text, pattern));
  recent.unshift({ text, pattern: key, spans });
  if (recent.length > RECENT) recent.pop();
  return spans;
}

function searchSpans(text: string, pattern: RegExp): MatchSpan[] {
  const all = new RegExp(pattern.source, pattern.flags.includes('g') ? pattern.flags : `${pattern.flags}g`);
  const out: MatchSpan[] = [];
  let line = 1;
  let counted = 0; // newlines before this offset are counted in `line`
  const lineAt = (offset: number): number => {
    for (let nl = text.indexOf('\n', counted); nl >= 0 && nl < offset; nl = text.indexOf('\n', nl + 1)) {
      line++;
      counted = nl + 1;
    }
    return line;
  };
  for (let m = all.exec(text); m; m = all.exec(text)) {
    if (m[0] === '') {
      all.lastIndex++; // an empty match would never move on
      continue;
    }
    const start = lineAt(m.index);
    let endLine = start;
    for (let nl = m[0].indexOf('\n'); nl >= 0; nl = m[0].indexOf('\n', nl + 1)) endLine++;
    out.push({ line: start, endLine });
  }
  return out;
}

/** The lines on which `pattern` matches within the line (what testing each line alone would pick), ascending. */
export function linesMatching(text: string, pattern: RegExp): number[] {
  const out: number[] = [];
  for (const s of matchSpans(text, pattern)) if (s.line === s.endLine && out[out.length - 1] !== s.line) out.push(s.line);
  return out;
}

/**
 * The functions whose own text (their lines, joined) has a match of `pattern`: one whose match lies within
 * their lines. The same as testing each function's text for the call patterns the scan uses (a word
 * boundary, a name, blanks, a parenthesis): a function's text is a stretch of `text` between line breaks,
 * and no match of such a pattern can start inside another, so a match that runs into a function from
 * above hides none of its own.
 */
export function functionsMatching<F extends Pick<CFunction, 'line' | 'endLine' | 'text'>>(fns: readonly F[], text: string, pattern: RegExp): Set<F> {
  // A handful of functions (a review converts the one it looks at): their own texts are cheaper to test.
  if (fns.length <= FEW) {
    const once = pattern.global || pattern.sticky ? new RegExp(pattern.source, pattern.flags.replace(/[gy]/g, '')) : pattern;
    return new Set(fns.filter((f) => once.test(f.text)));
  }
  const out = new Set<F>();
  const spans = matchSpans(text, pattern);
  if (!spans.length) return out;
  for (const f of fns) {
    // Spans are in line order: the first that starts at or after the function's line decides quickly.
    let lo = 0;
    let hi = spans.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (spans[mid].line < f.line) lo = mid + 1;
      else hi = mid;
    }
    for (let i = lo; i < spans.length && spans[i].line <= f.endLine; i++) {
      if (spans[i].endLine <= f.endLine) {
        out.add(f);
        break;
      }
    }
  }
  return out;
}
