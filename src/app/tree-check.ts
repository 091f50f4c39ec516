/**
 * The repo-wide status: on a push to the default branch, the `kmap-review / tree` check run with every
 * remaining kmap_atomic()/kmap() use classified, the trend against the previous default-branch result
 * (new uses fail it), the top directories and the list of uses that need a human.
 *
 * A kernel tree has ~90,000 files, so nothing is fetched file by file unless few files changed:
 * 1. the git trees API lists every blob SHA of the commit (a handful of requests, see tree/listing.ts);
 * 2. each C/H blob's result is looked up in the cache by (blob SHA, path, engine version, configuration):
 *    an unchanged file is neither fetched nor scanned again, and a file that does not mention the
 *    mapping API is cached as such;
 * 3. what is not cached is read from the repository tarball (streamed once, each file's git blob SHA
 *    computed locally) when there is a lot of it, or from the blobs API when there is little;
 * 4. only the files whose bytes mention kmap/kunmap (or a configured wrapper) are scanned.
 */
import type { Context, Logger } from 'probot';
import { configHash } from '../analysis/config-hash.js';
import { isCPath } from '../analysis/kmap-api.js';
import type { EngineConfig, Finding, SkippedFile } from '../analysis/model.js';
import type { ScanSite } from '../analysis/scan/classify.js';
import type { TreeScan } from '../analysis/scan/tree.js';
import { gitBlobSha } from '../analysis/scan/blob-sha.js';
import { renderTreeCheckRun, type ReadyPatch, type TreeSourceStats, type TreeTrendInfo } from '../comments/tree-check.js';
import { closeCheckRun, completeCheckRun } from './check-runs.js';
import type { GitHub } from './collect.js';
import { loadRepoConfig } from './config-loader.js';
import { loadScanner } from './engine.js';
import { toEngineConfig, type AppConfig } from '../config/repo-config.js';
import { isSelected } from '../config/selection.js';
import type { Limits } from './limits.js';
import type { JobContext, ReviewJob } from './queue/types.js';
import { retryLaterOrGiveUp, withRetry, type RetryPolicy } from './retry.js';
import { addOrForget } from './enqueue.js';
import type { ReviewScheduler, RuleCatalog, ScheduleResult } from './scheduler.js';
import { baselineOf, compareCounts, decodeBaselineMarker, encodeBaselineMarker, toBaselineInput, type CompactBaseline } from './tree/baseline.js';
import { appendRun, historyKey, runPointOf } from './tree/history.js';
import { listTreeBlobs, type TreeBlob } from './tree/listing.js';
import { tarGzEntries } from './tree/tar.js';

export const TREE_CHECK_NAME = 'kmap-review / tree';

/** Any JSON value by key: the App's LruCache or RedisCache (they store JSON), under their own prefix. */
export interface TreeCache {
  get(key: string): Promise<unknown>;
  set(key: string, value: unknown): Promise<void>;
}

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

// ---------------------------------------------------------------------------------------------------
// Jobs: a tree scan travels through the review queue as a job of kind 'tree' with pull number 0, so one
// scan per repository runs at a time and a newer push replaces a pending one.

export interface TreeRequest {
  installationId: number | null;
  owner: string;
  repo: string;
  headSha: string;
  /** The default branch's previous head (the push's `before`), for the trend; null when none. */
  before: string | null;
  trigger: string;
  force: boolean;
  deliveryId: string;
  /** When the push happened (ms): orders pushes that arrive out of order. */
  updatedAt: number;
}

const ZERO_SHA = /^0+$/;

export function treeJob(r: TreeRequest): ReviewJob {
  return {
    kind: 'tree', installationId: r.installationId, owner: r.owner, repo: r.repo, pullNumber: 0,
    headSha: r.headSha, baseSha: r.before && !ZERO_SHA.test(r.before) ? r.before : '', draft: false,
    updatedAt: r.updatedAt, trigger: r.trigger, force: r.force, deliveryId: r.deliveryId, attempt: 1,
  };
}

export function isTreeJob(job: ReviewJob): boolean {
  return job.kind === 'tree';
}

type AnyContext = Pick<Context, 'id' | 'log' | 'payload'>;

/**
 * Deduplicates the delivery (under its own key: the PR handlers of the same event, e.g.
 * check_suite.rerequested, mark the plain delivery id) and enqueues the scan.
 */
