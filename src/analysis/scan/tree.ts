/**
 * The repo-wide scan: list the C files of a directory or a git revision, keep the ones that mention the
 * mapping API (a byte search), scan them on worker threads (each file read once, only the functions that
 * matter parsed), and sum up per class, directory and MAINTAINERS subsystem.
 *
 * Protocol with scan-worker.ts: a worker posts a `results` message (its first one empty) whenever it
 * wants work; the main thread answers with the next batch or `stop`. Batches are small so that the two
 * workers stay busy to the end even though a few files (mm/, fs/btrfs) cost far more than the rest.
 */
import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { ENGINE_VERSION } from '../engine.js';
import { KmapApi } from '../kmap-api.js';
import type { EngineConfig, Finding, SkippedFile } from '../model.js';
import { initParser } from '../syntax/parser.js';
import { scanFile, type FileScan, type ScanSite } from './classify.js';
import { parseMaintainers, type MaintainersIndex } from './maintainers.js';
import { mayMentionApi } from './prefilter.js';
import { largeFileMentionsApi, listCFiles, listGitCandidates, readBounded, readGitBlobs, readGitFile, resolveRevision } from './sources.js';
import { compareWithBaseline, computeTotals, type BaselineComparison, type BaselineInput, type ScanTotals } from './totals.js';

export type TreeSource =
  | { kind: 'dir'; root: string }
  | { kind: 'git'; repo: string; rev: string }
  /** Files already in memory (the App, which fetches blobs from GitHub). */
  | { kind: 'texts'; name: string; items: Array<{ path: string; bytes: Uint8Array }> };

export interface TreeScanOptions {
  config: EngineConfig;
  /** Worker threads; 0 or 1 scans in this thread (unless `background`). Default: the machine's available parallelism. */
  jobs?: number;
  /**
   * Never scan in the calling thread, and run the workers at background priority: for a server (the App)
   * whose main thread must stay responsive. At least one worker thread is used.
   */
  background?: boolean;
  /** Files larger than this are skipped with a reason (default 8 MiB). */
  maxBytes?: number;
  baseline?: BaselineInput;
  /** Files to scan among the C files listed (paths relative to the tree); default all. */
  select?: (path: string) => boolean;
  /** The compiled worker script (default: scan-worker.js next to this module). */
  workerUrl?: URL;
}

export interface TreeScan {
  /** The directory, `repo@commit`, or the name given for in-memory files. */
  name: string;
  commit: string | null;
  engineVersion: string;
  sites: ScanSite[];
  findings: Finding[];
  totals: ScanTotals;
  files: { listed: number; matched: number; analysed: number; skipped: SkippedFile[] };
  baseline: BaselineComparison | null;
  elapsedMs: number;
}

export interface WorkerInit {
  config: EngineConfig;
  maxBytes: number;
  /** Run the workers at background priority (background-thread.ts). */
  background?: boolean;
}

export type WorkerMessage =
  | { type: 'files'; root: string; paths: string[] }
  | { type: 'texts'; items: Array<{ path: string; bytes: Uint8Array }> }
  | { type: 'stop' };

export interface BatchResult {
  type: 'results';
  scans: FileScan[];
  skipped: SkippedFile[];
  listed: number;
  matched: number;
}

const DEFAULT_MAX_BYTES = 8 << 20;
const BATCH = 48;

/** Scans batches of files; the same code runs in a worker thread or, for small jobs, in this one. */
export class ScanBatchProcessor {
  private readonly api: KmapApi;
  private readonly extraNames: string[];
  private readonly scratch = { buf: Buffer.allocUnsafe(1 << 20) };

  constructor(private readonly init: WorkerInit) {
    this.api = new KmapApi(init.config);
    this.extraNames = this.api.wrapperNames();
  }

  async run(msg: Exclude<WorkerMessage, { type: 'stop' }>): Promise<BatchResult> {
    await initParser();
    const out: BatchResult = { type: 'results', scans: [], skipped: [], listed: 0, matched: 0 };
    const one = (path: string, bytes: Uint8Array | null, mentionsIfLarge: () => boolean) => {
      out.listed++;
      if (!bytes) {
        if (mentionsIfLarge()) out.skipped.push({ path, reason: `larger than ${this.init.maxBytes} bytes` });
        return;
      }
      if (!mayMentionApi(bytes, this.extraNames)) return;
      out.matched++;
      // Lossy decoding: a stray Latin-1 byte in a comment must not hide the file's code.
      const text = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8');
      try {
        out.scans.push(scanFile(path, text, { api: this.api, config: this.init.config }));
      } catch (e) {
        out.skipped.push({ path, reason: `not analysed: ${e instanceof Error ? e.message : String(e)}` });
      }
    };
    if (msg.type === 'files') {
      for (const path of msg.paths) {
        let bytes: Uint8Array | null;
        try {
          bytes = readBounded(join(msg.root, path), this.scratch, this.init.maxBytes);
        } catch (e) {
          out.listed++;
          out.skipped.push({ path, reason: `unreadable: ${(e as NodeJS.ErrnoException).code ?? String(e)}` });
          continue;
        }
        one(path, bytes, () => largeFileMentionsApi(join(msg.root, path), this.extraNames));
      }
    } else {
      for (const item of msg.items) one(item.path, item.bytes.byteLength > this.init.maxBytes ? null : item.bytes, () => mayMentionApi(item.bytes, this.extraNames));
    }
    return out;
  }
}

