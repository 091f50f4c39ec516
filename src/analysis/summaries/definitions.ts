/**
 * A lexical index of where functions are defined in a tree: name -> files, built from the bytes the tree
 * scan reads anyway (no decoding, no parse). Kernel style puts a definition's `{` alone in column 0 right
 * after its signature, so every "\n{" preceded by `name(...)` names a candidate. It over-approximates (a
 * macro-made definition is indexed under the macro's name, two #ifdef variants are two entries) and the
 * files it names are located properly (source/functions.ts) only when a callee is asked for: the index
 * decides where to look, never what a definition says.
 */


declare module 'node:buffer' {
  interface Buffer {
    /** Node's own fast latin1 decode of a range (used by Buffer.toString). */
    latin1Slice(start: number, end: number): string;
  }
}
/** How far back from the `{` a signature's closing parenthesis may be (a long attribute list, comments). */
const MAX_BACK = 4096;
/** Annotations written between a signature and its body: skipped to find the function's name. */
const ANNOTATION = /^(?:__(?:acquires|releases|must_hold|attribute__|cond_acquires|cond_releases|no_context_analysis)|__printf|__scanf|__malloc|__alloc_size|__must_check|__nocfi)$/;
const KEYWORD = new Set(['if', 'for', 'while', 'switch', 'return', 'sizeof', 'defined']);

/**
 * Byte classes, looked up inline: this runs for each of a tree's ~670,000 braces at the start of a line,
 * and a scan compiles without inlining (cli/v8-flags.ts), where a helper per byte is a call per byte.
 */
const IDENT = 1;
const SPACE = 2;
const CLASS = new Uint8Array(256);
for (let c = 0; c < 256; c++) {
  if ((c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a) || c === 0x5f) CLASS[c] = IDENT;
  else if (c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d) CLASS[c] = SPACE;
}

/** The function name a "\n{" at `brace - 1` closes the signature of, or null. */
/** Whether the line holding `at`, or the one before it (a return type on its own line), starts with `static`. */
function isStaticSignature(b: Buffer, at: number): boolean {
  let start = b.lastIndexOf(0x0a, at) + 1;
  for (let k = 0; k < 2; k++) {
    if (b[start] === 0x73 && b[start + 1] === 0x74 && b[start + 2] === 0x61 && b[start + 3] === 0x74 && b[start + 4] === 0x69 && b[start + 5] === 0x63 && (b[start + 6] === 0x20 || b[start + 6] === 0x09)) return true;
    if (start < 2) return false;
    const prevEnd = start - 1; // the '\n'
    const last = b[prevEnd - 1];
    if (last === 0x3b || last === 0x7d || last === 0x0a || last === 0x2f) return false; // `;`, `}`, blank, comment end
    start = b.lastIndexOf(0x0a, prevEnd - 1) + 1;
  }
  return false;
}

/**
 * The function name a "\n{" at `brace - 1` closes the signature of, or null. `skipStatic`: null for a
 * definition written `static` (a .c file's static functions are only called from that file, which is
 * located whole when analysed).
 */
export function nameBeforeBrace(b: Buffer, brace: number, skipStatic = false): string | null {
  let j = brace - 1;
  const floor = Math.max(0, brace - MAX_BACK);
  for (let tries = 0; tries < 3; tries++) {
    while (j >= floor && CLASS[b[j]] === SPACE) j--;
    if (j < floor || b[j] !== 0x29 /* ) */) return null;
    let depth = 0;
    for (; j >= floor; j--) {
      if (b[j] === 0x29) depth++;
      else if (b[j] === 0x28 /* ( */ && --depth === 0) break;
    }
    if (j < floor) return null;
    j--;
    while (j >= floor && (b[j] === 0x20 || b[j] === 0x09)) j--;
    const end = j + 1;
    while (j >= floor && CLASS[b[j]] === IDENT) j--;
    if (end - (j + 1) < 1 || (b[j + 1] >= 0x30 && b[j + 1] <= 0x39)) return null;
    // The static test first: most of a .c file's definitions are static, and then no name string is made.
    if (skipStatic && isStaticSignature(b, j + 1)) return null;
    const name = b.latin1Slice(j + 1, end);
    if (KEYWORD.has(name)) return null;
    if (!ANNOTATION.test(name)) return name;
  }
  return null;
}

export interface IndexSize {
  files: number;
  names: number;
  definitions: number;
}

/** The distinct names a file's bytes may define, in the order found (what DefinitionIndex.add indexes). */
export function namesDefinedIn(path: string, bytes: Uint8Array): string[] {
  const b = Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const skipStatic = !/\.h$/i.test(path);
  let out: string[] | null = null;
  let seen: Set<string> | null = null;
  // A byte search for '{' (memchr) and a look at the byte before beats searching for "\n{" (~2.5x on Linux 6.1).
  for (let k = b.indexOf(0x7b); k >= 0; k = b.indexOf(0x7b, k + 1)) {
    if (k === 0 || b[k - 1] !== 0x0a) continue;
    const name = nameBeforeBrace(b, k - 1, skipStatic);
    if (!name) continue;
    if (!out) out = [name];
    else if (seen ? !seen.has(name) : !out.includes(name)) {
      out.push(name);
      // Most files define a few names: a set only for the ones that define many.
      if (seen) seen.add(name);
      else if (out.length > 32) seen = new Set(out);
    }
  }
  return out ?? [];
}

export class DefinitionIndex {
  private readonly paths: string[] = [];
  /** name -> the files (indices into paths) that may define it, in the order read. */
  private readonly byName = new Map<string, number | number[]>();
  private entries = 0;
  /** Time spent indexing, in ms (the scan reports it). */
  elapsedMs = 0;

  /** Indexes one file's bytes (a C source or header). */
  add(path: string, bytes: Uint8Array): void {
    const t0 = performance.now();
    this.addNames(path, namesDefinedIn(path, bytes));
    this.elapsedMs += performance.now() - t0;
  }

  /** Indexes one file by the names it was found to define before (namesDefinedIn, kept by the scan cache). */
  addNames(path: string, names: readonly string[]): void {
    if (!names.length) return;
    const id = this.paths.length;
    this.paths.push(path);
    for (const name of names) {
      const had = this.byName.get(name);
      if (had === undefined) this.byName.set(name, id);
      else if (typeof had === 'number') this.byName.set(name, [had, id]);
      else had.push(id);
      this.entries++;
    }
  }

  /** The files that may define `name` (in the order they were indexed): headers, and .c files' non-static definitions. */
  files(name: string): string[] {
    const had = this.byName.get(name);
    if (had === undefined) return [];
    return typeof had === 'number' ? [this.paths[had]] : had.map((i) => this.paths[i]);
  }

  get size(): IndexSize {
    return { files: this.paths.length, names: this.byName.size, definitions: this.entries };
  }
}