export async function enqueueTreeScan(context: AnyContext, scheduler: ReviewScheduler, req: Omit<TreeRequest, 'installationId' | 'deliveryId'>): Promise<ScheduleResult | 'duplicate-delivery'> {
  if (!(await scheduler.firstDelivery(`${context.id}:tree`))) {
    context.log.info({ delivery: context.id }, 'duplicate delivery: dropped');
    return 'duplicate-delivery';
  }
  const inst = (context.payload as { installation?: { id?: unknown } | null }).installation;
  const result = await addOrForget(scheduler, `${context.id}:tree`, () => scheduler.queue.add(treeJob({ ...req, installationId: typeof inst?.id === 'number' ? inst.id : null, deliveryId: context.id })));
  context.log.info({ repo: `${req.owner}/${req.repo}`, sha: req.headSha, result }, 'tree scan enqueued');
  return result;
}

// ---------------------------------------------------------------------------------------------------
// The per-blob cache.

/** A file's cached result: it does not mention the API (m: 0), or what the scan found in it. */
export type BlobResult = { m: 0 } | { m: 1; sites: ScanSite[]; findings: Finding[]; skipped?: string };

function isBlobResult(v: unknown): v is BlobResult {
  if (!v || typeof v !== 'object') return false;
  const r = v as { m?: unknown; sites?: unknown; findings?: unknown };
  return r.m === 0 || (r.m === 1 && Array.isArray(r.sites) && Array.isArray(r.findings));
}


async function forEachLimit<T>(items: readonly T[], limit: number, fn: (t: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: Math.min(Math.max(1, limit), items.length) }, async () => {
    while (next < items.length) await fn(items[next++]!);
  }));
}

/** Thrown inside the scan when a newer push arrived: the job stops and cancels its run. */
class Superseded extends Error {}

export interface RepositoryScan {
  scan: Omit<TreeScan, 'baseline' | 'elapsedMs'>;
  stats: TreeSourceStats;
  /** Texts of the files read in this run that have ready sites (for the offered patch). */
  readyTexts: Map<string, string>;
}

interface ScanServices {
  octokit: GitHub;
  cache: TreeCache;
  options: TreeOptions;
  log: Pick<Logger, 'info' | 'warn'>;
  engineVersion: string;
  isSuperseded: () => Promise<boolean>;
}

/** Streams the repository tarball at `ref` (GitHub answers with a redirect to codeload). */
export async function downloadTarball(octokit: GitHub, owner: string, repo: string, ref: string, timeoutMs: number): Promise<ReadableStream<Uint8Array>> {
  const signal = AbortSignal.timeout(timeoutMs);
  const res = await octokit.request('GET /repos/{owner}/{repo}/tarball/{ref}', {
    owner, repo, ref, request: { redirect: 'manual', parseSuccessResponseBody: false, signal },
  });
  let body = res.data as unknown as ReadableStream<Uint8Array> | null;
  const status = res.status as number;
  if (status >= 300 && status < 400) {
    const location = (res.headers as Record<string, string | undefined>).location;
    await body?.cancel().catch(() => undefined);
    if (!location) throw new Error(`the tarball request answered ${status} without a location`);
    const r = await fetch(location, { signal });
    if (!r.ok || !r.body) {
      await r.body?.cancel().catch(() => undefined);
      throw Object.assign(new Error(`the tarball download answered ${r.status}`), { status: r.status });
    }
    body = r.body;
  }
  if (!body) throw new Error('the tarball request returned no body');
  return body;
}

async function fetchBlob(octokit: GitHub, owner: string, repo: string, sha: string): Promise<Buffer> {
  const { data } = await octokit.rest.git.getBlob({ owner, repo, file_sha: sha });
  return data.encoding === 'base64' ? Buffer.from(data.content, 'base64') : Buffer.from(data.content, 'utf8');
}

/**
 * Every C/H file of `headSha` scanned or taken from the cache, plus MAINTAINERS for the subsystems.
 * Exported for tests; the job (TreeWorker) adds the baseline and posts the result.
 */
