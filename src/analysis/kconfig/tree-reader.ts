/**
 * How the Kconfig reach reads a tree: a directory on disk, or the build files of a git commit (read in one
 * `git cat-file --batch`). Paths are relative to the tree's top, `/`-separated; a path that would leave the
 * tree (`..`, absolute) reads as missing.
 */
import { lstatSync, readdirSync, readFileSync, realpathSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { readGitBlobs } from '../scan/sources.js';

export interface TreeReader {
  /** The file's text, or null when there is none (or it cannot be read). */
  read(path: string): string | null;
  /** The names of the directories inside `dir`, or null when it is not a directory. */
  list(dir: string): string[] | null;
}

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

/**
 * A directory on disk. Nothing outside it is read: a symlinked file reads as missing, and a directory is read
 * only when its real path is inside the tree's (checked once per directory).
 */
export function dirTreeReader(root: string): TreeReader {
  const prefix = root.endsWith('/') ? root : `${root}/`;
  let realRoot: string | null | undefined;
  const insideDirs = new Map<string, boolean>();
  const dirInside = (dir: string): boolean => {
    let ok = insideDirs.get(dir);
    if (ok === undefined) {
      try {
        realRoot ??= realpathSync.native(root);
        const real = realpathSync.native(prefix + dir);
        ok = real === realRoot || real.startsWith(`${realRoot}/`);
      } catch {
        ok = false;
      }
      insideDirs.set(dir, ok);
    }
    return ok;
  };
  return {
    read(path) {
      const p = treePath(path);
      if (p === null) return null;
      const slash = p.lastIndexOf('/');
      if (!dirInside(slash < 0 ? '' : p.slice(0, slash))) return null;
      try {
        const file = prefix + p;
        const st = lstatSync(file);
        if (!st.isFile() || st.size > MAX_BUILD_FILE) return null;
        return readFileSync(file, 'utf8');
      } catch {
        return null;
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
  };
}

/** A build file: what the Kconfig reach reads. */
export const isBuildFile = (name: string) => name === 'Makefile' || name === 'Kbuild' || name.startsWith('Kconfig');

/** The build files (Kconfig*, Makefile, Kbuild) of a commit, read at once, as a TreeReader. */
export async function gitTreeReader(repo: string, commit: string): Promise<TreeReader> {
  const listing = execFileSync('git', ['ls-tree', '-r', '-z', '-l', '--full-tree', commit], { cwd: repo, encoding: 'utf8', maxBuffer: 1 << 30, stdio: ['ignore', 'pipe', 'pipe'] });
  const pathsOf = new Map<string, string[]>();
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
  }
  const texts = new Map<string, string>();
  await readGitBlobs(repo, [...pathsOf.keys()], (sha, bytes) => {
    const text = bytes.toString('utf8');
    for (const p of pathsOf.get(sha) ?? []) texts.set(p, text);
  });
  return {
    read: (path) => {
      const p = treePath(path);
      return p === null ? null : (texts.get(p) ?? null);
    },
    list: (dir) => {
      const p = treePath(dir);
      const set = p === null ? undefined : dirs.get(p);
      return set ? [...set].sort() : null;
    },
  };
}

/** A tree in memory (tests, and callers that hold the files already). */
export function memoryTreeReader(files: Record<string, string>): TreeReader {
  const texts = new Map(Object.entries(files));
  return {
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
