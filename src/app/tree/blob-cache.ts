/**
 * The tree scan's per-blob results, by (engine version, configuration, size cap, blob SHA, path): an unchanged file
 * is neither fetched nor scanned again, and a file that does not mention the mapping API is kept as such.
 * MAINTAINERS is kept by its blob SHA. Stored in the App's LruCache or RedisCache (JSON values).
 */
import type { Finding } from '../../analysis/model.js';
import type { ScanSite } from '../../analysis/scan/classify.js';
import type { TreeBlob } from './listing.js';

/** Any JSON value by key: the App's LruCache or RedisCache (they store JSON), under their own prefix. */
export interface TreeCache {
  get(key: string): Promise<unknown>;
  set(key: string, value: unknown): Promise<void>;
}

/** A scanned file's result: its sites and findings, and why it was not analysed when it was not. */
export interface ScannedFile {
  m: 1;
  sites: ScanSite[];
  findings: Finding[];
  /** Why it was not analysed (too large, the analysis failed)... */
  skipped?: string;
  /** ...and then the lexical count of its deprecated calls, when it has any. */
  uses?: number;
}

/** A file's cached result: it does not mention the API (m: 0), or what the scan found in it. */
export type BlobResult = { m: 0 } | ScannedFile;

export function isBlobResult(v: unknown): v is BlobResult {
  if (!v || typeof v !== 'object') return false;
  const r = v as { m?: unknown; sites?: unknown; findings?: unknown };
  return r.m === 0 || (r.m === 1 && Array.isArray(r.sites) && Array.isArray(r.findings));
}

export class BlobResults {
  readonly #prefix: string;

  /**
   * `config` is the engine configuration's hash and `maxFileBytes` the size cap (a file over it is kept as
   * not analysed): another configuration or cap never reads these results.
   */
  constructor(readonly cache: TreeCache, engineVersion: string, config: string, maxFileBytes: number) {
    this.#prefix = `tree:${engineVersion}:${config}:${maxFileBytes}`;
  }

  #key(b: TreeBlob): string {
    return `${this.#prefix}:${b.sha}:${b.path}`;
  }

  async get(b: TreeBlob): Promise<BlobResult | undefined> {
    const v = await this.cache.get(this.#key(b));
    return isBlobResult(v) ? v : undefined;
  }

  async set(b: TreeBlob, r: BlobResult): Promise<void> {
    await this.cache.set(this.#key(b), r);
  }

  async maintainers(blob: TreeBlob): Promise<string | undefined> {
    const v = await this.cache.get(`tree-maintainers:${blob.sha}`);
    return typeof v === 'string' ? v : undefined;
  }

  async setMaintainers(blob: TreeBlob, text: string): Promise<void> {
    await this.cache.set(`tree-maintainers:${blob.sha}`, text);
  }
}
