/**
 * Hostile-path defences. A patch comes from a mailing list or a pull request: its headers may name
 * `/etc/passwd`, `../../.ssh/id_rsa`, or a path through a symlink that leaves the tree. Nothing is
 * ever written, but with --tree we *read* pre-images, and reading outside the tree could leak
 * files into a report. So:
 *  - every path in a diff header is checked at parse time (even without --tree: such a patch is
 *    bogus for a kernel tree anyway, and the user should hear about it);
 *  - with --tree, each file is resolved with realpath and must stay under the tree's realpath.
 */
import * as fs from 'node:fs';
import * as nodePath from 'node:path';
import { InputError } from './errors.js';
import { decodeLines, checkSize, type TextLines } from './text.js';

/** Returns why `path` (from a diff header) is unsafe, or null when it is a plain relative path. */
export function unsafePathReason(path: string): string | null {
  if (path === '') return 'is empty';
  if (path.includes('\0')) return 'contains a NUL byte';
  if (path.startsWith('/') || path.startsWith('\\') || /^[A-Za-z]:[\\/]/.test(path)) return 'is an absolute path';
  if (path.split(/[\\/]/).includes('..')) return "has a '..' component";
  return null;
}

/** Throws an InputError when `path` is unsafe; `where` names the input and line for the message. */
export function checkPatchPath(path: string, where: string): void {
  const why = unsafePathReason(path);
  if (why) throw new InputError(`${where}: refusing path ${JSON.stringify(path)}: it ${why}`);
}

/** A file read from the tree: its lines (CRLF stripped, see text.ts). */
export type TreeFile = TextLines;

/**
 * Read-only access to a source tree (--tree). All reads go through `read`, which refuses
 * anything that resolves outside the tree's real path.
 */
export class TreeReader {
  /** The tree's real path (symlinks resolved), the prefix every file must stay under. */
  readonly root: string;

  constructor(
    tree: string,
    private readonly maxBytes: number,
  ) {
    let root: string;
    try {
      root = fs.realpathSync(tree);
    } catch {
      throw new InputError(`--tree ${tree}: no such directory`);
    }
    if (!fs.statSync(root).isDirectory()) throw new InputError(`--tree ${tree}: not a directory`);
    this.root = root;
  }

  /** True when `real` is the root or below it. */
  private inside(real: string): boolean {
    return real === this.root || real.startsWith(this.root.endsWith(nodePath.sep) ? this.root : this.root + nodePath.sep);
  }

  /**
   * Reads `rel` (a path from a diff header) from the tree; null when it does not exist.
   * Throws InputError for unsafe paths, symlinks leaving the tree, non-regular files, files over
   * the size cap and non-UTF-8 content.
   */
  read(rel: string): TreeFile | null {
    checkPatchPath(rel, `--tree ${this.root}`);
    const full = nodePath.join(this.root, rel);
    let real: string;
    try {
      real = fs.realpathSync(full);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code !== 'ENOENT' && code !== 'ENOTDIR') throw new InputError(`${rel}: cannot read from the tree: ${code ?? e}`);
      // A dangling symlink is "not found" for realpath but its target may be outside: refuse it
      // rather than let a later step create or read through it.
      let isLink = false;
      try {
        isLink = fs.lstatSync(full).isSymbolicLink();
      } catch {
        /* really absent */
      }
      if (isLink) throw new InputError(`${rel}: is a dangling symlink in the tree; refusing it`);
      return null;
    }
    if (!this.inside(real)) {
      throw new InputError(`${rel}: resolves outside the tree (to ${real}) through a symlink; refusing to read it`);
    }
    const st = fs.statSync(real);
    if (!st.isFile()) throw new InputError(`${rel}: is not a regular file in the tree`);
    checkSize(`${rel} (in the tree)`, st.size, this.maxBytes);
    return decodeLines(rel, fs.readFileSync(real), this.maxBytes);
  }
}
