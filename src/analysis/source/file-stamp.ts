/**
 * Whether a file on disk has changed since a scan last looked at it, from one stat and no read: the stamp
 * the scan's index by file keeps for every listed file (summaries/tree-facts.ts: a re-scan does not even
 * read a file whose stamp is unchanged) and the one the Kconfig reach's cache keeps for every build file it
 * read (kconfig/tree-reader.ts, kconfig/reach-cache.ts). One rule for both.
 *
 * The stamp is (size, inode, mtime, ctime): every write to a file sets its ctime to the current time, and
 * no program can set a ctime (utimes() sets it too, to now), so a file with the same stamp has not been
 * written since, unless the clock went back; a file replaced by another (rename over it) has another inode.
 * mtime alone would not do: `touch -d`, `tar x` and `cp -p` set it to anything.
 *
 * A file written within RACY_MS of the scan's start (mtime or ctime) has no stamp at all (not trusted: read
 * again next time), as git's "racy" index entries: two writes within one tick of the file system's clock (a
 * jiffy, or 2 s on FAT) can leave one stamp, and the second may come after the scan read the first. The
 * scan's start, not the time of the stat: whatever the scan reads, it reads after its start, so nothing
 * written during the scan is trusted either.
 */

/** A file changed this close to the scan's start (ms) is not trusted by its stamp next time. */
export const RACY_MS = 3000;

/** What a stamp is made of (a node:fs Stats has it). */
export interface StampFields {
  size: number;
  ino: number;
  mtimeMs: number;
  ctimeMs: number;
}

/**
 * The stamp of a file (see above) stat'ed by a scan that started at `startedAt` (Date.now()), or null when
 * the file was modified too recently to be trusted: racyMs before the start or later.
 */
export function fileStamp(st: StampFields, startedAt: number, racyMs = RACY_MS): string | null {
  if (Math.max(st.mtimeMs, st.ctimeMs) >= startedAt - racyMs) return null;
  // Microseconds as integers (a double's ms carry no more than that, and an integer prints fast).
  return `${st.size}:${st.ino}:${Math.round(st.mtimeMs * 1000)}:${Math.round(st.ctimeMs * 1000)}`;
}
