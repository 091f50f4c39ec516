/** The tree scan's tuning (the operator's: settings.ts reads it from the environment). */
export interface TreeOptions {
  /** More uncached C/H blobs than this: read the tarball once instead of fetching blobs one by one. */
  tarballThreshold: number;
  /** Blobs fetched at the same time. */
  blobConcurrency: number;
  /** Annotations per check run (GitHub takes 50 per request; they are sent in batches). */
  maxAnnotations: number;
  /** Items per list in the summary (the renderer's default when unset). */
  maxItems?: number;
  /** Scan worker threads (at least one: the scan never runs on the thread that answers webhooks)... */
  jobs: number;
  /** ...unless this is set (KMAP_REVIEW_IN_PROCESS=1: tests, debugging). */
  inProcess?: boolean;
  /** Files are scanned in batches of about this many bytes (bounds memory on a first run). */
  scanBatchBytes: number;
  /** The whole tarball download (GitHub's 30 s per-request timeout is far too short for a kernel). */
  tarballTimeoutMs: number;
}

export function treeOptionsFromEnv(env: NodeJS.ProcessEnv = process.env): TreeOptions {
  const n = (name: string, dflt: number) => {
    const v = Number(env[name]);
    return Number.isFinite(v) && v > 0 ? Math.floor(v) : dflt;
  };
  const inProcess = env.KMAP_REVIEW_IN_PROCESS === '1';
  const workers = inProcess ? 1 : n('KMAP_REVIEW_WORKERS', 2);
  return {
    inProcess,
    tarballThreshold: n('KMAP_REVIEW_TREE_TARBALL_THRESHOLD', 200),
    blobConcurrency: n('KMAP_REVIEW_TREE_BLOB_CONCURRENCY', 8),
    maxAnnotations: n('KMAP_REVIEW_TREE_MAX_ANNOTATIONS', 500),
    jobs: workers,
    scanBatchBytes: n('KMAP_REVIEW_TREE_BATCH_BYTES', 32 << 20),
    tarballTimeoutMs: n('KMAP_REVIEW_TREE_TARBALL_TIMEOUT_SECONDS', 1200) * 1000,
  };
}
