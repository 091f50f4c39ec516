/**
 * A stand-in scan worker: plain JS in a temporary file (jest cannot start the compiled scan-worker.js), with
 * `parentPort` imported for `body`. For tests of the hand-over between the scan's threads (src/analysis/scan).
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

export function standInWorker(body: string): URL {
  const file = join(mkdtempSync(join(tmpdir(), 'kmap-worker-')), 'worker.mjs');
  writeFileSync(file, `import { parentPort } from 'node:worker_threads';\n${body}`);
  return pathToFileURL(file);
}