export async function scanRepository(
  s: ScanServices, owner: string, repo: string, headSha: string, config: AppConfig, engineConfig: EngineConfig, maxFileBytes: number,
): Promise<RepositoryScan> {
  const { scanTree, mayMentionApi, KmapApi, computeTotals, parseMaintainers, ENGINE_VERSION } = await loadScanner();
  const { octokit, cache, options } = s;
  const listing = await listTreeBlobs(octokit, owner, repo, headSha);
  const candidates = listing.blobs.filter((b) => isCPath(b.path) && isSelected(b.path, config));
  const skipped: SkippedFile[] = [];
  const wanted: TreeBlob[] = [];
  for (const b of candidates) {
    if (b.size > maxFileBytes) skipped.push({ path: b.path, reason: `larger than ${maxFileBytes} bytes` });
    else wanted.push(b);
  }
  const prefix = `tree:${s.engineVersion}:${configHash(engineConfig)}`;
  const keyOf = (b: TreeBlob) => `${prefix}:${b.sha}:${b.path}`;
  const results = new Map<string, BlobResult>();
  const uncached: TreeBlob[] = [];
  await forEachLimit(wanted, 32, async (b) => {
    const v = await cache.get(keyOf(b));
    if (isBlobResult(v)) results.set(b.path, v);
    else uncached.push(b);
  });
  uncached.sort((a, b) => (a.path < b.path ? -1 : 1));
  const stats: TreeSourceStats = { listed: candidates.length, cached: results.size, fromTarball: 0, fromBlobs: 0 };

  const maintainersBlob = listing.blobs.find((b) => b.path === 'MAINTAINERS');
  const maintainersKey = maintainersBlob ? `tree-maintainers:${maintainersBlob.sha}` : undefined;
  let maintainers: string | null = null;
  if (maintainersKey) {
    const v = await cache.get(maintainersKey);
    if (typeof v === 'string') maintainers = v;
  }
  const setMaintainers = async (bytes: Buffer) => {
    maintainers = bytes.toString('utf8');
    if (maintainersKey && gitBlobSha(bytes) === maintainersBlob!.sha) await cache.set(maintainersKey, maintainers);
  };

  const readyTexts = new Map<string, string>();
  // Files that mention the API wait here and are scanned a batch at a time.
  const wrappers = new KmapApi(engineConfig).wrapperNames();
  let batch: Array<{ blob: TreeBlob; bytes: Buffer; cacheable: boolean }> = [];
  let batchBytes = 0;
  const flush = async () => {
    if (batch.length === 0) return;
    const items = batch;
    batch = [];
    batchBytes = 0;
    if (await s.isSuperseded()) throw new Superseded();
    const r = await scanTree(
      { kind: 'texts', name: `${owner}/${repo}`, items: items.map((i) => ({ path: i.blob.path, bytes: i.bytes })) },
      // On worker threads at background priority (unless KMAP_REVIEW_IN_PROCESS=1): webhooks come first.
      // scanTree counts this thread too (it only prefilters here): `jobs` workers analyse.
      { config: engineConfig, jobs: options.inProcess ? 1 : options.jobs + 1, maxBytes: maxFileBytes, background: !options.inProcess },
    );
    const out = new Map<string, { m: 1; sites: ScanSite[]; findings: Finding[]; skipped?: string }>(
      items.map((i) => [i.blob.path, { m: 1, sites: [], findings: [] }]),
    );
    for (const site of r.sites) out.get(site.path)?.sites.push(site);
    for (const f of r.findings) out.get(f.path)?.findings.push(f);
    for (const k of r.files.skipped) {
      const e = out.get(k.path);
      if (e) e.skipped = k.reason;
    }
    for (const i of items) {
      const e = out.get(i.blob.path)!;
      if (e.sites.some((site) => site.class === 'ready')) readyTexts.set(i.blob.path, i.bytes.toString('utf8'));
      results.set(i.blob.path, e);
      if (i.cacheable) await cache.set(keyOf(i.blob), e);
    }
  };
  /** `cacheable` is false when the bytes are not the blob's (an export filter in the tarball). */
  const take = async (blob: TreeBlob, bytes: Buffer, cacheable: boolean) => {
    if (!mayMentionApi(bytes, wrappers)) {
      const r: BlobResult = { m: 0 };
      results.set(blob.path, r);
      if (cacheable) await cache.set(keyOf(blob), r);
      return;
    }
    batch.push({ blob, bytes, cacheable });
    batchBytes += bytes.length;
    if (batchBytes >= options.scanBatchBytes) await flush();
  };
  const fromBlobs = async (blobs: TreeBlob[]) => {
    await forEachLimit(blobs, options.blobConcurrency, async (b) => {
      const bytes = await fetchBlob(octokit, owner, repo, b.sha);
      stats.fromBlobs++;
      await take(b, bytes, gitBlobSha(bytes) === b.sha);
    });
  };

  if (uncached.length > options.tarballThreshold) {
    s.log.info({ uncached: uncached.length, threshold: options.tarballThreshold }, 'tree scan: reading the tarball');
    const byPath = new Map(uncached.map((b) => [b.path, b]));
    const seen = new Set<string>();
    let mismatched = 0;
    let entries = 0;
    const body = await downloadTarball(octokit, owner, repo, headSha, options.tarballTimeoutMs);
    for await (const e of tarGzEntries(body, { stripFirst: true })) {
      if (e.type !== 'file') continue;
      if (++entries % 5000 === 0 && (await s.isSuperseded())) throw new Superseded();
      if (e.path === 'MAINTAINERS' && maintainersKey && maintainers === null) {
        await setMaintainers(await e.read());
        continue;
      }
      const b = byPath.get(e.path);
      if (!b || seen.has(e.path)) continue;
      seen.add(e.path);
      const bytes = await e.read();
      const same = gitBlobSha(bytes) === b.sha;
      if (!same) mismatched++;
      stats.fromTarball++;
      await take(b, bytes, same);
    }
    if (mismatched) s.log.warn({ mismatched }, 'tree scan: tarball files differ from their blobs (export filters?): scanned, not cached');
    const missing = uncached.filter((b) => !seen.has(b.path));
    if (missing.length) {
      s.log.warn({ missing: missing.length }, 'tree scan: files listed in the tree are missing from the tarball: fetching them as blobs');
      await fromBlobs(missing);
    }
  } else {
    await fromBlobs(uncached);
  }
  if (maintainersBlob && maintainers === null) await setMaintainers(await fetchBlob(octokit, owner, repo, maintainersBlob.sha));
  await flush();

  const paths = [...results.keys()].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  const sites: ScanSite[] = [];
  const findings: Finding[] = [];
  let matched = 0;
  let analysed = 0;
  for (const p of paths) {
    const r = results.get(p)!;
    if (r.m === 0) continue;
    matched++;
    if (r.skipped) skipped.push({ path: p, reason: r.skipped });
    else analysed++;
    sites.push(...r.sites);
    findings.push(...r.findings);
  }
  skipped.sort((a, b) => a.path.localeCompare(b.path));
  const index = maintainers !== null ? parseMaintainers(maintainers) : null;
  return {
    scan: {
      name: `${owner}/${repo}`, commit: headSha, engineVersion: ENGINE_VERSION, sites, findings,
      totals: computeTotals(sites, findings, index),
      files: { listed: candidates.length, matched, analysed, skipped },
    },
    stats,
    readyTexts,
  };
}

