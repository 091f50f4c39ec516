/**
 * A tree-scan worker thread: asks for batches of files, reads (directory mode) or receives (git mode)
 * them, applies the prefilter and scans what passes. See tree.ts for the protocol.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { runInBackground } from '../background-thread.js';
import { ScanBatchProcessor, type WorkerInit, type WorkerMessage } from './tree.js';

const init = workerData as WorkerInit;
if (init.background) runInBackground();
const processor = new ScanBatchProcessor(init);
const port = parentPort!;
port.on('message', (msg: WorkerMessage) => {
  if (msg.type === 'stop') {
    port.close();
    return;
  }
  processor
    .run(msg)
    .then((result) => port.postMessage(result))
    .catch((e: unknown) => port.postMessage({ type: 'failed', error: e instanceof Error ? e.message : String(e) }));
});
port.postMessage({ type: 'results', scans: [], skipped: [], listed: 0, matched: 0 });
