/**
 * Exact pre-images from git's object store, as `git am -3` and b4 find them: every `index <old>..<new>`
 * line of a git patch names the blob the patch was made against, so when --tree is a git repository the
 * patch's real base is known even when the working tree has moved on (or is on another branch).
 *
 * All blobs of a load are read by one `git cat-file --batch` process (no shell, ids checked as hex by
 * diff.ts). A blob that is missing, ambiguous, not a blob or over the size cap is simply absent: the
 * caller then applies the patch to the working tree like `patch` does.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { decodeLines, type TextLines } from './text.js';

export interface Blob {
  /** The full object id. */
  id: string;
  file: TextLines;
}

/** True when `root` is the top of a git work tree (it holds `.git`, a directory or a gitdir file). */
export function isGitTop(root: string): boolean {
  return existsSync(join(root, '.git'));
}

/**
 * Reads the blobs `ids` (abbreviated or full) from the repository at `root`. Returns the ones found,
 * keyed by the id as asked. Never throws for a missing git, repository or object.
 */
export function readBlobs(root: string, ids: Iterable<string>, maxBytes: number): Map<string, Blob> {
  const want = [...new Set(ids)].filter((id) => /^[0-9a-f]{4,64}$/.test(id));
  const found = new Map<string, Blob>();
  if (want.length === 0) return found;
  const res = spawnSync('git', ['-C', root, 'cat-file', '--batch'], {
    input: want.join('\n') + '\n',
    maxBuffer: Math.max(64 * 1024 * 1024, maxBytes * want.length + 1024 * want.length),
    stdio: ['pipe', 'pipe', 'pipe'],
    env: { ...process.env, GIT_TERMINAL_PROMPT: '0' },
  });
  if (res.error || res.status !== 0 || !res.stdout) return found;
  const out = res.stdout;
  let at = 0;
  for (const id of want) {
    const nl = out.indexOf(0x0a, at);
    if (nl < 0) break;
    const header = out.subarray(at, nl).toString('latin1');
    at = nl + 1;
    // "<oid> <type> <size>", or "<name> missing" / "<name> ambiguous".
    const m = /^([0-9a-f]{40,64}) (\w+) (\d+)$/.exec(header);
    if (!m) continue;
    const size = Number(m[3]);
    const body = out.subarray(at, at + size);
    at += size + 1; // the content is followed by a newline
    if (m[2] !== 'blob' || size > maxBytes) continue;
    try {
      found.set(id, { id: m[1]!, file: decodeLines(id, body, maxBytes) });
    } catch {
      // Not UTF-8 text: leave it to the working tree, whose read gives the precise error.
    }
  }
  return found;
}
