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
 * analysing workers took (bench/README.md). Once it has read everything, this thread analyses too, taking
 * files from the back of what the workers were given (see Claims).
 */
import { readFileSync, statSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { ENGINE_VERSION } from '../engine.js';
import { countDeprecatedCalls, KmapApi } from '../kmap-api.js';
import type { EngineConfig, Finding, SkippedFile } from '../model.js';
import { applyKconfigReach, reachCanChange } from '../kconfig/apply.js';
import { CachedReach, type ReachRecord, type ReachStore } from '../kconfig/reach-cache.js';
import { dirTreeReader, gitTreeListing, type StampOptions, type TreeReader } from '../kconfig/tree-reader.js';
import { findRule } from '../rules/index.js';
import { initParser } from '../syntax/parser.js';
import { CalleeSummaries } from '../summaries/context.js';
import type { IndexSize } from '../summaries/definitions.js';
import { fileStamp, type StampFields } from '../source/file-stamp.js';
import { firstChanged, IndexedFiles, type TreeFacts } from '../summaries/tree-facts.js';
import { TreeDefinitions } from '../summaries/tree.js';
import { scanFile, type FileScan, type ScanSite } from './classify.js';
import { gitBlobSha } from './blob-sha.js';
import { parseMaintainers, type MaintainersIndex } from './maintainers.js';
import { mayMentionApi } from './prefilter.js';
import type { ScanResultStore } from './result-cache.js';
import { largeFileMentionsApi, listCFiles, listGitCandidates, readBounded, readGitBlobs, readGitFile, resolveRevision } from './sources.js';
import { compareWithBaseline, computeTotals, type BaselineComparison, type BaselineInput, type ScanTotals } from './totals.js';

export type TreeSource =
  /** `label`: how reports name the tree (what the user typed); default the root's path. */
  | { kind: 'dir'; root: string; label?: string }
  | { kind: 'git'; repo: string; rev: string; label?: string }
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
  /**
   * Called once, when this thread's reading loop has run long enough to be optimised (READ_WARM_FILES files,
   * or the end of reading): the CLI sets the V8 flags meant for the analysis here (src/cli/v8-flags.ts).
   */
  onReadWarm?: () => void;
  /**
   * Results of earlier scans by path and content (result-cache.ts): a file found there with the same git
   * blob id is not analysed again, and every file analysed is added.
   */
  results?: ScanResultStore;
  /**
   * The Kconfig reach's answers of earlier scans (kconfig/reach-cache.ts): reused while the build files they
   * were read from are unchanged, and the answers of this scan kept.
   */
  reachCache?: ReachStore;
  /**
   * Callee summaries across the tree's files (summaries/): a lexical index of definitions is built while
   * reading, and the files whose atomic sections call other files' functions are analysed again with
   * those functions' summaries. Default: on for a directory, off otherwise (a git revision's files are not
   * all read, and the App keeps file-local summaries).
   */
  treeSummaries?: boolean;
  /**
   * How recently (ms before the scan) a file may have been written and still be known by its stamp next
   * time: by the result store's index by file, and by the Kconfig reach's store for a build file
   * (source/file-stamp.ts RACY_MS, the default); tests that write a tree and scan it at once give 0.
   */
  racyMs?: number;
}

/** Files read before the reading loop counts as optimised (V8 optimises it within the first thousand). */
export const READ_WARM_FILES = 2000;

export interface TreeScan {
  /** The directory, `repo@commit`, or the name given for in-memory files. */
  name: string;
  commit: string | null;
  engineVersion: string;
  sites: ScanSite[];
  findings: Finding[];
  totals: ScanTotals;
  /**
   * `analysed` counts every file with a result, `cached` (only with a result store) those whose result
   * came from an earlier scan.
   */
  files: { listed: number; matched: number; analysed: number; cached?: number; skipped: SkippedFile[] };
  baseline: BaselineComparison | null;
  elapsedMs: number;
  /** The cross-file callee summaries, when the scan built them (what they cost and what they changed). */
  summaries?: TreeSummaryStats;
}

