/**
 * What a tree scan's callee answers depend on, kept between scans (`scan --cache`, in the result cache's
 * file) so that a re-scan of an unchanged tree neither indexes every file's bytes again nor answers the
 * same callee questions again.
 *
 * Two parts:
 * - the index by file (IndexedFiles): each listed file's stat key, the names it may define and whether it
 *   mentions the API (its blob id when it does). A file whose key is unchanged is not indexed again (its
 *   names are taken as they were), nor even read by a directory re-scan (one stat, by path): whether it
 *   mentions the API and its result cache key are known; the full index is built from those names only when
 *   a question must be answered afresh.
 * - the answers (TreeFacts): each callee name asked about, whether it had a fact a rule can use, and what
 *   the answers read: the files (path and git blob id) and, per name resolved through the index, the files
 *   the index named. Everything carries a sequence number (the order of the answers and second analyses of
 *   the run that made it); the summaries are memoised across answers, so an answer may depend on anything
 *   recorded before it, never after. A re-scan finds the first number whose dependency changed and keeps
 *   only what came before it.
 *
 * Why a stat key for the index and blob ids for the answers: indexing is the scan's pass over every file's
 * bytes (~1.1 GiB for Linux), hashing them all would cost more than indexing. The key is the file's stamp
 * (source/file-stamp.ts: size, inode, mtime and ctime, which no program can set back), and a file written
 * within RACY_MS of the scan's start has none (re-indexed next time), as git's "racy" index entries. The
 * few files the answers read are hashed when read (~200 on Linux 6.1): their content decides the facts, so
 * they are compared by content.
 */
import { DefinitionIndex as Index, HashedDefinitionIndex, namesDefinedIn, type DefinitionIndex, type DefinitionLookup } from './definitions.js';

export interface TreeFacts {
  /**
   * One line per listed file: "path\tkey\tname name ...\tsha", in the order listed (key empty: not trusted;
   * sha: the blob id when the file mentions the API, empty when it does not, the field absent when unknown).
   */
  index: string;
  /** [callee name, has a fact a rule can use, seq] */
  answers: Array<[string, boolean, number]>;
  /** Files the answers read: [path, git blob id, seq] (the first time read). */
  read: Array<[string, string, number]>;
  /** Names resolved through the index: [name, the files it named, seq]. */
  resolved: Array<[string, string[], number]>;
  /** Files whose stored result was made with the tree's summaries: [path, seq]. */
  summarised: Array<[string, number]>;
}

const isStringArray = (v: unknown): v is string[] => Array.isArray(v) && v.every((x) => typeof x === 'string');
const isTuples = (v: unknown, ok: (t: unknown[]) => boolean) => Array.isArray(v) && v.every((t) => Array.isArray(t) && ok(t));
const isSeq = (v: unknown) => typeof v === 'number' && Number.isInteger(v) && v >= 0;

/** The snapshot in `v` when it has the right shape, else null (a damaged cache costs time, never an answer). */
export function readTreeFacts(v: unknown): TreeFacts | null {
  const t = v as Partial<TreeFacts> | null;
  if (!t || typeof t !== 'object' || typeof t.index !== 'string') return null;
  if (!isTuples(t.answers, (a) => a.length === 3 && typeof a[0] === 'string' && typeof a[1] === 'boolean' && isSeq(a[2]))) return null;
  if (!isTuples(t.read, (a) => a.length === 3 && typeof a[0] === 'string' && typeof a[1] === 'string' && isSeq(a[2]))) return null;
  if (!isTuples(t.resolved, (a) => a.length === 3 && typeof a[0] === 'string' && isStringArray(a[1]) && isSeq(a[2]))) return null;
  if (!isTuples(t.summarised, (a) => a.length === 2 && typeof a[0] === 'string' && isSeq(a[1]))) return null;
  return t as TreeFacts;
}

interface FileEntry {
  key: string | null;
  /** Space-separated names (as kept), or the list (as indexed this run). */
  names: string | string[];
  /**
   * What the scan knew of the bytes: their git blob id when they mention the API (a file the scan analyses,
   * whose result the result cache keeps under that id), '' when they do not; undefined: not recorded.
   */
  sha?: string;
}

const namesList = (n: string | string[]): string[] => (typeof n === 'string' ? (n ? n.split(' ') : []) : n);

/** How far ahead of its cursor the snapshot is searched for a file before it is looked up by path. */
const LOOKAHEAD = 64;

/**
 * The index of this run, by file: fed while the tree is read (offer), built into a DefinitionIndex only
 * when asked (index()). The snapshot's lines are in the order the files were listed, as this run's are:
 * it is read with a cursor, a line parsed when its file comes (no map of 55,000 paths is built on a
 * re-scan); only files out of that order (added, deleted) are looked up by path.
 */
