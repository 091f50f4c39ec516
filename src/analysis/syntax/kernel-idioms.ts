/**
 * Kernel idioms that tree-sitter-c cannot parse, rewritten before parsing with substitutions of the
 * SAME LENGTH, so that every offset, line and column of the parsed text matches the original source.
 *
 * - Attribute-like macros (`__init`, `__user`, `__must_hold(lock)`) are blanked out: they only leave
 *   ERROR nodes in declarations.
 * - Iterator macros used as loop heads (`list_for_each_entry(pos, head, member) {`, `for_each_sg(...)`
 *   followed by a single statement) get their name replaced by `while` padded with spaces, so they
 *   parse as `while (pos, head, member)`: a loop whose condition is unknown, with every argument still
 *   at its original offset. Without this the statement after a brace-less iterator is swallowed into a
 *   bogus expression. The macro names are returned so the CFG can tell an iterator loop from a `while`.
 */

const BLANKED_WORDS = [
  '__init', '__exit', '__user', '__iomem', '__force', '__rcu', '__percpu', '__must_check', '__always_inline',
  'noinline', '__maybe_unused', '__cold', '__hot', '__pure', '__latent_entropy', '__ref', '__sched', '__visible',
  'notrace', '__bitwise', '__kprobes', 'asmlinkage', '__weak', '__initdata', '__read_mostly', '__noreturn',
  '__attribute_const__', '__noinline', '__always_unused', '__nocfi', 'noinstr', '__flatten', '__meminit',
  '__devinit', '__cpuinit', '__net_init', '__net_exit', '__malloc', '__counted_by_ptr', '__nonstring',
];
const BLANKED_CALLS = [
  '__must_hold', '__acquires', '__releases', '__cond_acquires', '__cond_releases', '__printf', '__scanf',
  '__aligned', '__section', '__counted_by', '__alloc_size', '__diagnose_as', '__assume_aligned',
];

const WORD_RE = new RegExp(`\\b(?:${BLANKED_WORDS.join('|')})\\b`, 'g');
const CALL_RE = new RegExp(`\\b(?:${BLANKED_CALLS.join('|')})\\s*\\(`, 'g');
/** `text` without the kernel's annotation words (`__always_inline`, `__must_check`, ...), the ones blanked before parsing. */
export function withoutAnnotations(text: string): string {
  return text.replace(WORD_RE, ' ');
}

/** An identifier that names a loop-like macro: list_for_each_entry, for_each_sg, xa_for_each, scoped_guard. */
export const ITERATOR_MACRO_RE = /^(?:\w*for_each\w*|\w*_foreach\w*|scoped_guard|scoped_cond_guard)$/;
const ITERATOR_CANDIDATE_RE = /\b(\w*for_each\w*|\w*_foreach\w*|scoped_guard|scoped_cond_guard)\s*\(/g;

export interface NormalizedSource {
  text: string;
  /** Offset of the rewritten `while` keyword -> the iterator macro it stands for. */
  iteratorLoops: Map<number, string>;
}

/** Index just past the parenthesis that closes the one at `open`, or -1 (strings and chars respected). */
export function matchParen(s: string, open: number): number {
  let depth = 0;
  for (let i = open; i < s.length; i++) {
    const c = s[i];
    if (c === '(') depth++;
    else if (c === ')') {
      if (--depth === 0) return i + 1;
    } else if (c === '"' || c === "'") {
      for (i++; i < s.length && s[i] !== c; i++) if (s[i] === '\\') i++;
    } else if (c === ';' || c === '{' || c === '}') return -1; // not a plausible macro argument list
  }
  return -1;
}

function blank(chars: string[], from: number, to: number): void {
  for (let i = from; i < to; i++) if (chars[i] !== '\n') chars[i] = ' ';
}

export function normalizeKernelSource(src: string): NormalizedSource {
  const iteratorLoops = new Map<number, string>();
  // Fast path: most text has none of these; avoid copying it into an array.
  const hasWords = WORD_RE.test(src);
  WORD_RE.lastIndex = 0;
  const hasCalls = CALL_RE.test(src);
  CALL_RE.lastIndex = 0;
  // The literal test first: the regex's `\w*for_each\w*` backtracks through every word of the text, and it
  // ran on every parsed function and every signature of a scanned file (a few per cent of a tree scan).
  const hasIterators = (src.includes('for_each') || src.includes('_foreach') || src.includes('scoped_')) && ITERATOR_CANDIDATE_RE.test(src);
  ITERATOR_CANDIDATE_RE.lastIndex = 0;
  if (!hasWords && !hasCalls && !hasIterators) return { text: src, iteratorLoops };

  const chars = src.split('');
  for (const m of src.matchAll(WORD_RE)) blank(chars, m.index, m.index + m[0].length);
  for (const m of src.matchAll(CALL_RE)) {
    const open = m.index + m[0].length - 1;
    const close = matchParen(src, open);
    if (close > 0) blank(chars, m.index, close);
  }
  for (const m of src.matchAll(ITERATOR_CANDIDATE_RE)) {
    const name = m[1];
    const start = m.index;
    // Only at the start of a statement: preceded on its line by whitespace, or by `else`/`)`.
    const lineStart = src.lastIndexOf('\n', start - 1) + 1;
    const before = src.slice(lineStart, start).trim();
    if (before !== '' && before !== 'else' && !before.endsWith(')') && !before.endsWith('{') && !before.endsWith('}')) continue;
    if (before.endsWith(')') && !/^(?:if|while|for)\b|else\s+if\b/.test(before)) continue;
    const open = start + m[0].length - 1;
    const close = matchParen(src, open);
    if (close < 0) continue;
    // A macro call used as a loop head is followed by `{` or a statement, never by `;` or an operator.
    let k = close;
    while (k < src.length && (src[k] === ' ' || src[k] === '\t' || src[k] === '\\' || src[k] === '\n' || src[k] === '\r')) k++;
    if (k >= src.length || src[k] === ';' || src[k] === ')' || src[k] === ',' || /[=+\-*/%&|^<>?:.]/.test(src[k])) continue;
    const keyword = 'while' + ' '.repeat(name.length - 5);
    for (let i = 0; i < keyword.length; i++) chars[start + i] = keyword[i];
    iteratorLoops.set(start, name);
  }
  return { text: chars.join(''), iteratorLoops };
}
