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
const MAX_KEYWORD = 7;

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

/** The name nameSpanBeforeBrace() found: bytes [spanStart, spanEnd) (module state: no object per brace). */
let spanStart = 0;
let spanEnd = 0;

/**
 * Finds the function name a "\n{" at `brace - 1` closes the signature of, into spanStart/spanEnd; false when
 * there is none. `skipStatic`: none for a definition written `static` (a .c file's static functions are only
 * called from that file, which is located whole when analysed). A name string is made only for a name that may
 * be a keyword (7 letters or fewer) or an annotation (`__...`), the rare case: the index of a cold scan keeps
 * hashes of the names (HashedDefinitionIndex), not the names.
 */
function nameSpanBeforeBrace(b: Buffer, brace: number, skipStatic: boolean): boolean {
  let j = brace - 1;
  const floor = Math.max(0, brace - MAX_BACK);
  for (let tries = 0; tries < 3; tries++) {
    while (j >= floor && CLASS[b[j]] === SPACE) j--;
    if (j < floor || b[j] !== 0x29 /* ) */) return false;
    let depth = 0;
    for (; j >= floor; j--) {
      if (b[j] === 0x29) depth++;
      else if (b[j] === 0x28 /* ( */ && --depth === 0) break;
    }
    if (j < floor) return false;
    j--;
    while (j >= floor && (b[j] === 0x20 || b[j] === 0x09)) j--;
    const end = j + 1;
    while (j >= floor && CLASS[b[j]] === IDENT) j--;
    const start = j + 1;
    if (end - start < 1 || (b[start] >= 0x30 && b[start] <= 0x39)) return false;
    // The static test first: most of a .c file's definitions are static, and then no name is looked at.
    if (skipStatic && isStaticSignature(b, start)) return false;
    const annotation = b[start] === 0x5f && b[start + 1] === 0x5f;
    if (annotation || end - start <= MAX_KEYWORD) {
      const name = b.latin1Slice(start, end);
      if (KEYWORD.has(name)) return false;
      if (annotation && ANNOTATION.test(name)) continue;
    }
    spanStart = start;
    spanEnd = end;
    return true;
  }
  return false;
}

/**
 * The function name a "\n{" at `brace - 1` closes the signature of, or null. `skipStatic`: null for a
 * definition written `static`.
 */
