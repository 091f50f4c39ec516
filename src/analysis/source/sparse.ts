/**
 * Functions of an image rebuilt from hunks only (patch/sparse.ts: the hunks' lines at their line numbers,
 * blank elsewhere), for a patch reviewed without its tree.
 *
 * - A function whose whole text lies in seen lines is analysed as usual.
 * - Hunks of one function are one sparse function: its seen lines in order, and in each stretch between
 *   two hunks an opaque statement (`0;` on the stretch's first line) that the replay treats as unseen code
 *   (replay.ts: it may unmap, map again, assign any name, return or jump; what depends on it is a note).
 * - Any other seen lines form fragments: each run parsed wrapped in a pseudo-function, keeping line numbers.
 * - A hunk that ends inside a block (a loop, an if) gets the unseen statement where that block's unseen
 *   rest would be, so that nothing goes round a loop the hunk leaves open without crossing unseen code.
 * - A hunk cut inside a comment or a statement is mended so that it parses (cutOf); a chain whose parse
 *   still has errors is analysed as one fragment per hunk instead: which of its paths cross unseen lines
 *   would not be known.
 *
 * Two hunks are of one function when git's function context says so and the lines shown agree: the
 * second hunk's heading is the last line git would take as a heading before it (a column-0 line) among
 * the first hunk's lines (or is the first hunk's own heading, when none is there); that line starts a
 * function definition, or is a goto label (git's default pattern takes those; labels are only found in
 * functions), not closed (column-0 `}`) within the first hunk; and the second hunk shows no other
 * top-level line before it closes the function. A label the first hunk does not show may be in any
 * function: no join then. A long heading that matches a line only up to git's cut is taken as that line
 * (git keeps a heading's first 80 bytes). No heading (plain `diff -u`): no join.
 */
import type { LineRange } from '../model.js';
import { blankCommentsAndStrings } from '../syntax/blank.js';
import { parseC } from '../syntax/parser.js';
import { collectDefinitions, FRAGMENT_NAME, FUNCTION_CLOSE, locateFunctions, missingBraces, signatureName, toCFunction, type CFunction } from './functions.js';

/** One hunk's lines in the image, and git's function heading for it ('' when none). */
export interface SeenHunk {
  lines: LineRange;
  heading: string;
}

/** The opaque statement standing for an unseen stretch: any C statement that does nothing would do. */
export const UNSEEN_STATEMENT = '0;';
/** The condition of the blocks a hunk's leading `}`s close (see openers): a name nothing assigns or tests. */
const UNSEEN_CONDITION = 'kmap_review_unseen';

/** Stretches named one by one in a message; more are summed up (a forged patch may have thousands). */
const NAMED_STRETCHES = 4;

/** "lines 18-29" / "lines 18-29 and 41-45" / "line 18" / "lines 13-20, ..., 90-99 and 6 more stretches up to line 400". */
export function unseenWords(ranges: readonly LineRange[]): string {
  const parts = ranges.slice(0, NAMED_STRETCHES).map((r) => (r.from === r.to ? `${r.from}` : `${r.from}-${r.to}`));
  if (ranges.length > NAMED_STRETCHES) parts.push(`${ranges.length - NAMED_STRETCHES} more stretches up to line ${ranges[ranges.length - 1].to}`);
  const joined = parts.length > 1 ? `${parts.slice(0, -1).join(', ')} and ${parts[parts.length - 1]}` : parts[0] ?? '';
  return `${ranges.length === 1 && ranges[0].from === ranges[0].to ? 'line' : 'lines'} ${joined}`;
}

/** The unseen stretches of `fn` lying between two of `lines` (the lines a finding's evidence is on). */
export function unseenBetween(fn: CFunction, lines: readonly number[]): LineRange[] {
  if (!fn.unseen?.length || !lines.length) return [];
  const min = Math.min(...lines);
  const max = Math.max(...lines);
  return fn.unseen.filter((g) => g.from <= max && g.to >= min);
}

