/**
 * A tree-scan worker thread: analyses the files the main thread hands it (already read and prefiltered),
 * each unless the main thread has claimed it first (tree.ts, Claims), and answers `stop` with everything
 * it found. See tree.ts for the threads' roles.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { runInBackground } from '../background-thread.js';
import { initParser } from '../syntax/parser.js';
import { Claims, FileAnalyser, type WorkerMessage, type WorkerResult, type WorkerStart } from './tree.js';

const init = workerData as WorkerStart;
if (init.background) runInBackground();
const port = parentPort!;
const claims = new Claims(init.claims);
const analyser = new FileAnalyser(init);
// Messages that arrive while the parser's WASM is still compiling wait here, in order.
const waiting: WorkerMessage[] = [];
let ready = false;

const handle = (msg: WorkerMessage) => {
  if (msg.type === 'stop') {
    port.postMessage({ type: 'results', scans: analyser.scans, skipped: analyser.skipped } satisfies WorkerResult);
    port.close();
  } else if (claims.claim(msg.index)) analyser.analyse(msg.file);
};

port.on('message', (msg: WorkerMessage) => (ready ? handle(msg) : waiting.push(msg)));

initParser().then(
  () => {
    ready = true;
    for (const msg of waiting.splice(0)) handle(msg);
  },
  (e: unknown) => port.postMessage({ type: 'failed', error: e instanceof Error ? e.message : String(e) } satisfies WorkerResult),
);
