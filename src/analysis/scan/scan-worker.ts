/**
 * A tree-scan worker thread: analyses the files the main thread hands it (already read and prefiltered),
 * says `done` after each (the main thread keeps it a few files ahead), and answers `stop` with everything
 * it found. See tree.ts for the threads' roles.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { runInBackground } from '../background-thread.js';
import { initParser } from '../syntax/parser.js';
import { FileAnalyser, type Candidate, type WorkerInit, type WorkerMessage, type WorkerResult } from './tree.js';

const init = workerData as WorkerInit;
if (init.background) runInBackground();
const port = parentPort!;
const analyser = new FileAnalyser(init);
// Files that arrive while the parser's WASM is still compiling wait here.
const waiting: Candidate[] = [];
let stopping = false;
let ready = false;

const finish = () => {
  port.postMessage({ type: 'results', scans: analyser.scans, skipped: analyser.skipped } satisfies WorkerResult);
  port.close();
};

port.on('message', (msg: WorkerMessage) => {
  if (msg.type === 'stop') {
    stopping = true;
    if (ready) finish();
  } else if (ready) {
    analyser.analyse(msg.file);
    port.postMessage({ type: 'done' } satisfies WorkerResult);
  } else waiting.push(msg.file);
});

initParser().then(
  () => {
    ready = true;
    for (const f of waiting.splice(0)) {
      analyser.analyse(f);
      port.postMessage({ type: 'done' } satisfies WorkerResult);
    }
    if (stopping) finish();
  },
  (e: unknown) => port.postMessage({ type: 'failed', error: e instanceof Error ? e.message : String(e) } satisfies WorkerResult),
);
