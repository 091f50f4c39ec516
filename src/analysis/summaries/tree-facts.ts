/**
 * What a tree scan's callee answers depend on, kept between scans (`scan --cache`, in the result cache's
 * file) so that a re-scan of an unchanged tree neither indexes every file's bytes again nor answers the
 * same callee questions again.
 *
 * Two parts:
 * - the index by file (IndexedFiles): each listed file's stat key and the names it may define. A file
 *   whose key is unchanged is not indexed again (its names are taken as they were); the full index is
 *   built from those names only when a question must be answered afresh.
 * - the answers (TreeFacts): each callee name asked about, whether it had a fact a rule can use, and what
 *   the answers read: the files (path and git blob id) and, per name resolved through the index, the files
 *   the index named. Everything carries a sequence number (the order of the answers and second analyses of
 *   the run that made it); the summaries are memoised across answers, so an answer may depend on anything
 *   recorded before it, never after. A re-scan finds the first number whose dependency changed and keeps
 *   only what came before it.
 *
 * Why a stat key for the index and blob ids for the answers: indexing is the scan's pass over every file's
 * bytes (~1.1 GiB for Linux), hashing them all would cost more than indexing. The key is (size, inode,
 * mtime, ctime): every write to a file sets its ctime to the current time, and no program can set a ctime
 * (utimes() sets it too), so a file with the same key has not been written since, unless the clock went
 * back. A file written within RACY_MS of the scan's start is not keyed at all (re-indexed next time): two
 * writes within one tick of the filesystem's clock (a jiffy, or 2 s on FAT) could leave one key, as git's
 * "racy" index entries. The few files the answers read are hashed when read (~200 on Linux 6.1): their
 * content decides the facts, so they are compared by content.
 */
import type { DefinitionIndex } from './definitions.js';
import { DefinitionIndex as Index, namesDefinedIn } from './definitions.js';

/** A file changed this close to the scan's start (ms) is not trusted by its stat key next time. */
export const RACY_MS = 3000;

/** The stat key of a file (see above), or null when it must not be trusted. */
export function statKey(st: { size: number; ino: number; mtimeMs: number; ctimeMs: number }, startedAt: number, racyMs = RACY_MS): string | null {
  if (Math.max(st.mtimeMs, st.ctimeMs) >= startedAt - racyMs) return null;
  return `${st.size}:${st.ino}:${st.mtimeMs}:${st.ctimeMs}`;
}

export interface TreeFacts {
  /** One line per listed file: "path\tkey\tname name ...", in the order listed (key empty: not trusted). */
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
}

const namesList = (n: string | string[]): string[] => (typeof n === 'string' ? (n ? n.split(' ') : []) : n);

/**
 * The index of this run, by file: fed while the tree is read (offer), built into a DefinitionIndex only
 * when asked (index()).
 */
export class IndexedFiles {
  private readonly earlier = new Map<string, FileEntry>();
  private readonly now = new Map<string, FileEntry>();
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

  /**
   * Without `keep` nothing is kept by file (a scan without a result cache): the files go straight into the
   * index, as cheap as a scan without a cache ever was.
   */
  private readonly direct: DefinitionIndex | null;

  constructor(snapshotIndex?: string, keep = true) {
    this.direct = keep ? null : new Index();
    if (!snapshotIndex || !keep) return;
    let at = 0;
    while (at < snapshotIndex.length) {
      let nl = snapshotIndex.indexOf('\n', at);
      if (nl < 0) nl = snapshotIndex.length;
      const t1 = snapshotIndex.indexOf('\t', at);
      const t2 = t1 < 0 ? -1 : snapshotIndex.indexOf('\t', t1 + 1);
      if (t2 > 0 && t2 < nl) {
        const key = snapshotIndex.slice(t1 + 1, t2);
        if (key) this.earlier.set(snapshotIndex.slice(at, t1), { key, names: snapshotIndex.slice(t2 + 1, nl) });
      }
      at = nl + 1;
    }
  }

  /** A file read by the scan: indexed from its bytes unless its key is the snapshot's. */
  offer(path: string, key: string | null, bytes: Uint8Array): void {
    if (this.direct) {
      this.direct.add(path, bytes);
      return;
    }
    const had = key === null ? undefined : this.earlier.get(path);
    if (had && had.key === key) {
      this.reused++;
      this.now.set(path, had);
      return;
    }
    const t0 = performance.now();
    const names = namesDefinedIn(path, bytes);
    this.#elapsedMs += performance.now() - t0;
    this.fresh.set(path, names);
    this.now.set(path, { key, names });
  }

  /** Whether the snapshot's index named the same files for every one of `resolved` as this run's does. */
  unchanged(name: string, files: readonly string[]): boolean {
    for (const f of files) {
      const e = this.now.get(f);
      if (!e) return false; // deleted, unreadable or not selected
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

  /** Whether the index differs from the snapshot's (files indexed afresh, or gone). */
  get changed(): boolean {
    return this.fresh.size > 0 || this.now.size !== this.earlier.size;
  }

  /** This run's index (built on first use, in the order the files were offered, as a cold scan builds it). */
  index(): DefinitionIndex {
    if (this.direct) return this.direct;
    if (this.built) return this.built;
    const t0 = performance.now();
    const index = new Index();
    for (const [path, e] of this.now) index.addNames(path, namesList(e.names));
    this.#elapsedMs += performance.now() - t0;
    index.elapsedMs = this.#elapsedMs;
    this.built = index;
    return index;
  }

  /** The index part of the next snapshot. */
  serialise(): string {
    const lines: string[] = [];
    for (const [path, e] of this.now) lines.push(`${path}\t${e.key ?? ''}\t${typeof e.names === 'string' ? e.names : e.names.join(' ')}`);
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
