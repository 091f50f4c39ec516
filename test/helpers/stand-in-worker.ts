/**
 * A stand-in scan worker: plain JS in a temporary file (jest cannot start the compiled scan-worker.js), with
 * `parentPort` imported for `body`. For tests of the hand-over between the scan's threads (src/analysis/scan).
 * The files are removed when the test file's tests are done.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

const made: string[] = [];
// At import, from the test file's top level (jest's afterAll is a global there; hooks cannot be added in a test).
afterAll(() => made.splice(0).forEach((d) => rmSync(d, { recursive: true, force: true })));

export function standInWorker(body: string): URL {
  const dir = mkdtempSync(join(tmpdir(), 'kmap-worker-'));
  made.push(dir);
  const file = join(dir, 'worker.mjs');
  writeFileSync(file, `import { parentPort } from 'node:worker_threads';\n${body}`);
  return pathToFileURL(file);
}
