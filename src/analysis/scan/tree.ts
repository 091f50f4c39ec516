/**
 * The repo-wide scan: list the C files of a directory or a git revision, keep the ones that mention the
 * mapping API (a byte search), analyse them (only the functions that matter parsed), and sum up per class,
 * directory and MAINTAINERS subsystem.
 *
 * Threads: this one lists, reads and prefilters every file (grep's work), handing each file that mentions
 * the API to a worker thread as soon as it is read; the workers only analyse (scan-worker.ts: `file`
 * messages, then `stop`, answered by one `results`). Reading in the workers instead made them compete for
 * the cores with their own analysis and pay a second JIT warm-up for the same work: on two cores, one
 * reading thread and one analysing worker scan Linux 6.1 in three quarters of the time two reading and
 * analysing workers took (bench/README.md).
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
  /**
   * Threads in all (default: the machine's available parallelism): this one reads and prefilters, the
   * other jobs - 1 analyse; 0 or 1 does everything in this thread (unless `background`).
   */
  jobs?: number;
  /**
   * Never analyse in the calling thread (it only prefilters), and run the workers at background priority:
   * for a server (the App) whose main thread must stay responsive. At least one worker thread is used.
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

/** A C file that mentions the API, read and ready to analyse. */
export interface Candidate {
  path: string;
  bytes: Uint8Array;
}

/** Main thread -> scan-worker.ts: a file to analyse, or the end of the work. */
export type WorkerMessage = { type: 'file'; file: Candidate } | { type: 'stop' };

/** scan-worker.ts -> main thread: `done` after each file, `results` once after `stop`. */
export type WorkerResult = { type: 'done' } | { type: 'results'; scans: FileScan[]; skipped: SkippedFile[] } | { type: 'failed'; error: string };

const DEFAULT_MAX_BYTES = 8 << 20;

/** Analyses one file at a time; the same code runs in a worker thread or, with one job, in this one. */
export class FileAnalyser {
  private readonly api: KmapApi;
  readonly scans: FileScan[] = [];
  readonly skipped: SkippedFile[] = [];

  constructor(private readonly init: WorkerInit) {
    this.api = new KmapApi(init.config);
  }

  /** initParser() must have been awaited. */
  analyse(file: Candidate): void {
    // Lossy decoding: a stray Latin-1 byte in a comment must not hide the file's code.
    const text = Buffer.from(file.bytes.buffer, file.bytes.byteOffset, file.bytes.byteLength).toString('utf8');
    try {
      this.scans.push(scanFile(file.path, text, { api: this.api, config: this.init.config }));
    } catch (e) {
      this.skipped.push({ path: file.path, reason: `not analysed: ${e instanceof Error ? e.message : String(e)}` });
    }
  }
}

/**
 * Where the candidates go. Without workers they are analysed at once, here. With workers they queue here
 * and each worker is kept LEAD files ahead (it reports every file done); the reading loop yields now and
 * then so that those reports are heard. When reading is over, this thread takes files from the back of
 * the queue itself (unless it serves webhooks), while the workers go on taking from the front.
 */
interface Analysers {
  add(file: Candidate): void;
  /** Lets worker messages in; the reading loop awaits it every few hundred files. */
  breathe(): Promise<void>;
  /** Analyses what is left (here too, if `helpHere`), then waits for every worker's results. */
  finish(helpHere: boolean): Promise<{ scans: FileScan[]; skipped: SkippedFile[] }>;
  /** Stops the workers without waiting (an error while reading). */
  abort(): void;
}

/** Files a worker is given ahead of what it has finished: enough not to starve between this thread's yields. */
const LEAD = 24;

const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve));

async function inThisThread(init: WorkerInit): Promise<Analysers> {
  await initParser();
  const a = new FileAnalyser(init);
  return { add: (f) => a.analyse(f), breathe: async () => undefined, finish: async () => ({ scans: a.scans, skipped: a.skipped }), abort: () => undefined };
}

function onWorkers(init: WorkerInit, count: number, workerUrl: URL): Analysers {
  const queue: Candidate[] = [];
  /** Set when a worker fails: waiting for its files would wait forever. */
  let broken: Error | null = null;
  /** Resolved whenever the work may be over (all given out and done) or broken. */
  let wake: (() => void) | null = null;
  const workers = Array.from({ length: count }, () => {
    const worker = new Worker(workerUrl, { workerData: init });
    const w = { worker, inFlight: 0, result: undefined as unknown as Promise<{ scans: FileScan[]; skipped: SkippedFile[] }> };
    w.result = new Promise((resolve, reject) => {
      let answered = false;
      const fail = (e: Error) => {
        broken ??= e;
        wake?.();
        reject(e);
      };
      worker.on('message', (msg: WorkerResult) => {
        if (msg.type === 'done') {
          w.inFlight--;
          feed();
          wake?.();
        } else if (msg.type === 'failed') fail(new Error(`scan worker: ${msg.error}`));
        else {
          answered = true;
          resolve(msg);
        }
      });
      worker.once('error', fail);
      // After its results a worker exits normally; before them, an exit is a failure.
      worker.once('exit', (code) => answered || fail(new Error(`scan worker exited with code ${code} before its results`)));
    });
    w.result.catch(() => undefined); // observed in finish(); a failure meanwhile must not be unhandled
    return w;
  });
  const feed = () => {
    for (const w of workers) {
      while (w.inFlight < LEAD && queue.length) {
        const file = queue.shift()!;
        w.inFlight++;
        // Transferred, not copied: the candidate owns its buffer (see copyOf).
        w.worker.postMessage({ type: 'file', file } satisfies WorkerMessage, [file.bytes.buffer as ArrayBuffer]);
      }
    }
  };
  return {
    add(file) {
      queue.push(file);
      feed();
    },
    breathe: nextTurn,
    async finish(helpHere) {
      const here = helpHere ? new FileAnalyser(init) : null;
      if (here) {
        await initParser();
        for (let file = queue.pop(); file && !broken; file = queue.pop()) {
          here.analyse(file);
          await nextTurn(); // the workers' reports come in between: they keep taking from the front
        }
      }
      while (!broken && (queue.length || workers.some((w) => w.inFlight > 0))) await new Promise<void>((r) => (wake = r));
      if (broken) throw broken;
      for (const w of workers) w.worker.postMessage({ type: 'stop' } satisfies WorkerMessage);
      try {
        const results = await Promise.all(workers.map((w) => w.result));
        if (here) results.push({ scans: here.scans, skipped: here.skipped });
        return { scans: results.flatMap((r) => r.scans), skipped: results.flatMap((r) => r.skipped) };
      } finally {
        for (const w of workers) void w.worker.terminate();
      }
    },
    abort() {
      for (const w of workers) void w.worker.terminate();
    },
  };
}

