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