export class IndexedFiles {
  private readonly snap: string;
  private at = 0;
  /** Lines the cursor passed over without their file being offered (yet): path -> entry. */
  private readonly passed = new Map<string, FileEntry>();
  /** True once every line left has been moved to `passed` (files far out of order). */
  private byPath = false;
  /** This run's files, in the order offered. */
  private readonly order: Array<{ path: string; e: FileEntry }> = [];
  /** Files indexed from their bytes this run (not unchanged since the snapshot): path -> names. */
  private readonly fresh = new Map<string, string[]>();
  private built: DefinitionIndex | null = null;
  #elapsedMs = 0;
  /** Time spent indexing, ms. */
  get elapsedMs(): number {
    return this.direct ? this.direct.elapsedMs : this.#elapsedMs;
  }
  /** Files whose names were taken from the snapshot. */
  reused = 0;
  /** Of those, files taken as unchanged without being read (keepUnchanged()). */
  unread = 0;
  /**
   * Without `keep` nothing is kept by file (a scan without a result cache): the files go straight into the
   * index, as cheap as a scan without a cache ever was (hashes of their names: HashedDefinitionIndex).
   */
  private readonly direct: HashedDefinitionIndex | null;

  constructor(snapshotIndex?: string, keep = true) {
    this.direct = keep ? null : new HashedDefinitionIndex();
    this.snap = keep ? (snapshotIndex ?? '') : '';
  }

  /** The line at `at`: [path, entry, where the next line starts], or null at the end or on a damaged line. */
  private lineAt(at: number): [string, FileEntry, number] | null {
    if (at >= this.snap.length) return null;
    let nl = this.snap.indexOf('\n', at);
    if (nl < 0) nl = this.snap.length;
    const t1 = this.snap.indexOf('\t', at);
    const t2 = t1 < 0 ? -1 : this.snap.indexOf('\t', t1 + 1);
    // A damaged line: no entry (its file, if any, is indexed from its bytes).
    if (t1 < 0 || t2 < 0 || t2 > nl) return ['', { key: null, names: '' }, nl + 1];
    const t3 = this.snap.indexOf('\t', t2 + 1);
    const key = this.snap.slice(t1 + 1, t2) || null;
    if (t3 < 0 || t3 > nl) return [this.snap.slice(at, t1), { key, names: this.snap.slice(t2 + 1, nl) }, nl + 1];
    return [this.snap.slice(at, t1), { key, names: this.snap.slice(t2 + 1, t3), sha: this.snap.slice(t3 + 1, nl) }, nl + 1];
  }

  /** The snapshot's entry for `path`, taken (each is given once). */
  private take(path: string): FileEntry | undefined {
    if (!this.byPath) {
      // Most files come in the snapshot's order: the line at the cursor, or one a few lines on.
      let at = this.at;
      for (let k = 0; k < LOOKAHEAD; k++) {
        const line = this.lineAt(at);
        if (!line) break;
        if (line[0] === path) {
          for (let skip = this.at; skip < at; ) {
            const l = this.lineAt(skip)!;
            if (l[0]) this.passed.set(l[0], l[1]);
            skip = l[2];
          }
          this.at = line[2];
          return line[1];
        }
        at = line[2];
      }
    }
    const had = this.passed.get(path);
    if (had) {
      this.passed.delete(path);
      return had;
    }
    if (this.byPath || this.at >= this.snap.length) return undefined;
    // Far out of order (a directory added or removed): every line left by path from now on.
    this.byPath = true;
    for (let line = this.lineAt(this.at); line; line = this.lineAt(line[2])) if (line[0]) this.passed.set(line[0], line[1]);
    this.at = this.snap.length;
    return this.take(path);
  }

  /** The entry unchangedSince() took for the file about to be offered (it gives each entry once). */
  private held: { path: string; e: FileEntry | undefined } | null = null;
  private entryOf(path: string): FileEntry | undefined {
    if (this.held?.path === path) {
      const { e } = this.held;
      this.held = null;
      return e;
    }
    this.releaseHeld();
    return this.take(path);
  }
  /** An entry held for a file that was then not offered (unreadable): as if the cursor had passed it. */
  private releaseHeld(): void {
    if (this.held?.e) this.passed.set(this.held.path, this.held.e);
    this.held = null;
  }
  /** Snapshot entries that learnt their sha this run (a snapshot from before the sha was kept). */
  private learnt = 0;

