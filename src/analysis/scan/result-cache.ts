/**
 * Scan results kept between runs (`kmap-review scan --cache`), by file path and content, like ruff's and
 * ESLint's caches: a file whose bytes did not change since the last scan is neither decoded nor parsed
 * again, so a re-scan costs little more than reading the tree (which the prefilter must do anyway).
 *
 * The content key is git's blob id of the bytes (blob-sha.ts): `scan --git` gets it from the object
 * store without reading the blob, a directory scan hashes each file that passes the prefilter. A directory
 * re-scan does not even read a file whose stat key is the one the last scan recorded with its blob id
 * (summaries/tree-facts.ts, IndexedFiles.unchangedSince): one stat per unchanged file, as `git status`. The whole
 * cache belongs to one engine build and configuration (its fingerprint): a cache made by another is not
 * used at all, so an upgrade or a changed rule setting never serves old results.
 *
 * One JSON file per tree, replaced atomically (write, then rename). A cache that cannot be read, is not a
 * cache, or cannot be written costs the analysis and a warning, never the scan.
 */
import { lstatSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { readTreeFacts, type TreeFacts } from '../summaries/tree-facts.js';
import type { FileScan } from './classify.js';

/** What scanTree asks and tells (tree.ts): the engine knows no file format. */
export interface ScanResultStore {
  /** The result of `path` when its content (git blob id) was scanned before, else undefined. */
  get(path: string, sha: string): FileScan | undefined;
  set(path: string, sha: string, scan: FileScan): void;
  /** What the tree's callee answers depended on in the last scan (summaries/tree-facts.ts), when kept. */
  treeFacts?(): TreeFacts | null;
  /** This scan's, to keep (only called when they differ from treeFacts()'s). */
  setTreeFacts?(facts: TreeFacts): void;
}

/** The format's name and version: the first thing checked in a file that claims to be a cache. */
const FORMAT = 'kmap-review scan cache 1';
/** A larger file is not a cache this tool wrote (a kernel tree's is ~10 MB, most of it the index by file of summaries/tree-facts.ts): ignored, not read into memory. */
export const MAX_CACHE_BYTES = 256 << 20;

interface Entry {
  sha: string;
  scan: FileScan;
}

interface CacheFile {
  format: typeof FORMAT;
  fingerprint: string;
  /** [path, blob sha, result] */
  files: Array<[string, string, FileScan]>;
  /** The callee answers' dependencies (absent, or of the wrong shape: the answers are made again). */
  tree?: TreeFacts;
}

function isFileScan(v: unknown, path: string): v is FileScan {
  const s = v as Partial<FileScan> | null;
  return !!s && typeof s === 'object' && s.path === path && Array.isArray(s.sites) && Array.isArray(s.findings) && typeof s.functions === 'number';
}

export class ScanResultCache implements ScanResultStore {
  /** Results of earlier runs. */
  readonly #earlier: Map<string, Entry>;
  /** Results this run used or made: what is saved. */
  readonly #now = new Map<string, Entry>();
  #made = 0;
  #tree: TreeFacts | null;
  #treeChanged = false;
  hits = 0;

  private constructor(
    readonly file: string,
    readonly fingerprint: string,
    earlier: Map<string, Entry>,
    tree: TreeFacts | null = null,
  ) {
    this.#earlier = earlier;
    this.#tree = tree;
  }

  treeFacts(): TreeFacts | null {
    return this.#tree;
  }

  setTreeFacts(facts: TreeFacts): void {
    this.#tree = facts;
    this.#treeChanged = true;
  }

  /** An empty cache that will be saved to `file`. */
  static empty(file: string, fingerprint: string): ScanResultCache {
    return new ScanResultCache(file, fingerprint, new Map());
  }

  /**
   * The cache in `file` for this engine build and configuration. No file yet, or one made by another
   * build: an empty cache (warning null). A file that is not a cache: an empty cache and a warning saying why.
   */
  static open(file: string, fingerprint: string, maxBytes = MAX_CACHE_BYTES): { cache: ScanResultCache; warning: string | null } {
    const empty = (warning: string | null) => ({ cache: ScanResultCache.empty(file, fingerprint), warning });
    let text: string;
    try {
      const st = lstatSync(file);
      if (!st.isFile()) return empty(`${file}: not a regular file (links are not followed), not a scan cache: ignored`);
      if (st.size > maxBytes) return empty(`${file}: larger than ${maxBytes} bytes, not a scan cache: ignored`);
      text = readFileSync(file, 'utf8');
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      return empty(code === 'ENOENT' ? null : `${file}: cannot read the scan cache (${code ?? String(e)}): ignored`);
    }
    let data: Partial<CacheFile>;
    try {
      data = JSON.parse(text) as Partial<CacheFile>;
    } catch {
      return empty(`${file}: not a scan cache (not JSON): ignored`);
    }
    if (!data || typeof data !== 'object' || data.format !== FORMAT || !Array.isArray(data.files)) return empty(`${file}: not a scan cache of this version: ignored`);
    // Another build or configuration: nothing in it may be used (it is replaced on save).
    if (data.fingerprint !== fingerprint) return empty(null);
    const earlier = new Map<string, Entry>();
    for (const item of data.files) {
      if (!Array.isArray(item) || item.length !== 3) continue;
      const [path, sha, scan] = item as unknown[];
      if (typeof path === 'string' && typeof sha === 'string' && isFileScan(scan, path)) earlier.set(path, { sha, scan });
    }
    return { cache: new ScanResultCache(file, fingerprint, earlier, readTreeFacts(data.tree)), warning: null };
  }

  get(path: string, sha: string): FileScan | undefined {
    const e = this.#earlier.get(path);
    if (!e || e.sha !== sha) return undefined;
    this.hits++;
    this.#now.set(path, e);
    return e.scan;
  }

  set(path: string, sha: string, scan: FileScan): void {
    this.#made++;
    this.#now.set(path, { sha, scan });
  }

  /**
   * Writes what this run used and made, plus the earlier results of files `keep` names (files this run
   * did not look at: outside a --config selection). Everything else is dropped: files deleted, changed or
   * no longer mentioning the API. Returns a warning when the cache could not be written; nothing is
   * written when nothing changed.
   */
  save(keep: (path: string) => boolean = () => false): string | null {
    const files: Array<[string, string, FileScan]> = [];
    for (const [path, e] of this.#now) files.push([path, e.sha, e.scan]);
    let unchanged = this.#made === 0 && !this.#treeChanged;
    for (const [path, e] of this.#earlier) {
      if (this.#now.get(path) === e) continue; // used in this run
      if (keep(path)) files.push([path, e.sha, e.scan]);
      else unchanged = false;
    }
    if (unchanged && this.#earlier.size > 0) return null;
    files.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
    const temp = `${this.file}.${process.pid}.tmp`;
    try {
      const dir = dirname(this.file);
      const kind = entryKind(dir);
      // Links are not followed (as in the directory walk): a --cache-dir inside a checkout could be a link
      // the checkout brought, pointing anywhere. The cache directory must be a real one.
      if (kind === 'other') return `${dir}: not a directory (links are not followed): the scan cache is not kept`;
      if (kind === 'none') {
        mkdirSync(dir, { recursive: true });
        // The cache directory keeps itself out of git (as ruff's and pytest's do): a tree's `git status`
        // stays clean and nobody commits it by accident.
        writeFileSync(join(dir, '.gitignore'), '# made by kmap-review scan --cache\n*\n');
      }
      writeFileSync(temp, JSON.stringify({ format: FORMAT, fingerprint: this.fingerprint, files, ...(this.#tree ? { tree: this.#tree } : {}) } satisfies CacheFile));
      renameSync(temp, this.file);
      return null;
    } catch (e) {
      try {
        rmSync(temp, { force: true });
      } catch {
        // (the directory itself is what failed)
      }
      return `${this.file}: cannot write the scan cache (${(e as NodeJS.ErrnoException).code ?? String(e)}): the results are not kept`;
    }
  }
}

function entryKind(path: string): 'directory' | 'none' | 'other' {
  try {
    return lstatSync(path).isDirectory() ? 'directory' : 'other';
  } catch {
    return 'none';
  }
}
