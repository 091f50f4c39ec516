/** Worker-thread entry: receives { id, changeSet, config }, answers { id, ok, report | error }. */
import { parentPort } from 'node:worker_threads';
import { runInBackground } from '../analysis/background-thread.js';
import { analyze } from '../analysis/engine.js';
import type { WorkerRequest, WorkerResponse } from './runner.js';

if (!parentPort) throw new Error('analysis-worker.js must run in a worker thread');
const port = parentPort;
// Webhooks are answered by the main thread of this process: it comes first.
runInBackground();

port.on('message', (req: WorkerRequest) => {
  analyze(req.changeSet, req.config).then(
    (report) => port.postMessage({ id: req.id, ok: true, report } satisfies WorkerResponse),
    (err: unknown) =>
      port.postMessage({
        id: req.id,
        ok: false,
        error: err instanceof Error ? `${err.message}\n${err.stack ?? ''}` : String(err),
      } satisfies WorkerResponse),
  );
});
