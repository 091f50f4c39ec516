/**
 * A tree-scan worker thread: analyses the files the main thread hands it (already read and prefiltered),
 * each unless the main thread has claimed it first (tree.ts, Claims), and answers `stop` with everything
 * it found. A worker started `reachOnly` computes the Kconfig reach of the files with errors instead, while
 * the main thread makes the tree summaries. See tree.ts for the threads' roles.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { runInBackground } from '../background-thread.js';
import { CachedReach } from '../kconfig/reach-cache.js';
import { dirTreeReader } from '../kconfig/tree-reader.js';
import { initParser } from '../syntax/parser.js';
import { Claims, FileAnalyser, type ReachDone, type ReachJob, type WorkerMessage, type WorkerResult, type WorkerStart } from './tree.js';

/** The reach of `job.paths`, as the main thread's withKconfigReach computes it; a failure answers nothing. */
function reachOf(job: ReachJob): ReachDone {
  try {
    const reach = new CachedReach(dirTreeReader(job.root, job.stamps), job.record);
    for (const p of job.paths) reach.reachOf(p);
    return { record: reach.record(), changed: reach.changed };
  } catch {
    return { record: null, changed: false };
  }
}

const init = workerData as WorkerStart;
if (init.background) runInBackground();
const port = parentPort!;

if (init.reachOnly) port.on('message', (msg: WorkerMessage) => msg.type === 'reach' && port.postMessage({ type: 'reach', ...reachOf(msg) } satisfies WorkerResult));
else analyseFiles();

/** An analysing worker: files until `stop`, then its results. */
function analyseFiles(): void {
  const claims = new Claims(init.claims);
  const analyser = new FileAnalyser(init);
  // Messages that arrive while the parser's WASM is still compiling wait here, in order.
  const waiting: WorkerMessage[] = [];
  let ready = false;

  const handle = (msg: WorkerMessage) => {
    if (msg.type === 'stop') {
      port.postMessage({ type: 'results', scans: analyser.scans, skipped: analyser.skipped } satisfies WorkerResult);
      port.close();
    } else if (msg.type === 'file' && claims.claim(msg.index)) analyser.analyse(msg.file);
  };

  port.on('message', (msg: WorkerMessage) => (ready ? handle(msg) : waiting.push(msg)));

  initParser().then(
    () => {
      ready = true;
      for (const msg of waiting.splice(0)) handle(msg);
    },
    (e: unknown) => port.postMessage({ type: 'failed', error: e instanceof Error ? e.message : String(e) } satisfies WorkerResult),
  );
}