/** Most files in one offered patch: the check run text is capped at 65,535 characters anyway. */
const PATCH_FILES = 12;

/**
 * The patch for the ready sites of one directory (the one with the most ready sites among the files
 * read in this run; cached files have no text here), made by the same code as `kmap-review fix`.
 */
async function offerReadyPatch(scan: RepositoryScan['scan'], texts: Map<string, string>, config: EngineConfig): Promise<ReadyPatch | null> {
  const { directoryOf } = await import('../analysis/scan/totals.js');
  const readyDirs = scan.totals.byDirectory.filter((d) => d.ready > 0);
  if (!readyDirs.length) return null;
  const perDir = new Map<string, number>();
  for (const site of scan.sites) if (site.class === 'ready' && texts.has(site.path)) perDir.set(directoryOf(site.path), (perDir.get(directoryOf(site.path)) ?? 0) + 1);
  const best = [...perDir].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))[0];
  if (!best) return { directory: readyDirs[0].name, sites: readyDirs[0].ready, patch: null };
  const [directory] = best;
  const files = [...texts].filter(([path]) => directoryOf(path) === directory).slice(0, PATCH_FILES).map(([path, text]) => ({ path, text }));
  const { fixPatchForSites } = await import('../analysis/convert/fix.js');
  const { KmapApi } = await import('../analysis/kmap-api.js');
  const r = fixPatchForSites(files, { api: new KmapApi(config), config });
  return { directory, sites: r.converted, patch: r.patch || null };
}

// ---------------------------------------------------------------------------------------------------
// The previous result.

const baselineKey = (owner: string, repo: string, sha: string) => `tree-baseline:${owner}/${repo}@${sha}`;
const latestKey = (owner: string, repo: string) => `tree-baseline-latest:${owner}/${repo}`;

function isCompact(v: unknown): v is CompactBaseline {
  const b = v as CompactBaseline | undefined;
  return !!b && typeof b.commit === 'string' && Array.isArray(b.sites) && Array.isArray(b.errors) && typeof b.complete === 'boolean';
}

export interface FoundBaseline {
  baseline: CompactBaseline;
  source: 'before' | 'latest';
}

