import type { ChangeSet } from '../../src/analysis/model.js';
import { DEFAULT_CONFIG } from '../../src/analysis/model.js';
import { InProcessRunner, WorkerThreadRunner } from '../../src/app/runner.js';

const cs = (name: string): ChangeSet => ({
  name,
  skipped: [],
  files: [{ oldPath: 'a.c', newPath: 'a.c', oldText: '', newText: '', addedLines: new Set([1, 2, 3]), removedLines: new Set(), complete: true }],
});

describe('WorkerThreadRunner', () => {
  const workerUrl = new URL('../fixtures/github/echo-worker.mjs', import.meta.url);

  it('runs analyses in worker threads, in parallel up to the pool size', async () => {
    const runner = new WorkerThreadRunner({ workerUrl, size: 2 });
    try {
      const reports = await Promise.all(['a', 'b', 'c', 'd'].map((n) => runner.analyze(cs(n), DEFAULT_CONFIG)));
      expect(reports.map((r) => r.name)).toEqual(['a', 'b', 'c', 'd']);
      expect(reports[0]!.files).toEqual([{ path: 'a.c', functionsAnalysed: 3 }]);
    } finally {
      await runner.close();
    }
  });

  it('reports engine errors, replaces a crashed worker and times out a hung one', async () => {
    const runner = new WorkerThreadRunner({ workerUrl, size: 1, timeoutMs: 500 });
    try {
      await expect(runner.analyze(cs('fail'), DEFAULT_CONFIG)).rejects.toThrow('engine said no');
      await expect(runner.analyze(cs('crash'), DEFAULT_CONFIG)).rejects.toThrow('exited with code 3');
      await expect(runner.analyze(cs('hang'), DEFAULT_CONFIG)).rejects.toThrow('timed out');
      expect((await runner.analyze(cs('ok'), DEFAULT_CONFIG)).name).toBe('ok');
    } finally {
      await runner.close();
    }
    await expect(runner.analyze(cs('late'), DEFAULT_CONFIG)).rejects.toThrow('closed');
  });
});

describe('InProcessRunner', () => {
  it('uses the given analyze function', async () => {
    const r = new InProcessRunner(async (c) => ({ name: c.name, findings: [], files: [], skipped: [], gaps: [] }));
    expect((await r.analyze(cs('x'), DEFAULT_CONFIG)).name).toBe('x');
  });
});
