/**
 * How the Kconfig reach reads a tree: a directory on disk, or the build files of a git commit (read in one
 * `git cat-file --batch`). Paths are relative to the tree's top, `/`-separated; a path that would leave the
 * tree (`..`, absolute) reads as missing.
 */
import { closeSync, constants, lstatSync, openSync, readdirSync, readFileSync, type Stats } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readGitBlobs } from '../scan/sources.js';
import { fileStamp } from '../source/file-stamp.js';

export interface TreeReader {
  /** The file's text, or null when there is none (or it cannot be read). */
  read(path: string): string | null;
  /** The names of the directories inside `dir`, or null when it is not a directory. */
  list(dir: string): string[] | null;
  /**
   * A cheap fingerprint of what `read(path)` gives now, without reading the file (reach-cache.ts): equal
   * stamps mean equal answers. NO_FILE when `read` gives null; UNSTABLE when the reader cannot vouch for
   * the file (never equal to anything). Right after `read(path)`, it answers for what that read gave (a
   * stamp taken before the read: a change in between makes the stamp old, never the text). A reader
   * without it cannot have its answers cached.
   */
  stamp?(path: string): string;
}

/** The stamp of a path `read` gives null for. */
export const NO_FILE = '-';
/** The stamp of a file whose content a stamp cannot vouch for: a cached answer that depends on it is never reused. */
export const UNSTABLE = '?';

/** `a/./b/../c` -> `a/c`; null when the path leaves the tree. */
export function treePath(path: string): string | null {
  if (path.startsWith('/')) return null;
  const out: string[] = [];
  for (const part of path.split('/')) {
    if (part === '' || part === '.') continue;
    if (part === '..') {
      if (!out.length) return null;
      out.pop();
    } else out.push(part);
  }
  return out.join('/');
}

/** Files larger than this are not build files: read as missing. */
const MAX_BUILD_FILE = 4 << 20;

/** When the scan reading the tree started, and its racy window (source/file-stamp.ts). */
export interface StampOptions {
  /** Date.now() at the scan's start; default: when the reader is made. */
  startedAt?: number;
  /** Default source/file-stamp.ts RACY_MS; tests that write a tree and read it at once give 0. */
  racyMs?: number;
}

/**
 * A directory on disk. Nothing outside it is read: a symlinked file reads as missing (lstat, then open with
 * O_NOFOLLOW), and a directory is read only when its parent is and it is itself a directory, not a symlink
 * (lstat, once per directory): the walk never follows a link, so every directory it enters is inside the
 * tree by construction, with no realpath. (The root itself may be a link: the user named it.)
 *
 * Stamps are the scan's file stamps (source/file-stamp.ts: size, inode, mtime and ctime; UNSTABLE for a
 * file written within the racy window of the scan's start), from the lstat taken before the content is
 * read: a change between the lstat and the read only makes the stamp old.
 */
