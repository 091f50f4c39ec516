/**
 * Every C/H file of a commit, scanned or taken from the cache, plus MAINTAINERS for the subsystems.
 * A kernel tree has ~90,000 files, so nothing is fetched file by file unless few files changed:
 * 1. the git trees API lists every blob SHA of the commit (a handful of requests, see listing.ts);
 * 2. each C/H blob's result is looked up in the cache (blob-cache.ts);
 * 3. what is not cached is read from the tarball or the blobs API (github-sources.ts);
 * 4. only the files whose bytes mention kmap/kunmap (or a configured wrapper) are scanned (scan-batches.ts).
 */
import type { Logger } from 'probot';
import { configHash } from '../../analysis/config-hash.js';
import { isCPath } from '../../analysis/kmap-api.js';
import type { EngineConfig, Finding, SkippedFile } from '../../analysis/model.js';
import { gitBlobSha } from '../../analysis/scan/blob-sha.js';
import type { ScanSite } from '../../analysis/scan/classify.js';
import type { TreeScan } from '../../analysis/scan/tree.js';
import type { TreeSourceStats } from '../../comments/tree-check.js';
import type { AppConfig } from '../../config/repo-config.js';
import { isSelected } from '../../config/selection.js';
import { loadScanner } from '../engine.js';
import { mapLimit } from '../map-limit.js';
import type { JobContext } from '../queue/types.js';
import { BlobResults, type BlobResult, type TreeCache } from './blob-cache.js';
import { readBlobs, type RepoAt } from './github-sources.js';
import { listTreeBlobs, type TreeBlob } from './listing.js';
import type { TreeOptions } from './options.js';
import { ScanBatches } from './scan-batches.js';

/** Cache look-ups at the same time. */
const CACHE_CONCURRENCY = 32;

export interface RepositoryScan {
  scan: Omit<TreeScan, 'baseline' | 'elapsedMs'>;
  stats: TreeSourceStats;
  /** Texts of the files read in this run that have ready sites (for the offered patch). */
  readyTexts: Map<string, string>;
}

export interface ScanServices {
  cache: TreeCache;
  options: TreeOptions;
  log: Pick<Logger, 'info' | 'warn'>;
  engineVersion: string;
  ctx: Pick<JobContext, 'isSuperseded'>;
}

/** Exported for tests; the job (tree-job.ts) adds the baseline and posts the result. */
export async function scanRepository(
  s: ScanServices, at: RepoAt, config: AppConfig, engineConfig: EngineConfig, maxFileBytes: number,
): Promise<RepositoryScan> {
  const scanner = await loadScanner();
  const { owner, repo, headSha } = at;
  const listing = await listTreeBlobs(at.octokit, owner, repo, headSha);
  const candidates = listing.blobs.filter((b) => isCPath(b.path) && isSelected(b.path, config));
  // Files over the cap are read too: the scan counts their deprecated calls lexically (scan-batches.ts).
  const cache = new BlobResults(s.cache, s.engineVersion, configHash(engineConfig), maxFileBytes);
  const results = new Map<string, BlobResult>();
  const uncached: TreeBlob[] = [];
  await mapLimit(candidates, CACHE_CONCURRENCY, async (b) => {
    const v = await cache.get(b);
    if (v) results.set(b.path, v);
    else uncached.push(b);
  });
  uncached.sort((a, b) => (a.path < b.path ? -1 : 1));
  const cachedCount = results.size;

  const maintainersBlob = listing.blobs.find((b) => b.path === 'MAINTAINERS');
  let maintainers = maintainersBlob ? await cache.maintainers(maintainersBlob) : undefined;
  const readMaintainers = maintainersBlob && maintainers === undefined
    ? {
      blob: maintainersBlob,
      take: async (bytes: Buffer) => {
        maintainers = bytes.toString('utf8');
        if (gitBlobSha(bytes) === maintainersBlob.sha) await cache.setMaintainers(maintainersBlob, maintainers);
      },
    }
    : undefined;

  const readyTexts = new Map<string, string>();
  const batches = new ScanBatches({
    scanner, name: `${owner}/${repo}`, engineConfig, maxFileBytes, options: s.options, ctx: s.ctx,
    settle: async (blob, result, bytes, cacheable) => {
      if (result.m === 1 && result.sites.some((site) => site.class === 'ready')) readyTexts.set(blob.path, bytes.toString('utf8'));
      results.set(blob.path, result);
      if (cacheable) await cache.set(blob, result);
    },
  });
  const read = await readBlobs(at, uncached, s.options, (b, bytes, cacheable) => batches.add(b, bytes, cacheable), readMaintainers, s.ctx, s.log);
  await batches.flush();

  const paths = [...results.keys()].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  const skipped: SkippedFile[] = [];
  const sites: ScanSite[] = [];
  const findings: Finding[] = [];
  let matched = 0;
  let analysed = 0;
  for (const p of paths) {
    const r = results.get(p)!;
    if (r.m === 0) continue;
    matched++;
    if (r.skipped) skipped.push({ path: p, reason: r.skipped, ...(r.uses !== undefined ? { uses: r.uses } : {}) });
    else analysed++;
    sites.push(...r.sites);
    findings.push(...r.findings);
  }
  skipped.sort((a, b) => a.path.localeCompare(b.path));
  const index = maintainers !== undefined ? scanner.parseMaintainers(maintainers) : null;
  return {
    scan: {
      name: `${owner}/${repo}`, commit: headSha, engineVersion: scanner.ENGINE_VERSION, sites, findings,
      totals: scanner.computeTotals(sites, findings, index),
      files: { listed: candidates.length, matched, analysed, skipped },
    },
    stats: { listed: candidates.length, cached: cachedCount, ...read },
    readyTexts,
  };
}
