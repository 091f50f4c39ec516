import { createHash } from 'node:crypto';

/**
 * Git's object id of a blob: sha1 of `blob <size>\0<content>`. A file's identity by content that the
 * trees API, `git ls-tree` and a directory on disk all agree on, so one result cache key serves the App
 * (blob SHAs from GitHub), `scan --git` (from the object store) and a directory scan (hashed as read).
 */
export function gitBlobSha(bytes: Uint8Array): string {
  return createHash('sha1').update(`blob ${bytes.byteLength}\0`).update(bytes).digest('hex');
}