/**
 * The result for the push's previous head: from the cache, else from that commit's `kmap-review / tree`
 * check run; failing both, the last result the App computed for this repository's default branch.
 */
export async function findBaseline(octokit: GitHub, cache: TreeCache, owner: string, repo: string, headSha: string, before: string | null): Promise<FoundBaseline | undefined> {
  if (before && !ZERO_SHA.test(before) && before !== headSha) {
    const cached = await cache.get(baselineKey(owner, repo, before));
    if (isCompact(cached)) return { baseline: cached, source: 'before' };
    try {
      const { data } = await octokit.rest.checks.listForRef({ owner, repo, ref: before, check_name: TREE_CHECK_NAME, filter: 'latest', per_page: 10 });
      for (const run of data.check_runs) {
        if (run.name !== TREE_CHECK_NAME || run.status !== 'completed') continue;
        const b = decodeBaselineMarker(run.output?.text);
        if (b) return { baseline: b, source: 'before' };
      }
    } catch (err) {
      // The commit may be gone (a force-push): no trend rather than a failed job.
      const status = (err as { status?: number }).status;
      if (status !== 404 && status !== 422) throw err;
    }
  }
  const latest = await cache.get(latestKey(owner, repo));
  if (isCompact(latest) && latest.commit !== headSha) return { baseline: latest, source: 'latest' };
  return undefined;
}

// ---------------------------------------------------------------------------------------------------
// The job.

export interface TreeServices {
  octokitFor: (installationId: number | null) => Promise<GitHub>;
  rules: () => Promise<RuleCatalog>;
  cache: TreeCache;
  limits: Limits;
  retry: RetryPolicy;
  log: Logger;
  engineVersion: () => Promise<string>;
  options: TreeOptions;
}

export type TreeOutcome = 'done' | 'superseded' | 'already-done' | 'failed';

interface TreeRun {
  id: number;
  status: string;
  conclusion: string | null;
}

async function findTreeRun(octokit: GitHub, owner: string, repo: string, sha: string): Promise<TreeRun | undefined> {
  const { data } = await octokit.rest.checks.listForRef({ owner, repo, ref: sha, check_name: TREE_CHECK_NAME, filter: 'latest', per_page: 10 });
  const run = data.check_runs.find((r) => r.name === TREE_CHECK_NAME);
  return run ? { id: run.id, status: run.status, conclusion: run.conclusion } : undefined;
}

async function startTreeRun(octokit: GitHub, owner: string, repo: string, sha: string, trigger: string): Promise<number> {
  const { data } = await octokit.rest.checks.create({
    owner, repo, name: TREE_CHECK_NAME, head_sha: sha, status: 'in_progress', started_at: new Date().toISOString(), external_id: `tree:${sha}`,
    output: { title: 'Scanning the tree for kmap uses…', summary: `Scanning \`${sha.slice(0, 12)}\` (${trigger}): every kmap_atomic()/kmap() use, classified.` },
  });
  return data.id;
}

/** `https://github.com` for api.github.com, `https://host` for a GHE `https://host/api/v3`. */
export function htmlBaseOf(octokit: GitHub): string {
  const api = String((octokit.request.endpoint.DEFAULTS as { baseUrl?: string }).baseUrl ?? 'https://api.github.com');
  if (/^https?:\/\/api\.github\.com\/?$/.test(api)) return 'https://github.com';
  return api.replace(/\/api\/v3\/?$/, '').replace(/\/$/, '');
}

const BASELINE_TEXT = 'The baseline below lets the next push of the default branch report its trend (was N, now M).';

export class TreeWorker {
  constructor(readonly services: TreeServices) {}