/** Hands batches to workers (or runs them here) and gathers the results. */
async function runBatches(list: () => Array<Exclude<WorkerMessage, { type: 'stop' }>>, init: WorkerInit, jobs: number, workerUrl: URL): Promise<BatchResult[]> {
  const results: BatchResult[] = [];
  if (jobs <= 1 && !init.background) {
    const batches = list();
    const p = new ScanBatchProcessor(init);
    for (const b of batches) results.push(await p.run(b));
    return results;
  }
  // Workers start before the files are listed: their start-up (modules, WASM) overlaps the listing.
  let batches: Array<Exclude<WorkerMessage, { type: 'stop' }>> | null = null;
  let listError: unknown = null;
  const waiting: Array<() => void> = [];
  let next = 0;
  const one = () =>
    new Promise<void>((resolve, reject) => {
      const worker = new Worker(workerUrl, { workerData: init });
      let finished = false;
      const finish = (err?: Error) => {
        if (finished) return;
        finished = true;
        void worker.terminate();
        if (err) reject(err);
        else resolve();
      };
      // Gives this worker its next batch, or stops it; waits for the listing when it is not done yet.
      const feed = () => {
        if (listError) return finish(listError as Error);
        if (!batches) return void waiting.push(feed);
        if (next < batches.length) worker.postMessage(batches[next++]);
        else {
          worker.postMessage({ type: 'stop' });
          finish();
        }
      };
      worker.on('message', (msg: BatchResult | { type: 'failed'; error: string }) => {
        if (msg.type === 'failed') return finish(new Error(`scan worker: ${msg.error}`));
        if (msg.scans.length || msg.listed) results.push(msg);
        feed();
      });
      worker.on('error', (e) => finish(e));
      worker.on('exit', (code) => finish(code === 0 ? undefined : new Error(`scan worker exited with code ${code}`)));
    });
  const running = Array.from({ length: Math.max(1, jobs) }, one);
  try {
    batches = list();
  } catch (e) {
    listError = e;
  }
  for (const feed of waiting.splice(0)) feed();
  await Promise.all(running);
  if (listError) throw listError;
  return results;
}

function chunk<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

export async function scanTree(source: TreeSource, options: TreeScanOptions): Promise<TreeScan> {
  const t0 = performance.now();
  const init: WorkerInit = { config: options.config, maxBytes: options.maxBytes ?? DEFAULT_MAX_BYTES, ...(options.background ? { background: true } : {}) };
  const jobs = options.jobs ?? availableParallelism();
  const workerUrl = options.workerUrl ?? new URL('./scan-worker.js', import.meta.url);
  let name: string;
  let commit: string | null = null;
  let maintainers: string | null = null;
  let list: () => Array<Exclude<WorkerMessage, { type: 'stop' }>>;
  let preSkipped: SkippedFile[] = [];
  let listedUpfront = 0;

  if (source.kind === 'dir') {
    name = source.root;
    list = () => {
      const paths = options.select ? listCFiles(source.root).filter(options.select) : listCFiles(source.root);
      // Most files fail the prefilter at once: big batches for a kernel tree, but at least one per worker.
      const size = paths.length > 4000 ? 100 : Math.max(1, Math.min(BATCH, Math.ceil(paths.length / Math.max(1, jobs))));
      return chunk(paths, size).map((p) => ({ type: 'files' as const, root: source.root, paths: p }));
    };
    try {
      maintainers = readFileSync(join(source.root, 'MAINTAINERS'), 'utf8');
    } catch {
      maintainers = null;
    }
  } else if (source.kind === 'git') {
    commit = resolveRevision(source.repo, source.rev);
    name = `${source.repo}@${commit.slice(0, 12)}`;
    const files = listGitCandidates(source.repo, commit).filter((f) => !options.select || options.select(f.path));
    const big = files.filter((f) => f.size > init.maxBytes);
    preSkipped = big.map((f) => ({ path: f.path, reason: `larger than ${init.maxBytes} bytes` }));
    const wanted = files.filter((f) => f.size <= init.maxBytes);
    const bySha = new Map<string, string[]>();
    for (const f of wanted) bySha.set(f.sha, [...(bySha.get(f.sha) ?? []), f.path]);
    const items: Array<{ path: string; bytes: Uint8Array }> = [];
    await readGitBlobs(source.repo, [...bySha.keys()], (sha, bytes) => {
      for (const path of bySha.get(sha) ?? []) items.push({ path, bytes });
    });
    items.sort((a, b) => a.path.localeCompare(b.path));
    listedUpfront = big.length;
    const batches = chunk(items, BATCH).map((i) => ({ type: 'texts' as const, items: i }));
    list = () => batches;
    maintainers = readGitFile(source.repo, commit, 'MAINTAINERS');
  } else {
    name = source.name;
    const batches = chunk(source.items, BATCH).map((i) => ({ type: 'texts' as const, items: i }));
    list = () => batches;
  }

  const results = await runBatches(list, init, jobs, workerUrl);
  const scans = results.flatMap((r) => r.scans).sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  const sites = scans.flatMap((s) => s.sites);
  const findings = scans.flatMap((s) => s.findings);
  const index: MaintainersIndex | null = maintainers ? parseMaintainers(maintainers) : null;
  return {
    name,
    commit,
    engineVersion: ENGINE_VERSION,
    sites,
    findings,
    totals: computeTotals(sites, findings, index),
    files: {
      listed: listedUpfront + results.reduce((n, r) => n + r.listed, 0),
      matched: results.reduce((n, r) => n + r.matched, 0),
      analysed: scans.length,
      skipped: [...preSkipped, ...results.flatMap((r) => r.skipped)].sort((a, b) => a.path.localeCompare(b.path)),
    },
    baseline: options.baseline ? compareWithBaseline(sites, findings, options.baseline) : null,
    elapsedMs: Math.round(performance.now() - t0),
  };
}
