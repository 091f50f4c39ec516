/**
 * The real scan worker (src/analysis/scan/scan-worker.ts, bundled here: jest cannot start a .ts worker) on a
 * tree with a Kconfig: the files it analyses and the Kconfig reach it computes while this thread makes the
 * tree summaries give the scan a one-thread scan gives.
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import { build } from 'esbuild';
import { renderScanJson } from '../../comments/scan/json.js';
import { DEFAULT_CONFIG } from '../model.js';
import { UNSTABLE } from '../kconfig/tree-reader.js';
import { initParser } from '../syntax/parser.js';
import { scanTree, type TreeScan, type WorkerMessage, type WorkerResult, type WorkerStart } from './tree.js';
import { writeKconfigTree } from '../../../test/helpers/kconfig-tree.js';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
// Two levels under the root, as dist/analysis/scan/ is: the worker finds node_modules and the grammar from there.
const BUILT = join(ROOT, `.test-built-worker-${process.pid}`, 'scan');
let root: string;
let workerUrl: URL;
beforeAll(async () => {
  await initParser();
  root = mkdtempSync(join(tmpdir(), 'kmap-scan-worker-'));
  writeKconfigTree(root);
  mkdirSync(BUILT, { recursive: true });
  const outfile = join(BUILT, 'scan-worker.mjs');
  await build({ entryPoints: [join(ROOT, 'src/analysis/scan/scan-worker.ts')], bundle: true, platform: 'node', format: 'esm', packages: 'external', outfile, logLevel: 'error', target: 'node20' });
  workerUrl = pathToFileURL(outfile);
}, 60_000);
afterAll(() => {
  rmSync(join(BUILT, '..'), { recursive: true, force: true });
  rmSync(root, { recursive: true, force: true });
});

const json = (scan: TreeScan) => {
  const j = JSON.parse(renderScanJson(scan, 'test')) as { elapsedMs?: unknown };
  delete j.elapsedMs;
  return j;
};

it('a scan with a worker gives what a one-thread scan gives, the Kconfig reach included', async () => {
  const one = await scanTree({ kind: 'dir', root }, { config: DEFAULT_CONFIG, jobs: 1 });
  // background: every file to the worker, none analysed here (as in the App).
  for (const background of [false, true]) {
    const two = await scanTree({ kind: 'dir', root }, { config: DEFAULT_CONFIG, jobs: 2, workerUrl, background });
    expect(json(two)).toEqual(json(one));
  }
  const leak = one.findings.find((f) => f.rule === 'mapping-leak');
  expect(leak?.severity).toBe('warning');
  expect(leak?.note).toContain('DEMO depends on X86_64');
}, 60_000);

it('a reach-only worker answers a reach job itself (the answers and the stamps they depend on)', async () => {
  const worker = new Worker(workerUrl, { workerData: { config: DEFAULT_CONFIG, maxBytes: 1 << 20, claims: new SharedArrayBuffer(4), reachOnly: true } satisfies WorkerStart });
  try {
    const done = await new Promise<WorkerResult>((resolve, reject) => {
      worker.on('message', resolve);
      worker.once('error', reject);
      worker.postMessage({ type: 'reach', root, stamps: { startedAt: Date.now() + 60_000, racyMs: 0 }, record: null, paths: ['drivers/demo/leak.c'] } satisfies WorkerMessage);
    });
    expect(done).toMatchObject({ type: 'reach', changed: true });
    const record = (done as Extract<WorkerResult, { type: 'reach' }>).record!;
    expect(record.answers).toEqual([['drivers/demo/leak.c', { evidence: expect.arrayContaining([expect.stringContaining('DEMO depends on X86_64')]) }]]);
    expect(record.files.map(([p]) => p)).toEqual(expect.arrayContaining(['drivers/demo/Kconfig', 'drivers/demo/Makefile']));
    // Stamped with the job's start and window (files written before it: trusted stamps, none unstable).
    expect(record.files.filter(([, st]) => st === UNSTABLE)).toEqual([]);
  } finally {
    await worker.terminate();
  }
}, 60_000);