export function nameBeforeBrace(b: Buffer, brace: number, skipStatic = false): string | null {
  return nameSpanBeforeBrace(b, brace, skipStatic) ? b.latin1Slice(spanStart, spanEnd) : null;
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

/** Where functions are defined, by name: what the tree summaries look a callee up in. */
export interface DefinitionLookup {
  /** The files that may define `name` (in the order they were indexed): headers, and .c files' non-static definitions. */
  files(name: string): string[];
  readonly size: IndexSize;
  /** Time spent indexing, in ms (the scan reports it). */
  elapsedMs: number;
}

export class DefinitionIndex implements DefinitionLookup {
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

/*
 * Two independent 32-bit hashes of a name (FNV-1a and a multiply-xorshift), over its bytes. Together 64 bits: two of a tree's ~200,000 names share both with odds of
 * about one in 10^9, and a shared pair only adds a file to a name's list (which the summaries take as several
 * definitions, followed by none), never drops one.
 */
let hashA = 0;
let hashB = 0;

function hashBytes(b: Buffer, start: number, end: number): void {
  let x = 0x811c9dc5;
  let y = 0x9747b28c;
  for (let i = start; i < end; i++) {
    const c = b[i];
    x = Math.imul(x ^ c, 0x01000193);
    y = Math.imul(y ^ c, 0x5bd1e995);
    y ^= y >>> 15;
  }
  hashA = x | 0;
  hashB = y | 0;
}

/**
 * The same index as DefinitionIndex, keeping hashes of the names in typed arrays instead of the names: a cold
 * scan indexes every file of the tree (~200,000 names on Linux 6.1) on the thread that reads them, where a
 * string and a map entry per name, all alive until the end, made every young-generation collection of that
 * thread copy them. What it answers is what DefinitionIndex answers (summaries.test.ts compares the two); it
 * cannot list its names, so a scan that keeps its index by file (a result cache) uses DefinitionIndex.
 */
export class HashedDefinitionIndex implements DefinitionLookup {
  private readonly paths: string[] = [];
  /** Open addressing by hashA: both hashes of each name, and its newest entry (-1: an empty slot). */
  private slotA = new Int32Array(1 << 15);
  private slotB = new Int32Array(1 << 15);
  private newest = new Int32Array(1 << 15).fill(-1);
  /** Entries: the file (index into paths) and the name's previous entry (-1: none), newest first. */
  private fileOf = new Int32Array(1 << 16);
  private previous = new Int32Array(1 << 16);
  private names = 0;
  private entries = 0;
  elapsedMs = 0;

  /** Indexes one file's bytes (a C source or header): what DefinitionIndex.add(path, bytes) indexes. */
  add(path: string, bytes: Uint8Array): void {
    const t0 = performance.now();
    const b = Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const skipStatic = !/\.h$/i.test(path);
    let id = -1;
    for (let k = b.indexOf(0x7b); k >= 0; k = b.indexOf(0x7b, k + 1)) {
      if (k === 0 || b[k - 1] !== 0x0a || !nameSpanBeforeBrace(b, k - 1, skipStatic)) continue;
      if (id < 0) {
        id = this.paths.length;
        this.paths.push(path);
      }
      hashBytes(b, spanStart, spanEnd);
      this.insert(id);
    }
    this.elapsedMs += performance.now() - t0;
  }

  files(name: string): string[] {
    // Names are indexed from bytes, read as latin1 (as DefinitionIndex's keys): one with a character past
    // 0xff names nothing, and any other is hashed from the same bytes.
    if (/[^\x00-\xff]/.test(name)) return [];
    const bytes = Buffer.from(name, 'latin1');
    hashBytes(bytes, 0, bytes.length);
    const slot = this.slotOf();
    const out: string[] = [];
    for (let e = this.newest[slot]; e >= 0; e = this.previous[e]) out.push(this.paths[this.fileOf[e]]);
    return out.reverse();
  }

  get size(): IndexSize {
    return { files: this.paths.length, names: this.names, definitions: this.entries };
  }

  /** The slot of the name hashed last (hashA, hashB): its own, or the empty one it would take. */
  private slotOf(): number {
    const mask = this.newest.length - 1;
    for (let i = hashA & mask; ; i = (i + 1) & mask) {
      if (this.newest[i] < 0 || (this.slotA[i] === hashA && this.slotB[i] === hashB)) return i;
    }
  }

  /** Adds file `id` for the name hashed last, once per file (a file's entries are the newest while it is added). */
  private insert(id: number): void {
    let slot = this.slotOf();
    const had = this.newest[slot];
    if (had >= 0 && this.fileOf[had] === id) return;
    if (had < 0) {
      if (2 * (this.names + 1) > this.newest.length) {
        this.grow();
        slot = this.slotOf();
      }
      this.slotA[slot] = hashA;
      this.slotB[slot] = hashB;
      this.names++;
    }
    if (this.entries === this.fileOf.length) {
      this.fileOf = grown(this.fileOf);
      this.previous = grown(this.previous);
    }
    const e = this.entries++;
    this.fileOf[e] = id;
    this.previous[e] = had;
    this.newest[slot] = e;
  }

  /** Twice the slots, every name moved to its slot in the new table. */
  private grow(): void {
    const [a, b, n] = [this.slotA, this.slotB, this.newest];
    const size = n.length * 2;
    this.slotA = new Int32Array(size);
    this.slotB = new Int32Array(size);
    this.newest = new Int32Array(size).fill(-1);
    const mask = size - 1;
    for (let i = 0; i < n.length; i++) {
      if (n[i] < 0) continue;
      let j = a[i] & mask;
      while (this.newest[j] >= 0) j = (j + 1) & mask;
      this.slotA[j] = a[i];
      this.slotB[j] = b[i];
      this.newest[j] = n[i];
    }
  }
}

function grown(a: Int32Array): Int32Array<ArrayBuffer> {
  const out = new Int32Array(a.length * 2);
  out.set(a);
  return out;
}