  async process(job: ReviewJob, ctx: JobContext): Promise<TreeOutcome> {
    const s = this.services;
    const { owner, repo, headSha } = job;
    const before = job.baseSha || null;
    const log = s.log.child({ tree: `${owner}/${repo}`, sha: headSha.slice(0, 12), attempt: ctx.attempt });
    if (await ctx.isSuperseded()) {
      log.info('tree scan superseded by a newer push before it started: skipped');
      return 'superseded';
    }
    let octokit: GitHub | undefined;
    let checkRunId: number | undefined;
    const started = Date.now();
    try {
      octokit = await s.octokitFor(job.installationId);
      const existing = await findTreeRun(octokit, owner, repo, headSha);
      if (!job.force && existing?.status === 'completed' && existing.conclusion !== 'cancelled') {
        log.info({ checkRun: existing.id }, 'this commit already has a tree result: skipping');
        return 'already-done';
      }
      checkRunId = existing && existing.status !== 'completed' ? existing.id : await startTreeRun(octokit, owner, repo, headSha, job.trigger);

      const catalog = await s.rules();
      const loaded = await loadRepoConfig(octokit, owner, repo, catalog.ids());
      const engineConfig = toEngineConfig(loaded.config);
      const maxFileBytes = Math.min(s.limits.maxFileBytes, loaded.config.maxFileBytes);
      const engineVersion = await s.engineVersion();
      const { scan: partial, stats, readyTexts } = await scanRepository(
        { octokit, cache: s.cache, options: s.options, log, engineVersion, isSuperseded: () => ctx.isSuperseded() },
        owner, repo, headSha, loaded.config, engineConfig, maxFileBytes,
      );

      const found = await findBaseline(octokit, s.cache, owner, repo, headSha, before);
      const { compareWithBaseline } = await loadScanner();
      const comparison = !found
        ? null
        : found.baseline.complete
          ? compareWithBaseline(partial.sites, partial.findings, toBaselineInput(found.baseline, partial.sites, partial.findings))
          : compareCounts(found.baseline, partial.sites);
      const scan: TreeScan = { ...partial, baseline: comparison, elapsedMs: Date.now() - started };
      const mine = baselineOf(headSha, scan.sites, scan.findings);
      await s.cache.set(baselineKey(owner, repo, headSha), mine);
      await s.cache.set(latestKey(owner, repo), mine);
      const history = appendRun(await s.cache.get(historyKey(owner, repo)), runPointOf(headSha, scan));
      await s.cache.set(historyKey(owner, repo), history);
      if (await ctx.isSuperseded()) throw new Superseded();

      const trend: TreeTrendInfo = {
        commit: found?.baseline.commit ?? null, source: found?.source ?? null, countsOnly: found ? !found.baseline.complete : false, before,
      };
      const readyPatch = await offerReadyPatch(partial, readyTexts, engineConfig);
      const out = renderTreeCheckRun({
        readyPatch, history,
        scan, owner, repo, headSha, htmlBase: htmlBaseOf(octokit), trend, stats, configProblems: loaded.problems,
        maxAnnotations: s.options.maxAnnotations, ...(s.options.maxItems !== undefined ? { maxItems: s.options.maxItems } : {}),
        text: `${BASELINE_TEXT}\n\n${encodeBaselineMarker(mine, 65_535 - BASELINE_TEXT.length - 200)}`,
      });
      await completeCheckRun(octokit, owner, repo, checkRunId, out);
      log.info({ sites: scan.sites.length, conclusion: out.conclusion, ...stats, ms: Date.now() - started }, 'kmap-review tree scan done');
      return 'done';
    } catch (err) {
      if (err instanceof Superseded) {
        log.info('tree scan superseded by a newer push: stopping');
        if (octokit && checkRunId !== undefined) {
          await closeCheckRun(octokit, owner, repo, checkRunId, 'cancelled', {
            title: 'Superseded by a newer push',
            summary: `The scan of \`${headSha.slice(0, 12)}\` was stopped: the default branch has a newer head, which is scanned instead.`,
          }).catch((e: unknown) => log.warn({ err: e }, 'could not cancel the superseded tree check run'));
        }
        return 'superseded';
      }
      const reason = retryLaterOrGiveUp(err, ctx, s.retry, log, 'kmap-review tree scan');
      await this.#reportFailure(octokit, job, checkRunId, reason, log);
      return 'failed';
    }
  }

  async #reportFailure(octokit: GitHub | undefined, job: ReviewJob, checkRunId: number | undefined, reason: string, log: Logger): Promise<void> {
    if (!octokit) return;
    const policy = { attempts: 3, baseDelayMs: Math.min(1000, this.services.retry.baseDelayMs), maxDelayMs: 10_000 };
    try {
      const id = checkRunId ?? (await withRetry(() => startTreeRun(octokit, job.owner, job.repo, job.headSha, job.trigger), policy));
      await withRetry(() => closeCheckRun(octokit, job.owner, job.repo, id, 'neutral', {
        title: 'kmap-review could not scan the tree',
        summary: `The scan of \`${job.headSha.slice(0, 12)}\` failed: ${reason}\n\nUse **Re-run** to try again.`.slice(0, 65_000),
      }), policy);
    } catch (err) {
      log.error({ err }, 'could not complete the tree check run with the failure');
    }
  }
}