export interface TreeSummaryStats {
  /** The index's size, when it was built (a re-scan whose answers all still hold does not build it). */
  index?: IndexSize;
  /** Time spent indexing while reading, ms. */
  indexMs: number;
  /** Files whose names came from the result cache (unchanged since: summaries/tree-facts.ts), not indexed again. */
  indexReused: number;
  /** Of those, files not even read: their stat key said they were the bytes the last scan read. */
  unread: number;
  /** Uses of callee answers and of results made with the summaries kept from the result cache. */
  answersKept: number;
  /** Distinct callee names asked about, and how many have facts a rule can use. */
  asked: number;
  relevant: number;
  /** Files analysed again with the tree's summaries. */
  reanalysed: number;
  /** Files read and located to answer, definitions looked at and parsed, and the time it all took, ms. */
  filesRead: number;
  looked: number;
  parsed: number;
  /** Definitions left unread because an exploration hit its node budget (0 keeps answers independent of order). */
  budgetCuts: number;
  ms: number;
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

/**
 * Who analyses each file handed to a worker: the worker, or this thread once it has read everything. A
 * file goes to a worker as soon as it is read (its bytes in shared memory, so both threads can read them)
 * and whichever thread claims its slot first analyses it: the worker takes its files in order from the
 * front, this thread from the back. Files handed out by message cannot be taken back, so with a fixed
 * lead instead, the worker was still busy with its last ones ~140 ms after this thread ran out of work;
 * with a small lead it waited for this thread (busy analysing) to hand it the next file (Linux 6.1).
 */
export class Claims {
  /** Slots beyond this many files are never taken back from the worker given them. */
  static readonly CAPACITY = 1 << 16;
  readonly #slots: Int32Array;

  constructor(shared: SharedArrayBuffer = new SharedArrayBuffer(Claims.CAPACITY * 4)) {
    this.#slots = new Int32Array(shared);
  }

  get shared(): SharedArrayBuffer {
    return this.#slots.buffer as SharedArrayBuffer;
  }

  /** True for the one caller that claims file `index` first. */
  claim(index: number): boolean {
    return index >= this.#slots.length || Atomics.compareExchange(this.#slots, index, 0, 1) === 0;
  }

  /** True once someone has claimed file `index` (always, beyond CAPACITY: those are their worker's). */
  claimed(index: number): boolean {
    return index >= this.#slots.length || Atomics.load(this.#slots, index) !== 0;
  }

  /** Whether this thread may take file `index` back from its worker (not for the ones beyond CAPACITY). */
  stealable(index: number): boolean {
    return index < this.#slots.length;
  }
}

/**
 * Main thread -> scan-worker.ts: a file to analyse (unless already claimed), the end of the work, then
 * (to one worker, while this thread makes the tree summaries) the Kconfig reach of the files with errors.
 */
export type WorkerMessage = { type: 'file'; index: number; file: Candidate } | { type: 'stop' } | ({ type: 'reach' } & ReachJob);

/** scan-worker.ts -> main thread: `results` once after `stop`; `reach` after `reach`. */
export type WorkerResult = { type: 'results'; scans: FileScan[]; skipped: SkippedFile[] } | { type: 'failed'; error: string } | ({ type: 'reach' } & ReachDone);

/** The Kconfig reach of a directory's files, computed in a worker: as withKconfigReach would, from `record`. */
export interface ReachJob {
  root: string;
  stamps: StampOptions;
  record: ReachRecord | null;
  paths: string[];
}
/** Its record (answers and stamps: null when it failed), and whether it differs from the one given. */
export interface ReachDone {
  record: ReachRecord | null;
  changed: boolean;
}

/** A worker for the reach job alone (WorkerStart.reachOnly: no parser, a small heap). */
interface ReachWorker {
  reach(job: ReachJob): Promise<ReachDone | null>;
  release(): void;
}

/** What a scan worker is started with: the analysis settings and the claims it shares with this thread. */
export interface WorkerStart extends WorkerInit {
  claims: SharedArrayBuffer;
  /** Started for the Kconfig reach job alone: no file to analyse, no parser. */
  reachOnly?: boolean;
}

const DEFAULT_MAX_BYTES = 8 << 20;

/** `{ uses }` for a skipped file whose text can be read (a lexical count: it keeps counting in the ratchet). */
function usesOf(read: () => string | null): { uses?: number } {
  try {
    const text = read();
    const uses = text === null ? 0 : countDeprecatedCalls(text);
    return uses ? { uses } : {};
  } catch {
    return {};
  }
}

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
      this.skipped.push({ path: file.path, reason: `not analysed: ${e instanceof Error ? e.message : String(e)}`, ...usesOf(() => text) });
    }
  }
}

