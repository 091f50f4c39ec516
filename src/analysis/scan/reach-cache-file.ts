/**
 * The Kconfig reach's record (kconfig/reach-cache.ts) kept next to a tree's result cache (result-cache.ts),
 * in a file of its own: `scan-<id>.reach.json` beside `scan-<id>.json`, with the same format checks and the
 * same fingerprint (engine build and configuration). Its own file, so that the result cache's format and
 * the reach's evolve apart. A record that cannot be read, is damaged or belongs to another build is not
 * used (the reach is computed again); one that cannot be written costs the next run that time, nothing else.
 */
import { lstatSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { asReachRecord, type ReachRecord, type ReachStore } from '../kconfig/reach-cache.js';

const FORMAT = 'kmap-review kconfig reach cache 1';
/** A larger file is not one this tool wrote (6.1's is ~200 KB). */
const MAX_BYTES = 64 << 20;

/** The reach's file for a result cache file. */
export const reachCachePath = (resultCacheFile: string) => resultCacheFile.replace(/(\.json)?$/, '.reach.json');

export class ReachCacheFile implements ReachStore {
  #kept: ReachRecord | null = null;

  constructor(
    readonly file: string,
    readonly fingerprint: string,
  ) {}

  load(): ReachRecord | null {
    try {
      const st = lstatSync(this.file);
      if (!st.isFile() || st.size > MAX_BYTES) return null;
      const data = JSON.parse(readFileSync(this.file, 'utf8')) as { format?: unknown; fingerprint?: unknown; record?: unknown } | null;
      if (!data || data.format !== FORMAT || data.fingerprint !== this.fingerprint) return null;
      return asReachRecord(data.record);
    } catch {
      return null;
    }
  }

  keep(record: ReachRecord): void {
    this.#kept = record;
  }

  /**
   * Writes what `keep` was given, atomically (write, then rename), into the result cache's directory: after
   * the result cache's own save, which made that directory (and warned if it could not). A link or a missing
   * directory is not written through. Returns whether a record was written.
   */
  save(): boolean {
    if (!this.#kept) return false;
    const dir = dirname(this.file);
    try {
      if (!lstatSync(dir).isDirectory()) return false;
    } catch {
      return false;
    }
    const temp = `${this.file}.${process.pid}.tmp`;
    try {
      writeFileSync(temp, JSON.stringify({ format: FORMAT, fingerprint: this.fingerprint, record: this.#kept }));
      renameSync(temp, this.file);
      return true;
    } catch {
      try {
        rmSync(temp, { force: true });
      } catch {
        // (the directory itself is what failed)
      }
      return false;
    }
  }
}
