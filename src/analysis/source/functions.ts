/**
 * Finds the C functions of a file and the ones a patch touches.
 *
 * Tree-sitter finds most function definitions even in kernel code. Macro-heavy ones (SYSCALL_DEFINE3,
 * attribute soup) can come out as ERROR nodes; kernel style puts a function's `{` and `}` alone in
 * column 0, so any such block not covered by a parsed function is re-parsed on its own.
 */
import { SyntaxNode } from '../syntax/ast.js';
import { parseC } from '../syntax/parser.js';
import { normalizeKernelSource } from '../syntax/kernel-idioms.js';
import { blankCommentsAndStrings } from '../syntax/blank.js';
import { linesOf } from './lines.js';
import type { LineRange } from '../model.js';

export interface CFunction {
  name: string;
  /** The function_definition node. */
  node: SyntaxNode;
  body: SyntaxNode;
  line: number;
  endLine: number;
  /** True for a pseudo-function made from hunk lines whose enclosing function is not in the diff. */
  fragment: boolean;
  /** True when the parse of this function has ERROR or MISSING nodes (analyses must tolerate them). */
  hasErrors: boolean;
  isStatic: boolean;
  /** The declared return type as written, e.g. "void *" or "int". */
  returnType: string;
  /** The function's source text (signature and body), available without parsing it. */
  text: string;
  /**
   * A sparse function (several hunks of one function, reviewed without the tree): the stretches between
   * its hunks that the patch does not show. Each holds an opaque statement the replay knows as unseen code.
   */
  unseen?: readonly LineRange[];
  /** A hunk of it starts or ends inside a statement, mended to parse (source/sparse.ts): the cut part was not checked. */
  cut?: boolean;
}

export const FRAGMENT_NAME = '<hunk>';

function declaratorName(decl: SyntaxNode | null): string | null {
  let d = decl;
  while (d) {
    if (d.type === 'identifier' || d.type === 'field_identifier') return d.text;
    const next = d.child('declarator');
    if (!next) {
      // SYSCALL_DEFINE3(name, ...) style: a call-like declarator; take its first identifier.
      const id = d.namedChildren.find((c) => c.type === 'identifier');
      return id ? id.text : null;
    }
    d = next;
  }
  return null;
}

function pointerDepth(decl: SyntaxNode | null): number {
  let depth = 0;
  for (let d = decl; d; d = d.child('declarator')) if (d.type === 'pointer_declarator') depth++;
  return depth;
}

export function toCFunction(node: SyntaxNode, fragment = false): CFunction | null {
  const body = node.child('body');
  if (!body) return null;
  const decl = node.child('declarator');
  const name = fragment ? FRAGMENT_NAME : declaratorName(decl);
  if (!name) return null;
  const type = node.child('type')?.text ?? 'int';
  const isStatic = node.children.some((c) => c.type === 'storage_class_specifier' && c.text === 'static');
  return {
    name,
    node,
    body,
    line: node.line,
    endLine: node.endLine,
    fragment,
    hasErrors: node.hasError(),
    isStatic,
    returnType: type + ' ' + '*'.repeat(pointerDepth(decl)),
    text: node.text,
  };
}

export function collectDefinitions(root: SyntaxNode): SyntaxNode[] {
  const out: SyntaxNode[] = [];
  root.walk((n) => {
    if (n.type === 'function_definition') {
      out.push(n);
      return false;
    }
  });
  return out;
}

interface Block {
  /** Line of the opening brace: alone in column 0, or ending a column-0 signature line (`sameLine`). */
  open: number;
  close: number;
  sameLine: boolean;
}

/** The last, indented line of a multi-line K&R-style signature: `\t\t unsigned int len) {`. */
const INDENTED_HEADER_END = /^[ \t]+[^;{}=#\s][^;{}=#]*\)[ \t]*\{[ \t]*(?:\/\*.*\*\/[ \t]*)?\r?$/;

/** A column-0 `}` alone (or with a comment): how a function body ends, unlike `};` or `} name;`. */
export const FUNCTION_CLOSE = /^\}[ \t]*(?:\/\*.*\*\/[ \t]*|\/\/.*)?\r?$/;

/**
 * Lines (1-based) of column-0 `{` ... `}` blocks: the kernel-style function bodies. With `sameLine`, a
 * signature line ending in `) {` opens one too (in column 0, or indented between functions), and `otherLayout` says whether the file has code these
 * blocks do not account for: such a block that never met its column-0 `}`, or a function-closing `}`
 * with no block open (a body opened on an indented `...) {` line). Only a whole-file parse can cut
 * that code into functions.
 */
