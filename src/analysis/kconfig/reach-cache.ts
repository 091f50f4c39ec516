/**
 * The Kconfig reach's answers kept between scans (`scan --cache`): a re-scan of a tree whose build files did
 * not change reads no Kconfig file and no Makefile, only checks their stamps (tree-reader.ts: for a
 * directory the scan's file stamps, source/file-stamp.ts - one lstat per file; the blob id for a commit -
 * given by the `git ls-tree` that lists the build files anyway).
 *
 * What an answer depends on is what the reach read to give it; this module records every path read (with
 * its stamp, taken before the read, NO_FILE for a file that was missing - a Kbuild file added later changes
 * the answer too) and every directory listed (arch/ for `source "arch/$(SRCARCH)/Kconfig"`). The record is
 * one set for all the answers of a run, not one per answer: any symbol's answer depends on every Kconfig
 * file (a definition anywhere can join it), so a changed build file recomputes everything - which costs one
 * cold reach, ~0.1 s. Answers and stamps from an earlier run are reused only when every recorded stamp is
 * still the same; otherwise nothing of it is (a stale or damaged record, or one whose stamps are in an
 * older format, only costs the time to recompute).
 */
import type { Restriction } from './reach.js';
import { KconfigReach } from './reach.js';
import { NO_FILE, UNSTABLE, treePath, type TreeReader } from './tree-reader.js';

/** The JSON form of a cache: what a store keeps (scan/reach-cache-file.ts). */
export interface ReachRecord {
  /** [path, stamp] of every file read. */
  files: Array<[string, string]>;
  /** [directory, its subdirectories joined by '/'] of every directory listed. */
  lists: Array<[string, string]>;
  /** [C file, its restriction or null] */
  answers: Array<[string, Restriction | null]>;
}

/** A record read from somewhere untrusted, checked in shape; null when it is not one. */
export function asReachRecord(v: unknown): ReachRecord | null {
  const r = v as Partial<ReachRecord> | null;
  if (!r || typeof r !== 'object' || !Array.isArray(r.files) || !Array.isArray(r.lists) || !Array.isArray(r.answers)) return null;
  const pairOf = (x: unknown): x is [string, string] => Array.isArray(x) && x.length === 2 && typeof x[0] === 'string' && typeof x[1] === 'string';
  const answerOf = (x: unknown): x is [string, Restriction | null] => {
    if (!Array.isArray(x) || x.length !== 2 || typeof x[0] !== 'string') return false;
    const a = x[1] as Partial<Restriction> | null;
    return a === null || (typeof a === 'object' && Array.isArray(a.evidence) && a.evidence.every((e) => typeof e === 'string'));
  };
  if (!r.files.every(pairOf) || !r.lists.every(pairOf) || !r.answers.every(answerOf)) return null;
  return { files: r.files, lists: r.lists, answers: r.answers };
}

const listStamp = (list: string[] | null) => (list === null ? NO_FILE : list.join('/'));

/** Whether every file and directory a record depends on is as it was. Stops at the first difference. */
export function recordHolds(record: ReachRecord, reader: TreeReader): boolean {
  if (!reader.stamp) return false;
  for (const [path, stamp] of record.files) if (stamp === UNSTABLE || reader.stamp(path) !== stamp) return false;
  for (const [dir, stamp] of record.lists) if (listStamp(reader.list(dir)) !== stamp) return false;
  return true;
}

/**
 * The reach of a tree with the answers of an earlier run: `reachOf` answers from the record while it holds,
 * and computes (reading the tree through a recording reader) what it does not have. `record()` is what to
 * keep for the next run: the answers asked for in this one, and the stamps they depend on.
 */
export class CachedReach {
  readonly #reader: TreeReader;
  readonly #earlier: Map<string, Restriction | null>;
  readonly #earlierRecord: ReachRecord | null;
  #reach: KconfigReach | null = null;
  readonly #files = new Map<string, string>();
  readonly #lists = new Map<string, string>();
  readonly #asked = new Map<string, Restriction | null>();
  /** Answers computed in this run (the others came from the record). */
  computed = 0;

  constructor(reader: TreeReader, earlier?: ReachRecord | null) {
    this.#reader = reader;
    const holds = !!earlier && recordHolds(earlier, reader);
    this.#earlierRecord = holds ? earlier! : null;
    this.#earlier = new Map(holds ? earlier!.answers : []);
  }

  /** Whether the earlier record holds and answers every one of `paths` (then nothing of the tree is read). */
  covers(paths: Iterable<string>): boolean {
    if (!this.#earlierRecord) return false;
    for (const p of paths) if (!this.#earlier.has(treePath(p) ?? p)) return false;
    return true;
  }

  reachOf(path: string): Restriction | null {
    const p = treePath(path) ?? path;
    if (this.#asked.has(p)) return this.#asked.get(p)!;
    let answer: Restriction | null;
    if (this.#earlier.has(p)) answer = this.#earlier.get(p)!;
    else {
      this.#reach ??= new KconfigReach(this.#recording());
      answer = this.#reach.reachOf(p);
      this.computed++;
    }
    this.#asked.set(p, answer);
    return answer;
  }

  /** What the next run can reuse: this run's answers with every stamp they depend on. */
  record(): ReachRecord {
    const files = new Map(this.#earlierRecord?.files ?? []);
    for (const [p, s] of this.#files) files.set(p, s);
    const lists = new Map(this.#earlierRecord?.lists ?? []);
    for (const [d, s] of this.#lists) lists.set(d, s);
    return { files: [...files], lists: [...lists], answers: [...this.#asked] };
  }

  /** Whether record() differs from the record this run started with (else there is nothing to save). */
  get changed(): boolean {
    return !this.#earlierRecord || this.computed > 0 || this.#asked.size !== this.#earlier.size;
  }

  /** The tree's reader, noting every path read and directory listed with its stamp. */
  #recording(): TreeReader {
    const inner = this.#reader;
    return {
      read: (path) => {
        const text = inner.read(path);
        // TreeReader.stamp after a read answers for what that read saw (taken before it): no second look.
        const p = treePath(path);
        if (p !== null) this.#files.set(p, inner.stamp?.(path) ?? UNSTABLE);
        return text;
      },
      list: (dir) => {
        const list = inner.list(dir);
        const p = treePath(dir);
        if (p !== null) this.#lists.set(p, listStamp(list));
        return list;
      },
    };
  }
}

/** Where a scan keeps the reach's record between runs (scan/reach-cache-file.ts). */
export interface ReachStore {
  /** The record of an earlier run, or null (none, or not usable). */
  load(): ReachRecord | null;
  /** The record to keep for the next run (called only when it changed). */
  keep(record: ReachRecord): void;
}