export function dirTreeReader(root: string, options: StampOptions = {}): TreeReader {
  const { startedAt = Date.now(), racyMs } = options;
  const prefix = root.endsWith('/') ? root : `${root}/`;
  const insideDirs = new Map<string, boolean>([['', true]]);
  const dirInside = (dir: string): boolean => {
    let ok = insideDirs.get(dir);
    if (ok === undefined) {
      const slash = dir.lastIndexOf('/');
      ok = dirInside(slash < 0 ? '' : dir.slice(0, slash));
      if (ok) {
        try {
          ok = lstatSync(prefix + dir, { throwIfNoEntry: false })?.isDirectory() ?? false;
        } catch {
          ok = false;
        }
      }
      insideDirs.set(dir, ok);
    }
    return ok;
  };
  /** The file's lstat when `read` would read it (inside the tree, a regular file, not too large), else null. */
  const statOf = (p: string): Stats | null => {
    const slash = p.lastIndexOf('/');
    if (!dirInside(slash < 0 ? '' : p.slice(0, slash))) return null;
    try {
      // (No exception for a missing file: the walk asks for many, arch/*/Kconfig.debug, Kbuild beside Makefile.)
      const st = lstatSync(prefix + p, { throwIfNoEntry: false });
      return st?.isFile() && st.size <= MAX_BUILD_FILE ? st : null;
    } catch {
      return null;
    }
  };
  const stampOf = (st: Stats | null): string => {
    if (!st) return NO_FILE;
    return fileStamp(st, startedAt, racyMs) ?? UNSTABLE;
  };
  /** Stamps taken by `read`, before it read: what `stamp` answers for a file read (no second lstat). */
  const stamps = new Map<string, string>();
  return {
    read(path) {
      const p = treePath(path);
      if (p === null) return null;
      const st = statOf(p);
      stamps.set(p, stampOf(st));
      if (!st) return null;
      let fd: number;
      try {
        // O_NOFOLLOW: a file swapped for a link since the lstat is not followed; O_NONBLOCK: nor is a FIFO waited on.
        fd = openSync(prefix + p, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
      } catch {
        stamps.set(p, NO_FILE);
        return null;
      }
      try {
        const text = readFileSync(fd, 'utf8');
        // Grown past the limit since the lstat: not a build file after all (and the stamp vouches for nothing).
        if (text.length > MAX_BUILD_FILE) {
          stamps.set(p, UNSTABLE);
          return null;
        }
        return text;
      } catch {
        stamps.set(p, UNSTABLE);
        return null;
      } finally {
        closeSync(fd);
      }
    },
    list(dir) {
      const p = treePath(dir);
      if (p === null || !dirInside(p)) return null;
      try {
        return readdirSync(prefix + p, { withFileTypes: true })
          .filter((d) => d.isDirectory())
          .map((d) => d.name)
          .sort();
      } catch {
        return null;
      }
    },
    stamp(path) {
      const p = treePath(path);
      if (p === null) return NO_FILE;
      return stamps.get(p) ?? stampOf(statOf(p));
    },
  };
}

/** A build file: what the Kconfig reach reads. */
export const isBuildFile = (name: string) => name === 'Makefile' || name === 'Kbuild' || name.startsWith('Kconfig');

/** A commit's build files before their contents are read: stamps (blob ids) are known, `load` reads the texts. */
export interface GitTreeReader extends TreeReader {
  /** Reads every build file's text in one `git cat-file --batch`; `read` gives null for all before. */
  load(): Promise<void>;
}

/**
 * The build files (Kconfig*, Makefile, Kbuild) of a commit as a TreeReader: `git ls-tree` gives the listing
 * and every blob id (the stamps) at once; the texts are read by `load` (gitTreeReader: at once), so a cache
 * of the reach's answers can be checked without reading any blob.
 */
export function gitTreeListing(repo: string, commit: string): GitTreeReader {
  const listing = execFileSync('git', ['ls-tree', '-r', '-z', '-l', '--full-tree', commit], { cwd: repo, encoding: 'utf8', maxBuffer: 1 << 30, stdio: ['ignore', 'pipe', 'pipe'] });
  const pathsOf = new Map<string, string[]>();
  const idOf = new Map<string, string>();
  const dirs = new Map<string, Set<string>>();
  for (const rec of listing.split('\0')) {
    const m = /^\d+ blob ([0-9a-f]+)\s+(\d+|-)\t(.*)$/s.exec(rec);
    if (!m) continue;
    const path = m[3];
    const parts = path.split('/');
    for (let i = 1; i < parts.length; i++) {
      const parent = parts.slice(0, i - 1).join('/');
      let set = dirs.get(parent);
      if (!set) dirs.set(parent, (set = new Set()));
      set.add(parts[i - 1]);
    }
    if (!isBuildFile(parts[parts.length - 1]) || Number(m[2]) > MAX_BUILD_FILE) continue;
    pathsOf.set(m[1], [...(pathsOf.get(m[1]) ?? []), path]);
    idOf.set(path, m[1]);
  }
  const texts = new Map<string, string>();
  return {
    async load() {
      if (texts.size) return;
      await readGitBlobs(repo, [...pathsOf.keys()], (sha, bytes) => {
        const text = bytes.toString('utf8');
        for (const p of pathsOf.get(sha) ?? []) texts.set(p, text);
      });
    },
    read: (path) => {
      const p = treePath(path);
      return p === null ? null : (texts.get(p) ?? null);
    },
    list: (dir) => {
      const p = treePath(dir);
      const set = p === null ? undefined : dirs.get(p);
      return set ? [...set].sort() : null;
    },
    stamp: (path) => {
      const p = treePath(path);
      return (p === null ? undefined : idOf.get(p)) ?? NO_FILE;
    },
  };
}

/** The build files of a commit, read at once, as a TreeReader. */
export async function gitTreeReader(repo: string, commit: string): Promise<TreeReader> {
  const reader = gitTreeListing(repo, commit);
  await reader.load();
  return reader;
}

/** A tree in memory (tests, and callers that hold the files already). Stamps: a hash of the text. */
export function memoryTreeReader(files: Record<string, string>): TreeReader {
  const texts = new Map(Object.entries(files));
  return {
    stamp: (path) => {
      const p = treePath(path);
      const text = p === null ? undefined : texts.get(p);
      return text === undefined ? NO_FILE : createHash('sha1').update(text).digest('hex');
    },
    read: (path) => {
      const p = treePath(path);
      return p === null ? null : (texts.get(p) ?? null);
    },
    list: (dir) => {
      const p = treePath(dir);
      if (p === null) return null;
      const prefix = p ? `${p}/` : '';
      const out = new Set<string>();
      for (const f of texts.keys()) if (f.startsWith(prefix) && f.slice(prefix.length).includes('/')) out.add(f.slice(prefix.length).split('/')[0]);
      return out.size ? [...out].sort() : null;
    },
  };
}