function kernelStyleBlocks(lines: readonly string[], sameLine = false): { blocks: Block[]; otherLayout: boolean } {
  const blocks: Block[] = [];
  let open = -1;
  let openSameLine = false;
  let otherLayout = false;
  for (let i = 0; i < lines.length; i++) {
    const l = lines[i];
    // Between functions, an indented line ending in `) {` ends a K&R-style signature that started in column 0.
    const header = sameLine && (isSameLineBraceHeader(l) || (open < 0 && INDENTED_HEADER_END.test(l)));
    if (l.startsWith('{') || header) {
      if (open > 0 && openSameLine) otherLayout = true;
      open = i + 1;
      openSameLine = header;
    } else if (l.startsWith('}')) {
      if (open > 0) blocks.push({ open, close: i + 1, sameLine: openSameLine });
      else if (sameLine && FUNCTION_CLOSE.test(l) && !(lines[i - 1] ?? '').endsWith('\\')) otherLayout = true; // not a macro body's end
      open = -1;
    }
  }
  return { blocks, otherLayout: otherLayout || (open > 0 && openSameLine) };
}

/** The name a macro-made signature defines: SYSCALL_DEFINE2(kmap_demo, ...) -> kmap_demo. */
export function signatureName(signature: string): string | null {
  const define = /\b[A-Z][A-Z0-9_]*DEFINE\w*\s*\(\s*(\w+)/.exec(signature);
  if (define) return define[1];
  // The first `identifier (` once attribute macros are blanked: also right for `void (*get(int))(void)`.
  const plain = normalizeKernelSource(signature).text.replace(/__attribute__\s*\(\(.*?\)\)/g, '');
  for (const m of plain.matchAll(/([A-Za-z_]\w*)\s*\(/g)) if (!/^(?:__attribute__|typeof|__typeof__|__declspec)$/.test(m[1])) return m[1];
  return null;
}

/**
 * Parses the lines sig..close on their own. When even that yields no function definition (a signature
 * made by a macro), the signature is replaced by `void NAME(void)` on its last line so the body still
 * gets analysed with the right line numbers.
 */
function parseBlockAsFunction(lines: readonly string[], sig: number, open: number, close: number): CFunction | null {
  const snippet = lines.slice(sig - 1, close).join('\n');
  const def = collectDefinitions(parseC(snippet, sig - 1))[0];
  const f = def && toCFunction(def);
  if (f) return f;
  const name = signatureName(lines.slice(sig - 1, open - 1).join(' '));
  if (!name) return null;
  const stub = lines.slice(sig - 1, open - 1).map(() => '');
  stub[stub.length - 1] = `void ${name}(void)`;
  const text = [...stub, ...lines.slice(open - 1, close)].join('\n');
  const stubDef = collectDefinitions(parseC(text, sig - 1))[0];
  return (stubDef && toCFunction(stubDef)) ?? null;
}

/**
 * A function found by the kernel-style scan. Its syntax tree is parsed on first use, from its own
 * lines only: most functions of a file are never looked at beyond their name and line range, and
 * parsing a 10,000-line file whole costs more than reviewing the patch.
 */
class LazyFunction implements CFunction {
  private parsed: CFunction | null = null;
  private joined: string | undefined;
  readonly fragment = false;

  constructor(
    private readonly lines: readonly string[],
    readonly name: string,
    readonly line: number,
    private readonly open: number,
    readonly endLine: number,
  ) {}

  /** Line of the body's opening brace. */
  get openLine(): number {
    return this.open;
  }

  private get p(): CFunction {
    if (!this.parsed) {
      this.parsed = parseBlockAsFunction(this.lines, this.line, this.open, this.endLine);
      if (!this.parsed) {
        // Unparseable signature: analyse the body under a stub signature with the scanned name.
        const text = [...this.lines.slice(this.line - 1, this.open - 2).map(() => ''), `void ${this.name}(void)`, ...this.lines.slice(this.open - 1, this.endLine)].join('\n');
        const def = collectDefinitions(parseC(text, this.line - 1))[0];
        this.parsed = (def && toCFunction(def)) ?? null;
      }
      if (!this.parsed) {
        // Not C at all (e.g. a function body inside a multi-line #define): analyse nothing rather than
        // fail the review; hasErrors tells the rules this function's code was not understood.
        const def = collectDefinitions(parseC(`void ${this.name}(void)\n{\n}`, this.open - 2))[0];
        this.parsed = { ...toCFunction(def)!, hasErrors: true, text: this.text };
      }
    }
    return this.parsed;
  }

  get node(): SyntaxNode {
    return this.p.node;
  }
  get body(): SyntaxNode {
    return this.p.body;
  }
  get hasErrors(): boolean {
    return this.p.hasErrors;
  }
  get isStatic(): boolean {
    // The signature's lines (for a K&R-style `) {` header, its own line too).
    return /^\s*static\b/.test(this.lines.slice(this.line - 1, Math.max(this.open - 1, this.line)).join(' '));
  }
  get returnType(): string {
    return this.p.returnType;
  }
  get text(): string {
    // Asked often (text prefilters before any parse): joined once.
    return (this.joined ??= this.lines.slice(this.line - 1, this.endLine).join('\n'));
  }
}

/** A column-0 line ending in `) {`: a function written K&R-style, which the kernel-style scan would miss. */
const SAME_LINE_BRACE_HEADER = /^[A-Za-z_][^;{}=#]*\)[ \t]*\{[ \t]*(?:\/\*.*\*\/[ \t]*)?\r?$/;

/** The regex only on lines that can match (a cheap first test): over a whole big file it showed in profiles. */
function isSameLineBraceHeader(l: string): boolean {
  const c = l.charCodeAt(0);
  const identStart = (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 95;
  return identStart && l.includes('{') && SAME_LINE_BRACE_HEADER.test(l);
}

/**
 * All functions of a file, ordered by line: cut by layout (kernel style, and K&R-style `) {` headers whose
 * body closes in column 0), each parsed on first use; by a whole-file parse for any other layout.
 */
export function locateFunctions(text: string): CFunction[] {
  const lines = linesOf(text);
  const { blocks, otherLayout } = kernelStyleBlocks(lines, true);
  if (otherLayout) return locateFunctionsByParse(text, lines);
  const fns: CFunction[] = [];
  for (const block of blocks) {
    // A same-line header is the signature's last line; the brace (and anything after it) is not part of it.
    const sig = signatureStart(lines, block.sameLine ? block.open + 1 : block.open);
    const signature = block.sameLine
      ? [...lines.slice(sig - 1, block.open - 1), lines[block.open - 1].slice(0, lines[block.open - 1].lastIndexOf('{'))].join(' ')
      : lines.slice(sig - 1, block.open - 1).join(' ');
    const name = signatureName(signature);
    if (!name || (!block.sameLine && sig >= block.open)) continue; // a bare block: an initializer or stray braces, not a function
    fns.push(new LazyFunction(lines, name, sig, block.open, block.close));
  }
  return fns;
}

/**
 * The same functions over an edited text with the same line structure (a conversion made of in-line
 * edits): no scan, no whole-file parse, each function parsed from its own lines when first used. The text
 * may be given as its lines; `editedLines` (the lines the edits touched) spares comparing every function.
 */
export function relocateFunctions(fns: readonly CFunction[], text: string | readonly string[], editedLines?: ReadonlySet<number>): CFunction[] {
  const lines = typeof text === 'string' ? linesOf(text) : text;
  const untouched = (f: CFunction) => {
    if (!editedLines) return f.text === lines.slice(f.line - 1, f.endLine).join('\n');
    for (const l of editedLines) if (l >= f.line && l <= f.endLine) return false;
    return true;
  };
  return fns.filter((f) => !f.fragment).map((f) => {
    // A function the edits left alone is the same function: reuse it, and its parse if it has one (the
    // helpers and callers the rules look at are mostly such functions).
    if (f instanceof LazyFunction && untouched(f)) return f;
    return new LazyFunction(lines, f.name, f.line, f instanceof LazyFunction ? f.openLine : f.body.line, f.endLine);
  });
}

/** The first line of the signature above a column-0 `{`: back to a blank line or the end of the previous item. */
function signatureStart(lines: readonly string[], open: number): number {
  let sig = open - 1;
  for (;;) {
    while (sig > 1 && lines[sig - 2].trim() !== '' && !/(?:[;}]|\*\/)\s*$/.test(lines[sig - 2]) && !lines[sig - 2].startsWith('#')) sig--;
    // A comment ending above: the doc comment before the signature, unless it began after a parameter
    // on its line (`const struct key *k,\t/* Key to look for ... */`), which is still the signature.
    const from = sig > 1 && /\*\/\s*$/.test(lines[sig - 2]) ? commentOpening(lines, sig - 1) : 0;
    if (!from || !/[A-Za-z0-9_,)*]\s*\/\*/.test(lines[from - 1])) return sig;
    sig = from;
  }
}

/** The line (1-based) where the comment closed on `line` opens, looking back a few lines; 0 if not found. */
function commentOpening(lines: readonly string[], line: number): number {
  for (let l = line; l >= Math.max(1, line - 10); l--) {
    const t = lines[l - 1];
    const close = l === line ? t.lastIndexOf('*/') : t.length;
    if (t.lastIndexOf('/*', close) >= 0) return l;
  }
  return 0;
}

/** Functions of any C layout, by parsing the whole file (slower; for code not in kernel style). */
export function locateFunctionsByParse(text: string, lines: readonly string[] = linesOf(text)): CFunction[] {
  const root = parseC(text);
  const fns: CFunction[] = [];
  for (const def of collectDefinitions(root)) {
    const f = toCFunction(def);
    if (f) fns.push(f);
  }
  for (const block of kernelStyleBlocks(lines).blocks) {
    if (fns.some((f) => f.line <= block.open && f.endLine >= block.close)) continue;
    const f = parseBlockAsFunction(lines, signatureStart(lines, block.open), block.open, block.close);
    if (f && !fns.some((g) => g.line === f.line)) fns.push(f);
  }
  return fns.sort((a, b) => a.line - b.line);
}

/**
 * Braces a hunk's text lacks: `open` before it (closers with no opener in the text) and `close` after it
 * (openers never closed). Comments, strings and character literals are skipped.
 */
export function missingBraces(text: string): { open: number; close: number } {
  const blanked = blankCommentsAndStrings(text);
  // A hunk may end inside a comment: a `/*` left after blanking is one that never closes.
  const unclosed = blanked.indexOf('/*');
  const code = unclosed < 0 ? blanked : blanked.slice(0, unclosed);
  let depth = 0;
  let min = 0;
  for (const ch of code) {
    if (ch === '{') depth++;
    else if (ch === '}') min = Math.min(min, --depth);
  }
  return { open: Math.max(0, -min), close: depth - min };
}

export function functionsTouching(fns: CFunction[], lines: ReadonlySet<number>): CFunction[] {
  if (lines.size === 0) return [];
  return fns.filter((f) => {
    for (let l = f.line; l <= f.endLine; l++) if (lines.has(l)) return true;
    return false;
  });
}

export interface FunctionPair {
  pre: CFunction | null;
  post: CFunction | null;
}

/** Token-set similarity of two bodies, to pair a renamed function with its old self. */
function similarity(a: CFunction, b: CFunction): number {
  const tokens = (f: CFunction) => new Set(f.text.match(/\w+/g) ?? []);
  const ta = tokens(a);
  const tb = tokens(b);
  let common = 0;
  for (const t of ta) if (tb.has(t)) common++;
  return (2 * common) / (ta.size + tb.size || 1);
}

/**
 * Pairs the changed functions of the post-image with their pre-image versions: by name first (a moved
 * function pairs up wherever it went), then a renamed one by body similarity.
 */
export function pairFunctions(pre: CFunction[], post: CFunction[], changedPre: CFunction[], changedPost: CFunction[]): FunctionPair[] {
  const pairs: FunctionPair[] = [];
  const usedPre = new Set<CFunction>();
  const byName = (fns: CFunction[], name: string) => fns.find((f) => f.name === name && !f.fragment);
  for (const p of changedPost) {
    const match = p.fragment ? changedPre.find((q) => q.fragment && !usedPre.has(q) && q.line <= p.endLine && q.endLine >= p.line) : byName(pre, p.name);
    if (match) usedPre.add(match);
    pairs.push({ pre: match ?? null, post: p });
  }
  for (const q of changedPre) {
    if (usedPre.has(q)) continue;
    if (!q.fragment && byName(post, q.name)) {
      // Changed only by deletions: its post version was not in changedPost.
      const p = byName(post, q.name)!;
      if (!pairs.some((x) => x.post === p)) pairs.push({ pre: q, post: p });
      continue;
    }
    pairs.push({ pre: q, post: null });
  }
  // Renames: an unmatched post function and an unmatched pre function with similar bodies.
  for (const pair of pairs) {
    if (pair.pre || !pair.post || pair.post.fragment) continue;
    let best: FunctionPair | null = null;
    let bestScore = 0.6;
    for (const other of pairs) {
      if (other.post || !other.pre || other.pre.fragment) continue;
      const s = similarity(other.pre, pair.post);
      if (s > bestScore) {
        best = other;
        bestScore = s;
      }
    }
    if (best) {
      pair.pre = best.pre;
      pairs.splice(pairs.indexOf(best), 1);
    }
  }
  return pairs;
}