/** A candidate's own copy of bytes read into a reused buffer (it may be transferred to a worker). */
function copyOf(bytes: Uint8Array): Uint8Array {
  const out = new Uint8Array(bytes.byteLength);
  out.set(bytes);
  return out;
}

export async function scanTree(source: TreeSource, options: TreeScanOptions): Promise<TreeScan> {
  const t0 = performance.now();
  const init: WorkerInit = { config: options.config, maxBytes: options.maxBytes ?? DEFAULT_MAX_BYTES, ...(options.background ? { background: true } : {}) };
  const jobs = options.jobs ?? availableParallelism();
  // This thread lists, reads and prefilters; the others analyse. A server's scan never analyses here.
  const workerCount = options.background ? Math.max(1, jobs - 1) : jobs <= 1 ? 0 : jobs - 1;
  const workerUrl = options.workerUrl ?? new URL('./scan-worker.js', import.meta.url);
  const extraNames = new KmapApi(options.config).wrapperNames();
  // Workers start first: their start-up (modules, WASM) overlaps the listing and reading.
  const analysers = workerCount > 0 ? onWorkers(init, workerCount, workerUrl) : await inThisThread(init);
  let name: string;
  let commit: string | null = null;
  let maintainers: string | null = null;
  let listed = 0;
  let matched = 0;
  const skipped: SkippedFile[] = [];
  /** The prefilter: most files stop here, only the ones that mention the API are analysed. */
  const offer = (path: string, bytes: Uint8Array, owned: boolean) => {
    if (!mayMentionApi(bytes, extraNames)) return;
    matched++;
    analysers.add({ path, bytes: owned ? bytes : copyOf(bytes) });
  };
  const offerAll = async (items: ReadonlyArray<{ path: string; bytes: Uint8Array }>, owned: boolean) => {
    for (const item of items) {
      if (++listed % 256 === 0) await analysers.breathe();
      if (item.bytes.byteLength > init.maxBytes) {
        if (mayMentionApi(item.bytes, extraNames)) skipped.push({ path: item.path, reason: `larger than ${init.maxBytes} bytes` });
      } else offer(item.path, item.bytes, owned);
    }
  };

  try {
    if (source.kind === 'dir') {
      name = source.root;
      const scratch = { buf: Buffer.allocUnsafe(1 << 20) };
      for (const path of listCFiles(source.root)) {
        if (options.select && !options.select(path)) continue;
        if (++listed % 256 === 0) await analysers.breathe();
        const file = join(source.root, path);
        let bytes: Uint8Array | null;
        try {
          bytes = readBounded(file, scratch, init.maxBytes);
        } catch (e) {
          skipped.push({ path, reason: `unreadable: ${(e as NodeJS.ErrnoException).code ?? String(e)}` });
          continue;
        }
        if (bytes) offer(path, bytes, false);
        else if (largeFileMentionsApi(file, extraNames)) skipped.push({ path, reason: `larger than ${init.maxBytes} bytes` });
      }
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
      listed += big.length;
      skipped.push(...big.map((f) => ({ path: f.path, reason: `larger than ${init.maxBytes} bytes` })));
      const bySha = new Map<string, string[]>();
      for (const f of files) if (f.size <= init.maxBytes) bySha.set(f.sha, [...(bySha.get(f.sha) ?? []), f.path]);
      // Each blob is prefiltered and handed over as git streams it: the workers start while git still reads.
      await readGitBlobs(source.repo, [...bySha.keys()], (sha, bytes) => {
        // A blob shared by several paths is one buffer: each path gets its own copy (offer's copyOf).
        for (const path of bySha.get(sha) ?? []) {
          listed++;
          offer(path, bytes, false);
        }
      });
      maintainers = readGitFile(source.repo, commit, 'MAINTAINERS');
    } else {
      name = source.name;
      await offerAll(source.items, false);
    }
  } catch (e) {
    analysers.abort();
    throw e;
  }

  // This thread helps with what is left once it has read everything, unless it answers webhooks.
  const analysed = await analysers.finish(!options.background);
  const scans = analysed.scans.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
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
      listed,
      matched,
      analysed: scans.length,
      skipped: [...skipped, ...analysed.skipped].sort((a, b) => a.path.localeCompare(b.path)),
    },
    baseline: options.baseline ? compareWithBaseline(sites, findings, options.baseline) : null,
    elapsedMs: Math.round(performance.now() - t0),
  };
}