/** A goto label alone on its line (`out:`), which git's cpp driver never takes as a heading. */
const LABEL = /^[A-Za-z_]\w*:\s*(?:$|\/[/*])/;
/** A line git may take as a heading: column 0, a letter, `_` or `$` (its default pattern). */
const HEADING_LINE = /^[A-Za-z_$]/;

/** A column-0 line that starts a function definition: `static int foo(struct page *page,`. */
function startsDefinition(line: string): boolean {
  return /^[A-Za-z_]/.test(line) && !LABEL.test(line) && line.includes('(') && !/^[^(]*=/.test(line) && !/;\s*(?:\/\*.*\*\/\s*|\/\/.*)?$/.test(line);
}

/** A column-0 line that is neither a label nor a preprocessor line: code at file level. */
function topLevel(line: string): boolean {
  return /^[A-Za-z_]/.test(line) && !LABEL.test(line);
}

function sameHeading(heading: string, line: string): boolean {
  const l = line.trimEnd();
  return heading === l || (heading.length >= 60 && l.startsWith(heading));
}

/**
 * The function a hunk leaves open at its end: its signature line and where it is when seen, '' when only a
 * goto label says a function is open (git's default heading, or a label the hunk shows: labels exist only
 * inside functions), or null when the hunk closes it or reaches file-level code.
 */
function openAtEnd(lines: readonly string[], h: SeenHunk): { signature: string; line: number | null; headings: string[] } | null {
  let signature: string | null = startsDefinition(h.heading) ? h.heading : LABEL.test(h.heading) ? '' : null;
  let at: number | null = null;
  // The heading git would give a hunk right after this one, by its default pattern and by its cpp driver.
  let byDefault = h.heading;
  let byCpp = h.heading;
  for (let l = h.lines.from; l <= h.lines.to; l++) {
    const t = lines[l - 1] ?? '';
    if (FUNCTION_CLOSE.test(t)) {
      signature = null;
      continue;
    }
    if (!HEADING_LINE.test(t)) continue;
    byDefault = t.trimEnd();
    if (LABEL.test(t)) continue;
    byCpp = byDefault;
    // A definition starts here; any other column-0 line (`EXPORT_SYMBOL(f);`, `static int` of a
    // signature written on two lines) is not inside an open function.
    if (startsDefinition(t)) {
      signature = byDefault;
      at = l;
    } else signature = null;
  }
  return signature === null ? null : { signature, line: at, headings: [byDefault, byCpp] };
}

/** True when a hunk shows file-level code before the first function close it shows: it starts outside a function. */
function startsOutside(lines: readonly string[], h: SeenHunk): boolean {
  for (let l = h.lines.from; l <= h.lines.to; l++) {
    const t = lines[l - 1] ?? '';
    if (FUNCTION_CLOSE.test(t)) return false;
    if (topLevel(t)) return true;
  }
  return false;
}

function firstClose(lines: readonly string[], r: LineRange): number | null {
  for (let l = r.from; l <= r.to; l++) if (FUNCTION_CLOSE.test(lines[l - 1] ?? '')) return l;
  return null;
}

/** Hunks of one function, in order: the lines from `from` (its signature, when seen) to `to` (its close, when seen). */
interface Chain {
  hunks: SeenHunk[];
  signature: string;
  signatureLine: number | null;
  closeLine: number | null;
}

function chainsOf(lines: readonly string[], hunks: readonly SeenHunk[]): Chain[] {
  const chains: Chain[] = [];
  let cur: Chain | null = null;
  for (let i = 0; i + 1 < hunks.length; i++) {
    const a = hunks[i];
    const b = hunks[i + 1];
    const open = b.lines.from > a.lines.to + 1 && b.heading ? openAtEnd(lines, a) : null;
    const linked = !!open && open.headings.some((h) => sameHeading(b.heading, h)) && !startsOutside(lines, b);
    if (!linked) {
      cur = null;
      continue;
    }
    // A hunk that closes one function, or shows where one starts, ends one chain and starts another.
    if (!cur || open.line !== null || firstClose(lines, a.lines) !== null) {
      cur = { hunks: [a], signature: open.signature, signatureLine: open.line, closeLine: null };
      chains.push(cur);
    }
    cur.hunks.push(b);
    cur.closeLine = firstClose(lines, b.lines);
    if (cur.closeLine !== null) cur = null;
  }
  return chains;
}

/**
 * One sparse function from a chain of hunks. Each hunk's lines keep their line numbers; the first line of
 * each stretch between hunks gets the unseen statement at the end of the blocks the hunk before left
 * open, the closers of those blocks, the openers the next hunk's leading `}`s need, and the unseen
 * statement again at the start of them: every path from one hunk to the next crosses an unseen statement.
 * A statement that runs on through a stretch (`foo(a,` ... `b);`) gets an operand there instead: the
 * unseen part of an expression, which the replay treats as unseen code all the same (events.ts). The
 * signature is the function's own when the first hunk shows it, else a stub on the first line.
 */
function sparseFunction(lines: readonly string[], chain: Chain): CFunction | null {
  const first = chain.hunks[0];
  const last = chain.hunks[chain.hunks.length - 1];
  const from = chain.signatureLine ?? first.lines.from;
  const to = chain.closeLine ?? last.lines.to;
  const segments = chain.hunks.map((h, k) => ({ from: k === 0 ? from : h.lines.from, to: k === chain.hunks.length - 1 ? to : h.lines.to }));
  const cut = segments.map((s) => cutOf(lines.slice(s.from - 1, s.to).join('\n')));
  // Hunks a statement runs on between are one group: no block opens or closes inside a statement.
  const spans = segments.slice(1).map((_, k) => cut[k].endsMid && cut[k + 1].startsMid);
  const groupOf: number[] = [];
  const groups: string[] = [];
  cut.forEach((c, k) => {
    if (k > 0 && spans[k - 1]) groups[groups.length - 1] += `\n${c.code}`;
    else groups.push(c.code);
    groupOf.push(groups.length - 1);
  });
  const braces = groups.map(missingBraces);
  const lastGroup = groups.length - 1;
  const ownSignature = chain.signatureLine !== null;
  const ownClose = chain.closeLine !== null;
  // The function's own `{` is one of the first hunk's unclosed blocks, its own `}` one of the last hunk's leading closers.
  if (ownSignature && (braces[0].open > 0 || braces[0].close < 1)) return null;
  if (ownClose && (braces[lastGroup].open < 1 || braces[lastGroup].close > 0)) return null;
  const text = lines.slice(from - 1, to);
  const put = (line: number, s: string) => (text[line - from] = s);
  // The stub's `{` is the one the function's own `}` closes, when the last hunk shows it.
  if (!ownSignature) put(from, `void ${FRAGMENT_NAME.replace(/\W/g, '_')}(void) {${openers(cut[0], braces[0].open - (lastGroup === 0 && ownClose ? 1 : 0))}${cut[0].before}${text[0]}`);
  else if (cut[0].before) return null;
  const unseen: LineRange[] = [];
  for (let k = 0; k + 1 < segments.length; k++) {
    const gap = { from: segments[k].to + 1, to: segments[k + 1].from - 1 };
    unseen.push(gap);
    if (spans[k]) {
      put(gap.from, `${cut[k].wantsOperand ? '0' : ''}${cut[k + 1].operatorFirst ? '' : ','}`);
      continue;
    }
    const g = groupOf[k];
    const closers = braces[g].close - (g === 0 && ownSignature ? 1 : 0);
    const opened = braces[g + 1].open - (g + 1 === lastGroup && ownClose ? 1 : 0);
    put(gap.from, `${cut[k].after}${UNSEEN_STATEMENT} ${'}'.repeat(closers)} ${openers(cut[k + 1], opened)} ${UNSEEN_STATEMENT} ${cut[k + 1].before}`);
  }
  const open = braces[lastGroup].close;
  const tail = ownClose ? '' : `\n${cut[cut.length - 1].after}${tailOf(open)}`;
  if (!ownClose && open > 0) unseen.push({ from: to + 1, to: to + 1 });
  const def = collectDefinitions(parseC(text.join('\n') + tail, from - 1))[0];
  const f = def && toCFunction(def, true);
  // A parse that does not hold the hunks as whole statements: their structure, and so which paths cross the
  // unseen lines, is not known. One fragment per hunk instead.
  if (!f || f.line !== from || f.endLine < to || f.hasErrors) return null;
  const mended = spans.some(Boolean) || cut.some((c) => c.endsMid || c.startsMid);
  return { ...f, name: (chain.signature && signatureName(chain.signature)) || FRAGMENT_NAME, endLine: to, unseen, ...(mended ? { cut: true } : {}) };
}

/**
 * Where a hunk's text is cut, and the text that mends each end so that it parses as whole statements:
 * `before` goes in front of it (a `/*` when it starts inside a comment, `(`s when it starts inside the
 * arguments of a call, `0 ` when it starts with a binary operator), `after` behind it (a `*\/` when it
 * ends inside a comment; an operand, the closers and a `;` when it ends inside a statement, as
 * `foo(a,` does). `code`: its code with what `before` and `after` stand for left out, to count braces on.
 */
interface Cut {
  before: string;
  after: string;
  code: string;
  /** For each `}` it starts with that closes a block opened before it: whether `while (...)` follows (a do-while). */
  doWhile: boolean[];
  /** It starts inside a statement (closers or an operator before anything else). */
  startsMid: boolean;
  /** It ends inside a statement; `wantsOperand`: with an operator or separator (`foo(a,`). */
  endsMid: boolean;
  wantsOperand: boolean;
  operatorFirst: boolean;
}

const CLOSER: Record<string, string> = { '(': ')', '[': ']' };

function cutOf(text: string): Cut {
  const close = text.indexOf('*/');
  const open = text.indexOf('/*');
  const startsInComment = close >= 0 && (open < 0 || close < open);
  const body = startsInComment ? ' '.repeat(close + 2) + text.slice(close + 2) : text;
  const endsInComment = body.lastIndexOf('/*') > body.lastIndexOf('*/');
  // Preprocessor lines are no part of a statement.
  // A string or character literal is an operand: `0` and blanks in its place, so that `"fmt",` does not read as `,`.
  const literals = (endsInComment ? body.slice(0, body.lastIndexOf('/*')) : body).replace(/"(?:\\.|[^"\\\n])*"|'(?:\\.|[^'\\\n])*'/g, (m) => `0${' '.repeat(m.length - 1)}`);
  const code = blankCommentsAndStrings(literals).replace(/^[ \t]*#.*$/gm, (m) => ' '.repeat(m.length));
  // The first statement: the parentheses it closes without opening them.
  let depth = 0;
  let min = 0;
  for (const ch of code) {
    if (ch === '(' || ch === '[') depth++;
    else if (ch === ')' || ch === ']') min = Math.min(min, --depth);
    else if ((ch === ';' || ch === '{' || ch === '}') && depth <= 0) break;
  }
  const operandFirst = /^\s*(?:&&|\|\||\?|==|!=|<<|>>|,|\|)/.test(code);
  const doWhile: boolean[] = [];
  for (let i = 0, depth = 0; i < code.length; i++) {
    if (code[i] === '{') depth++;
    else if (code[i] === '}' && --depth < -doWhile.length) doWhile.push(/^\s*while\b/.test(code.slice(i + 1, i + 64)));
  }
  const before = startsInComment ? '/*' : `${'('.repeat(-min)}${operandFirst ? '0 ' : ''}`;
  // The last statement: what it leaves open.
  const tail = code.slice(Math.max(code.lastIndexOf(';'), code.lastIndexOf('{'), code.lastIndexOf('}')) + 1);
  const stack: string[] = [];
  for (const ch of tail) {
    if (ch === '(' || ch === '[') stack.push(CLOSER[ch]);
    else if ((ch === ')' || ch === ']') && stack.length) stack.pop();
  }
  const operand = /[,([=+\-*/%&|^!<>?~]\s*$/.test(tail);
  const mend = stack.length || operand ? `${operand ? ' 0' : ''}${stack.reverse().join('')}; ` : '';
  return { before, after: `${endsInComment ? '*/ ' : ''}${mend}`, code, doWhile, startsMid: !startsInComment && before !== '', endsMid: mend !== '', wantsOperand: operand, operatorFirst: operandFirst };
}

/**
 * The `n` openers a hunk's leading `}`s need, outermost first: each the block of an if on a condition
 * nothing decides (`if (kmap_review_unseen) {`), as the block may be an if's, a loop's or one the unseen
 * lines skip: the code up to its `}` may run or not (a `goto` in it ends only its own path), and an `else`
 * after it still has its if. A `}` that a `while (...);` follows ends a do-while: its opener is
 * `do { if (kmap_review_unseen) break;`, as the unseen lines may leave the loop (`while (true)` would
 * else make all that follows unreachable). Every path into the hunk has crossed the unseen statement.
 */
function openers(cut: Cut, n: number): string {
  const out: string[] = [];
  for (let i = 0; i < n; i++) out.push(cut.doWhile[i] ? `do { if (${UNSEEN_CONDITION}) break;` : `if (${UNSEEN_CONDITION}) {`);
  return `${out.reverse().join(' ')} `;
}

/**
 * The line after a hunk that ends inside `open` blocks: the unseen statement, then their closers and the
 * function's. The code after the hunk is not shown: a loop the hunk leaves open goes round through it.
 */
function tailOf(open: number): string {
  return `${open > 0 ? `${UNSEEN_STATEMENT} ` : ''}${'}'.repeat(open)}}`;
}

/** Runs of consecutive lines in `hunks` (adjacent hunks make one run). */
function seenRuns(hunks: readonly SeenHunk[]): LineRange[] {
  const runs: LineRange[] = [];
  for (const h of hunks) {
    const last = runs[runs.length - 1];
    if (last && h.lines.from <= last.to + 1) last.to = Math.max(last.to, h.lines.to);
    else runs.push({ ...h.lines });
  }
  return runs;
}

/**
 * The functions of a sparse image. `touched`: the lines the patch changes there (a fragment without any is
 * not analysed). `hunks`: where the hunks are (without them, every line is taken as seen and no hunks are
 * merged: the behaviour for callers that do not know the hunks).
 */
export function locateFunctionsInSparseImage(text: string, touched: ReadonlySet<number>, hunks?: readonly SeenHunk[]): CFunction[] {
  const lines = text.split('\n');
  const ordered = hunks ? [...hunks].sort((a, b) => a.lines.from - b.lines.from) : null;
  const sparse = ordered ? chainsOf(lines, ordered).map((c) => sparseFunction(lines, c)).filter((f): f is CFunction => f !== null) : [];
  const runs = ordered ? seenRuns(ordered) : [{ from: 1, to: lines.length }];
  const seen = new Uint8Array(lines.length + 2);
  for (const r of runs) seen.fill(1, Math.max(1, r.from), Math.min(lines.length, r.to) + 1);
  const wholeSeen = (f: CFunction) => runs.some((r) => r.from <= f.line && f.endLine <= r.to);
  const inSparse = (f: CFunction) => sparse.some((s) => s.line <= f.endLine && f.line <= s.endLine);
  // A definition starts at a column-0 line: an indented `if (x) {` that the layout scan took for the end of a
  // K&R signature (with the real one unseen, nothing tells it is inside a function) is not one.
  const topLevelStart = (f: CFunction) => /^[A-Za-z_]/.test(lines[f.line - 1] ?? '');
  const complete = locateFunctions(text).filter((f) => wholeSeen(f) && topLevelStart(f) && !inSparse(f) && (!f.hasErrors || f.body.text.trim().endsWith('}')));
  const covered = (line: number) => complete.some((f) => f.line <= line && line <= f.endLine) || sparse.some((f) => f.line <= line && line <= f.endLine);
  const fragments: CFunction[] = [];
  let runStart = -1;
  const flush = (end: number) => {
    if (runStart < 0) return;
    const body = lines.slice(runStart - 1, end).join('\n');
    let hasTouched = false;
    for (let l = runStart; l <= end && !hasTouched; l++) hasTouched = touched.has(l);
    if (hasTouched) {
      // The wrapper sits on the run's first line, so every line keeps its number. A hunk that starts inside
      // a block (` \t}` of the previous one) or ends inside one gets the braces it lacks, on the wrapper's
      // lines, so that it still parses into one pseudo-function instead of being dropped.
      const cut = cutOf(body);
      const { open, close } = missingBraces(cut.code);
      const wrapped = `void ${FRAGMENT_NAME.replace(/\W/g, '_')}(void) {${openers(cut, open)}${cut.before}` + body + `\n${cut.after}${tailOf(close)}`;
      const def = collectDefinitions(parseC(wrapped, runStart - 1))[0];
      const f = def && toCFunction(def, true);
      const mended = cut.startsMid || cut.endsMid;
      if (f) fragments.push(close > 0 || mended ? { ...f, ...(close > 0 ? { unseen: [{ from: end + 1, to: end + 1 }] } : {}), ...(mended ? { cut: true } : {}) } : f);
    }
    runStart = -1;
  };
  for (let l = 1; l <= lines.length; l++) {
    // A blank line inside a hunk stays in the run; two in a row, or a line the patch does not show, end it.
    const inDiff = seen[l] === 1 && (lines[l - 1].trim() !== '' || (runStart > 0 && seen[l + 1] === 1 && l + 1 <= lines.length && lines[l].trim() !== ''));
    if (inDiff && !covered(l)) {
      if (runStart < 0) runStart = l;
    } else flush(l - 1);
  }
  flush(lines.length);
  return [...complete, ...sparse, ...fragments].sort((a, b) => a.line - b.line);
}