/**
 * Where the candidates go. Without workers they are analysed at once, here. With workers each goes to a
 * worker as it is read (round robin), and when reading is over this thread claims and analyses from the
 * back (unless it serves webhooks) while the workers go on from the front.
 */
interface Analysers {
  add(file: Candidate): void;
  /** Analyses what is left (here too, if `helpHere`), then waits for every worker's results. */
  finish(helpHere: boolean): Promise<{ scans: FileScan[]; skipped: SkippedFile[] }>;
  /** Stops the workers without waiting (an error while reading). */
  abort(): void;
}

const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve));

async function inThisThread(init: WorkerInit): Promise<Analysers> {
  await initParser();
  const a = new FileAnalyser(init);
  return { add: (f) => a.analyse(f), finish: async () => ({ scans: a.scans, skipped: a.skipped }), abort: () => undefined };
}

/**
 * `lazy`: the workers start with the first file handed out, not at once. For a scan with a result store,
 * where most files may come from it: a re-scan that analyses nothing starts no thread (their start-up,
 * WASM compilation included, competes with this thread's reading: the all-cached re-scan of Linux 6.1 was
 * ~4 % slower with them).
 */
function onWorkers(init: WorkerInit, count: number, workerUrl: URL, lazy: boolean): Analysers {
  const claims = new Claims();
  /**
   * Every file handed out, by index: what this thread may claim back. A file a worker has claimed is
   * dropped from here (the worker holds the shared bytes until it is done with them): a tree's candidates
   * are not all kept until the end.
   */
  const given: Array<Candidate | null> = [];
  let dropped = 0; // given[0..dropped) are claimed and let go
  const dropClaimed = () => {
    while (dropped < given.length && claims.claimed(dropped)) given[dropped++] = null;
  };
  /** Set when a worker fails: its results will never come. */
  let broken: Error | null = null;
  const startWorkers = () => Array.from({ length: count }, () => {
    const worker = new Worker(workerUrl, { workerData: { ...init, claims: claims.shared } satisfies WorkerStart });
    const w = { worker, result: undefined as unknown as Promise<{ scans: FileScan[]; skipped: SkippedFile[] }> };
    w.result = new Promise((resolve, reject) => {
      let answered = false;
      const fail = (e: Error) => {
        broken ??= e;
        reject(e);
      };
      worker.on('message', (msg: WorkerResult) => {
        if (msg.type === 'failed') fail(new Error(`scan worker: ${msg.error}`));
        else if (msg.type === 'results') {
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
  let workers = lazy ? [] : startWorkers();
  return {
    add(read) {
      const index = given.length;
      const file = { path: read.path, bytes: copyOf(read.bytes) };
      given.push(file);
      if (!workers.length) workers = startWorkers();
      workers[index % workers.length].worker.postMessage({ type: 'file', index, file } satisfies WorkerMessage);
      dropClaimed();
    },
    async finish(helpHere) {
      // Everything inside the try: whatever fails here (this thread's parser too), the workers are
      // stopped, not left waiting for files and keeping the process alive.
      try {
        const here = helpHere ? new FileAnalyser(init) : null;
        if (here) {
          await initParser();
          for (let index = given.length - 1; index >= 0 && !broken; index--) {
            const file = given[index];
            if (!file || !claims.stealable(index) || !claims.claim(index)) continue;
            given[index] = null;
            here.analyse(file);
            await nextTurn(); // a worker's failure is heard between files
          }
        }
        given.length = 0;
        if (broken) throw broken;
        for (const w of workers) w.worker.postMessage({ type: 'stop' } satisfies WorkerMessage);
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

/**
 * A new worker for the reach job. Not an analysing worker kept on: its heap (the analysis' garbage) would
 * stay next to this thread's while it makes the tree summaries (~20 MB more peak RSS on Linux 6.1); a
 * reach-only worker starts in a few ms, without the parser, while this thread works.
 */
function reachWorker(workerUrl: URL, init: WorkerInit): ReachWorker {
  const worker = new Worker(workerUrl, { workerData: { ...init, claims: new SharedArrayBuffer(4), reachOnly: true } satisfies WorkerStart });
  return {
    reach: (job) =>
      new Promise((resolve) => {
        // A worker that fails or exits first answers nothing: the reach is then computed here.
        worker.on('message', (msg: WorkerResult) => msg.type === 'reach' && resolve(msg));
        worker.once('error', () => resolve(null));
        worker.once('exit', () => resolve(null));
        worker.postMessage({ type: 'reach', ...job } satisfies WorkerMessage);
      }),
    release: () => void worker.terminate(),
  };
}

/** A candidate's bytes (often in a reused buffer) copied into memory that the workers and this thread share. */
function copyOf(bytes: Uint8Array): Uint8Array {
  const out = new Uint8Array(new SharedArrayBuffer(bytes.byteLength));
  out.set(bytes);
  return out;
}

/** The first results' reach job, in a worker of its own (started here); null when no finding can change. */
function reachInWorker(start: () => ReachWorker, root: string, scans: readonly FileScan[], stamps: StampOptions, store?: ReachStore): { done: Promise<ReachDone | null>; worker: ReachWorker } | null {
  const paths = [...new Set(scans.flatMap((s) => s.findings.filter(reachCanChange).map((f) => f.path)))];
  if (!paths.length) return null;
  const worker = start();
  return { done: worker.reach({ root, stamps, record: store?.load() ?? null, paths }), worker };
}

/**
 * The findings with the tree's Kconfig reach (kconfig/apply.ts): a directory's or a commit's build files are
 * read only when a finding can change (files in memory, the App's, have none to read), and not at all when
 * the store's answers from an earlier scan cover the findings and their build files are unchanged (a
 * commit's blob ids come from `git ls-tree` alone; its blobs are read only when something is computed).
 * `stamps`: the scan's start and racy window, for a directory's stamps (source/file-stamp.ts).
 * `early`: the record of the reach a worker computed from the first results (reachInWorker): its answers
 * are used while its stamps hold (CachedReach checks them), and what it does not answer is computed here.
 */
async function withKconfigReach(findings: Finding[], source: TreeSource, commit: string | null, stamps: StampOptions, store?: ReachStore, early?: Promise<ReachDone | null>): Promise<Finding[]> {
  const paths = new Set(findings.filter(reachCanChange).map((f) => f.path));
  if (source.kind === 'texts' || !paths.size) return findings;
  let reader: TreeReader;
  let reach: CachedReach | undefined;
  try {
    if (source.kind === 'dir') reader = dirTreeReader(source.root, stamps);
    else {
      const listing = gitTreeListing(source.repo, commit!);
      reader = listing;
      reach = new CachedReach(reader, store?.load());
      if (!reach.covers(paths)) await listing.load();
    }
  } catch {
    return findings; // the build files could not be read: nothing is claimed about them
  }
  const fromWorker = early ? await early : null;
  reach ??= new CachedReach(reader, fromWorker?.record ?? store?.load());
  const out = applyKconfigReach(findings, reach);
  // Changed against the stored record: by the worker's answers, or by this thread's.
  if (store && (reach.changed || (fromWorker?.record && fromWorker.changed))) store.keep(reach.record());
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
  // Workers start first: their start-up (modules, WASM) overlaps the listing and reading. With a result
  // store they wait for the first file not found there.
  const analysers = workerCount > 0 ? onWorkers(init, workerCount, workerUrl, options.results !== undefined) : await inThisThread(init);
  let name: string;
  let commit: string | null = null;
  let maintainers: string | null = null;
  let listed = 0;
  let matched = 0;
  let warm = false;
  const readWarm = () => {
    if (warm) return;
    warm = true;
    options.onReadWarm?.();
  };
  const skipped: SkippedFile[] = [];
  /**
   * The prefilter: most files stop here, only the ones that mention the API are analysed. `bytes` may be a
   * reused buffer: the analysers use it before returning or take their own copy.
   */
  const { results } = options;
  /** Results of earlier scans used in this one. */
  const cached: FileScan[] = [];
  /** The blob ids of the files analysed in this run, for the result store. */
  const shaOf = new Map<string, string>();
  /** True (and counted as matched) when an earlier scan's result for this content is used. */
  const takeCached = (path: string, sha: string) => {
    const scan = results?.get(path, sha);
    if (!scan) return false;
    shaOf.set(path, sha);
    matched++;
    cached.push(scan);
    return true;
  };
  const treeSummaries = options.treeSummaries ?? source.kind === 'dir';
  /** What the last scan's callee answers depended on (result cache), and this scan's index by file. */
  const facts = treeSummaries ? (results?.treeFacts?.() ?? null) : null;
  const indexed = treeSummaries ? new IndexedFiles(facts?.index, results?.setTreeFacts !== undefined) : null;
  /** The files the kept answers read, hashed as read here to tell whether they still hold. */
  const wantSha = new Set(facts?.read.map((r) => r[0]));
  const readSha = new Map<string, string>();
  /**
   * Stat keys only when the index by file can be kept (summaries/tree-facts.ts: why a stat key). The racy
   * window of every stamp (source/file-stamp.ts) is counted back from here, the build files' too.
   */
  const startedAt = Date.now();
  const stamps: StampOptions = { startedAt, ...(options.racyMs !== undefined ? { racyMs: options.racyMs } : {}) };
  const stampOf = (st: StampFields) => fileStamp(st, startedAt, options.racyMs);
  const stat = { key: null as string | null };
  const onStat = indexed && results?.setTreeFacts ? (st: StampFields) => void (stat.key = stampOf(st)) : undefined;
  /** `lookedUp`: the blob id of a git blob, whose result was looked for before reading it. */
  const offer = (path: string, bytes: Uint8Array, lookedUp?: string, key: string | null = null) => {
    const mentions = mayMentionApi(bytes, extraNames);
    const sha = mentions && results ? (lookedUp ?? gitBlobSha(bytes)) : undefined;
    if (indexed) {
      indexed.offer(path, key, bytes, results ? (sha ?? '') : undefined);
      if (wantSha.has(path)) readSha.set(path, gitBlobSha(bytes));
    }
    if (!mentions) return;
    if (sha !== undefined) {
      if (lookedUp === undefined && takeCached(path, sha)) return;
      shaOf.set(path, sha);
    }
    matched++;
    analysers.add({ path, bytes });
  };
  /**
   * A re-scan need not read a file whose stat key is the one the last scan kept for it (the index by file,
   * summaries/tree-facts.ts: why a stat key): its bytes are the ones read then, so what was known of them
   * holds: whether they mention the API, and under which blob id the result cache keeps their result. As git
   * trusts its index for `git status`: one stat instead of open, read and close. True when the file is done.
   */
  const trusted = onStat && facts ? indexed : null;
  const unchangedOnDisk = (path: string, file: string): boolean => {
    if (!trusted || wantSha.has(path)) return false;
    const st = statSync(file, { throwIfNoEntry: false });
    // Not there, or too large: the read says so as it always did.
    if (!st?.isFile() || st.size > init.maxBytes) return false;
    const known = trusted.unchangedSince(path, stampOf(st));
    // A file that mentions the API but whose result is not kept (dropped, or never made) is read.
    if (known === null || (known !== '' && !takeCached(path, known))) return false;
    trusted.keepUnchanged(path);
    return true;
  };

  try {
    if (source.kind === 'dir') {
      name = source.label ?? source.root;
      const scratch = { buf: Buffer.allocUnsafe(1 << 20) };
      // Joined by hand: path.join normalises every one of 55,000 paths (~50 ms on Linux 6.1), and listCFiles
      // gives plain relative paths.
      const prefix = source.root === '' || source.root.endsWith('/') ? source.root : `${source.root}/`;
      for (const path of listCFiles(source.root)) {
        if (options.select && !options.select(path)) continue;
        if (++listed === READ_WARM_FILES) readWarm();
        const file = prefix + path;
        let bytes: Uint8Array | null;
        stat.key = null;
        try {
          if (unchangedOnDisk(path, file)) continue;
          bytes = readBounded(file, scratch, init.maxBytes, onStat);
        } catch (e) {
          skipped.push({ path, reason: `unreadable: ${(e as NodeJS.ErrnoException).code ?? String(e)}` });
          continue;
        }
        if (bytes) offer(path, bytes, undefined, stat.key);
        else if (largeFileMentionsApi(file, extraNames)) skipped.push({ path, reason: `larger than ${init.maxBytes} bytes`, ...usesOf(() => readFileSync(file, 'latin1')) });
      }
      try {
        maintainers = readFileSync(join(source.root, 'MAINTAINERS'), 'utf8');
      } catch {
        maintainers = null;
      }
    } else if (source.kind === 'git') {
      commit = resolveRevision(source.repo, source.rev);
      name = `${source.label ?? source.repo}@${commit.slice(0, 12)}`;
      const files = listGitCandidates(source.repo, commit).filter((f) => !options.select || options.select(f.path));
      const big = files.filter((f) => f.size > init.maxBytes);
      listed += big.length;
      skipped.push(...big.map((f) => ({ path: f.path, reason: `larger than ${init.maxBytes} bytes`, ...usesOf(() => readGitFile(source.repo, commit!, f.path)) })));
      const bySha = new Map<string, string[]>();
      for (const f of files) {
        if (f.size > init.maxBytes) continue;
        // The object store names each blob's content: a cached result is used without reading the blob
        // (git grep, the prefilter, has read it, but neither cat-file nor the analysis do).
        if (takeCached(f.path, f.sha)) listed++;
        else bySha.set(f.sha, [...(bySha.get(f.sha) ?? []), f.path]);
      }
      // Each blob is prefiltered and handed over as git streams it: the workers start while git still reads.
      await readGitBlobs(source.repo, [...bySha.keys()], (sha, bytes) => {
        // A blob shared by several paths is one buffer: each path gets its own copy (offer's copyOf).
        for (const path of bySha.get(sha) ?? []) {
          listed++;
          offer(path, bytes, sha);
        }
      });
      maintainers = readGitFile(source.repo, commit, 'MAINTAINERS');
    } else {
      name = source.name;
      for (const item of source.items) {
        listed++;
        if (item.bytes.byteLength <= init.maxBytes) offer(item.path, item.bytes);
        else if (mayMentionApi(item.bytes, extraNames)) skipped.push({ path: item.path, reason: `larger than ${init.maxBytes} bytes`, ...usesOf(() => Buffer.from(item.bytes).toString('latin1')) });
      }
    }
  } catch (e) {
    analysers.abort();
    throw e;
  }

  readWarm();
  // This thread helps with what is left once it has read everything, unless it answers webhooks.
  const analysed = await analysers.finish(!options.background);
  let early: ReturnType<typeof reachInWorker> = null;
  let summaries: TreeSummaryStats | null;
  let scans: FileScan[];
  let findings: Finding[];
  try {
    // The tree summaries' step runs here, with the workers gone: a worker computes the Kconfig reach of the
    // files the first results have errors in meanwhile (what the step changes is computed here).
    early = workerCount > 0 && source.kind === 'dir' ? reachInWorker(() => reachWorker(workerUrl, init), source.root, [...analysed.scans, ...cached], stamps, options.reachCache) : null;
    summaries = indexed ? withTreeSummaries(source, indexed, analysed.scans, cached, analysed.skipped, options.config, init.maxBytes, { facts, readSha, shaOf, ...(results ? { results } : {}) }) : null;
    if (results) for (const scan of analysed.scans) results.set(scan.path, shaOf.get(scan.path)!, scan);
    scans = [...analysed.scans, ...cached].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
    findings = await withKconfigReach(scans.flatMap((s) => s.findings), source, commit, stamps, options.reachCache, early?.done);
  } finally {
    early?.worker.release();
  }
  const sites = scans.flatMap((s) => s.sites);
  const maintainersIndex: MaintainersIndex | null = maintainers ? parseMaintainers(maintainers) : null;
  return {
    name,
    commit,
    engineVersion: ENGINE_VERSION,
    sites,
    findings,
    totals: computeTotals(sites, findings, maintainersIndex),
    files: {
      listed,
      matched,
      analysed: scans.length,
      ...(results ? { cached: cached.length } : {}),
      skipped: [...skipped, ...analysed.skipped].sort((a, b) => a.path.localeCompare(b.path)),
    },
    baseline: options.baseline ? compareWithBaseline(sites, findings, options.baseline, [...skipped, ...analysed.skipped]) : null,
    elapsedMs: Math.round(performance.now() - t0),
    ...(summaries ? { summaries } : {}),
  };
}

/** A tree file's text again, for the summaries (the reading loop does not keep what it read). */
function reader(source: TreeSource, maxBytes: number, onBytes?: (path: string, bytes: Uint8Array) => void): (path: string) => string | null {
  if (source.kind === 'dir') {
    const prefix = source.root === '' || source.root.endsWith('/') ? source.root : `${source.root}/`;
    return (path) => {
      const bytes = readBounded(prefix + path, { buf: Buffer.allocUnsafe(0) }, maxBytes);
      if (bytes) onBytes?.(path, bytes);
      return bytes ? Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8') : null;
    };
  }
  if (source.kind === 'texts') {
    const byPath = new Map(source.items.map((i) => [i.path, i.bytes]));
    return (path) => {
      const b = byPath.get(path);
      if (b) onBytes?.(path, b);
      return b ? Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('utf8') : null;
    };
  }
  return (path) => {
    const text = readGitFile(source.repo, source.rev, path);
    if (text !== null) onBytes?.(path, Buffer.from(text, 'utf8'));
    return text;
  };
}

/** What the second step keeps in and takes from the result cache. */
interface TreeFactsIo {
  /** The last scan's (null: none, or damaged). */
  facts: TreeFacts | null;
  /** Blob ids, in this run, of the files the last scan's answers read. */
  readSha: ReadonlyMap<string, string>;
  /** Blob ids of the scanned files (the result store's keys). */
  shaOf: ReadonlyMap<string, string>;
  results?: ScanResultStore;
}

/**
 * The second step of a scan with tree summaries: the callee names the files' atomic sections asked about
 * (FileScan.asks) are summarised from the tree (only those, and what they reach), and each file one of
 * whose asks has a fact a rule can use (a need, a sleep, a callback it calls) is analysed again with the
 * summaries, its result replacing the first one (its asks kept, so a cached result is checked again the
 * same way). Few files are: most sections call nothing of another file with such facts.
 *
 * With a result cache, what the last scan answered is kept as long as what it read holds (tree-facts.ts):
 * an answer, and a cached result made with the summaries, are used as they are; the index is built and
 * the summaries made only for what must be answered afresh. A cached result made with summaries that no
 * longer hold is made again (with the summaries, or without when its asks no longer have facts).
 */
function withTreeSummaries(source: TreeSource, files: IndexedFiles, fresh: FileScan[], cached: FileScan[], skipped: SkippedFile[], config: EngineConfig, maxBytes: number, io: TreeFactsIo): TreeSummaryStats {
  const t0 = performance.now();
  const { facts } = io;
  const api = new KmapApi(config);
  /** What the last scan recorded before this number still holds. */
  const valid = facts ? firstChanged(facts, files, (p) => io.readSha.get(p)) : 0;
  const answers = new Map<string, { relevant: boolean; seq: number }>();
  const read: TreeFacts['read'] = [];
  const resolvedNow = new Map<string, [string, string[], number]>();
  const summarisedBefore = new Map<string, number>();
  const summarised: TreeFacts['summarised'] = [];
  let seq = 0;
  if (facts) {
    for (const a of facts.answers) if (a[2] < valid) answers.set(a[0], { relevant: a[1], seq: a[2] });
    for (const r of facts.read) if (r[2] < valid) read.push(r);
    for (const r of facts.resolved) if (r[2] < valid) resolvedNow.set(r[0], r);
    for (const [p, n] of facts.summarised) summarisedBefore.set(p, n);
    for (const list of [facts.answers, facts.read, facts.resolved]) for (const e of list) if (e[2] < valid) seq = Math.max(seq, e[2] + 1);
    for (const [, n] of facts.summarised) if (n < valid) seq = Math.max(seq, n + 1);
  }
  const firstNew = seq;
  let defs: TreeDefinitions | null = null;
  let summaries: CalleeSummaries | null = null;
  /** The tree's summaries, made on first use; what they read and resolve is recorded under the current `seq`. */
  const live = (): CalleeSummaries => {
    if (summaries) return summaries;
    const readText = reader(source, maxBytes, (path, bytes) => void read.push([path, gitBlobSha(bytes), seq]));
    defs = new TreeDefinitions(files.index(), readText, (name, named) => {
      if (!resolvedNow.has(name)) resolvedNow.set(name, [name, [...named], seq]);
    });
    summaries = new CalleeSummaries(api, defs);
    return summaries;
  };
  /** A scanned file's own text again (not a dependency of any answer: its result is keyed by its own blob id). */
  const ownText = reader(source, maxBytes);
  const asked = new Set<string>();
  let reanalysed = 0;
  let kept = 0;
  const relevantOf = (name: string, path: string): boolean => {
    const had = answers.get(name);
    if (had) {
      if (had.seq < firstNew) kept++;
      return had.relevant;
    }
    let s;
    try {
      s = live().ofCall(name, { path, defs: () => [] });
    } catch {
      s = undefined;
    }
    const relevant = !!s && (s.needs.length > 0 || s.sleep !== null || s.callsParams.length > 0);
    answers.set(name, { relevant, seq: seq++ });
    return relevant;
  };
  const step = (scans: FileScan[], fromCache: boolean) => {
    for (let i = 0; i < scans.length; i++) {
      const scan = scans[i];
      if (!scan.asks?.length) continue;
      const before = fromCache ? summarisedBefore.get(scan.path) : undefined;
      if (before !== undefined && before < valid) {
        // Made with the summaries, all of which still hold: as it is.
        for (const name of scan.asks) asked.add(name);
        summarised.push([scan.path, before]);
        kept++;
        continue;
      }
      let redo = false;
      for (const name of scan.asks) {
        asked.add(name);
        if (relevantOf(name, scan.path)) redo = true;
      }
      // A cached result made with summaries that no longer hold, or not known to be made without them.
      const stale = fromCache && (facts === null || before !== undefined);
      if (!redo && !stale) continue;
      const text = ownText(scan.path);
      if (text === null) continue;
      try {
        const mine = seq;
        const again = scanFile(scan.path, text, redo ? { api, config, callees: live() } : { api, config });
        seq++;
        scans[i] = { ...again, asks: scan.asks };
        if (redo) {
          summarised.push([scan.path, mine]);
          reanalysed++;
        }
        const sha = io.shaOf.get(scan.path);
        if (fromCache && io.results && sha) io.results.set(scan.path, sha, scans[i]);
      } catch (e) {
        skipped.push({ path: scan.path, reason: `not analysed with the tree's summaries: ${e instanceof Error ? e.message : String(e)}` });
      }
    }
  };
  step(fresh, false);
  step(cached, true);
  if (io.results?.setTreeFacts) {
    const next: TreeFacts = {
      index: '',
      answers: [...answers].filter(([name]) => asked.has(name)).map(([name, a]) => [name, a.relevant, a.seq]),
      read,
      resolved: [...resolvedNow.values()],
      summarised: summarised.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0)),
    };
    const same =
      facts !== null &&
      !files.changed &&
      seq === firstNew &&
      valid === Infinity &&
      next.answers.length === facts.answers.length &&
      next.summarised.length === facts.summarised.length &&
      next.summarised.every((e, i) => e[0] === facts.summarised[i][0]);
    if (!same) io.results.setTreeFacts({ ...next, index: files.serialise() });
  }
  const built = summaries !== null;
  return {
    ...(built ? { index: files.index().size } : {}),
    indexMs: Math.round(files.elapsedMs),
    indexReused: files.reused,
    unread: files.unread,
    answersKept: kept,
    asked: asked.size,
    relevant: [...answers].filter(([name, a]) => asked.has(name) && a.relevant).length,
    reanalysed,
    filesRead: defs ? (defs as TreeDefinitions).filesRead : 0,
    looked: summaries ? (summaries as CalleeSummaries).stats.looked : 0,
    parsed: summaries ? (summaries as CalleeSummaries).stats.parsed : 0,
    budgetCuts: summaries ? (summaries as CalleeSummaries).stats.budgetCuts : 0,
    ms: Math.round(performance.now() - t0),
  };
}