  /**
   * For a file the scan may not need to read: what the snapshot knew of its bytes when its stat key (this
   * run's, by path) is the snapshot's, so the bytes are the ones the last scan read: their blob id when they
   * mentioned the API, '' when they did not. null when the file must be read (another key, none trusted,
   * nothing recorded). Nothing is taken as unchanged until keepUnchanged(); else offer() the bytes next.
   */
  unchangedSince(path: string, key: string | null): string | null {
    if (this.direct || key === null) return null;
    const e = this.entryOf(path);
    this.held = { path, e };
    return e && e.key === key && e.sha !== undefined ? e.sha : null;
  }

  /** The file unchangedSince() answered for is taken as it was (neither read nor indexed). */
  keepUnchanged(path: string): void {
    const e = this.entryOf(path);
    if (!e) throw new Error(`keepUnchanged(${path}) without unchangedSince()`);
    this.reused++;
    this.unread++;
    this.order.push({ path, e });
  }

  /**
   * A file read by the scan: indexed from its bytes unless its key is the snapshot's. `sha`: its blob id
   * when it mentions the API, '' when it does not (undefined: not known, nothing kept about the bytes).
   */
  offer(path: string, key: string | null, bytes: Uint8Array, sha?: string): void {
    if (this.direct) {
      this.direct.add(path, bytes);
      return;
    }
    const had = this.entryOf(path);
    if (had && key !== null && had.key === key) {
      this.reused++;
      if (sha !== undefined && had.sha !== sha) this.learnt++;
      this.order.push({ path, e: sha === undefined || had.sha === sha ? had : { ...had, sha } });
      return;
    }
    const t0 = performance.now();
    const names = namesDefinedIn(path, bytes);
    this.#elapsedMs += performance.now() - t0;
    this.fresh.set(path, names);
    this.order.push({ path, e: { key, names, ...(sha !== undefined ? { sha } : {}) } });
  }

  private gone: Set<string> | null = null;
  /** The snapshot's files not offered in this run (deleted, unreadable, not selected). */
  private goneFiles(): Set<string> {
    if (this.gone) return this.gone;
    this.releaseHeld();
    this.gone = new Set(this.passed.keys());
    for (let line = this.lineAt(this.at); line; line = this.lineAt(line[2])) if (line[0]) this.gone.add(line[0]);
    return this.gone;
  }

  /** Whether this run's index names the same files for `name` as the snapshot's did (`files`). Call after the last offer. */
  unchanged(name: string, files: readonly string[]): boolean {
    const gone = this.goneFiles();
    for (const f of files) {
      if (gone.has(f)) return false;
      const names = this.fresh.get(f);
      if (names && !names.includes(name)) return false;
    }
    return !this.freshDefiners().get(name)?.some((f) => !files.includes(f));
  }

  private definers: Map<string, string[]> | null = null;
  /** name -> the files indexed afresh that define it. */
  private freshDefiners(): Map<string, string[]> {
    if (this.definers) return this.definers;
    this.definers = new Map();
    for (const [path, names] of this.fresh) {
      for (const n of names) {
        const had = this.definers.get(n);
        if (had) had.push(path);
        else this.definers.set(n, [path]);
      }
    }
    return this.definers;
  }

  /** Whether the index differs from the snapshot's (files indexed afresh, gone, or a sha learnt). Call after the last offer. */
  get changed(): boolean {
    return this.fresh.size > 0 || this.learnt > 0 || this.goneFiles().size > 0;
  }

  /** This run's index (built on first use, in the order the files were offered, as a cold scan builds it). */
  index(): DefinitionLookup {
    if (this.direct) return this.direct;
    if (this.built) return this.built;
    const t0 = performance.now();
    const index = new Index();
    for (const { path, e } of this.order) index.addNames(path, namesList(e.names));
    this.#elapsedMs += performance.now() - t0;
    index.elapsedMs = this.#elapsedMs;
    this.built = index;
    return index;
  }

  /** The index part of the next snapshot. */
  serialise(): string {
    const lines: string[] = [];
    for (const { path, e } of this.order) lines.push(`${path}\t${e.key ?? ''}\t${typeof e.names === 'string' ? e.names : e.names.join(' ')}${e.sha !== undefined ? `\t${e.sha}` : ''}`);
    return lines.join('\n');
  }
}

/**
 * The first sequence number whose dependency changed: what the snapshot recorded before it still holds.
 * `shaOf`: a read file's blob id in this run (undefined when it is gone or was not read).
 */
export function firstChanged(facts: TreeFacts, files: IndexedFiles, shaOf: (path: string) => string | undefined): number {
  let first = Infinity;
  for (const [path, sha, seq] of facts.read) if (seq < first && shaOf(path) !== sha) first = seq;
  for (const [name, named, seq] of facts.resolved) if (seq < first && !files.unchanged(name, named)) first = seq;
  return first;
}
